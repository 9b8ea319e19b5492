/*
 * continuity.h — which WAL each base backup needs, and how far it can recover.
 *
 * For a backup on timeline T with start and stop LSN:
 *  - restore: every segment from the start segment to the stop segment must be archived,
 *    or the backup is not restorable;
 *  - recovery: from the stop segment on, follow T and every later timeline X whose history
 *    says it branched from T at or after the stop LSN. On the path T -> ... -> X, segment n
 *    is read from the newest path timeline that had begun by segment n — exactly the rule
 *    of PostgreSQL's XLogFileReadAnyTLI — so the parent's segments after the switch are
 *    never asked for (the false MISSING_LOST of wal-g issue 1390) and the switch segment
 *    comes from the child. Each path ends at the newest segment archived on it; every
 *    segment up to there must be present. The backup is recoverable from its stop LSN
 *    until the first missing segment on the path to the newest reachable timeline (what
 *    recovery_target_timeline = 'latest' follows).
 * Gaps are ranges of segment numbers per timeline. A gap that ends within
 * `in_progress_segments` segments of the newest segment on its path may be archiving still
 * in progress (parallel uploads finish out of order). Waivers of "wal.continuity" mark gaps
 * they cover as waived; a waived gap is still listed.
 *
 * Cost: O(timelines x log(ranges) + gaps) per backup, gaps capped by max_gaps; no
 * per-segment walk.
 */
#ifndef PGATTEST_CATALOG_CONTINUITY_H
#define PGATTEST_CATALOG_CONTINUITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/waiver.h"
#include "catalog/wal_index.h"
#include "pg/timeline_history.h"

#define CONTINUITY_CHECK_ID "wal.continuity"

typedef struct continuity_input {
    const char *name;       /* not copied */
    uint32_t timeline;
    uint64_t start_lsn, stop_lsn;
} continuity_input;

typedef struct wal_gap {
    uint32_t timeline;
    uint64_t first, last;       /* missing segment numbers, inclusive */
    bool blocks_restore;        /* lies within start..stop: the backup cannot be restored */
    bool in_progress;           /* near the newest segment: may still be archiving */
    const waiver *waived_by;    /* a valid waiver, or NULL */
    const waiver *expired;      /* an expired waiver that would have covered it, or NULL */
} wal_gap;

typedef struct timeline_reach {
    uint32_t timeline;          /* a reachable target timeline */
    bool restorable;            /* start..stop complete on this path */
    uint64_t until_lsn;         /* recoverable up to here (start of first missing segment,
                                 * or the end of the newest segment on the path) */
    uint32_t until_timeline;    /* timeline of that position */
    bool to_end;                /* no gap: reaches the newest archived segment on the path */
} timeline_reach;

typedef struct backup_continuity {
    bool restorable;
    uint64_t recoverable_from;  /* stop LSN */
    uint64_t recoverable_until; /* on the newest reachable timeline; valid when restorable */
    uint32_t until_timeline;
    uint32_t target_timeline;   /* newest reachable timeline */
    wal_gap *gaps;              /* sorted by (timeline, first), each once */
    size_t n_gaps;
    bool gaps_truncated;        /* more than max_gaps on some path: only the first listed */
    timeline_reach *reach;      /* one per reachable timeline, ascending */
    size_t n_reach;
} backup_continuity;

typedef struct continuity_options {
    uint32_t seg_size;
    uint32_t in_progress_segments;
    const waiver_list *waivers; /* may be NULL */
    int64_t now;                /* seconds since the epoch (injectable clock) */
    size_t max_gaps;            /* per path; 0 = all. Bounds the work and the report on an
                                 * archive with a hole every other segment. */
} continuity_options;

/* histories: parsed history files (any order), those that could be read. */
int continuity_analyze(const wal_index *ix, const timeline_history *histories,
                       size_t n_histories, const continuity_input *backup,
                       const continuity_options *opts, backup_continuity *out);
void continuity_free(backup_continuity *c);

#endif
