#include "pg/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fsutil.h"

int pg_control_system_identifier(const char *pgdata, uint64_t *out)
{
    char *path = path_join(pgdata, "global/pg_control");
    if (!path)
        return err_set("out of memory");
    int rc = PA_ERR;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_errno(errno, "cannot read \"%s\" (is \"%s\" a PostgreSQL data directory?)", path,
                  pgdata);
        goto out;
    }
    uint64_t id;
    ssize_t n = read_full(fd, &id, sizeof id, path);
    close(fd);
    if (n < 0)
        goto out;
    if ((size_t)n < sizeof id) {
        err_set("\"%s\" is truncated (%zd bytes)", path, n);
        goto out;
    }
    *out = id;
    rc = PA_OK;
out:
    free(path);
    return rc;
}
