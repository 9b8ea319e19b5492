/* libFuzzer target: the WAL page header checker on arbitrary segment contents (1 MiB
 * segments, input repeated/truncated to fill), fed in odd-sized pieces. */
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pg/wal_pages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t seg[1u << 20];
    if (size == 0)
        return 0;
    for (size_t off = 0; off < sizeof seg; off += size)
        memcpy(seg + off, data, sizeof seg - off < size ? sizeof seg - off : size);
    wal_pages_expect e = {.timeline = 1, .segno = 0, .seg_size = sizeof seg,
                          .partial = data[0] & 1, .server_version = data[0] & 2 ? 150000 : 0};
    sink *s = wal_pages_sink_new(&e, "fuzz");
    if (!s)
        return 0;
    size_t piece = (size_t)data[0] * 37 + 1;
    int rc = PA_OK;
    for (size_t off = 0; rc == PA_OK && off < sizeof seg; off += piece)
        rc = sink_write(s, seg + off, sizeof seg - off < piece ? sizeof seg - off : piece);
    if (rc == PA_OK)
        sink_finish(s);
    sink_free(s);
    return 0;
}
