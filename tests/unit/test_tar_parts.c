/* A data directory streamed into tar parts: which members, under which names, in which part
 * (PostgreSQL's exclusions, tablespaces under pg_tblspc/<oid>/, symlinks kept), read back
 * through the real lzop decompressor and libarchive's tar reader. */
#include <archive.h>
#include <archive_entry.h>
#include <cJSON.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backup/tar_parts.h"
#include "common/error.h"
#include "io/lzop.h"
#include "test.h"

static void put_file(const char *dir, const char *rel, size_t size, unsigned seed)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    static char data[300000];
    test_random_bytes(data, size, seed);
    CHECK(write(fd, data, size) == (ssize_t)size);
    close(fd);
}

static void make_dir(const char *dir, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    CHECK(mkdir(path, 0700) == 0);
}

/* All members of one stored part, "name\n" each, appended to out. */
static void list_part(storage *st, const char *key, char *out, size_t cap)
{
    sink *mem = memory_sink_new(64u << 20);
    sink *lz = lzop_decompress_new(mem);
    CHECK_EQ_INT(storage_read(st, key, 0, 0, lz), PA_OK);
    CHECK_EQ_INT(sink_finish(lz), PA_OK);
    size_t len;
    const char *tar = memory_sink_data(mem, &len);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    CHECK_EQ_INT(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
    struct archive_entry *e;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s\n", archive_entry_pathname(e));
    }
    archive_read_free(a);
    sink_free(lz);
    sink_free(mem);
}

static void test_data_directory(void)
{
    char root[] = "/tmp/pgattest-unit-tarparts.XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char pgdata[600], tsdir[600], repo[600], url[700];
    snprintf(pgdata, sizeof pgdata, "%s/data", root);
    snprintf(tsdir, sizeof tsdir, "%s/ts", root);
    snprintf(repo, sizeof repo, "%s/repo", root);
    snprintf(url, sizeof url, "file://%s", repo);
    CHECK(mkdir(pgdata, 0700) == 0 && mkdir(tsdir, 0700) == 0 && mkdir(repo, 0700) == 0);
    put_file(pgdata, "PG_VERSION", 3, 1);
    put_file(pgdata, "postmaster.pid", 10, 2);
    put_file(pgdata, "backup_label", 10, 3);
    make_dir(pgdata, "base");
    make_dir(pgdata, "base/1");
    put_file(pgdata, "base/1/1259", 200000, 4);
    put_file(pgdata, "base/1/2608", 150000, 5);
    put_file(pgdata, "base/1/pg_internal.init", 100, 6);
    make_dir(pgdata, "base/pgsql_tmp");
    put_file(pgdata, "base/pgsql_tmp/pgsql_tmp1.0", 100, 7);
    make_dir(pgdata, "pg_wal");
    make_dir(pgdata, "pg_wal/archive_status");
    put_file(pgdata, "pg_wal/000000010000000000000001", 1000, 8);
    put_file(pgdata, "pg_wal/archive_status/000000010000000000000001.ready", 0, 9);
    make_dir(pgdata, "pg_replslot");
    make_dir(pgdata, "pg_replslot/s1");
    put_file(pgdata, "pg_replslot/s1/state", 100, 10);
    make_dir(pgdata, "pg_tblspc");
    make_dir(tsdir, "PG_15_202209061");
    make_dir(tsdir, "PG_15_202209061/1");
    put_file(tsdir, "PG_15_202209061/1/16385", 1000, 11);
    char link[700];
    snprintf(link, sizeof link, "%s/pg_tblspc/16384", pgdata);
    CHECK(symlink(tsdir, link) == 0);
    snprintf(link, sizeof link, "%s/some_link", pgdata);
    CHECK(symlink("/elsewhere", link) == 0);

    storage *st = storage_open(url);
    CHECK(st != NULL);
    sink *manifest = memory_sink_new(1 << 20);
    manifest_writer mw;
    const char *name = "base_000000010000000000000002_00000028";
    CHECK_EQ_INT(manifest_writer_begin(&mw, manifest, name), PA_OK);
    tar_parts *tp = tar_parts_start(st, name, 2, 128 * 1024, &mw);
    CHECK(tp != NULL);
    sentinel ts = {0};
    CHECK_EQ_INT(tar_parts_add_data_directory(tp, pgdata, &ts), PA_OK);
    CHECK_EQ_INT(tar_parts_wait(tp), PA_OK);
    tar_content labels[] = {{"backup_label", "START WAL LOCATION: 0/2000028\n", 30}};
    CHECK_EQ_INT(tar_parts_add_content_part(tp, labels, 1), PA_OK);
    backup_part *parts;
    size_t n_parts;
    uint64_t expanded, vanished;
    tar_parts_result(tp, &parts, &n_parts, &expanded, &vanished);
    CHECK_EQ_INT(manifest_writer_end(&mw), PA_OK);
    tar_parts_free(tp);

    CHECK(n_parts >= 3); /* 350 KB of files in 128 KB parts, plus the label part */
    CHECK_EQ_INT(vanished, 0);
    CHECK_EQ_INT(expanded, 3 + 200000 + 150000 + 1000 + 30);
    CHECK_EQ_INT(ts.n_tablespaces, 1);
    if (ts.n_tablespaces == 1) {
        CHECK_STR(ts.tablespaces[0].oid, "16384");
        CHECK_STR(ts.tablespaces[0].location, tsdir);
    }
    static char members[8192];
    members[0] = '\0';
    for (size_t i = 0; i < n_parts; i++) {
        char key[256];
        snprintf(key, sizeof key, "basebackups_005/%s/tar_partitions/%s", name, parts[i].name);
        list_part(st, key, members, sizeof members);
        free(parts[i].name);
    }
    free(parts);
    const char *expected[] = {"PG_VERSION\n", "base/\n", "base/1/\n", "base/1/1259\n",
                              "base/1/2608\n", "pg_wal/\n", "pg_wal/archive_status/\n",
                              "pg_replslot/\n", "pg_tblspc/\n", "pg_tblspc/16384/\n",
                              "pg_tblspc/16384/PG_15_202209061/1/16385\n", "some_link\n",
                              "backup_label\n"};
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        CHECK_CONTAINS(members, expected[i]);
    const char *absent[] = {"postmaster.pid", "pg_internal.init", "pgsql_tmp", "00000001",
                            "s1/state", "s1/\n"};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        CHECK(strstr(members, absent[i]) == NULL);
    /* backup_label comes once: from memory, in the last part, not the stale file on disk */
    CHECK(strstr(members, "backup_label\n") == strrchr(members, '\n') - 12);

    size_t len;
    const char *text = memory_sink_data(manifest, &len);
    cJSON *root_json = cJSON_ParseWithLength(text, len);
    CHECK(root_json != NULL);
    cJSON *files = cJSON_GetObjectItem(root_json, "files"), *f;
    int n = 0, last_part = -1;
    bool ordered = true;
    cJSON_ArrayForEach(f, files)
    {
        int part = cJSON_GetObjectItem(f, "part")->valueint;
        if (part < last_part)
            ordered = false;
        last_part = part;
        n++;
    }
    CHECK(ordered);
    CHECK_EQ_INT(last_part, (int)n_parts - 1);
    int n_members = 0;
    for (const char *p = members; *p; p++)
        n_members += *p == '\n';
    CHECK_EQ_INT(n, n_members); /* one entry per tar member */
    CHECK_EQ_INT(n, 15);
    cJSON_Delete(root_json);
    sentinel_free(&ts);
    sink_free(manifest);
    storage_close(st);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

/* One big file, then many small parts: workers wait for the big part instead of piling up
 * manifest fragments, and everything still completes in order. */
static void test_big_part_then_many_small(void)
{
    char root[] = "/tmp/pgattest-unit-tarparts2.XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char pgdata[600], repo[600], url[700];
    snprintf(pgdata, sizeof pgdata, "%s/data", root);
    snprintf(repo, sizeof repo, "%s/repo", root);
    snprintf(url, sizeof url, "file://%s", repo);
    CHECK(mkdir(pgdata, 0700) == 0 && mkdir(repo, 0700) == 0);
    make_dir(pgdata, "a");
    for (int i = 0; i < 8; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "a/big%d", i);
        put_file(pgdata, rel, 300000, (unsigned)i);
    }
    make_dir(pgdata, "b");
    for (int i = 0; i < 200; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "b/small%d", i);
        put_file(pgdata, rel, 20000, (unsigned)(100 + i));
    }
    storage *st = storage_open(url);
    sink *manifest = memory_sink_new(1 << 22);
    manifest_writer mw;
    CHECK_EQ_INT(manifest_writer_begin(&mw, manifest, "b"), PA_OK);
    tar_parts *tp = tar_parts_start(st, "base_000000010000000000000002_00000028", 2, 64 * 1024, &mw);
    sentinel ts = {0};
    CHECK_EQ_INT(tar_parts_add_data_directory(tp, pgdata, &ts), PA_OK);
    CHECK_EQ_INT(tar_parts_wait(tp), PA_OK);
    backup_part *parts;
    size_t n_parts;
    uint64_t expanded, vanished;
    tar_parts_result(tp, &parts, &n_parts, &expanded, &vanished);
    CHECK_EQ_INT(manifest_writer_end(&mw), PA_OK);
    tar_parts_free(tp);
    CHECK_EQ_INT(expanded, 8 * 300000 + 200 * 20000);
    CHECK(n_parts > 60);
    for (size_t i = 0; i < n_parts; i++) {
        char want[64];
        snprintf(want, sizeof want, "part_%08zu.tar.lzo", i);
        CHECK_STR(parts[i].name, want);
        free(parts[i].name);
    }
    free(parts);
    size_t len;
    const char *text = memory_sink_data(manifest, &len);
    cJSON *root_json = cJSON_ParseWithLength(text, len);
    cJSON *f;
    int n = 0, last_part = -1;
    bool ordered = true;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(root_json, "files"))
    {
        int part = cJSON_GetObjectItem(f, "part")->valueint;
        ordered = ordered && part >= last_part;
        last_part = part;
        n++;
    }
    CHECK(ordered);
    CHECK_EQ_INT(n, 2 + 8 + 200);
    cJSON_Delete(root_json);
    sink_free(manifest);
    storage_close(st);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

TEST_MAIN(TEST(test_data_directory), TEST(test_big_part_then_many_small))
