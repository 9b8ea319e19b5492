/*
 * sink.h — the stream/filter chain: data is pushed from a source through filters into a sink.
 *
 * A sink is an ops table with the base struct first (like PostgreSQL's bbstreamer). A filter
 * is a sink that transforms what it receives and writes the result to `next`.
 *
 *   sink_write(s, data, len)   push bytes; PA_OK or an error code with err_msg() set
 *   sink_finish(s)             end of input: flush, then finish `next` (the whole chain
 *                              downstream is finished by finishing its head)
 *   sink_free(s)               release it; a sink freed without a successful finish is
 *                              aborted (a storage writer then discards its object)
 *
 * Ownership: a filter does not own `next`; whoever built the chain frees every element
 * (head first is fine: free never touches `next`). All buffers inside are bounded.
 */
#ifndef PGATTEST_IO_SINK_H
#define PGATTEST_IO_SINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct sink sink;

typedef struct sink_ops {
    const char *name;
    int (*write)(sink *s, const void *data, size_t len);
    int (*finish)(sink *s);
    void (*destroy)(sink *s);
} sink_ops;

struct sink {
    const sink_ops *ops;
    sink *next;      /* NULL for terminal sinks */
    int finished;    /* set by sink_finish on success */
};

int sink_write(sink *s, const void *data, size_t len);
int sink_finish(sink *s);
void sink_free(sink *s);

/* Read fd to EOF and push everything into s (does not finish s). `what` names the source. */
int sink_copy_fd(sink *s, int fd, const char *what);

/* Terminal sinks. */
/* Writes to fd (not closed, not fsynced: the owner of fd decides). `what` is copied. */
sink *fd_sink_new(int fd, const char *what);
/* Collects into memory up to `max` bytes (more is an error). The sink owns the memory. */
sink *memory_sink_new(size_t max);
const char *memory_sink_data(sink *s, size_t *len);
/* Counts and drops everything. */
sink *discard_sink_new(void);
uint64_t discard_sink_bytes(sink *s);

#endif
