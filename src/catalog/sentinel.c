#include "catalog/sentinel.h"

#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "pg/walname.h"

void sentinel_free(sentinel *s)
{
    if (!s)
        return;
    free(s->base_prefix);
    for (size_t i = 0; i < s->n_tablespaces; i++) {
        free(s->tablespaces[i].oid);
        free(s->tablespaces[i].location);
    }
    free(s->tablespaces);
    for (size_t i = 0; i < s->n_parts; i++)
        free(s->parts[i].name);
    free(s->parts);
    free(s->manifest.name);
    memset(s, 0, sizeof *s);
}

/* A JSON number that is a whole number in [0, max] (and exact in a double). */
static int json_uint(const cJSON *v, uint64_t max, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return PA_ERR;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d || (uint64_t)d > max)
        return PA_ERR;
    *out = (uint64_t)d;
    return PA_OK;
}

static int parse_decimal(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsString(v) || *v->valuestring < '0' || *v->valuestring > '9')
        return PA_ERR;
    char *end;
    errno = 0;
    *out = strtoull(v->valuestring, &end, 10);
    return *end || errno ? PA_ERR : PA_OK;
}

/* A size: a JSON number or a decimal string, at most 2^53 (sizes are written back as JSON
 * numbers, which must stay exact in a double: 9 PB is plenty). */
static int parse_u64_string(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsNumber(v))
        return json_uint(v, UINT64_C(1) << 53, out);
    return parse_decimal(v, out) == PA_OK && *out <= (UINT64_C(1) << 53) ? PA_OK : PA_ERR;
}

/* The system identifier: 64 bits, so a decimal string (a JSON number cannot hold it). */
static int parse_system_identifier(const cJSON *v, uint64_t *out)
{
    return cJSON_IsNumber(v) ? json_uint(v, UINT64_C(1) << 53, out) : parse_decimal(v, out);
}

static int parse_part(const cJSON *p, backup_part *out, const char *where, const char *what)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(p, "name");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(p, "size");
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(p, "sha256");
    if (!cJSON_IsString(name) || parse_u64_string(size, &out->size) != PA_OK ||
        !cJSON_IsString(sha) || strlen(sha->valuestring) != SHA256_HEX_LEN ||
        strchr(name->valuestring, '/') || !*name->valuestring)
        return err_set("%s: malformed %s entry (needs name, size, sha256)", where, what);
    if (!(out->name = strdup(name->valuestring)))
        return err_set("out of memory");
    memcpy(out->sha256, sha->valuestring, SHA256_HEX_LEN + 1);
    return PA_OK;
}

static int parse_spec(const cJSON *spec, sentinel *s, const char *where)
{
    if (!spec || cJSON_IsNull(spec))
        return PA_OK;
    if (!cJSON_IsObject(spec))
        return err_set("%s: \"spec\" is not an object", where);
    const cJSON *bp = cJSON_GetObjectItemCaseSensitive(spec, "base_prefix");
    if (cJSON_IsString(bp) && !(s->base_prefix = strdup(bp->valuestring)))
        return err_set("out of memory");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(spec, "tablespaces");
    if (!ts)
        return PA_OK;
    if (!cJSON_IsArray(ts))
        return err_set("%s: \"spec.tablespaces\" is not an array", where);
    int n = cJSON_GetArraySize(ts);
    if (n == 0)
        return PA_OK;
    if (!(s->tablespaces = calloc((size_t)n, sizeof *s->tablespaces)))
        return err_set("out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, ts)
    {
        if (!cJSON_IsString(item))
            return err_set("%s: \"spec.tablespaces\" has a non-string entry", where);
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(spec, item->valuestring);
        const cJSON *loc = cJSON_GetObjectItemCaseSensitive(info, "loc");
        if (!cJSON_IsString(loc))
            return err_set("%s: tablespace \"%s\" has no \"loc\"", where, item->valuestring);
        backup_tablespace *t = &s->tablespaces[s->n_tablespaces++];
        if (!(t->oid = strdup(item->valuestring)) || !(t->location = strdup(loc->valuestring)))
            return err_set("out of memory");
    }
    return PA_OK;
}

static int parse_extended(const cJSON *root, sentinel *s, const char *where)
{
    const cJSON *v;
#define FIELD(name) (v = cJSON_GetObjectItemCaseSensitive(root, name))
#define BAD(name) return err_set("%s: missing or malformed \"%s\"", where, name)
    if (!cJSON_IsString(FIELD("start_lsn")) || !lsn_parse(v->valuestring, &s->start_lsn))
        BAD("start_lsn");
    if (!cJSON_IsString(FIELD("stop_lsn")) || !lsn_parse(v->valuestring, &s->stop_lsn))
        BAD("stop_lsn");
    uint64_t n;
    if (json_uint(FIELD("timeline"), UINT32_MAX, &n) != PA_OK || n == 0)
        BAD("timeline");
    s->timeline = (uint32_t)n;
    if (!cJSON_IsString(FIELD("start_time")) || strlen(v->valuestring) >= sizeof s->start_time)
        BAD("start_time");
    strcpy(s->start_time, v->valuestring);
    if (!cJSON_IsString(FIELD("stop_time")) || strlen(v->valuestring) >= sizeof s->stop_time)
        BAD("stop_time");
    strcpy(s->stop_time, v->valuestring);
    if (parse_system_identifier(FIELD("system_identifier"), &s->system_identifier) != PA_OK)
        BAD("system_identifier");
    if (json_uint(FIELD("server_version"), UINT32_MAX, &n) != PA_OK)
        BAD("server_version");
    s->server_version = (uint32_t)n;
    if (json_uint(FIELD("wal_segment_size"), UINT32_MAX, &n) != PA_OK || !wal_seg_size_valid(n))
        BAD("wal_segment_size");
    s->wal_segment_size = (uint32_t)n;
    if (parse_u64_string(FIELD("compressed_size_bytes"), &s->compressed_size) != PA_OK)
        BAD("compressed_size_bytes");
    if (FIELD("vanished_files") && parse_u64_string(v, &s->vanished_files) != PA_OK)
        BAD("vanished_files"); /* optional: absent in sentinels of earlier builds */
    if (!cJSON_IsArray(FIELD("parts")))
        BAD("parts");
    int nparts = cJSON_GetArraySize(v);
    if (nparts > 0 && !(s->parts = calloc((size_t)nparts, sizeof *s->parts)))
        return err_set("out of memory");
    const cJSON *p;
    cJSON_ArrayForEach(p, v)
    {
        if (parse_part(p, &s->parts[s->n_parts], where, "parts") != PA_OK)
            return PA_ERR;
        s->n_parts++;
    }
    if (FIELD("manifest") && parse_part(v, &s->manifest, where, "manifest") != PA_OK)
        return PA_ERR;
#undef FIELD
#undef BAD
    s->has_extended = true;
    return PA_OK;
}

int sentinel_parse(const char *json, size_t len, const char *where, sentinel *out)
{
    memset(out, 0, sizeof *out);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        size_t at = end ? (size_t)(end - json) : 0;
        return err_set("%s: not valid JSON (near byte %zu)", where, at);
    }
    int rc = PA_ERR;
    const cJSON *seg = cJSON_GetObjectItemCaseSensitive(root, "wal_segment_backup_stop");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(root, "wal_segment_offset_backup_stop");
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(root, "expanded_size_bytes");
    wal_file_name stop;
    uint64_t offset = 0;
    if (!cJSON_IsObject(root)) {
        err_set("%s: not a JSON object", where);
        goto out;
    }
    if (!cJSON_IsString(seg) || wal_name_parse(seg->valuestring, &stop) != WAL_SEGMENT) {
        err_set("%s: missing or malformed \"wal_segment_backup_stop\"", where);
        goto out;
    }
    strcpy(out->stop_segment, seg->valuestring);
    if (parse_u64_string(off, &offset) != PA_OK || offset > UINT32_MAX) {
        err_set("%s: missing or malformed \"wal_segment_offset_backup_stop\"", where);
        goto out;
    }
    out->stop_offset = (uint32_t)offset;
    if (size && parse_u64_string(size, &out->expanded_size) != PA_OK) {
        err_set("%s: malformed \"expanded_size_bytes\"", where);
        goto out;
    }
    if (parse_spec(cJSON_GetObjectItemCaseSensitive(root, "spec"), out, where) != PA_OK)
        goto out;
    if (cJSON_GetObjectItemCaseSensitive(root, "pgattest_format") &&
        parse_extended(root, out, where) != PA_OK)
        goto out;
    rc = PA_OK;
out:
    cJSON_Delete(root);
    if (rc != PA_OK)
        sentinel_free(out);
    return rc;
}

static cJSON *part_json(const backup_part *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddNumberToObject(o, "size", (double)p->size);
    cJSON_AddStringToObject(o, "sha256", p->sha256);
    return o;
}

char *sentinel_to_json(const sentinel *s)
{
    char text[64];
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "wal_segment_backup_stop", s->stop_segment);
    snprintf(text, sizeof text, "%08" PRIu32, s->stop_offset);
    cJSON_AddStringToObject(root, "wal_segment_offset_backup_stop", text);
    cJSON_AddNumberToObject(root, "expanded_size_bytes", (double)s->expanded_size);
    cJSON *spec = cJSON_AddObjectToObject(root, "spec");
    if (s->base_prefix)
        cJSON_AddStringToObject(spec, "base_prefix", s->base_prefix);
    cJSON *ts = cJSON_AddArrayToObject(spec, "tablespaces");
    for (size_t i = 0; i < s->n_tablespaces; i++) {
        cJSON_AddItemToArray(ts, cJSON_CreateString(s->tablespaces[i].oid));
        cJSON *info = cJSON_AddObjectToObject(spec, s->tablespaces[i].oid);
        cJSON_AddStringToObject(info, "loc", s->tablespaces[i].location);
        snprintf(text, sizeof text, "pg_tblspc/%s", s->tablespaces[i].oid);
        cJSON_AddStringToObject(info, "link", text);
    }
    if (s->has_extended) {
        cJSON_AddNumberToObject(root, "pgattest_format", SENTINEL_FORMAT);
        lsn_format(text, s->start_lsn);
        cJSON_AddStringToObject(root, "start_lsn", text);
        lsn_format(text, s->stop_lsn);
        cJSON_AddStringToObject(root, "stop_lsn", text);
        cJSON_AddNumberToObject(root, "timeline", s->timeline);
        cJSON_AddStringToObject(root, "start_time", s->start_time);
        cJSON_AddStringToObject(root, "stop_time", s->stop_time);
        snprintf(text, sizeof text, "%" PRIu64, s->system_identifier);
        cJSON_AddStringToObject(root, "system_identifier", text);
        cJSON_AddNumberToObject(root, "server_version", s->server_version);
        cJSON_AddNumberToObject(root, "wal_segment_size", s->wal_segment_size);
        cJSON_AddNumberToObject(root, "compressed_size_bytes", (double)s->compressed_size);
        cJSON_AddNumberToObject(root, "vanished_files", (double)s->vanished_files);
        cJSON *parts = cJSON_AddArrayToObject(root, "parts");
        for (size_t i = 0; i < s->n_parts; i++)
            cJSON_AddItemToArray(parts, part_json(&s->parts[i]));
        if (s->manifest.name)
            cJSON_AddItemToObject(root, "manifest", part_json(&s->manifest));
    }
    char *out = cJSON_Print(root);
    cJSON_Delete(root);
    return out;
}

void backup_name_format(char *out, size_t len, const char *start_segment, uint32_t start_offset)
{
    snprintf(out, len, "base_%s_%08" PRIu32, start_segment, start_offset);
}

bool backup_name_parse(const char *name, char start_segment[25], uint32_t *start_offset)
{
    if (strncmp(name, "base_", 5) != 0 || strlen(name) != 5 + 24 + 1 + 8 || name[29] != '_')
        return false;
    char seg[25];
    memcpy(seg, name + 5, 24);
    seg[24] = '\0';
    if (wal_name_parse(seg, NULL) != WAL_SEGMENT)
        return false;
    uint32_t off = 0;
    for (int i = 30; i < 38; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        off = off * 10 + (uint32_t)(name[i] - '0');
    }
    memcpy(start_segment, seg, 25);
    *start_offset = off;
    return true;
}
