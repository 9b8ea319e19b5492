/*
 * delete retain N | before NAME|TIMESTAMP [--confirm] — remove old base backups and the WAL
 * no retained backup needs. A dry run unless --confirm.
 *
 * What goes is decided by catalog/retention.h from one listing. Order matters for a crash
 * in the middle: each backup's sentinel goes first (so a half-deleted backup is never seen
 * as complete), then its other objects, and WAL only after every doomed backup is gone
 * (never a "complete" backup whose WAL has been removed).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/backups.h"
#include "catalog/retention.h"
#include "cmd/cmd.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "storage/repository.h"

enum { REMOVE_BATCH = 1000 };

/* What delete does or would do, on stdout; -q silences it, -v adds every object. */
static void say(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(enum log_level level, const char *fmt, ...)
{
    if (log_get_level() < level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

typedef struct key_list {
    char **keys;
    size_t n, cap;
    uint64_t bytes;
} key_list;

static int key_list_add(key_list *l, const char *key, uint64_t size)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        char **p = realloc(l->keys, ncap * sizeof *p);
        if (!p)
            return err_set("out of memory");
        l->keys = p;
        l->cap = ncap;
    }
    if (!(l->keys[l->n] = strdup(key)))
        return err_set("out of memory");
    l->n++;
    l->bytes += size;
    return PA_OK;
}

static void key_list_free(key_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->keys[i]);
    free(l->keys);
    memset(l, 0, sizeof *l);
}

static int on_key(void *arg, const storage_entry *e)
{
    return key_list_add(arg, e->key, e->size);
}

static int remove_keys(storage *st, const key_list *l)
{
    for (size_t i = 0; i < l->n; i += REMOVE_BATCH) {
        size_t n = l->n - i < REMOVE_BATCH ? l->n - i : REMOVE_BATCH;
        if (storage_remove(st, (const char *const *)l->keys + i, n) != PA_OK) {
            err_prefix("cannot delete from \"%s\"", st->url);
            return PA_ERR;
        }
    }
    return PA_OK;
}

/* WAL files the plan lets go, from one listing of wal_005/. */
typedef struct wal_scan {
    const retention_plan *plan;
    key_list doomed;
    uint64_t kept;
    char first[64], last[64];
} wal_scan;

static int on_wal(void *arg, const storage_entry *e)
{
    wal_scan *w = arg;
    const char *name = e->key + strlen(REPO_WAL_DIR);
    size_t len = strlen(name);
    char bare[64];
    if (len < 5 || len - 4 >= sizeof bare || strcmp(name + len - 4, ".lzo") != 0 ||
        strchr(name, '/')) {
        w->kept++;
        return PA_OK;
    }
    memcpy(bare, name, len - 4);
    bare[len - 4] = '\0';
    if (!retention_wal_deletable(w->plan, bare)) {
        w->kept++;
        return PA_OK;
    }
    if (!w->first[0] || strcmp(bare, w->first) < 0)
        snprintf(w->first, sizeof w->first, "%s", bare);
    if (strcmp(bare, w->last) > 0)
        snprintf(w->last, sizeof w->last, "%s", bare);
    return key_list_add(&w->doomed, e->key, e->size);
}

static int64_t backup_time(const backup_info *b)
{
    int64_t t;
    if (b->complete && b->meta.has_extended && iso8601_utc_parse(b->meta.stop_time, &t))
        return t;
    return b->sentinel_mtime;
}

static int delete_backups(const retention_rule *rule, const char *prefix, bool confirm)
{
    storage *st = repository_open(prefix);
    if (!st)
        return PA_ERR;
    backup_list list = {0};
    retention_backup *rb = NULL;
    retention_plan plan = {0};
    wal_scan wal = {0};
    key_list objects = {0};
    int rc = PA_ERR;
    if (backup_list_load(st, &list) != PA_OK)
        goto out;
    if (!(rb = calloc(list.n ? list.n : 1, sizeof *rb))) {
        err_set("out of memory");
        goto out;
    }
    for (size_t i = 0; i < list.n; i++)
        rb[i] = (retention_backup){list.items[i].name, list.items[i].complete,
                                   backup_time(&list.items[i])};
    if (retention_plan_backups(rb, list.n, rule, &plan) != PA_OK)
        goto out;
    wal.plan = &plan;
    if (storage_list(st, REPO_WAL_DIR, on_wal, &wal) != PA_OK)
        goto out;

    const char *verb = confirm ? "deleting" : "would delete";
    size_t n_doomed = 0;
    for (size_t i = 0; i < list.n; i++) {
        const backup_info *b = &list.items[i];
        if (!plan.delete_backup[i]) {
            say(LOG_NORMAL, "keeping base backup %s%s\n", b->name,
                   b->complete ? "" : " (incomplete, newer than the oldest kept: may be running)");
            continue;
        }
        n_doomed++;
        say(LOG_NORMAL, "%s base backup %s%s (%" PRIu32 " objects, %" PRIu64 " bytes)\n", verb,
            b->name, b->complete ? "" : " (incomplete)",
            b->stored_objects + (b->sentinel_present ? 1 : 0), b->stored_bytes);
        if (!confirm)
            continue;
        /* the sentinel first: from then on the backup is incomplete, never restorable */
        if (b->sentinel_present) {
            char key[256];
            backup_sentinel_key(key, sizeof key, b->name);
            const char *keys[] = {key};
            if (storage_remove(st, keys, 1) != PA_OK) {
                err_prefix("cannot delete the sentinel of \"%s\"", b->name);
                goto out;
            }
        }
        char dir[256];
        backup_object_key(dir, sizeof dir, b->name, "");
        if (storage_list(st, dir, on_key, &objects) != PA_OK)
            goto out;
        for (size_t k = 0; k < objects.n; k++)
            say(LOG_VERBOSE, "  %s\n", objects.keys[k]);
        if (remove_keys(st, &objects) != PA_OK)
            goto out;
        key_list_free(&objects);
    }
    char floor[20];
    snprintf(floor, sizeof floor, "%08" PRIX32 "%08" PRIX32, plan.floor_log, plan.floor_seg);
    if (wal.doomed.n)
        say(LOG_NORMAL,
            "%s %zu WAL files (%" PRIu64 " bytes, %s .. %s): everything before position %s "
            "(the oldest kept backup's start) on every timeline; %" PRIu64
            " kept, .history files always\n",
            verb, wal.doomed.n, wal.doomed.bytes, wal.first, wal.last, floor, wal.kept);
    else
        say(LOG_NORMAL,
            "no WAL file is older than position %s (the oldest kept backup's start); %" PRIu64
            " kept\n",
            floor, wal.kept);
    for (size_t k = 0; k < wal.doomed.n; k++)
        say(LOG_VERBOSE, "  %s\n", wal.doomed.keys[k]);
    if (confirm && remove_keys(st, &wal.doomed) != PA_OK)
        goto out;
    if (!confirm && (n_doomed || wal.doomed.n))
        say(LOG_NORMAL, "dry run: nothing was deleted; run again with --confirm to delete\n");
    rc = PA_OK;
out:
    key_list_free(&objects);
    key_list_free(&wal.doomed);
    retention_plan_free(&plan);
    free(rb);
    backup_list_free(&list);
    storage_close(st);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONG_OPTIONS, {"confirm", no_argument, NULL, 'C'},
                                         {0}};
    common_options common = {0};
    bool confirm = false;
    int c, status;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS, opts, NULL)) != -1) {
        int h = common_option(&cmd_delete, c, &common, &status);
        if (h < 0)
            return status;
        if (h > 0)
            continue;
        if (c == 'C')
            confirm = true;
        else
            return usage_error(&cmd_delete, "unexpected option");
    }
    if (argc - optind != 2)
        return usage_error(&cmd_delete, "expected \"retain N\" or \"before NAME|TIMESTAMP\"");
    const char *what = argv[optind], *arg = argv[optind + 1];
    retention_rule rule = {0};
    if (strcmp(what, "retain") == 0) {
        char *end;
        long n = strtol(arg, &end, 10);
        if (*end || n < 1 || n > 1000000)
            return usage_error(&cmd_delete, "retain needs a number of backups >= 1, not \"%s\"",
                               arg);
        rule.kind = RETAIN_COUNT;
        rule.count = (unsigned)n;
    } else if (strcmp(what, "before") == 0) {
        if (strncmp(arg, "base_", 5) == 0) {
            rule.kind = RETAIN_BEFORE_NAME;
            rule.name = arg;
        } else if (iso8601_utc_parse(arg, &rule.time)) {
            rule.kind = RETAIN_BEFORE_TIME;
        } else {
            return usage_error(&cmd_delete,
                               "before needs a backup name (base_...) or a UTC time like "
                               "2026-11-24T20:00:00Z, not \"%s\"",
                               arg);
        }
    } else {
        return usage_error(&cmd_delete, "unknown mode \"%s\": use retain or before", what);
    }
    if (delete_backups(&rule, common.prefix, confirm) != PA_OK) {
        report_failure();
        return EXIT_FAILURE_ENGINE;
    }
    return EXIT_OK;
}

const command cmd_delete = {
    "delete", run, "delete old base backups and the WAL they alone need (dry run by default)",
    "Usage: pgattest delete [OPTIONS] retain N\n"
    "       pgattest delete [OPTIONS] before NAME|TIMESTAMP\n"
    "\n"
    "Without --confirm, only print what would be deleted.\n"
    "\n"
    "  retain N           keep the N newest complete base backups\n"
    "  before NAME        keep base backup NAME and every newer one\n"
    "  before TIMESTAMP   keep base backups that finished at or after TIMESTAMP (UTC,\n"
    "                     2026-11-24T20:00:00Z or 2026-11-24); the newest complete backup\n"
    "                     is always kept\n"
    "\n"
    "Deleted with the backups: incomplete backups that started before the oldest kept one\n"
    "(newer ones may be a backup still running), and WAL files (segments, .partial,\n"
    ".backup) of every timeline positioned before the oldest kept backup's start. WAL at or\n"
    "after it, on any timeline, and .history files are never deleted. Each backup's\n"
    "sentinel is deleted first, so a half-deleted backup never looks complete; WAL goes last.\n"
    "\n"
    "Options:\n"
    "  --confirm      really delete\n"
    "  --prefix URL   repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "  -v, --verbose  also list every object deleted (or that would be)\n"
    "  -q, --quiet    only errors\n"
    "\n"
    "Exit status: 0 done (or dry run printed); 1 failure; 2 usage error.\n"};
