/*
 * handoff.h — a bounded in-memory channel from a thread that pushes bytes (a sink, the end of
 * a filter chain) to a thread that pulls them (libarchive's read callback), without a pipe's
 * system calls. Memory: `capacity` bytes.
 *
 * The writer pushes through handoff_sink() and calls handoff_writer_done() when it stops,
 * successfully or not: the reader then sees end of input. When the reader gives up early
 * (handoff_reader_done), later writes are accepted and dropped, so the writer's own verdict
 * (checksums at the end of the stream) is still reached.
 */
#ifndef PGATTEST_IO_HANDOFF_H
#define PGATTEST_IO_HANDOFF_H

#include <stddef.h>
#include <sys/types.h>

#include "io/sink.h"

typedef struct handoff handoff;

/* NULL on out of memory. Free with handoff_free once both sides are done. */
handoff *handoff_new(size_t capacity);
/* The writer's sink (owned by the handoff; do not free it). */
sink *handoff_sink(handoff *h);
void handoff_writer_done(handoff *h);
/* Up to len bytes, blocking until some arrive; 0 at end of input. */
size_t handoff_read(handoff *h, void *buf, size_t len);
void handoff_reader_done(handoff *h);
void handoff_free(handoff *h);

#endif
