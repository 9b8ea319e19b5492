#include "io/pipe_buffer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct pipe_sink {
    sink base;
    pipe_buffer *pipe;
} pipe_sink;

struct pipe_buffer {
    pthread_mutex_t lock;
    pthread_cond_t readable; /* data, end or abort */
    pthread_cond_t writable; /* room or abort */
    unsigned char *ring;
    size_t capacity, head, used; /* head: next byte to read */
    int ended, aborted;
    char message[ERR_MSG_MAX];
    pipe_sink producer;
};

static int pipe_sink_write(sink *s, const void *data, size_t len)
{
    pipe_buffer *p = ((pipe_sink *)s)->pipe;
    const unsigned char *in = data;
    pthread_mutex_lock(&p->lock);
    while (len > 0) {
        while (p->used == p->capacity && !p->aborted)
            pthread_cond_wait(&p->writable, &p->lock);
        if (p->aborted) {
            err_set("%s", p->message);
            pthread_mutex_unlock(&p->lock);
            return PA_ERR;
        }
        size_t tail = (p->head + p->used) % p->capacity;
        size_t room = p->capacity - p->used;
        size_t run = p->capacity - tail; /* contiguous room before wrapping */
        size_t n = len < room ? len : room;
        if (n > run)
            n = run;
        memcpy(p->ring + tail, in, n);
        p->used += n;
        in += n;
        len -= n;
        pthread_cond_signal(&p->readable);
    }
    pthread_mutex_unlock(&p->lock);
    return PA_OK;
}

static int pipe_sink_finish(sink *s)
{
    pipe_buffer *p = ((pipe_sink *)s)->pipe;
    pthread_mutex_lock(&p->lock);
    int rc = PA_OK;
    if (p->aborted)
        rc = err_set("%s", p->message);
    else
        p->ended = 1;
    pthread_cond_broadcast(&p->readable);
    pthread_mutex_unlock(&p->lock);
    return rc;
}

static void pipe_sink_destroy(sink *s)
{
    (void)s; /* owned by the pipe */
}

static const sink_ops pipe_sink_ops = {"pipe", pipe_sink_write, pipe_sink_finish,
                                       pipe_sink_destroy};

pipe_buffer *pipe_buffer_new(size_t capacity)
{
    pipe_buffer *p = calloc(1, sizeof *p);
    if (!p || !(p->ring = malloc(capacity ? capacity : 1))) {
        free(p);
        err_set("out of memory");
        return NULL;
    }
    p->capacity = capacity ? capacity : 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->readable, NULL);
    pthread_cond_init(&p->writable, NULL);
    p->producer.base.ops = &pipe_sink_ops;
    p->producer.pipe = p;
    return p;
}

void pipe_buffer_free(pipe_buffer *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->readable);
    pthread_cond_destroy(&p->writable);
    free(p->ring);
    free(p);
}

sink *pipe_buffer_sink(pipe_buffer *p)
{
    return &p->producer.base;
}

ssize_t pipe_buffer_read(pipe_buffer *p, void *data, size_t len)
{
    pthread_mutex_lock(&p->lock);
    while (p->used == 0 && !p->ended && !p->aborted)
        pthread_cond_wait(&p->readable, &p->lock);
    if (p->aborted) {
        err_set("%s", p->message);
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    size_t n = len < p->used ? len : p->used;
    size_t run = p->capacity - p->head;
    size_t first = n < run ? n : run;
    memcpy(data, p->ring + p->head, first);
    memcpy((unsigned char *)data + first, p->ring, n - first);
    p->head = (p->head + n) % p->capacity;
    p->used -= n;
    pthread_cond_signal(&p->writable);
    pthread_mutex_unlock(&p->lock);
    return (ssize_t)n;
}

void pipe_buffer_abort(pipe_buffer *p, const char *message)
{
    pthread_mutex_lock(&p->lock);
    if (!p->aborted) {
        p->aborted = 1;
        snprintf(p->message, sizeof p->message, "%s", message);
    }
    pthread_cond_broadcast(&p->readable);
    pthread_cond_broadcast(&p->writable);
    pthread_mutex_unlock(&p->lock);
}
