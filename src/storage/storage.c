#include "storage/storage.h"

#include <stdlib.h>
#include <string.h>

#include "common/error.h"

storage *storage_open(const char *url)
{
    if (strncmp(url, "file://", 7) == 0) {
        const char *root = url + 7;
        if (root[0] != '/')
            return err_set("repository \"%s\": a file:// prefix needs an absolute path, "
                           "e.g. file:///var/backups/pg",
                           url),
                   NULL;
        return fs_storage_open(url, root);
    }
    if (strncmp(url, "s3://", 5) == 0)
        return s3_storage_open(url);
    err_set("repository \"%s\": unknown scheme; use file:///path or s3://bucket/path", url);
    return NULL;
}

void storage_close(storage *st)
{
    if (st)
        st->ops->close(st);
}
