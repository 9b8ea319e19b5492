#include "pg/tar_member_path.h"

#include <string.h>

#include "common/error.h"

int tar_member_normalize(const char *name, char *out, size_t outlen)
{
    if (!*name)
        return err_set("tar member with an empty name");
    if (name[0] == '/')
        return err_set("tar member \"%s\" has an absolute path; refusing to extract it", name);
    size_t w = 0;
    const char *p = name;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return err_set("tar member \"%s\" contains \"..\"; refusing to extract it", name);
        if (n > 0 && !(n == 1 && p[0] == '.')) {
            if (w + (w > 0) + n + 1 > outlen)
                return err_set("tar member name \"%.200s...\" is too long", name);
            if (w > 0)
                out[w++] = '/';
            memcpy(out + w, p, n);
            w += n;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    if (outlen)
        out[w] = '\0';
    return w == 0 ? 1 : PA_OK;
}

bool tar_symlink_target_inside(const char *link_path, const char *target)
{
    if (!*target || target[0] == '/')
        return false;
    /* depth of the link's directory below the root */
    size_t depth = 0;
    for (const char *c = link_path; *c; c++)
        if (*c == '/')
            depth++;
    bool climbing = true; /* ".." is allowed only before any normal component */
    const char *p = target;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (!climbing || depth == 0)
                return false;
            depth--;
        } else if (n > 0 && !(n == 1 && p[0] == '.')) {
            climbing = false;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}
