/*
 * manifest_writer.h — basebackups_005/<name>/manifest.json, written as a stream.
 *
 * Format (backup-fetch verifies against exactly this):
 *   {"pgattest_manifest": 1, "backup": "<name>", "files": [
 *     {"path": "global/pg_control", "type": "file", "size": 8192, "mode": 384,
 *      "mtime": 1700000000, "sha256": "<hex of the bytes stored in the tar>", "part": 0},
 *     {"path": "base", "type": "dir", "mode": 448, "part": 0},
 *     {"path": "some/link", "type": "symlink", "target": "...", "part": 0}
 *   ]}
 * One entry per tar member, in tar order; paths as stored in the tar (tablespaces under
 * pg_tblspc/<oid>/); part is the 0-based index of the tar part holding the member.
 *
 * Entries are formatted into text fragments (one per part, built by the thread writing that
 * part) and the fragments are appended to the manifest in part order, so no tree of all
 * entries is ever held in memory.
 */
#ifndef PGATTEST_CATALOG_MANIFEST_WRITER_H
#define PGATTEST_CATALOG_MANIFEST_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "io/sink.h"

#define MANIFEST_NAME "manifest.json"
#define MANIFEST_FORMAT 1

typedef enum manifest_type { MANIFEST_FILE, MANIFEST_DIR, MANIFEST_SYMLINK } manifest_type;

typedef struct manifest_entry {
    const char *path;
    manifest_type type;
    uint64_t size;         /* files */
    unsigned mode;         /* files and directories: permission bits */
    int64_t mtime;         /* files */
    const char *sha256;    /* files: 64 hex */
    const char *target;    /* symlinks */
    unsigned part;
} manifest_entry;

/* Append one entry to a fragment. */
int manifest_entry_append(buf *fragment, const manifest_entry *e);

typedef struct manifest_writer {
    sink *out;            /* not owned */
    uint64_t entries;
} manifest_writer;

/* Write the opening of the manifest for backup `name`. */
int manifest_writer_begin(manifest_writer *w, sink *out, const char *name);
/* Append a fragment's entries (in part order). */
int manifest_writer_fragment(manifest_writer *w, const buf *fragment);
/* Write the closing; the caller then finishes the sink. */
int manifest_writer_end(manifest_writer *w);

/* JSON string body for s (no quotes): escapes '"', '\\' and control characters. */
int json_escape_append(buf *b, const char *s);

#endif
