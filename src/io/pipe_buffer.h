/*
 * pipe_buffer.h — a bounded byte pipe between a producer thread that pushes (a sink at the
 * end of a storage read → decompress chain) and a consumer thread that pulls (libarchive's
 * read callback). Storage reads push and libarchive pulls; this joins the two with a fixed
 * amount of memory whatever the stream's size.
 *
 *   producer: sink_write() blocks while the pipe is full; sink_finish() marks the end.
 *   consumer: pipe_buffer_read() blocks while the pipe is empty; 0 means end of stream.
 *   either side may pipe_buffer_abort() with a message: the other side's next (or pending)
 *   call fails with PA_ERR and that message, so neither thread waits forever.
 *
 * Ownership: pipe_buffer_new() returns the pipe; the sink returned by pipe_buffer_sink()
 * belongs to it. Free with pipe_buffer_free() once both threads are done with it.
 */
#ifndef PGATTEST_IO_PIPE_BUFFER_H
#define PGATTEST_IO_PIPE_BUFFER_H

#include <stddef.h>
#include <sys/types.h>

#include "io/sink.h"

typedef struct pipe_buffer pipe_buffer;

/* capacity in bytes (> 0). NULL with err_msg() set on failure. */
pipe_buffer *pipe_buffer_new(size_t capacity);
void pipe_buffer_free(pipe_buffer *p);
/* The producer's end. Not to be sink_free()d: pipe_buffer_free() releases it. */
sink *pipe_buffer_sink(pipe_buffer *p);
/* Up to len bytes; 0 at the end of the stream; -1 after an abort (err_msg() set). */
ssize_t pipe_buffer_read(pipe_buffer *p, void *data, size_t len);
/* Stop the pipe: both sides fail from now on with `message` (copied). The first abort's
 * message is kept. */
void pipe_buffer_abort(pipe_buffer *p, const char *message);

#endif
