/* WAL index, timeline history and continuity analysis on synthetic listings. */
#include "test.h"

#include "audit/waiver.h"
#include "common/error.h"
#include "catalog/continuity.h"
#include "catalog/wal_index.h"
#include "pg/timeline_history.h"
#include "pg/walname.h"

#define SEG WAL_DEFAULT_SEG_SIZE
#define LSN(segno, off) ((uint64_t)(segno) * SEG + (off))

static void add_segs(wal_index *ix, uint32_t tli, uint64_t first, uint64_t last)
{
    for (uint64_t s = first; s <= last; s++) {
        char name[WAL_NAME_LEN + 1], key[64];
        wal_segment_name(name, tli, s, SEG);
        snprintf(key, sizeof key, "%s.lzo", name);
        CHECK_EQ_INT(wal_index_add(ix, key, 100, 1000 + (int64_t)s), 0);
    }
}

static timeline_history history(const char *text, uint32_t tli)
{
    timeline_history h;
    CHECK_EQ_INT(timeline_history_parse(text, strlen(text), tli, "test", &h), 0);
    return h;
}

static continuity_options opts(uint32_t in_progress)
{
    return (continuity_options){.seg_size = SEG, .in_progress_segments = in_progress, .now = 0};
}

static void test_history_parse(void)
{
    const char *text = "# comment\n1\t0/3000000\tno recovery target specified\n\n"
                       "2\t0/5000028\tbefore 2026-01-01\n";
    timeline_history h;
    CHECK_EQ_INT(timeline_history_parse(text, strlen(text), 3, "00000003.history", &h), 0);
    CHECK_EQ_INT(h.n, 2);
    CHECK_EQ_INT(h.switches[0].parent, 1);
    CHECK_EQ_INT(h.switches[0].switchpoint, 0x3000000);
    CHECK_EQ_INT(h.switches[1].switchpoint, 0x5000028);
    uint64_t end;
    CHECK(timeline_history_end_of(&h, 2, &end) && end == 0x5000028);
    CHECK(timeline_history_end_of(&h, 3, &end) && end == UINT64_MAX);
    CHECK(!timeline_history_end_of(&h, 4, &end));
    timeline_history_free(&h);

    CHECK_EQ_INT(timeline_history_parse("1\tzz\n", 5, 2, "00000002.history", &h), PA_ERR);
    CHECK_CONTAINS(err_msg(), "00000002.history: line 1");
    CHECK_EQ_INT(timeline_history_parse("2\t0/1\tx\n", 8, 2, "h", &h), PA_ERR);
    CHECK_CONTAINS(err_msg(), "not below");
    CHECK_EQ_INT(timeline_history_parse("# only\n", 7, 2, "h", &h), PA_ERR);
    CHECK_EQ_INT(timeline_history_parse("1\t0/5000000\ta\n1\t0/6000000\tb\n", 28, 3, "h", &h),
                 PA_ERR);
}

static void test_index_ranges(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 1, 10);
    add_segs(&ix, 1, 12, 12);
    add_segs(&ix, 1, 300, 301); /* in the next "log" (segno 0x12C) */
    CHECK_EQ_INT(wal_index_add(&ix, "00000002.history.lzo", 1, 1), 0);
    CHECK_EQ_INT(wal_index_add(&ix, "000000010000000000000002.00000028.backup.lzo", 1, 1), 0);
    CHECK_EQ_INT(wal_index_add(&ix, "000000010000000000000005.partial.lzo", 1, 1), 0);
    CHECK_EQ_INT(wal_index_add(&ix, "junk.txt", 1, 1), 0);
    CHECK_EQ_INT(wal_index_add(&ix, "0000000100000000000001FF.lzo", 1, 1), 0); /* seg > 0xFF */
    add_segs(&ix, 1, 11, 11); /* out of order: merged by finish */
    wal_index_finish(&ix);
    const wal_timeline *t1 = wal_index_timeline(&ix, 1);
    CHECK(t1 != NULL);
    CHECK_EQ_INT(t1->n_ranges, 2);
    CHECK_EQ_INT(t1->ranges[0].first, 1);
    CHECK_EQ_INT(t1->ranges[0].last, 12);
    CHECK_EQ_INT(t1->ranges[1].first, 300);
    CHECK_EQ_INT(t1->n_segments, 14);
    CHECK_EQ_INT(t1->n_partials, 1);
    CHECK_EQ_INT(t1->partials[0].segno, 5);
    CHECK(wal_index_timeline(&ix, 2)->has_history);
    CHECK_EQ_INT(ix.n_backup_histories, 1);
    CHECK_EQ_INT(ix.n_stray, 2);
    CHECK_STR(ix.stray_examples[0], "junk.txt");
    CHECK(wal_timeline_has(t1, 300) && !wal_timeline_has(t1, 13) && !wal_timeline_has(t1, 0));
    uint64_t last;
    CHECK(wal_timeline_last_within(t1, 0, 200, &last) && last == 12);
    CHECK(!wal_timeline_last_within(t1, 13, 200, &last));
    CHECK_EQ_INT(ix.newest_segno, 301);
    char name[25];
    wal_segment_name(name, 1, 300, SEG);
    CHECK_STR(name, "00000001000000010000002C"); /* 300 = 0x12C: log 1, seg 0x2C */
    wal_index_free(&ix);
}

static void test_healthy(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 2, 20);
    wal_index_finish(&ix);
    continuity_input b = {"base", 1, LSN(3, 0x28), LSN(4, 0x100)};
    continuity_options o = opts(2);
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK(c.restorable);
    CHECK_EQ_INT(c.n_gaps, 0);
    CHECK_EQ_INT(c.recoverable_from, LSN(4, 0x100));
    CHECK_EQ_INT(c.recoverable_until, LSN(21, 0));
    CHECK_EQ_INT(c.target_timeline, 1);
    CHECK_EQ_INT(c.n_reach, 1);
    CHECK(c.reach[0].to_end);
    continuity_free(&c);
    wal_index_free(&ix);
}

static void test_gaps_and_in_progress(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 2, 9);
    add_segs(&ix, 1, 12, 17); /* 10-11 missing */
    add_segs(&ix, 1, 19, 20); /* 18 missing: within 2 of the newest (20) */
    wal_index_finish(&ix);
    continuity_input b = {"base", 1, LSN(3, 0), LSN(4, 0)};
    continuity_options o = opts(2);
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK(c.restorable);
    CHECK_EQ_INT(c.n_gaps, 2);
    CHECK_EQ_INT(c.gaps[0].first, 10);
    CHECK_EQ_INT(c.gaps[0].last, 11);
    CHECK(!c.gaps[0].in_progress && !c.gaps[0].blocks_restore);
    CHECK_EQ_INT(c.gaps[1].first, 18);
    CHECK(c.gaps[1].in_progress);
    CHECK_EQ_INT(c.recoverable_until, LSN(10, 0));
    CHECK(!c.reach[0].to_end);
    continuity_free(&c);
    /* threshold 0: nothing is in progress */
    o.in_progress_segments = 0;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK(!c.gaps[1].in_progress);
    continuity_free(&c);
    wal_index_free(&ix);
}

static void test_not_restorable(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 2, 4);
    add_segs(&ix, 1, 6, 30); /* stop segment 5 missing */
    wal_index_finish(&ix);
    continuity_input b = {"base", 1, LSN(3, 0x28), LSN(5, 0x138)};
    continuity_options o = opts(2);
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK(!c.restorable);
    CHECK_EQ_INT(c.n_gaps, 1);
    CHECK(c.gaps[0].blocks_restore);
    CHECK_EQ_INT(c.gaps[0].first, 5);
    CHECK_EQ_INT(c.gaps[0].last, 5);
    continuity_free(&c);
    /* the start segment missing too; a backup with no WAL at all */
    continuity_input b2 = {"base2", 1, LSN(40, 0), LSN(41, 0)};
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b2, &o, &c), 0);
    CHECK(!c.restorable);
    CHECK_EQ_INT(c.n_gaps, 1);
    CHECK_EQ_INT(c.gaps[0].first, 40);
    CHECK_EQ_INT(c.gaps[0].last, 41);
    continuity_free(&c);
    wal_index_free(&ix);
}

/* Timeline 2 branches from 1 inside segment 8 (0/8000100). After the switch the parent's
 * segment 8 exists only as .partial; segments 8.. are read from timeline 2. wal-g issue 1390
 * calls 1/8.. missing here; they are not needed. */
static void test_timeline_switch(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 2, 7);
    CHECK_EQ_INT(wal_index_add(&ix, "000000010000000000000008.partial.lzo", 1, 1), 0);
    CHECK_EQ_INT(wal_index_add(&ix, "00000002.history.lzo", 1, 1), 0);
    add_segs(&ix, 2, 8, 15);
    wal_index_finish(&ix);
    timeline_history h = history("1\t0/8000100\tno recovery target specified\n", 2);
    continuity_input b = {"base", 1, LSN(3, 0), LSN(4, 0)};
    continuity_options o = opts(2);
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, &h, 1, &b, &o, &c), 0);
    CHECK(c.restorable);
    CHECK_EQ_INT(c.n_gaps, 0);
    CHECK_EQ_INT(c.target_timeline, 2);
    CHECK_EQ_INT(c.until_timeline, 2);
    CHECK_EQ_INT(c.recoverable_until, LSN(16, 0));
    CHECK_EQ_INT(c.n_reach, 2);
    CHECK_EQ_INT(c.reach[0].timeline, 1);
    CHECK_EQ_INT(c.reach[0].until_lsn, LSN(8, 0)); /* timeline 1 alone ends with 7 */
    CHECK(c.reach[1].to_end);
    continuity_free(&c);

    /* A gap on timeline 2 right after the switch, and one on 1 before it. */
    wal_index ix2;
    wal_index_init(&ix2, SEG);
    add_segs(&ix2, 1, 2, 5);
    add_segs(&ix2, 1, 7, 7);
    add_segs(&ix2, 2, 9, 20);
    wal_index_finish(&ix2);
    CHECK_EQ_INT(continuity_analyze(&ix2, &h, 1, &b, &o, &c), 0);
    CHECK(c.restorable);
    CHECK_EQ_INT(c.n_gaps, 2);
    CHECK_EQ_INT(c.gaps[0].timeline, 1);
    CHECK_EQ_INT(c.gaps[0].first, 6);
    CHECK_EQ_INT(c.gaps[0].last, 6);
    CHECK_EQ_INT(c.gaps[1].timeline, 2);
    CHECK_EQ_INT(c.gaps[1].first, 8);
    CHECK_EQ_INT(c.gaps[1].last, 8);
    CHECK_EQ_INT(c.recoverable_until, LSN(6, 0));
    CHECK_EQ_INT(c.until_timeline, 1);
    continuity_free(&c);

    /* A backup taken on timeline 1 AFTER the switch point cannot follow timeline 2. */
    continuity_input late = {"late", 1, LSN(9, 0), LSN(9, 0x100)};
    CHECK_EQ_INT(continuity_analyze(&ix2, &h, 1, &late, &o, &c), 0);
    CHECK_EQ_INT(c.n_reach, 1);
    CHECK_EQ_INT(c.target_timeline, 1);
    CHECK(!c.restorable);
    continuity_free(&c);

    /* A backup on timeline 2 needs only timeline 2. */
    continuity_input b2 = {"base2", 2, LSN(10, 0), LSN(11, 0)};
    CHECK_EQ_INT(continuity_analyze(&ix2, &h, 1, &b2, &o, &c), 0);
    CHECK(c.restorable);
    CHECK_EQ_INT(c.n_gaps, 0);
    CHECK_EQ_INT(c.recoverable_until, LSN(21, 0));
    continuity_free(&c);
    timeline_history_free(&h);
    wal_index_free(&ix);
    wal_index_free(&ix2);
}

/* 1 -> 2 -> 3, the switch to 3 at a segment boundary; and a sibling 4 branching from 1
 * before the backup's stop (not reachable). */
static void test_three_timelines(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 1, 9);
    add_segs(&ix, 2, 9, 14);
    add_segs(&ix, 3, 15, 30);
    add_segs(&ix, 4, 2, 6);
    wal_index_finish(&ix);
    timeline_history h[3] = {
        history("1\t0/9000000\tx\n2\t0/F000000\ty\n", 3),
        history("1\t0/9000000\tx\n", 2),
        history("1\t0/2800000\tz\n", 4),
    };
    continuity_input b = {"base", 1, LSN(3, 0), LSN(4, 0)};
    continuity_options o = opts(2);
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, h, 3, &b, &o, &c), 0);
    CHECK(c.restorable);
    CHECK_EQ_INT(c.n_gaps, 0);
    CHECK_EQ_INT(c.n_reach, 3);
    CHECK_EQ_INT(c.target_timeline, 3);
    CHECK_EQ_INT(c.recoverable_until, LSN(31, 0));
    continuity_free(&c);
    for (int i = 0; i < 3; i++)
        timeline_history_free(&h[i]);
    wal_index_free(&ix);
}

static void test_waivers(void)
{
    const char *json =
        "[{\"check\": \"wal.continuity\", \"from\": \"00000001000000000000000A\","
        " \"to\": \"00000001000000000000000B\", \"reason\": \"outage\", \"expires\": \"2027-01-31\"},"
        " {\"check\": \"wal.continuity\", \"timeline\": 1, \"from\": \"0/D000000\","
        " \"to\": \"0/DFFFFFF\", \"reason\": \"old\", \"expires\": \"2020-01-01\"}]";
    waiver_list wl;
    CHECK_EQ_INT(waivers_parse(json, strlen(json), "w.json", &wl), 0);
    CHECK_EQ_INT(wl.n, 2);
    wal_index ix;
    wal_index_init(&ix, SEG);
    add_segs(&ix, 1, 2, 9);
    add_segs(&ix, 1, 12, 12); /* 10-11 missing: waived */
    add_segs(&ix, 1, 14, 30); /* 13 missing: expired waiver */
    wal_index_finish(&ix);
    continuity_input b = {"base", 1, LSN(3, 0), LSN(4, 0)};
    continuity_options o = opts(2);
    o.waivers = &wl;
    o.now = 1795000000; /* 2026-11 */
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK_EQ_INT(c.n_gaps, 2);
    CHECK(c.gaps[0].waived_by == &wl.items[0]);
    CHECK(c.gaps[1].waived_by == NULL);
    CHECK(c.gaps[1].expired == &wl.items[1]);
    CHECK_EQ_INT(c.recoverable_until, LSN(10, 0)); /* a waiver never moves the truth */
    continuity_free(&c);
    /* after its expiry the first waiver no longer applies */
    o.now = 1900000000;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK(c.gaps[0].waived_by == NULL && c.gaps[0].expired == &wl.items[0]);
    continuity_free(&c);
    waivers_free(&wl);
    wal_index_free(&ix);

    CHECK_EQ_INT(waivers_parse("[{\"check\": 1}]", 14, "w.json", &wl), PA_ERR);
    CHECK_CONTAINS(err_msg(), "w.json: waiver 1");
    CHECK_EQ_INT(waivers_parse("[\n {,}]", 7, "w.json", &wl), PA_ERR);
    CHECK_CONTAINS(err_msg(), "w.json: line 2");
    const char *no_tli = "[{\"check\":\"wal.continuity\",\"from\":\"0/1\",\"to\":\"0/2\","
                         "\"reason\":\"r\",\"expires\":\"2027-01-01\"}]";
    CHECK_EQ_INT(waivers_parse(no_tli, strlen(no_tli), "w.json", &wl), PA_ERR);
    CHECK_CONTAINS(err_msg(), "\"timeline\" is required");
}

/* A hole every other segment: the first max_gaps are listed, the rest flagged. */
static void test_gap_cap(void)
{
    wal_index ix;
    wal_index_init(&ix, SEG);
    for (uint64_t s = 2; s < 2000; s += 2)
        add_segs(&ix, 1, s, s);
    wal_index_finish(&ix);
    continuity_input b = {"base", 1, LSN(2, 0), LSN(2, 0x100)};
    continuity_options o = opts(0);
    o.max_gaps = 10;
    backup_continuity c;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK_EQ_INT(c.n_gaps, 10);
    CHECK(c.gaps_truncated);
    CHECK_EQ_INT(c.gaps[0].first, 3);
    CHECK_EQ_INT(c.gaps[9].first, 21);
    CHECK_EQ_INT(c.recoverable_until, LSN(3, 0));
    continuity_free(&c);
    o.max_gaps = 0;
    CHECK_EQ_INT(continuity_analyze(&ix, NULL, 0, &b, &o, &c), 0);
    CHECK_EQ_INT(c.n_gaps, 998);
    CHECK(!c.gaps_truncated);
    continuity_free(&c);
    wal_index_free(&ix);
}

TEST_MAIN(TEST(test_history_parse), TEST(test_gap_cap), TEST(test_index_ranges), TEST(test_healthy),
          TEST(test_gaps_and_in_progress), TEST(test_not_restorable),
          TEST(test_timeline_switch), TEST(test_three_timelines), TEST(test_waivers))
