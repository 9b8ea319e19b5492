/* The backup catalog: complete, incomplete and broken backups from one listing. */
#include <stdlib.h>

#include "catalog/backups.h"
#include "common/error.h"
#include "test.h"

static void put(storage *st, const char *key, const char *text)
{
    sink *w;
    CHECK_EQ_INT(storage_open_write(st, key, 0, &w), PA_OK);
    CHECK_EQ_INT(sink_write(w, text, strlen(text)), PA_OK);
    CHECK_EQ_INT(sink_finish(w), PA_OK);
    sink_free(w);
}

static const char *WALE_SENTINEL =
    "{\"wal_segment_backup_stop\": \"000000010000000000000004\", "
    "\"wal_segment_offset_backup_stop\": \"00000184\", \"expanded_size_bytes\": 10}";

static void test_listing(void)
{
    char root[] = "/tmp/pgattest-unit-backups.XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char url[128];
    snprintf(url, sizeof url, "file://%s", root);
    storage *st = storage_open(url);
    put(st, "basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_00000000.tar.lzo", "12345");
    put(st, "basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json", WALE_SENTINEL);
    put(st, "basebackups_005/base_000000010000000000000006_00000040/tar_partitions/part_00000000.tar.lzo", "1");
    put(st, "basebackups_005/base_000000010000000000000008_00000040/extended_version.txt", "x");
    put(st, "basebackups_005/base_000000010000000000000008_00000040_backup_stop_sentinel.json", "{broken");
    put(st, "basebackups_005/stray-object", "x");
    backup_list l;
    CHECK_EQ_INT(backup_list_load(st, &l), PA_OK);
    CHECK_EQ_INT(l.n, 3);
    if (l.n == 3) {
        CHECK(l.items[0].complete);
        CHECK_EQ_INT(l.items[0].stored_bytes, 5);
        CHECK_EQ_INT(l.items[0].meta.stop_offset, 184);
        CHECK(!l.items[1].complete && !l.items[1].sentinel_present);
        CHECK(!l.items[2].complete && l.items[2].sentinel_present);
        CHECK_CONTAINS(l.items[2].sentinel_error, "not valid JSON");
    }
    const backup_info *b = backup_list_find(&l, "LATEST");
    CHECK(b && strcmp(b->name, "base_000000010000000000000002_00000040") == 0);
    CHECK(backup_list_find(&l, "base_000000010000000000000006_00000040") == NULL);
    CHECK_CONTAINS(err_msg(), "incomplete");
    CHECK(backup_list_find(&l, "base_000000010000000000000009_00000040") == NULL);
    CHECK_CONTAINS(err_msg(), "no base backup named");
    backup_list_free(&l);
    storage_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0);
}

TEST_MAIN(TEST(test_listing))
