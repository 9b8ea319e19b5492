#include "audit/deep_verify.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/verified_state.h"
#include "catalog/manifest_reader.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "io/pipe_buffer.h"
#include "io/lzop.h"
#include "io/sha256.h"
#include "pg/wal_pages.h"
#include "pg/walname.h"
#include "storage/repository.h"

#define WAL_CHECK "wal.integrity"
#define BACKUP_CHECK "backup.integrity"
#define MAX_FILE_FINDINGS 20 /* per backup; then "and N more" */

typedef struct backup_job {
    const backup_info *b;
    manifest man;
    bool has_manifest;
    size_t n_parts;          /* from the sentinel, or listed for WAL-E backups */
    char **part_names;
    int remaining;           /* tasks in flight (ctx lock) */
    size_t file_findings;
} backup_job;

typedef struct task {
    bool is_part;
    char *key, *etag;
    uint64_t size;
    int64_t mtime;
    wal_file_name wal;       /* WAL tasks */
    backup_job *job;         /* part tasks */
    size_t part;
} task;

typedef struct deep_ctx {
    storage *st;
    const deep_options *o;
    report *r;
    check_result *wal_check, *backup_check;
    pthread_mutex_t lock;    /* queue, report, stats, sysid */
    pthread_cond_t not_empty, not_full;
    task *queue;
    size_t head, count, cap;
    bool closing;
    verified_state *state;
    deep_stats *ws, *bs;
    uint64_t sysid;
    const char *sysid_from;  /* "backups" or the first segment's name */
    char sysid_source[64];
} deep_ctx;

/* ---- findings (under the lock) ---- */

static void add_finding(deep_ctx *c, check_result *check, severity sev, const char *key,
                        const char *msg)
{
    pthread_mutex_lock(&c->lock);
    finding *f = check_add(c->r, check, sev, "%s", msg);
    if (key)
        finding_evidence(c->r, f, "%s/%s", c->st->url, key);
    pthread_mutex_unlock(&c->lock);
}

static void file_finding(deep_ctx *c, backup_job *j, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void file_finding(deep_ctx *c, backup_job *j, const char *key, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&c->lock);
    if (++j->file_findings <= MAX_FILE_FINDINGS) {
        finding *f = check_add(c->r, c->backup_check, SEV_CRITICAL, "%s: %s", j->b->name, msg);
        if (key)
            finding_evidence(c->r, f, "%s/%s", c->st->url, key);
    }
    pthread_mutex_unlock(&c->lock);
}

/* A member that does not match the manifest: reported, and counted against its part. */
#define tar_problem(c, j, key, problems, ...) ((*(problems))++, file_finding(c, j, key, __VA_ARGS__))

/* ---- WAL objects ---- */

static int check_wal(deep_ctx *c, task *t, uint64_t *bytes)
{
    char where[512];
    snprintf(where, sizeof where, "%s/%s", c->st->url, t->key);
    bool pages = t->wal.kind == WAL_SEGMENT || t->wal.kind == WAL_PARTIAL;
    uint64_t expected_sysid;
    pthread_mutex_lock(&c->lock);
    expected_sysid = c->sysid;
    pthread_mutex_unlock(&c->lock);
    wal_pages_expect e = {.timeline = t->wal.timeline,
                          .segno = wal_segno(t->wal.log, t->wal.seg, c->o->seg_size),
                          .seg_size = c->o->seg_size,
                          .partial = t->wal.kind == WAL_PARTIAL,
                          .system_identifier = expected_sysid,
                          .server_version = c->o->server_version};
    sink *end = pages ? wal_pages_sink_new(&e, where) : discard_sink_new();
    sink *lz = end ? lzop_decompress_new(end) : NULL;
    int rc = PA_ERR;
    if (lz) {
        rc = storage_read(c->st, t->key, 0, 0, lz);
        if (rc == PA_OK)
            rc = sink_finish(lz);
        if (rc == PA_ERR && !strstr(err_msg(), where))
            err_prefix("%s", where);
        *bytes = lzop_decompress_output_bytes(lz);
    }
    if (rc == PA_OK && pages) {
        uint64_t sysid = wal_pages_system_identifier(end);
        pthread_mutex_lock(&c->lock);
        if (!c->sysid) {
            c->sysid = sysid;
            snprintf(c->sysid_source, sizeof c->sysid_source, "%.40s", path_basename(t->key));
        } else if (sysid != c->sysid) {
            rc = err_set("%s: system identifier %" PRIu64 " differs from %" PRIu64 " (%s): WAL "
                         "of another cluster",
                         where, sysid, c->sysid, c->sysid_from ? c->sysid_from : c->sysid_source);
        }
        pthread_mutex_unlock(&c->lock);
    }
    sink_free(lz);
    sink_free(end);
    return rc;
}

/* ---- backup parts: download -> SHA-256 -> lzop -d -> pipe_buffer -> libarchive ---- */

typedef struct download {
    deep_ctx *c;
    const char *key;
    pipe_buffer *p;          /* to the tar reader */
    int rc;
    char err[ERR_MSG_MAX];
    char sha256[SHA256_HEX_LEN + 1];
    uint64_t stored_bytes;
} download;

static void *download_main(void *arg)
{
    download *d = arg;
    sink *lz = lzop_decompress_new(pipe_buffer_sink(d->p));
    sink *sha = lz ? sha256_filter_new(lz) : NULL;
    d->rc = PA_ERR;
    if (sha) {
        d->rc = storage_read(d->c->st, d->key, 0, 0, sha);
        if (d->rc == PA_OK)
            d->rc = sink_finish(sha); /* finishes the whole chain */
        if (d->rc == PA_OK)
            sha256_filter_hex(sha, d->sha256);
        d->stored_bytes = sha256_filter_bytes(sha);
    } else {
        err_set("out of memory");
    }
    if (d->rc != PA_OK)
        snprintf(d->err, sizeof d->err, "%s", err_msg());
    sink_free(sha);
    sink_free(lz);
    if (d->rc != PA_OK) /* the reader must not wait for bytes that will never come */
        pipe_buffer_abort(d->p, d->err);
    return NULL;
}

static const char *entry_type_name(mode_t type)
{
    switch (type) {
    case AE_IFREG: return "file";
    case AE_IFDIR: return "directory";
    case AE_IFLNK: return "symlink";
    default: return "special file";
    }
}

/* Read the tar from fd; compare every member with the manifest. Returns PA_ERR (message set)
 * when the tar itself cannot be read. */
#define TAR_READ_CHUNK (256u * 1024)

typedef struct tar_source {
    pipe_buffer *p;
    unsigned char *chunk;
} tar_source;

static la_ssize_t tar_read_cb(struct archive *a, void *arg, const void **out)
{
    tar_source *src = arg;
    *out = src->chunk;
    ssize_t n = pipe_buffer_read(src->p, src->chunk, TAR_READ_CHUNK);
    if (n < 0)
        archive_set_error(a, EIO, "%s", err_msg());
    return (la_ssize_t)n;
}

static int read_tar(deep_ctx *c, task *t, pipe_buffer *p, size_t *problems)
{
    backup_job *j = t->job;
    struct archive *a = archive_read_new();
    if (!a)
        return err_set("out of memory");
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int rc = PA_OK;
    tar_source src = {p, malloc(TAR_READ_CHUNK)};
    if (!src.chunk) {
        archive_read_free(a);
        return err_set("out of memory");
    }
    if (archive_read_open(a, &src, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
        rc = err_set("%s/%s: not a tar stream: %s", c->st->url, t->key, archive_error_string(a));
        goto out;
    }
    struct archive_entry *entry;
    char *path = NULL;
    for (;;) {
        int r = archive_read_next_header(a, &entry);
        if (r == ARCHIVE_EOF)
            break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            rc = err_set("%s/%s: damaged tar: %s", c->st->url, t->key, archive_error_string(a));
            break;
        }
        free(path);
        const char *name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
        path = malloc(strlen(name) + 2); /* normalizing may turn "" into "." */
        if (path)
            strcpy(path, name);
        if (!path) {
            rc = err_set("out of memory");
            break;
        }
        manifest_normalize_path(path);
        mode_t type = archive_entry_filetype(entry);
        manifest_item *m = NULL;
        if (j->has_manifest && !(strcmp(path, ".") == 0 && type == AE_IFDIR)) {
            m = manifest_find(&j->man, path);
            if (!m)
                tar_problem(c, j, t->key, problems, "\"%s\" is in %s but not in the manifest", path,
                             path_basename(t->key));
            else if (m->part != t->part)
                tar_problem(c, j, t->key, problems, "\"%s\" is in part %zu, the manifest says part %u",
                             path, t->part, m->part);
            else if (m->seen)
                tar_problem(c, j, t->key, problems, "\"%s\" appears twice in part %zu", path, t->part);
            else if ((m->type == MANIFEST_ITEM_FILE) != (type == AE_IFREG) ||
                     (m->type == MANIFEST_ITEM_DIR) != (type == AE_IFDIR))
                tar_problem(c, j, t->key, problems, "\"%s\" is a %s in the tar, not what the manifest "
                             "says", path, entry_type_name(type));
            if (m && m->part == t->part)
                m->seen = true;
        }
        if (type != AE_IFREG)
            continue;
        /* Always read the data through: a damaged stream shows here too. */
        sink *sha = sha256_filter_new(NULL);
        if (!sha) {
            rc = err_set("out of memory");
            break;
        }
        const void *block;
        size_t len;
        la_int64_t off;
        while ((r = archive_read_data_block(a, &block, &len, &off)) == ARCHIVE_OK)
            sink_write(sha, block, len);
        if (r != ARCHIVE_EOF) {
            rc = err_set("%s/%s: damaged tar in \"%s\": %s", c->st->url, t->key, path,
                         archive_error_string(a));
            sink_free(sha);
            break;
        }
        sink_finish(sha);
        if (m && m->type == MANIFEST_ITEM_FILE && m->part == t->part) {
            char hex[SHA256_HEX_LEN + 1];
            sha256_filter_hex(sha, hex);
            uint64_t got = sha256_filter_bytes(sha);
            if (got != m->size)
                tar_problem(c, j, t->key, problems, "\"%s\" has %" PRIu64 " bytes, the manifest says %" PRIu64,
                             path, got, m->size);
            else if (strcmp(hex, m->sha256) != 0)
                tar_problem(c, j, t->key, problems, "\"%s\" does not match its SHA-256 in the manifest",
                             path);
        }
        sink_free(sha);
    }
    free(path);
    /* Files the manifest puts in this part that the tar does not have. */
    for (size_t i = 0; rc == PA_OK && j->has_manifest && i < j->man.n; i++) {
        const manifest_item *m = &j->man.entries[i];
        if (m->part == t->part && !m->seen) {
            (*problems)++;
            file_finding(c, j, t->key, "\"%s\" is in the manifest but not in part %zu", m->path,
                         t->part);
        }
    }
out:
    archive_read_free(a);
    free(src.chunk);
    return rc;
}

static int check_part(deep_ctx *c, task *t, uint64_t *bytes)
{
    backup_job *j = t->job;
    const backup_part *want = j->b->meta.has_extended && t->part < j->b->meta.n_parts
                                  ? &j->b->meta.parts[t->part]
                                  : NULL;
    if (want && t->size != want->size)
        return err_set("%s/%s: %" PRIu64 " bytes stored, the sentinel says %" PRIu64
                       ": truncated or replaced",
                       c->st->url, t->key, t->size, want->size);
    pipe_buffer *p = pipe_buffer_new(1024 * 1024);
    if (!p)
        return PA_ERR;
    download d = {.c = c, .key = t->key, .p = p};
    pthread_t th;
    if (pthread_create(&th, NULL, download_main, &d) != 0) {
        pipe_buffer_free(p);
        return err_set("cannot start a download thread");
    }
    size_t problems = 0;
    int rc = read_tar(c, t, p, &problems);
    char tar_err[ERR_MSG_MAX];
    snprintf(tar_err, sizeof tar_err, "%s", err_msg());
    /* Read what the tar reader left (end-of-archive padding, or everything after damage) so
     * the download runs to its end and its verdict (lzop checksums, SHA-256) stands. */
    char *drain = malloc(TAR_READ_CHUNK);
    while (drain && pipe_buffer_read(p, drain, TAR_READ_CHUNK) > 0)
        ;
    if (!drain)
        pipe_buffer_abort(p, "out of memory");
    free(drain);
    pthread_join(th, NULL);
    pipe_buffer_free(p);
    *bytes = d.stored_bytes;
    if (d.rc != PA_OK) /* the cause (checksum, truncation) beats its effect on the tar */
        return err_set("%s", d.err);
    if (rc != PA_OK)
        return err_set("%s", tar_err);
    if (want && strcmp(d.sha256, want->sha256) != 0)
        return err_set("%s/%s: SHA-256 of the stored bytes does not match the sentinel",
                       c->st->url, t->key);
    if (problems) /* listed one by one already; the part must not count as verified */
        return err_set("%s/%s: %zu member(s) do not match the manifest", c->st->url, t->key,
                       problems);
    return PA_OK;
}

static void finish_job(deep_ctx *c, backup_job *j)
{
    if (j->has_manifest) {
        /* Files of parts that exist were checked with their part. */
        for (size_t i = 0; i < j->man.n; i++) {
            const manifest_item *m = &j->man.entries[i];
            if (m->part >= j->n_parts)
                file_finding(c, j, NULL, "\"%s\" belongs to part %u, which the sentinel does "
                             "not list", m->path, m->part);
        }
    }
    pthread_mutex_lock(&c->lock);
    if (j->file_findings > MAX_FILE_FINDINGS)
        check_add(c->r, c->backup_check, SEV_CRITICAL, "%s: %zu more file problems not listed",
                  j->b->name, j->file_findings - MAX_FILE_FINDINGS);
    pthread_mutex_unlock(&c->lock);
    manifest_free(&j->man);
    for (size_t i = 0; i < j->n_parts; i++)
        free(j->part_names[i]);
    free(j->part_names);
    free(j);
}

/* ---- the queue and the workers ---- */

static void task_free(task *t)
{
    free(t->key);
    free(t->etag);
}

static void *worker_main(void *arg)
{
    deep_ctx *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        while (c->count == 0 && !c->closing)
            pthread_cond_wait(&c->not_empty, &c->lock);
        if (c->count == 0) {
            pthread_mutex_unlock(&c->lock);
            return NULL;
        }
        task t = c->queue[c->head];
        c->head = (c->head + 1) % c->cap;
        c->count--;
        pthread_cond_signal(&c->not_full);
        pthread_mutex_unlock(&c->lock);

        uint64_t bytes = 0;
        err_clear();
        int rc = t.is_part ? check_part(c, &t, &bytes) : check_wal(c, &t, &bytes);
        storage_entry e = {t.key, t.size, t.mtime, t.etag};
        if (rc == PA_OK && c->state)
            verified_state_record(c->state, &e);
        pthread_mutex_lock(&c->lock);
        deep_stats *s = t.is_part ? c->bs : c->ws;
        s->checked++;
        s->bytes += bytes;
        if (rc != PA_OK) {
            s->failed++;
            finding *f = check_add(c->r, t.is_part ? c->backup_check : c->wal_check,
                                   rc == PA_NOT_FOUND ? SEV_WARNING : SEV_CRITICAL, "%s",
                                   rc == PA_NOT_FOUND ? "object disappeared while verifying"
                                                      : err_msg());
            finding_evidence(c->r, f, "%s/%s", c->st->url, t.key);
        }
        bool last = t.is_part && --t.job->remaining == 0;
        pthread_mutex_unlock(&c->lock);
        if (last)
            finish_job(c, t.job);
        task_free(&t);
    }
}

static int enqueue(deep_ctx *c, task *t)
{
    pthread_mutex_lock(&c->lock);
    while (c->count == c->cap)
        pthread_cond_wait(&c->not_full, &c->lock);
    c->queue[(c->head + c->count) % c->cap] = *t;
    c->count++;
    if (t->is_part)
        t->job->remaining++;
    pthread_cond_signal(&c->not_empty);
    pthread_mutex_unlock(&c->lock);
    return PA_OK;
}

/* Skip what passed before; else hand it to the workers. Takes ownership of t's strings. */
static int submit(deep_ctx *c, task *t, const storage_entry *e)
{
    if (c->state && !c->o->full && verified_state_known(c->state, e)) {
        int rc = verified_state_record(c->state, e);
        pthread_mutex_lock(&c->lock);
        (t->is_part ? c->bs : c->ws)->skipped++;
        pthread_mutex_unlock(&c->lock);
        task_free(t);
        return rc;
    }
    if (!(t->key = strdup(e->key)) || !(t->etag = strdup(e->etag ? e->etag : ""))) {
        task_free(t);
        return err_set("out of memory");
    }
    return enqueue(c, t);
}

static int on_wal_object(void *arg, const storage_entry *e)
{
    deep_ctx *c = arg;
    const char *name = e->key + strlen(REPO_WAL_DIR);
    size_t len = strlen(name);
    char bare[64];
    if (len <= 4 || len - 4 >= sizeof bare || strcmp(name + len - 4, ".lzo") != 0)
        return PA_OK; /* strays are reported by the catalog */
    memcpy(bare, name, len - 4);
    bare[len - 4] = '\0';
    task t = {0};
    if (wal_name_parse(bare, &t.wal) == WAL_INVALID)
        return PA_OK;
    if ((t.wal.kind == WAL_SEGMENT || t.wal.kind == WAL_PARTIAL) &&
        t.wal.seg >= UINT64_C(0x100000000) / c->o->seg_size)
        return PA_OK;
    t.size = e->size;
    t.mtime = e->mtime;
    return submit(c, &t, e);
}

/* ---- backups ---- */

typedef struct object_list {
    storage_entry *items; /* keys and etags malloc'd */
    size_t n, cap;
} object_list;

static int collect_object(void *arg, const storage_entry *e)
{
    object_list *l = arg;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        storage_entry *p = realloc(l->items, ncap * sizeof *p);
        if (!p)
            return err_set("out of memory");
        l->items = p;
        l->cap = ncap;
    }
    storage_entry *d = &l->items[l->n];
    d->size = e->size;
    d->mtime = e->mtime;
    d->key = strdup(e->key);
    d->etag = strdup(e->etag ? e->etag : "");
    if (!d->key || !d->etag) {
        free((char *)d->key);
        free((char *)d->etag);
        return err_set("out of memory");
    }
    l->n++;
    return PA_OK;
}

static void object_list_free(object_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->items[i].key);
        free((char *)l->items[i].etag);
    }
    free(l->items);
}

static const storage_entry *object_find(const object_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i].key, key) == 0)
            return &l->items[i];
    return NULL;
}

static int load_manifest(deep_ctx *c, backup_job *j, const storage_entry *obj)
{
    const backup_part *want = &j->b->meta.manifest;
    if (obj->size != want->size)
        return err_set("%s/%s: %" PRIu64 " bytes, the sentinel says %" PRIu64, c->st->url,
                       obj->key, obj->size, want->size);
    sink *mem = memory_sink_new(MANIFEST_MAX_BYTES);
    sink *sha = mem ? sha256_filter_new(mem) : NULL;
    int rc = sha ? storage_read(c->st, obj->key, 0, 0, sha) : err_set("out of memory");
    if (rc == PA_OK)
        rc = sink_finish(sha);
    if (rc == PA_OK) {
        char hex[SHA256_HEX_LEN + 1];
        sha256_filter_hex(sha, hex);
        char where[512];
        snprintf(where, sizeof where, "%s/%s", c->st->url, obj->key);
        size_t len;
        const char *data = memory_sink_data(mem, &len);
        if (strcmp(hex, want->sha256) != 0)
            rc = err_set("%s: SHA-256 does not match the sentinel", where);
        else
            rc = manifest_parse(data, len, where, &j->man);
    }
    sink_free(sha);
    sink_free(mem);
    return rc;
}

/* Part names of a WAL-E backup: what is listed, which must be numbered 0..n-1. */
static int listed_parts(deep_ctx *c, backup_job *j, const object_list *objs, const char *dir)
{
    size_t dir_len = strlen(dir);
    j->part_names = calloc(objs->n ? objs->n : 1, sizeof *j->part_names);
    if (!j->part_names)
        return err_set("out of memory");
    for (size_t i = 0; i < objs->n; i++) {
        const char *k = objs->items[i].key;
        unsigned num;
        int used = 0;
        if (strncmp(k, dir, dir_len) != 0 ||
            sscanf(k + dir_len, "part_%8u.tar.lzo%n", &num, &used) != 1 || k[dir_len + used])
            continue;
        if (num != j->n_parts) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s: part %zu is missing (the next listed is part %u)",
                     j->b->name, j->n_parts, num);
            add_finding(c, c->backup_check, SEV_CRITICAL, k, msg);
        }
        if (!(j->part_names[j->n_parts++] = strdup(k + dir_len)))
            return err_set("out of memory");
    }
    if (j->n_parts == 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: no tar parts in the repository", j->b->name);
        add_finding(c, c->backup_check, SEV_CRITICAL, NULL, msg);
    }
    return PA_OK;
}

static int verify_backup(deep_ctx *c, const backup_info *b)
{
    backup_job *j = calloc(1, sizeof *j);
    if (!j)
        return err_set("out of memory");
    j->b = b;
    j->remaining = 1; /* the producer's reference until every part is queued */
    char prefix[256], dir[256];
    backup_object_key(prefix, sizeof prefix, b->name, "");
    backup_object_key(dir, sizeof dir, b->name, "tar_partitions/");
    object_list objs = {0};
    int rc = storage_list(c->st, prefix, collect_object, &objs);
    if (rc != PA_OK) {
        char msg[ERR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "%s: cannot list its objects: %s", b->name, err_msg());
        add_finding(c, c->backup_check, SEV_UNKNOWN, NULL, msg);
        object_list_free(&objs);
        free(j);
        return PA_OK;
    }
    if (b->meta.has_extended) {
        j->n_parts = b->meta.n_parts;
        j->part_names = calloc(j->n_parts ? j->n_parts : 1, sizeof *j->part_names);
        for (size_t i = 0; j->part_names && i < j->n_parts; i++)
            j->part_names[i] = strdup(b->meta.parts[i].name);
        if (b->meta.manifest.name) {
            char key[512];
            snprintf(key, sizeof key, "%s%s", prefix, b->meta.manifest.name);
            const storage_entry *m = object_find(&objs, key);
            if (!m) {
                add_finding(c, c->backup_check, SEV_CRITICAL, key,
                            "the manifest the sentinel names is missing");
            } else if (load_manifest(c, j, m) != PA_OK) {
                add_finding(c, c->backup_check, SEV_CRITICAL, key, err_msg());
            } else {
                j->has_manifest = true;
            }
        }
    } else {
        rc = listed_parts(c, j, &objs, dir);
    }
    if (!j->part_names)
        rc = err_set("out of memory");
    for (size_t i = 0; rc == PA_OK && i < j->n_parts; i++) {
        char key[512];
        snprintf(key, sizeof key, "%s%s", dir, j->part_names[i]);
        const storage_entry *e = object_find(&objs, key);
        if (!e) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s: part %s is missing: the backup cannot be restored",
                     b->name, j->part_names[i]);
            add_finding(c, c->backup_check, SEV_CRITICAL, key, msg);
            continue;
        }
        task t = {.is_part = true, .size = e->size, .mtime = e->mtime, .job = j, .part = i};
        rc = submit(c, &t, e);
    }
    /* Parts stored but not in the sentinel: leftovers of another attempt, or tampering. */
    for (size_t i = 0; rc == PA_OK && b->meta.has_extended && i < objs.n; i++) {
        const char *k = objs.items[i].key;
        if (strncmp(k, dir, strlen(dir)) != 0)
            continue;
        bool known = false;
        for (size_t p = 0; p < j->n_parts && !known; p++)
            known = strcmp(k + strlen(dir), j->part_names[p]) == 0;
        if (!known) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s: %s is stored but not listed in the sentinel",
                     b->name, k + strlen(dir));
            add_finding(c, c->backup_check, SEV_WARNING, k, msg);
        }
    }
    object_list_free(&objs);
    pthread_mutex_lock(&c->lock);
    bool last = --j->remaining == 0;
    pthread_mutex_unlock(&c->lock);
    if (last)
        finish_job(c, j);
    return rc;
}

int deep_verify(storage *st, const backup_list *backups, const deep_options *o, report *r,
                deep_stats *wal_stats, deep_stats *backup_stats)
{
    if (lzop_library_init() != PA_OK)
        return PA_ERR;
    deep_ctx c = {.st = st, .o = o, .r = r, .ws = wal_stats, .bs = backup_stats,
                  .sysid = o->system_identifier,
                  .sysid_from = o->system_identifier ? "the backups' sentinels" : NULL};
    c.wal_check = report_check(r, WAL_CHECK);
    c.backup_check = report_check(r, BACKUP_CHECK);
    c.cap = (size_t)o->jobs * 4;
    if (!(c.queue = calloc(c.cap, sizeof *c.queue)))
        return err_set("out of memory");
    if (o->state_path && verified_state_open(o->state_path, st->url, o->full, &c.state) != PA_OK) {
        free(c.queue);
        return PA_ERR;
    }
    pthread_mutex_init(&c.lock, NULL);
    pthread_cond_init(&c.not_empty, NULL);
    pthread_cond_init(&c.not_full, NULL);
    pthread_t *threads = calloc(o->jobs, sizeof *threads);
    unsigned started = 0;
    int rc = threads ? PA_OK : err_set("out of memory");
    for (; rc == PA_OK && started < o->jobs; started++)
        if (pthread_create(&threads[started], NULL, worker_main, &c) != 0)
            rc = err_set("cannot start verification threads");
    if (rc == PA_OK) {
        rc = storage_list(st, REPO_WAL_DIR, on_wal_object, &c);
        if (rc != PA_OK) {
            char msg[ERR_MSG_MAX + 64];
            snprintf(msg, sizeof msg, "cannot list the WAL archive: %s", err_msg());
            add_finding(&c, c.wal_check, SEV_UNKNOWN, NULL, msg);
            rc = PA_OK;
        }
    }
    for (size_t i = 0; rc == PA_OK && i < backups->n; i++)
        if (backups->items[i].complete)
            rc = verify_backup(&c, &backups->items[i]);
    pthread_mutex_lock(&c.lock);
    c.closing = true;
    pthread_cond_broadcast(&c.not_empty);
    pthread_mutex_unlock(&c.lock);
    for (unsigned i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    if (rc == PA_OK && c.state && verified_state_commit(c.state) != PA_OK) {
        char msg[ERR_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "the next run will check everything again: %s", err_msg());
        add_finding(&c, c.wal_check, SEV_WARNING, NULL, msg);
    }
    verified_state_free(c.state);
    check_set_summary(r, c.wal_check,
                      "%" PRIu64 " WAL object(s) checked, %" PRIu64 " unchanged since verified, %"
                      PRIu64 " failed",
                      wal_stats->checked, wal_stats->skipped, wal_stats->failed);
    check_set_summary(r, c.backup_check,
                      "%" PRIu64 " backup part(s) checked, %" PRIu64 " unchanged since verified, %"
                      PRIu64 " failed",
                      backup_stats->checked, backup_stats->skipped, backup_stats->failed);
    pthread_cond_destroy(&c.not_empty);
    pthread_cond_destroy(&c.not_full);
    pthread_mutex_destroy(&c.lock);
    free(c.queue);
    return rc;
}
