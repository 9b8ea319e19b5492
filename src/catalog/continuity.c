#include "catalog/continuity.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

typedef struct path_step {
    uint32_t timeline;
    uint64_t lo, hi; /* segments read from this timeline on the path (hi may be UINT64_MAX) */
} path_step;

typedef struct gap_list {
    wal_gap *items;
    size_t n, cap;
} gap_list;

static int gap_push(gap_list *g, wal_gap gap)
{
    if (g->n == g->cap) {
        size_t ncap = g->cap ? g->cap * 2 : 8;
        wal_gap *p = realloc(g->items, ncap * sizeof *p);
        if (!p)
            return err_set("out of memory analysing WAL continuity");
        g->items = p;
        g->cap = ncap;
    }
    g->items[g->n++] = gap;
    return PA_OK;
}

static const timeline_history *history_of(const timeline_history *h, size_t n, uint32_t tli)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].timeline == tli)
            return &h[i];
    return NULL;
}

/* Path from the backup's timeline to target. Returns the number of steps, 0 if the target
 * is not reachable from the backup (did not branch from its timeline at/after stop). */
static size_t build_path(const timeline_history *target, uint32_t backup_tli, uint64_t stop_lsn,
                         uint64_t from_seg, uint32_t seg_size, path_step *steps, size_t max)
{
    if (!target) { /* the backup's own timeline */
        steps[0] = (path_step){backup_tli, from_seg, UINT64_MAX};
        return 1;
    }
    size_t k;
    for (k = 0; k < target->n; k++)
        if (target->switches[k].parent == backup_tli)
            break;
    if (k == target->n || target->switches[k].switchpoint < stop_lsn)
        return 0;
    size_t n = 0;
    for (size_t j = k; j <= target->n && n < max; j++) {
        uint32_t tli = j < target->n ? target->switches[j].parent : target->timeline;
        uint64_t lo = j == k ? from_seg : target->switches[j - 1].switchpoint / seg_size;
        uint64_t hi = UINT64_MAX;
        if (j < target->n) {
            uint64_t next_begin = target->switches[j].switchpoint / seg_size;
            hi = next_begin ? next_begin - 1 : 0;
            if (next_begin == 0)
                lo = 1, hi = 0; /* empty */
        }
        if (lo < from_seg)
            lo = from_seg;
        steps[n++] = (path_step){tli, lo, hi};
    }
    return n;
}

typedef struct collect_ctx {
    gap_list *gaps;
    uint32_t timeline;
    size_t max;
    bool truncated;
} collect_ctx;

#define COLLECT_FULL 1

static int collect_missing(void *arg, uint64_t first, uint64_t last)
{
    collect_ctx *c = arg;
    if (c->max && c->gaps->n >= c->max) {
        c->truncated = true;
        return COLLECT_FULL;
    }
    return gap_push(c->gaps, (wal_gap){.timeline = c->timeline, .first = first, .last = last});
}

static int analyze_target(const wal_index *ix, const path_step *steps, size_t n_steps,
                          const continuity_input *b, const continuity_options *o,
                          timeline_reach *reach, gap_list *all, bool *truncated)
{
    uint64_t stop_seg = b->stop_lsn / o->seg_size;
    uint64_t end = stop_seg;
    uint32_t end_tli = b->timeline;
    for (size_t i = 0; i < n_steps; i++) {
        uint64_t last;
        if (wal_timeline_last_within(wal_index_timeline(ix, steps[i].timeline), steps[i].lo,
                                     steps[i].hi, &last) &&
            last >= end) {
            end = last;
            end_tli = steps[i].timeline;
        }
    }
    gap_list mine = {0};
    int rc = PA_OK;
    for (size_t i = 0; rc == PA_OK && i < n_steps; i++) {
        uint64_t hi = steps[i].hi < end ? steps[i].hi : end;
        collect_ctx c = {&mine, steps[i].timeline, o->max_gaps, false};
        rc = wal_timeline_missing(wal_index_timeline(ix, steps[i].timeline), steps[i].lo, hi,
                                  collect_missing, &c);
        if (rc == COLLECT_FULL) {
            *truncated = true;
            rc = PA_OK;
            break;
        }
    }
    if (rc != PA_OK) {
        free(mine.items);
        return PA_ERR;
    }
    /* steps are in position order, so mine is sorted by position */
    reach->restorable = true;
    reach->to_end = mine.n == 0;
    reach->until_lsn = (end + 1) * (uint64_t)o->seg_size;
    reach->until_timeline = end_tli;
    for (size_t i = 0; i < mine.n; i++) {
        wal_gap *g = &mine.items[i];
        g->blocks_restore = g->first <= stop_seg;
        g->in_progress = o->in_progress_segments > 0 && end - g->last <= o->in_progress_segments;
        if (g->blocks_restore)
            reach->restorable = false;
        if (i == 0) {
            reach->until_lsn = g->first * (uint64_t)o->seg_size;
            reach->until_timeline = g->timeline;
        }
        if (rc == PA_OK)
            rc = gap_push(all, *g);
    }
    free(mine.items);
    return rc;
}

static int compare_gaps(const void *a, const void *b)
{
    const wal_gap *x = a, *y = b;
    if (x->timeline != y->timeline)
        return x->timeline < y->timeline ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return (x->last > y->last) - (x->last < y->last);
}

/* The same missing segments seen from several targets: merge overlaps into their union. */
static void merge_gaps(gap_list *g)
{
    if (g->n < 2)
        return;
    qsort(g->items, g->n, sizeof *g->items, compare_gaps);
    size_t w = 0;
    for (size_t r = 0; r < g->n; r++) {
        wal_gap *cur = &g->items[r];
        if (w > 0) {
            wal_gap *prev = &g->items[w - 1];
            if (prev->timeline == cur->timeline && cur->first <= prev->last) {
                if (cur->last > prev->last)
                    prev->last = cur->last;
                prev->blocks_restore |= cur->blocks_restore;
                prev->in_progress &= cur->in_progress;
                continue;
            }
        }
        g->items[w++] = *cur;
    }
    g->n = w;
}

int continuity_analyze(const wal_index *ix, const timeline_history *histories,
                       size_t n_histories, const continuity_input *b,
                       const continuity_options *o, backup_continuity *out)
{
    memset(out, 0, sizeof *out);
    out->recoverable_from = b->stop_lsn;
    uint64_t start_seg = b->start_lsn / o->seg_size;
    gap_list gaps = {0};
    size_t cap_reach = n_histories + 1;
    out->reach = calloc(cap_reach, sizeof *out->reach);
    path_step *steps = NULL;
    size_t max_steps = 1;
    for (size_t i = 0; i < n_histories; i++)
        if (histories[i].n + 1 > max_steps)
            max_steps = histories[i].n + 1;
    steps = calloc(max_steps, sizeof *steps);
    if (!out->reach || !steps) {
        free(steps);
        continuity_free(out);
        return err_set("out of memory");
    }
    int rc = PA_OK;
    /* Targets in ascending timeline order: the backup's own, then its descendants. */
    uint32_t *targets = calloc(cap_reach, sizeof *targets);
    if (!targets) {
        free(steps);
        continuity_free(out);
        return err_set("out of memory");
    }
    size_t n_targets = 0;
    targets[n_targets++] = b->timeline;
    for (size_t i = 0; i < n_histories; i++) {
        uint64_t end;
        if (histories[i].timeline > b->timeline &&
            timeline_history_end_of(&histories[i], b->timeline, &end) && end >= b->stop_lsn)
            targets[n_targets++] = histories[i].timeline;
    }
    for (size_t i = 1; i < n_targets; i++) /* insertion sort: few timelines */
        for (size_t j = i; j > 1 && targets[j] < targets[j - 1]; j--) {
            uint32_t t = targets[j];
            targets[j] = targets[j - 1];
            targets[j - 1] = t;
        }
    for (size_t t = 0; rc == PA_OK && t < n_targets; t++) {
        const timeline_history *h =
            targets[t] == b->timeline ? NULL : history_of(histories, n_histories, targets[t]);
        size_t n = build_path(h, b->timeline, b->stop_lsn, start_seg, o->seg_size, steps,
                              max_steps);
        if (n == 0)
            continue;
        timeline_reach *r = &out->reach[out->n_reach++];
        r->timeline = targets[t];
        rc = analyze_target(ix, steps, n, b, o, r, &gaps, &out->gaps_truncated);
    }
    free(targets);
    free(steps);
    if (rc != PA_OK) {
        free(gaps.items);
        continuity_free(out);
        return PA_ERR;
    }
    merge_gaps(&gaps);
    for (size_t i = 0; i < gaps.n; i++) {
        waiver_match m = waivers_match(o->waivers, CONTINUITY_CHECK_ID, gaps.items[i].timeline,
                                       gaps.items[i].first, gaps.items[i].last, o->seg_size,
                                       o->now);
        gaps.items[i].waived_by = m.applies;
        gaps.items[i].expired = m.expired;
    }
    out->gaps = gaps.items;
    out->n_gaps = gaps.n;
    /* Headline: the newest reachable timeline that can be restored (recovery_target_timeline
     * = 'latest'), else the newest reachable one. */
    const timeline_reach *best = NULL;
    for (size_t i = 0; i < out->n_reach; i++)
        if (out->reach[i].restorable)
            best = &out->reach[i];
    out->restorable = best != NULL;
    if (!best && out->n_reach)
        best = &out->reach[out->n_reach - 1];
    if (best) {
        out->target_timeline = best->timeline;
        out->recoverable_until = best->until_lsn;
        out->until_timeline = best->until_timeline;
    }
    return PA_OK;
}

void continuity_free(backup_continuity *c)
{
    free(c->gaps);
    free(c->reach);
    memset(c, 0, sizeof *c);
}
