/*
 * deep_verify.h — `verify --deep`: download every object and check what is inside.
 *
 * WAL objects (wal_005/): the lzop container (header and every block checksum), the
 * decompressed size (a full segment for segments), and the page headers of segments and
 * .partial files (wal_pages.h). Backups: every part's stored size and SHA-256 against the
 * sentinel, the manifest's own size and SHA-256, then each part is decompressed and read as
 * tar (libarchive) and every member's size and SHA-256 compared with the manifest; members
 * missing from a part or not in the manifest are reported. WAL-E backups (no hashes) get
 * the lzop and tar structure checks.
 *
 * Objects are checked by `jobs` threads with a bounded queue fed from the listing, so memory
 * does not grow with the repository. What passed is remembered in the state file (by key,
 * size, mtime and ETag) and skipped next time unless `full`.
 */
#ifndef PGATTEST_AUDIT_DEEP_VERIFY_H
#define PGATTEST_AUDIT_DEEP_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/backups.h"
#include "report/findings.h"
#include "storage/storage.h"

typedef struct deep_options {
    unsigned jobs;
    bool full;
    const char *state_path;     /* NULL: no state kept */
    uint32_t seg_size;
    uint64_t system_identifier; /* 0: unknown (WAL-E) — learned from the first segment */
    uint32_t server_version;    /* 0: unknown — any known page magic is accepted */
} deep_options;

typedef struct deep_stats {
    uint64_t checked, skipped, failed;
    uint64_t bytes;
} deep_stats;

/* Adds findings under wal.integrity and backup.integrity. */
int deep_verify(storage *st, const backup_list *backups, const deep_options *o, report *r,
                deep_stats *wal_stats, deep_stats *backup_stats);

#endif
