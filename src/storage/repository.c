#include "storage/repository.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

storage *repository_open(const char *option_prefix)
{
    const char *url = option_prefix;
    const char *source = "--prefix";
    if (!url || !*url) {
        source = "PGATTEST_PREFIX";
        url = getenv(source);
    }
    if (!url || !*url) {
        source = "WALE_S3_PREFIX";
        url = getenv(source);
    }
    if (!url || !*url) {
        err_set("no repository: set PGATTEST_PREFIX (e.g. file:///var/backups/pg or "
                "s3://bucket/path), WALE_S3_PREFIX, or pass --prefix");
        return NULL;
    }
    storage *st = storage_open(url);
    if (!st)
        err_prefix("%s", source);
    return st;
}
