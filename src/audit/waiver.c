#include "audit/waiver.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "io/sink.h"
#include "pg/walname.h"

#define MAX_WAIVER_FILE (4u * 1024 * 1024)

/* A position given as a segment name or an LSN, as the LSN of its first byte (from) or the
 * LSN of its last byte (to). */
static bool parse_position(const char *text, uint32_t seg_size, bool is_end, uint32_t *tli,
                           uint64_t *lsn)
{
    wal_file_name w;
    if (wal_name_parse(text, &w) == WAL_SEGMENT) {
        uint64_t segno = wal_segno(w.log, w.seg, seg_size);
        *tli = w.timeline;
        *lsn = segno * seg_size + (is_end ? seg_size - 1 : 0);
        return true;
    }
    *tli = 0;
    return lsn_parse(text, lsn);
}

static bool parse_expiry(const char *text, int64_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && text[n] == '\0') {
        tm.tm_mday = d + 1; /* valid through the whole day */
    } else if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &y, &mo, &d, &h, &mi, &s, &n) == 6 &&
               text[n] == '\0') {
        tm.tm_mday = d;
    } else {
        return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return false;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    *out = (int64_t)timegm(&tm);
    return true;
}

static int string_field(const cJSON *o, const char *name, bool required, char **out,
                        const char *where, size_t index)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    *out = NULL;
    if (!v) {
        if (required)
            return err_set("%s: waiver %zu: missing \"%s\"", where, index + 1, name);
        return PA_OK;
    }
    if (!cJSON_IsString(v) || !*v->valuestring)
        return err_set("%s: waiver %zu: \"%s\" must be a non-empty string", where, index + 1,
                       name);
    if (!(*out = strdup(v->valuestring)))
        return err_set("out of memory");
    return PA_OK;
}

/* Line and column of a byte offset, for JSON syntax errors. */
static void line_column(const char *text, size_t offset, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

int waivers_parse(const char *text, size_t len, const char *where, waiver_list *out)
{
    out->items = NULL;
    out->n = 0;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t line, col;
        line_column(text, end ? (size_t)(end - text) : 0, &line, &col);
        return err_set("%s: line %zu, column %zu: not valid JSON", where, line, col);
    }
    int rc = PA_ERR;
    const cJSON *list = root;
    if (cJSON_IsObject(root))
        list = cJSON_GetObjectItemCaseSensitive(root, "waivers");
    if (!cJSON_IsArray(list)) {
        err_set("%s: expected a JSON list of waivers (or an object with \"waivers\")", where);
        goto out;
    }
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n && !(out->items = calloc(n, sizeof *out->items))) {
        err_set("out of memory");
        goto out;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        size_t i = out->n;
        waiver *w = &out->items[out->n++];
        if (!cJSON_IsObject(item)) {
            err_set("%s: waiver %zu: expected an object", where, i + 1);
            goto out;
        }
        if (string_field(item, "check", true, &w->check, where, i) ||
            string_field(item, "from", true, &w->from, where, i) ||
            string_field(item, "to", true, &w->to, where, i) ||
            string_field(item, "reason", true, &w->reason, where, i) ||
            string_field(item, "expires", true, &w->expires, where, i))
            goto out;
        const cJSON *tli = cJSON_GetObjectItemCaseSensitive(item, "timeline");
        if (tli) {
            if (!cJSON_IsNumber(tli) || tli->valuedouble < 1 || tli->valuedouble > 4294967295.0 ||
                tli->valuedouble != (double)(uint32_t)tli->valuedouble) {
                err_set("%s: waiver %zu: \"timeline\" must be a timeline number", where, i + 1);
                goto out;
            }
            w->timeline = (uint32_t)tli->valuedouble;
        }
        uint32_t t1, t2;
        uint64_t l1, l2;
        if (!parse_position(w->from, WAL_DEFAULT_SEG_SIZE, false, &t1, &l1) ||
            !parse_position(w->to, WAL_DEFAULT_SEG_SIZE, true, &t2, &l2)) {
            err_set("%s: waiver %zu: \"from\"/\"to\" must be WAL segment names or LSNs (X/X)",
                    where, i + 1);
            goto out;
        }
        if ((t1 && w->timeline && t1 != w->timeline) || (t2 && w->timeline && t2 != w->timeline) ||
            (t1 && t2 && t1 != t2)) {
            err_set("%s: waiver %zu: \"from\", \"to\" and \"timeline\" name different timelines",
                    where, i + 1);
            goto out;
        }
        if (!w->timeline)
            w->timeline = t1 ? t1 : t2;
        if (!w->timeline) {
            err_set("%s: waiver %zu: with LSNs, \"timeline\" is required", where, i + 1);
            goto out;
        }
        if (!parse_expiry(w->expires, &w->expires_at)) {
            err_set("%s: waiver %zu: \"expires\" must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ",
                    where, i + 1);
            goto out;
        }
    }
    rc = PA_OK;
out:
    cJSON_Delete(root);
    if (rc != PA_OK)
        waivers_free(out);
    return rc;
}

int waivers_load_file(const char *path, waiver_list *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_errno(errno, "cannot open waivers file \"%s\"", path);
    char *text = malloc(MAX_WAIVER_FILE + 1);
    size_t len = text ? fread(text, 1, MAX_WAIVER_FILE + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    int rc;
    if (!text)
        rc = err_set("out of memory");
    else if (bad)
        rc = err_set("cannot read waivers file \"%s\"", path);
    else if (len > MAX_WAIVER_FILE)
        rc = err_set("waivers file \"%s\" is larger than %u bytes", path, MAX_WAIVER_FILE);
    else
        rc = waivers_parse(text, len, path, out);
    free(text);
    return rc;
}

void waivers_free(waiver_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        waiver *w = &l->items[i];
        free(w->check);
        free(w->from);
        free(w->to);
        free(w->reason);
        free(w->expires);
    }
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

waiver_match waivers_match(const waiver_list *l, const char *check, uint32_t timeline,
                           uint64_t first_segno, uint64_t last_segno, uint32_t seg_size,
                           int64_t now)
{
    waiver_match m = {NULL, NULL};
    for (size_t i = 0; l && i < l->n; i++) {
        const waiver *w = &l->items[i];
        uint32_t t;
        uint64_t from, to;
        if (strcmp(w->check, check) != 0 || w->timeline != timeline ||
            !parse_position(w->from, seg_size, false, &t, &from) ||
            !parse_position(w->to, seg_size, true, &t, &to))
            continue;
        if (first_segno * seg_size < from || last_segno * seg_size + (seg_size - 1) > to)
            continue;
        if (now < w->expires_at) {
            if (!m.applies)
                m.applies = w;
        } else if (!m.expired) {
            m.expired = w;
        }
    }
    return m;
}
