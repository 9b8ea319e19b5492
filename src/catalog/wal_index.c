#include "catalog/wal_index.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pg/walname.h"
#include "storage/repository.h"

void wal_index_init(wal_index *ix, uint32_t seg_size)
{
    memset(ix, 0, sizeof *ix);
    ix->seg_size = seg_size;
}

static int grow(void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return PA_OK;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*items, ncap * size);
    if (!p)
        return err_set("out of memory indexing the WAL archive");
    *items = p;
    *cap = ncap;
    return PA_OK;
}

static wal_timeline *timeline_get(wal_index *ix, uint32_t tli)
{
    /* Listings come in key order, so the timeline is almost always the last one. */
    if (ix->n_timelines && ix->timelines[ix->n_timelines - 1].timeline == tli)
        return &ix->timelines[ix->n_timelines - 1];
    for (size_t i = 0; i < ix->n_timelines; i++)
        if (ix->timelines[i].timeline == tli)
            return &ix->timelines[i];
    if (grow((void **)&ix->timelines, &ix->cap_timelines, ix->n_timelines,
             sizeof *ix->timelines) != PA_OK)
        return NULL;
    wal_timeline *tl = &ix->timelines[ix->n_timelines++];
    memset(tl, 0, sizeof *tl);
    tl->timeline = tli;
    tl->sorted = true;
    return tl;
}

static int add_segment(wal_timeline *tl, uint64_t segno)
{
    if (tl->n_ranges) {
        seg_range *r = &tl->ranges[tl->n_ranges - 1];
        if (segno == r->last + 1) {
            r->last = segno;
            tl->n_segments++;
            return PA_OK;
        }
        if (segno <= r->last)
            tl->sorted = false;
    }
    if (grow((void **)&tl->ranges, &tl->cap_ranges, tl->n_ranges, sizeof *tl->ranges) != PA_OK)
        return PA_ERR;
    tl->ranges[tl->n_ranges++] = (seg_range){segno, segno};
    tl->n_segments++;
    return PA_OK;
}

static int add_stray(wal_index *ix, const char *name)
{
    if (ix->n_stray < WAL_INDEX_STRAY_EVIDENCE &&
        !(ix->stray_examples[ix->n_stray] = strdup(name)))
        return err_set("out of memory");
    ix->n_stray++;
    return PA_OK;
}

int wal_index_add(wal_index *ix, const char *name, uint64_t size, int64_t mtime)
{
    (void)size;
    ix->n_objects++;
    size_t len = strlen(name);
    char bare[64];
    if (len <= 4 || len - 4 >= sizeof bare || strcmp(name + len - 4, ".lzo") != 0)
        return add_stray(ix, name);
    memcpy(bare, name, len - 4);
    bare[len - 4] = '\0';
    wal_file_name w;
    wal_file_kind kind = wal_name_parse(bare, &w);
    uint64_t per_log = UINT64_C(0x100000000) / ix->seg_size;
    if (kind == WAL_INVALID || (kind != WAL_HISTORY && w.seg >= per_log))
        return add_stray(ix, name);
    wal_timeline *tl = timeline_get(ix, w.timeline);
    if (!tl)
        return PA_ERR;
    uint64_t segno = kind == WAL_HISTORY ? 0 : wal_segno(w.log, w.seg, ix->seg_size);
    switch (kind) {
    case WAL_SEGMENT:
        if (add_segment(tl, segno) != PA_OK)
            return PA_ERR;
        if (mtime > tl->newest_mtime)
            tl->newest_mtime = mtime;
        if (!ix->has_segments || mtime > ix->newest_mtime ||
            (mtime == ix->newest_mtime && (w.timeline > ix->newest_timeline ||
                                          (w.timeline == ix->newest_timeline &&
                                           segno > ix->newest_segno)))) {
            ix->newest_mtime = mtime;
            ix->newest_timeline = w.timeline;
            ix->newest_segno = segno;
        }
        ix->has_segments = true;
        return PA_OK;
    case WAL_PARTIAL:
        if (grow((void **)&tl->partials, &tl->cap_partials, tl->n_partials,
                 sizeof *tl->partials) != PA_OK)
            return PA_ERR;
        tl->partials[tl->n_partials++] = (wal_partial){segno, mtime};
        return PA_OK;
    case WAL_HISTORY:
        tl->has_history = true;
        return PA_OK;
    case WAL_BACKUP_HISTORY:
        if (grow((void **)&ix->backup_histories, &ix->cap_backup_histories,
                 ix->n_backup_histories, sizeof *ix->backup_histories) != PA_OK)
            return PA_ERR;
        ix->backup_histories[ix->n_backup_histories++] =
            (wal_backup_history){w.timeline, segno, w.offset};
        return PA_OK;
    case WAL_INVALID:
        break;
    }
    return add_stray(ix, name);
}

static int compare_ranges(const void *a, const void *b)
{
    const seg_range *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int compare_timelines(const void *a, const void *b)
{
    const wal_timeline *x = a, *y = b;
    return x->timeline < y->timeline ? -1 : x->timeline > y->timeline;
}

static int compare_partials(const void *a, const void *b)
{
    const wal_partial *x = a, *y = b;
    return x->segno < y->segno ? -1 : x->segno > y->segno;
}

void wal_index_finish(wal_index *ix)
{
    if (ix->n_timelines > 1)
        qsort(ix->timelines, ix->n_timelines, sizeof *ix->timelines, compare_timelines);
    for (size_t t = 0; t < ix->n_timelines; t++) {
        wal_timeline *tl = &ix->timelines[t];
        if (tl->n_partials > 1)
            qsort(tl->partials, tl->n_partials, sizeof *tl->partials, compare_partials);
        if (tl->sorted || tl->n_ranges < 2)
            continue;
        qsort(tl->ranges, tl->n_ranges, sizeof *tl->ranges, compare_ranges);
        size_t w = 0;
        uint64_t count = 0;
        for (size_t r = 0; r < tl->n_ranges; r++) {
            seg_range cur = tl->ranges[r];
            if (w > 0 && cur.first <= tl->ranges[w - 1].last + 1) {
                if (cur.last > tl->ranges[w - 1].last)
                    tl->ranges[w - 1].last = cur.last;
            } else {
                tl->ranges[w++] = cur;
            }
        }
        tl->n_ranges = w;
        for (size_t r = 0; r < w; r++)
            count += tl->ranges[r].last - tl->ranges[r].first + 1;
        tl->n_segments = count; /* duplicates listed twice count once */
        tl->sorted = true;
    }
}

static int on_wal_object(void *arg, const storage_entry *e)
{
    wal_index *ix = arg;
    return wal_index_add(ix, e->key + strlen(REPO_WAL_DIR), e->size, e->mtime);
}

int wal_index_load(storage *st, uint32_t seg_size, wal_index *ix)
{
    wal_index_init(ix, seg_size);
    int rc = storage_list(st, REPO_WAL_DIR, on_wal_object, ix);
    if (rc != PA_OK) {
        err_prefix("cannot list \"%s/%s\"", st->url, REPO_WAL_DIR);
        wal_index_free(ix);
        return rc;
    }
    wal_index_finish(ix);
    return PA_OK;
}

void wal_index_free(wal_index *ix)
{
    for (size_t t = 0; t < ix->n_timelines; t++) {
        free(ix->timelines[t].ranges);
        free(ix->timelines[t].partials);
    }
    free(ix->timelines);
    free(ix->backup_histories);
    for (size_t i = 0; i < WAL_INDEX_STRAY_EVIDENCE; i++)
        free(ix->stray_examples[i]);
    memset(ix, 0, sizeof *ix);
}

const wal_timeline *wal_index_timeline(const wal_index *ix, uint32_t timeline)
{
    size_t lo = 0, hi = ix->n_timelines;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->timelines[mid].timeline < timeline)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n_timelines && ix->timelines[lo].timeline == timeline ? &ix->timelines[lo]
                                                                           : NULL;
}

/* Index of the first range whose last >= segno (n_ranges when none). */
static size_t first_range_ending_at_or_after(const wal_timeline *tl, uint64_t segno)
{
    size_t lo = 0, hi = tl->n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tl->ranges[mid].last < segno)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool wal_timeline_has(const wal_timeline *tl, uint64_t segno)
{
    if (!tl)
        return false;
    size_t i = first_range_ending_at_or_after(tl, segno);
    return i < tl->n_ranges && tl->ranges[i].first <= segno;
}

bool wal_timeline_last(const wal_timeline *tl, uint64_t *segno)
{
    if (!tl || tl->n_ranges == 0)
        return false;
    *segno = tl->ranges[tl->n_ranges - 1].last;
    return true;
}

bool wal_timeline_last_within(const wal_timeline *tl, uint64_t lo, uint64_t hi, uint64_t *segno)
{
    if (!tl || lo > hi)
        return false;
    /* the range holding hi, or the last one before it */
    size_t i = first_range_ending_at_or_after(tl, hi);
    if (i < tl->n_ranges && tl->ranges[i].first <= hi) {
        *segno = hi;
        return true;
    }
    if (i == 0)
        return false;
    uint64_t last = tl->ranges[i - 1].last;
    if (last < lo)
        return false;
    *segno = last;
    return true;
}

int wal_timeline_missing(const wal_timeline *tl, uint64_t lo, uint64_t hi, wal_missing_fn fn,
                         void *arg)
{
    if (lo > hi)
        return 0;
    if (!tl)
        return fn(arg, lo, hi);
    uint64_t next = lo; /* first segment not yet accounted for */
    for (size_t i = first_range_ending_at_or_after(tl, lo); i < tl->n_ranges; i++) {
        const seg_range *r = &tl->ranges[i];
        if (r->first > hi)
            break;
        if (r->first > next) {
            int stop = fn(arg, next, r->first - 1);
            if (stop)
                return stop;
        }
        if (r->last >= hi)
            return 0;
        next = r->last + 1;
    }
    return next <= hi ? fn(arg, next, hi) : 0;
}
