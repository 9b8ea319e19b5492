/*
 * verify [--deep [--full]] [--json] — can the repository's backups be restored, and to when?
 *
 * Monitoring exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not run, including
 * usage errors: a typo in a cron line must not read as "critical data loss").
 */
#include <cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit/verified_state.h"
#include "audit/verify.h"
#include "cmd/cmd.h"
#include "common/error.h"
#include "common/log.h"
#include "report/findings.h"
#include "storage/repository.h"

enum { OPT_DEEP = OPT_COMMAND_FIRST, OPT_FULL, OPT_JSON, OPT_JOBS, OPT_IN_PROGRESS, OPT_WAIVERS,
       OPT_MAX_WAL_AGE, OPT_MAX_BACKUP_AGE, OPT_STATE, OPT_NO_STATE };

static bool parse_count(const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Tests and reproducible reports may pin the clock: PGATTEST_NOW=<epoch seconds>. */
static int64_t now_seconds(void)
{
    const char *fixed = getenv("PGATTEST_NOW");
    long v;
    if (fixed && parse_count(fixed, 0, LONG_MAX, &v))
        return v;
    return (int64_t)time(NULL);
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_LONG_OPTIONS,
        {"deep", no_argument, NULL, OPT_DEEP},
        {"full", no_argument, NULL, OPT_FULL},
        {"json", no_argument, NULL, OPT_JSON},
        {"jobs", required_argument, NULL, OPT_JOBS},
        {"in-progress-segments", required_argument, NULL, OPT_IN_PROGRESS},
        {"waivers", required_argument, NULL, OPT_WAIVERS},
        {"max-wal-age", required_argument, NULL, OPT_MAX_WAL_AGE},
        {"max-backup-age", required_argument, NULL, OPT_MAX_BACKUP_AGE},
        {"state", required_argument, NULL, OPT_STATE},
        {"no-state", no_argument, NULL, OPT_NO_STATE},
        {0}};
    common_options common = {0};
    verify_options vo = {.jobs = 2, .in_progress_segments = 2};
    bool json = false, no_state = false;
    const char *waivers_path = NULL, *state_path = NULL;
    int c, status;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS, opts, NULL)) != -1) {
        switch (c) {
        case OPT_DEEP: vo.deep = true; break;
        case OPT_FULL: vo.full = true; break;
        case OPT_JSON: json = true; break;
        case OPT_JOBS:
            if (!parse_count(optarg, 1, 64, &v)) {
                usage_error(&cmd_verify, "--jobs wants a number from 1 to 64, not \"%s\"", optarg);
                return SEV_UNKNOWN;
            }
            vo.jobs = (unsigned)v;
            break;
        case OPT_IN_PROGRESS:
            if (!parse_count(optarg, 0, 1000000, &v)) {
                usage_error(&cmd_verify, "--in-progress-segments wants a number >= 0, not \"%s\"",
                            optarg);
                return SEV_UNKNOWN;
            }
            vo.in_progress_segments = (uint32_t)v;
            break;
        case OPT_MAX_WAL_AGE:
        case OPT_MAX_BACKUP_AGE:
            if (!parse_count(optarg, 1, LONG_MAX, &v)) {
                usage_error(&cmd_verify, "%s wants seconds (a positive number), not \"%s\"",
                            c == OPT_MAX_WAL_AGE ? "--max-wal-age" : "--max-backup-age", optarg);
                return SEV_UNKNOWN;
            }
            if (c == OPT_MAX_WAL_AGE)
                vo.max_wal_age = v;
            else
                vo.max_backup_age = v;
            break;
        case OPT_WAIVERS: waivers_path = optarg; break;
        case OPT_STATE: state_path = optarg; break;
        case OPT_NO_STATE: no_state = true; break;
        default:
            if (common_option(&cmd_verify, c, &common, &status) < 0)
                return status == EXIT_OK ? EXIT_OK : SEV_UNKNOWN;
        }
    }
    if (optind != argc) {
        usage_error(&cmd_verify, "unexpected argument \"%s\"", argv[optind]);
        return SEV_UNKNOWN;
    }
    if (vo.full && !vo.deep) {
        usage_error(&cmd_verify, "--full only makes sense with --deep");
        return SEV_UNKNOWN;
    }
    vo.now = now_seconds();
    waiver_list waivers = {0};
    if (waivers_path) {
        if (waivers_load_file(waivers_path, &waivers) != PA_OK) {
            report_failure();
            return SEV_UNKNOWN;
        }
        vo.waivers = &waivers;
    }
    storage *st = repository_open(common.prefix);
    if (!st) {
        report_failure();
        waivers_free(&waivers);
        return SEV_UNKNOWN;
    }
    char *default_state = NULL;
    if (vo.deep && !no_state) {
        if (state_path) {
            vo.state_path = state_path;
        } else if ((default_state = verified_state_default_path(st->url))) {
            vo.state_path = default_state;
        } else {
            log_warning("no state directory ($XDG_STATE_HOME and $HOME unset): every object is "
                        "checked again next time; use --state FILE");
        }
    }
    report r;
    report_init(&r);
    cJSON *result = NULL;
    int exit_status;
    if (verify_repository(st, &vo, &r, &result) != PA_OK) {
        report_failure();
        exit_status = SEV_UNKNOWN;
    } else {
        severity overall = report_status(&r);
        exit_status = severity_exit_code(overall);
        if (json) {
            cJSON_AddNumberToObject(result, "pgattest_verify", 1);
            cJSON_AddStringToObject(result, "repository", st->url);
            cJSON_AddNumberToObject(result, "time", (double)vo.now);
            cJSON_AddBoolToObject(result, "deep", vo.deep);
            cJSON_AddStringToObject(result, "status", severity_name(overall));
            cJSON_AddNumberToObject(result, "exit_status", exit_status);
            cJSON *checks = report_checks_json(&r);
            char *text = checks && cJSON_AddItemToObject(result, "checks", checks)
                             ? cJSON_Print(result)
                             : NULL;
            if (!text) {
                log_error("out of memory writing the JSON result");
                exit_status = SEV_UNKNOWN;
            } else {
                puts(text);
                free(text);
            }
        } else if (log_get_level() > LOG_QUIET) {
            printf("%s: %s\n", st->url, severity_name(overall));
            cJSON *backups = cJSON_GetObjectItemCaseSensitive(result, "backups");
            const cJSON *b;
            cJSON_ArrayForEach(b, backups)
            {
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");
                const cJSON *restorable = cJSON_GetObjectItemCaseSensitive(b, "restorable");
                const cJSON *from = cJSON_GetObjectItemCaseSensitive(b, "recoverable_from");
                const cJSON *until = cJSON_GetObjectItemCaseSensitive(b, "recoverable_until");
                const cJSON *tl = cJSON_GetObjectItemCaseSensitive(b, "recoverable_until_timeline");
                if (cJSON_IsTrue(restorable) && cJSON_IsString(until))
                    printf("  %s  restorable, recoverable from %s until %s (timeline %d)\n",
                           name->valuestring, from->valuestring, until->valuestring,
                           tl ? tl->valueint : 0);
                else
                    printf("  %s  NOT RESTORABLE\n", name->valuestring);
            }
            report_print_text(&r, stdout, log_get_level() >= LOG_VERBOSE);
        }
    }
    cJSON_Delete(result);
    report_free(&r);
    free(default_state);
    storage_close(st);
    waivers_free(&waivers);
    return exit_status;
}

const command cmd_verify = {
    "verify", run, "which backups can be restored, to when; WAL gaps; --deep integrity",
    "Usage: pgattest verify [OPTIONS]\n"
    "\n"
    "Check the repository: every base backup's WAL from start to stop (restorable?), the\n"
    "WAL after it along its timeline and every later timeline that branched from it\n"
    "(recoverable from/until, every gap as a range), timeline history files, the age of the\n"
    "newest WAL (achieved RPO) and of the newest backup. Every problem is reported; the work\n"
    "goes on.\n"
    "\n"
    "Options:\n"
    "  --json                      the full result as JSON on stdout\n"
    "  --deep                      also download every object and check it: lzop checksums,\n"
    "                              WAL page headers, parts against the sentinel's SHA-256,\n"
    "                              files against the manifest's SHA-256\n"
    "  --full                      with --deep: check again what an earlier run verified\n"
    "  --jobs N                    --deep downloads in parallel (default 2)\n"
    "  --state FILE                --deep: remember verified objects here (default\n"
    "                              $XDG_STATE_HOME/pgattest/ or ~/.local/state/pgattest/,\n"
    "                              one file per repository URL)\n"
    "  --no-state                  --deep: neither read nor write the state\n"
    "  --in-progress-segments N    a gap ending within N segments of the newest archived\n"
    "                              segment may still be archiving: WARNING, not CRITICAL\n"
    "                              (default 2; 0 = every gap is CRITICAL)\n"
    "  --waivers FILE              accepted gaps (JSON list of {check, timeline, from, to,\n"
    "                              reason, expires}); waived gaps are still listed\n"
    "  --max-wal-age SECONDS       WARNING when the newest archived WAL is older\n"
    "  --max-backup-age SECONDS    WARNING when the newest complete backup is older\n"
    "  --prefix URL                repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "  -v, --verbose               details and evidence of every finding\n"
    "  -q, --quiet                 print nothing but errors: the exit status tells\n"
    "\n"
    "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (the check could not run).\n"};
