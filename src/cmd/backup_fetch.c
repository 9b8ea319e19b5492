/*
 * backup-fetch DEST NAME|LATEST — restore a base backup into an empty directory.
 *
 * Parts are restored in parallel (--jobs): for each part a download thread runs the chain
 * storage read → SHA-256 (of the stored bytes) → lzop decompress → bounded pipe, and the
 * worker thread pulls the tar stream out of the pipe into libarchive (tar_extract.h). Memory
 * per job is the pipe plus lzop's and libarchive's buffers, whatever the backup's size.
 *
 * Nothing is reported as restored before every part matched the sentinel (size, SHA-256),
 * every file matched the manifest (size, SHA-256), no manifest entry is missing, and every
 * file and directory restored has been fsynced.
 */
#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/backups.h"
#include "catalog/manifest_index.h"
#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "io/lzop.h"
#include "io/pipe_buffer.h"
#include "io/sha256.h"
#include "pg/tar_extract.h"
#include "storage/repository.h"

enum {
    PIPE_CAPACITY = 1024 * 1024,
    MAX_MANIFEST_BYTES = 256 * 1024 * 1024,
    MAX_JOBS = 64,
    MAX_TABLESPACE_MAP_BYTES = 1024 * 1024,
};

typedef struct part_job {
    char *name;          /* "part_00000000.tar.lzo" */
    uint32_t index;      /* the number in the name: what the manifest's "part" refers to */
    uint64_t listed_size; /* stored size from the listing, for scheduling */
    char key[512];
    bool verify;         /* sentinel gives size and SHA-256 (not for WAL-E backups) */
    uint64_t size;
    char sha256[SHA256_HEX_LEN + 1];
} part_job;

typedef struct fetch_ctx {
    storage *st;
    const char *backup;
    tar_restore restore;
    part_job *parts;
    size_t n_parts;
    size_t *order;       /* parts, largest first: the long ones start while others fill in */
    atomic_size_t next;
    pthread_mutex_t lock;
    bool failed;
    char error[ERR_MSG_MAX];
    atomic_uint_fast64_t stored_bytes;
    uint64_t parts_bytes; /* sizes of the parts as listed */
} fetch_ctx;

typedef struct download {
    fetch_ctx *ctx;
    part_job *job;
    pipe_buffer *pipe;
    int rc;
    char error[ERR_MSG_MAX];
} download;

static void record_failure(fetch_ctx *ctx, const char *message)
{
    pthread_mutex_lock(&ctx->lock);
    if (!ctx->failed) {
        ctx->failed = true;
        snprintf(ctx->error, sizeof ctx->error, "%s", message);
    }
    pthread_mutex_unlock(&ctx->lock);
    atomic_store(&ctx->restore.cancel, true);
}

static void *download_main(void *arg)
{
    download *d = arg;
    part_job *job = d->job;
    sink *lz = lzop_decompress_new(pipe_buffer_sink(d->pipe));
    sink *hash = lz ? sha256_filter_new(lz) : NULL;
    int rc = PA_ERR;
    if (hash) {
        rc = storage_read(d->ctx->st, job->key, 0, 0, hash);
        if (rc == PA_NOT_FOUND)
            rc = err_set("it is missing from the repository");
        if (rc == PA_OK)
            rc = sink_finish(hash);
    }
    if (rc == PA_OK && job->verify) {
        char hex[SHA256_HEX_LEN + 1];
        sha256_filter_hex(hash, hex);
        uint64_t got = sha256_filter_bytes(hash);
        if (got != job->size)
            rc = err_set("stored object has %" PRIu64 " bytes, the sentinel says %" PRIu64
                         "; the part is damaged or truncated",
                         got, job->size);
        else if (strcmp(hex, job->sha256) != 0)
            rc = err_set("stored object has SHA-256 %s, the sentinel says %s; the part is "
                         "damaged",
                         hex, job->sha256);
    }
    if (hash)
        atomic_fetch_add(&d->ctx->stored_bytes, sha256_filter_bytes(hash));
    if (rc != PA_OK) {
        err_prefix("%s of base backup \"%s\"", job->name, d->ctx->backup);
        snprintf(d->error, sizeof d->error, "%s", err_msg());
        pipe_buffer_abort(d->pipe, d->error);
    }
    d->rc = rc;
    sink_free(hash);
    sink_free(lz);
    return NULL;
}

static ssize_t pipe_read(void *arg, void *data, size_t len)
{
    return pipe_buffer_read(arg, data, len);
}

static int restore_one_part(fetch_ctx *ctx, struct archive *disk, uint32_t index)
{
    part_job *job = &ctx->parts[index];
    download d = {ctx, job, pipe_buffer_new(PIPE_CAPACITY), PA_ERR, ""};
    if (!d.pipe)
        return PA_ERR;
    pthread_t thread;
    int e = pthread_create(&thread, NULL, download_main, &d);
    if (e != 0) {
        pipe_buffer_free(d.pipe);
        return err_errno(e, "cannot start a download thread");
    }
    log_verbose("restoring %s", job->name);
    int rc = tar_restore_part(&ctx->restore, disk, job->index, job->name, pipe_read, d.pipe);
    if (rc != PA_OK)
        pipe_buffer_abort(d.pipe, err_msg());
    pthread_join(thread, NULL);
    pipe_buffer_free(d.pipe);
    if (d.rc != PA_OK) /* the download's failure is the cause of anything the tar side saw */
        return err_set("%s", d.error);
    return rc;
}

/* A worker restores parts one after the other with its own disk writer, whose deferred
 * directory permissions and times are applied once every part is in (tar_disk_writer_close). */
typedef struct worker {
    fetch_ctx *ctx;
    struct archive *disk;
    pthread_t thread;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    fetch_ctx *ctx = w->ctx;
    for (;;) {
        size_t n = atomic_fetch_add(&ctx->next, 1);
        if (n >= ctx->n_parts || atomic_load(&ctx->restore.cancel))
            break;
        size_t i = ctx->order[n];
        if (restore_one_part(ctx, w->disk, (uint32_t)i) != PA_OK) {
            record_failure(ctx, err_msg());
            break;
        }
    }
    return NULL;
}

/* What the command did, on stdout (stderr is for the one failure line); -q silences it. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    if (log_get_level() < LOG_NORMAL)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

/* ---- which parts ---- */

typedef struct part_listing {
    char **names;
    uint64_t *sizes;
    size_t n, cap;
} part_listing;

static int on_part(void *arg, const storage_entry *e)
{
    part_listing *l = arg;
    const char *name = path_basename(e->key);
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **p = realloc(l->names, ncap * sizeof *p);
        if (p)
            l->names = p;
        uint64_t *z = p ? realloc(l->sizes, ncap * sizeof *z) : NULL;
        if (!z)
            return err_set("out of memory");
        l->sizes = z;
        l->cap = ncap;
    }
    if (!(l->names[l->n] = strdup(name)))
        return err_set("out of memory");
    l->sizes[l->n] = e->size;
    l->n++;
    return PA_OK;
}

static bool listed(const part_listing *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return true;
    return false;
}

static uint64_t listed_size(const part_listing *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->names[i], name) == 0)
            return l->sizes[i];
    return 0;
}

static int plan_parts(fetch_ctx *ctx, const backup_info *b)
{
    char prefix[256];
    backup_object_key(prefix, sizeof prefix, b->name, "tar_partitions/");
    part_listing l = {0};
    int rc = storage_list(ctx->st, prefix, on_part, &l);
    if (rc != PA_OK)
        goto out;
    rc = PA_ERR;
    if (b->meta.has_extended) {
        /* our backups: the sentinel lists the parts */
        for (size_t i = 0; i < b->meta.n_parts; i++)
            if (!listed(&l, b->meta.parts[i].name)) {
                err_set("%s of base backup \"%s\" is listed in the sentinel but missing from "
                        "the repository",
                        b->meta.parts[i].name, b->name);
                goto out;
            }
        for (size_t i = 0; i < l.n; i++) {
            bool known = false;
            for (size_t j = 0; j < b->meta.n_parts && !known; j++)
                known = strcmp(b->meta.parts[j].name, l.names[i]) == 0;
            if (!known) {
                err_set("\"%s%s\" is not listed in the sentinel of base backup \"%s\"; the "
                        "backup has been tampered with",
                        prefix, l.names[i], b->name);
                goto out;
            }
        }
        ctx->n_parts = b->meta.n_parts;
    } else {
        /* WAL-E's backups: part_00000000.tar.lzo, part_00000001.tar.lzo, ... with no gap */
        for (size_t i = 0; i < l.n; i++) {
            char want[64];
            snprintf(want, sizeof want, "part_%08zu.tar.lzo", i);
            if (!listed(&l, want)) {
                err_set("base backup \"%s\" has %zu objects in tar_partitions/ but no %s; the "
                        "backup is incomplete",
                        b->name, l.n, want);
                goto out;
            }
        }
        ctx->n_parts = l.n;
    }
    if (ctx->n_parts == 0) {
        err_set("base backup \"%s\" has no tar partitions", b->name);
        goto out;
    }
    if (!(ctx->parts = calloc(ctx->n_parts, sizeof *ctx->parts))) {
        err_set("out of memory");
        goto out;
    }
    for (size_t i = 0; i < ctx->n_parts; i++) {
        part_job *p = &ctx->parts[i];
        char name[64];
        if (b->meta.has_extended) {
            p->verify = true;
            p->size = b->meta.parts[i].size;
            memcpy(p->sha256, b->meta.parts[i].sha256, sizeof p->sha256);
            snprintf(name, sizeof name, "%s", b->meta.parts[i].name);
        } else {
            snprintf(name, sizeof name, "part_%08zu.tar.lzo", i);
        }
        unsigned number;
        int used = 0;
        p->index = sscanf(name, "part_%8u.tar.lzo%n", &number, &used) == 1 &&
                           (size_t)used == strlen(name)
                       ? number
                       : (uint32_t)i;
        if (!(p->name = strdup(name))) {
            err_set("out of memory");
            goto out;
        }
        snprintf(p->key, sizeof p->key, "%s%s", prefix, name);
        p->listed_size = listed_size(&l, name);
        ctx->parts_bytes += p->listed_size;
    }
    rc = PA_OK;
out:
    for (size_t i = 0; i < l.n; i++)
        free(l.names[i]);
    free(l.names);
    free(l.sizes);
    return rc;
}

static const part_job *sort_parts; /* for larger_part_first (main thread only) */

static int larger_part_first(const void *a, const void *b)
{
    const part_job *x = &sort_parts[*(const size_t *)a], *y = &sort_parts[*(const size_t *)b];
    if (x->listed_size != y->listed_size)
        return x->listed_size > y->listed_size ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* ---- manifest ---- */

static int load_manifest(storage *st, const backup_info *b, manifest_index *out)
{
    const backup_part *m = &b->meta.manifest;
    char key[512];
    backup_object_key(key, sizeof key, b->name, m->name);
    sink *mem = memory_sink_new(MAX_MANIFEST_BYTES);
    sink *hash = mem ? sha256_filter_new(mem) : NULL;
    int rc = PA_ERR;
    if (!hash)
        goto out;
    rc = storage_read(st, key, 0, 0, hash);
    if (rc == PA_NOT_FOUND)
        rc = err_set("\"%s/%s\" is missing; the backup is incomplete", st->url, key);
    if (rc == PA_OK)
        rc = sink_finish(hash);
    if (rc != PA_OK)
        goto out;
    char hex[SHA256_HEX_LEN + 1];
    sha256_filter_hex(hash, hex);
    if (sha256_filter_bytes(hash) != m->size || strcmp(hex, m->sha256) != 0) {
        rc = err_set("%s of base backup \"%s\" does not match the sentinel (%" PRIu64
                     " bytes, SHA-256 %s; the sentinel says %" PRIu64 " bytes, %s); the "
                     "manifest is damaged",
                     m->name, b->name, sha256_filter_bytes(hash), hex, m->size, m->sha256);
        goto out;
    }
    size_t len;
    const char *data = memory_sink_data(mem, &len);
    char where[600];
    snprintf(where, sizeof where, "%s/%s", st->url, key);
    rc = manifest_index_parse(data, len, where, b->name, out);
out:
    sink_free(hash);
    sink_free(mem);
    return rc;
}

/* ---- target directories ---- */

/* PA_OK when dir does not exist or is an empty directory; *exists tells which. */
static int check_empty_dir(const char *dir, const char *what, bool *exists)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) {
            *exists = false;
            return PA_OK;
        }
        return err_errno(errno, "cannot open %s \"%s\"", what, dir);
    }
    *exists = true;
    struct dirent *de;
    int rc = PA_OK;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            rc = err_set("%s \"%s\" is not empty; restore into an empty or new directory", what,
                         dir);
            break;
        }
    closedir(d);
    return rc;
}

static int prepare_dir(const char *dir, const char *what, char **real)
{
    bool exists;
    if (check_empty_dir(dir, what, &exists) != PA_OK)
        return PA_ERR;
    if (!exists && mkdir_durable(dir, 0700) != PA_OK)
        return PA_ERR;
    struct stat st;
    if (exists && stat(dir, &st) == 0 && (st.st_mode & 07777) != 0700 &&
        (st.st_mode & 07777) != 0750) {
        /* PostgreSQL refuses to start on a data directory group-writable or open to others */
        if (chmod(dir, 0700) != 0)
            return err_errno(errno, "cannot set mode 0700 on %s \"%s\"", what, dir);
        say("set mode 0700 on %s \"%s\" (was %04o), as PostgreSQL requires", what, dir,
            (unsigned)(st.st_mode & 07777));
    }
    if (!(*real = realpath(dir, NULL)))
        return err_errno(errno, "cannot resolve %s \"%s\"", what, dir);
    return PA_OK;
}

/* Is one of the two absolute paths the other or inside it? (lexical: "/a/b" and "/a/b/c") */
static bool paths_overlap(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb > 1 && b[lb - 1] == '/')
        lb--;
    size_t n = la < lb ? la : lb;
    if (strncmp(a, b, n) != 0)
        return false;
    if (la == lb)
        return true;
    const char *longer = la > lb ? a : b;
    return longer[n] == '/' || (n == 1 && longer[0] == '/');
}

/* A directory that does not exist yet: can we create it? (its nearest existing ancestor must
 * be writable) — so a restore is refused before it writes anything, not halfway. */
static int check_creatable(const char *dir, const char *what)
{
    char *p = strdup(dir);
    int rc = PA_OK;
    while (p && access(p, F_OK) != 0 && errno == ENOENT && strcmp(p, "/") != 0 &&
           strcmp(p, ".") != 0) {
        char *up = path_dirname(p);
        free(p);
        p = up;
    }
    if (!p)
        return err_set("out of memory");
    if (access(p, W_OK | X_OK) != 0)
        rc = err_errno(errno, "cannot create %s \"%s\" in \"%s\"", what, dir, p);
    free(p);
    return rc;
}

typedef struct tablespace_option {
    const char *oid;
    const char *dir;
    bool used;
} tablespace_option;

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Decide and check where each tablespace goes (before anything is written). */
static const char *tablespace_dir(const backup_tablespace *t, const tablespace_option *map,
                                  size_t n_map)
{
    for (size_t j = 0; j < n_map; j++)
        if (strcmp(map[j].oid, t->oid) == 0)
            return map[j].dir;
    return t->location;
}

/* No tablespace directory may be DEST, inside it or around it, or another's. */
static int check_overlaps(const char *what, const char *dest, const sentinel *s,
                          const tablespace_option *map, size_t n_map)
{
    for (size_t i = 0; i < s->n_tablespaces; i++) {
        const char *dir = tablespace_dir(&s->tablespaces[i], map, n_map);
        if (paths_overlap(dir, dest))
            return err_set("tablespace %s would be restored to \"%s\", which overlaps the %s "
                           "\"%s\"; choose another directory with --tablespace-map %s=DIR",
                           s->tablespaces[i].oid, dir, what, dest, s->tablespaces[i].oid);
        for (size_t j = 0; j < i; j++)
            if (paths_overlap(dir, tablespace_dir(&s->tablespaces[j], map, n_map)))
                return err_set("tablespaces %s and %s would both be restored into \"%s\"",
                               s->tablespaces[j].oid, s->tablespaces[i].oid, dir);
    }
    return PA_OK;
}

static int check_tablespaces(const backup_info *b, const char *dest, tablespace_option *map,
                             size_t n_map)
{
    const sentinel *s = &b->meta;
    char *abs_dest = NULL;
    if (dest[0] == '/') {
        abs_dest = strdup(dest);
    } else {
        char *cwd = getcwd(NULL, 0);
        abs_dest = cwd ? path_join(cwd, dest) : NULL;
        free(cwd);
    }
    if (!abs_dest)
        return err_set("out of memory");
    int orc = check_overlaps("destination", abs_dest, s, map, n_map);
    free(abs_dest);
    if (orc != PA_OK)
        return PA_ERR;
    bool dest_exists;
    if (check_empty_dir(dest, "destination", &dest_exists) != PA_OK ||
        (!dest_exists && check_creatable(dest, "destination") != PA_OK))
        return PA_ERR;
    if (dest_exists && access(dest, W_OK | X_OK) != 0)
        return err_errno(errno, "cannot write into the destination \"%s\"", dest);
    for (size_t i = 0; i < s->n_tablespaces; i++) {
        const char *oid = s->tablespaces[i].oid;
        if (!all_digits(oid))
            return err_set("the sentinel of \"%s\" names a tablespace \"%s\", which is not an "
                           "OID",
                           b->name, oid);
        const char *dir = s->tablespaces[i].location;
        for (size_t j = 0; j < n_map; j++)
            if (strcmp(map[j].oid, oid) == 0) {
                dir = map[j].dir;
                map[j].used = true;
            }
        if (dir[0] != '/')
            return err_set("tablespace %s would be restored to \"%s\", not an absolute path; "
                           "use --tablespace-map %s=DIR",
                           oid, dir, oid);
        bool exists;
        if (check_empty_dir(dir, "tablespace directory", &exists) != PA_OK ||
            (!exists && check_creatable(dir, "tablespace directory") != PA_OK)) {
            err_prefix("tablespace %s", oid);
            return PA_ERR;
        }
    }
    for (size_t j = 0; j < n_map; j++)
        if (!map[j].used)
            return err_set("--tablespace-map %s=%s: base backup \"%s\" has no tablespace %s",
                           map[j].oid, map[j].dir, b->name, map[j].oid);
    return PA_OK;
}

/* Create the tablespace directories and the DEST/pg_tblspc/<oid> links. */
static int create_tablespaces(const backup_info *b, const char *root,
                              const tablespace_option *map, size_t n_map,
                              tar_tablespace_target *out, char **owned)
{
    const sentinel *s = &b->meta;
    if (s->n_tablespaces == 0)
        return PA_OK;
    char *tblspc = path_join(root, "pg_tblspc");
    if (!tblspc)
        return err_set("out of memory");
    int rc = mkdir_durable(tblspc, 0700);
    for (size_t i = 0; rc == PA_OK && i < s->n_tablespaces; i++) {
        const char *dir = s->tablespaces[i].location;
        for (size_t j = 0; j < n_map; j++)
            if (strcmp(map[j].oid, s->tablespaces[i].oid) == 0)
                dir = map[j].dir;
        if ((rc = prepare_dir(dir, "tablespace directory", &owned[i])) != PA_OK)
            break;
        out[i].oid = s->tablespaces[i].oid;
        out[i].target = owned[i];
        char *link = path_join(tblspc, out[i].oid);
        if (!link)
            rc = err_set("out of memory");
        else if (symlink(owned[i], link) != 0)
            rc = err_errno(errno, "cannot create the tablespace link \"%s\"", link);
        free(link);
    }
    if (rc == PA_OK)
        rc = fsync_dir(tblspc);
    free(tblspc);
    return rc;
}

/* PostgreSQL recreates pg_tblspc/<oid> from tablespace_map during recovery: make it name the
 * directories we restored into. Same escaping as PostgreSQL's read_tablespace_map(). */
static int rewrite_tablespace_map(const char *root, const tar_tablespace_target *ts, size_t n)
{
    char *path = path_join(root, "tablespace_map");
    char *temp = path_join(root, "tablespace_map.pgattest-tmp");
    buf in, out;
    buf_init(&in, MAX_TABLESPACE_MAP_BYTES);
    buf_init(&out, MAX_TABLESPACE_MAP_BYTES);
    int rc = PA_ERR, fd = -1;
    err_clear();
    if (!path || !temp) {
        err_set("out of memory");
        goto out;
    }
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc = errno == ENOENT ? PA_OK : err_errno(errno, "cannot open \"%s\"", path);
        goto out;
    }
    char chunk[8192];
    ssize_t got;
    while ((got = read_full(fd, chunk, sizeof chunk, path)) > 0)
        if (buf_append(&in, chunk, (size_t)got) != PA_OK)
            goto out;
    if (got < 0)
        goto out;
    close(fd);
    fd = -1;
    bool changed = false;
    /* de-escape one line at a time */
    buf line;
    buf_init(&line, MAX_TABLESPACE_MAP_BYTES);
    bool backslash = false;
    for (size_t i = 0; i <= in.len; i++) {
        char c = i < in.len ? in.data[i] : '\n';
        if (!backslash && (c == '\n' || c == '\r')) {
            if (line.len == 0)
                continue;
            const char *sp = strchr(line.data, ' ');
            const char *loc = sp ? sp + 1 : "";
            size_t oid_len = sp ? (size_t)(sp - line.data) : line.len;
            for (size_t t = 0; t < n; t++)
                if (strlen(ts[t].oid) == oid_len && strncmp(ts[t].oid, line.data, oid_len) == 0 &&
                    strcmp(loc, ts[t].target) != 0) {
                    loc = ts[t].target;
                    changed = true;
                }
            if (buf_append(&out, line.data, oid_len) != PA_OK || buf_append(&out, " ", 1) != PA_OK)
                break;
            for (const char *p = loc; *p; p++)
                if ((*p == '\\' || *p == '\n' || *p == '\r') && buf_append(&out, "\\", 1) != PA_OK)
                    break;
                else if (buf_append(&out, p, 1) != PA_OK)
                    break;
            if (buf_append(&out, "\n", 1) != PA_OK)
                break;
            buf_reset(&line);
        } else if (!backslash && c == '\\') {
            backslash = true;
        } else {
            backslash = false;
            if (buf_append(&line, &c, 1) != PA_OK)
                break;
        }
    }
    buf_free(&line);
    if (*err_msg())
        goto out;
    if (!changed) {
        rc = PA_OK;
        goto out;
    }
    fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_errno(errno, "cannot create \"%s\"", temp);
        goto out;
    }
    if (write_all(fd, out.data, out.len, temp) != PA_OK)
        goto out;
    if (fsync(fd) != 0) {
        err_errno(errno, "cannot fsync \"%s\"", temp);
        goto out;
    }
    close(fd);
    fd = -1;
    if (rename(temp, path) != 0) {
        err_errno(errno, "cannot rename \"%s\" to \"%s\"", temp, path);
        goto out;
    }
    say("rewrote tablespace_map for the new tablespace locations");
    rc = fsync_dir(root);
out:
    if (fd >= 0)
        close(fd);
    buf_free(&in);
    buf_free(&out);
    free(path);
    free(temp);
    return rc;
}

/* ---- durability ---- */

static _Thread_local int sync_error;

/* First pass (as PostgreSQL's fsync_pgdata does): ask the kernel to start writing every
 * file back, so the fsync pass that follows mostly waits for I/O already under way instead
 * of starting it one file at a time. Failures here are only a lost optimisation. */
static int start_writeback(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F || !S_ISREG(sb->st_mode))
        return 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        (void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        close(fd);
    }
    return 0;
}

static int sync_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (flag == FTW_SL)
        return 0; /* the link itself is made durable by fsyncing its directory */
    if (flag == FTW_DNR || flag == FTW_NS) {
        sync_error = err_set("cannot read \"%s\" to fsync it", path);
        return 1;
    }
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        sync_error = err_errno(errno, "cannot open \"%s\" to fsync it", path);
        return 1;
    }
    if (fsync(fd) != 0) {
        sync_error = err_errno(errno, "cannot fsync \"%s\"", path);
        close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

/* fsync every file and directory under dir (not following symlinks), then its parent. */
static int sync_tree(const char *dir)
{
    sync_error = PA_OK;
    (void)nftw(dir, start_writeback, 32, FTW_PHYS);
    if (nftw(dir, sync_one, 32, FTW_PHYS) != 0)
        return sync_error != PA_OK ? PA_ERR : err_errno(errno, "cannot walk \"%s\"", dir);
    char *parent = path_dirname(dir);
    int rc = parent ? fsync_dir(parent) : err_set("out of memory");
    free(parent);
    return rc;
}

/* ---- the command ---- */

typedef struct fetch_options {
    const char *prefix;
    unsigned jobs;
    tablespace_option *map;
    size_t n_map;
} fetch_options;

static int backup_fetch(const char *dest, const char *which, const fetch_options *o)
{
    int rc = PA_ERR;
    bool started = false;
    backup_list list = {0};
    manifest_index manifest = {0};
    fetch_ctx ctx = {0};
    char *root = NULL;
    char **ts_owned = NULL;
    size_t n_ts_owned = 0;
    tar_tablespace_target *ts = NULL;
    worker *workers = NULL;
    size_t n_workers = 0;
    bool restore_ready = false;
    pthread_mutex_init(&ctx.lock, NULL);

    ctx.st = repository_open(o->prefix);
    if (!ctx.st)
        return PA_ERR;
    if (backup_list_load(ctx.st, &list) != PA_OK)
        goto out;
    const backup_info *b = backup_list_find(&list, which);
    if (!b)
        goto out;
    ctx.backup = b->name;
    if (plan_parts(&ctx, b) != PA_OK)
        goto out;
    if (!(ctx.order = malloc(ctx.n_parts * sizeof *ctx.order))) {
        err_set("out of memory");
        goto out;
    }
    for (size_t i = 0; i < ctx.n_parts; i++)
        ctx.order[i] = i;
    sort_parts = ctx.parts;
    qsort(ctx.order, ctx.n_parts, sizeof *ctx.order, larger_part_first);
    bool have_manifest = false;
    if (b->meta.has_extended) {
        if (!b->meta.manifest.name) {
            err_set("the sentinel of base backup \"%s\" names no manifest; cannot verify the "
                    "files",
                    b->name);
            goto out;
        }
        if (load_manifest(ctx.st, b, &manifest) != PA_OK)
            goto out;
        have_manifest = true;
    } else {
        say("base backup \"%s\" is in WAL-E's format: no manifest and no part checksums; "
                 "relying on the lzop block checksums",
                 b->name);
    }

    if (check_tablespaces(b, dest, o->map, o->n_map) != PA_OK)
        goto out;
    umask(077); /* directories libarchive creates for missing parents */
    if (prepare_dir(dest, "destination", &root) != PA_OK)
        goto out;
    started = true;
    size_t n_ts = b->meta.n_tablespaces;
    if (n_ts &&
        (!(ts = calloc(n_ts, sizeof *ts)) || !(ts_owned = calloc(n_ts, sizeof *ts_owned)))) {
        err_set("out of memory");
        goto out;
    }
    n_ts_owned = n_ts;
    if (create_tablespaces(b, root, o->map, o->n_map, ts, ts_owned) != PA_OK)
        goto out;
    /* again on the real paths, in case a symlink hid an overlap from the lexical check */
    {
        tablespace_option *real_map = n_ts ? calloc(n_ts, sizeof *real_map) : NULL;
        if (n_ts && !real_map) {
            err_set("out of memory");
            goto out;
        }
        for (size_t i = 0; i < n_ts; i++)
            real_map[i] = (tablespace_option){ts[i].oid, ts[i].target, true};
        int orc = check_overlaps("destination", root, &b->meta, real_map, n_ts);
        free(real_map);
        if (orc != PA_OK)
            goto out;
    }

    say("restoring base backup \"%s\" (%zu part%s, %" PRIu64 " bytes stored) into \"%s\"",
             b->name, ctx.n_parts, ctx.n_parts == 1 ? "" : "s", ctx.parts_bytes, root);
    for (size_t i = 0; i < n_ts; i++)
        say("tablespace %s -> \"%s\"", ts[i].oid, ts[i].target);
    tar_restore_init(&ctx.restore, root, ts, n_ts, have_manifest ? &manifest : NULL);
    restore_ready = true;
    n_workers = o->jobs < ctx.n_parts ? o->jobs : ctx.n_parts;
    if (!(workers = calloc(n_workers, sizeof *workers))) {
        err_set("out of memory");
        goto out;
    }
    /* libarchive's disk writers touch the umask when created: make them before any thread */
    for (size_t i = 0; i < n_workers; i++) {
        workers[i].ctx = &ctx;
        if (!(workers[i].disk = tar_disk_writer_new()))
            goto out;
    }
    size_t started_workers = 0;
    for (; started_workers < n_workers; started_workers++) {
        int e = pthread_create(&workers[started_workers].thread, NULL, worker_main,
                               &workers[started_workers]);
        if (e != 0) {
            err_errno(e, "cannot start a restore thread");
            record_failure(&ctx, err_msg());
            break;
        }
    }
    for (size_t i = 0; i < started_workers; i++)
        pthread_join(workers[i].thread, NULL);
    if (ctx.failed) {
        err_set("%s", ctx.error);
        goto out;
    }
    for (size_t i = 0; i < n_workers; i++) {
        struct archive *disk = workers[i].disk;
        workers[i].disk = NULL;
        if (tar_disk_writer_close(disk) != PA_OK)
            goto out;
    }
    if (tar_restore_check_complete(&ctx.restore) != PA_OK)
        goto out;
    if (n_ts && rewrite_tablespace_map(root, ts, n_ts) != PA_OK)
        goto out;
    if (sync_tree(root) != PA_OK)
        goto out;
    for (size_t i = 0; i < n_ts; i++)
        if (sync_tree(ts[i].target) != PA_OK)
            goto out;

    say("restored base backup \"%s\" into \"%s\": %" PRIu64 " files (%" PRIu64
           " bytes), %" PRIu64 " directories, %" PRIu64 " symlinks from %zu parts (%" PRIu64
           " bytes stored)",
           b->name, root, (uint64_t)atomic_load(&ctx.restore.files),
           (uint64_t)atomic_load(&ctx.restore.bytes), (uint64_t)atomic_load(&ctx.restore.dirs),
           (uint64_t)atomic_load(&ctx.restore.symlinks), ctx.n_parts,
           (uint64_t)atomic_load(&ctx.stored_bytes));
    if (have_manifest)
        say("verified: every part against the sentinel (size, SHA-256), every file against "
            "the manifest (size, SHA-256), nothing missing or extra; all fsynced");
    else
        say("verified: lzop block checksums of every part (WAL-E backup: no manifest, no "
            "part checksums); all fsynced");
    say("next: put restore_command = 'pgattest wal-fetch %%f %%p' (and a recovery target if "
        "you want one) in postgresql.conf, create \"%s/recovery.signal\", start PostgreSQL",
        root);
    rc = PA_OK;
out:
    if (rc != PA_OK && started) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err_msg());
        /* Without pg_control PostgreSQL refuses to start: nobody can run the half-restored
         * cluster by mistake (pg_basebackup removes what it wrote for the same reason). */
        char control[PATH_MAX];
        snprintf(control, sizeof control, "%s/global/pg_control", root ? root : dest);
        bool disarmed = unlink(control) == 0 || errno == ENOENT;
        err_set("%s; \"%s\" holds an incomplete restore%s: empty it before trying again", msg,
                dest, disarmed ? " (without global/pg_control, so it cannot be started)" : "");
    }
    for (size_t i = 0; workers && i < n_workers; i++)
        if (workers[i].disk)
            archive_write_free(workers[i].disk);
    free(workers);
    for (size_t i = 0; i < ctx.n_parts; i++)
        free(ctx.parts[i].name);
    free(ctx.parts);
    free(ctx.order);
    if (restore_ready)
        tar_restore_destroy(&ctx.restore);
    for (size_t i = 0; ts_owned && i < n_ts_owned; i++)
        free(ts_owned[i]);
    free(ts_owned);
    free(ts);
    manifest_index_free(&manifest);
    backup_list_free(&list);
    free(root);
    pthread_mutex_destroy(&ctx.lock);
    storage_close(ctx.st);
    return rc;
}

static int run(int argc, char **argv)
{
    enum { OPT_JOBS = OPT_COMMAND_FIRST, OPT_TABLESPACE_MAP };
    static const struct option opts[] = {COMMON_LONG_OPTIONS,
                                         {"jobs", required_argument, NULL, 'j'},
                                         {"tablespace-map", required_argument, NULL, 'T'},
                                         {0}};
    common_options common = {0};
    fetch_options o = {0};
    o.jobs = 2;
    tablespace_option map[64];
    int c, status;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS "j:T:", opts, NULL)) != -1) {
        int h = common_option(&cmd_backup_fetch, c, &common, &status);
        if (h < 0)
            return status;
        if (h > 0)
            continue;
        if (c == 'j') {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > MAX_JOBS)
                return usage_error(&cmd_backup_fetch, "--jobs must be 1 to %d, not \"%s\"",
                                   MAX_JOBS, optarg);
            o.jobs = (unsigned)n;
        } else if (c == 'T') {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || !eq[1] || eq[1] != '/')
                return usage_error(&cmd_backup_fetch,
                                   "--tablespace-map needs OID=/absolute/dir, not \"%s\"", optarg);
            *eq = '\0';
            if (!all_digits(optarg))
                return usage_error(&cmd_backup_fetch, "--tablespace-map: \"%s\" is not an OID",
                                   optarg);
            for (size_t i = 0; i < o.n_map; i++)
                if (strcmp(map[i].oid, optarg) == 0)
                    return usage_error(&cmd_backup_fetch,
                                       "--tablespace-map given twice for tablespace %s", optarg);
            if (o.n_map == sizeof map / sizeof *map)
                return usage_error(&cmd_backup_fetch, "too many --tablespace-map options");
            map[o.n_map++] = (tablespace_option){optarg, eq + 1, false};
        } else {
            return usage_error(&cmd_backup_fetch, "unexpected option");
        }
    }
    o.prefix = common.prefix;
    o.map = map;
    if (argc - optind != 2)
        return usage_error(&cmd_backup_fetch, "expected two arguments, DEST and NAME (or LATEST)");
    if (backup_fetch(argv[optind], argv[optind + 1], &o) != PA_OK) {
        report_failure();
        return EXIT_FAILURE_ENGINE;
    }
    return EXIT_OK;
}

const command cmd_backup_fetch = {
    "backup-fetch", run, "restore a base backup into an empty directory",
    "Usage: pgattest backup-fetch [OPTIONS] DEST NAME|LATEST\n"
    "\n"
    "Restore base backup NAME (or the newest complete one, LATEST) into DEST, which must be\n"
    "empty or not exist yet (it is created with mode 0700). Tablespaces go back to the\n"
    "locations recorded in the backup, which must be empty or not exist, unless moved with\n"
    "--tablespace-map; DEST/pg_tblspc/OID links and tablespace_map point to where they went.\n"
    "\n"
    "Every part is checked against the sentinel (size, SHA-256) and every file against the\n"
    "manifest (size, SHA-256) while it is written; a missing or extra file is an error.\n"
    "WAL-E backups have neither: their lzop block checksums are checked. Member names are\n"
    "checked so nothing is written outside DEST and the tablespace directories. Exit 0 only\n"
    "when everything matched and every file and directory is fsynced.\n"
    "\n"
    "Options:\n"
    "  -j, --jobs N               parts restored in parallel (default 2)\n"
    "  -T, --tablespace-map OID=DIR\n"
    "                             restore tablespace OID into DIR (repeatable)\n"
    "  --prefix URL               repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "  -v, --verbose              report each part\n"
    "  -q, --quiet                only errors\n"
    "\n"
    "Then, to recover: in DEST/postgresql.conf (or postgresql.auto.conf) set\n"
    "  restore_command = 'pgattest wal-fetch %f %p'\n"
    "and, if wanted, a recovery_target_time; create DEST/recovery.signal; start PostgreSQL\n"
    "on DEST. It replays the archived WAL from the backup's start onwards.\n"
    "\n"
    "Exit status: 0 restored and verified; 1 failure (DEST then holds an incomplete restore:\n"
    "empty it before trying again); 2 usage error.\n"};
