/* The file:// driver: atomic visibility, no-overwrite, verify, list, read ranges, remove. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "storage/storage.h"
#include "test.h"

static char root[256];
static storage *st;

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/pgattest-unit-fs.XXXXXX");
    CHECK(mkdtemp(root) != NULL);
    char url[300];
    snprintf(url, sizeof url, "%s/repo", root);
    CHECK(mkdir(url, 0755) == 0);
    snprintf(url, sizeof url, "file://%s/repo", root);
    st = storage_open(url);
    CHECK(st != NULL);
}

static void teardown(void)
{
    storage_close(st);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

static int put(const char *key, const char *text, unsigned flags)
{
    sink *w;
    int rc = storage_open_write(st, key, flags, &w);
    if (rc != PA_OK)
        return rc;
    rc = sink_write(w, text, strlen(text));
    if (rc == PA_OK)
        rc = sink_finish(w);
    sink_free(w);
    return rc;
}

static char *get(const char *key, uint64_t off, uint64_t len, int *rc)
{
    sink *m = memory_sink_new(1 << 20);
    *rc = storage_read(st, key, off, len, m);
    size_t n;
    const char *d = memory_sink_data(m, &n);
    char *copy = strndup(d, n);
    sink_free(m);
    return copy;
}

static int count_files(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' || (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")))
            n++;
    closedir(d);
    return n;
}

static void test_write_visible_only_after_finish(void)
{
    setup();
    sink *w;
    CHECK_EQ_INT(storage_open_write(st, "wal_005/a.lzo", 0, &w), PA_OK);
    CHECK_EQ_INT(sink_write(w, "hello", 5), PA_OK);
    storage_entry e;
    CHECK_EQ_INT(storage_stat(st, "wal_005/a.lzo", &e), PA_NOT_FOUND);
    CHECK_EQ_INT(sink_finish(w), PA_OK);
    sink_free(w);
    CHECK_EQ_INT(storage_stat(st, "wal_005/a.lzo", &e), PA_OK);
    CHECK_EQ_INT(e.size, 5);
    int rc;
    char *s = get("wal_005/a.lzo", 0, 0, &rc);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK_STR(s, "hello");
    free(s);
    teardown();
}

static void test_abort_leaves_nothing(void)
{
    setup();
    sink *w;
    CHECK_EQ_INT(storage_open_write(st, "x/y/z", STORAGE_VERIFY, &w), PA_OK);
    CHECK_EQ_INT(sink_write(w, "partial", 7), PA_OK);
    sink_free(w); /* no finish: aborted */
    char dir[300];
    snprintf(dir, sizeof dir, "%s/repo/x/y", root);
    CHECK_EQ_INT(count_files(dir), 0);
    storage_entry e;
    CHECK_EQ_INT(storage_stat(st, "x/y/z", &e), PA_NOT_FOUND);
    teardown();
}

static void test_no_overwrite(void)
{
    setup();
    CHECK_EQ_INT(put("k", "first", STORAGE_NO_OVERWRITE | STORAGE_VERIFY), PA_OK);
    CHECK_EQ_INT(put("k", "second", STORAGE_NO_OVERWRITE), PA_EXISTS);
    int rc;
    char *s = get("k", 0, 0, &rc);
    CHECK_STR(s, "first");
    free(s);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/repo", root);
    CHECK_EQ_INT(count_files(dir), 1); /* the losing temp file is gone */
    CHECK_EQ_INT(put("k", "third", 0), PA_OK);  /* plain writes replace */
    s = get("k", 0, 0, &rc);
    CHECK_STR(s, "third");
    free(s);
    teardown();
}

static void test_read_ranges_and_missing(void)
{
    setup();
    CHECK_EQ_INT(put("r", "0123456789", 0), PA_OK);
    int rc;
    char *s = get("r", 3, 4, &rc);
    CHECK_EQ_INT(rc, PA_OK);
    CHECK_STR(s, "3456");
    free(s);
    s = get("r", 8, 0, &rc);
    CHECK_STR(s, "89");
    free(s);
    s = get("r", 8, 5, &rc);
    CHECK_EQ_INT(rc, PA_ERR);
    free(s);
    s = get("nope", 0, 0, &rc);
    CHECK_EQ_INT(rc, PA_NOT_FOUND);
    free(s);
    teardown();
}

typedef struct collected {
    char keys[16][64];
    int n;
} collected;

static int collect(void *arg, const storage_entry *e)
{
    collected *c = arg;
    if (c->n < 16)
        snprintf(c->keys[c->n++], 64, "%s", e->key);
    return PA_OK;
}

static void test_list_prefix_sorted(void)
{
    setup();
    CHECK_EQ_INT(put("wal_005/b", "1", 0), PA_OK);
    CHECK_EQ_INT(put("wal_005/a", "1", 0), PA_OK);
    CHECK_EQ_INT(put("basebackups_005/base_1/x", "1", 0), PA_OK);
    CHECK_EQ_INT(put("basebackups_005/base_1_backup_stop_sentinel.json", "1", 0), PA_OK);
    sink *pending;
    CHECK_EQ_INT(storage_open_write(st, "wal_005/c", 0, &pending), PA_OK); /* temp: unlisted */
    collected c = {0};
    CHECK_EQ_INT(storage_list(st, "wal_005/", collect, &c), PA_OK);
    CHECK_EQ_INT(c.n, 2);
    CHECK_STR(c.keys[0], "wal_005/a");
    CHECK_STR(c.keys[1], "wal_005/b");
    collected b = {0};
    CHECK_EQ_INT(storage_list(st, "basebackups_005/base_1", collect, &b), PA_OK);
    CHECK_EQ_INT(b.n, 2);
    CHECK_STR(b.keys[0], "basebackups_005/base_1/x");
    CHECK_STR(b.keys[1], "basebackups_005/base_1_backup_stop_sentinel.json");
    collected all = {0};
    CHECK_EQ_INT(storage_list(st, "", collect, &all), PA_OK);
    CHECK_EQ_INT(all.n, 4);
    collected none = {0};
    CHECK_EQ_INT(storage_list(st, "zzz/", collect, &none), PA_OK);
    CHECK_EQ_INT(none.n, 0);
    sink_free(pending);
    teardown();
}

static void test_remove_and_bad_keys(void)
{
    setup();
    CHECK_EQ_INT(put("basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo", "1", 0), PA_OK);
    const char *keys[] = {"basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo",
                          "does/not/exist"};
    CHECK_EQ_INT(storage_remove(st, keys, 2), PA_OK);
    char dir[300];
    snprintf(dir, sizeof dir, "%s/repo/basebackups_005", root);
    struct stat sb;
    CHECK(stat(dir, &sb) != 0); /* emptied directories are gone too */
    sink *w;
    CHECK_EQ_INT(storage_open_write(st, "../escape", 0, &w), PA_ERR);
    CHECK_CONTAINS(err_msg(), "invalid object key");
    CHECK_EQ_INT(storage_open_write(st, "/abs", 0, &w), PA_ERR);
    CHECK_EQ_INT(storage_open_write(st, "a//b", 0, &w), PA_ERR);
    storage_entry e;
    CHECK_EQ_INT(storage_stat(st, "a/../../b", &e), PA_ERR);
    teardown();
}

static void test_missing_root_is_an_error(void)
{
    storage *gone = storage_open("file:///nonexistent/pgattest/repository");
    sink *w = NULL;
    CHECK_EQ_INT(storage_open_write(gone, "wal_005/x", 0, &w), PA_ERR);
    CHECK_CONTAINS(err_msg(), "does not exist (not mounted?");
    CHECK(w == NULL);
    collected c = {0};
    CHECK_EQ_INT(storage_list(gone, "", collect, &c), PA_ERR);
    int rc;
    char *s = NULL;
    sink *m = memory_sink_new(16);
    rc = storage_read(gone, "wal_005/x", 0, 0, m);
    CHECK_EQ_INT(rc, PA_ERR);
    sink_free(m);
    free(s);
    storage_close(gone);
}

static void test_open_errors(void)
{
    CHECK(storage_open("file://relative/path") == NULL);
    CHECK_CONTAINS(err_msg(), "absolute path");
    CHECK(storage_open("ftp://x") == NULL);
    CHECK_CONTAINS(err_msg(), "unknown scheme");
}

TEST_MAIN(TEST(test_write_visible_only_after_finish), TEST(test_abort_leaves_nothing),
          TEST(test_no_overwrite), TEST(test_read_ranges_and_missing), TEST(test_list_prefix_sorted),
          TEST(test_remove_and_bad_keys), TEST(test_missing_root_is_an_error), TEST(test_open_errors))
