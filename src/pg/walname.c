#include "pg/walname.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool hex_upper(const char *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

static bool parse_segment_part(const char *name, wal_file_name *out)
{
    return hex_upper(name, 8, &out->timeline) && hex_upper(name + 8, 8, &out->log) &&
           hex_upper(name + 16, 8, &out->seg) && out->timeline != 0;
}

wal_file_kind wal_name_parse(const char *name, wal_file_name *out)
{
    wal_file_name tmp;
    if (!out)
        out = &tmp;
    memset(out, 0, sizeof *out);
    size_t len = strlen(name);
    if (len == 16 && strcmp(name + 8, ".history") == 0) {
        if (hex_upper(name, 8, &out->timeline) && out->timeline != 0)
            return out->kind = WAL_HISTORY;
        return WAL_INVALID;
    }
    if (len < WAL_NAME_LEN || !parse_segment_part(name, out))
        return WAL_INVALID;
    const char *rest = name + WAL_NAME_LEN;
    if (*rest == '\0')
        return out->kind = WAL_SEGMENT;
    if (strcmp(rest, ".partial") == 0)
        return out->kind = WAL_PARTIAL;
    if (strlen(rest) == 16 && rest[0] == '.' && strcmp(rest + 9, ".backup") == 0 &&
        hex_upper(rest + 1, 8, &out->offset))
        return out->kind = WAL_BACKUP_HISTORY;
    return WAL_INVALID;
}

const char *wal_kind_name(wal_file_kind kind)
{
    switch (kind) {
    case WAL_SEGMENT: return "WAL segment";
    case WAL_PARTIAL: return "partial WAL segment";
    case WAL_BACKUP_HISTORY: return "backup history file";
    case WAL_HISTORY: return "timeline history file";
    case WAL_INVALID: break;
    }
    return "invalid";
}

uint64_t wal_segno(uint32_t log, uint32_t seg, uint32_t seg_size)
{
    uint64_t per_log = UINT64_C(0x100000000) / seg_size;
    return (uint64_t)log * per_log + seg;
}

void wal_segment_name(char out[WAL_NAME_LEN + 1], uint32_t timeline, uint64_t segno,
                      uint32_t seg_size)
{
    uint64_t per_log = UINT64_C(0x100000000) / seg_size;
    snprintf(out, WAL_NAME_LEN + 1, "%08X%08X%08X", timeline, (uint32_t)(segno / per_log),
             (uint32_t)(segno % per_log));
}

bool lsn_parse(const char *text, uint64_t *out)
{
    unsigned int hi, lo;
    int n = 0;
    if (sscanf(text, "%X/%X%n", &hi, &lo, &n) != 2 || text[n] != '\0')
        return false;
    *out = (uint64_t)hi << 32 | lo;
    return true;
}

void lsn_format(char out[20], uint64_t lsn)
{
    snprintf(out, 20, "%X/%X", (uint32_t)(lsn >> 32), (uint32_t)lsn);
}
