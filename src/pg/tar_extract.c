#include "pg/tar_extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "io/sha256.h"
#include "pg/tar_member_path.h"

enum { READ_CHUNK = 128 * 1024, MAX_MEMBER_PATH = 4096 };

int tar_restore_init(tar_restore *r, const char *root, const tar_tablespace_target *ts,
                     size_t n_ts, manifest_index *manifest)
{
    memset(r, 0, sizeof *r);
    r->root = root;
    r->tablespaces = ts;
    r->n_tablespaces = n_ts;
    r->manifest = manifest;
    pthread_mutex_init(&r->lock, NULL);
    atomic_init(&r->cancel, false);
    atomic_init(&r->files, 0);
    atomic_init(&r->dirs, 0);
    atomic_init(&r->symlinks, 0);
    atomic_init(&r->bytes, 0);
    return PA_OK;
}

void tar_restore_destroy(tar_restore *r)
{
    for (size_t i = 0; i < r->cap_written; i++)
        free(r->written[i]);
    free(r->written);
    pthread_mutex_destroy(&r->lock);
}

struct archive *tar_disk_writer_new(void)
{
    struct archive *disk = archive_write_disk_new();
    if (!disk) {
        err_set("out of memory");
        return NULL;
    }
    /* Absolute names are refused by tar_member_normalize before we build the (absolute)
     * destination path, so SECURE_NOABSOLUTEPATHS cannot be used on what we pass here. */
    archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                             ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                             ARCHIVE_EXTRACT_SECURE_NODOTDOT);
    return disk;
}

int tar_disk_writer_close(struct archive *disk)
{
    int rc = PA_OK;
    if (archive_write_close(disk) != ARCHIVE_OK)
        rc = err_set("cannot finish restoring directories: %s", archive_error_string(disk));
    archive_write_free(disk);
    return rc;
}

/* ---- reading ---- */

typedef struct reader {
    tar_read_fn read;
    void *arg;
    char *chunk;
} reader;

static la_ssize_t read_callback(struct archive *a, void *arg, const void **out)
{
    reader *rd = arg;
    ssize_t n = rd->read(rd->arg, rd->chunk, READ_CHUNK);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", err_msg());
        return -1;
    }
    *out = rd->chunk;
    return n;
}

/* ---- bookkeeping ---- */

/* Without a manifest: refuse a second non-directory member at the same path (libarchive
 * would silently replace the first). A hash set of paths: memory linear in the number of
 * files, like the manifest. */
static uint64_t path_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int remember_written(tar_restore *r, const char *path)
{
    if (2 * (r->n_written + 1) > r->cap_written) {
        size_t ncap = r->cap_written ? r->cap_written * 2 : 1024;
        char **t = calloc(ncap, sizeof *t);
        if (!t)
            return err_set("out of memory");
        for (size_t i = 0; i < r->cap_written; i++) {
            if (!r->written[i])
                continue;
            size_t j = path_hash(r->written[i]) & (ncap - 1);
            while (t[j])
                j = (j + 1) & (ncap - 1);
            t[j] = r->written[i];
        }
        free(r->written);
        r->written = t;
        r->cap_written = ncap;
    }
    size_t j = path_hash(path) & (r->cap_written - 1);
    for (; r->written[j]; j = (j + 1) & (r->cap_written - 1))
        if (strcmp(r->written[j], path) == 0)
            return err_set("\"%s\" appears twice in the backup", path);
    if (!(r->written[j] = strdup(path)))
        return err_set("out of memory");
    r->n_written++;
    return PA_OK;
}

/* Check the member against the manifest (or the duplicate list) and mark it seen. Returns the
 * manifest entry (NULL without a manifest) through *out. */
static int account_member(tar_restore *r, const char *path, manifest_index_type type, uint32_t part,
                          const char *part_name, manifest_index_entry **out)
{
    int rc = PA_OK;
    *out = NULL;
    pthread_mutex_lock(&r->lock);
    if (r->manifest) {
        manifest_index_entry *e = manifest_index_find(r->manifest, path);
        if (!e)
            rc = err_set("%s \"%s\" in %s is not in the manifest",
                         manifest_index_type_name(type), path, part_name);
        else if (e->type != type)
            rc = err_set("\"%s\" in %s is a %s, the manifest says %s", path, part_name,
                         manifest_index_type_name(type), manifest_index_type_name(e->type));
        else if (type != MI_DIR && e->seen)
            rc = err_set("\"%s\" appears twice in the backup (again in %s)", path, part_name);
        else if (type != MI_DIR && e->part != part)
            rc = err_set("\"%s\" is in %s, the manifest says part %" PRIu32, path, part_name,
                         e->part);
        else {
            e->seen = true;
            *out = e;
        }
    } else if (type != MI_DIR) {
        rc = remember_written(r, path);
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

/* Where a normalized member goes: into a tablespace's directory or under the root. Sets
 * *ts_rest to the part after "pg_tblspc/<oid>" ("" for the tablespace directory itself)
 * when the member belongs to a tablespace, NULL otherwise. */
static int destination(const tar_restore *r, const char *path, char *out, size_t outlen,
                       const char **ts_rest)
{
    *ts_rest = NULL;
    const char *base = r->root, *rest = path;
    if (strncmp(path, "pg_tblspc/", 10) == 0) {
        const char *oid = path + 10;
        size_t oid_len = strcspn(oid, "/");
        for (size_t i = 0; i < r->n_tablespaces; i++) {
            if (strlen(r->tablespaces[i].oid) == oid_len &&
                strncmp(r->tablespaces[i].oid, oid, oid_len) == 0) {
                base = r->tablespaces[i].target;
                rest = oid + oid_len + (oid[oid_len] == '/');
                *ts_rest = rest;
                break;
            }
        }
    }
    int n = *rest ? snprintf(out, outlen, "%s/%s", base, rest) : snprintf(out, outlen, "%s", base);
    if (n < 0 || (size_t)n >= outlen)
        return err_set("destination path for \"%s\" is too long", path);
    return PA_OK;
}

static int hash_zeros(sink *hash, uint64_t n)
{
    static const char zeros[4096];
    while (n > 0) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (sink_write(hash, zeros, k) != PA_OK)
            return PA_ERR;
        n -= k;
    }
    return PA_OK;
}

/* Writeback is started while a file is being written (every WRITEBACK_STEP bytes and at
 * its end) so the disk works in parallel with the extraction, and the fsync pass at the end
 * of the restore mostly finds clean pages. Only a hint: failures are ignored here; the
 * fsync pass reports real errors. */
enum { WRITEBACK_STEP = 8 * 1024 * 1024 };

static void start_writeback(int fd, uint64_t from, uint64_t to)
{
    if (fd >= 0 && to > from)
        (void)sync_file_range(fd, (off64_t)from, (off64_t)(to - from), SYNC_FILE_RANGE_WRITE);
}

static int restore_file_data(struct archive *a, struct archive *disk, struct archive_entry *e,
                             const char *path, const char *part_name, const manifest_index_entry *m,
                             int wb_fd)
{
    uint64_t kicked = 0;
    sink *hash = sha256_filter_new(NULL);
    if (!hash)
        return PA_ERR;
    int rc = PA_ERR;
    uint64_t hashed = 0;
    for (;;) {
        const void *data;
        size_t size;
        la_int64_t offset;
        int r = archive_read_data_block(a, &data, &size, &offset);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            err_set("cannot read \"%s\" from %s: %s", path, part_name, archive_error_string(a));
            goto out;
        }
        /* sparse members: the holes are zeros in the file's content */
        if ((uint64_t)offset < hashed) {
            err_set("\"%s\" in %s: data blocks out of order", path, part_name);
            goto out;
        }
        if (hash_zeros(hash, (uint64_t)offset - hashed) != PA_OK ||
            sink_write(hash, data, size) != PA_OK)
            goto out;
        hashed = (uint64_t)offset + size;
        if (archive_write_data_block(disk, data, size, offset) < ARCHIVE_OK) {
            err_set("cannot write \"%s\": %s", archive_entry_pathname(e),
                    archive_error_string(disk));
            goto out;
        }
        if (hashed - kicked >= WRITEBACK_STEP) {
            start_writeback(wb_fd, kicked, hashed);
            kicked = hashed;
        }
    }
    start_writeback(wb_fd, kicked, hashed);
    uint64_t declared = (uint64_t)archive_entry_size(e);
    if (hashed < declared && hash_zeros(hash, declared - hashed) != PA_OK)
        goto out;
    if (hashed < declared)
        hashed = declared;
    if (sink_finish(hash) != PA_OK)
        goto out;
    if (m) {
        char hex[SHA256_HEX_LEN + 1];
        sha256_filter_hex(hash, hex);
        if (hashed != m->size) {
            err_set("file \"%s\" in %s has %" PRIu64 " bytes, the manifest says %" PRIu64
                    "; the backup is damaged",
                    path, part_name, hashed, m->size);
            goto out;
        }
        if (strcmp(hex, m->sha256) != 0) {
            err_set("file \"%s\" in %s does not match the manifest: SHA-256 %s, expected %s; "
                    "the backup is damaged",
                    path, part_name, hex, m->sha256);
            goto out;
        }
    }
    rc = PA_OK;
out:
    sink_free(hash);
    return rc;
}

static int restore_member(tar_restore *r, struct archive *a, struct archive *disk,
                          struct archive_entry *e, uint32_t part, const char *part_name)
{
    const char *name = archive_entry_pathname(e);
    if (!name)
        return err_set("a member of %s has no name (or one not valid here)", part_name);
    char path[MAX_MEMBER_PATH];
    int nrc = tar_member_normalize(name, path, sizeof path);
    if (nrc == 1) /* the root itself: DEST exists already */
        return archive_read_data_skip(a) < ARCHIVE_WARN
                   ? err_set("%s: %s", part_name, archive_error_string(a))
                   : PA_OK;
    if (nrc != PA_OK) {
        err_prefix("%s", part_name);
        return PA_ERR;
    }
    if (archive_entry_hardlink(e))
        return err_set("\"%s\" in %s is a hard link; base backups contain none, refusing it", path,
                       part_name);
    manifest_index_type type;
    switch (archive_entry_filetype(e)) {
    case AE_IFREG:
        type = MI_FILE;
        break;
    case AE_IFDIR:
        type = MI_DIR;
        break;
    case AE_IFLNK:
        type = MI_SYMLINK;
        break;
    default:
        return err_set("\"%s\" in %s is a special file (type 0%o); refusing it", path, part_name,
                       (unsigned)archive_entry_filetype(e));
    }

    char dest[MAX_MEMBER_PATH + 1024];
    const char *ts_rest;
    if (destination(r, path, dest, sizeof dest, &ts_rest) != PA_OK)
        return PA_ERR;
    if (ts_rest && !*ts_rest && type != MI_DIR)
        return err_set("\"%s\" in %s should be the tablespace's directory, it is a %s", path,
                       part_name, manifest_index_type_name(type));
    bool points_out = false;
    if (type == MI_SYMLINK) {
        const char *target = archive_entry_symlink(e);
        if (!target || ts_rest)
            return err_set("symlink \"%s\" in %s has no target or sits in a tablespace; "
                           "refusing it",
                           path, part_name);
        points_out = !tar_symlink_target_inside(path, target);
    }
    manifest_index_entry *m;
    if (account_member(r, path, type, part, part_name, &m) != PA_OK)
        return PA_ERR;
    if (m && type == MI_FILE && (uint64_t)archive_entry_size(e) != m->size)
        return err_set("file \"%s\" in %s has %" PRId64 " bytes, the manifest says %" PRIu64
                       "; the backup is damaged",
                       path, part_name, (int64_t)archive_entry_size(e), m->size);
    if (m && type == MI_SYMLINK && strcmp(m->target, archive_entry_symlink(e)) != 0)
        return err_set("symlink \"%s\" in %s points to \"%s\", the manifest says \"%s\"", path,
                       part_name, archive_entry_symlink(e), m->target);
    /* A link pointing out of DEST is created only when our manifest (itself checked against
     * the sentinel) lists exactly that link, as pg_basebackup keeps such links (a log
     * directory on another disk, say). Creating the link writes nothing outside; nothing is
     * ever extracted through a link (ARCHIVE_EXTRACT_SECURE_SYMLINKS and the collision check
     * below). Any other outward link is a hostile or damaged archive. */
    if (points_out && !m)
        return err_set("symlink \"%s\" -> \"%s\" in %s points outside the restored directory "
                       "and the backup's manifest does not list it; refusing it",
                       path, archive_entry_symlink(e), part_name);
    if (points_out)
        log_warning("restored symlink \"%s\" -> \"%s\" points outside the restored directory "
                    "(as it did in the backed-up cluster)",
                    path, archive_entry_symlink(e));
    struct stat st;
    if (lstat(dest, &st) == 0 && (type != MI_DIR || !S_ISDIR(st.st_mode)))
        /* The target directories start empty: anything here already means two members
         * collide, and libarchive would silently replace it (or extract through it). */
        return err_set("\"%s\" from %s: \"%s\" already exists", path, part_name, dest);

    archive_entry_set_pathname(e, dest);
    /* A data directory has no set-user-ID, set-group-ID or sticky bits: never create them. */
    archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
    int w = archive_write_header(disk, e);
    if (w < ARCHIVE_WARN)
        return err_set("cannot restore \"%s\" from %s to \"%s\": %s", path, part_name, dest,
                       archive_error_string(disk));
    if (w == ARCHIVE_WARN)
        log_warning("\"%s\": %s", dest, archive_error_string(disk));
    if (type == MI_FILE) {
        int wb_fd = open(dest, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        int frc = restore_file_data(a, disk, e, path, part_name, m, wb_fd);
        if (wb_fd >= 0)
            close(wb_fd);
        if (frc != PA_OK)
            return PA_ERR;
        atomic_fetch_add(&r->files, 1);
        atomic_fetch_add(&r->bytes, (uint64_t)archive_entry_size(e));
    } else if (type == MI_DIR) {
        atomic_fetch_add(&r->dirs, 1);
    } else {
        atomic_fetch_add(&r->symlinks, 1);
    }
    int f = archive_write_finish_entry(disk);
    if (f < ARCHIVE_WARN)
        return err_set("cannot finish \"%s\": %s", dest, archive_error_string(disk));
    if (f == ARCHIVE_WARN) /* permissions or times could not be set: data is complete */
        log_warning("\"%s\": %s", dest, archive_error_string(disk));
    return PA_OK;
}

int tar_restore_part(tar_restore *r, struct archive *disk, uint32_t part, const char *part_name,
                     tar_read_fn read, void *read_arg)
{
    reader rd = {read, read_arg, malloc(READ_CHUNK)};
    struct archive *a = archive_read_new();
    int rc = PA_ERR;
    if (!rd.chunk || !a) {
        err_set("out of memory");
        goto out;
    }
    archive_read_support_format_tar(a);
    if (archive_read_open(a, &rd, NULL, read_callback, NULL) != ARCHIVE_OK) {
        err_set("%s is not a readable tar stream: %s", part_name, archive_error_string(a));
        goto out;
    }
    for (;;) {
        if (atomic_load(&r->cancel)) {
            err_set("cancelled");
            goto out;
        }
        struct archive_entry *e;
        int h = archive_read_next_header(a, &e);
        if (h == ARCHIVE_EOF)
            break;
        if (h < ARCHIVE_WARN) {
            err_set("cannot read the tar stream of %s: %s", part_name, archive_error_string(a));
            goto out;
        }
        if (restore_member(r, a, disk, e, part, part_name) != PA_OK)
            goto out;
    }
    /* What follows the end-of-archive blocks (tar's record padding) is still part of the
     * stored object: read it so its checksum covers every byte. */
    for (;;) {
        ssize_t n = read(read_arg, rd.chunk, READ_CHUNK);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
    }
    rc = PA_OK;
out:
    if (a)
        archive_read_free(a);
    free(rd.chunk);
    return rc;
}

int tar_restore_check_complete(tar_restore *r)
{
    if (!r->manifest)
        return PA_OK;
    size_t missing = 0;
    const manifest_index_entry *first = NULL;
    for (size_t i = 0; i < r->manifest->n; i++)
        if (!r->manifest->entries[i].seen && missing++ == 0)
            first = &r->manifest->entries[i];
    if (missing)
        return err_set("%s \"%s\" is in the manifest but in no part (part %" PRIu32 " should "
                       "hold it)%s; the backup is incomplete",
                       manifest_index_type_name(first->type), first->path, first->part,
                       missing > 1 ? ", and more are missing" : "");
    return PA_OK;
}
