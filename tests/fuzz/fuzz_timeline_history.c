/* libFuzzer target: timeline_history_parse on arbitrary bytes; what it accepts obeys
 * PostgreSQL's rules (parents below the timeline and increasing, switchpoints not
 * decreasing). */
#include <stdlib.h>

#include "common/error.h"
#include "pg/timeline_history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t tli = size ? (uint32_t)data[0] % 8 + 1 : 2;
    timeline_history h;
    if (timeline_history_parse((const char *)data, size, tli, "fuzz", &h) != PA_OK)
        return 0;
    for (size_t i = 0; i < h.n; i++) {
        if (h.switches[i].parent == 0 || h.switches[i].parent >= tli)
            abort();
        if (i && (h.switches[i].parent <= h.switches[i - 1].parent ||
                  h.switches[i].switchpoint < h.switches[i - 1].switchpoint))
            abort();
    }
    timeline_history_free(&h);
    return 0;
}
