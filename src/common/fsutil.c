#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

char *path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && a[la - 1] == '/')
        la--;
    while (lb && b[0] == '/') {
        b++;
        lb--;
    }
    char *p = malloc(la + 1 + lb + 1);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    p[la] = '/';
    memcpy(p + la + 1, b, lb);
    p[la + 1 + lb] = '\0';
    return p;
}

char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

const char *path_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int write_all(int fd, const void *data, size_t len, const char *what)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_errno(errno, "cannot write \"%s\"", what);
        }
        p += n;
        len -= (size_t)n;
    }
    return PA_OK;
}

ssize_t read_full(int fd, void *data, size_t len, const char *what)
{
    size_t got = 0;
    char *p = data;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            err_errno(errno, "cannot read \"%s\"", what);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_errno(errno, "cannot open directory \"%s\"", dir);
    int rc = PA_OK;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = err_errno(errno, "cannot fsync directory \"%s\"", dir);
    close(fd);
    return rc;
}

int mkdir_durable(const char *dir, mode_t mode)
{
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return PA_OK;
        return err_set("\"%s\" exists and is not a directory", dir);
    }
    if (errno != ENOENT)
        return err_errno(errno, "cannot stat \"%s\"", dir);
    char *parent = path_dirname(dir);
    if (!parent)
        return err_set("out of memory");
    int rc = PA_OK;
    if (strcmp(parent, dir) != 0 && (rc = mkdir_durable(parent, mode)) != PA_OK)
        goto out;
    if (mkdir(dir, mode) != 0 && errno != EEXIST) {
        rc = err_errno(errno, "cannot create directory \"%s\"", dir);
        goto out;
    }
    rc = fsync_dir(parent);
out:
    free(parent);
    return rc;
}
