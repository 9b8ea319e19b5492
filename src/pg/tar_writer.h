/*
 * tar_writer.h — a tar stream (pax restricted, as libarchive writes it) pushed into a sink.
 *
 * Members are written header first, then exactly `size` data bytes for a file. The stream is
 * unblocked: its bytes go to the sink as libarchive produces them, ending with tar's two zero
 * blocks when tar_writer_finish is called (the sink itself is not finished).
 *
 * Memory: libarchive's header buffers only; the writer does not own the sink.
 */
#ifndef PGATTEST_PG_TAR_WRITER_H
#define PGATTEST_PG_TAR_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "io/sink.h"

typedef enum tar_member_type { TAR_FILE, TAR_DIR, TAR_SYMLINK } tar_member_type;

typedef struct tar_member {
    const char *path;   /* relative, no leading '/', no trailing '/' */
    tar_member_type type;
    mode_t mode;        /* permission bits */
    int64_t mtime;
    uint32_t uid, gid;
    uint64_t size;      /* files only */
    const char *target; /* symlinks only */
} tar_member;

typedef struct tar_writer tar_writer;

/* Returns NULL with err_msg() set. */
tar_writer *tar_writer_new(sink *out);
/* Header of the next member. A file must then get exactly m->size bytes of data. */
int tar_writer_begin(tar_writer *t, const tar_member *m);
int tar_writer_data(tar_writer *t, const void *data, size_t len);
/* Data of the current file member: exactly `size` bytes read from fd (which must be the
 * member's size), also pushed into `hash` if not NULL. A file that grew is cut at `size`; one
 * that shrank while being read is padded with zeros (as pg_basebackup does: WAL replay
 * repairs it) and *shrank is set. chunk is the caller's read buffer. `what` names fd. */
int tar_writer_copy_fd(tar_writer *t, int fd, uint64_t size, sink *hash, const char *what,
                       char *chunk, size_t chunk_len, bool *shrank);
/* End of the member's data (pads to the 512-byte boundary). */
int tar_writer_end_member(tar_writer *t);
/* End of archive. */
int tar_writer_finish(tar_writer *t);
void tar_writer_free(tar_writer *t);
/* Bytes produced so far (the uncompressed tar size). */
uint64_t tar_writer_bytes(const tar_writer *t);

#endif
