/* WAL page header checks, manifests, the verified-object state and the findings model. */
#include "test.h"

#include <stdint.h>
#include <unistd.h>

#include "audit/verified_state.h"
#include "catalog/manifest_reader.h"
#include "common/error.h"
#include "pg/wal_pages.h"
#include "report/findings.h"

#define SEG (1024u * 1024) /* 1 MiB segments keep the test small */
#define PAGE 8192u

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A segment as PostgreSQL 15 writes it: pages with headers, WAL up to `used_pages`, zeros
 * after. */
static uint8_t *make_segment(uint32_t tli, uint64_t segno, uint64_t sysid, size_t used_pages)
{
    uint8_t *seg = calloc(1, SEG);
    for (size_t i = 0; i < used_pages; i++) {
        uint8_t *p = seg + i * PAGE;
        put16(p, 0xD110);
        put16(p + 2, i == 0 ? 0x0002 : 0);
        put32(p + 4, tli);
        put64(p + 8, segno * SEG + i * PAGE);
        if (i == 0) {
            put64(p + 24, sysid);
            put32(p + 32, SEG);
            put32(p + 36, PAGE);
        }
        memset(p + 64, 0x5A, 100); /* some record bytes */
    }
    return seg;
}

static int feed(const uint8_t *seg, size_t len, const wal_pages_expect *e, size_t chunk)
{
    sink *s = wal_pages_sink_new(e, "test-object");
    int rc = PA_OK;
    for (size_t off = 0; rc == PA_OK && off < len; off += chunk)
        rc = sink_write(s, seg + off, len - off < chunk ? len - off : chunk);
    if (rc == PA_OK)
        rc = sink_finish(s);
    sink_free(s);
    return rc;
}

static void test_wal_pages(void)
{
    wal_pages_expect e = {.timeline = 2, .segno = 7, .seg_size = SEG,
                          .system_identifier = 42, .server_version = 150018};
    uint8_t *seg = make_segment(2, 7, 42, SEG / PAGE);
    CHECK_EQ_INT(feed(seg, SEG, &e, 1000), PA_OK);   /* odd chunk sizes */
    CHECK_EQ_INT(feed(seg, SEG, &e, SEG), PA_OK);
    free(seg);

    seg = make_segment(2, 7, 42, 10); /* zero tail after a switch */
    CHECK_EQ_INT(feed(seg, SEG, &e, 4096), PA_OK);
    seg[20 * PAGE + 5] = 1; /* but not WAL after the zeros */
    CHECK_EQ_INT(feed(seg, SEG, &e, 4096), PA_ERR);
    CHECK_CONTAINS(err_msg(), "follows an all-zero page");
    free(seg);

    seg = make_segment(2, 7, 42, SEG / PAGE);
    put64(seg + 5 * PAGE + 8, 6 * SEG + 5 * PAGE); /* another segment's page */
    CHECK_EQ_INT(feed(seg, SEG, &e, 65536), PA_ERR);
    CHECK_CONTAINS(err_msg(), "test-object: page at offset 40960 says it is at 0/60A000, not 0/70A000");
    free(seg);

    seg = make_segment(2, 7, 43, SEG / PAGE);
    CHECK_EQ_INT(feed(seg, SEG, &e, 65536), PA_ERR);
    CHECK_CONTAINS(err_msg(), "another cluster");
    free(seg);

    seg = make_segment(3, 7, 42, SEG / PAGE); /* timeline after the file's */
    CHECK_EQ_INT(feed(seg, SEG, &e, 65536), PA_ERR);
    CHECK_CONTAINS(err_msg(), "timeline 3");
    free(seg);

    seg = make_segment(2, 7, 42, SEG / PAGE);
    put16(seg, 0xD10D); /* PostgreSQL 14's magic for a 15 server */
    CHECK_EQ_INT(feed(seg, SEG, &e, 65536), PA_ERR);
    CHECK_CONTAINS(err_msg(), "magic 0xD10D");
    wal_pages_expect any = e;
    any.server_version = 0;
    any.system_identifier = 0;
    put16(seg, 0xD110);
    CHECK_EQ_INT(feed(seg, SEG, &any, 65536), PA_OK);
    CHECK_EQ_INT(feed(seg, SEG - PAGE, &any, 65536), PA_ERR); /* truncated */
    CHECK_CONTAINS(err_msg(), "truncated");
    free(seg);

    /* .partial: valid WAL, then a recycled segment's old pages: fine */
    seg = make_segment(2, 7, 42, SEG / PAGE);
    for (size_t i = 30; i < SEG / PAGE; i++)
        put64(seg + i * PAGE + 8, 3 * SEG + i * PAGE);
    CHECK_EQ_INT(feed(seg, SEG, &e, 65536), PA_ERR);
    wal_pages_expect partial = e;
    partial.partial = true;
    CHECK_EQ_INT(feed(seg, SEG, &partial, 65536), PA_OK);
    free(seg);
    CHECK_EQ_INT(wal_page_magic_for_version(150018), 0xD110);
    CHECK_EQ_INT(wal_page_magic_for_version(90600), 0);
}

static void test_manifest(void)
{
    const char *json =
        "{\"pgattest_manifest\": 1, \"backup\": \"b\", \"files\": ["
        "{\"path\": \"./global/pg_control\", \"type\": \"file\", \"size\": 8192, \"sha256\": "
        "\"0000000000000000000000000000000000000000000000000000000000000001\", \"part\": 0},"
        "{\"path\": \"base/\", \"type\": \"dir\", \"mode\": 448, \"part\": 1}]}";
    manifest m;
    CHECK_EQ_INT(manifest_parse(json, strlen(json), "m.json", &m), PA_OK);
    CHECK_EQ_INT(m.n, 2);
    manifest_item *e = manifest_find(&m, "global/pg_control");
    CHECK(e && e->type == MANIFEST_ITEM_FILE && e->size == 8192 && e->part == 0);
    e = manifest_find(&m, "base");
    CHECK(e && e->type == MANIFEST_ITEM_DIR && e->part == 1);
    CHECK(manifest_find(&m, "nope") == NULL);
    manifest_free(&m);
    const char *dup = "{\"pgattest_manifest\": 1, \"files\": [{\"path\": \"a\", \"type\": "
                      "\"dir\", \"part\": 0}, {\"path\": \"./a/\", \"type\": \"dir\", \"part\": 0}]}";
    CHECK_EQ_INT(manifest_parse(dup, strlen(dup), "m.json", &m), PA_ERR);
    CHECK_CONTAINS(err_msg(), "listed twice");
    const char *nosha = "{\"pgattest_manifest\": 1, \"files\": [{\"path\": \"f\", \"type\": "
                        "\"file\", \"size\": 1, \"part\": 0}]}";
    CHECK_EQ_INT(manifest_parse(nosha, strlen(nosha), "m.json", &m), PA_ERR);
    CHECK_CONTAINS(err_msg(), "m.json: file \"f\" needs");
    /* found by fuzzing: numbers out of range must be refused, not cast */
    const char *huge = "{\"pgattest_manifest\": 1, \"files\": [{\"path\": \"d\", \"type\": "
                       "\"dir\", \"part\": 5e107}]}";
    CHECK_EQ_INT(manifest_parse(huge, strlen(huge), "m.json", &m), PA_ERR);
    CHECK_CONTAINS(err_msg(), "file entry 1 needs");
    const char *frac = "{\"pgattest_manifest\": 1, \"files\": [{\"path\": \"f\", \"type\": "
                       "\"file\", \"size\": 1.5, \"sha256\": \"00000000000000000000000000000000"
                       "00000000000000000000000000000001\", \"part\": 0}]}";
    CHECK_EQ_INT(manifest_parse(frac, strlen(frac), "m.json", &m), PA_ERR);
    char p1[8] = "./", p2[16] = "./base/1/";
    manifest_normalize_path(p1);
    manifest_normalize_path(p2);
    CHECK_STR(p1, ".");
    CHECK_STR(p2, "base/1");
}

static void test_verified_state(void)
{
    char dir[] = "/tmp/pgattest-state-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[128];
    snprintf(path, sizeof path, "%s/sub/state", dir);
    storage_entry a = {"wal_005/A.lzo", 10, 100, "e1"}, b = {"wal_005/B.lzo", 20, 200, ""};
    verified_state *s;
    CHECK_EQ_INT(verified_state_open(path, "file:///r", false, &s), PA_OK);
    CHECK(!verified_state_known(s, &a));
    CHECK_EQ_INT(verified_state_record(s, &a), PA_OK);
    CHECK_EQ_INT(verified_state_record(s, &b), PA_OK);
    CHECK_EQ_INT(verified_state_commit(s), PA_OK);
    verified_state_free(s);

    CHECK_EQ_INT(verified_state_open(path, "file:///r", false, &s), PA_OK);
    CHECK(verified_state_known(s, &a));
    storage_entry changed = a;
    changed.etag = "e2";
    CHECK(!verified_state_known(s, &changed)); /* rewritten object: check again */
    changed = a;
    changed.size = 11;
    CHECK(!verified_state_known(s, &changed));
    CHECK_EQ_INT(verified_state_record(s, &a), PA_OK); /* only a is seen this run */
    CHECK_EQ_INT(verified_state_commit(s), PA_OK);
    verified_state_free(s);

    CHECK_EQ_INT(verified_state_open(path, "file:///r", false, &s), PA_OK);
    CHECK(verified_state_known(s, &a));
    CHECK(!verified_state_known(s, &b)); /* dropped: not seen in the last run */
    verified_state_free(s);                /* not committed: the old state stays */
    CHECK_EQ_INT(verified_state_open(path, "file:///other", false, &s), PA_OK);
    CHECK(!verified_state_known(s, &a)); /* another repository's state is ignored */
    verified_state_free(s);
    CHECK_EQ_INT(verified_state_open(path, "file:///r", true, &s), PA_OK);
    CHECK(!verified_state_known(s, &a)); /* --full */
    verified_state_free(s);

    setenv("XDG_STATE_HOME", "/x/state", 1);
    char *d = verified_state_default_path("s3://bucket/p");
    CHECK(d && strncmp(d, "/x/state/pgattest/verify-", 25) == 0 && strlen(d) == 25 + 16 + 6);
    free(d);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_findings(void)
{
    CHECK_EQ_INT(severity_worse(SEV_WARNING, SEV_UNKNOWN), SEV_UNKNOWN);
    CHECK_EQ_INT(severity_worse(SEV_CRITICAL, SEV_UNKNOWN), SEV_CRITICAL);
    CHECK_EQ_INT(severity_worse(SEV_OK, SEV_WARNING), SEV_WARNING);
    report r;
    report_init(&r);
    check_result *c = report_check(&r, "wal.continuity");
    CHECK_EQ_INT(report_status(&r), SEV_OK);
    finding *f = check_add(&r, c, SEV_CRITICAL, "gap %d", 1);
    finding_evidence(&r, f, "key %s", "x");
    check_add(&r, report_check(&r, "wal.rpo"), SEV_WARNING, "old");
    CHECK_EQ_INT(report_status(&r), SEV_CRITICAL);
    CHECK_EQ_INT(severity_exit_code(report_status(&r)), 2);
    finding_waive(&r, f, "accepted");
    CHECK_EQ_INT(c->status, SEV_OK);
    CHECK_EQ_INT(report_status(&r), SEV_WARNING);
    CHECK(report_check(&r, "wal.continuity") == c);
    CHECK_EQ_INT(r.n_checks, 2);
    check_add(&r, report_check(&r, "backup.integrity"), SEV_UNKNOWN, "could not run");
    CHECK_EQ_INT(severity_exit_code(report_status(&r)), 3);
    /* pointers stay valid however many checks and findings come later */
    finding *first = check_add(&r, c, SEV_WARNING, "first");
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof id, "check.%d", i);
        check_add(&r, report_check(&r, id), SEV_OK, "x");
        check_add(&r, c, SEV_OK, "more %d", i);
    }
    CHECK_STR(c->id, "wal.continuity");
    CHECK_STR(first->summary, "first");
    finding_detail(&r, first, "still usable");
    CHECK_EQ_INT(first->n_details, 1);
    report_free(&r);
}

TEST_MAIN(TEST(test_wal_pages), TEST(test_manifest), TEST(test_verified_state),
          TEST(test_findings))
