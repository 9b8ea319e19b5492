#include "catalog/manifest_reader.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"

void manifest_normalize_path(char *path)
{
    while (path[0] == '.' && path[1] == '/')
        memmove(path, path + 2, strlen(path + 2) + 1);
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        path[--n] = '\0';
    if (n == 0 || strcmp(path, "./") == 0 || strcmp(path, "/") == 0)
        strcpy(path, "."); /* the archive's root directory: room for 2 bytes is guaranteed */
}

/* A JSON number that is a whole number in [0, max] (JSON numbers are doubles: casting one
 * out of range is undefined behaviour). */
static bool whole_number(const cJSON *v, double max)
{
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= max &&
           v->valuedouble == (double)(uint64_t)v->valuedouble;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const manifest_item *)a)->path, ((const manifest_item *)b)->path);
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != SHA256_HEX_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int manifest_parse(const char *json, size_t len, const char *where, manifest *out)
{
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root)
        return err_set("%s: not valid JSON (near byte %zu)", where,
                       end ? (size_t)(end - json) : (size_t)0);
    int rc = PA_ERR;
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "pgattest_manifest")) ||
        !cJSON_IsArray(files)) {
        err_set("%s: not a pgattest manifest (\"pgattest_manifest\", \"files\")", where);
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(files);
    if (n && !(out->entries = calloc(n, sizeof *out->entries))) {
        err_set("out of memory reading %s", where);
        goto out;
    }
    const cJSON *f;
    size_t i = 0;
    cJSON_ArrayForEach(f, files)
    {
        i++;
        const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "type");
        const cJSON *part = cJSON_GetObjectItemCaseSensitive(f, "part");
        if (!cJSON_IsString(path) || !*path->valuestring || !cJSON_IsString(type) ||
            !whole_number(part, 4294967295.0)) {
            err_set("%s: file entry %zu needs \"path\", \"type\" and a \"part\" number", where,
                    i);
            goto out;
        }
        manifest_item *e = &out->entries[out->n];
        if (!(e->path = strdup(path->valuestring))) {
            err_set("out of memory");
            goto out;
        }
        out->n++;
        manifest_normalize_path(e->path);
        e->part = (uint32_t)part->valuedouble;
        if (strcmp(type->valuestring, "file") == 0) {
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
            const cJSON *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");
            if (!whole_number(size, 9007199254740992.0) || !cJSON_IsString(sha) ||
                !is_hex64(sha->valuestring)) {
                err_set("%s: file \"%s\" needs \"size\" and a lower-case hex \"sha256\"", where,
                        e->path);
                goto out;
            }
            e->type = MANIFEST_ITEM_FILE;
            e->size = (uint64_t)size->valuedouble;
            memcpy(e->sha256, sha->valuestring, SHA256_HEX_LEN + 1);
        } else {
            e->type = strcmp(type->valuestring, "dir") == 0 ? MANIFEST_ITEM_DIR : MANIFEST_ITEM_OTHER;
        }
    }
    if (out->n > 1)
        qsort(out->entries, out->n, sizeof *out->entries, compare_entries);
    for (size_t k = 1; k < out->n; k++)
        if (strcmp(out->entries[k - 1].path, out->entries[k].path) == 0) {
            err_set("%s: \"%s\" is listed twice", where, out->entries[k].path);
            goto out;
        }
    rc = PA_OK;
out:
    cJSON_Delete(root);
    if (rc != PA_OK)
        manifest_free(out);
    return rc;
}

void manifest_free(manifest *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->entries[i].path);
    free(m->entries);
    m->entries = NULL;
    m->n = 0;
}

manifest_item *manifest_find(const manifest *m, const char *path)
{
    manifest_item key = {.path = (char *)path};
    return m->n ? bsearch(&key, m->entries, m->n, sizeof *m->entries, compare_entries) : NULL;
}
