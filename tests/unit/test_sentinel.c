/* Sentinels: ours round-trip; WAL-E's parse; malformed ones are named errors. */
#include "catalog/sentinel.h"
#include "common/error.h"
#include "test.h"

static void test_round_trip(void)
{
    sentinel s = {0};
    strcpy(s.stop_segment, "000000010000000000000003");
    s.stop_offset = 312;
    s.expanded_size = 123456789;
    s.base_prefix = strdup("/var/lib/postgresql/15/main");
    s.n_tablespaces = 1;
    s.tablespaces = calloc(1, sizeof *s.tablespaces);
    s.tablespaces[0].oid = strdup("16384");
    s.tablespaces[0].location = strdup("/srv/ts1");
    s.has_extended = true;
    s.start_lsn = 0x2000028;
    s.stop_lsn = 0x3000138;
    s.timeline = 1;
    strcpy(s.start_time, "2026-11-24T20:00:00Z");
    strcpy(s.stop_time, "2026-11-24T20:01:00Z");
    s.system_identifier = 7301234567890123456ULL;
    s.server_version = 150018;
    s.wal_segment_size = 16 * 1024 * 1024;
    s.compressed_size = 4242;
    s.vanished_files = 3;
    s.n_parts = 1;
    s.parts = calloc(1, sizeof *s.parts);
    s.parts[0].name = strdup("part_00000000.tar.lzo");
    s.parts[0].size = 4242;
    memset(s.parts[0].sha256, 'a', SHA256_HEX_LEN);
    char *json = sentinel_to_json(&s);
    CHECK(json != NULL);
    CHECK_CONTAINS(json, "\"wal_segment_offset_backup_stop\":\t\"00000312\"");
    CHECK_CONTAINS(json, "\"system_identifier\":\t\"7301234567890123456\"");
    sentinel t;
    CHECK_EQ_INT(sentinel_parse(json, strlen(json), "test", &t), PA_OK);
    CHECK(t.has_extended);
    CHECK_STR(t.stop_segment, "000000010000000000000003");
    CHECK_EQ_INT(t.stop_offset, 312);
    CHECK(t.system_identifier == 7301234567890123456ULL);
    CHECK(t.stop_lsn == 0x3000138);
    CHECK_EQ_INT(t.vanished_files, 3);
    CHECK_EQ_INT(t.n_parts, 1);
    CHECK_STR(t.parts[0].name, "part_00000000.tar.lzo");
    CHECK_EQ_INT(t.n_tablespaces, 1);
    CHECK_STR(t.tablespaces[0].location, "/srv/ts1");
    CHECK_STR(t.base_prefix, "/var/lib/postgresql/15/main");
    sentinel_free(&t);
    sentinel_free(&s);
    free(json);
}

static void test_wal_e_sentinel(void)
{
    const char *j = "{\"wal_segment_backup_stop\": \"000000010000000000000004\", "
                    "\"wal_segment_offset_backup_stop\": \"00000184\", "
                    "\"expanded_size_bytes\": 24169553, \"spec\": {\"base_prefix\": "
                    "\"/var/lib/postgresql/9.6/main\", \"tablespaces\": []}}";
    sentinel s;
    CHECK_EQ_INT(sentinel_parse(j, strlen(j), "wal-e", &s), PA_OK);
    CHECK(!s.has_extended);
    CHECK_EQ_INT(s.stop_offset, 184);
    CHECK_EQ_INT(s.expanded_size, 24169553);
    sentinel_free(&s);
}

static void test_malformed(void)
{
    sentinel s;
    CHECK_EQ_INT(sentinel_parse("{", 1, "k1", &s), PA_ERR);
    CHECK_CONTAINS(err_msg(), "k1: not valid JSON");
    const char *j = "{\"wal_segment_backup_stop\": \"nope\"}";
    CHECK_EQ_INT(sentinel_parse(j, strlen(j), "k2", &s), PA_ERR);
    CHECK_CONTAINS(err_msg(), "wal_segment_backup_stop");
    j = "{\"wal_segment_backup_stop\": \"000000010000000000000004\", "
        "\"wal_segment_offset_backup_stop\": \"00000184\", \"pgattest_format\": 1}";
    CHECK_EQ_INT(sentinel_parse(j, strlen(j), "k3", &s), PA_ERR);
    CHECK_CONTAINS(err_msg(), "k3: missing or malformed \"start_lsn\"");
}

static void test_names(void)
{
    char name[64], seg[25];
    uint32_t off;
    backup_name_format(name, sizeof name, "000000010000000000000002", 40);
    CHECK_STR(name, "base_000000010000000000000002_00000040");
    CHECK(backup_name_parse(name, seg, &off));
    CHECK_STR(seg, "000000010000000000000002");
    CHECK_EQ_INT(off, 40);
    CHECK(!backup_name_parse("base_000000010000000000000002_0000004", seg, &off));
    CHECK(!backup_name_parse("base_000000010000000000000002_0000004x", seg, &off));
    CHECK(!backup_name_parse("base_00000001000000000000000Z_00000040", seg, &off));
}

TEST_MAIN(TEST(test_round_trip), TEST(test_wal_e_sentinel), TEST(test_malformed), TEST(test_names))
