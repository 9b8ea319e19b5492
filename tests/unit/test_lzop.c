/* lzop container: round trips, block sizes, chunking, corruption and truncation. */
#include <lzo/lzo1x.h>

#include "common/error.h"
#include "io/checksum.h"
#include "io/lzop.h"
#include "io/sink.h"
#include "test.h"

/* Compress data (pushed in chunks of `chunk` bytes) into a malloc'd buffer. */
static int compress_threads = 1;

static char *compress(const void *data, size_t len, uint32_t block, size_t chunk, size_t *out_len)
{
    sink *mem = memory_sink_new(1u << 30);
    sink *lz = lzop_compress_new(mem, block, 1700000000, compress_threads);
    const char *p = data;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        CHECK_EQ_INT(sink_write(lz, p + off, n), PA_OK);
    }
    CHECK_EQ_INT(sink_finish(lz), PA_OK);
    size_t n;
    const char *d = memory_sink_data(mem, &n);
    char *copy = malloc(n);
    memcpy(copy, d, n);
    *out_len = n;
    sink_free(lz);
    sink_free(mem);
    return copy;
}

/* Decompress; returns the status of write+finish and the output in *out (malloc'd). */
static int decompress(const void *data, size_t len, size_t chunk, char **out, size_t *out_len)
{
    sink *mem = memory_sink_new(1u << 30);
    sink *lz = lzop_decompress_new(mem);
    int rc = PA_OK;
    const char *p = data;
    for (size_t off = 0; off < len && rc == PA_OK; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        rc = sink_write(lz, p + off, n);
    }
    if (rc == PA_OK)
        rc = sink_finish(lz);
    size_t n;
    const char *d = memory_sink_data(mem, &n);
    *out = malloc(n + 1);
    memcpy(*out, d, n);
    *out_len = n;
    sink_free(lz);
    sink_free(mem);
    return rc;
}

static void round_trip(size_t len, uint32_t block, size_t in_chunk, size_t out_chunk, int random)
{
    char *data = malloc(len + 1);
    if (random)
        test_random_bytes(data, len, len + block);
    else
        for (size_t i = 0; i < len; i++)
            data[i] = (char)("pgattest WAL "[i % 13] + (i / 4096) % 3);
    size_t clen, dlen;
    char *c = compress(data, len, block, in_chunk, &clen);
    char *d = NULL;
    CHECK_EQ_INT(decompress(c, clen, out_chunk, &d, &dlen), PA_OK);
    CHECK_EQ_INT(dlen, len);
    CHECK(len == 0 || memcmp(d, data, len) == 0);
    if (!random && len > 100000)
        CHECK(clen < len / 4);
    free(c);
    free(d);
    free(data);
}

static void test_round_trips(void)
{
    round_trip(0, 0, 1, 1, 0);
    round_trip(1, 0, 1, 1, 0);
    round_trip(100, 0, 7, 3, 1);
    round_trip(256 * 1024, 0, 65536, 4096, 0);     /* exactly one block */
    round_trip(256 * 1024 + 1, 0, 1000, 1 << 20, 0); /* block + 1 byte */
    round_trip(3 * 1024 * 1024 + 17, 0, 1 << 20, 777, 0);
    round_trip(1024 * 1024, 0, 1 << 16, 1 << 16, 1); /* incompressible: stored blocks */
    round_trip(1024 * 1024, 4096, 1 << 16, 1 << 16, 0);
    round_trip(5 * 1024 * 1024, 4 * 1024 * 1024, 1 << 20, 1 << 20, 1);
}

/* The worker pool produces byte-identical output, whatever the chunking. */
static void test_threads_identical_output(void)
{
    size_t len = 5 * 1024 * 1024 + 12345;
    char *data = malloc(len);
    test_random_bytes(data, len / 3, 99);
    for (size_t i = len / 3; i < len; i++)
        data[i] = (char)("abcdefgh"[i % 8] + (i / 100000) % 5);
    size_t len1, len3;
    compress_threads = 1;
    char *one = compress(data, len, 64 * 1024, 100000, &len1);
    compress_threads = 3;
    char *three = compress(data, len, 64 * 1024, 7777, &len3);
    CHECK_EQ_INT(len1, len3);
    CHECK(len1 == len3 && memcmp(one, three, len1) == 0);
    round_trip(len, 4096, 1 << 20, 65536, 0); /* many small blocks through the pool */
    round_trip(0, 0, 1, 1, 0);
    round_trip(100, 0, 1, 1, 1);
    compress_threads = 1;
    free(one);
    free(three);
    free(data);
}

/* ISA-L's checksums give what liblzo2's give (and lzop expects), for any length and split. */
static void test_checksums_match_liblzo2(void)
{
    CHECK_EQ_INT(lzo_init(), LZO_E_OK);
    size_t lens[] = {0, 1, 15, 16, 17, 5551, 5552, 5553, 65536, 1000003};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        size_t n = lens[i];
        unsigned char *d = malloc(n + 1);
        test_random_bytes(d, n, n + 3);
        if (n > 100)
            memset(d + n / 2, 0xff, n / 4); /* long runs of 0xff stress Adler-32's modulo */
        CHECK_EQ_INT(adler32_update(ADLER32_INIT, d, n), lzo_adler32(1, d, n));
        CHECK_EQ_INT(crc32_update(CRC32_INIT, d, n), lzo_crc32(0, d, n));
        uint32_t a = ADLER32_INIT, c = CRC32_INIT;
        for (size_t off = 0; off < n; off += 777) {
            size_t k = n - off < 777 ? n - off : 777;
            a = adler32_update(a, d + off, k);
            c = crc32_update(c, d + off, k);
        }
        CHECK_EQ_INT(a, lzo_adler32(1, d, n));
        CHECK_EQ_INT(c, lzo_crc32(0, d, n));
        free(d);
    }
}

static void test_header_layout(void)
{
    size_t clen;
    char *c = compress("", 0, 0, 1, &clen);
    static const unsigned char magic[9] = {0x89, 'L', 'Z', 'O', 0, '\r', '\n', 0x1a, '\n'};
    CHECK(clen >= 9 && memcmp(c, magic, 9) == 0);
    /* header: magic(9) + 12 + 13 + name(0) + checksum(4), then the end marker */
    CHECK_EQ_INT(clen, 9 + 12 + 13 + 4 + 4);
    CHECK_EQ_INT(c[9 + 6], 1); /* method LZO1X-1 */
    free(c);
}

/* Every bit flip in a small stream is detected or yields the identical output (bits that do
 * not matter, such as mtime or mode, are not checked by lzop either) — never other data. */
static void test_bit_flips_detected(void)
{
    enum { LEN = 20000 };
    char data[LEN];
    for (int i = 0; i < LEN; i++)
        data[i] = (char)(i % 251 < 200 ? 'a' + i % 7 : i);
    size_t clen;
    char *c = compress(data, LEN, 8192, LEN, &clen);
    int detected = 0, harmless = 0;
    for (size_t byte = 0; byte < clen; byte++) {
        for (int bit = 0; bit < 8; bit += 3) {
            c[byte] ^= (char)(1 << bit);
            char *d;
            size_t dlen;
            int rc = decompress(c, clen, clen, &d, &dlen);
            if (rc != PA_OK) {
                detected++;
                CHECK_CONTAINS(err_msg(), "lzop");
            } else {
                CHECK(dlen == LEN && memcmp(d, data, LEN) == 0);
                harmless++;
            }
            free(d);
            c[byte] ^= (char)(1 << bit);
        }
    }
    CHECK(detected > harmless * 10);
    free(c);
}

static void test_truncation_detected(void)
{
    char data[50000];
    test_random_bytes(data, sizeof data / 2, 7);
    memset(data + sizeof data / 2, 'x', sizeof data / 2);
    size_t clen;
    char *c = compress(data, sizeof data, 16384, sizeof data, &clen);
    for (size_t cut = 0; cut < clen; cut += (cut < 64 ? 1 : 97)) {
        char *d;
        size_t dlen;
        int rc = decompress(c, cut, 1000, &d, &dlen);
        CHECK(rc != PA_OK);
        if (cut > 0 && rc != PA_OK)
            CHECK_CONTAINS(err_msg(), "truncated");
        free(d);
    }
    free(c);
}

static void test_bad_input(void)
{
    char *d;
    size_t dlen;
    CHECK(decompress("this is not lzop data at all", 28, 5, &d, &dlen) != PA_OK);
    CHECK_CONTAINS(err_msg(), "bad magic number");
    free(d);

    size_t clen;
    char *c = compress("abc", 3, 0, 3, &clen);
    char *longer = malloc(clen + 5);
    memcpy(longer, c, clen);
    memcpy(longer + clen, "extra", 5);
    CHECK(decompress(longer, clen + 5, 4096, &d, &dlen) != PA_OK);
    CHECK_CONTAINS(err_msg(), "after the end");
    free(d);
    free(longer);
    free(c);
}

static void test_oversized_block_rejected(void)
{
    /* A valid header followed by a block claiming 2^31 bytes must fail without allocating. */
    size_t clen;
    char *c = compress("", 0, 0, 1, &clen);
    char *bad = malloc(clen + 8);
    memcpy(bad, c, clen - 4);
    const unsigned char block[8] = {0x80, 0, 0, 0, 0, 0, 0, 1};
    memcpy(bad + clen - 4, block, 8);
    char *d;
    size_t dlen;
    CHECK(decompress(bad, clen + 4, 4096, &d, &dlen) != PA_OK);
    CHECK_CONTAINS(err_msg(), "64 MiB");
    free(d);
    free(bad);
    free(c);
}

TEST_MAIN(TEST(test_round_trips), TEST(test_checksums_match_liblzo2), TEST(test_threads_identical_output), TEST(test_header_layout), TEST(test_bit_flips_detected),
          TEST(test_truncation_detected), TEST(test_bad_input), TEST(test_oversized_block_rejected))
