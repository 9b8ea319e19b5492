/*
 * sha256.h — a pass-through filter that computes the SHA-256 and byte count of what flows
 * through it. `next` may be NULL (hash only). Digest is available after sink_finish.
 */
#ifndef PGATTEST_IO_SHA256_H
#define PGATTEST_IO_SHA256_H

#include <stdint.h>

#include "io/sink.h"

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

sink *sha256_filter_new(sink *next);
/* Valid after a successful sink_finish. */
const uint8_t *sha256_filter_digest(sink *s);
/* Lower-case hex into out (65 bytes with NUL). */
void sha256_filter_hex(sink *s, char out[SHA256_HEX_LEN + 1]);
uint64_t sha256_filter_bytes(sink *s);

/* One-shot helpers. */
void sha256_to_hex(const uint8_t digest[SHA256_LEN], char out[SHA256_HEX_LEN + 1]);
int sha256_buffer(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
