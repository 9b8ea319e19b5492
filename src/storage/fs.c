/*
 * fs.c — the file:// storage driver: a repository in a local (or mounted) directory.
 *
 * An object is written to a hidden temporary file beside its final name, fsynced, optionally
 * read back and checked, then renamed (or, for no-overwrite writes, hard-linked, which fails
 * if the name exists) and the directory fsynced. So no partial object is ever visible under
 * its final name, and a finished write survives a crash.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"
#include "io/checksum.h"
#include "storage/storage.h"

#define TEMP_PREFIX ".pgattest-tmp."

typedef struct fs_storage {
    storage base;
    char *root;
} fs_storage;

/* Keys come from our own code, but a corrupt listing or a hostile name must never make us
 * touch a file outside the repository. */
static int check_key(const char *key)
{
    if (!*key || key[0] == '/')
        return err_set("invalid object key \"%s\"", key);
    for (const char *p = key; *p;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.') ||
            strncmp(p, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0)
            return err_set("invalid object key \"%s\"", key);
        p += n;
        if (*p == '/')
            p++;
    }
    return PA_OK;
}

static char *full_path(fs_storage *fs, const char *key)
{
    char *p = path_join(fs->root, key);
    if (!p)
        err_set("out of memory");
    return p;
}

/* ---------------- writer ---------------- */

typedef struct fs_writer {
    sink base;
    unsigned flags;
    int fd;
    char *path;       /* final */
    char *temp_path;
    char *dir;
    int verify;       /* read back before publishing */
    uint32_t adler;   /* Adler-32 of what was written, when verifying */
    uint64_t bytes;
} fs_writer;

static int fs_writer_write(sink *s, const void *data, size_t len)
{
    fs_writer *w = (fs_writer *)s;
    if (write_all(w->fd, data, len, w->temp_path) != PA_OK) {
        if (errno == ENOSPC)
            err_prefix("repository full");
        return PA_ERR;
    }
    w->bytes += len;
    if (w->verify)
        w->adler = adler32_update(w->adler, data, len);
    return PA_OK;
}

/* Read the temporary file back and compare it with what was written, before it gets its
 * name. Adler-32 (not a cryptographic hash): this guards against short or damaged writes,
 * not against an adversary, and it runs at memory speed. */
static int verify_written(fs_writer *w)
{
    enum { CHUNK = 256 * 1024 };
    char *chunk = malloc(CHUNK);
    if (!chunk)
        return err_set("out of memory");
    int rc = PA_ERR;
    uint32_t adler = ADLER32_INIT;
    uint64_t bytes = 0;
    if (lseek(w->fd, 0, SEEK_SET) != 0) {
        err_errno(errno, "cannot re-read \"%s\"", w->temp_path);
        goto out;
    }
    for (;;) {
        ssize_t n = read_full(w->fd, chunk, CHUNK, w->temp_path);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        adler = adler32_update(adler, chunk, (size_t)n);
        bytes += (uint64_t)n;
    }
    if (bytes != w->bytes || adler != w->adler) {
        err_set("\"%s\": stored bytes differ from the bytes written (%" PRIu64 " of %" PRIu64
                " bytes read back)",
                w->path, bytes, w->bytes);
        goto out;
    }
    rc = PA_OK;
out:
    free(chunk);
    return rc;
}

static int fs_writer_finish(sink *s)
{
    fs_writer *w = (fs_writer *)s;
    if (fsync(w->fd) != 0)
        return err_errno(errno, "cannot fsync \"%s\"", w->temp_path);
    if (w->verify && verify_written(w) != PA_OK)
        return PA_ERR;
    if (close(w->fd) != 0) {
        w->fd = -1;
        return err_errno(errno, "cannot close \"%s\"", w->temp_path);
    }
    w->fd = -1;
    if (w->flags & STORAGE_NO_OVERWRITE) {
        if (link(w->temp_path, w->path) != 0) {
            int e = errno;
            if (e == EEXIST)
                return PA_EXISTS;
            return err_errno(e, "cannot create \"%s\"", w->path);
        }
        unlink(w->temp_path);
    } else if (rename(w->temp_path, w->path) != 0) {
        return err_errno(errno, "cannot rename \"%s\" to \"%s\"", w->temp_path, w->path);
    }
    free(w->temp_path);
    w->temp_path = NULL; /* now the object: destroy must not unlink it */
    return fsync_dir(w->dir);
}

static void fs_writer_destroy(sink *s)
{
    fs_writer *w = (fs_writer *)s;
    if (w->fd >= 0)
        close(w->fd);
    if (w->temp_path)
        unlink(w->temp_path);
    free(w->temp_path);
    free(w->path);
    free(w->dir);
    free(w);
}

static const sink_ops fs_writer_ops = {"fs-writer", fs_writer_write, fs_writer_finish,
                                       fs_writer_destroy};

static int fs_open_write(storage *st, const char *key, unsigned flags, sink **out)
{
    static atomic_uint counter;
    fs_storage *fs = (fs_storage *)st;
    *out = NULL;
    if (check_key(key) != PA_OK)
        return PA_ERR;
    fs_writer *w = calloc(1, sizeof *w);
    if (!w)
        return err_set("out of memory");
    w->base.ops = &fs_writer_ops;
    w->fd = -1;
    w->flags = flags;
    if (!(w->path = full_path(fs, key)) || !(w->dir = path_dirname(w->path)))
        goto fail;
    char name[128];
    snprintf(name, sizeof name, TEMP_PREFIX "%.60s.%ld.%u", path_basename(w->path), (long)getpid(),
             atomic_fetch_add(&counter, 1));
    if (!(w->temp_path = path_join(w->dir, name))) {
        err_set("out of memory");
        goto fail;
    }
    if (mkdir_durable(w->dir, 0755) != PA_OK)
        goto fail;
    w->fd = open(w->temp_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        err_errno(errno, "cannot create \"%s\"", w->temp_path);
        free(w->temp_path); /* nothing to unlink */
        w->temp_path = NULL;
        goto fail;
    }
    w->verify = !!(flags & STORAGE_VERIFY);
    w->adler = ADLER32_INIT;
    *out = &w->base;
    return PA_OK;
fail:
    fs_writer_destroy(&w->base);
    return PA_ERR;
}

/* ---------------- read / stat ---------------- */

static int fs_read(storage *st, const char *key, uint64_t offset, uint64_t length, sink *dst)
{
    fs_storage *fs = (fs_storage *)st;
    if (check_key(key) != PA_OK)
        return PA_ERR;
    char *path = full_path(fs, key);
    if (!path)
        return PA_ERR;
    int rc = PA_ERR;
    char *chunk = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        struct stat root_sb;
        /* "Not found" must be an authoritative answer (wal-fetch turns it into "end of
         * recovery"): a missing repository directory (an unmounted file system, a typo) is
         * an error, not an empty archive. */
        if ((errno == ENOENT || errno == ENOTDIR) &&
            (stat(fs->root, &root_sb) != 0 || !S_ISDIR(root_sb.st_mode)))
            err_set("repository directory \"%s\" does not exist (not mounted? wrong prefix?)",
                    fs->root);
        else if (errno == ENOENT || errno == ENOTDIR)
            rc = PA_NOT_FOUND;
        else
            err_errno(errno, "cannot open \"%s\"", path);
        goto out;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        err_set("\"%s\" is not a regular file", path);
        goto out;
    }
    if (offset && lseek(fd, (off_t)offset, SEEK_SET) < 0) {
        err_errno(errno, "cannot seek in \"%s\"", path);
        goto out;
    }
    enum { CHUNK = 256 * 1024 };
    if (!(chunk = malloc(CHUNK))) {
        err_set("out of memory");
        goto out;
    }
    uint64_t left = length ? length : UINT64_MAX;
    while (left > 0) {
        ssize_t n = read_full(fd, chunk, left < CHUNK ? (size_t)left : CHUNK, path);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        if (sink_write(dst, chunk, (size_t)n) != PA_OK)
            goto out;
        left -= (uint64_t)n;
    }
    if (length && left != 0) {
        err_set("\"%s\": range %" PRIu64 "+%" PRIu64 " ends past the end of the object", path,
                offset, length);
        goto out;
    }
    rc = PA_OK;
out:
    if (fd >= 0)
        close(fd);
    free(chunk);
    free(path);
    return rc;
}

static void fill_entry(const struct stat *sb, storage_entry *e, char *etag, size_t etag_len)
{
    e->size = (uint64_t)sb->st_size;
    e->mtime = (int64_t)sb->st_mtim.tv_sec;
    snprintf(etag, etag_len, "%" PRIx64 "-%lx-%" PRIx64, (uint64_t)sb->st_ino,
             (long)sb->st_mtim.tv_nsec, (uint64_t)sb->st_size);
    e->etag = etag;
}

static int fs_stat(storage *st, const char *key, storage_entry *out)
{
    static _Thread_local char etag[64];
    fs_storage *fs = (fs_storage *)st;
    if (check_key(key) != PA_OK)
        return PA_ERR;
    char *path = full_path(fs, key);
    if (!path)
        return PA_ERR;
    struct stat sb;
    int rc = PA_OK;
    if (stat(path, &sb) != 0) {
        rc = errno == ENOENT || errno == ENOTDIR ? PA_NOT_FOUND
                                                 : err_errno(errno, "cannot stat \"%s\"", path);
    } else if (!S_ISREG(sb.st_mode)) {
        rc = PA_NOT_FOUND; /* a directory is not an object */
    } else {
        fill_entry(&sb, out, etag, sizeof etag);
    }
    free(path);
    return rc;
}

/* ---------------- list ---------------- */

typedef struct listed {
    char *key;
    uint64_t size;
    int64_t mtime;
    char etag[64];
} listed;

typedef struct listing {
    listed *items;
    size_t n, cap;
    const char *prefix;
} listing;

static int add_listed(listing *l, const char *key, const struct stat *sb)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        listed *p = realloc(l->items, cap * sizeof *p);
        if (!p)
            return err_set("out of memory listing the repository");
        l->items = p;
        l->cap = cap;
    }
    listed *it = &l->items[l->n];
    if (!(it->key = strdup(key)))
        return err_set("out of memory listing the repository");
    storage_entry e;
    fill_entry(sb, &e, it->etag, sizeof it->etag);
    it->size = e.size;
    it->mtime = e.mtime;
    l->n++;
    return PA_OK;
}

/* Walk dir (whose key is `rel`, "" for the root) collecting regular files under prefix. */
static int walk(listing *l, const char *dir, const char *rel)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR)
            return PA_OK;
        return err_errno(errno, "cannot list \"%s\"", dir);
    }
    int rc = PA_OK;
    struct dirent *de;
    while (rc == PA_OK && (errno = 0, de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0)
            continue;
        char *key = *rel ? path_join(rel, name) : strdup(name);
        char *path = path_join(dir, name);
        if (!key || !path) {
            rc = err_set("out of memory");
        } else {
            /* Descend only where the prefix can still match. */
            size_t kl = strlen(key), pl = strlen(l->prefix);
            size_t cmp = kl < pl ? kl : pl;
            struct stat sb;
            if (strncmp(key, l->prefix, cmp) != 0) {
                /* not under the prefix */
            } else if (lstat(path, &sb) != 0) {
                if (errno != ENOENT)
                    rc = err_errno(errno, "cannot stat \"%s\"", path);
            } else if (S_ISDIR(sb.st_mode)) {
                rc = walk(l, path, key);
            } else if (S_ISREG(sb.st_mode) && kl >= pl) {
                rc = add_listed(l, key, &sb);
            }
        }
        free(key);
        free(path);
    }
    if (rc == PA_OK && errno != 0)
        rc = err_errno(errno, "cannot list \"%s\"", dir);
    closedir(d);
    return rc;
}

static int compare_listed(const void *a, const void *b)
{
    return strcmp(((const listed *)a)->key, ((const listed *)b)->key);
}

static int fs_list(storage *st, const char *prefix, storage_list_fn fn, void *arg)
{
    fs_storage *fs = (fs_storage *)st;
    listing l = {.prefix = prefix};
    int rc = walk(&l, fs->root, "");
    if (rc == PA_OK) {
        if (l.n > 1)
            qsort(l.items, l.n, sizeof *l.items, compare_listed);
        for (size_t i = 0; i < l.n && rc == PA_OK; i++) {
            storage_entry e = {l.items[i].key, l.items[i].size, l.items[i].mtime,
                               l.items[i].etag};
            rc = fn(arg, &e);
        }
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.items[i].key);
    free(l.items);
    return rc;
}

/* ---------------- remove ---------------- */

static int fs_remove(storage *st, const char *const *keys, size_t n)
{
    fs_storage *fs = (fs_storage *)st;
    for (size_t i = 0; i < n; i++) {
        if (check_key(keys[i]) != PA_OK)
            return PA_ERR;
        char *path = full_path(fs, keys[i]);
        if (!path)
            return PA_ERR;
        int rc = PA_OK;
        if (unlink(path) != 0 && errno != ENOENT)
            rc = err_errno(errno, "cannot remove \"%s\"", path);
        /* Drop directories the removal emptied (rmdir fails harmlessly on non-empty ones). */
        char *dir = path_dirname(path);
        while (rc == PA_OK && dir && strlen(dir) > strlen(fs->root) &&
               (rmdir(dir) == 0 || errno == ENOENT)) {
            char *up = path_dirname(dir);
            free(dir);
            dir = up;
        }
        if (rc == PA_OK && dir)
            rc = fsync_dir(dir);
        free(dir);
        free(path);
        if (rc != PA_OK)
            return rc;
    }
    return PA_OK;
}

static void fs_close(storage *st)
{
    fs_storage *fs = (fs_storage *)st;
    free(fs->root);
    free(fs->base.url);
    free(fs);
}

static const storage_ops fs_ops = {"file", fs_open_write, fs_read, fs_stat, fs_list, fs_remove,
                                   fs_close};

storage *fs_storage_open(const char *url, const char *root)
{
    fs_storage *fs = calloc(1, sizeof *fs);
    if (!fs || !(fs->root = strdup(root)) || !(fs->base.url = strdup(url))) {
        if (fs)
            free(fs->root);
        free(fs);
        err_set("out of memory");
        return NULL;
    }
    size_t n = strlen(fs->root);
    while (n > 1 && fs->root[n - 1] == '/')
        fs->root[--n] = '\0';
    fs->base.ops = &fs_ops;
    return &fs->base;
}
