/* libFuzzer target: the lzop decompressor must reject or decode any input without crashing,
 * leaking or overrunning, whatever the chunking. The first byte picks the chunk size. */
#include <stddef.h>
#include <stdint.h>

#include "io/lzop.h"
#include "io/sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t chunk = (size_t)data[0] % 64 + 1;
    data++;
    size--;
    sink *out = discard_sink_new();
    sink *lz = lzop_decompress_new(out);
    int rc = 0;
    for (size_t off = 0; off < size && rc == 0; off += chunk)
        rc = sink_write(lz, data + off, size - off < chunk ? size - off : chunk);
    if (rc == 0)
        (void)sink_finish(lz);
    sink_free(lz);
    sink_free(out);
    return 0;
}
