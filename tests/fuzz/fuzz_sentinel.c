/* libFuzzer target: sentinel_parse on arbitrary bytes; a parsed sentinel must serialize and
 * parse again. */
#include <stdlib.h>
#include <string.h>

#include "catalog/sentinel.h"
#include "common/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sentinel s;
    if (sentinel_parse((const char *)data, size, "fuzz", &s) != PA_OK)
        return 0;
    char *json = sentinel_to_json(&s);
    if (json) {
        sentinel again;
        if (sentinel_parse(json, strlen(json), "fuzz-again", &again) != PA_OK)
            abort(); /* what we write we must read */
        sentinel_free(&again);
        free(json);
    }
    sentinel_free(&s);
    return 0;
}
