#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum log_level current_level = LOG_NORMAL;
static const char *current_prefix = "pgattest";

void log_set_level(enum log_level level) { current_level = level; }
enum log_level log_get_level(void) { return current_level; }
void log_set_prefix(const char *prefix) { current_prefix = prefix; }
const char *log_prefix(void) { return current_prefix; }

static void emit(const char *kind, const char *fmt, va_list ap)
{
    /* One fprintf per line so concurrent threads do not interleave inside a line. */
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s: %s%s\n", current_prefix, kind, line);
}

#define LOG_AT(min, kind)                  \
    do {                                   \
        if (current_level < (min)) return; \
        va_list ap;                        \
        va_start(ap, fmt);                 \
        emit(kind, fmt, ap);               \
        va_end(ap);                        \
    } while (0)

void log_info(const char *fmt, ...) { LOG_AT(LOG_NORMAL, ""); }
void log_verbose(const char *fmt, ...) { LOG_AT(LOG_VERBOSE, ""); }
void log_warning(const char *fmt, ...) { LOG_AT(LOG_QUIET, "warning: "); }
void log_error(const char *fmt, ...) { LOG_AT(LOG_QUIET, ""); }
