/*
 * manifest_index.h — a base backup's manifest.json, loaded for checking a restore.
 *
 * manifest.json (written by backup-push; absent from WAL-E backups):
 *   {"pgattest_manifest": 1, "backup": "<name>",
 *    "files": [{"path": "global/pg_control", "type": "file", "size": 8192, "mode": 384,
 *               "mtime": 1700000000, "sha256": "<hex>", "part": 0},
 *              {"path": "base", "type": "dir", "mode": 448, "part": 0},
 *              {"path": "x", "type": "symlink", "target": "...", "part": 0}, ...]}
 * Every tar member in tar order; `part` is the 0-based index of the part holding it.
 * Paths are normalized as tar member names are (tar_member_normalize), so "./base" and
 * "base" are the same entry.
 */
#ifndef PGATTEST_CATALOG_MANIFEST_INDEX_H
#define PGATTEST_CATALOG_MANIFEST_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/sha256.h"


typedef enum manifest_index_type { MI_FILE, MI_DIR, MI_SYMLINK } manifest_index_type;

typedef struct manifest_index_entry {
    char *path;        /* normalized */
    manifest_index_type type;
    uint64_t size;     /* files */
    char sha256[SHA256_HEX_LEN + 1]; /* files */
    char *target;      /* symlinks; NULL otherwise */
    uint32_t part;
    bool seen;         /* set by the restore when the member was extracted */
} manifest_index_entry;

typedef struct manifest_index {
    manifest_index_entry *entries; /* sorted by path for lookup */
    size_t n;
} manifest_index;

const char *manifest_index_type_name(manifest_index_type t);
/* Parse manifest JSON for backup `backup` (its "backup" key must match). `where` names the
 * object in messages. The index owns everything; free with manifest_index_free. */
int manifest_index_parse(const char *json, size_t len, const char *where, const char *backup,
                         manifest_index *out);
void manifest_index_free(manifest_index *m);
/* The entry for a normalized path, or NULL. */
manifest_index_entry *manifest_index_find(const manifest_index *m, const char *path);

#endif
