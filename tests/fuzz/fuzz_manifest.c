/* libFuzzer target: manifest_parse on arbitrary bytes; every accepted entry can be found. */
#include <stdlib.h>

#include "catalog/manifest_reader.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest m;
    if (manifest_parse((const char *)data, size, "fuzz", &m) != PA_OK)
        return 0;
    for (size_t i = 0; i < m.n; i++)
        if (manifest_find(&m, m.entries[i].path) != &m.entries[i])
            abort();
    manifest_free(&m);
    return 0;
}
