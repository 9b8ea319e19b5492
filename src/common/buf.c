#include "common/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void buf_init(buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_free(buf *b)
{
    free(b->data);
    buf_init(b, b->max);
}

void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

int buf_reserve(buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return err_set("buffer limit of %zu bytes exceeded", b->max);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return PA_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > (SIZE_MAX / 2) ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return err_set("out of memory (buffer of %zu bytes)", cap);
    b->data = p;
    b->cap = cap;
    return PA_OK;
}

int buf_append(buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) != PA_OK)
        return PA_ERR;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return PA_OK;
}

int buf_append_str(buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_appendf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return err_set("formatting failed");
    if (buf_reserve(b, (size_t)n) != PA_OK)
        return PA_ERR;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return PA_OK;
}

char *buf_steal(buf *b, size_t *len_out)
{
    if (!b->data && buf_reserve(b, 0) != PA_OK)
        return NULL;
    char *p = b->data;
    if (len_out)
        *len_out = b->len;
    buf_init(b, b->max);
    return p;
}
