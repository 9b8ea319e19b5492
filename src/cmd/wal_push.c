/*
 * wal-push PATH — archive one file from pg_wal (archive_command = 'pgattest wal-push %p').
 *
 * Stores wal_005/<name>.lzo. An archived object is never replaced: if the name is already
 * there, the archived content is compared with the local file; identical is success (the
 * archiver may retry after a crash), different is a loud failure that leaves both alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "io/lzop.h"
#include "io/sha256.h"
#include "pg/walname.h"
#include "storage/repository.h"

static int hash_local(int fd, const char *path, uint8_t out[SHA256_LEN])
{
    sink *h = sha256_filter_new(NULL);
    if (!h)
        return PA_ERR;
    int rc = PA_ERR;
    if (lseek(fd, 0, SEEK_SET) != 0)
        err_errno(errno, "cannot seek in \"%s\"", path);
    else if (sink_copy_fd(h, fd, path) == PA_OK && sink_finish(h) == PA_OK) {
        memcpy(out, sha256_filter_digest(h), SHA256_LEN);
        rc = PA_OK;
    }
    sink_free(h);
    return rc;
}

/* SHA-256 of the decompressed content of an archived object. */
static int hash_archived(storage *st, const char *key, uint8_t out[SHA256_LEN])
{
    sink *h = sha256_filter_new(NULL);
    sink *lz = h ? lzop_decompress_new(h) : NULL;
    int rc = PA_ERR;
    if (lz) {
        rc = storage_read(st, key, 0, 0, lz);
        if (rc == PA_OK)
            rc = sink_finish(lz);
        if (rc == PA_OK)
            memcpy(out, sha256_filter_digest(h), SHA256_LEN);
    }
    sink_free(lz);
    sink_free(h);
    return rc;
}

/* The name is taken: succeed only if the archived content is exactly ours. */
static int compare_with_archived(storage *st, const char *key, int fd, const char *path)
{
    uint8_t local[SHA256_LEN], archived[SHA256_LEN];
    char local_hex[SHA256_HEX_LEN + 1], archived_hex[SHA256_HEX_LEN + 1];
    if (hash_local(fd, path, local) != PA_OK)
        return PA_ERR;
    int rc = hash_archived(st, key, archived);
    if (rc == PA_NOT_FOUND)
        return err_set("\"%s/%s\" disappeared while being compared; retry", st->url, key);
    if (rc != PA_OK) {
        err_prefix("\"%s\" is already archived but \"%s/%s\" cannot be read back; it was left "
                   "untouched, inspect it",
                   path, st->url, key);
        return PA_ERR;
    }
    if (memcmp(local, archived, SHA256_LEN) != 0) {
        sha256_to_hex(local, local_hex);
        sha256_to_hex(archived, archived_hex);
        return err_set("\"%s\" (SHA-256 %.16s...) differs from the archived \"%s/%s\" (SHA-256 "
                       "%.16s...); the archived object was left untouched. Two clusters may be "
                       "archiving into one repository: check the prefix",
                       path, local_hex, st->url, key, archived_hex);
    }
    log_verbose("\"%s\" is already archived with identical content", path);
    return PA_OK;
}

static int push(storage *st, const char *key, int fd, const char *path, int64_t mtime)
{
    sink *writer = NULL, *lz = NULL;
    int rc = storage_open_write(st, key, STORAGE_NO_OVERWRITE | STORAGE_VERIFY, &writer);
    /* archive_command runs one segment at a time: use the idle cores for compression. */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus > 4 ? 4 : cpus < 1 ? 1 : (int)cpus;
    if (rc == PA_OK && !(lz = lzop_compress_new(writer, 0, mtime, threads)))
        rc = PA_ERR;
    if (rc == PA_OK)
        rc = sink_copy_fd(lz, fd, path);
    if (rc == PA_OK)
        rc = sink_finish(lz);
    sink_free(lz);
    sink_free(writer);
    if (rc == PA_EXISTS) /* someone archived it meanwhile */
        return compare_with_archived(st, key, fd, path);
    if (rc != PA_OK)
        err_prefix("cannot archive \"%s\" to \"%s/%s\"", path, st->url, key);
    else
        log_verbose("archived \"%s\" to \"%s/%s\"", path, st->url, key);
    return rc;
}

static int wal_push(const char *path, const char *prefix)
{
    const char *name = path_basename(path);
    wal_file_name wal;
    if (wal_name_parse(name, &wal) == WAL_INVALID)
        return err_set("\"%s\" is not a WAL file name (expected a 24-hex-digit segment name, "
                       "NAME.partial, NAME.OFFSET.backup or TLI.history)",
                       path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno(errno, "cannot read \"%s\"", path);
    int rc = PA_ERR;
    storage *st = NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        err_errno(errno, "cannot stat \"%s\"", path);
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        err_set("\"%s\" is not a regular file", path);
        goto out;
    }
    if (wal.kind == WAL_SEGMENT && !wal_seg_size_valid((uint64_t)sb.st_size)) {
        err_set("\"%s\" is %" PRIu64 " bytes; a complete WAL segment is a power of two between "
                "1 MiB and 1 GiB, refusing to archive it",
                path, (uint64_t)sb.st_size);
        goto out;
    }
    if (!(st = repository_open(prefix)))
        goto out;
    char key[128];
    snprintf(key, sizeof key, REPO_WAL_DIR "%s.lzo", name);
    storage_entry existing;
    rc = storage_stat(st, key, &existing);
    if (rc == PA_OK)
        rc = compare_with_archived(st, key, fd, path);
    else if (rc == PA_NOT_FOUND)
        rc = push(st, key, fd, path, (int64_t)sb.st_mtim.tv_sec);
    else
        err_prefix("cannot archive \"%s\"", path);
out:
    storage_close(st);
    close(fd);
    return rc;
}

static int run(int argc, char **argv)
{
    static const struct option opts[] = {COMMON_LONG_OPTIONS, {0}};
    common_options common = {0};
    int c, status;
    while ((c = getopt_long(argc, argv, COMMON_SHORT_OPTIONS, opts, NULL)) != -1)
        if (common_option(&cmd_wal_push, c, &common, &status) < 0)
            return status;
    if (argc - optind != 1)
        return usage_error(&cmd_wal_push, "expected one argument, the path of the WAL file");
    if (wal_push(argv[optind], common.prefix) != PA_OK) {
        report_failure();
        return EXIT_FAILURE_ENGINE;
    }
    return EXIT_OK;
}

const command cmd_wal_push = {
    "wal-push", run, "archive one WAL file (archive_command = 'pgattest wal-push %p')",
    "Usage: pgattest wal-push [OPTIONS] PATH\n"
    "\n"
    "Archive one file from pg_wal (segment, .partial, .backup or .history) to\n"
    "<repository>/wal_005/<name>.lzo, compressed with lzop. Success means the object is\n"
    "durably stored and read back intact. An archived name is never overwritten: pushing\n"
    "identical content again succeeds, different content fails and changes nothing.\n"
    "\n"
    "  archive_command = 'pgattest wal-push %p'\n"
    "\n"
    "Options:\n"
    "  --prefix URL   repository (default $PGATTEST_PREFIX, then $WALE_S3_PREFIX)\n"
    "  --aws-instance-profile  S3 credentials from the EC2 instance metadata (IMDSv2)\n"
    "  -v, --verbose  report what was archived\n"
    "  -q, --quiet    only errors\n"
    "\n"
    "Exit status: 0 archived (or already archived identically), 1 failure, 2 usage error.\n"};
