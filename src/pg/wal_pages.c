#include "pg/wal_pages.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

#define XLP_LONG_HEADER 0x0002
#define SHORT_HEADER 24
#define LONG_HEADER 40
#define MAX_PAGE (64u * 1024)

typedef struct wal_pages_sink {
    sink base;
    wal_pages_expect e;
    char where[512];
    uint8_t *page;          /* MAX_PAGE bytes */
    uint32_t page_size;     /* 0 until page 0's long header gave it */
    size_t filled;          /* bytes of the current page */
    uint64_t total;
    uint64_t page_no;
    uint16_t magic;
    uint32_t last_tli;
    uint64_t sysid;
    bool zero_tail;         /* an all-zero page was seen: the rest must be zero */
    bool stale_tail;        /* .partial: past the end of valid WAL, nothing checked */
} wal_pages_sink;

static const struct {
    uint32_t major;
    uint16_t magic;
} magics[] = {{10, 0xD097}, {11, 0xD098}, {12, 0xD101}, {13, 0xD106},
              {14, 0xD10D}, {15, 0xD110}, {16, 0xD113}, {17, 0xD116}};

uint16_t wal_page_magic_for_version(uint32_t server_version)
{
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (magics[i].major == server_version / 10000)
            return magics[i].magic;
    return 0;
}

static bool magic_known(uint16_t m)
{
    for (size_t i = 0; i < sizeof magics / sizeof *magics; i++)
        if (magics[i].magic == m)
            return true;
    return false;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static int check_page(wal_pages_sink *w, const uint8_t *p)
{
    uint64_t offset = w->page_no * w->page_size;
    if (w->stale_tail)
        return PA_OK;
    if (w->zero_tail) {
        if (!all_zero(p, w->page_size))
            return err_set("%s: page at offset %" PRIu64 " follows an all-zero page but is not "
                           "zero: WAL after the end of WAL",
                           w->where, offset);
        return PA_OK;
    }
    if (w->page_no > 0 && all_zero(p, w->page_size)) {
        w->zero_tail = true;
        return PA_OK;
    }
    uint16_t magic, info;
    uint32_t tli;
    uint64_t pageaddr;
    memcpy(&magic, p, 2);
    memcpy(&info, p + 2, 2);
    memcpy(&tli, p + 4, 4);
    memcpy(&pageaddr, p + 8, 8);
    uint64_t expected_addr = w->e.segno * w->e.seg_size + offset;
    bool valid_continuation = magic == w->magic && pageaddr == expected_addr;
    if (w->page_no > 0 && w->e.partial && !valid_continuation) {
        w->stale_tail = true; /* the promotion happened before this page */
        return PA_OK;
    }
    if (w->page_no > 0 && magic != w->magic)
        return err_set("%s: page at offset %" PRIu64 " has magic 0x%04X, page 0 has 0x%04X",
                       w->where, offset, magic, w->magic);
    if (pageaddr != expected_addr)
        return err_set("%s: page at offset %" PRIu64 " says it is at %X/%X, not %X/%X: the "
                       "object holds another segment's WAL",
                       w->where, offset, (uint32_t)(pageaddr >> 32), (uint32_t)pageaddr,
                       (uint32_t)(expected_addr >> 32), (uint32_t)expected_addr);
    if (tli == 0 || tli > w->e.timeline || tli < w->last_tli)
        return err_set("%s: page at offset %" PRIu64 " is on timeline %u (file's timeline %u, "
                       "previous page %u)",
                       w->where, offset, tli, w->e.timeline, w->last_tli);
    if (w->page_no > 0 && (info & XLP_LONG_HEADER))
        return err_set("%s: page at offset %" PRIu64 " has a long header", w->where, offset);
    w->last_tli = tli;
    return PA_OK;
}

/* Page 0: the long header tells the page size; check it before anything else. */
static int check_first(wal_pages_sink *w)
{
    const uint8_t *p = w->page;
    uint16_t magic, info;
    uint64_t sysid;
    uint32_t seg_size, blcksz;
    memcpy(&magic, p, 2);
    memcpy(&info, p + 2, 2);
    memcpy(&sysid, p + 24, 8);
    memcpy(&seg_size, p + 32, 4);
    memcpy(&blcksz, p + 36, 4);
    uint16_t want = wal_page_magic_for_version(w->e.server_version);
    if (want ? magic != want : !magic_known(magic))
        return err_set("%s: WAL page magic 0x%04X %s", w->where, magic,
                       want ? "does not match the server version" : "is not a known version's");
    if (!(info & XLP_LONG_HEADER))
        return err_set("%s: the first page has no long header", w->where);
    if (seg_size != w->e.seg_size)
        return err_set("%s: the long header says the segment size is %u, expected %u", w->where,
                       seg_size, w->e.seg_size);
    if (blcksz < 1024 || blcksz > MAX_PAGE || (blcksz & (blcksz - 1)) || blcksz > seg_size)
        return err_set("%s: the long header has an impossible block size %u", w->where, blcksz);
    if (w->e.system_identifier && sysid != w->e.system_identifier)
        return err_set("%s: system identifier %" PRIu64 " is not the backups' %" PRIu64
                       ": WAL of another cluster",
                       w->where, sysid, w->e.system_identifier);
    w->magic = magic;
    w->sysid = sysid;
    w->page_size = blcksz;
    return PA_OK;
}

static int pages_write(sink *s, const void *data, size_t len)
{
    wal_pages_sink *w = (wal_pages_sink *)s;
    const uint8_t *p = data;
    w->total += len;
    if (w->total > w->e.seg_size)
        return err_set("%s: longer than a %u-byte segment", w->where, w->e.seg_size);
    while (len > 0) {
        size_t want = (w->page_size ? w->page_size : LONG_HEADER) - w->filled;
        size_t n = len < want ? len : want;
        memcpy(w->page + w->filled, p, n);
        w->filled += n;
        p += n;
        len -= n;
        if (!w->page_size) {
            if (w->filled < LONG_HEADER)
                continue;
            if (check_first(w) != PA_OK)
                return PA_ERR;
            continue; /* now gather the rest of page 0 */
        }
        if (w->filled == w->page_size) {
            if (check_page(w, w->page) != PA_OK)
                return PA_ERR;
            w->page_no++;
            w->filled = 0;
        }
    }
    return PA_OK;
}

static int pages_finish(sink *s)
{
    wal_pages_sink *w = (wal_pages_sink *)s;
    if (w->total != w->e.seg_size)
        return err_set("%s: %" PRIu64 " bytes, not a %u-byte segment: truncated", w->where,
                       w->total, w->e.seg_size);
    return PA_OK;
}

static void pages_destroy(sink *s)
{
    wal_pages_sink *w = (wal_pages_sink *)s;
    free(w->page);
    free(w);
}

static const sink_ops pages_ops = {"wal-pages", pages_write, pages_finish, pages_destroy};

sink *wal_pages_sink_new(const wal_pages_expect *expect, const char *where)
{
    wal_pages_sink *w = calloc(1, sizeof *w);
    if (!w || !(w->page = malloc(MAX_PAGE))) {
        free(w);
        err_set("out of memory");
        return NULL;
    }
    w->base.ops = &pages_ops;
    w->e = *expect;
    snprintf(w->where, sizeof w->where, "%s", where);
    return &w->base;
}

uint64_t wal_pages_system_identifier(sink *s) { return ((wal_pages_sink *)s)->sysid; }
