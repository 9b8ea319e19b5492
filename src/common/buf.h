/*
 * buf.h — a growable byte buffer with a hard maximum size (like curl's dynbuf).
 *
 * The buffer owns its memory (buf_free releases it). Growth past `max` fails with PA_ERR and
 * a message, so a hostile or corrupt input cannot make memory grow without bound. The data
 * is always followed by a NUL byte (not counted in len) so text can be used as a C string.
 */
#ifndef PGATTEST_COMMON_BUF_H
#define PGATTEST_COMMON_BUF_H

#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} buf;

void buf_init(buf *b, size_t max);
void buf_free(buf *b);
void buf_reset(buf *b);                      /* len = 0, keeps the allocation */
int buf_reserve(buf *b, size_t extra);       /* ensure room for `extra` more bytes */
int buf_append(buf *b, const void *data, size_t len);
int buf_appendf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_append_str(buf *b, const char *s);
/* Hand the data to the caller (malloc'd, NUL-terminated; caller frees) and reset the buffer. */
char *buf_steal(buf *b, size_t *len_out);

#endif
