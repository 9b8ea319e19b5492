/*
 * backup-list [--json] — the base backups in the repository, complete or not.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "catalog/backups.h"
#include "catalog/manifest_writer.h"
#include "cmd/cmd.h"
#include "common/buf.h"
#include "common/error.h"
#include "pg/walname.h"
#include "storage/repository.h"

static const char *status_of(const backup_info *b)
{
    return b->complete ? "complete" : b->sentinel_present ? "broken" : "incomplete";
}

/* The backup's time: its stop time when the sentinel has one, else the sentinel's mtime. */
static void time_of(const backup_info *b, char out[32])
{
    if (b->complete && b->meta.has_extended) {
        snprintf(out, 32, "%s", b->meta.stop_time);
    } else if (b->sentinel_mtime) {
        time_t t = (time_t)b->sentinel_mtime;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
    } else {
        out[0] = '\0';
    }
}

static void print_text(const backup_list *l)
{
    printf("%-38s %-10s %-20s %-14s %-14s %-8s %15s %15s\n", "name", "status", "time",
           "start_lsn", "stop_lsn", "timeline", "size", "compressed");
    for (size_t i = 0; i < l->n; i++) {
        const backup_info *b = &l->items[i];
        char when[32], start[20] = "-", stop[20] = "-", tli[12] = "-", size[24] = "-",
                                         compressed[24];
        time_of(b, when);
        if (b->complete && b->meta.has_extended) {
            lsn_format(start, b->meta.start_lsn);
            lsn_format(stop, b->meta.stop_lsn);
            snprintf(tli, sizeof tli, "%" PRIu32, b->meta.timeline);
        } else {
            wal_file_name w;
            if (wal_name_parse(b->start_segment, &w) == WAL_SEGMENT)
                snprintf(tli, sizeof tli, "%" PRIu32, w.timeline);
        }
        if (b->complete)
            snprintf(size, sizeof size, "%" PRIu64, b->meta.expanded_size);
        snprintf(compressed, sizeof compressed, "%" PRIu64,
                 b->complete && b->meta.has_extended ? b->meta.compressed_size : b->stored_bytes);
        printf("%-38s %-10s %-20s %-14s %-14s %-8s %15s %15s\n", b->name, status_of(b),
               *when ? when : "-", start, stop, tli, size, compressed);
    }
}

static int append_string(buf *o, const char *key, const char *value)
{
    if (!value)
        return buf_appendf(o, "\"%s\": null", key);
    if (buf_appendf(o, "\"%s\": \"", key) != PA_OK || json_escape_append(o, value) != PA_OK)
        return PA_ERR;
    return buf_append_str(o, "\"");
}

static int format_json(const backup_list *l, buf *o)
{
    int rc = buf_append_str(o, "[");
    for (size_t i = 0; rc == PA_OK && i < l->n; i++) {
        const backup_info *b = &l->items[i];
        bool ext = b->complete && b->meta.has_extended;
        char when[32], start[20], stop[20];
        time_of(b, when);
        if (ext) {
            lsn_format(start, b->meta.start_lsn);
            lsn_format(stop, b->meta.stop_lsn);
        }
        wal_file_name w = {0};
        wal_name_parse(b->start_segment, &w);
        rc = buf_append_str(o, i ? ",\n  {" : "\n  {");
        if (rc == PA_OK)
            rc = append_string(o, "name", b->name);
        if (rc == PA_OK)
            rc = buf_appendf(o, ", \"status\": \"%s\", \"complete\": %s, ", status_of(b),
                             b->complete ? "true" : "false");
        if (rc == PA_OK)
            rc = append_string(o, "time", *when ? when : NULL);
        if (rc == PA_OK)
            rc = buf_append_str(o, ", ");
        if (rc == PA_OK)
            rc = append_string(o, "start_lsn", ext ? start : NULL);
        if (rc == PA_OK)
            rc = buf_append_str(o, ", ");
        if (rc == PA_OK)
            rc = append_string(o, "stop_lsn", ext ? stop : NULL);
        if (rc == PA_OK)
            rc = buf_appendf(o, ", \"timeline\": %" PRIu32, ext ? b->meta.timeline : w.timeline);
        if (rc == PA_OK && b->complete)
            rc = buf_appendf(o, ", \"size\": %" PRIu64, b->meta.expanded_size);
        else if (rc == PA_OK)
            rc = buf_append_str(o, ", \"size\": null");
        if (rc == PA_OK)
            rc = buf_appendf(o, ", \"compressed_size\": %" PRIu64,
                             ext ? b->meta.compressed_size : b->stored_bytes);
        if (rc == PA_OK && b->complete)
            rc = buf_appendf(o, ", \"wal_segment_backup_stop\": \"%s\"", b->meta.stop_segment);
        if (rc == PA_OK && b->sentinel_error) {
            rc = buf_append_str(o, ", ");
            if (rc == PA_OK)
                rc = append_string(o, "error", b->sentinel_error);
        }
        if (rc == PA_OK)
            rc = buf_append_str(o, "}");
    }
    if (rc == PA_OK)
        rc = buf_append_str(o, l->n ? "\n]\n" : "]\n");
    return rc;
}

static int backup_list_run(const char *prefix, bool json)
{
    storage *st = repository_open(prefix);
    if (!st)
        return PA_ERR;
    backup_list l;
    int rc = backup_list_load(st, &l);
    if (rc == PA_OK) {
        if (json) {
            buf o;
            buf_init(&o, 256u * 1024 * 1024);
            if ((rc = format_json(&l, &o)) == PA_OK)
                fwrite(o.data, 1, o.len, stdout);
            buf_free(&o);
        } else {
            print_text(&l);
        }
        if (rc == PA_OK && fflush(stdout) != 0)
            rc = err_set("cannot write to standard output");
        backup_list_free(&l);
    }
    storage_close(st);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONG_OPTIONS, {"json", no_argument, NULL, 'J'},
                                         {0}};
    common_options common = {0};
    bool json = false;
    int c, status;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS, opts, NULL)) != -1) {
        int handled = common_option(&cmd_backup_list, c, &common, &status);
        if (handled < 0)
            return status;
        if (!handled && c == 'J')
            json = true;
    }
    if (argc - optind != 0)
        return usage_error(&cmd_backup_list, "unexpected argument \"%s\"", argv[optind]);
    if (backup_list_run(common.prefix, json) != PA_OK) {
        report_failure();
        return EXIT_FAILURE_ENGINE;
    }
    return EXIT_OK;
}

const command cmd_backup_list = {
    "backup-list", run, "list the base backups (complete and incomplete)",
    "Usage: pgattest backup-list [OPTIONS]\n"
    "\n"
    "List the base backups in the repository: name, status, time (UTC), start and stop LSN,\n"
    "timeline, size (bytes backed up) and compressed size (bytes stored). A backup without\n"
    "its stop sentinel is \"incomplete\" and can never be restored; one whose sentinel cannot\n"
    "be read is \"broken\". Fields a backup does not record (WAL-E's sentinels have no LSNs)\n"
    "print as \"-\" (null in JSON).\n"
    "\n"
    "Options:\n"
    "  --json         a JSON array, one object per backup\n"
    "  --prefix URL   repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "\n"
    "Exit status: 0 listed, 1 failure, 2 usage error.\n"};
