/*
 * fsutil.h — small POSIX file helpers with the durability rules the engine relies on.
 */
#ifndef PGATTEST_COMMON_FSUTIL_H
#define PGATTEST_COMMON_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* "a" + "/" + "b" (no doubled slash). Returns malloc'd string (caller frees), NULL on OOM. */
char *path_join(const char *a, const char *b);
/* Directory part of path ("." when none). Returns malloc'd string (caller frees). */
char *path_dirname(const char *path);
/* Last component of path; points into `path`. */
const char *path_basename(const char *path);

/* Write all bytes, retrying on EINTR and short writes. PA_OK or PA_ERR (message names `what`). */
int write_all(int fd, const void *data, size_t len, const char *what);
/* Read up to len bytes (short only at EOF). Returns bytes read, or -1 with message set. */
ssize_t read_full(int fd, void *data, size_t len, const char *what);

/* fsync a directory so a rename/creation inside it is durable. */
int fsync_dir(const char *dir);
/* mkdir -p, fsyncing each parent whose entries change so new directories survive a crash. */
int mkdir_durable(const char *dir, mode_t mode);

#endif
