/*
 * log.h — messages to stderr, filtered by verbosity (-v / --quiet).
 * Secrets must never be passed here.
 */
#ifndef PGATTEST_COMMON_LOG_H
#define PGATTEST_COMMON_LOG_H

enum log_level { LOG_QUIET = 0, LOG_NORMAL = 1, LOG_VERBOSE = 2, LOG_DEBUG = 3 };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* The program/command prefix, e.g. "pgattest: wal-push". The string must outlive logging. */
void log_set_prefix(const char *prefix);
const char *log_prefix(void);

void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));    /* LOG_NORMAL  */
void log_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* LOG_VERBOSE */
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* always */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* always */

#endif
