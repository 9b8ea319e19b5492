#include "io/sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/fsutil.h"

int sink_write(sink *s, const void *data, size_t len)
{
    if (len == 0)
        return PA_OK;
    return s->ops->write(s, data, len);
}

int sink_finish(sink *s)
{
    int rc = s->ops->finish(s);
    if (rc == PA_OK)
        s->finished = 1;
    return rc;
}

void sink_free(sink *s)
{
    if (s)
        s->ops->destroy(s);
}

int sink_copy_fd(sink *s, int fd, const char *what)
{
    enum { CHUNK = 256 * 1024 };
    char *chunk = malloc(CHUNK);
    if (!chunk)
        return err_set("out of memory");
    int rc = PA_OK;
    for (;;) {
        ssize_t n = read(fd, chunk, CHUNK);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = err_errno(errno, "cannot read \"%s\"", what);
            break;
        }
        if (n == 0)
            break;
        if ((rc = sink_write(s, chunk, (size_t)n)) != PA_OK)
            break;
    }
    free(chunk);
    return rc;
}

/* ---- fd sink ---- */

typedef struct fd_sink {
    sink base;
    int fd;
    char *what;
} fd_sink;

static int fd_sink_write(sink *s, const void *data, size_t len)
{
    fd_sink *f = (fd_sink *)s;
    return write_all(f->fd, data, len, f->what);
}

static int fd_sink_finish(sink *s)
{
    (void)s;
    return PA_OK;
}

static void fd_sink_destroy(sink *s)
{
    fd_sink *f = (fd_sink *)s;
    free(f->what);
    free(f);
}

static const sink_ops fd_sink_ops = {"fd", fd_sink_write, fd_sink_finish, fd_sink_destroy};

sink *fd_sink_new(int fd, const char *what)
{
    fd_sink *f = calloc(1, sizeof *f);
    if (!f || !(f->what = strdup(what))) {
        free(f);
        err_set("out of memory");
        return NULL;
    }
    f->base.ops = &fd_sink_ops;
    f->fd = fd;
    return &f->base;
}

/* ---- memory sink ---- */

typedef struct memory_sink {
    sink base;
    buf data;
} memory_sink;

static int memory_sink_write(sink *s, const void *data, size_t len)
{
    return buf_append(&((memory_sink *)s)->data, data, len);
}

static int memory_sink_finish(sink *s)
{
    (void)s;
    return PA_OK;
}

static void memory_sink_destroy(sink *s)
{
    memory_sink *m = (memory_sink *)s;
    buf_free(&m->data);
    free(m);
}

static const sink_ops memory_sink_ops = {"memory", memory_sink_write, memory_sink_finish,
                                         memory_sink_destroy};

sink *memory_sink_new(size_t max)
{
    memory_sink *m = calloc(1, sizeof *m);
    if (!m) {
        err_set("out of memory");
        return NULL;
    }
    m->base.ops = &memory_sink_ops;
    buf_init(&m->data, max);
    return &m->base;
}

const char *memory_sink_data(sink *s, size_t *len)
{
    memory_sink *m = (memory_sink *)s;
    *len = m->data.len;
    return m->data.data ? m->data.data : "";
}

/* ---- discard sink ---- */

typedef struct discard_sink {
    sink base;
    uint64_t bytes;
} discard_sink;

static int discard_sink_write(sink *s, const void *data, size_t len)
{
    (void)data;
    ((discard_sink *)s)->bytes += len;
    return PA_OK;
}

static int discard_sink_finish(sink *s)
{
    (void)s;
    return PA_OK;
}

static void discard_sink_destroy(sink *s)
{
    free(s);
}

static const sink_ops discard_sink_ops = {"discard", discard_sink_write, discard_sink_finish,
                                          discard_sink_destroy};

sink *discard_sink_new(void)
{
    discard_sink *d = calloc(1, sizeof *d);
    if (!d) {
        err_set("out of memory");
        return NULL;
    }
    d->base.ops = &discard_sink_ops;
    return &d->base;
}

uint64_t discard_sink_bytes(sink *s)
{
    return ((discard_sink *)s)->bytes;
}
