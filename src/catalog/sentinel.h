/*
 * sentinel.h — a base backup's stop sentinel: basebackups_005/<name>_backup_stop_sentinel.json.
 *
 * Written LAST by backup-push, so its presence means the backup is complete. It keeps WAL-E's
 * keys (so WAL-E can read our backups and we can read WAL-E's) and adds ours:
 *
 *   WAL-E's keys                      meaning
 *   wal_segment_backup_stop           24-hex name of the segment holding the stop LSN
 *   wal_segment_offset_backup_stop    offset of the stop LSN in it, decimal, zero-padded to 8
 *   expanded_size_bytes               total size of the files backed up
 *   spec                              {"base_prefix": PGDATA, "tablespaces": ["16384", ...],
 *                                      "16384": {"loc": "/path", "link": "pg_tblspc/16384"}}
 *   ours (absent from WAL-E's sentinels: has_extended == false)
 *   pgattest_format                   1
 *   start_lsn, stop_lsn               "X/X"
 *   timeline                          timeline of the start (and stop) LSN
 *   start_time, stop_time             ISO 8601 UTC "2026-11-24T20:00:00Z"
 *   system_identifier                 decimal string (does not fit a JSON double)
 *   server_version                    server_version_num, e.g. 150018
 *   wal_segment_size                  bytes
 *   compressed_size_bytes             sum of the parts' sizes
 *   vanished_files                    files deleted by the server between listing and reading
 *                                     (skipped; WAL replay recreates what matters); optional
 *   parts                             [{"name": "part_00000000.tar.lzo", "size": N,
 *                                       "sha256": "<hex of the stored bytes>"}, ...]
 *   manifest                          {"name": "manifest.json", "size": N, "sha256": "..."}
 *
 * Backup names are WAL-E's: base_<start segment>_<start offset, decimal, 8 digits>.
 */
#ifndef PGATTEST_CATALOG_SENTINEL_H
#define PGATTEST_CATALOG_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/sha256.h"

#define SENTINEL_SUFFIX "_backup_stop_sentinel.json"
#define SENTINEL_FORMAT 1

typedef struct backup_part {
    char *name;   /* "part_00000000.tar.lzo" */
    uint64_t size;
    char sha256[SHA256_HEX_LEN + 1];
} backup_part;

typedef struct backup_tablespace {
    char *oid;      /* directory name under pg_tblspc */
    char *location; /* where it lived on the backed-up server */
} backup_tablespace;

typedef struct sentinel {
    /* WAL-E's */
    char stop_segment[25];
    uint32_t stop_offset;
    uint64_t expanded_size;
    char *base_prefix;            /* may be NULL */
    backup_tablespace *tablespaces;
    size_t n_tablespaces;
    /* ours */
    bool has_extended;
    uint64_t start_lsn, stop_lsn;
    uint32_t timeline;
    char start_time[32], stop_time[32];
    uint64_t system_identifier;
    uint32_t server_version;
    uint32_t wal_segment_size;
    uint64_t compressed_size;
    uint64_t vanished_files;
    backup_part *parts;
    size_t n_parts;
    backup_part manifest;         /* name NULL when absent */
} sentinel;

/* Parse sentinel JSON. `where` names the object in messages. On success *out is filled and
 * owned by the caller (sentinel_free). WAL-E sentinels parse with has_extended = false. */
int sentinel_parse(const char *json, size_t len, const char *where, sentinel *out);
/* Serialize (pretty JSON). Returns malloc'd NUL-terminated text, caller frees; NULL on error. */
char *sentinel_to_json(const sentinel *s);
void sentinel_free(sentinel *s);

/* "base_000000010000000000000002_00000040" from the start segment name and offset. */
void backup_name_format(char *out, size_t len, const char *start_segment, uint32_t start_offset);
/* Parse a backup name; false if it is not one. */
bool backup_name_parse(const char *name, char start_segment[25], uint32_t *start_offset);

#endif
