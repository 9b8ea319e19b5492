/*
 * error.h — one error message per thread, set where a failure is found.
 *
 * Functions report failure by return code (PA_ERR and friends, all negative) and leave a
 * one-line message describing what failed and on what. Callers may add context in front
 * (err_prefix) as the error travels up; main() prints it once. No allocation: the message
 * lives in a fixed thread-local buffer, so it can be set on out-of-memory paths too.
 */
#ifndef PGATTEST_COMMON_ERROR_H
#define PGATTEST_COMMON_ERROR_H

#include <stddef.h>

enum {
    PA_OK = 0,
    PA_ERR = -1,        /* generic failure; message set */
    PA_NOT_FOUND = -2,  /* the object/file does not exist (authoritative answer) */
    PA_EXISTS = -3,     /* refused to overwrite an existing object */
};

#define ERR_MSG_MAX 1024

/* Set the message (printf-style). Always returns PA_ERR so callers can `return err_set(...)`. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Set the message with ": strerror(errnum)" appended. Returns PA_ERR. */
int err_errno(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Put context in front of the current message: "<context>: <old message>". */
void err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The current message ("" when none). Owned by the thread; valid until the next err_* call. */
const char *err_msg(void);
void err_clear(void);

#endif
