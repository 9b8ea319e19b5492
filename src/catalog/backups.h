/*
 * backups.h — the base backups in a repository, from one listing of basebackups_005/.
 *
 * A backup is complete when its stop sentinel exists and parses; a backup directory (parts,
 * manifest) without a sentinel is listed as incomplete and is never restorable. A sentinel
 * that exists but cannot be read or parsed is reported with its error, not skipped.
 */
#ifndef PGATTEST_CATALOG_BACKUPS_H
#define PGATTEST_CATALOG_BACKUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog/sentinel.h"
#include "storage/storage.h"

typedef struct backup_info {
    char name[64];              /* base_<segment>_<offset> */
    char start_segment[25];
    uint32_t start_offset;
    bool complete;              /* sentinel present and valid */
    bool sentinel_present;
    char *sentinel_error;       /* why a present sentinel is unusable (malloc'd) or NULL */
    sentinel meta;              /* valid when complete */
    int64_t sentinel_mtime;     /* seconds; 0 when absent */
    uint64_t stored_bytes;      /* sum of the object sizes under the backup's directory */
    uint32_t stored_objects;
} backup_info;

typedef struct backup_list {
    backup_info *items;         /* sorted by name (WAL-E order: timeline, then position) */
    size_t n;
} backup_list;

/* List and parse every backup. The list owns everything; free with backup_list_free. */
int backup_list_load(storage *st, backup_list *out);
void backup_list_free(backup_list *l);
/* A backup by name, or the newest complete one for "LATEST" (by stop time, then sentinel
 * time). NULL with err_msg() set when there is none. */
const backup_info *backup_list_find(const backup_list *l, const char *name_or_latest);

/* Key helpers: out must have room for 256 bytes. */
void backup_sentinel_key(char *out, size_t len, const char *name);
void backup_object_key(char *out, size_t len, const char *name, const char *relative);

#endif
