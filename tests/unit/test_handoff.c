/* The in-memory handoff between a pushing and a pulling thread. */
#include "test.h"

#include <pthread.h>

#include "common/error.h"
#include "io/handoff.h"

#define TOTAL (3u * 1024 * 1024 + 17)

typedef struct writer_arg {
    handoff *h;
    const unsigned char *data;
    int rc;
} writer_arg;

static void *writer(void *arg)
{
    writer_arg *w = arg;
    sink *s = handoff_sink(w->h);
    w->rc = PA_OK;
    for (size_t off = 0, piece = 1; w->rc == PA_OK && off < TOTAL; off += piece, piece = piece * 3 + 1)
        w->rc = sink_write(s, w->data + off, off + piece > TOTAL ? TOTAL - off : piece);
    if (w->rc == PA_OK)
        w->rc = sink_finish(s);
    handoff_writer_done(w->h);
    return NULL;
}

static void test_all_bytes_in_order(void)
{
    unsigned char *data = malloc(TOTAL), *got = malloc(TOTAL);
    test_random_bytes(data, TOTAL, 7);
    handoff *h = handoff_new(64 * 1024);
    writer_arg w = {h, data, PA_ERR};
    pthread_t th;
    pthread_create(&th, NULL, writer, &w);
    size_t n = 0, r;
    while ((r = handoff_read(h, got + n, n % 2 ? 1000 : 70000)) > 0)
        n += r;
    pthread_join(th, NULL);
    CHECK_EQ_INT(w.rc, PA_OK);
    CHECK_EQ_INT(n, TOTAL);
    CHECK(memcmp(data, got, TOTAL) == 0);
    handoff_free(h);
    free(data);
    free(got);
}

static void test_reader_gives_up(void)
{
    unsigned char *data = malloc(TOTAL), buf[100];
    test_random_bytes(data, TOTAL, 8);
    handoff *h = handoff_new(4096);
    writer_arg w = {h, data, PA_ERR};
    pthread_t th;
    pthread_create(&th, NULL, writer, &w);
    CHECK(handoff_read(h, buf, sizeof buf) > 0);
    handoff_reader_done(h); /* the writer must still run to its end */
    pthread_join(th, NULL);
    CHECK_EQ_INT(w.rc, PA_OK);
    handoff_free(h);
    free(data);
}

TEST_MAIN(TEST(test_all_bytes_in_order), TEST(test_reader_gives_up))
