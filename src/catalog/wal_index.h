/*
 * wal_index.h — the WAL archive (wal_005/) as data, built from ONE listing.
 *
 * Segments are kept per timeline as sorted, merged ranges of segment numbers, so an archive
 * of a million contiguous segments costs a few bytes per timeline, and one with a hole every
 * other segment about 16 bytes per hole. Names are parsed on the way in and printed only at
 * the edges (wal_segment_name). The listing callback copies nothing but numbers, so a
 * listing streamed page by page (S3 ListObjectsV2) never holds its keys.
 *
 * The segment size must be known before loading (it turns names into segment numbers); a
 * name whose segment part is impossible for that size is counted as stray, with evidence.
 */
#ifndef PGATTEST_CATALOG_WAL_INDEX_H
#define PGATTEST_CATALOG_WAL_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "storage/storage.h"

typedef struct seg_range {
    uint64_t first, last; /* inclusive segment numbers */
} seg_range;

typedef struct wal_partial {
    uint64_t segno;
    int64_t mtime;
} wal_partial;

typedef struct wal_timeline {
    uint32_t timeline;
    seg_range *ranges;      /* sorted, disjoint, non-adjacent after wal_index_finish */
    size_t n_ranges, cap_ranges;
    uint64_t n_segments;
    bool has_history;       /* <TLI>.history.lzo is in the archive */
    wal_partial *partials;  /* .partial files, sorted by segment number */
    size_t n_partials, cap_partials;
    int64_t newest_mtime;   /* of its segments */
    bool sorted;            /* listing delivered its segments in order so far */
} wal_timeline;

typedef struct wal_backup_history {
    uint32_t timeline;
    uint64_t segno;
    uint32_t offset;
} wal_backup_history;

#define WAL_INDEX_STRAY_EVIDENCE 10

typedef struct wal_index {
    uint32_t seg_size;
    wal_timeline *timelines; /* sorted by timeline after wal_index_finish */
    size_t n_timelines, cap_timelines;
    wal_backup_history *backup_histories;
    size_t n_backup_histories, cap_backup_histories;
    uint64_t n_objects;
    uint64_t n_stray;                              /* keys that are not WAL file names */
    char *stray_examples[WAL_INDEX_STRAY_EVIDENCE]; /* first few, malloc'd */
    /* The newest segment by upload time: the achieved RPO. */
    int64_t newest_mtime;
    uint32_t newest_timeline;
    uint64_t newest_segno;
    bool has_segments;
} wal_index;

/* Start an empty index for segment size seg_size (must be valid). */
void wal_index_init(wal_index *ix, uint32_t seg_size);
/* Add one object by its key relative to wal_005/ ("0000000100000000000000A1.lzo"). Keys
 * without ".lzo" or that are not WAL names are stray. PA_ERR only on out of memory. */
int wal_index_add(wal_index *ix, const char *name, uint64_t size, int64_t mtime);
/* Sort and merge what arrived out of order. Call once after the last add. */
void wal_index_finish(wal_index *ix);
/* List wal_005/ of st and build the index (init + add + finish). */
int wal_index_load(storage *st, uint32_t seg_size, wal_index *ix);
void wal_index_free(wal_index *ix);

const wal_timeline *wal_index_timeline(const wal_index *ix, uint32_t timeline);
bool wal_timeline_has(const wal_timeline *tl, uint64_t segno);
/* Last segment number present, false when the timeline has none. */
bool wal_timeline_last(const wal_timeline *tl, uint64_t *segno);
/* Last segment present within [lo, hi]; false when none. */
bool wal_timeline_last_within(const wal_timeline *tl, uint64_t lo, uint64_t hi, uint64_t *segno);

/* Call fn(arg, first, last) for every maximal run of segments MISSING from tl within
 * [lo, hi] (tl may be NULL: everything is missing). Stops at the first non-zero return. */
typedef int (*wal_missing_fn)(void *arg, uint64_t first, uint64_t last);
int wal_timeline_missing(const wal_timeline *tl, uint64_t lo, uint64_t hi, wal_missing_fn fn,
                         void *arg);

#endif
