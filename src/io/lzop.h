/*
 * lzop.h — the lzop container format (what `lzop` writes and WAL-E stores) as filters.
 *
 * Compression uses LZO1X-1 from liblzo2 and writes lzop's header and blocks, each block with
 * an Adler-32 of its uncompressed and (when compressed) compressed bytes, so `lzop -t`
 * checks every block. Decompression accepts what lzop 1.0x writes: methods LZO1X-1,
 * LZO1X-1(15) and LZO1X-999, Adler-32 or CRC-32 checksums, blocks up to lzop's 64 MiB limit.
 * Corruption (bad magic, header or block checksum, impossible sizes, truncation, trailing
 * bytes) is an error naming the block and offset; nothing is written downstream for a block
 * whose checksum fails.
 *
 * Memory: about 2 x block size per filter; the filters do not own `next`.
 */
#ifndef PGATTEST_IO_LZOP_H
#define PGATTEST_IO_LZOP_H

#include <stdint.h>

#include "io/sink.h"

#define LZOP_DEFAULT_BLOCK_SIZE (256u * 1024u)
#define LZOP_MAX_BLOCK_SIZE (64u * 1024u * 1024u)

/* block_size 0 = default. mtime goes into the header (what `lzop -d` restores).
 * threads > 1 compresses blocks on that many worker threads (output is identical);
 * `next` is still only ever called from the caller's thread. */
sink *lzop_compress_new(sink *next, uint32_t block_size, int64_t mtime, int threads);
sink *lzop_decompress_new(sink *next);
/* Uncompressed bytes produced / consumed so far. */
uint64_t lzop_decompress_output_bytes(sink *s);

/* Initialise liblzo2 once per process (thread-safe); called by the constructors. */
int lzop_library_init(void);

#endif
