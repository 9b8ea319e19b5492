#include "io/handoff.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct handoff_sink {
    sink base;
    handoff *h;
} handoff_sink_t;

struct handoff {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned char *ring;
    size_t cap, head, len;
    bool writer_done, reader_done;
    handoff_sink_t sink;
};

static int handoff_write(sink *s, const void *data, size_t len)
{
    handoff *h = ((handoff_sink_t *)s)->h;
    const unsigned char *p = data;
    pthread_mutex_lock(&h->lock);
    while (len > 0 && !h->reader_done) {
        while (h->len == h->cap && !h->reader_done)
            pthread_cond_wait(&h->changed, &h->lock);
        if (h->reader_done)
            break;
        size_t tail = (h->head + h->len) % h->cap;
        size_t room = h->cap - h->len;
        size_t run = tail + room > h->cap ? h->cap - tail : room;
        size_t n = len < run ? len : run;
        memcpy(h->ring + tail, p, n);
        h->len += n;
        p += n;
        len -= n;
        pthread_cond_broadcast(&h->changed);
    }
    pthread_mutex_unlock(&h->lock);
    return PA_OK;
}

static int handoff_finish(sink *s)
{
    handoff_writer_done(((handoff_sink_t *)s)->h);
    return PA_OK;
}

static void handoff_destroy(sink *s) { (void)s; /* owned by the handoff */ }

static const sink_ops handoff_ops = {"handoff", handoff_write, handoff_finish, handoff_destroy};

handoff *handoff_new(size_t capacity)
{
    handoff *h = calloc(1, sizeof *h);
    if (!h || !(h->ring = malloc(capacity))) {
        free(h);
        err_set("out of memory");
        return NULL;
    }
    h->cap = capacity;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->changed, NULL);
    h->sink.base.ops = &handoff_ops;
    h->sink.h = h;
    return h;
}

sink *handoff_sink(handoff *h) { return &h->sink.base; }

void handoff_writer_done(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    h->writer_done = true;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

size_t handoff_read(handoff *h, void *buf, size_t len)
{
    pthread_mutex_lock(&h->lock);
    while (h->len == 0 && !h->writer_done)
        pthread_cond_wait(&h->changed, &h->lock);
    size_t run = h->head + h->len > h->cap ? h->cap - h->head : h->len;
    size_t n = len < run ? len : run;
    memcpy(buf, h->ring + h->head, n);
    h->head = (h->head + n) % h->cap;
    h->len -= n;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    return n;
}

void handoff_reader_done(handoff *h)
{
    pthread_mutex_lock(&h->lock);
    h->reader_done = true;
    h->len = 0;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
}

void handoff_free(handoff *h)
{
    if (!h)
        return;
    pthread_cond_destroy(&h->changed);
    pthread_mutex_destroy(&h->lock);
    free(h->ring);
    free(h);
}
