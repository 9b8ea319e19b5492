/*
 * verify.h — what `pgattest verify` checks, as a reusable family of checks.
 *
 * verify_repository() lists the repository once per area (basebackups_005/, wal_005/),
 * downloads and parses the timeline history files, analyses WAL continuity for every base
 * backup and, with deep, downloads and checks every object. Every problem becomes a finding
 * in `r` under a stable check id and the work goes on; a check that could not run is
 * UNKNOWN, never OK.
 *
 *   backup.completeness  sentinel present and valid; start..stop WAL archived (restorable)
 *   backup.age           age of the newest complete backup (--max-backup-age)
 *   wal.history          a readable .history for every timeline > 1 that has WAL
 *   wal.continuity       gaps on the recovery paths of the backups (waivable)
 *   wal.rpo              age of the newest archived segment (--max-wal-age)
 *   catalog.stray        objects under wal_005/ that are not WAL
 *   wal.integrity        (deep) lzop checksums, size, page headers of every WAL object
 *   backup.integrity     (deep) parts against the sentinel, files against the manifest
 */
#ifndef PGATTEST_AUDIT_VERIFY_H
#define PGATTEST_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/waiver.h"
#include "report/findings.h"
#include "storage/storage.h"

struct cJSON;

typedef struct verify_options {
    bool deep, full;
    unsigned jobs;                   /* deep: parallel downloads (>= 1) */
    uint32_t in_progress_segments;   /* see continuity.h */
    const waiver_list *waivers;      /* may be NULL */
    int64_t now;                     /* injectable clock */
    int64_t max_wal_age;             /* seconds; 0 = report only */
    int64_t max_backup_age;          /* seconds; 0 = report only */
    const char *state_path;          /* deep: verified-object state file; NULL = none */
} verify_options;

/* Run every check into r. *result receives the JSON model of what was found ({wal,
 * backups}), owned by the caller; the checks are added by the caller from r. Returns PA_OK
 * when the run finished (whatever it found), PA_ERR only on out of memory. */
int verify_repository(storage *st, const verify_options *o, report *r, struct cJSON **result);

#endif
