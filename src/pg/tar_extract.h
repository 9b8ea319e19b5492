/*
 * tar_extract.h — restore the tar parts of a base backup into a directory, safely.
 *
 * One tar_restore is shared by the threads restoring the parts of one backup. Each part is a
 * tar stream pulled through a read function (fed by storage → SHA-256 → lzop decompress)
 * into libarchive's reader, and written with libarchive's disk writer using its secure
 * extraction flags (no "..", no writing through symlinks) plus our own rules on top
 * (tar_member_path.h): no absolute names, no symlink pointing out of the target, no hard
 * links or special files, no member written twice, nothing outside the target directory or
 * the tablespace directories.
 *
 * Members "pg_tblspc/<oid>/..." of a tablespace listed in the backup go to that
 * tablespace's directory instead (WAL-E's layout); the caller creates the pg_tblspc/<oid>
 * symlinks beforehand.
 *
 * With a manifest, every file's size and SHA-256 is checked as it is written, every member
 * must be in the manifest with the same type and part, and tar_restore_check_complete()
 * reports manifest entries that never arrived. Without one (WAL-E backups), the lzop block
 * checksums are all there is.
 */
#ifndef PGATTEST_PG_TAR_EXTRACT_H
#define PGATTEST_PG_TAR_EXTRACT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog/manifest_index.h"

struct archive;

typedef struct tar_tablespace_target {
    const char *oid;    /* directory name under pg_tblspc */
    const char *target; /* absolute directory the tablespace is restored into */
} tar_tablespace_target;

typedef struct tar_restore {
    const char *root;                         /* absolute target directory */
    const tar_tablespace_target *tablespaces; /* not owned */
    size_t n_tablespaces;
    manifest_index *manifest;                 /* not owned; NULL: none (WAL-E) */
    /* internal */
    pthread_mutex_t lock;                     /* manifest `seen` flags, `written` */
    char **written;                           /* without a manifest: non-directories seen */
    size_t n_written, cap_written;
    atomic_bool cancel;                       /* another part failed: stop early */
    atomic_uint_fast64_t files, dirs, symlinks, bytes;
} tar_restore;

/* Pull up to len bytes of the tar stream; 0 at its end; -1 with err_msg() set. */
typedef ssize_t (*tar_read_fn)(void *arg, void *data, size_t len);

int tar_restore_init(tar_restore *r, const char *root, const tar_tablespace_target *ts,
                     size_t n_ts, manifest_index *manifest);
void tar_restore_destroy(tar_restore *r);

/* A libarchive disk writer with our flags. Create them in the main thread before starting
 * workers: archive_write_disk_new() changes the process umask for a moment. */
struct archive *tar_disk_writer_new(void);
/* Close (applies deferred directory permissions and times) and free. */
int tar_disk_writer_close(struct archive *disk);

/* Restore one tar stream (part index `part`, called `part_name` in messages) with `disk`.
 * Reads the stream to its end. PA_OK or PA_ERR with a message naming the member. */
int tar_restore_part(tar_restore *r, struct archive *disk, uint32_t part, const char *part_name,
                     tar_read_fn read, void *read_arg);

/* After every part: PA_ERR naming a manifest entry that was not in any part. */
int tar_restore_check_complete(tar_restore *r);

#endif
