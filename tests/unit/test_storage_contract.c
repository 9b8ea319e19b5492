/* The storage contract every driver keeps (storage.h), run against the repository named by
 * PGATTEST_TEST_REPO (an s3:// URL in tests/integration/t_s3_storage.sh, with credentials in
 * the environment), or a fresh file:// repository when it is unset. Each run works under its
 * own sub-prefix. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/error.h"
#include "storage/storage.h"
#include "test.h"

static char url[1024];
static char tmpdir[64];
static storage *st;

static void open_repo(void)
{
    if (st)
        return;
    const char *repo = getenv("PGATTEST_TEST_REPO");
    if (repo && *repo) {
        snprintf(url, sizeof url, "%s/contract-%ld-%ld", repo, (long)getpid(), (long)time(NULL));
    } else {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/pgattest-unit-contract.XXXXXX");
        CHECK(mkdtemp(tmpdir) != NULL);
        snprintf(url, sizeof url, "file://%s/repo", tmpdir);
    }
    st = storage_open(url);
    if (!st)
        fprintf(stderr, "  cannot open %s: %s\n", url, err_msg());
    CHECK(st != NULL);
}

static int put(const char *key, const void *data, size_t len, unsigned flags)
{
    sink *w;
    int rc = storage_open_write(st, key, flags, &w);
    if (rc != PA_OK)
        return rc;
    /* in uneven pieces, as filters deliver them */
    const char *p = data;
    size_t step = 1;
    while (rc == PA_OK && len > 0) {
        size_t n = step < len ? step : len;
        rc = sink_write(w, p, n);
        p += n;
        len -= n;
        step = step * 7 + 3;
    }
    if (rc == PA_OK)
        rc = sink_finish(w);
    if (rc != PA_OK && rc != PA_EXISTS)
        fprintf(stderr, "  put %s: %s\n", key, err_msg());
    sink_free(w);
    return rc;
}

static char *get(const char *key, uint64_t off, uint64_t len, size_t max, int *rc, size_t *n)
{
    sink *m = memory_sink_new(max);
    *rc = storage_read(st, key, off, len, m);
    const char *d = memory_sink_data(m, n);
    char *copy = malloc(*n + 1);
    memcpy(copy, d, *n);
    copy[*n] = '\0';
    sink_free(m);
    return copy;
}

static void test_write_read_stat(void)
{
    open_repo();
    if (!st)
        return;
    storage_entry e;
    CHECK_EQ_INT(storage_stat(st, "wal_005/a.lzo", &e), PA_NOT_FOUND);
    CHECK_EQ_INT(put("wal_005/a.lzo", "hello world", 11, STORAGE_VERIFY), PA_OK);
    CHECK_EQ_INT(storage_stat(st, "wal_005/a.lzo", &e), PA_OK);
    CHECK_EQ_INT(e.size, 11);
    CHECK(e.mtime > 1500000000);
    int rc;
    size_t n;
    char *s = get("wal_005/a.lzo", 0, 0, 1 << 20, &rc, &n);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK_STR(s, "hello world");
    free(s);
    s = get("wal_005/a.lzo", 6, 5, 1 << 20, &rc, &n);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK_STR(s, "world");
    free(s);
    s = get("wal_005/a.lzo", 6, 0, 1 << 20, &rc, &n);
    CHECK_STR(s, "world");
    free(s);
    s = get("wal_005/a.lzo", 6, 50, 1 << 20, &rc, &n);
    CHECK_EQ_INT(rc, PA_ERR);
    free(s);
    s = get("wal_005/missing.lzo", 0, 0, 1 << 20, &rc, &n);
    CHECK_EQ_INT(rc, PA_NOT_FOUND);
    free(s);
    CHECK_EQ_INT(put("empty", "", 0, STORAGE_VERIFY | STORAGE_NO_OVERWRITE), PA_OK);
    CHECK_EQ_INT(storage_stat(st, "empty", &e), PA_OK);
    CHECK_EQ_INT(e.size, 0);
    s = get("empty", 0, 0, 16, &rc, &n);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK_EQ_INT(n, 0);
    free(s);
}

static void test_abort_and_no_overwrite(void)
{
    open_repo();
    if (!st)
        return;
    sink *w;
    CHECK_EQ_INT(storage_open_write(st, "aborted", STORAGE_VERIFY, &w), PA_OK);
    CHECK_EQ_INT(sink_write(w, "partial", 7), PA_OK);
    sink_free(w);
    storage_entry e;
    CHECK_EQ_INT(storage_stat(st, "aborted", &e), PA_NOT_FOUND);

    CHECK_EQ_INT(put("once", "first", 5, STORAGE_NO_OVERWRITE | STORAGE_VERIFY), PA_OK);
    CHECK_EQ_INT(put("once", "second", 6, STORAGE_NO_OVERWRITE | STORAGE_VERIFY), PA_EXISTS);
    int rc;
    size_t n;
    char *s = get("once", 0, 0, 64, &rc, &n);
    CHECK_STR(s, "first");
    free(s);
    CHECK_EQ_INT(put("once", "third", 5, 0), PA_OK); /* plain writes replace */
    s = get("once", 0, 0, 64, &rc, &n);
    CHECK_STR(s, "third");
    free(s);
}

/* Larger than a part (5 MiB in the S3 run): multipart upload, ranged reads across parts. */
static void test_large_object(void)
{
    open_repo();
    if (!st)
        return;
    size_t len = 11 * 1024 * 1024 + 12345;
    char *data = malloc(len);
    test_random_bytes(data, len, 42);
    CHECK_EQ_INT(put("big/object", data, len, STORAGE_VERIFY | STORAGE_NO_OVERWRITE), PA_OK);
    CHECK_EQ_INT(put("big/object", data, 10, STORAGE_NO_OVERWRITE), PA_EXISTS);
    storage_entry e;
    CHECK_EQ_INT(storage_stat(st, "big/object", &e), PA_OK);
    CHECK_EQ_INT(e.size, len);
    int rc;
    size_t n;
    char *s = get("big/object", 0, 0, len, &rc, &n);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK_EQ_INT(n, len);
    CHECK(n == len && memcmp(s, data, len) == 0);
    free(s);
    s = get("big/object", 5 * 1024 * 1024 - 10, 20, 64, &rc, &n);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK(n == 20 && memcmp(s, data + 5 * 1024 * 1024 - 10, 20) == 0);
    free(s);
    /* a big object abandoned before finish leaves nothing */
    sink *w;
    CHECK_EQ_INT(storage_open_write(st, "big/abandoned", 0, &w), PA_OK);
    CHECK_EQ_INT(sink_write(w, data, len), PA_OK);
    sink_free(w);
    CHECK_EQ_INT(storage_stat(st, "big/abandoned", &e), PA_NOT_FOUND);
    free(data);
}

typedef struct listed {
    int n;
    char keys[16][64];
} listed;

static int collect(void *arg, const storage_entry *e)
{
    listed *l = arg;
    if (l->n < 16)
        snprintf(l->keys[l->n], sizeof l->keys[0], "%s", e->key);
    l->n++;
    return PA_OK;
}

static int stop_after_two(void *arg, const storage_entry *e)
{
    (void)e;
    return ++*(int *)arg == 2 ? PA_EXISTS : PA_OK;
}

static void test_list_and_remove(void)
{
    open_repo();
    if (!st)
        return;
    const char *keys[] = {"l/b", "l/a", "l/c/1", "l/c/2", "l/d", "l/e", "l/f", "m/x"};
    for (size_t i = 0; i < 8; i++)
        CHECK_EQ_INT(put(keys[i], "x", 1, 0), PA_OK);
    listed l = {0};
    CHECK_EQ_INT(storage_list(st, "l/", collect, &l), PA_OK);
    CHECK_EQ_INT(l.n, 7);
    CHECK_STR(l.keys[0], "l/a");
    CHECK_STR(l.keys[1], "l/b");
    CHECK_STR(l.keys[2], "l/c/1");
    CHECK_STR(l.keys[6], "l/f");
    memset(&l, 0, sizeof l);
    CHECK_EQ_INT(storage_list(st, "l/c", collect, &l), PA_OK);
    CHECK_EQ_INT(l.n, 2);
    memset(&l, 0, sizeof l);
    CHECK_EQ_INT(storage_list(st, "nothing/", collect, &l), PA_OK);
    CHECK_EQ_INT(l.n, 0);
    int seen = 0;
    CHECK_EQ_INT(storage_list(st, "l/", stop_after_two, &seen), PA_EXISTS);
    CHECK_EQ_INT(seen, 2);

    const char *gone[] = {"l/a", "l/c/1", "l/never-existed"};
    const char *denied = getenv("PGATTEST_TEST_EXPECT_REMOVE_DENIED");
    if (denied && *denied) {
        /* A writer credential without delete permission: refused, loudly, nothing lost. */
        CHECK_EQ_INT(storage_remove(st, gone, 3), PA_ERR);
        CHECK_CONTAINS(err_msg(), "access denied");
        memset(&l, 0, sizeof l);
        CHECK_EQ_INT(storage_list(st, "l/", collect, &l), PA_OK);
        CHECK_EQ_INT(l.n, 7);
        return;
    }
    CHECK_EQ_INT(storage_remove(st, gone, 3), PA_OK);
    CHECK_EQ_INT(storage_remove(st, gone, 0), PA_OK);
    memset(&l, 0, sizeof l);
    CHECK_EQ_INT(storage_list(st, "l/", collect, &l), PA_OK);
    CHECK_EQ_INT(l.n, 5);
    CHECK_STR(l.keys[0], "l/b");
    CHECK_STR(l.keys[1], "l/c/2");
}

/* One handle, several threads at once. */
static void *worker(void *arg)
{
    long id = (long)arg;
    long failures = 0;
    for (int i = 0; i < 4; i++) {
        char key[64], body[64];
        snprintf(key, sizeof key, "threads/%ld/%d", id, i);
        snprintf(body, sizeof body, "thread %ld object %d", id, i);
        if (put(key, body, strlen(body), STORAGE_VERIFY | STORAGE_NO_OVERWRITE) != PA_OK)
            failures++;
        int rc;
        size_t n;
        char *s = get(key, 0, 0, 64, &rc, &n);
        if (rc != PA_OK || strcmp(s, body) != 0)
            failures++;
        free(s);
    }
    return (void *)failures;
}

static void test_threads(void)
{
    open_repo();
    if (!st)
        return;
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        CHECK_EQ_INT(pthread_create(&t[i], NULL, worker, (void *)i), 0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        CHECK_EQ_INT((long)r, 0);
    }
    listed l = {0};
    CHECK_EQ_INT(storage_list(st, "threads/", collect, &l), PA_OK);
    CHECK_EQ_INT(l.n, 16);
}

static void test_close(void)
{
    storage_close(st);
    st = NULL;
    if (tmpdir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        CHECK(system(cmd) == 0);
    }
}

TEST_MAIN(TEST(test_write_read_stat), TEST(test_abort_and_no_overwrite), TEST(test_large_object),
          TEST(test_list_and_remove), TEST(test_threads), TEST(test_close))
