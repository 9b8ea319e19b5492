/*
 * storage.h — one interface to a repository, whatever holds it (local directory, S3).
 *
 * Keys are relative to the repository prefix and use '/' ("wal_005/0000...0001.lzo").
 * Commands talk only to this interface; drivers (fs.c, s3.c) fill the ops table.
 * Operations may be called from several threads at once on the same handle.
 *
 * Writing: storage_open_write() returns a sink. Bytes pushed into it are invisible under the
 * key until sink_finish() succeeds, which makes the object durable and visible atomically;
 * sink_free() without a successful finish discards everything. With STORAGE_NO_OVERWRITE,
 * finish fails with PA_EXISTS (and keeps the existing object) if the key already exists.
 * With STORAGE_VERIFY, finish reads the stored object back and checks it against what was
 * written before reporting success.
 */
#ifndef PGATTEST_STORAGE_STORAGE_H
#define PGATTEST_STORAGE_STORAGE_H

#include <stdint.h>

#include "io/sink.h"

typedef struct storage storage;

typedef struct storage_entry {
    const char *key;     /* relative to the prefix; valid during the callback only */
    uint64_t size;
    int64_t mtime;       /* seconds since the epoch */
    const char *etag;    /* driver-specific change token ("" when none) */
} storage_entry;

/* Called once per object, in key order. Return PA_OK to go on, anything else stops the
 * listing and becomes its result. */
typedef int (*storage_list_fn)(void *arg, const storage_entry *entry);

enum storage_write_flags {
    STORAGE_NO_OVERWRITE = 1 << 0,
    STORAGE_VERIFY = 1 << 1,
};

typedef struct storage_ops {
    const char *scheme; /* "file", "s3" */
    int (*open_write)(storage *st, const char *key, unsigned flags, sink **out);
    /* Stream bytes [offset, offset+length) (length 0 = to the end) into dst; dst is not
     * finished. PA_NOT_FOUND when the key does not exist. */
    int (*read)(storage *st, const char *key, uint64_t offset, uint64_t length, sink *dst);
    int (*stat)(storage *st, const char *key, storage_entry *out); /* out->key unset */
    int (*list)(storage *st, const char *prefix, storage_list_fn fn, void *arg);
    int (*remove)(storage *st, const char *const *keys, size_t n); /* missing keys are fine */
    void (*close)(storage *st);
} storage_ops;

struct storage {
    const storage_ops *ops;
    char *url; /* the prefix as given, for messages (never contains secrets) */
};

/* Open the repository named by url ("file:///abs/path" or "s3://bucket/path").
 * Returns NULL with err_msg() set. Caller closes with storage_close(). */
storage *storage_open(const char *url);
void storage_close(storage *st);

static inline int storage_open_write(storage *st, const char *key, unsigned flags, sink **out)
{
    return st->ops->open_write(st, key, flags, out);
}
static inline int storage_read(storage *st, const char *key, uint64_t offset, uint64_t length,
                               sink *dst)
{
    return st->ops->read(st, key, offset, length, dst);
}
static inline int storage_stat(storage *st, const char *key, storage_entry *out)
{
    return st->ops->stat(st, key, out);
}
static inline int storage_list(storage *st, const char *prefix, storage_list_fn fn, void *arg)
{
    return st->ops->list(st, prefix, fn, arg);
}
static inline int storage_remove(storage *st, const char *const *keys, size_t n)
{
    return st->ops->remove(st, keys, n);
}

/* Driver constructors (used by storage_open). */
storage *fs_storage_open(const char *url, const char *root);
/* url is "s3://bucket[/prefix]"; configuration comes from the environment (see s3.c). */
storage *s3_storage_open(const char *url);

#endif
