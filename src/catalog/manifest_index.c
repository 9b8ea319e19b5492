#include "catalog/manifest_index.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pg/tar_member_path.h"

const char *manifest_index_type_name(manifest_index_type t)
{
    switch (t) {
    case MI_FILE:
        return "file";
    case MI_DIR:
        return "directory";
    case MI_SYMLINK:
        return "symlink";
    }
    return "?";
}

void manifest_index_free(manifest_index *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->entries[i].path);
        free(m->entries[i].target);
    }
    free(m->entries);
    m->entries = NULL;
    m->n = 0;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(((const manifest_index_entry *)a)->path, ((const manifest_index_entry *)b)->path);
}

static bool get_u64(const cJSON *o, const char *key, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0)
        return false;
    *out = (uint64_t)v->valuedouble;
    return true;
}

static int parse_entry(const cJSON *f, size_t index, const char *where, manifest_index_entry *e)
{
    const cJSON *path = cJSON_GetObjectItemCaseSensitive(f, "path");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(f, "type");
    uint64_t part;
    if (!cJSON_IsString(path) || !cJSON_IsString(type) || !get_u64(f, "part", &part) ||
        part > UINT32_MAX)
        return err_set("%s: files[%zu] needs \"path\", \"type\" and \"part\"", where, index);
    char normalized[4096];
    int nrc = tar_member_normalize(path->valuestring, normalized, sizeof normalized);
    if (nrc == 1)
        return 1; /* the root directory itself: nothing to check */
    if (nrc != PA_OK) {
        err_prefix("%s: files[%zu]", where, index);
        return PA_ERR;
    }
    e->part = (uint32_t)part;
    if (strcmp(type->valuestring, "file") == 0) {
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(f, "sha256");
        e->type = MI_FILE;
        if (!get_u64(f, "size", &e->size) || !cJSON_IsString(sha) ||
            strlen(sha->valuestring) != SHA256_HEX_LEN)
            return err_set("%s: file \"%s\" needs \"size\" and a 64-digit \"sha256\"", where,
                           path->valuestring);
        memcpy(e->sha256, sha->valuestring, SHA256_HEX_LEN + 1);
    } else if (strcmp(type->valuestring, "dir") == 0) {
        e->type = MI_DIR;
    } else if (strcmp(type->valuestring, "symlink") == 0) {
        const cJSON *target = cJSON_GetObjectItemCaseSensitive(f, "target");
        e->type = MI_SYMLINK;
        if (!cJSON_IsString(target))
            return err_set("%s: symlink \"%s\" needs \"target\"", where, path->valuestring);
        if (!(e->target = strdup(target->valuestring)))
            return err_set("out of memory");
    } else {
        return err_set("%s: \"%s\" has unknown type \"%s\"", where, path->valuestring,
                       type->valuestring);
    }
    if (!(e->path = strdup(normalized)))
        return err_set("out of memory");
    return PA_OK;
}

int manifest_index_parse(const char *json, size_t len, const char *where, const char *backup,
                         manifest_index *out)
{
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root)
        return err_set("%s: not valid JSON (near byte %zu)", where,
                       end ? (size_t)(end - json) : (size_t)0);
    int rc = PA_ERR;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "pgattest_manifest");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "backup");
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(root, "files");
    if (!cJSON_IsNumber(format) || format->valueint != 1) {
        err_set("%s: \"pgattest_manifest\" is missing or not 1", where);
        goto out;
    }
    if (!cJSON_IsString(name) || strcmp(name->valuestring, backup) != 0) {
        err_set("%s: belongs to backup \"%s\", not \"%s\"", where,
                cJSON_IsString(name) ? name->valuestring : "?", backup);
        goto out;
    }
    if (!cJSON_IsArray(files)) {
        err_set("%s: \"files\" is missing or not an array", where);
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(files);
    if (n && !(out->entries = calloc(n, sizeof *out->entries))) {
        err_set("out of memory");
        goto out;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, files)
    {
        int erc = parse_entry(f, out->n, where, &out->entries[out->n]);
        if (erc == 1)
            continue;
        if (erc != PA_OK) {
            free(out->entries[out->n].target);
            goto out;
        }
        out->n++;
    }
    qsort(out->entries, out->n, sizeof *out->entries, compare_paths);
    for (size_t i = 1; i < out->n; i++)
        if (strcmp(out->entries[i - 1].path, out->entries[i].path) == 0) {
            err_set("%s: \"%s\" is listed twice", where, out->entries[i].path);
            goto out;
        }
    rc = PA_OK;
out:
    cJSON_Delete(root);
    if (rc != PA_OK)
        manifest_index_free(out);
    return rc;
}

manifest_index_entry *manifest_index_find(const manifest_index *m, const char *path)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, m->entries[mid].path);
        if (c == 0)
            return &m->entries[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}
