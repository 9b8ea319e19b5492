#include "backup/tar_parts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup/exclude.h"
#include "catalog/backups.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "io/lzop.h"
#include "io/sha256.h"
#include "pg/tar_writer.h"

#define READ_CHUNK (256u * 1024)
#define FRAGMENT_MAX (64u * 1024 * 1024) /* 10000 entries never come near this */

typedef struct member {
    char *path;           /* in the tar */
    char *disk;           /* on disk (files); NULL for a member from memory */
    tar_member_type type;
    mode_t mode;
    int64_t mtime;
    uint32_t uid, gid;
    uint64_t size;        /* from the walk (files), for cutting parts */
    char *target;         /* symlinks */
    const char *content;  /* member from memory */
} member;

typedef struct job {
    unsigned index;
    member *members;
    size_t n, cap;
    uint64_t bytes; /* estimated tar bytes */
} job;

struct tar_parts {
    storage *st;
    char name[64];
    uint64_t partition_size;
    manifest_writer *manifest;

    pthread_mutex_t lock;
    pthread_cond_t changed;
    job **queue;          /* ring of `jobs` slots */
    size_t q_head, q_len, q_cap;
    int lzop_threads;     /* per part: a part holding one big file still uses two cores */
    bool closed;          /* no more jobs */
    pthread_t *threads;
    unsigned n_threads;

    job *current;         /* being filled by the walker */
    unsigned next_index;

    backup_part *parts;   /* by index; name NULL until stored */
    size_t parts_cap;
    buf **fragments;      /* by index; manifest text waiting for its turn */
    unsigned next_fragment;

    atomic_bool failed;
    char error[ERR_MSG_MAX];
    _Atomic uint64_t expanded, vanished;
};

/* ---------------- shared state ---------------- */

static void record_failure(tar_parts *tp)
{
    pthread_mutex_lock(&tp->lock);
    if (!atomic_load(&tp->failed)) {
        snprintf(tp->error, sizeof tp->error, "%s", *err_msg() ? err_msg() : "failed");
        atomic_store(&tp->failed, true);
    }
    pthread_cond_broadcast(&tp->changed);
    pthread_mutex_unlock(&tp->lock);
}

static int grow_parts(tar_parts *tp, unsigned index)
{
    if (index < tp->parts_cap)
        return PA_OK;
    size_t ncap = tp->parts_cap ? tp->parts_cap * 2 : 16;
    while (ncap <= index)
        ncap *= 2;
    backup_part *p = realloc(tp->parts, ncap * sizeof *p);
    if (!p)
        return err_set("out of memory");
    tp->parts = p;
    buf **f = realloc(tp->fragments, ncap * sizeof *f);
    if (!f)
        return err_set("out of memory");
    tp->fragments = f;
    for (size_t i = tp->parts_cap; i < ncap; i++) {
        memset(&tp->parts[i], 0, sizeof tp->parts[i]);
        tp->fragments[i] = NULL;
    }
    tp->parts_cap = ncap;
    return PA_OK;
}

/* A part is stored: keep its record and append every manifest fragment whose turn it is. */
static int part_done(tar_parts *tp, unsigned index, const backup_part *part, buf *fragment)
{
    int rc = PA_OK;
    pthread_mutex_lock(&tp->lock);
    if (grow_parts(tp, index) != PA_OK) {
        rc = PA_ERR;
        goto out;
    }
    tp->parts[index] = *part;
    tp->fragments[index] = fragment;
    while (rc == PA_OK && tp->next_fragment < tp->parts_cap && tp->fragments[tp->next_fragment]) {
        buf *f = tp->fragments[tp->next_fragment];
        rc = manifest_writer_fragment(tp->manifest, f);
        if (rc != PA_OK)
            err_prefix("cannot write \"%s\" of backup \"%s\"", MANIFEST_NAME, tp->name);
        buf_free(f);
        free(f);
        tp->fragments[tp->next_fragment++] = NULL;
    }
    pthread_cond_broadcast(&tp->changed); /* workers may wait for next_fragment to move */
out:
    pthread_mutex_unlock(&tp->lock);
    return rc;
}

/* ---------------- writing one part ---------------- */

static int write_file(tar_parts *tp, tar_writer *tw, const member *m, unsigned part, buf *frag,
                      char *chunk)
{
    int fd = open(m->disk, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT) { /* dropped by the server meanwhile: WAL replay recreates it */
            atomic_fetch_add(&tp->vanished, 1);
            log_verbose("\"%s\" vanished before it was read; skipped", m->disk);
            return PA_OK;
        }
        return err_errno(errno, "cannot open \"%s\"", m->disk);
    }
    int rc = PA_ERR;
    sink *hash = NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        err_errno(errno, "cannot stat \"%s\"", m->disk);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        log_warning("\"%s\" is no longer a regular file; skipped", m->disk);
        rc = PA_OK;
        goto out;
    }
    posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t size = (uint64_t)sb.st_size;
    tar_member hdr = {m->path, TAR_FILE, sb.st_mode & 07777, (int64_t)sb.st_mtim.tv_sec,
                      (uint32_t)sb.st_uid, (uint32_t)sb.st_gid, size, NULL};
    if (!(hash = sha256_filter_new(NULL)) || tar_writer_begin(tw, &hdr) != PA_OK)
        goto out;
    bool shrank = false;
    if (tar_writer_copy_fd(tw, fd, size, hash, m->disk, chunk, READ_CHUNK, &shrank) != PA_OK)
        goto out;
    if (shrank)
        log_verbose("\"%s\" shrank while being read; padded with zeros", m->disk);
    if (tar_writer_end_member(tw) != PA_OK || sink_finish(hash) != PA_OK)
        goto out;
    char hex[SHA256_HEX_LEN + 1];
    sha256_filter_hex(hash, hex);
    manifest_entry e = {m->path, MANIFEST_FILE, size, (unsigned)(sb.st_mode & 07777),
                        (int64_t)sb.st_mtim.tv_sec, hex, NULL, part};
    if (manifest_entry_append(frag, &e) != PA_OK)
        goto out;
    atomic_fetch_add(&tp->expanded, size);
    rc = PA_OK;
out:
    sink_free(hash);
    close(fd);
    return rc;
}

static int write_content(tar_parts *tp, tar_writer *tw, const member *m, unsigned part, buf *frag)
{
    tar_member hdr = {m->path, TAR_FILE, m->mode, m->mtime, m->uid, m->gid, m->size, NULL};
    uint8_t digest[SHA256_LEN];
    char hex[SHA256_HEX_LEN + 1];
    if (tar_writer_begin(tw, &hdr) != PA_OK ||
        tar_writer_data(tw, m->content, (size_t)m->size) != PA_OK ||
        tar_writer_end_member(tw) != PA_OK ||
        sha256_buffer(m->content, (size_t)m->size, digest) != PA_OK)
        return PA_ERR;
    sha256_to_hex(digest, hex);
    manifest_entry e = {m->path, MANIFEST_FILE, m->size, (unsigned)m->mode, m->mtime, hex,
                        NULL, part};
    atomic_fetch_add(&tp->expanded, m->size);
    return manifest_entry_append(frag, &e);
}

static int write_member(tar_parts *tp, tar_writer *tw, const member *m, unsigned part, buf *frag,
                        char *chunk)
{
    if (m->type == TAR_FILE)
        return m->content ? write_content(tp, tw, m, part, frag)
                          : write_file(tp, tw, m, part, frag, chunk);
    tar_member hdr = {m->path, m->type, m->mode, m->mtime, m->uid, m->gid, 0, m->target};
    if (tar_writer_begin(tw, &hdr) != PA_OK || tar_writer_end_member(tw) != PA_OK)
        return PA_ERR;
    manifest_entry e = {m->path, m->type == TAR_DIR ? MANIFEST_DIR : MANIFEST_SYMLINK, 0,
                        (unsigned)m->mode, m->mtime, NULL, m->target, part};
    return manifest_entry_append(frag, &e);
}

static int write_part(tar_parts *tp, const job *j, char *chunk)
{
    char part_name[64], relative[96], key[256];
    snprintf(part_name, sizeof part_name, "part_%08u.tar.lzo", j->index);
    snprintf(relative, sizeof relative, "tar_partitions/%s", part_name);
    backup_object_key(key, sizeof key, tp->name, relative);
    sink *writer = NULL, *hash = NULL, *lz = NULL;
    tar_writer *tw = NULL;
    buf *frag = calloc(1, sizeof *frag);
    int rc = PA_ERR;
    if (!frag) {
        err_set("out of memory");
        goto out;
    }
    buf_init(frag, FRAGMENT_MAX);
    if (storage_open_write(tp->st, key, STORAGE_NO_OVERWRITE | STORAGE_VERIFY, &writer) != PA_OK)
        goto out;
    if (!(hash = sha256_filter_new(writer)) ||
        !(lz = lzop_compress_new(hash, 0, (int64_t)time(NULL), tp->lzop_threads)) || !(tw = tar_writer_new(lz)))
        goto out;
    for (size_t i = 0; i < j->n; i++) {
        if (atomic_load(&tp->failed)) {
            err_set("stopped: another part failed");
            goto out;
        }
        if (write_member(tp, tw, &j->members[i], j->index, frag, chunk) != PA_OK)
            goto out;
    }
    if (tar_writer_finish(tw) != PA_OK || sink_finish(lz) != PA_OK)
        goto out;
    backup_part part = {strdup(part_name), sha256_filter_bytes(hash), ""};
    if (!part.name) {
        err_set("out of memory");
        goto out;
    }
    sha256_filter_hex(hash, part.sha256);
    log_verbose("stored %s (%zu members, %" PRIu64 " bytes of tar, %" PRIu64 " stored)",
                key, j->n, tar_writer_bytes(tw), part.size);
    rc = part_done(tp, j->index, &part, frag);
    frag = NULL; /* owned by tp now */
out:
    if (rc != PA_OK)
        err_prefix("cannot store \"%s/%s\"", tp->st->url, key);
    tar_writer_free(tw); /* before the sinks it writes to */
    sink_free(lz);
    sink_free(hash);
    sink_free(writer); /* without a successful finish: the object is discarded */
    if (frag) {
        buf_free(frag);
        free(frag);
    }
    return rc;
}

static void job_free(job *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++) {
        free(j->members[i].path);
        free(j->members[i].disk);
        free(j->members[i].target);
    }
    free(j->members);
    free(j);
}

/* ---------------- workers and queue ---------------- */

static void *worker_main(void *arg)
{
    tar_parts *tp = arg;
    char *chunk = malloc(READ_CHUNK);
    if (!chunk) {
        err_set("out of memory");
        record_failure(tp);
    }
    for (;;) {
        pthread_mutex_lock(&tp->lock);
        job *j = NULL;
        for (;;) {
            /* Manifest fragments wait in memory until every earlier part is done: do not run
             * too far ahead of the oldest part still being written (a big file, say). That
             * part is always running, so this wait ends. */
            if (tp->q_len > 0 &&
                (atomic_load(&tp->failed) ||
                 tp->queue[tp->q_head]->index < tp->next_fragment + 2 * tp->q_cap)) {
                j = tp->queue[tp->q_head];
                tp->q_head = (tp->q_head + 1) % tp->q_cap;
                tp->q_len--;
                pthread_cond_broadcast(&tp->changed);
                break;
            }
            if (tp->q_len == 0 && tp->closed)
                break;
            pthread_cond_wait(&tp->changed, &tp->lock);
        }
        pthread_mutex_unlock(&tp->lock);
        if (!j)
            break;
        if (chunk && !atomic_load(&tp->failed) && write_part(tp, j, chunk) != PA_OK)
            record_failure(tp);
        job_free(j);
    }
    free(chunk);
    return NULL;
}

static int submit(tar_parts *tp)
{
    job *j = tp->current;
    tp->current = NULL;
    if (!j || j->n == 0) {
        job_free(j);
        return PA_OK;
    }
    pthread_mutex_lock(&tp->lock);
    while (tp->q_len == tp->q_cap && !atomic_load(&tp->failed))
        pthread_cond_wait(&tp->changed, &tp->lock);
    bool failed = atomic_load(&tp->failed);
    if (!failed) {
        tp->queue[(tp->q_head + tp->q_len) % tp->q_cap] = j;
        tp->q_len++;
        pthread_cond_broadcast(&tp->changed);
    }
    pthread_mutex_unlock(&tp->lock);
    if (failed) {
        job_free(j);
        return err_set("%s", tp->error);
    }
    return PA_OK;
}

static uint64_t member_tar_bytes(const member *m)
{
    uint64_t data = m->type == TAR_FILE ? (m->size + 511) / 512 * 512 : 0;
    return 512 + data;
}

/* Take ownership of m's strings and add it to the part being filled. */
static int add_member(tar_parts *tp, member *m)
{
    job *j = tp->current;
    uint64_t bytes = member_tar_bytes(m);
    if (j && j->n > 0 &&
        (j->bytes + bytes > tp->partition_size || j->n >= TAR_PARTS_MAX_MEMBERS)) {
        if (submit(tp) != PA_OK)
            goto fail;
        j = NULL;
    }
    if (!j) {
        if (!(j = calloc(1, sizeof *j))) {
            err_set("out of memory");
            goto fail;
        }
        j->index = tp->next_index++;
        tp->current = j;
    }
    if (j->n == j->cap) {
        size_t ncap = j->cap ? j->cap * 2 : 64;
        member *p = realloc(j->members, ncap * sizeof *p);
        if (!p) {
            err_set("out of memory");
            goto fail;
        }
        j->members = p;
        j->cap = ncap;
    }
    j->members[j->n++] = *m;
    j->bytes += bytes;
    return PA_OK;
fail:
    free(m->path);
    free(m->disk);
    free(m->target);
    return PA_ERR;
}

/* ---------------- walking the data directory ---------------- */

static int add_dir(tar_parts *tp, const char *rel, const struct stat *sb)
{
    member m = {strdup(rel), NULL, TAR_DIR, sb->st_mode & 07777, (int64_t)sb->st_mtim.tv_sec,
                (uint32_t)sb->st_uid, (uint32_t)sb->st_gid, 0, NULL, NULL};
    if (!m.path)
        return err_set("out of memory");
    return add_member(tp, &m);
}

static int walk(tar_parts *tp, const char *disk_dir, const char *rel_dir, sentinel *tablespaces);

/* pg_tblspc/<oid> -> the tablespace's directory: stored under pg_tblspc/<oid>/ (WAL-E). */
static int add_tablespace(tar_parts *tp, const char *disk, const char *rel, const char *oid,
                          sentinel *ts)
{
    char target[PATH_MAX];
    ssize_t n = readlink(disk, target, sizeof target - 1);
    if (n < 0)
        return err_errno(errno, "cannot read the tablespace link \"%s\"", disk);
    target[n] = '\0';
    struct stat sb;
    if (stat(disk, &sb) != 0)
        return err_errno(errno, "tablespace %s: cannot reach \"%s\" (from \"%s\")", oid, target,
                         disk);
    if (!S_ISDIR(sb.st_mode))
        return err_set("tablespace %s: \"%s\" (from \"%s\") is not a directory", oid, target,
                       disk);
    backup_tablespace *p = realloc(ts->tablespaces, (ts->n_tablespaces + 1) * sizeof *p);
    if (!p)
        return err_set("out of memory");
    ts->tablespaces = p;
    backup_tablespace *t = &p[ts->n_tablespaces];
    if (!(t->oid = strdup(oid)) || !(t->location = strdup(target))) {
        free(t->oid);
        return err_set("out of memory");
    }
    ts->n_tablespaces++;
    log_verbose("following tablespace %s at \"%s\"", oid, target);
    if (add_dir(tp, rel, &sb) != PA_OK)
        return PA_ERR;
    return walk(tp, target, rel, ts);
}

/* pg_wal is kept as an empty directory with an empty archive_status inside. */
static int add_empty_pg_wal(tar_parts *tp, const char *disk, const char *rel,
                            const struct stat *sb)
{
    if (add_dir(tp, rel, sb) != PA_OK)
        return PA_ERR;
    char *status_disk = path_join(disk, "archive_status");
    char *status_rel = path_join(rel, "archive_status");
    int rc = PA_ERR;
    if (!status_disk || !status_rel) {
        err_set("out of memory");
        goto out;
    }
    struct stat st;
    if (stat(status_disk, &st) != 0) { /* the server recreates it; store it anyway */
        st = *sb;
        st.st_mode = S_IFDIR | 0700;
    }
    rc = add_dir(tp, status_rel, &st);
out:
    free(status_disk);
    free(status_rel);
    return rc;
}

static int walk_entry(tar_parts *tp, const char *disk_dir, const char *rel_dir, const char *name,
                      sentinel *ts)
{
    char *disk = path_join(disk_dir, name);
    char *rel = rel_dir ? path_join(rel_dir, name) : strdup(name);
    int rc = PA_ERR;
    if (!disk || !rel) {
        err_set("out of memory");
        goto out;
    }
    struct stat sb;
    if (lstat(disk, &sb) != 0) {
        if (errno == ENOENT) { /* removed since readdir */
            rc = PA_OK;
            goto out;
        }
        err_errno(errno, "cannot stat \"%s\"", disk);
        goto out;
    }
    if (S_ISLNK(sb.st_mode)) {
        if (rel_dir && strcmp(rel_dir, "pg_tblspc") == 0) {
            rc = add_tablespace(tp, disk, rel, name, ts);
            goto out;
        }
        if (strcmp(rel, "pg_wal") == 0) { /* initdb --waldir: keep the directory, empty */
            struct stat target;
            if (stat(disk, &target) != 0) {
                err_errno(errno, "cannot reach pg_wal's directory through \"%s\"", disk);
                goto out;
            }
            rc = add_empty_pg_wal(tp, disk, rel, &target);
            goto out;
        }
        if (backup_exclude_rule(rel, false) == BACKUP_EXCLUDE) {
            rc = PA_OK;
            goto out;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(disk, target, sizeof target - 1);
        if (n < 0) {
            err_errno(errno, "cannot read the symbolic link \"%s\"", disk);
            goto out;
        }
        target[n] = '\0';
        member m = {rel, NULL, TAR_SYMLINK, 0777, (int64_t)sb.st_mtim.tv_sec,
                    (uint32_t)sb.st_uid, (uint32_t)sb.st_gid, 0, strdup(target), NULL};
        rel = NULL; /* owned by the member */
        if (!m.target) {
            free(m.path);
            err_set("out of memory");
            goto out;
        }
        rc = add_member(tp, &m);
        goto out;
    }
    if (S_ISDIR(sb.st_mode)) {
        backup_rule rule = backup_exclude_rule(rel, true);
        if (rule == BACKUP_EXCLUDE)
            rc = PA_OK;
        else if (strcmp(rel, "pg_wal") == 0)
            rc = add_empty_pg_wal(tp, disk, rel, &sb);
        else if (add_dir(tp, rel, &sb) != PA_OK)
            rc = PA_ERR;
        else
            rc = rule == BACKUP_INCLUDE ? walk(tp, disk, rel, ts) : PA_OK;
        goto out;
    }
    if (S_ISREG(sb.st_mode)) {
        if (backup_exclude_rule(rel, false) == BACKUP_EXCLUDE) {
            rc = PA_OK;
            goto out;
        }
        member m = {rel, disk, TAR_FILE, sb.st_mode & 07777, (int64_t)sb.st_mtim.tv_sec,
                    (uint32_t)sb.st_uid, (uint32_t)sb.st_gid, (uint64_t)sb.st_size, NULL, NULL};
        rel = disk = NULL; /* owned by the member */
        rc = add_member(tp, &m);
        goto out;
    }
    log_verbose("\"%s\" is not a file, directory or symbolic link; skipped", disk);
    rc = PA_OK;
out:
    free(disk);
    free(rel);
    return rc;
}

static int walk(tar_parts *tp, const char *disk_dir, const char *rel_dir, sentinel *ts)
{
    DIR *d = opendir(disk_dir);
    if (!d) {
        if (errno == ENOENT && rel_dir) /* dropped meanwhile (a database, a tablespace) */
            return PA_OK;
        return err_errno(errno, "cannot read the directory \"%s\"", disk_dir);
    }
    int rc = PA_OK;
    for (;;) {
        if (atomic_load(&tp->failed)) {
            rc = err_set("%s", tp->error);
            break;
        }
        errno = 0;
        struct dirent *de = readdir(d);
        if (!de) {
            if (errno)
                rc = err_errno(errno, "cannot read the directory \"%s\"", disk_dir);
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if ((rc = walk_entry(tp, disk_dir, rel_dir, de->d_name, ts)) != PA_OK)
            break;
    }
    closedir(d);
    return rc;
}

/* ---------------- public ---------------- */

tar_parts *tar_parts_start(storage *st, const char *name, unsigned jobs, uint64_t partition_size,
                           manifest_writer *manifest)
{
    tar_parts *tp = calloc(1, sizeof *tp);
    if (!tp) {
        err_set("out of memory");
        return NULL;
    }
    tp->st = st;
    snprintf(tp->name, sizeof tp->name, "%s", name);
    tp->partition_size = partition_size;
    tp->manifest = manifest;
    pthread_mutex_init(&tp->lock, NULL);
    pthread_cond_init(&tp->changed, NULL);
    tp->q_cap = jobs;
    tp->lzop_threads = jobs > 1 ? 2 : 1;
    if (!(tp->queue = calloc(jobs, sizeof *tp->queue)) ||
        !(tp->threads = calloc(jobs, sizeof *tp->threads))) {
        err_set("out of memory");
        tar_parts_free(tp);
        return NULL;
    }
    for (unsigned i = 0; i < jobs; i++) {
        int e = pthread_create(&tp->threads[i], NULL, worker_main, tp);
        if (e != 0) {
            err_errno(e, "cannot start a worker thread");
            tar_parts_free(tp);
            return NULL;
        }
        tp->n_threads++;
    }
    return tp;
}

int tar_parts_add_data_directory(tar_parts *tp, const char *pgdata, sentinel *tablespaces)
{
    if (walk(tp, pgdata, NULL, tablespaces) != PA_OK || submit(tp) != PA_OK) {
        record_failure(tp); /* the workers stop instead of storing parts for nothing */
        return PA_ERR;
    }
    return PA_OK;
}

static void stop_workers(tar_parts *tp)
{
    pthread_mutex_lock(&tp->lock);
    tp->closed = true;
    pthread_cond_broadcast(&tp->changed);
    pthread_mutex_unlock(&tp->lock);
    for (unsigned i = 0; i < tp->n_threads; i++)
        pthread_join(tp->threads[i], NULL);
    tp->n_threads = 0;
}

int tar_parts_wait(tar_parts *tp)
{
    stop_workers(tp);
    if (atomic_load(&tp->failed))
        return err_set("%s", tp->error);
    return PA_OK;
}

int tar_parts_add_content_part(tar_parts *tp, const tar_content *files, size_t n)
{
    job j = {tp->next_index++, NULL, 0, 0, 0};
    if (!(j.members = calloc(n, sizeof *j.members)))
        return err_set("out of memory");
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++)
        j.members[j.n++] = (member){(char *)files[i].path, NULL, TAR_FILE, 0600, now,
                                    (uint32_t)getuid(), (uint32_t)getgid(), files[i].len,
                                    NULL, files[i].data};
    char *chunk = NULL; /* members from memory need no read buffer */
    int rc = write_part(tp, &j, chunk);
    free(j.members); /* the strings belong to the caller */
    return rc;
}

void tar_parts_result(tar_parts *tp, backup_part **parts, size_t *n_parts, uint64_t *expanded,
                      uint64_t *vanished)
{
    *parts = tp->parts;
    *n_parts = tp->next_index;
    tp->parts = NULL;
    tp->parts_cap = 0;
    *expanded = atomic_load(&tp->expanded);
    *vanished = atomic_load(&tp->vanished);
}

void tar_parts_free(tar_parts *tp)
{
    if (!tp)
        return;
    if (tp->n_threads)
        stop_workers(tp);
    /* jobs still queued after a failure */
    while (tp->q_len > 0) {
        job_free(tp->queue[tp->q_head]);
        tp->q_head = (tp->q_head + 1) % tp->q_cap;
        tp->q_len--;
    }
    job_free(tp->current);
    for (size_t i = 0; i < tp->parts_cap; i++) {
        free(tp->parts ? tp->parts[i].name : NULL);
        if (tp->fragments && tp->fragments[i]) {
            buf_free(tp->fragments[i]);
            free(tp->fragments[i]);
        }
    }
    free(tp->parts);
    free(tp->fragments);
    free(tp->queue);
    free(tp->threads);
    pthread_cond_destroy(&tp->changed);
    pthread_mutex_destroy(&tp->lock);
    free(tp);
}
