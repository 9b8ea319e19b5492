/*
 * Defaults for the sanitizer runtime in the test build. A sanitizer report must never exit
 * with a status a caller could read as an answer (wal-fetch's 1 means "not in the archive"),
 * so reports exit 199: above 125, which also makes PostgreSQL stop recovery.
 */
#ifdef PGATTEST_SANITIZED
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *__asan_default_options(void)
{
    return "exitcode=199:detect_leaks=1:abort_on_error=0";
}

const char *__ubsan_default_options(void)
{
    return "halt_on_error=1:exitcode=199:print_stacktrace=1";
}
#else
/* ISO C forbids an empty translation unit. */
typedef int sanitizer_options_unused;
#endif
