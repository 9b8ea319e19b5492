/* The tar stream backup-push writes, read back with libarchive's reader: names (long ones
 * through pax headers), types, modes, sizes, data and symlink targets survive. */
#include <archive.h>
#include <archive_entry.h>

#include <unistd.h>

#include "common/error.h"
#include "io/sha256.h"
#include "pg/tar_writer.h"
#include "test.h"

static void test_round_trip(void)
{
    sink *mem = memory_sink_new(1 << 22);
    tar_writer *t = tar_writer_new(mem);
    CHECK(t != NULL);
    char long_name[300];
    memset(long_name, 'x', sizeof long_name);
    memcpy(long_name, "pg_tblspc/16384/", 16);
    long_name[sizeof long_name - 1] = '\0';
    static char data[100000];
    test_random_bytes(data, sizeof data, 7);
    tar_member dir = {"base", TAR_DIR, 0700, 1700000000, 1, 2, 0, NULL};
    tar_member file = {"base/1/16384", TAR_FILE, 0600, 1700000001, 1, 2, sizeof data, NULL};
    tar_member lfile = {long_name, TAR_FILE, 0640, 1700000002, 1, 2, 3, NULL};
    tar_member link = {"pg_wal_link", TAR_SYMLINK, 0777, 1700000003, 1, 2, 0, "/var/wal"};
    CHECK_EQ_INT(tar_writer_begin(t, &dir), PA_OK);
    CHECK_EQ_INT(tar_writer_end_member(t), PA_OK);
    CHECK_EQ_INT(tar_writer_begin(t, &file), PA_OK);
    CHECK_EQ_INT(tar_writer_data(t, data, 60000), PA_OK);
    CHECK_EQ_INT(tar_writer_data(t, data + 60000, sizeof data - 60000), PA_OK);
    CHECK_EQ_INT(tar_writer_end_member(t), PA_OK);
    CHECK_EQ_INT(tar_writer_begin(t, &lfile), PA_OK);
    CHECK(tar_writer_data(t, "abcd", 4) != PA_OK); /* more than its size */
    CHECK_EQ_INT(tar_writer_data(t, "abc", 3), PA_OK);
    CHECK_EQ_INT(tar_writer_end_member(t), PA_OK);
    CHECK_EQ_INT(tar_writer_begin(t, &link), PA_OK);
    CHECK_EQ_INT(tar_writer_end_member(t), PA_OK);
    CHECK_EQ_INT(tar_writer_finish(t), PA_OK);
    size_t len;
    const char *tar = memory_sink_data(mem, &len);
    CHECK_EQ_INT(len % 512, 0);
    CHECK_EQ_INT(len, tar_writer_bytes(t));

    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    CHECK_EQ_INT(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
    struct archive_entry *e;
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
    CHECK_STR(archive_entry_pathname(e), "base/");
    CHECK_EQ_INT(archive_entry_filetype(e), AE_IFDIR);
    CHECK_EQ_INT(archive_entry_perm(e), 0700);
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
    CHECK_STR(archive_entry_pathname(e), "base/1/16384");
    CHECK_EQ_INT(archive_entry_size(e), sizeof data);
    CHECK_EQ_INT(archive_entry_mtime(e), 1700000001);
    static char back[sizeof data];
    CHECK_EQ_INT(archive_read_data(a, back, sizeof back), sizeof back);
    CHECK(memcmp(back, data, sizeof data) == 0);
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
    CHECK_STR(archive_entry_pathname(e), long_name);
    CHECK_EQ_INT(archive_entry_perm(e), 0640);
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
    CHECK_STR(archive_entry_pathname(e), "pg_wal_link");
    CHECK_EQ_INT(archive_entry_filetype(e), AE_IFLNK);
    CHECK_STR(archive_entry_symlink(e), "/var/wal");
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_EOF);
    archive_read_free(a);
    tar_writer_free(t);
    sink_free(mem);
}

static void test_short_member_is_an_error(void)
{
    sink *mem = memory_sink_new(1 << 16);
    tar_writer *t = tar_writer_new(mem);
    tar_member file = {"f", TAR_FILE, 0600, 0, 0, 0, 10, NULL};
    CHECK_EQ_INT(tar_writer_begin(t, &file), PA_OK);
    CHECK_EQ_INT(tar_writer_data(t, "12345", 5), PA_OK);
    CHECK(tar_writer_end_member(t) != PA_OK);
    CHECK_CONTAINS(err_msg(), "short");
    tar_writer_free(t); /* abandoned: must not write to the sink any more */
    sink_free(mem);
}

static void test_sink_failure_is_reported(void)
{
    sink *mem = memory_sink_new(1024); /* too small for the data */
    tar_writer *t = tar_writer_new(mem);
    static char data[4096];
    tar_member file = {"f", TAR_FILE, 0600, 0, 0, 0, sizeof data, NULL};
    int rc = tar_writer_begin(t, &file);
    if (rc == PA_OK)
        rc = tar_writer_data(t, data, sizeof data);
    CHECK(rc != PA_OK);
    tar_writer_free(t);
    sink_free(mem);
}

/* A file read with the size it had when opened: shrunk -> zero padding, grown -> cut. */
static void test_copy_fd_shrunk_and_grown(void)
{
    char path[] = "/tmp/pgattest-unit-tarcopy.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    static char data[5000];
    test_random_bytes(data, sizeof data, 3);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    sink *mem = memory_sink_new(1 << 20);
    tar_writer *t = tar_writer_new(mem);
    char chunk[1024]; /* several reads, the last one partial */
    bool shrank = true;
    tar_member shrunk = {"shrunk", TAR_FILE, 0600, 0, 0, 0, 8000, NULL};
    tar_member grown = {"grown", TAR_FILE, 0600, 0, 0, 0, 3000, NULL};
    sink *hash = sha256_filter_new(NULL);
    CHECK_EQ_INT(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ_INT(tar_writer_begin(t, &shrunk), PA_OK);
    CHECK_EQ_INT(tar_writer_copy_fd(t, fd, 8000, hash, path, chunk, sizeof chunk, &shrank), PA_OK);
    CHECK(shrank);
    CHECK_EQ_INT(sink_finish(hash), PA_OK);
    CHECK_EQ_INT(sha256_filter_bytes(hash), 8000);
    CHECK_EQ_INT(tar_writer_end_member(t), PA_OK);
    CHECK_EQ_INT(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ_INT(tar_writer_begin(t, &grown), PA_OK);
    CHECK_EQ_INT(tar_writer_copy_fd(t, fd, 3000, NULL, path, chunk, sizeof chunk, &shrank), PA_OK);
    CHECK(!shrank);
    CHECK_EQ_INT(tar_writer_end_member(t), PA_OK);
    CHECK_EQ_INT(tar_writer_finish(t), PA_OK);
    /* the digest covers the stored bytes: the data, then the zeros */
    static char expect[8000];
    memcpy(expect, data, sizeof data);
    uint8_t digest[SHA256_LEN];
    CHECK_EQ_INT(sha256_buffer(expect, sizeof expect, digest), PA_OK);
    CHECK(memcmp(digest, sha256_filter_digest(hash), SHA256_LEN) == 0);

    size_t len;
    const char *tar = memory_sink_data(mem, &len);
    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    CHECK_EQ_INT(archive_read_open_memory(a, tar, len), ARCHIVE_OK);
    struct archive_entry *e;
    static char back[8000];
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
    CHECK_EQ_INT(archive_read_data(a, back, sizeof back), 8000);
    CHECK(memcmp(back, expect, sizeof expect) == 0);
    CHECK_EQ_INT(archive_read_next_header(a, &e), ARCHIVE_OK);
    CHECK_EQ_INT(archive_read_data(a, back, sizeof back), 3000);
    CHECK(memcmp(back, data, 3000) == 0);
    archive_read_free(a);
    sink_free(hash);
    tar_writer_free(t);
    sink_free(mem);
    close(fd);
    unlink(path);
}

TEST_MAIN(TEST(test_round_trip), TEST(test_copy_fd_shrunk_and_grown), TEST(test_short_member_is_an_error),
          TEST(test_sink_failure_is_reported))
