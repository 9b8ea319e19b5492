/* The rules that keep restored tar members inside the target directory. */
#include "common/error.h"
#include "pg/tar_member_path.h"
#include "test.h"

static void test_normalize(void)
{
    char out[64];
    CHECK_EQ_INT(tar_member_normalize("./base//1/", out, sizeof out), PA_OK);
    CHECK_STR(out, "base/1");
    CHECK_EQ_INT(tar_member_normalize("global/./pg_control", out, sizeof out), PA_OK);
    CHECK_STR(out, "global/pg_control");
    CHECK_EQ_INT(tar_member_normalize("PG_VERSION", out, sizeof out), PA_OK);
    CHECK_STR(out, "PG_VERSION");
    CHECK_EQ_INT(tar_member_normalize("./", out, sizeof out), 1);
    CHECK_EQ_INT(tar_member_normalize(".", out, sizeof out), 1);
    CHECK_EQ_INT(tar_member_normalize("a..b/..c", out, sizeof out), PA_OK);
    CHECK_STR(out, "a..b/..c");
}

static void test_normalize_refuses(void)
{
    char out[64];
    CHECK_EQ_INT(tar_member_normalize("/etc/passwd", out, sizeof out), PA_ERR);
    CHECK_CONTAINS(err_msg(), "absolute");
    CHECK_EQ_INT(tar_member_normalize("../x", out, sizeof out), PA_ERR);
    CHECK_CONTAINS(err_msg(), "\"..\"");
    CHECK_EQ_INT(tar_member_normalize("base/../../x", out, sizeof out), PA_ERR);
    CHECK_EQ_INT(tar_member_normalize("base/..", out, sizeof out), PA_ERR);
    CHECK_EQ_INT(tar_member_normalize("", out, sizeof out), PA_ERR);
    CHECK_EQ_INT(tar_member_normalize("a/very/long/name/that/does/not/fit/in/sixteen", out, 16),
                 PA_ERR);
    CHECK_CONTAINS(err_msg(), "too long");
}

static void test_symlink_targets(void)
{
    CHECK(tar_symlink_target_inside("link", "sub/file"));
    CHECK(tar_symlink_target_inside("sub/up", "../PG_VERSION"));
    CHECK(tar_symlink_target_inside("a/b/c", "../../x"));
    CHECK(tar_symlink_target_inside("a", "."));
    CHECK(tar_symlink_target_inside("a", "./x//y"));
    CHECK(!tar_symlink_target_inside("a", "/etc"));
    CHECK(!tar_symlink_target_inside("a", ""));
    CHECK(!tar_symlink_target_inside("a", ".."));
    CHECK(!tar_symlink_target_inside("a/b", "../../x"));
    CHECK(!tar_symlink_target_inside("a", "b/../.."));
    CHECK(!tar_symlink_target_inside("a/b", "x/../../y"));  /* ".." after a name: x may be a link */
    CHECK(!tar_symlink_target_inside("a/b", "./../../y"));
}

TEST_MAIN(TEST(test_normalize), TEST(test_normalize_refuses), TEST(test_symlink_targets))
