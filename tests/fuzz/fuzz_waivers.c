/* libFuzzer target: waivers_parse on arbitrary bytes, then matching against a gap. */
#include <stdlib.h>

#include "audit/waiver.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    waiver_list l;
    if (waivers_parse((const char *)data, size, "fuzz", &l) != PA_OK)
        return 0;
    for (uint32_t tli = 1; tli < 4; tli++)
        waivers_match(&l, "wal.continuity", tli, 5, 9, 16u << 20, 1800000000);
    waivers_free(&l);
    return 0;
}
