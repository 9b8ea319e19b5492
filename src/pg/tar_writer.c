#include "pg/tar_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/error.h"
#include "common/fsutil.h"

struct tar_writer {
    struct archive *a;
    struct archive_entry *entry;
    sink *out;
    int sink_failed;  /* the sink's own message is in err_msg(): keep it */
    uint64_t bytes;
    uint64_t member_left;
};

static la_ssize_t on_write(struct archive *a, void *arg, const void *data, size_t len)
{
    tar_writer *t = arg;
    if (!t->out) { /* being freed without finishing: write nothing more */
        archive_set_error(a, -1, "tar stream abandoned");
        return -1;
    }
    if (sink_write(t->out, data, len) != PA_OK) {
        t->sink_failed = 1;
        archive_set_error(a, -1, "%s", err_msg());
        return -1;
    }
    t->bytes += len;
    return (la_ssize_t)len;
}

static int fail(tar_writer *t, const char *what)
{
    if (t->sink_failed)
        return PA_ERR;
    return err_set("tar: cannot %s: %s", what, archive_error_string(t->a));
}

tar_writer *tar_writer_new(sink *out)
{
    tar_writer *t = calloc(1, sizeof *t);
    if (!t) {
        err_set("out of memory");
        return NULL;
    }
    t->out = out;
    if (!(t->a = archive_write_new()) || !(t->entry = archive_entry_new())) {
        err_set("out of memory");
        goto fail;
    }
    if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(t->a, 0) != ARCHIVE_OK ||
        archive_write_open(t->a, t, NULL, on_write, NULL) != ARCHIVE_OK) {
        fail(t, "start a tar stream");
        goto fail;
    }
    return t;
fail:
    tar_writer_free(t);
    return NULL;
}

int tar_writer_begin(tar_writer *t, const tar_member *m)
{
    struct archive_entry *e = t->entry;
    archive_entry_clear(e);
    archive_entry_copy_pathname(e, m->path);
    archive_entry_set_perm(e, m->mode & 07777);
    archive_entry_set_mtime(e, m->mtime, 0);
    archive_entry_set_uid(e, m->uid);
    archive_entry_set_gid(e, m->gid);
    switch (m->type) {
    case TAR_FILE:
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_size(e, (la_int64_t)m->size);
        t->member_left = m->size;
        break;
    case TAR_DIR:
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_size(e, 0);
        t->member_left = 0;
        break;
    case TAR_SYMLINK:
        archive_entry_set_filetype(e, AE_IFLNK);
        archive_entry_copy_symlink(e, m->target);
        archive_entry_set_size(e, 0);
        t->member_left = 0;
        break;
    }
    /* ARCHIVE_WARN: a name that is not valid in the locale's charset, stored as bytes */
    int r = archive_write_header(t->a, e);
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
        fail(t, "write a header");
        err_prefix("\"%s\"", m->path);
        return PA_ERR;
    }
    return PA_OK;
}

int tar_writer_data(tar_writer *t, const void *data, size_t len)
{
    if (len > t->member_left)
        return err_set("tar: more data than the member's size");
    while (len > 0) {
        la_ssize_t n = archive_write_data(t->a, data, len);
        if (n <= 0)
            return fail(t, "write data");
        data = (const char *)data + n;
        len -= (size_t)n;
        t->member_left -= (uint64_t)n;
    }
    return PA_OK;
}

int tar_writer_copy_fd(tar_writer *t, int fd, uint64_t size, sink *hash, const char *what,
                       char *chunk, size_t chunk_len, bool *shrank)
{
    *shrank = false;
    uint64_t left = size;
    while (left > 0) {
        size_t want = left < chunk_len ? (size_t)left : chunk_len;
        ssize_t n = *shrank ? 0 : read_full(fd, chunk, want, what);
        if (n < 0)
            return PA_ERR;
        if (n == 0) {
            *shrank = true;
            memset(chunk, 0, want);
            n = (ssize_t)want;
        }
        if ((hash && sink_write(hash, chunk, (size_t)n) != PA_OK) ||
            tar_writer_data(t, chunk, (size_t)n) != PA_OK)
            return PA_ERR;
        left -= (uint64_t)n;
    }
    return PA_OK;
}

int tar_writer_end_member(tar_writer *t)
{
    if (t->member_left)
        return err_set("tar: member ended %llu bytes short of its size",
                       (unsigned long long)t->member_left);
    if (archive_write_finish_entry(t->a) != ARCHIVE_OK)
        return fail(t, "end a member");
    return PA_OK;
}

int tar_writer_finish(tar_writer *t)
{
    if (archive_write_close(t->a) != ARCHIVE_OK)
        return fail(t, "end the tar stream");
    return PA_OK;
}

void tar_writer_free(tar_writer *t)
{
    if (!t)
        return;
    if (t->entry)
        archive_entry_free(t->entry);
    t->out = NULL; /* archive_write_free closes an open archive: it must not reach the sink,
                      which may be gone already */
    if (t->a)
        archive_write_free(t->a);
    free(t);
}

uint64_t tar_writer_bytes(const tar_writer *t)
{
    return t->bytes;
}
