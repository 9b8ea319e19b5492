/*
 * retention.h — which base backups and WAL files a `delete` removes (pure logic, no I/O).
 *
 * Backups are ordered by time (stop time from our sentinel, else the sentinel's modification
 * time, as WAL-E's sentinels carry none). Rules:
 *   retain N          keep the N newest complete backups (N >= 1)
 *   before NAME       keep NAME (a complete backup) and every complete backup newer than it
 *   before TIME       keep complete backups that finished at or after TIME — and always the
 *                     newest complete backup, so a delete never leaves no backup at all
 * Incomplete backups (no or broken sentinel) are deleted only when they start before the
 * oldest retained backup's start; newer ones may be a backup-push still running.
 *
 * WAL: the floor is the lowest start position (log, seg) of any retained backup. A segment,
 * .partial or .backup file of ANY timeline below the floor is deleted; everything at or above
 * it is kept on every timeline (a retained backup's timeline continues there, and a newer
 * timeline that branched earlier still has its WAL at or above the floor); .history files
 * and names that are not WAL are always kept. Positions compare as (log, seg), which orders
 * segments the same way whatever the segment size.
 */
#ifndef PGATTEST_CATALOG_RETENTION_H
#define PGATTEST_CATALOG_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct retention_backup {
    const char *name;   /* base_<segment>_<offset> */
    bool complete;
    int64_t time;       /* seconds since the epoch; used for complete backups */
} retention_backup;

typedef enum retention_kind { RETAIN_COUNT, RETAIN_BEFORE_NAME, RETAIN_BEFORE_TIME } retention_kind;

typedef struct retention_rule {
    retention_kind kind;
    unsigned count;     /* RETAIN_COUNT */
    const char *name;   /* RETAIN_BEFORE_NAME */
    int64_t time;       /* RETAIN_BEFORE_TIME */
} retention_rule;

typedef struct retention_plan {
    bool *delete_backup; /* per input backup; malloc'd, free with retention_plan_free */
    size_t n_retained;
    uint32_t floor_log, floor_seg; /* lowest start segment position of a retained backup */
} retention_plan;

/* Decide which backups go. PA_ERR (message set) when there is no complete backup, the rule's
 * backup is unknown or incomplete, or a name does not parse. */
int retention_plan_backups(const retention_backup *backups, size_t n, const retention_rule *rule,
                           retention_plan *out);
void retention_plan_free(retention_plan *p);
/* May the archived WAL file `name` (bare file name, without ".lzo") be deleted under plan? */
bool retention_wal_deletable(const retention_plan *plan, const char *name);

/* "2026-11-24T20:00:00Z" or "2026-11-24" (midnight UTC) -> seconds. false if malformed. */
bool iso8601_utc_parse(const char *text, int64_t *out);

#endif
