#include "catalog/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/sentinel.h"
#include "common/error.h"
#include "pg/walname.h"

typedef struct position {
    uint32_t log, seg, offset;
} position;

static int compare_position(position a, position b)
{
    if (a.log != b.log)
        return a.log < b.log ? -1 : 1;
    if (a.seg != b.seg)
        return a.seg < b.seg ? -1 : 1;
    if (a.offset != b.offset)
        return a.offset < b.offset ? -1 : 1;
    return 0;
}

static int start_position(const char *name, position *out)
{
    char segment[25];
    wal_file_name w;
    if (!backup_name_parse(name, segment, &out->offset) ||
        wal_name_parse(segment, &w) != WAL_SEGMENT)
        return err_set("\"%s\" is not a base backup name", name);
    out->log = w.log;
    out->seg = w.seg;
    return PA_OK;
}

/* newer first: time, then name (WAL-E order) */
static bool newer(const retention_backup *a, const retention_backup *b)
{
    if (a->time != b->time)
        return a->time > b->time;
    return strcmp(a->name, b->name) > 0;
}

void retention_plan_free(retention_plan *p)
{
    free(p->delete_backup);
    p->delete_backup = NULL;
}

int retention_plan_backups(const retention_backup *b, size_t n, const retention_rule *rule,
                           retention_plan *out)
{
    memset(out, 0, sizeof *out);
    position *pos = calloc(n ? n : 1, sizeof *pos);
    bool *keep = calloc(n ? n : 1, sizeof *keep);
    out->delete_backup = calloc(n ? n : 1, sizeof *out->delete_backup);
    int rc = PA_ERR;
    if (!pos || !keep || !out->delete_backup) {
        err_set("out of memory");
        goto out;
    }
    const retention_backup *newest = NULL, *named = NULL;
    for (size_t i = 0; i < n; i++) {
        if (start_position(b[i].name, &pos[i]) != PA_OK)
            goto out;
        if (b[i].complete && (!newest || newer(&b[i], newest)))
            newest = &b[i];
        if (rule->kind == RETAIN_BEFORE_NAME && strcmp(b[i].name, rule->name) == 0)
            named = &b[i];
    }
    if (!newest) {
        err_set("the repository has no complete base backup; refusing to delete anything");
        goto out;
    }
    switch (rule->kind) {
    case RETAIN_COUNT:
        if (rule->count < 1) {
            err_set("retain needs at least 1 backup");
            goto out;
        }
        for (size_t i = 0; i < n; i++) {
            if (!b[i].complete)
                continue;
            size_t newer_count = 0;
            for (size_t j = 0; j < n; j++)
                if (j != i && b[j].complete && newer(&b[j], &b[i]))
                    newer_count++;
            keep[i] = newer_count < rule->count;
        }
        break;
    case RETAIN_BEFORE_NAME:
        if (!named) {
            err_set("no base backup named \"%s\" in the repository", rule->name);
            goto out;
        }
        if (!named->complete) {
            err_set("base backup \"%s\" is incomplete; name a complete one", rule->name);
            goto out;
        }
        for (size_t i = 0; i < n; i++)
            keep[i] = b[i].complete && (&b[i] == named || newer(&b[i], named));
        break;
    case RETAIN_BEFORE_TIME:
        for (size_t i = 0; i < n; i++)
            keep[i] = b[i].complete && (b[i].time >= rule->time || &b[i] == newest);
        break;
    }
    /* the floor: the lowest start of a retained backup */
    bool have_floor = false;
    position floor = {0, 0, 0};
    for (size_t i = 0; i < n; i++)
        if (keep[i] && (!have_floor || compare_position(pos[i], floor) < 0)) {
            floor = pos[i];
            have_floor = true;
        }
    for (size_t i = 0; i < n; i++) {
        if (keep[i])
            out->n_retained++;
        else if (b[i].complete)
            out->delete_backup[i] = true;
        else /* incomplete: only when it started before every retained backup */
            out->delete_backup[i] = compare_position(pos[i], floor) < 0;
    }
    out->floor_log = floor.log;
    out->floor_seg = floor.seg;
    rc = PA_OK;
out:
    free(pos);
    free(keep);
    if (rc != PA_OK)
        retention_plan_free(out);
    return rc;
}

bool retention_wal_deletable(const retention_plan *plan, const char *name)
{
    wal_file_name w;
    switch (wal_name_parse(name, &w)) {
    case WAL_SEGMENT:
    case WAL_PARTIAL:
    case WAL_BACKUP_HISTORY:
        return w.log < plan->floor_log || (w.log == plan->floor_log && w.seg < plan->floor_seg);
    case WAL_HISTORY: /* timeline history: tiny, and every later timeline needs its ancestors' */
    case WAL_INVALID:
    default:
        return false;
    }
}

bool iso8601_utc_parse(const char *text, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int consumed = 0;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
               &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) == 6 &&
        consumed == (int)strlen(text)) {
    } else {
        memset(&tm, 0, sizeof tm);
        consumed = 0;
        if (sscanf(text, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) != 3 ||
            consumed != (int)strlen(text))
            return false;
    }
    if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
        tm.tm_min > 59 || tm.tm_sec > 60 || tm.tm_year < 1970)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return true;
}
