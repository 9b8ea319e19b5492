/* The bounded pipe between a pushing producer thread and a pulling consumer thread. */
#include <pthread.h>

#include "common/error.h"
#include "io/pipe_buffer.h"
#include "test.h"

enum { TOTAL = 3 * 1000 * 1000 + 17 };

typedef struct producer {
    pipe_buffer *pipe;
    const unsigned char *data;
    size_t len;
    int rc;
    char error[256];
} producer;

static void *produce(void *arg)
{
    producer *p = arg;
    sink *s = pipe_buffer_sink(p->pipe);
    size_t off = 0, step = 1;
    p->rc = PA_OK;
    while (off < p->len && p->rc == PA_OK) {
        size_t n = p->len - off < step ? p->len - off : step;
        p->rc = sink_write(s, p->data + off, n);
        off += n;
        step = step * 3 % 100003 + 1; /* odd sizes, some larger than the pipe */
    }
    if (p->rc == PA_OK)
        p->rc = sink_finish(s);
    if (p->rc != PA_OK)
        snprintf(p->error, sizeof p->error, "%s", err_msg());
    return NULL;
}

static void test_stream_through_small_pipe(void)
{
    unsigned char *in = malloc(TOTAL), *out = malloc(TOTAL + 1);
    test_random_bytes(in, TOTAL, 7);
    pipe_buffer *pipe = pipe_buffer_new(4093);
    producer p = {pipe, in, TOTAL, PA_ERR, ""};
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    size_t got = 0, chunk = 1;
    for (;;) {
        size_t want = chunk < TOTAL + 1 - got ? chunk : TOTAL + 1 - got;
        ssize_t n = pipe_buffer_read(pipe, out + got, want);
        if (n <= 0) {
            CHECK_EQ_INT(n, 0);
            break;
        }
        got += (size_t)n;
        chunk = chunk * 7 % 65521 + 1;
    }
    pthread_join(t, NULL);
    CHECK_EQ_INT(p.rc, PA_OK);
    CHECK_EQ_INT(got, TOTAL);
    CHECK(memcmp(in, out, TOTAL) == 0);
    pipe_buffer_free(pipe);
    free(in);
    free(out);
}

static void test_consumer_abort_releases_producer(void)
{
    unsigned char *in = malloc(TOTAL);
    test_random_bytes(in, TOTAL, 9);
    pipe_buffer *pipe = pipe_buffer_new(1024);
    producer p = {pipe, in, TOTAL, PA_OK, ""};
    pthread_t t;
    pthread_create(&t, NULL, produce, &p);
    char b[100];
    CHECK_EQ_INT(pipe_buffer_read(pipe, b, sizeof b) > 0, 1);
    pipe_buffer_abort(pipe, "tar member refused");
    pthread_join(t, NULL); /* must not hang on a full pipe */
    CHECK_EQ_INT(p.rc, PA_ERR);
    CHECK_CONTAINS(p.error, "tar member refused");
    CHECK_EQ_INT(pipe_buffer_read(pipe, b, sizeof b), -1);
    pipe_buffer_free(pipe);
    free(in);
}

static void test_producer_abort_wakes_consumer(void)
{
    pipe_buffer *pipe = pipe_buffer_new(64);
    CHECK_EQ_INT(sink_write(pipe_buffer_sink(pipe), "abc", 3), PA_OK);
    pipe_buffer_abort(pipe, "download failed: checksum");
    char b[8];
    CHECK_EQ_INT(pipe_buffer_read(pipe, b, sizeof b), -1);
    CHECK_CONTAINS(err_msg(), "download failed: checksum");
    pipe_buffer_free(pipe);
}

TEST_MAIN(TEST(test_stream_through_small_pipe), TEST(test_consumer_abort_releases_producer),
          TEST(test_producer_abort_wakes_consumer))
