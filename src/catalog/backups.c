#include "catalog/backups.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "storage/repository.h"

#define MAX_SENTINEL_BYTES (16u * 1024 * 1024)

void backup_sentinel_key(char *out, size_t len, const char *name)
{
    snprintf(out, len, REPO_BASEBACKUPS_DIR "%s" SENTINEL_SUFFIX, name);
}

void backup_object_key(char *out, size_t len, const char *name, const char *relative)
{
    snprintf(out, len, REPO_BASEBACKUPS_DIR "%s/%s", name, relative);
}

static backup_info *find_or_add(backup_list *l, size_t *cap, const char *name)
{
    /* Listing is in key order, and a backup's keys are adjacent except for its sentinel,
     * which sorts after its directory ("base_X/" < "base_X_backup..."): check the last one. */
    if (l->n && strcmp(l->items[l->n - 1].name, name) == 0)
        return &l->items[l->n - 1];
    char seg[25];
    uint32_t off;
    if (!backup_name_parse(name, seg, &off))
        return NULL; /* not a backup: ignore stray objects */
    if (l->n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        backup_info *p = realloc(l->items, ncap * sizeof *p);
        if (!p) {
            err_set("out of memory");
            return (backup_info *)-1;
        }
        l->items = p;
        *cap = ncap;
    }
    backup_info *b = &l->items[l->n++];
    memset(b, 0, sizeof *b);
    snprintf(b->name, sizeof b->name, "%s", name);
    memcpy(b->start_segment, seg, sizeof seg);
    b->start_offset = off;
    return b;
}

typedef struct list_state {
    backup_list *list;
    size_t cap;
} list_state;

static int on_object(void *arg, const storage_entry *e)
{
    list_state *ls = arg;
    const char *rest = e->key + strlen(REPO_BASEBACKUPS_DIR);
    char name[64];
    const char *slash = strchr(rest, '/');
    size_t rest_len = strlen(rest), suffix_len = strlen(SENTINEL_SUFFIX);
    bool is_sentinel = !slash && rest_len > suffix_len &&
                       strcmp(rest + rest_len - suffix_len, SENTINEL_SUFFIX) == 0;
    size_t name_len = is_sentinel ? rest_len - suffix_len : slash ? (size_t)(slash - rest) : 0;
    if (name_len == 0 || name_len >= sizeof name)
        return PA_OK;
    memcpy(name, rest, name_len);
    name[name_len] = '\0';
    backup_info *b = find_or_add(ls->list, &ls->cap, name);
    if (b == (backup_info *)-1)
        return PA_ERR;
    if (!b)
        return PA_OK;
    if (is_sentinel) {
        b->sentinel_present = true;
        b->sentinel_mtime = e->mtime;
    } else {
        b->stored_bytes += e->size;
        b->stored_objects++;
    }
    return PA_OK;
}

static int load_sentinel(storage *st, backup_info *b)
{
    char key[256];
    backup_sentinel_key(key, sizeof key, b->name);
    sink *mem = memory_sink_new(MAX_SENTINEL_BYTES);
    if (!mem)
        return PA_ERR;
    int rc = storage_read(st, key, 0, 0, mem);
    if (rc == PA_OK) {
        size_t len;
        const char *data = memory_sink_data(mem, &len);
        char where[512];
        snprintf(where, sizeof where, "%s/%s", st->url, key);
        if (sentinel_parse(data, len, where, &b->meta) == PA_OK)
            b->complete = true;
        else if (!(b->sentinel_error = strdup(err_msg())))
            rc = err_set("out of memory");
    } else if (rc == PA_NOT_FOUND) {
        b->sentinel_present = false; /* deleted since the listing */
        rc = PA_OK;
    }
    sink_free(mem);
    return rc;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(((const backup_info *)a)->name, ((const backup_info *)b)->name);
}

int backup_list_load(storage *st, backup_list *out)
{
    out->items = NULL;
    out->n = 0;
    list_state ls = {out, 0};
    int rc = storage_list(st, REPO_BASEBACKUPS_DIR, on_object, &ls);
    if (rc == PA_OK && out->n > 1) {
        /* merge duplicates created when a sentinel did not follow its directory */
        qsort(out->items, out->n, sizeof *out->items, compare_names);
        size_t w = 0;
        for (size_t r = 0; r < out->n; r++) {
            if (w > 0 && strcmp(out->items[w - 1].name, out->items[r].name) == 0) {
                backup_info *dst = &out->items[w - 1], *src = &out->items[r];
                dst->sentinel_present |= src->sentinel_present;
                if (src->sentinel_mtime)
                    dst->sentinel_mtime = src->sentinel_mtime;
                dst->stored_bytes += src->stored_bytes;
                dst->stored_objects += src->stored_objects;
            } else {
                out->items[w++] = out->items[r];
            }
        }
        out->n = w;
    }
    for (size_t i = 0; rc == PA_OK && i < out->n; i++)
        if (out->items[i].sentinel_present)
            rc = load_sentinel(st, &out->items[i]);
    if (rc != PA_OK) {
        err_prefix("cannot list base backups in \"%s\"", st->url);
        backup_list_free(out);
    }
    return rc;
}

void backup_list_free(backup_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        sentinel_free(&l->items[i].meta);
        free(l->items[i].sentinel_error);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

const backup_info *backup_list_find(const backup_list *l, const char *name_or_latest)
{
    if (strcmp(name_or_latest, "LATEST") == 0) {
        const backup_info *best = NULL;
        for (size_t i = 0; i < l->n; i++) {
            const backup_info *b = &l->items[i];
            if (!b->complete)
                continue;
            /* ISO 8601 UTC strings compare as times; WAL-E's sentinels have none. */
            if (!best)
                best = b;
            else if (b->meta.has_extended && best->meta.has_extended) {
                if (strcmp(b->meta.stop_time, best->meta.stop_time) >= 0)
                    best = b;
            } else if (b->sentinel_mtime >= best->sentinel_mtime) {
                best = b;
            }
        }
        if (!best)
            err_set("no complete base backup in the repository");
        return best;
    }
    for (size_t i = 0; i < l->n; i++) {
        if (strcmp(l->items[i].name, name_or_latest) == 0) {
            if (!l->items[i].complete) {
                err_set("base backup \"%s\" is incomplete (%s); it cannot be restored",
                        name_or_latest,
                        l->items[i].sentinel_error ? l->items[i].sentinel_error
                                                   : "no stop sentinel");
                return NULL;
            }
            return &l->items[i];
        }
    }
    err_set("no base backup named \"%s\" in the repository", name_or_latest);
    return NULL;
}
