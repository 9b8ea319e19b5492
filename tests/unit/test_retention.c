/* delete's selection logic on synthetic listings: which backups and WAL files go. */
#include "catalog/retention.h"
#include "common/error.h"
#include "test.h"

/* Three complete backups on timeline 1 (segments 2, 5, 9), an incomplete one before the
 * second, an incomplete (running) one after the newest, and a timeline 2 that branched at
 * segment 4. */
static const retention_backup BACKUPS[] = {
    {"base_000000010000000000000002_00000040", true, 1000},
    {"base_000000010000000000000003_00000040", false, 0},
    {"base_000000010000000000000005_00000040", true, 2000},
    {"base_000000010000000000000009_00000040", true, 3000},
    {"base_00000001000000000000000C_00000040", false, 0},
};
enum { N = sizeof BACKUPS / sizeof *BACKUPS };

static void test_retain_count(void)
{
    retention_plan p;
    retention_rule r = {RETAIN_COUNT, 2, NULL, 0};
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_OK);
    CHECK(p.delete_backup[0]);   /* oldest complete */
    CHECK(p.delete_backup[1]);   /* incomplete, before the oldest retained */
    CHECK(!p.delete_backup[2] && !p.delete_backup[3]);
    CHECK(!p.delete_backup[4]);  /* incomplete but newer: may be running */
    CHECK_EQ_INT(p.n_retained, 2);
    CHECK_EQ_INT(p.floor_log, 0);
    CHECK_EQ_INT(p.floor_seg, 5);
    /* WAL: below segment 5 goes on every timeline; from 5 on stays on every timeline */
    CHECK(retention_wal_deletable(&p, "000000010000000000000004"));
    CHECK(retention_wal_deletable(&p, "000000010000000000000002.00000040.backup"));
    CHECK(retention_wal_deletable(&p, "000000020000000000000004.partial"));
    CHECK(retention_wal_deletable(&p, "000000020000000000000004"));
    CHECK(!retention_wal_deletable(&p, "000000010000000000000005"));
    CHECK(!retention_wal_deletable(&p, "000000010000000000000005.00000040.backup"));
    CHECK(!retention_wal_deletable(&p, "000000020000000000000005"));
    CHECK(!retention_wal_deletable(&p, "000000010000000100000000")); /* higher log id */
    CHECK(!retention_wal_deletable(&p, "00000002.history"));
    CHECK(!retention_wal_deletable(&p, "not-a-wal-file"));
    retention_plan_free(&p);

    r.count = 5;
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_OK);
    for (int i = 0; i < N; i++)
        CHECK(!p.delete_backup[i]);
    CHECK_EQ_INT(p.floor_seg, 2);
    CHECK(!retention_wal_deletable(&p, "000000010000000000000002"));
    CHECK(retention_wal_deletable(&p, "000000010000000000000001"));
    retention_plan_free(&p);

    r.count = 0;
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_ERR);
}

static void test_order_is_time_not_name(void)
{
    /* A newer backup on timeline 2 that starts at a lower position than an older one on
     * timeline 1 (restored to an earlier point, promoted): retain 1 keeps the timeline 2
     * backup, and the floor is its start. */
    const retention_backup b[] = {
        {"base_000000010000000000000009_00000040", true, 1000},
        {"base_000000020000000000000006_00000040", true, 2000},
    };
    retention_plan p;
    retention_rule r = {RETAIN_COUNT, 1, NULL, 0};
    CHECK_EQ_INT(retention_plan_backups(b, 2, &r, &p), PA_OK);
    CHECK(p.delete_backup[0] && !p.delete_backup[1]);
    CHECK_EQ_INT(p.floor_seg, 6);
    CHECK(retention_wal_deletable(&p, "000000010000000000000005"));
    CHECK(!retention_wal_deletable(&p, "000000010000000000000006")); /* kept on every timeline */
    retention_plan_free(&p);
}

static void test_before_name(void)
{
    retention_plan p;
    retention_rule r = {RETAIN_BEFORE_NAME, 0, "base_000000010000000000000009_00000040", 0};
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_OK);
    CHECK(p.delete_backup[0] && p.delete_backup[1] && p.delete_backup[2]);
    CHECK(!p.delete_backup[3] && !p.delete_backup[4]);
    CHECK_EQ_INT(p.floor_seg, 9);
    retention_plan_free(&p);

    r.name = "base_000000010000000000000003_00000040";
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_ERR);
    CHECK_CONTAINS(err_msg(), "incomplete");
    r.name = "base_000000010000000000000077_00000040";
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_ERR);
    CHECK_CONTAINS(err_msg(), "no base backup named");
}

static void test_before_time_keeps_newest(void)
{
    retention_plan p;
    retention_rule r = {RETAIN_BEFORE_TIME, 0, NULL, 2000};
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_OK);
    CHECK(p.delete_backup[0] && !p.delete_backup[2] && !p.delete_backup[3]);
    retention_plan_free(&p);
    r.time = 999999; /* after everything: the newest complete backup still stays */
    CHECK_EQ_INT(retention_plan_backups(BACKUPS, N, &r, &p), PA_OK);
    CHECK(p.delete_backup[0] && p.delete_backup[2] && !p.delete_backup[3]);
    CHECK_EQ_INT(p.n_retained, 1);
    retention_plan_free(&p);
}

static void test_no_complete_backup(void)
{
    const retention_backup b[] = {{"base_000000010000000000000002_00000040", false, 0}};
    retention_plan p;
    retention_rule r = {RETAIN_COUNT, 1, NULL, 0};
    CHECK_EQ_INT(retention_plan_backups(b, 1, &r, &p), PA_ERR);
    CHECK_CONTAINS(err_msg(), "no complete base backup");
    CHECK_EQ_INT(retention_plan_backups(NULL, 0, &r, &p), PA_ERR);
}

static void test_iso8601(void)
{
    int64_t t;
    CHECK(iso8601_utc_parse("2026-11-24T20:00:00Z", &t));
    CHECK_EQ_INT(t, 1795550400);
    CHECK(iso8601_utc_parse("1970-01-02", &t));
    CHECK_EQ_INT(t, 86400);
    CHECK(!iso8601_utc_parse("2026-11-24T20:00:00", &t));
    CHECK(!iso8601_utc_parse("2026-13-01", &t));
    CHECK(!iso8601_utc_parse("yesterday", &t));
    CHECK(!iso8601_utc_parse("2026-11-24T20:00:00Zjunk", &t));
}

TEST_MAIN(TEST(test_retain_count), TEST(test_order_is_time_not_name), TEST(test_before_name),
          TEST(test_before_time_keeps_newest), TEST(test_no_complete_backup), TEST(test_iso8601))
