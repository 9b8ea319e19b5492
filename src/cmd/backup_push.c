/*
 * backup-push PGDATA — a base backup of a running cluster into the repository.
 *
 * One libpq session: check that PGDATA is the cluster we are connected to and that its WAL is
 * archived, pg_backup_start, stream the data directory into tar parts (tar_parts.c), then
 * pg_backup_stop, whose backup_label / tablespace_map go into a last part. Then the manifest
 * and, last, the sentinel: its presence is what makes the backup complete. On any failure
 * the sentinel is not written, and closing the session aborts the server's backup.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup/tar_parts.h"
#include "catalog/backups.h"
#include "catalog/manifest_writer.h"
#include "catalog/sentinel.h"
#include "cmd/cmd.h"
#include "common/error.h"
#include "common/log.h"
#include "io/sha256.h"
#include "pg/control.h"
#include "pg/session.h"
#include "pg/walname.h"
#include "storage/repository.h"

typedef struct push_options {
    const char *prefix;
    const char *conninfo;
    unsigned jobs;
    uint64_t partition_size;
    bool fast;
    unsigned archive_timeout; /* seconds */
} push_options;

static void utc_now(char out[32])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Store a small object from memory, never replacing one. */
static int put_object(storage *st, const char *key, const char *data, size_t len)
{
    sink *w = NULL;
    int rc = storage_open_write(st, key, STORAGE_NO_OVERWRITE | STORAGE_VERIFY, &w);
    if (rc == PA_OK)
        rc = sink_write(w, data, len);
    if (rc == PA_OK)
        rc = sink_finish(w);
    sink_free(w);
    if (rc != PA_OK)
        err_prefix("cannot store \"%s/%s\"", st->url, key);
    return rc;
}

/* What the server must be like for a useful backup. values: see the query in check_server. */
static int check_server(pg_session *s, const char *pgdata, sentinel *meta, char **version)
{
    enum { SYSID, ARCHIVE_MODE, WAL_LEVEL, SEG_SIZE, VERSION_NUM, VERSION, RECOVERY,
           ARCHIVE_COMMAND, ARCHIVE_LIBRARY, NCOLS };
    char *v[NCOLS];
    if (pg_query_row(s, "reading the server's settings",
                     "select (select system_identifier::text from pg_control_system()),"
                     " current_setting('archive_mode'), current_setting('wal_level'),"
                     " (select setting from pg_settings where name = 'wal_segment_size'),"
                     " current_setting('server_version_num'), version(),"
                     " pg_is_in_recovery()::text, current_setting('archive_command'),"
                     " current_setting('archive_library')",
                     0, NULL, NCOLS, v) != PA_OK)
        return PA_ERR;
    int rc = PA_ERR;
    uint64_t local_id = 0, server_id = 0, seg_size = 0;
    if (pg_control_system_identifier(pgdata, &local_id) != PA_OK)
        goto out;
    char *end;
    if (!v[SYSID] || (server_id = strtoull(v[SYSID], &end, 10), *end)) {
        err_set("the server reported an unreadable system identifier \"%s\"",
                v[SYSID] ? v[SYSID] : "");
        goto out;
    }
    if (local_id != server_id) {
        err_set("\"%s\" belongs to database system %" PRIu64 " but the server we connected to is "
                "database system %" PRIu64 "; PGDATA and the connection settings (PGHOST, "
                "PGPORT, --dbname) must name the same cluster",
                pgdata, local_id, server_id);
        goto out;
    }
    if (v[RECOVERY] && strcmp(v[RECOVERY], "true") == 0) {
        err_set("the server is a standby (in recovery); backup-push backs up a primary");
        goto out;
    }
    if (!v[WAL_LEVEL] || strcmp(v[WAL_LEVEL], "minimal") == 0) {
        err_set("wal_level is minimal: a base backup without its WAL is useless; set wal_level "
                "= replica and archive_mode = on, then restart the server");
        goto out;
    }
    if (!v[ARCHIVE_MODE] || strcmp(v[ARCHIVE_MODE], "off") == 0) {
        err_set("archive_mode is off: a base backup without its WAL is useless; set "
                "archive_mode = on and archive_command = 'pgattest wal-push %%p', then restart "
                "the server");
        goto out;
    }
    if ((!v[ARCHIVE_COMMAND] || !*v[ARCHIVE_COMMAND]) &&
        (!v[ARCHIVE_LIBRARY] || !*v[ARCHIVE_LIBRARY])) {
        err_set("archive_command is empty: no WAL is archived, so the backup could never be "
                "restored (and pg_backup_stop would wait forever); set archive_command = "
                "'pgattest wal-push %%p'");
        goto out;
    }
    if (!v[SEG_SIZE] || (seg_size = strtoull(v[SEG_SIZE], &end, 10), *end) ||
        !wal_seg_size_valid(seg_size)) {
        err_set("the server reported an invalid wal_segment_size \"%s\"",
                v[SEG_SIZE] ? v[SEG_SIZE] : "");
        goto out;
    }
    meta->system_identifier = server_id;
    meta->wal_segment_size = (uint32_t)seg_size;
    meta->server_version = v[VERSION_NUM] ? (uint32_t)strtoul(v[VERSION_NUM], NULL, 10) : 0;
    if (meta->server_version < 150000) {
        err_set("the server is PostgreSQL %s; backup-push needs 15 or later "
                "(pg_backup_start/pg_backup_stop)",
                v[VERSION_NUM] ? v[VERSION_NUM] : "?");
        goto out;
    }
    if (!(*version = strdup(v[VERSION] ? v[VERSION] : ""))) {
        err_set("out of memory");
        goto out;
    }
    rc = PA_OK;
out:
    pg_values_free(v, NCOLS);
    return rc;
}

/* LSN, its segment name and offset from a query returning (lsn, file_name, file_offset). */
static int parse_position(char **v, const char *what, uint64_t *lsn, char segment[25],
                          uint32_t *offset)
{
    wal_file_name w;
    char *end;
    unsigned long off;
    if (!v[0] || !lsn_parse(v[0], lsn) || !v[1] || wal_name_parse(v[1], &w) != WAL_SEGMENT ||
        !v[2] || (off = strtoul(v[2], &end, 10), *end) || off > UINT32_MAX)
        return err_set("unexpected %s position from the server (\"%s\", \"%s\", \"%s\")", what,
                       v[0] ? v[0] : "", v[1] ? v[1] : "", v[2] ? v[2] : "");
    memcpy(segment, v[1], 25);
    *offset = (uint32_t)off;
    return PA_OK;
}

/* The backup needs every WAL segment from its start to its stop segment; wait until each is in
 * this repository (archive_command is pushing them) rather than in pg_backup_stop, whose
 * wait polls once a second and only knows that archive_command succeeded, not where to. */
static int wait_for_wal(storage *st, const sentinel *meta, const char *start_segment,
                        unsigned timeout_seconds)
{
    wal_file_name start, stop;
    if (wal_name_parse(start_segment, &start) != WAL_SEGMENT ||
        wal_name_parse(meta->stop_segment, &stop) != WAL_SEGMENT)
        return err_set("unexpected WAL segment names \"%s\" / \"%s\"", start_segment,
                       meta->stop_segment);
    uint32_t seg_size = meta->wal_segment_size;
    uint64_t first = wal_segno(start.log, start.seg, seg_size);
    uint64_t last = wal_segno(stop.log, stop.seg, seg_size);
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long sleep_ms = 10;
    for (uint64_t segno = first; segno <= last;) {
        char name[WAL_NAME_LEN + 1], key[64];
        wal_segment_name(name, stop.timeline, segno, seg_size);
        snprintf(key, sizeof key, REPO_WAL_DIR "%s.lzo", name);
        storage_entry e;
        int rc = storage_stat(st, key, &e);
        if (rc == PA_OK) {
            segno++;
            continue;
        }
        if (rc != PA_NOT_FOUND) {
            err_prefix("cannot check that WAL segment %s is archived", name);
            return PA_ERR;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - t0.tv_sec >= (time_t)timeout_seconds)
            return err_set("WAL segment %s, which the backup needs, did not reach \"%s/%s\" "
                           "within %u s; check that archive_command pushes to this repository "
                           "(pgattest wal-push --prefix %s %%p) and succeeds, or raise "
                           "--archive-timeout",
                           name, st->url, key, timeout_seconds, st->url);
        struct timespec pause = {0, sleep_ms * 1000000L};
        nanosleep(&pause, NULL);
        if (sleep_ms < 200)
            sleep_ms *= 2;
    }
    log_verbose("WAL segments %s to %s are archived", start_segment, meta->stop_segment);
    return PA_OK;
}

static int backup_push(const char *pgdata_arg, const push_options *o)
{
    char pgdata[PATH_MAX];
    if (!realpath(pgdata_arg, pgdata))
        return err_errno(errno, "cannot use the data directory \"%s\"", pgdata_arg);
    int rc = PA_ERR;
    storage *st = NULL;
    pg_session *s = NULL;
    char *version = NULL, *json = NULL;
    char *stop[5] = {0};
    sentinel meta = {0};
    tar_parts *tp = NULL;
    sink *manifest_writer_sink = NULL, *manifest_hash = NULL;
    char name[64] = "", key[256], start_segment[25];
    uint32_t start_offset;

    /* The session must outlive a spread checkpoint and the whole copy: no server-side
     * timeout may end it (that would abort the backup). */
    if (!(st = repository_open(o->prefix)) || !(s = pg_session_open(o->conninfo)) ||
        pg_exec(s, "disabling timeouts for the backup session",
                "set statement_timeout = 0; set idle_session_timeout = 0;"
                " set idle_in_transaction_session_timeout = 0") != PA_OK ||
        check_server(s, pgdata, &meta, &version) != PA_OK)
        goto out;

    /* start */
    char label[96];
    utc_now(meta.start_time);
    snprintf(label, sizeof label, "pgattest %s", meta.start_time);
    const char *start_params[] = {label, o->fast ? "true" : "false"};
    char *start[3];
    if (pg_query_row(s, "pg_backup_start",
                     "select b.lsn::text, w.file_name, w.file_offset::text"
                     " from pg_backup_start($1, $2::boolean) as b(lsn),"
                     " pg_walfile_name_offset(b.lsn) as w",
                     2, start_params, 3, start) != PA_OK)
        goto out;
    rc = parse_position(start, "start", &meta.start_lsn, start_segment, &start_offset);
    pg_values_free(start, 3);
    if (rc != PA_OK)
        goto out;
    rc = PA_ERR;
    wal_file_name start_wal;
    wal_name_parse(start_segment, &start_wal);
    meta.timeline = start_wal.timeline;
    backup_name_format(name, sizeof name, start_segment, start_offset);
    log_verbose("backup %s started", name);

    backup_object_key(key, sizeof key, name, "extended_version.txt");
    if (put_object(st, key, version, strlen(version)) != PA_OK)
        goto out;

    /* data directory -> parts; manifest entries stream into the manifest object */
    manifest_writer mw;
    backup_object_key(key, sizeof key, name, MANIFEST_NAME);
    if (storage_open_write(st, key, STORAGE_NO_OVERWRITE | STORAGE_VERIFY,
                           &manifest_writer_sink) != PA_OK ||
        !(manifest_hash = sha256_filter_new(manifest_writer_sink)) ||
        manifest_writer_begin(&mw, manifest_hash, name) != PA_OK)
        goto out;
    if (!(tp = tar_parts_start(st, name, o->jobs, o->partition_size, &mw)))
        goto out;
    if (tar_parts_add_data_directory(tp, pgdata, &meta) != PA_OK || tar_parts_wait(tp) != PA_OK)
        goto out;

    /* stop; then wait until the WAL the backup needs is in the repository */
    if (pg_query_row(s, "pg_backup_stop",
                     "select b.lsn::text, w.file_name, w.file_offset::text, b.labelfile,"
                     " b.spcmapfile from pg_backup_stop(false) as b,"
                     " pg_walfile_name_offset(b.lsn) as w",
                     0, NULL, 5, stop) != PA_OK)
        goto out;
    utc_now(meta.stop_time);
    if (parse_position(stop, "stop", &meta.stop_lsn, meta.stop_segment, &meta.stop_offset) !=
        PA_OK)
        goto out;
    if (!stop[3]) {
        err_set("pg_backup_stop returned no backup_label");
        goto out;
    }
    if (wait_for_wal(st, &meta, start_segment, o->archive_timeout) != PA_OK)
        goto out;
    tar_content labels[2] = {{"backup_label", stop[3], strlen(stop[3])}};
    size_t n_labels = 1;
    if (stop[4] && *stop[4])
        labels[n_labels++] = (tar_content){"tablespace_map", stop[4], strlen(stop[4])};
    if (tar_parts_add_content_part(tp, labels, n_labels) != PA_OK)
        goto out;
    uint64_t vanished;
    tar_parts_result(tp, &meta.parts, &meta.n_parts, &meta.expanded_size, &vanished);
    meta.vanished_files = vanished;
    for (size_t i = 0; i < meta.n_parts; i++)
        meta.compressed_size += meta.parts[i].size;
    if (vanished)
        log_info("%" PRIu64 " files vanished while the backup ran (dropped by the server; WAL "
                 "replay accounts for them)",
                 vanished);

    if (manifest_writer_end(&mw) != PA_OK || sink_finish(manifest_hash) != PA_OK) {
        err_prefix("cannot store \"%s/%s\"", st->url, key);
        goto out;
    }
    meta.manifest.size = sha256_filter_bytes(manifest_hash);
    sha256_filter_hex(manifest_hash, meta.manifest.sha256);
    if (!(meta.manifest.name = strdup(MANIFEST_NAME)) || !(meta.base_prefix = strdup(pgdata))) {
        err_set("out of memory");
        goto out;
    }

    /* last: the sentinel */
    meta.has_extended = true;
    if (!(json = sentinel_to_json(&meta))) {
        err_set("out of memory");
        goto out;
    }
    backup_sentinel_key(key, sizeof key, name);
    if (put_object(st, key, json, strlen(json)) != PA_OK)
        goto out;
    char lsn_text[20];
    lsn_format(lsn_text, meta.stop_lsn);
    log_info("backup %s complete: %zu parts, %" PRIu64 " bytes backed up, %" PRIu64
             " stored, stop LSN %s",
             name, meta.n_parts, meta.expanded_size, meta.compressed_size, lsn_text);
    printf("%s\n", name);
    if (fflush(stdout) != 0)
        log_warning("cannot write the backup name to standard output");
    rc = PA_OK;
out:
    if (rc != PA_OK && *name)
        err_prefix("backup %s failed (no sentinel written: the backup is incomplete)", name);
    tar_parts_free(tp);
    sink_free(manifest_hash);
    sink_free(manifest_writer_sink);
    pg_values_free(stop, 5);
    pg_session_close(s); /* aborts the server's backup if pg_backup_stop was not reached */
    storage_close(st);
    sentinel_free(&meta);
    free(version);
    free(json);
    return rc;
}

/* "1073741824", "64M", "1G", "512K" */
static bool parse_size(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || text[0] == '-')
        return false;
    uint64_t mult = 1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': mult = 1024; end++; break;
    case 'm': case 'M': mult = 1024 * 1024; end++; break;
    case 'g': case 'G': mult = 1024ull * 1024 * 1024; end++; break;
    default: return false;
    }
    if (*end == 'i' && end[1] == 'B')
        end += 2;
    else if (*end == 'B')
        end++;
    if (*end || v == 0 || v > UINT64_MAX / mult)
        return false;
    *out = v * mult;
    return true;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONG_OPTIONS,
                                         {"dbname", required_argument, NULL, 'd'},
                                         {"jobs", required_argument, NULL, 'j'},
                                         {"partition-size", required_argument, NULL, 'S'},
                                         {"fast", no_argument, NULL, 'F'},
                                         {"archive-timeout", required_argument, NULL, 'A'},
                                         {0}};
    common_options common = {0};
    push_options o = {NULL, NULL, 2, TAR_PARTS_DEFAULT_SIZE, false, 300};
    int c, status;
    char *end;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS "d:j:", opts, NULL)) != -1) {
        int handled = common_option(&cmd_backup_push, c, &common, &status);
        if (handled < 0)
            return status;
        if (handled)
            continue;
        switch (c) {
        case 'd':
            o.conninfo = optarg;
            break;
        case 'j': {
            unsigned long j = strtoul(optarg, &end, 10);
            if (*end || j < 1 || j > 64)
                return usage_error(&cmd_backup_push, "--jobs must be between 1 and 64, not \"%s\"",
                                   optarg);
            o.jobs = (unsigned)j;
            break;
        }
        case 'S':
            if (!parse_size(optarg, &o.partition_size) || o.partition_size < 64 * 1024)
                return usage_error(&cmd_backup_push,
                                   "--partition-size must be a size of at least 64K (e.g. 1G, "
                                   "512M), not \"%s\"",
                                   optarg);
            break;
        case 'F':
            o.fast = true;
            break;
        case 'A': {
            unsigned long t = strtoul(optarg, &end, 10);
            if (*end || t < 1 || t > 86400)
                return usage_error(&cmd_backup_push,
                                   "--archive-timeout must be 1 to 86400 seconds, not \"%s\"",
                                   optarg);
            o.archive_timeout = (unsigned)t;
            break;
        }
        }
    }
    o.prefix = common.prefix;
    if (argc - optind != 1)
        return usage_error(&cmd_backup_push, "expected one argument, the data directory");
    if (backup_push(argv[optind], &o) != PA_OK) {
        report_failure();
        return EXIT_FAILURE_ENGINE;
    }
    return EXIT_OK;
}

const command cmd_backup_push = {
    "backup-push", run, "take a base backup of a running cluster (pg_backup_start/stop)",
    "Usage: pgattest backup-push [OPTIONS] PGDATA\n"
    "\n"
    "Take a base backup of the running PostgreSQL 15+ cluster whose data directory is\n"
    "PGDATA, into <repository>/basebackups_005/base_<segment>_<offset>/ (WAL-E's layout):\n"
    "tar parts compressed with lzop, manifest.json (every file's size and SHA-256) and, last,\n"
    "the stop sentinel. The server must archive its WAL (archive_mode = on,\n"
    "archive_command = 'pgattest wal-push %p'): a base backup without its WAL is useless.\n"
    "After pg_backup_stop it waits until every WAL segment from the backup's start to its\n"
    "stop is in this repository; only then is the sentinel written.\n"
    "Prints the backup's name on success.\n"
    "\n"
    "Options:\n"
    "  --prefix URL           repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "  -d, --dbname CONNINFO  how to connect (default: libpq's PGHOST, PGPORT, PGUSER, ...)\n"
    "  -j, --jobs N           parts written in parallel (default 2)\n"
    "  --partition-size SIZE  tar bytes per part, e.g. 1G (default 256M)\n"
    "  --fast                 ask for an immediate checkpoint instead of a spread one\n"
    "  --archive-timeout SEC  how long to wait for the WAL to be archived (default 300)\n"
    "  -v, --verbose          report each part\n"
    "  -q, --quiet            only errors (and the backup name)\n"
    "\n"
    "Exit status: 0 the backup is complete and verified, 1 failure (no sentinel is written:\n"
    "the backup is incomplete and never restorable), 2 usage error.\n"};
