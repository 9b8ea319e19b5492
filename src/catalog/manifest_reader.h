/*
 * manifest_reader.h — a base backup's manifest.json: every file and directory of the backup, in
 * tar order, with the SHA-256 of the bytes stored in the tar.
 *
 *   {"pgattest_manifest": 1, "backup": "<name>", "files": [
 *     {"path": "global/pg_control", "type": "file", "size": 8192, "mode": 384,
 *      "mtime": 1700000000, "sha256": "<hex>", "part": 0},
 *     {"path": "base", "type": "dir", "mode": 448, "part": 0}, ...]}
 *
 * `part` is the index of the tar part holding the entry. Other types ("symlink", ...) are
 * kept with their type name; only files carry size and sha256.
 */
#ifndef PGATTEST_CATALOG_MANIFEST_READER_H
#define PGATTEST_CATALOG_MANIFEST_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/sha256.h"

typedef enum manifest_item_type { MANIFEST_ITEM_FILE, MANIFEST_ITEM_DIR, MANIFEST_ITEM_OTHER } manifest_item_type;

typedef struct manifest_item {
    char *path;          /* relative, no "./", no trailing '/' */
    manifest_item_type type;
    uint64_t size;
    char sha256[SHA256_HEX_LEN + 1];
    uint32_t part;
    bool seen;           /* for the verifier: met in the tar */
} manifest_item;

typedef struct manifest {
    manifest_item *entries; /* sorted by path after parsing (for lookup) */
    size_t n;
} manifest;

#define MANIFEST_MAX_BYTES (256u * 1024 * 1024)

/* Parse; `where` names the object in messages. Duplicate paths are an error. */
int manifest_parse(const char *json, size_t len, const char *where, manifest *out);
void manifest_free(manifest *m);
manifest_item *manifest_find(const manifest *m, const char *path);
/* "./base/1/" -> "base/1", "./" -> "." in place (path must have room for 2 bytes). */
void manifest_normalize_path(char *path);

#endif
