/*
 * tar_parts.h — a data directory streamed into tar_partitions/part_NNNNNNNN.tar.lzo.
 *
 * The calling thread walks the directory (tablespaces followed, PostgreSQL's exclusions
 * applied) and cuts the list of members into parts of about `partition_size` bytes of tar
 * input; `jobs` worker threads each write one part at a time: file → tar (libarchive) →
 * lzop → SHA-256 → storage writer (STORAGE_VERIFY). Each part is a complete tar archive.
 * Manifest entries are appended to the manifest in part order as parts complete.
 *
 * Memory is bounded whatever the size of the cluster: at most `jobs` parts are queued, a part
 * holds at most TAR_PARTS_MAX_MEMBERS members, a worker does not start a part more than
 * 2 x jobs parts ahead of the oldest unfinished one (so at most that many manifest fragments
 * wait for their turn), and each worker has fixed-size buffers.
 *
 * Files that change while being read are read up to the size they had when opened (a file
 * that shrank is padded with zeros, as pg_basebackup does; WAL replay repairs it); a file
 * that disappears before it is opened is skipped and counted.
 */
#ifndef PGATTEST_BACKUP_TAR_PARTS_H
#define PGATTEST_BACKUP_TAR_PARTS_H

#include <stddef.h>
#include <stdint.h>

#include "catalog/manifest_writer.h"
#include "catalog/sentinel.h"
#include "storage/storage.h"

#define TAR_PARTS_MAX_MEMBERS 10000
/* Parts are backup-fetch's and verify's unit of parallelism: 256 MiB keeps both cores busy
 * on restore for databases of a few GB (1 GiB parts restored at 0.92x pgBackRest's speed,
 * 128 MiB at 1.12x on the same 1 GB dataset), at the cost of more objects. */
#define TAR_PARTS_DEFAULT_SIZE (256ull * 1024 * 1024)

typedef struct tar_parts tar_parts;

/* A file added from memory (backup_label, tablespace_map). */
typedef struct tar_content {
    const char *path;
    const char *data;
    size_t len;
} tar_content;

/* Start `jobs` workers writing parts of backup `name` into st. The manifest writer must be
 * begun; tar_parts appends to it. Returns NULL with err_msg() set. */
tar_parts *tar_parts_start(storage *st, const char *name, unsigned jobs, uint64_t partition_size,
                           manifest_writer *manifest);
/* Walk pgdata and queue every member. Tablespaces found under pg_tblspc are added to
 * `tablespaces` (oid + location), for the sentinel's spec. */
int tar_parts_add_data_directory(tar_parts *tp, const char *pgdata, sentinel *tablespaces);
/* Wait until every queued part is stored (workers end). Fails if any part failed. */
int tar_parts_wait(tar_parts *tp);
/* Write one more (last) part holding files from memory, in the calling thread. Call after
 * tar_parts_wait. */
int tar_parts_add_content_part(tar_parts *tp, const tar_content *files, size_t n);
/* The stored parts in order, expanded size (file bytes) and vanished files. The parts array
 * is moved to the caller (who frees each name and the array, e.g. through sentinel_free). */
void tar_parts_result(tar_parts *tp, backup_part **parts, size_t *n_parts, uint64_t *expanded,
                      uint64_t *vanished);
/* Stops the workers if still running (after a failure: unfinished parts are discarded). */
void tar_parts_free(tar_parts *tp);

#endif
