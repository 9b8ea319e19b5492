#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[ERR_MSG_MAX];

static void vset(const char *fmt, va_list ap)
{
    vsnprintf(err_buf, sizeof err_buf, fmt, ap);
}

int err_set(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(fmt, ap);
    va_end(ap);
    return PA_ERR;
}

int err_errno(int errnum, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(fmt, ap);
    va_end(ap);
    size_t used = strlen(err_buf);
    snprintf(err_buf + used, sizeof err_buf - used, ": %s", strerror(errnum));
    return PA_ERR;
}

void err_prefix(const char *fmt, ...)
{
    char context[ERR_MSG_MAX];
    char old[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    memcpy(old, err_buf, sizeof old);
    /* Truncation is acceptable: the most specific part is kept as far as it fits. */
    size_t n = strlen(context);
    memcpy(err_buf, context, n);
    if (n + 2 < sizeof err_buf) {
        memcpy(err_buf + n, ": ", 2);
        n += 2;
    }
    size_t rest = strnlen(old, sizeof old - 1);
    if (rest > sizeof err_buf - 1 - n)
        rest = sizeof err_buf - 1 - n;
    memcpy(err_buf + n, old, rest);
    err_buf[n + rest] = '\0';
}

const char *err_msg(void)
{
    return err_buf;
}

void err_clear(void)
{
    err_buf[0] = '\0';
}
