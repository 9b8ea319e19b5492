/*
 * wal-fetch NAME DEST — restore one archived WAL file (restore_command).
 *
 * Exit 1 means only "the archive says there is no such file": PostgreSQL then ends recovery
 * (or switches to streaming). Every other failure exits with EXIT_FETCH_FATAL (>125) so that
 * recovery stops instead of ending early at the wrong point.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "io/lzop.h"
#include "pg/walname.h"
#include "storage/repository.h"

static int fetch_into(storage *st, const char *key, int fd, const char *temp, uint64_t *bytes)
{
    sink *out = fd_sink_new(fd, temp);
    sink *lz = out ? lzop_decompress_new(out) : NULL;
    int rc = PA_ERR;
    if (lz) {
        rc = storage_read(st, key, 0, 0, lz);
        if (rc == PA_OK)
            rc = sink_finish(lz);
        if (rc == PA_ERR)
            err_prefix("\"%s/%s\"", st->url, key);
        *bytes = lzop_decompress_output_bytes(lz);
    }
    sink_free(lz);
    sink_free(out);
    return rc;
}

static int wal_fetch(const char *name, const char *dest, const char *prefix)
{
    wal_file_name wal;
    if (wal_name_parse(name, &wal) == WAL_INVALID)
        return err_set("\"%s\" is not a WAL file name", name);
    storage *st = repository_open(prefix);
    if (!st)
        return PA_ERR;
    char key[128];
    snprintf(key, sizeof key, REPO_WAL_DIR "%s.lzo", name);

    int rc = PA_ERR;
    char *dir = path_dirname(dest);
    char *temp = NULL;
    int fd = -1;
    if (dir) {
        char temp_name[128];
        snprintf(temp_name, sizeof temp_name, ".pgattest-fetch.%.40s.%ld", name, (long)getpid());
        temp = path_join(dir, temp_name);
    }
    if (!dir || !temp) {
        err_set("out of memory");
        goto out;
    }
    fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        err_errno(errno, "cannot create \"%s\"", temp);
        goto out;
    }
    uint64_t bytes = 0;
    rc = fetch_into(st, key, fd, temp, &bytes);
    if (rc == PA_NOT_FOUND) {
        log_verbose("\"%s\" is not in the archive \"%s\"", name, st->url);
        goto out;
    }
    if (rc != PA_OK)
        goto out;
    rc = PA_ERR;
    if (wal.kind == WAL_SEGMENT && !wal_seg_size_valid(bytes)) {
        err_set("\"%s/%s\" decompresses to %" PRIu64 " bytes, not a WAL segment size; the "
                "archived object is damaged",
                st->url, key, bytes);
        goto out;
    }
    /* No fsync: PostgreSQL re-fetches after a crash during recovery; the rename keeps a
     * half-written file from ever appearing under DEST. */
    if (close(fd) != 0) {
        fd = -1;
        err_errno(errno, "cannot write \"%s\"", temp);
        goto out;
    }
    fd = -1;
    if (rename(temp, dest) != 0) {
        err_errno(errno, "cannot rename \"%s\" to \"%s\"", temp, dest);
        goto out;
    }
    log_verbose("restored \"%s\" from \"%s\"", name, st->url);
    rc = PA_OK;
out:
    if (fd >= 0)
        close(fd);
    if (rc != PA_OK && temp)
        unlink(temp);
    free(temp);
    free(dir);
    storage_close(st);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONG_OPTIONS, {0}};
    common_options common = {0};
    int c, status;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS, opts, NULL)) != -1)
        if (common_option(&cmd_wal_fetch, c, &common, &status) < 0)
            return status == EXIT_OK ? EXIT_OK : EXIT_FETCH_FATAL;
    if (argc - optind != 2) {
        /* Even a usage error must not look like "not found" to PostgreSQL. */
        usage_error(&cmd_wal_fetch, "expected two arguments, NAME and DEST (%%f %%p)");
        return EXIT_FETCH_FATAL;
    }
    int rc = wal_fetch(argv[optind], argv[optind + 1], common.prefix);
    if (rc == PA_OK)
        return EXIT_OK;
    if (rc == PA_NOT_FOUND)
        return EXIT_NOT_IN_ARCHIVE;
    report_failure();
    return EXIT_FETCH_FATAL;
}

const command cmd_wal_fetch = {
    "wal-fetch", run, "restore one WAL file (restore_command = 'pgattest wal-fetch %f %p')",
    "Usage: pgattest wal-fetch [OPTIONS] NAME DEST\n"
    "\n"
    "Fetch <repository>/wal_005/NAME.lzo, decompress it and write DEST atomically.\n"
    "\n"
    "  restore_command = 'pgattest wal-fetch %f %p'\n"
    "\n"
    "Options:\n"
    "  --prefix URL   repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "  --aws-instance-profile  S3 credentials from the EC2 instance metadata (IMDSv2)\n"
    "  -v, --verbose  report what was fetched\n"
    "  -q, --quiet    only errors\n"
    "\n"
    "Exit status: 0 fetched; 1 only when the archive has no such file; 255 for any other\n"
    "failure (unreadable repository, corrupt object, full disk, usage error), so PostgreSQL\n"
    "stops recovery rather than ending it early and losing transactions.\n"};
