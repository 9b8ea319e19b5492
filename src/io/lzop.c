#include "io/lzop.h"

#include <lzo/lzo1x.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "io/checksum.h"

/* Facts of the lzop file format (lzop 1.04). */
static const uint8_t LZOP_MAGIC[9] = {0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a};
enum {
    LZOP_VERSION = 0x1040,            /* format version we write (lzop 1.04)          */
    LZOP_VERSION_NEEDED = 0x0940,     /* oldest lzop that can extract what we write     */
    LZOP_MAX_VERSION_NEEDED = 0x1040, /* newest format we understand                    */
    M_LZO1X_1 = 1,
    M_LZO1X_1_15 = 2,
    M_LZO1X_999 = 3,
};
enum {
    F_ADLER32_D = 0x00000001,
    F_ADLER32_C = 0x00000002,
    F_H_EXTRA_FIELD = 0x00000040,
    F_CRC32_D = 0x00000100,
    F_CRC32_C = 0x00000200,
    F_MULTIPART = 0x00000400,
    F_H_FILTER = 0x00000800,
    F_H_CRC32 = 0x00001000,
    F_OS_UNIX = 0x03000000,
};

static pthread_once_t lzo_once = PTHREAD_ONCE_INIT;
static int lzo_init_result = LZO_E_ERROR;

static void lzo_init_once(void)
{
    lzo_init_result = lzo_init();
}

int lzop_library_init(void)
{
    pthread_once(&lzo_once, lzo_init_once);
    if (lzo_init_result != LZO_E_OK)
        return err_set("liblzo2 initialization failed (%d)", lzo_init_result);
    return PA_OK;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* ======================= compression ======================= */

/*
 * Blocks are independent, so with threads > 1 they are compressed by a small worker pool
 * while the caller's thread keeps filling the next block; finished blocks are written to
 * `next` in order, always from the caller's thread (downstream sinks are not thread-safe).
 * Memory: 2 x threads slots of (block + compressed block).
 */

typedef enum slot_state { SLOT_FREE, SLOT_FILLED, SLOT_BUSY, SLOT_DONE } slot_state;

typedef struct block_slot {
    slot_state state;
    uint8_t *in;
    size_t in_len;
    uint8_t *out;      /* block header + data, ready to write */
    size_t out_len;
    int error;         /* LZO error code when compression failed */
} block_slot;

typedef struct lzop_compressor {
    sink base;
    uint32_t block_size;
    int64_t mtime;
    int header_written;
    int nthreads;          /* 0: compress in the caller's thread */
    block_slot *slots;
    size_t nslots;
    size_t fill;           /* slot being filled by the caller */
    size_t emit;           /* next slot to write out, in order */
    void *wrkmem;          /* for the synchronous path */
    pthread_t *threads;
    pthread_mutex_t lock;
    pthread_cond_t work_ready, work_done;
    int stopping;
} lzop_compressor;

static size_t compress_bound(size_t n)
{
    return n + n / 16 + 64 + 3;
}

static int write_header(lzop_compressor *c)
{
    uint8_t h[64];
    size_t n = 0;
    memcpy(h, LZOP_MAGIC, sizeof LZOP_MAGIC);
    n = sizeof LZOP_MAGIC;
    size_t checked_from = n;
    put_be16(h + n, LZOP_VERSION), n += 2;
    put_be16(h + n, (uint16_t)(lzo_version() & 0xffff)), n += 2;
    put_be16(h + n, LZOP_VERSION_NEEDED), n += 2;
    h[n++] = M_LZO1X_1;
    h[n++] = 3; /* level: lzop's default (-3) uses LZO1X-1 */
    put_be32(h + n, F_OS_UNIX | F_ADLER32_D | F_ADLER32_C), n += 4;
    put_be32(h + n, 0100644), n += 4; /* mode */
    put_be32(h + n, (uint32_t)((uint64_t)c->mtime & 0xffffffffu)), n += 4;
    put_be32(h + n, (uint32_t)((uint64_t)c->mtime >> 32)), n += 4;
    h[n++] = 0; /* no file name */
    uint32_t check = adler32_update(ADLER32_INIT, h + checked_from, n - checked_from);
    put_be32(h + n, check), n += 4;
    c->header_written = 1;
    return sink_write(c->base.next, h, n);
}

/* Encode slot->in into slot->out: block header, checksums, then compressed data — or the
 * data as is when it does not compress (lzop stores such blocks uncompressed). */
static void encode_block(block_slot *slot, void *wrkmem)
{
    enum { MAX_HEADER = 16 };
    uint8_t *payload = slot->out + MAX_HEADER;
    lzo_uint clen = 0;
    slot->error = lzo1x_1_compress(slot->in, slot->in_len, payload, &clen, wrkmem);
    if (slot->error != LZO_E_OK)
        return;
    uint32_t dlen = (uint32_t)slot->in_len;
    uint32_t adler_d = adler32_update(ADLER32_INIT, slot->in, slot->in_len);
    uint8_t hdr[MAX_HEADER];
    size_t h = 0;
    put_be32(hdr + h, dlen), h += 4;
    if (clen < dlen) {
        put_be32(hdr + h, (uint32_t)clen), h += 4;
        put_be32(hdr + h, adler_d), h += 4;
        put_be32(hdr + h, adler32_update(ADLER32_INIT, payload, clen)), h += 4;
    } else {
        put_be32(hdr + h, dlen), h += 4;
        put_be32(hdr + h, adler_d), h += 4;
        memcpy(payload, slot->in, dlen);
        clen = dlen;
    }
    /* the header goes right before the payload so the block is one contiguous write */
    memcpy(payload - h, hdr, h);
    memmove(slot->out, payload - h, h + clen);
    slot->out_len = h + clen;
}

static void *compress_worker(void *arg)
{
    lzop_compressor *c = arg;
    void *wrkmem = malloc(LZO1X_1_MEM_COMPRESS);
    pthread_mutex_lock(&c->lock);
    for (;;) {
        block_slot *slot = NULL;
        for (size_t i = 0; i < c->nslots; i++) {
            size_t k = (c->emit + i) % c->nslots; /* oldest first */
            if (c->slots[k].state == SLOT_FILLED) {
                slot = &c->slots[k];
                break;
            }
        }
        if (!slot) {
            if (c->stopping)
                break;
            pthread_cond_wait(&c->work_ready, &c->lock);
            continue;
        }
        slot->state = SLOT_BUSY;
        pthread_mutex_unlock(&c->lock);
        if (wrkmem)
            encode_block(slot, wrkmem);
        else
            slot->error = LZO_E_OUT_OF_MEMORY;
        pthread_mutex_lock(&c->lock);
        slot->state = SLOT_DONE;
        pthread_cond_broadcast(&c->work_done);
    }
    pthread_mutex_unlock(&c->lock);
    free(wrkmem);
    return NULL;
}

/* Write out the oldest slot once it is compressed (waiting for it if `wait`). */
static int emit_oldest(lzop_compressor *c, int wait, int *emitted)
{
    block_slot *slot = &c->slots[c->emit];
    *emitted = 0;
    if (c->nthreads) {
        pthread_mutex_lock(&c->lock);
        while (wait && (slot->state == SLOT_FILLED || slot->state == SLOT_BUSY))
            pthread_cond_wait(&c->work_done, &c->lock);
        slot_state st = slot->state;
        pthread_mutex_unlock(&c->lock);
        if (st != SLOT_DONE)
            return PA_OK;
    } else if (slot->state != SLOT_DONE) {
        return PA_OK;
    }
    if (slot->error != LZO_E_OK)
        return err_set("LZO1X-1 compression failed (%d)", slot->error);
    if (!c->header_written && write_header(c) != PA_OK)
        return PA_ERR;
    int rc = sink_write(c->base.next, slot->out, slot->out_len);
    if (c->nthreads)
        pthread_mutex_lock(&c->lock);
    slot->state = SLOT_FREE;
    slot->in_len = 0;
    c->emit = (c->emit + 1) % c->nslots;
    if (c->nthreads)
        pthread_mutex_unlock(&c->lock);
    *emitted = 1;
    return rc;
}

/* The slot being filled is complete: hand it over and make the next one writable. */
static int submit_block(lzop_compressor *c)
{
    block_slot *slot = &c->slots[c->fill];
    if (c->nthreads) {
        pthread_mutex_lock(&c->lock);
        slot->state = SLOT_FILLED;
        pthread_cond_signal(&c->work_ready);
        pthread_mutex_unlock(&c->lock);
    } else {
        encode_block(slot, c->wrkmem);
        slot->state = SLOT_DONE;
    }
    c->fill = (c->fill + 1) % c->nslots;
    int emitted;
    /* Write out whatever is already done, and make sure the next slot is free. */
    do {
        if (emit_oldest(c, 0, &emitted) != PA_OK)
            return PA_ERR;
    } while (emitted && c->emit != c->fill);
    while (c->slots[c->fill].state != SLOT_FREE)
        if (emit_oldest(c, 1, &emitted) != PA_OK)
            return PA_ERR;
    return PA_OK;
}

static int lzop_compress_write(sink *s, const void *data, size_t len)
{
    lzop_compressor *c = (lzop_compressor *)s;
    const uint8_t *p = data;
    while (len > 0) {
        block_slot *slot = &c->slots[c->fill];
        size_t room = c->block_size - slot->in_len;
        size_t take = len < room ? len : room;
        memcpy(slot->in + slot->in_len, p, take);
        slot->in_len += take;
        p += take;
        len -= take;
        if (slot->in_len == c->block_size && submit_block(c) != PA_OK)
            return PA_ERR;
    }
    return PA_OK;
}

static int lzop_compress_finish(sink *s)
{
    lzop_compressor *c = (lzop_compressor *)s;
    if (c->slots[c->fill].in_len > 0 && submit_block(c) != PA_OK)
        return PA_ERR;
    int emitted;
    while (c->emit != c->fill)
        if (emit_oldest(c, 1, &emitted) != PA_OK)
            return PA_ERR;
    if (!c->header_written && write_header(c) != PA_OK)
        return PA_ERR;
    static const uint8_t end_marker[4] = {0, 0, 0, 0};
    if (sink_write(c->base.next, end_marker, sizeof end_marker) != PA_OK)
        return PA_ERR;
    return sink_finish(c->base.next);
}

static void lzop_compress_destroy(sink *s)
{
    lzop_compressor *c = (lzop_compressor *)s;
    if (c->threads) {
        pthread_mutex_lock(&c->lock);
        c->stopping = 1;
        pthread_cond_broadcast(&c->work_ready);
        pthread_mutex_unlock(&c->lock);
        for (int i = 0; i < c->nthreads; i++)
            pthread_join(c->threads[i], NULL);
        free(c->threads);
    }
    if (c->nthreads || c->threads) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->work_ready);
        pthread_cond_destroy(&c->work_done);
    }
    for (size_t i = 0; c->slots && i < c->nslots; i++) {
        free(c->slots[i].in);
        free(c->slots[i].out);
    }
    free(c->slots);
    free(c->wrkmem);
    free(c);
}

static const sink_ops lzop_compress_ops = {"lzop-compress", lzop_compress_write,
                                           lzop_compress_finish, lzop_compress_destroy};

sink *lzop_compress_new(sink *next, uint32_t block_size, int64_t mtime, int threads)
{
    if (lzop_library_init() != PA_OK)
        return NULL;
    if (block_size == 0)
        block_size = LZOP_DEFAULT_BLOCK_SIZE;
    if (block_size > LZOP_MAX_BLOCK_SIZE) {
        err_set("lzop block size %u exceeds the format's limit of %u", block_size,
                LZOP_MAX_BLOCK_SIZE);
        return NULL;
    }
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    lzop_compressor *c = calloc(1, sizeof *c);
    if (!c)
        goto oom;
    c->base.ops = &lzop_compress_ops;
    c->base.next = next;
    c->block_size = block_size;
    c->mtime = mtime;
    c->nslots = threads > 1 ? 2 * (size_t)threads : 1;
    if (!(c->slots = calloc(c->nslots, sizeof *c->slots)))
        goto oom;
    for (size_t i = 0; i < c->nslots; i++) {
        c->slots[i].in = malloc(block_size);
        c->slots[i].out = malloc(16 + compress_bound(block_size));
        if (!c->slots[i].in || !c->slots[i].out)
            goto oom;
    }
    if (threads == 1) {
        if (!(c->wrkmem = malloc(LZO1X_1_MEM_COMPRESS)))
            goto oom;
        return &c->base;
    }
    c->nthreads = threads;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->work_ready, NULL);
    pthread_cond_init(&c->work_done, NULL);
    if (!(c->threads = calloc((size_t)threads, sizeof *c->threads)))
        goto oom;
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&c->threads[i], NULL, compress_worker, c) != 0) {
            c->nthreads = i; /* join only those started */
            lzop_compress_destroy(&c->base);
            err_set("cannot start compression threads");
            return NULL;
        }
    }
    return &c->base;
oom:
    if (c) {
        c->nthreads = 0;
        free(c->threads);
        c->threads = NULL;
        lzop_compress_destroy(&c->base);
    }
    err_set("out of memory");
    return NULL;
}

/* ======================= decompression ======================= */

/* Each state wants a known number of bytes, collected in `stage`, then processed. */
enum dstate {
    D_MAGIC,        /* 9: magic number                                           */
    D_FIXED,        /* 12: version, lib version, version needed, method, level, flags */
    D_MODE,         /* 13: mode, mtime low, mtime high, name length              */
    D_NAME,         /* name length + 4: name, header checksum                    */
    D_EXTRA_LEN,    /* 4: extra field length                                     */
    D_EXTRA,        /* extra length + 4: extra field, its checksum               */
    D_BLOCK_LEN,    /* 4: uncompressed length (0 = end of stream)                */
    D_BLOCK_HDR,    /* 4 + 4 per data checksum: compressed length, checksums     */
    D_BLOCK_CCHECK, /* 4 per compressed-data checksum (only if compressed)       */
    D_BLOCK_DATA,   /* compressed length                                         */
    D_DONE,
    D_FAILED,
};

typedef struct lzop_decompressor {
    sink base;
    enum dstate state;
    uint8_t *stage;
    size_t stage_len;
    size_t stage_cap;
    size_t need;
    uint32_t flags;
    uint8_t header[9 + 12 + 13 + 255]; /* header after the magic, for its checksum */
    size_t header_len;
    uint64_t block_no;     /* 1-based number of the block being read */
    uint64_t in_offset;    /* compressed bytes consumed before the current item */
    uint64_t out_bytes;
    uint32_t dst_len, src_len, check_d, check_c;
    uint8_t *out;
    size_t out_cap;
} lzop_decompressor;

static uint32_t lzop_checksum(int crc, const uint8_t *p, size_t n)
{
    return crc ? crc32_update(CRC32_INIT, p, n) : adler32_update(ADLER32_INIT, p, n);
}

static int grow(uint8_t **p, size_t *cap, size_t need)
{
    if (*cap >= need)
        return PA_OK;
    uint8_t *q = realloc(*p, need);
    if (!q)
        return err_set("out of memory (%zu bytes)", need);
    *p = q;
    *cap = need;
    return PA_OK;
}

static int corrupt(lzop_decompressor *d, const char *what)
{
    int in_blocks = d->state >= D_BLOCK_LEN;
    d->state = D_FAILED;
    if (in_blocks)
        return err_set("corrupt lzop data: %s (block %llu, compressed offset %llu)", what,
                       (unsigned long long)d->block_no, (unsigned long long)d->in_offset);
    return err_set("corrupt lzop data: %s (header, offset %llu)", what,
                   (unsigned long long)d->in_offset);
}

static int want(lzop_decompressor *d, enum dstate st, size_t need)
{
    d->state = st;
    d->need = need;
    d->stage_len = 0;
    return grow(&d->stage, &d->stage_cap, need ? need : 1);
}

static int data_checksums(uint32_t flags)
{
    return !!(flags & F_ADLER32_D) + !!(flags & F_CRC32_D);
}

static int compressed_checksums(uint32_t flags)
{
    return !!(flags & F_ADLER32_C) + !!(flags & F_CRC32_C);
}

static int keep_header(lzop_decompressor *d, const uint8_t *p, size_t n)
{
    memcpy(d->header + d->header_len, p, n);
    d->header_len += n;
    return PA_OK;
}

static int emit_block(lzop_decompressor *d)
{
    const uint8_t *data = d->stage;
    int crc_d = !!(d->flags & F_CRC32_D);
    int crc_c = !!(d->flags & F_CRC32_C);
    const uint8_t *plain = data;
    if (d->src_len < d->dst_len) {
        if (compressed_checksums(d->flags) && lzop_checksum(crc_c, data, d->src_len) != d->check_c)
            return corrupt(d, "checksum mismatch in compressed data");
        if (grow(&d->out, &d->out_cap, d->dst_len) != PA_OK)
            return PA_ERR;
        lzo_uint got = d->dst_len;
        int r = lzo1x_decompress_safe(data, d->src_len, d->out, &got, NULL);
        if (r != LZO_E_OK || got != d->dst_len)
            return corrupt(d, "LZO1X data does not decompress");
        plain = d->out;
    }
    if (data_checksums(d->flags) && lzop_checksum(crc_d, plain, d->dst_len) != d->check_d)
        return corrupt(d, "checksum mismatch in uncompressed data");
    d->out_bytes += d->dst_len;
    return sink_write(d->base.next, plain, d->dst_len);
}

static int process_item(lzop_decompressor *d)
{
    const uint8_t *p = d->stage;
    switch (d->state) {
    case D_MAGIC:
        if (memcmp(p, LZOP_MAGIC, sizeof LZOP_MAGIC) != 0)
            return corrupt(d, "not an lzop file (bad magic number)");
        return want(d, D_FIXED, 12);
    case D_FIXED: {
        uint16_t version = get_be16(p);
        /* Formats before 0.94 have a different header layout; nothing writes them now. */
        if (version < 0x0940)
            return corrupt(d, "lzop format older than 0.94 is not supported");
        if (get_be16(p + 4) > LZOP_MAX_VERSION_NEEDED)
            return corrupt(d, "file needs an lzop newer than 1.04");
        uint8_t method = p[6];
        if (method != M_LZO1X_1 && method != M_LZO1X_1_15 && method != M_LZO1X_999)
            return corrupt(d, "unsupported compression method");
        d->flags = get_be32(p + 8);
        if (d->flags & F_H_FILTER)
            return corrupt(d, "lzop filters are not supported");
        if (d->flags & F_MULTIPART)
            return corrupt(d, "multi-part lzop files are not supported");
        keep_header(d, p, 12);
        return want(d, D_MODE, 13);
    }
    case D_MODE:
        keep_header(d, p, 13);
        return want(d, D_NAME, (size_t)p[12] + 4);
    case D_NAME: {
        size_t name_len = d->need - 4;
        keep_header(d, p, name_len);
        uint32_t stored = get_be32(p + name_len);
        if (lzop_checksum(!!(d->flags & F_H_CRC32), d->header, d->header_len) != stored)
            return corrupt(d, "header checksum mismatch");
        if (d->flags & F_H_EXTRA_FIELD)
            return want(d, D_EXTRA_LEN, 4);
        return want(d, D_BLOCK_LEN, 4);
    }
    case D_EXTRA_LEN: {
        uint32_t len = get_be32(p);
        if (len > 64 * 1024)
            return corrupt(d, "implausible extra field length");
        return want(d, D_EXTRA, (size_t)len + 4);
    }
    case D_EXTRA: /* content ignored, as lzop does; its checksum is not worth failing on */
        return want(d, D_BLOCK_LEN, 4);
    case D_BLOCK_LEN:
        d->dst_len = get_be32(p);
        d->block_no++;
        if (d->dst_len == 0) {
            d->state = D_DONE;
            return PA_OK;
        }
        if (d->dst_len > LZOP_MAX_BLOCK_SIZE)
            return corrupt(d, "block larger than lzop's 64 MiB limit");
        return want(d, D_BLOCK_HDR, 4 + 4 * (size_t)data_checksums(d->flags));
    case D_BLOCK_HDR:
        d->src_len = get_be32(p);
        if (d->src_len == 0 || d->src_len > d->dst_len)
            return corrupt(d, "impossible compressed block length");
        /* Adler-32 comes before CRC-32 when both are present; we check the last one. */
        if (data_checksums(d->flags))
            d->check_d = get_be32(p + 4 * (size_t)data_checksums(d->flags));
        if (d->src_len < d->dst_len && compressed_checksums(d->flags))
            return want(d, D_BLOCK_CCHECK, 4 * (size_t)compressed_checksums(d->flags));
        return want(d, D_BLOCK_DATA, d->src_len);
    case D_BLOCK_CCHECK:
        d->check_c = get_be32(p + 4 * (size_t)(compressed_checksums(d->flags) - 1));
        return want(d, D_BLOCK_DATA, d->src_len);
    case D_BLOCK_DATA:
        if (emit_block(d) != PA_OK)
            return PA_ERR;
        return want(d, D_BLOCK_LEN, 4);
    case D_DONE:
    case D_FAILED:
        break;
    }
    return PA_OK;
}

static int lzop_decompress_write(sink *s, const void *data, size_t len)
{
    lzop_decompressor *d = (lzop_decompressor *)s;
    const uint8_t *p = data;
    while (len > 0) {
        if (d->state == D_FAILED)
            return err_set("lzop stream already failed");
        if (d->state == D_DONE)
            return corrupt(d, "unexpected data after the end of the lzop stream");
        size_t take = d->need - d->stage_len;
        if (take > len)
            take = len;
        memcpy(d->stage + d->stage_len, p, take);
        d->stage_len += take;
        p += take;
        len -= take;
        if (d->stage_len == d->need) {
            uint64_t item = d->need;
            if (process_item(d) != PA_OK)
                return PA_ERR;
            d->in_offset += item;
        }
    }
    return PA_OK;
}

static int lzop_decompress_finish(sink *s)
{
    lzop_decompressor *d = (lzop_decompressor *)s;
    if (d->state == D_FAILED)
        return err_set("lzop stream already failed");
    if (d->state != D_DONE) {
        d->in_offset += d->stage_len;
        return corrupt(d, d->state < D_BLOCK_LEN ? "truncated (ends inside the header)"
                                                 : "truncated (no end-of-stream marker)");
    }
    return sink_finish(d->base.next);
}

static void lzop_decompress_destroy(sink *s)
{
    lzop_decompressor *d = (lzop_decompressor *)s;
    free(d->stage);
    free(d->out);
    free(d);
}

static const sink_ops lzop_decompress_ops = {"lzop-decompress", lzop_decompress_write,
                                             lzop_decompress_finish, lzop_decompress_destroy};

sink *lzop_decompress_new(sink *next)
{
    if (lzop_library_init() != PA_OK)
        return NULL;
    lzop_decompressor *d = calloc(1, sizeof *d);
    if (!d) {
        err_set("out of memory");
        return NULL;
    }
    d->base.ops = &lzop_decompress_ops;
    d->base.next = next;
    if (want(d, D_MAGIC, sizeof LZOP_MAGIC) != PA_OK) {
        lzop_decompress_destroy(&d->base);
        return NULL;
    }
    return &d->base;
}

uint64_t lzop_decompress_output_bytes(sink *s)
{
    return ((lzop_decompressor *)s)->out_bytes;
}
