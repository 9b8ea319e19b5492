#include "audit/verify.h"

#include <cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/deep_verify.h"
#include "catalog/backups.h"
#include "catalog/continuity.h"
#include "catalog/wal_index.h"
#include "common/error.h"
#include "io/lzop.h"
#include "pg/timeline_history.h"
#include "pg/walname.h"
#include "storage/repository.h"

#define MAX_HISTORY_BYTES (1024u * 1024)
/* An archive with a hole every other segment must not make the report (or the work)
 * explode: each backup lists its first gaps; the rest is counted as "more". */
#define VERIFY_MAX_GAPS_PER_BACKUP 1000

typedef struct verify_state {
    storage *st;
    const verify_options *o;
    report *r;
    backup_list backups;
    bool backups_loaded;
    uint32_t seg_size;
    bool seg_size_assumed;
    wal_index ix;
    bool ix_loaded;
    timeline_history *histories;
    size_t n_histories;
    cJSON *json;
} verify_state;

/* One gap as seen across all backups. */
typedef struct gap_agg {
    wal_gap gap;
    size_t n_backups;
    const char *first_backup, *last_backup;
} gap_agg;

static void format_segment(char out[WAL_NAME_LEN + 1], uint32_t tli, uint64_t segno,
                           uint32_t seg_size)
{
    wal_segment_name(out, tli, segno, seg_size);
}

static void add_lsn(cJSON *o, const char *key, uint64_t lsn)
{
    char text[20];
    lsn_format(text, lsn);
    cJSON_AddStringToObject(o, key, text);
}

static int64_t parse_iso_time(const char *s)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
        return 0;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm);
}

static void format_age(char *out, size_t len, int64_t seconds)
{
    if (seconds < 0)
        seconds = 0;
    if (seconds < 120)
        snprintf(out, len, "%" PRId64 " s", seconds);
    else if (seconds < 7200)
        snprintf(out, len, "%" PRId64 " min", seconds / 60);
    else if (seconds < 172800)
        snprintf(out, len, "%.1f h", seconds / 3600.0);
    else
        snprintf(out, len, "%.1f days", seconds / 86400.0);
}

/* ---- backups and segment size ---- */

static void load_backups(verify_state *v)
{
    check_result *c = report_check(v->r, "backup.completeness");
    if (backup_list_load(v->st, &v->backups) != PA_OK) {
        check_add(v->r, c, SEV_UNKNOWN, "cannot list the base backups: %s", err_msg());
        v->backups.items = NULL;
        v->backups.n = 0;
        return;
    }
    v->backups_loaded = true;
}

static void choose_segment_size(verify_state *v)
{
    v->seg_size = 0;
    for (size_t i = 0; i < v->backups.n; i++) {
        const backup_info *b = &v->backups.items[i];
        if (!b->complete || !b->meta.has_extended)
            continue;
        if (!v->seg_size) {
            v->seg_size = b->meta.wal_segment_size;
        } else if (b->meta.wal_segment_size != v->seg_size) {
            finding *f = check_add(v->r, report_check(v->r, "backup.completeness"), SEV_CRITICAL,
                                   "%s says the WAL segment size is %u bytes, other backups %u",
                                   b->name, b->meta.wal_segment_size, v->seg_size);
            finding_detail(v->r, f, "one repository must hold one cluster's WAL; the "
                                    "continuity analysis uses %u bytes", v->seg_size);
        }
    }
    /* One repository, one cluster: backups of another system cannot use this WAL. */
    const backup_info *first = NULL;
    for (size_t i = 0; i < v->backups.n; i++) {
        const backup_info *b = &v->backups.items[i];
        if (!b->complete || !b->meta.has_extended)
            continue;
        if (!first) {
            first = b;
        } else if (b->meta.system_identifier != first->meta.system_identifier) {
            finding *f = check_add(v->r, report_check(v->r, "backup.completeness"), SEV_CRITICAL,
                                   "%s is of system %" PRIu64 ", %s of system %" PRIu64
                                   ": two clusters share this repository",
                                   b->name, b->meta.system_identifier, first->name,
                                   first->meta.system_identifier);
            finding_detail(v->r, f, "their WAL is mixed in one archive: give each cluster its "
                                    "own prefix");
        }
    }
    if (!v->seg_size) {
        v->seg_size = WAL_DEFAULT_SEG_SIZE;
        v->seg_size_assumed = true;
    }
}

/* ---- timeline histories ---- */

static int download_text(storage *st, const char *key, size_t max, char **text, size_t *len)
{
    sink *mem = memory_sink_new(max);
    sink *lz = mem ? lzop_decompress_new(mem) : NULL;
    int rc = PA_ERR;
    if (!lz) {
        err_set("out of memory");
    } else {
        rc = storage_read(st, key, 0, 0, lz);
        if (rc == PA_OK)
            rc = sink_finish(lz);
        if (rc == PA_OK) {
            const char *data = memory_sink_data(mem, len);
            *text = malloc(*len + 1);
            if (!*text) {
                rc = err_set("out of memory");
            } else {
                memcpy(*text, data, *len);
                (*text)[*len] = '\0';
            }
        }
    }
    sink_free(lz);
    sink_free(mem);
    return rc;
}

static void load_histories(verify_state *v)
{
    check_result *c = report_check(v->r, "wal.history");
    size_t n_needed = 0;
    v->histories = calloc(v->ix.n_timelines ? v->ix.n_timelines : 1, sizeof *v->histories);
    if (!v->histories) {
        v->r->oom = true;
        return;
    }
    for (size_t t = 0; t < v->ix.n_timelines; t++) {
        const wal_timeline *tl = &v->ix.timelines[t];
        char key[64];
        snprintf(key, sizeof key, REPO_WAL_DIR "%08X.history.lzo", tl->timeline);
        bool has_wal = tl->n_segments > 0 || tl->n_partials > 0;
        if (tl->timeline > 1 && has_wal)
            n_needed++;
        if (!tl->has_history) {
            if (tl->timeline > 1 && has_wal) {
                char first[WAL_NAME_LEN + 1];
                uint64_t segno = tl->n_ranges ? tl->ranges[0].first : tl->partials[0].segno;
                format_segment(first, tl->timeline, segno, v->seg_size);
                finding *f = check_add(
                    v->r, c, SEV_CRITICAL,
                    "timeline %u has WAL (%" PRIu64 " segments from %s) but no history file "
                    "%08X.history",
                    tl->timeline, tl->n_segments, first, tl->timeline);
                finding_detail(v->r, f, "without it no backup of an earlier timeline can "
                                        "follow the switch to timeline %u, and recovery "
                                        "cannot choose it as target",
                                tl->timeline);
                finding_evidence(v->r, f, "%s/%s (absent)", v->st->url, key);
            }
            continue;
        }
        char *text = NULL;
        size_t len = 0;
        char where[512];
        snprintf(where, sizeof where, "%s/%s", v->st->url, key);
        if (download_text(v->st, key, MAX_HISTORY_BYTES, &text, &len) != PA_OK) {
            finding *f = check_add(v->r, c, SEV_CRITICAL,
                                   "cannot read the history file of timeline %u: %s",
                                   tl->timeline, err_msg());
            finding_evidence(v->r, f, "%s", where);
            continue;
        }
        timeline_history *h = &v->histories[v->n_histories];
        if (timeline_history_parse(text, len, tl->timeline, where, h) != PA_OK) {
            finding *f = check_add(v->r, c, SEV_CRITICAL, "%s", err_msg());
            finding_evidence(v->r, f, "%s", where);
        } else {
            v->n_histories++;
        }
        free(text);
    }
    check_set_summary(v->r, c, "%zu timeline history file(s) read; %zu timeline(s) after the "
                      "first have WAL",
                      v->n_histories, n_needed);
}

/* ---- continuity ---- */

static continuity_input backup_input(const verify_state *v, const backup_info *b)
{
    continuity_input in = {.name = b->name};
    wal_file_name start;
    wal_name_parse(b->start_segment, &start);
    if (b->meta.has_extended) {
        in.timeline = b->meta.timeline;
        in.start_lsn = b->meta.start_lsn;
        in.stop_lsn = b->meta.stop_lsn;
    } else {
        /* WAL-E: start from the name, stop from the sentinel's segment and offset. */
        wal_file_name stop;
        wal_name_parse(b->meta.stop_segment, &stop);
        in.timeline = start.timeline;
        in.start_lsn = wal_segno(start.log, start.seg, v->seg_size) * v->seg_size +
                       b->start_offset;
        in.stop_lsn = wal_segno(stop.log, stop.seg, v->seg_size) * v->seg_size +
                      b->meta.stop_offset;
    }
    return in;
}

static cJSON *gap_json(const verify_state *v, const wal_gap *g)
{
    cJSON *o = cJSON_CreateObject();
    char first[WAL_NAME_LEN + 1], last[WAL_NAME_LEN + 1];
    format_segment(first, g->timeline, g->first, v->seg_size);
    format_segment(last, g->timeline, g->last, v->seg_size);
    cJSON_AddNumberToObject(o, "timeline", g->timeline);
    cJSON_AddStringToObject(o, "first_missing", first);
    cJSON_AddStringToObject(o, "last_missing", last);
    cJSON_AddNumberToObject(o, "count", (double)(g->last - g->first + 1));
    cJSON_AddBoolToObject(o, "blocks_restore", g->blocks_restore);
    cJSON_AddStringToObject(o, "status", g->waived_by     ? "waived"
                                         : g->in_progress ? "in_progress"
                                                          : "missing");
    if (g->waived_by) {
        cJSON *w = cJSON_AddObjectToObject(o, "waiver");
        cJSON_AddStringToObject(w, "reason", g->waived_by->reason);
        cJSON_AddStringToObject(w, "expires", g->waived_by->expires);
    }
    if (g->expired) {
        cJSON *w = cJSON_AddObjectToObject(o, "expired_waiver");
        cJSON_AddStringToObject(w, "reason", g->expired->reason);
        cJSON_AddStringToObject(w, "expires", g->expired->expires);
    }
    return o;
}

static void describe_gap(char *out, size_t len, const verify_state *v, const wal_gap *g)
{
    char first[WAL_NAME_LEN + 1], last[WAL_NAME_LEN + 1];
    format_segment(first, g->timeline, g->first, v->seg_size);
    format_segment(last, g->timeline, g->last, v->seg_size);
    uint64_t n = g->last - g->first + 1;
    if (n == 1)
        snprintf(out, len, "timeline %u: %s missing (1 segment)", g->timeline, first);
    else
        snprintf(out, len, "timeline %u: %s .. %s missing (%" PRIu64 " segments)", g->timeline,
                 first, last, n);
}

static int gap_agg_push(gap_agg **items, size_t *n, size_t *cap, const wal_gap *g,
                        const char *backup)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        gap_agg *p = realloc(*items, ncap * sizeof *p);
        if (!p)
            return PA_ERR;
        *items = p;
        *cap = ncap;
    }
    (*items)[(*n)++] = (gap_agg){*g, 1, backup, backup};
    return PA_OK;
}

static int compare_agg(const void *a, const void *b)
{
    const wal_gap *x = &((const gap_agg *)a)->gap, *y = &((const gap_agg *)b)->gap;
    if (x->timeline != y->timeline)
        return x->timeline < y->timeline ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

static void report_gaps(verify_state *v, gap_agg *gaps, size_t n)
{
    check_result *c = report_check(v->r, CONTINUITY_CHECK_ID);
    if (n > 1)
        qsort(gaps, n, sizeof *gaps, compare_agg);
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (w > 0 && gaps[w - 1].gap.timeline == gaps[i].gap.timeline &&
            gaps[i].gap.first <= gaps[w - 1].gap.last + 1) {
            gap_agg *p = &gaps[w - 1];
            if (gaps[i].gap.last > p->gap.last)
                p->gap.last = gaps[i].gap.last;
            p->gap.in_progress &= gaps[i].gap.in_progress;
            p->gap.blocks_restore |= gaps[i].gap.blocks_restore;
            p->n_backups++;
            p->last_backup = gaps[i].last_backup;
            continue;
        }
        gaps[w++] = gaps[i];
    }
    size_t n_missing = 0, n_waived = 0, n_progress = 0;
    for (size_t i = 0; i < w; i++) {
        wal_gap *g = &gaps[i].gap;
        waiver_match m = waivers_match(v->o->waivers, CONTINUITY_CHECK_ID, g->timeline, g->first,
                                       g->last, v->seg_size, v->o->now);
        char text[256];
        describe_gap(text, sizeof text, v, g);
        severity sev = g->in_progress ? SEV_WARNING : SEV_CRITICAL;
        finding *f = check_add(v->r, c, sev, "%s%s", text,
                               g->in_progress ? " — near the newest segment: archiving may "
                                                "still be in progress"
                                              : "");
        if (gaps[i].n_backups == 1)
            finding_detail(v->r, f, "breaks the recovery path of %s", gaps[i].first_backup);
        else
            finding_detail(v->r, f, "breaks the recovery path of %zu backups (%s .. %s)",
                           gaps[i].n_backups, gaps[i].first_backup, gaps[i].last_backup);
        if (g->blocks_restore)
            finding_detail(v->r, f, "lies between a backup's start and stop: that backup "
                                    "cannot be restored at all");
        char first[WAL_NAME_LEN + 1];
        format_segment(first, g->timeline, g->first, v->seg_size);
        finding_evidence(v->r, f, "%s/" REPO_WAL_DIR "%s.lzo (absent)", v->st->url, first);
        if (m.expired && !m.applies)
            finding_detail(v->r, f, "a waiver (\"%s\") expired on %s and no longer applies",
                           m.expired->reason, m.expired->expires);
        if (m.applies) {
            finding_detail(v->r, f, "waived until %s", m.applies->expires);
            finding_waive(v->r, f, m.applies->reason);
            n_waived++;
        } else if (g->in_progress) {
            n_progress++;
        } else {
            n_missing++;
        }
    }
    if (w == 0)
        check_set_summary(v->r, c, "no gap in the WAL any backup needs");
    else
        check_set_summary(v->r, c, "%zu gap(s): %zu missing, %zu maybe still archiving, %zu "
                          "waived",
                          w, n_missing, n_progress, n_waived);
}

static void analyze_backups(verify_state *v)
{
    check_result *c = report_check(v->r, "backup.completeness");
    cJSON *list = cJSON_AddArrayToObject(v->json, "backups");
    gap_agg *gaps = NULL;
    size_t n_gaps = 0, cap_gaps = 0, n_complete = 0, n_restorable = 0, n_incomplete = 0;
    continuity_options co = {.seg_size = v->seg_size,
                             .in_progress_segments = v->o->in_progress_segments,
                             .waivers = v->o->waivers,
                             .now = v->o->now,
                             .max_gaps = VERIFY_MAX_GAPS_PER_BACKUP};
    const backup_info *newest = NULL;
    int64_t newest_time = 0;
    for (size_t i = 0; i < v->backups.n; i++) {
        const backup_info *b = &v->backups.items[i];
        cJSON *bj = cJSON_CreateObject();
        cJSON_AddItemToArray(list, bj);
        cJSON_AddStringToObject(bj, "name", b->name);
        cJSON_AddBoolToObject(bj, "complete", b->complete);
        char sentinel_key[256];
        backup_sentinel_key(sentinel_key, sizeof sentinel_key, b->name);
        if (!b->complete) {
            cJSON_AddBoolToObject(bj, "restorable", false);
            cJSON_AddNullToObject(bj, "recoverable_from");
            cJSON_AddNullToObject(bj, "recoverable_until");
            cJSON_AddArrayToObject(bj, "gaps");
            finding *f;
            if (b->sentinel_error) {
                f = check_add(v->r, c, SEV_CRITICAL, "%s: the stop sentinel is unusable: %s",
                              b->name, b->sentinel_error);
                cJSON_AddStringToObject(bj, "problem", b->sentinel_error);
            } else {
                n_incomplete++;
                f = check_add(v->r, c, SEV_WARNING,
                              "%s has no stop sentinel: incomplete (interrupted, or still "
                              "running), never restorable",
                              b->name);
                cJSON_AddStringToObject(bj, "problem", "no stop sentinel");
            }
            finding_detail(v->r, f, "%u object(s), %" PRIu64 " bytes stored under the backup",
                           b->stored_objects, b->stored_bytes);
            finding_evidence(v->r, f, "%s/%s", v->st->url, sentinel_key);
            continue;
        }
        n_complete++;
        int64_t t = b->meta.has_extended ? parse_iso_time(b->meta.stop_time) : 0;
        if (!t)
            t = b->sentinel_mtime;
        if (!newest || t >= newest_time) {
            newest = b;
            newest_time = t;
        }
        continuity_input in = backup_input(v, b);
        cJSON_AddNumberToObject(bj, "timeline", in.timeline);
        add_lsn(bj, "start_lsn", in.start_lsn);
        add_lsn(bj, "stop_lsn", in.stop_lsn);
        cJSON_AddStringToObject(bj, "format", b->meta.has_extended ? "pgattest" : "WAL-E");
        if (!v->ix_loaded) {
            cJSON_AddNullToObject(bj, "restorable");
            continue;
        }
        backup_continuity bc;
        if (continuity_analyze(&v->ix, v->histories, v->n_histories, &in, &co, &bc) != PA_OK) {
            v->r->oom = true;
            continue;
        }
        cJSON_AddBoolToObject(bj, "restorable", bc.restorable);
        add_lsn(bj, "recoverable_from", bc.recoverable_from);
        if (bc.restorable) {
            add_lsn(bj, "recoverable_until", bc.recoverable_until);
            cJSON_AddNumberToObject(bj, "recoverable_until_timeline", bc.until_timeline);
            n_restorable++;
        } else {
            cJSON_AddNullToObject(bj, "recoverable_until");
        }
        cJSON_AddNumberToObject(bj, "target_timeline", bc.target_timeline);
        cJSON *reach = cJSON_AddArrayToObject(bj, "timelines");
        for (size_t k = 0; k < bc.n_reach; k++) {
            cJSON *ro = cJSON_CreateObject();
            cJSON_AddItemToArray(reach, ro);
            cJSON_AddNumberToObject(ro, "timeline", bc.reach[k].timeline);
            cJSON_AddBoolToObject(ro, "restorable", bc.reach[k].restorable);
            add_lsn(ro, "recoverable_until", bc.reach[k].until_lsn);
            cJSON_AddBoolToObject(ro, "to_newest_wal", bc.reach[k].to_end);
        }
        cJSON *gj = cJSON_AddArrayToObject(bj, "gaps");
        cJSON_AddBoolToObject(bj, "gaps_truncated", bc.gaps_truncated);
        if (bc.gaps_truncated) {
            finding *tf = check_add(v->r, report_check(v->r, CONTINUITY_CHECK_ID), SEV_CRITICAL,
                                    "%s: more than %d gaps on its recovery path; only the first "
                                    "are listed",
                                    b->name, VERIFY_MAX_GAPS_PER_BACKUP);
            finding_detail(v->r, tf, "the archive is missing segments all over: compare the "
                                     "listing with the archive_command's logs");
        }
        bool blocking_in_progress = true;
        finding *f = NULL;
        for (size_t k = 0; k < bc.n_gaps; k++) {
            cJSON_AddItemToArray(gj, gap_json(v, &bc.gaps[k]));
            if (gap_agg_push(&gaps, &n_gaps, &cap_gaps, &bc.gaps[k], b->name) != PA_OK)
                v->r->oom = true;
            if (bc.gaps[k].blocks_restore && !bc.gaps[k].in_progress)
                blocking_in_progress = false;
        }
        if (!bc.restorable) {
            char stop_seg[WAL_NAME_LEN + 1], start_seg[WAL_NAME_LEN + 1];
            format_segment(start_seg, in.timeline, in.start_lsn / v->seg_size, v->seg_size);
            format_segment(stop_seg, in.timeline, in.stop_lsn / v->seg_size, v->seg_size);
            f = check_add(v->r, c, blocking_in_progress ? SEV_WARNING : SEV_CRITICAL,
                          "%s is NOT RESTORABLE: WAL between its start %s and stop %s is "
                          "missing%s",
                          b->name, start_seg, stop_seg,
                          blocking_in_progress ? " (the newest segments: may still be "
                                                 "archiving)"
                                               : "");
            for (size_t k = 0; k < bc.n_gaps; k++)
                if (bc.gaps[k].blocks_restore) {
                    char text[256];
                    describe_gap(text, sizeof text, v, &bc.gaps[k]);
                    finding_detail(v->r, f, "%s", text);
                }
            finding_evidence(v->r, f, "%s/%s", v->st->url, sentinel_key);
        }
        continuity_free(&bc);
    }
    if (v->seg_size_assumed && v->backups.n) {
        finding *f = check_add(v->r, c, SEV_OK, "WAL segment size assumed to be 16 MiB");
        finding_detail(v->r, f, "no sentinel records it (WAL-E's sentinels do not); a cluster "
                                "initialised with another --wal-segsize would be misread");
    }
    if (v->backups_loaded && v->backups.n == 0 && v->ix_loaded && v->ix.n_objects == 0)
        check_add(v->r, c, SEV_CRITICAL, "the repository is empty: no base backup, no WAL "
                  "(is the prefix %s right?)", v->st->url);
    else if (v->backups_loaded && n_complete == 0)
        check_add(v->r, c, SEV_CRITICAL, "no complete base backup in the repository");
    else if (v->backups_loaded && v->ix_loaded && n_restorable == 0)
        check_add(v->r, c, SEV_CRITICAL, "no restorable base backup in the repository");
    check_set_summary(v->r, c, "%zu backup(s): %zu complete, %zu restorable, %zu incomplete",
                      v->backups.n, n_complete, n_restorable, n_incomplete);
    if (v->ix_loaded)
        report_gaps(v, gaps, n_gaps);
    free(gaps);

    check_result *age = report_check(v->r, "backup.age");
    if (newest) {
        char text[32];
        int64_t seconds = v->o->now - newest_time;
        format_age(text, sizeof text, seconds);
        bool old = v->o->max_backup_age > 0 && seconds > v->o->max_backup_age;
        check_set_summary(v->r, age, "newest complete backup %s is %s old", newest->name, text);
        if (old)
            check_add(v->r, age, SEV_WARNING, "newest complete backup %s is %s old, more than "
                      "--max-backup-age %" PRId64 " s",
                      newest->name, text, v->o->max_backup_age);
        cJSON *nb = cJSON_AddObjectToObject(v->json, "newest_backup");
        cJSON_AddStringToObject(nb, "name", newest->name);
        cJSON_AddNumberToObject(nb, "age_seconds", (double)seconds);
    } else {
        check_set_summary(v->r, age, "no complete backup");
        if (v->backups_loaded)
            check_add(v->r, age, SEV_CRITICAL, "no complete base backup");
        else
            check_add(v->r, age, SEV_UNKNOWN, "base backups could not be listed");
    }
}

/* ---- WAL summary, RPO, strays ---- */

static void describe_wal(verify_state *v)
{
    cJSON *wal = cJSON_AddObjectToObject(v->json, "wal");
    cJSON_AddNumberToObject(wal, "segment_size", v->seg_size);
    cJSON_AddBoolToObject(wal, "segment_size_assumed", v->seg_size_assumed);
    check_result *rpo = report_check(v->r, "wal.rpo");
    if (!v->ix_loaded) {
        check_add(v->r, rpo, SEV_UNKNOWN, "the WAL archive could not be listed");
        return;
    }
    cJSON *tls = cJSON_AddArrayToObject(wal, "timelines");
    for (size_t t = 0; t < v->ix.n_timelines; t++) {
        const wal_timeline *tl = &v->ix.timelines[t];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToArray(tls, o);
        cJSON_AddNumberToObject(o, "timeline", tl->timeline);
        cJSON_AddNumberToObject(o, "segments", (double)tl->n_segments);
        cJSON_AddNumberToObject(o, "ranges", (double)tl->n_ranges);
        char name[WAL_NAME_LEN + 1];
        if (tl->n_ranges) {
            format_segment(name, tl->timeline, tl->ranges[0].first, v->seg_size);
            cJSON_AddStringToObject(o, "first", name);
            format_segment(name, tl->timeline, tl->ranges[tl->n_ranges - 1].last, v->seg_size);
            cJSON_AddStringToObject(o, "last", name);
        }
        cJSON_AddBoolToObject(o, "history", tl->has_history);
        cJSON *partials = cJSON_AddArrayToObject(o, "partials");
        for (size_t p = 0; p < tl->n_partials; p++) {
            char pn[WAL_NAME_LEN + 16];
            format_segment(name, tl->timeline, tl->partials[p].segno, v->seg_size);
            snprintf(pn, sizeof pn, "%s.partial", name);
            cJSON_AddItemToArray(partials, cJSON_CreateString(pn));
        }
    }
    cJSON_AddNumberToObject(wal, "backup_history_files", (double)v->ix.n_backup_histories);
    if (!v->ix.has_segments) {
        check_set_summary(v->r, rpo, "no WAL segment archived");
        check_add(v->r, rpo, SEV_CRITICAL, "no WAL segment in %s/" REPO_WAL_DIR, v->st->url);
    } else {
        char name[WAL_NAME_LEN + 1], age[32];
        format_segment(name, v->ix.newest_timeline, v->ix.newest_segno, v->seg_size);
        int64_t seconds = v->o->now - v->ix.newest_mtime;
        format_age(age, sizeof age, seconds);
        check_set_summary(v->r, rpo, "newest archived segment %s, %s old", name, age);
        cJSON *nw = cJSON_AddObjectToObject(wal, "newest");
        cJSON_AddStringToObject(nw, "name", name);
        cJSON_AddNumberToObject(nw, "age_seconds", (double)seconds);
        if (v->o->max_wal_age > 0 && seconds > v->o->max_wal_age) {
            finding *f = check_add(v->r, rpo, SEV_WARNING,
                                   "newest archived segment %s is %s old, more than "
                                   "--max-wal-age %" PRId64 " s",
                                   name, age, v->o->max_wal_age);
            finding_evidence(v->r, f, "%s/" REPO_WAL_DIR "%s.lzo", v->st->url, name);
        }
    }
    if (v->ix.n_stray) {
        check_result *c = report_check(v->r, "catalog.stray");
        finding *f = check_add(v->r, c, SEV_WARNING,
                               "%" PRIu64 " object(s) under " REPO_WAL_DIR " are not archived "
                               "WAL (or not valid for %u-byte segments)",
                               v->ix.n_stray, v->seg_size);
        for (size_t i = 0; i < WAL_INDEX_STRAY_EVIDENCE && v->ix.stray_examples[i]; i++)
            finding_evidence(v->r, f, "%s/" REPO_WAL_DIR "%s", v->st->url,
                             v->ix.stray_examples[i]);
        check_set_summary(v->r, c, "unexpected objects in the WAL archive");
    }
}

/* ---- deep ---- */

static void run_deep(verify_state *v)
{
    deep_options d = {.jobs = v->o->jobs ? v->o->jobs : 1,
                      .full = v->o->full,
                      .state_path = v->o->state_path,
                      .seg_size = v->seg_size};
    for (size_t i = 0; i < v->backups.n; i++) {
        const backup_info *b = &v->backups.items[i];
        if (b->complete && b->meta.has_extended) {
            if (!d.system_identifier)
                d.system_identifier = b->meta.system_identifier;
            if (!d.server_version)
                d.server_version = b->meta.server_version;
        }
    }
    deep_stats ws = {0}, bs = {0};
    if (deep_verify(v->st, &v->backups, &d, v->r, &ws, &bs) != PA_OK) {
        check_add(v->r, report_check(v->r, "wal.integrity"), SEV_UNKNOWN,
                  "deep verification could not run: %s", err_msg());
        return;
    }
    cJSON *deep = cJSON_AddObjectToObject(v->json, "integrity");
    cJSON_AddNumberToObject(deep, "wal_objects_checked", (double)ws.checked);
    cJSON_AddNumberToObject(deep, "wal_objects_skipped", (double)ws.skipped);
    cJSON_AddNumberToObject(deep, "wal_objects_failed", (double)ws.failed);
    cJSON_AddNumberToObject(deep, "backup_objects_checked", (double)bs.checked);
    cJSON_AddNumberToObject(deep, "backup_objects_skipped", (double)bs.skipped);
    cJSON_AddNumberToObject(deep, "backup_objects_failed", (double)bs.failed);
    cJSON_AddNumberToObject(deep, "bytes_read", (double)(ws.bytes + bs.bytes));
}

int verify_repository(storage *st, const verify_options *o, report *r, cJSON **result)
{
    verify_state v = {.st = st, .o = o, .r = r};
    *result = NULL;
    if (!(v.json = cJSON_CreateObject()))
        return err_set("out of memory");
    load_backups(&v);
    choose_segment_size(&v);
    if (wal_index_load(st, v.seg_size, &v.ix) == PA_OK) {
        v.ix_loaded = true;
    } else {
        check_add(r, report_check(r, CONTINUITY_CHECK_ID), SEV_UNKNOWN,
                  "cannot list the WAL archive: %s", err_msg());
        check_set_summary(r, report_check(r, CONTINUITY_CHECK_ID), "could not run");
    }
    if (v.ix_loaded)
        load_histories(&v);
    describe_wal(&v);
    analyze_backups(&v);
    if (o->deep)
        run_deep(&v);
    for (size_t i = 0; i < v.n_histories; i++)
        timeline_history_free(&v.histories[i]);
    free(v.histories);
    if (v.ix_loaded)
        wal_index_free(&v.ix);
    backup_list_free(&v.backups);
    *result = v.json;
    return PA_OK;
}
