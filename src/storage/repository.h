/*
 * repository.h — which repository a command works on.
 *
 * --prefix wins, then PGATTEST_PREFIX, then WALE_S3_PREFIX (so a WAL-E envdir works as is).
 */
#ifndef PGATTEST_STORAGE_REPOSITORY_H
#define PGATTEST_STORAGE_REPOSITORY_H

#include "storage/storage.h"

/* Open the repository. option_prefix may be NULL. Returns NULL with a one-line message that
 * names the variable or option the prefix came from. Caller closes with storage_close(). */
storage *repository_open(const char *option_prefix);

/* Key layout (WAL-E's). */
#define REPO_WAL_DIR "wal_005/"
#define REPO_BASEBACKUPS_DIR "basebackups_005/"

#endif
