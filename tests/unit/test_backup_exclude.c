/* What a base backup leaves out of the data directory (PostgreSQL's rules). */
#include "backup/exclude.h"
#include "test.h"

static void test_directories_kept_empty(void)
{
    const char *dirs[] = {"pg_wal", "pg_wal/archive_status", "pg_stat_tmp", "pg_replslot",
                          "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
        CHECK_EQ_INT(backup_exclude_rule(dirs[i], true), BACKUP_EMPTY_DIR);
    /* only at the top of PGDATA: a tablespace or database directory with such a name is data */
    CHECK_EQ_INT(backup_exclude_rule("base/1/pg_wal", true), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("pg_tblspc/16384/pg_replslot", true), BACKUP_INCLUDE);
    /* pg_stat (permanent statistics) and pg_xact are backed up */
    CHECK_EQ_INT(backup_exclude_rule("pg_stat", true), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("pg_xact", true), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("pg_multixact", true), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("base", true), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("global", true), BACKUP_INCLUDE);
}

static void test_files_left_out(void)
{
    const char *files[] = {"postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map",
                           "backup_manifest", "postgresql.auto.conf.tmp", "current_logfiles.tmp",
                           "global/pg_internal.init", "base/5/pg_internal.init",
                           "base/5/pg_internal.init.1234"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        CHECK_EQ_INT(backup_exclude_rule(files[i], false), BACKUP_EXCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("global/pg_control", false), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("postgresql.auto.conf", false), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("postgresql.conf", false), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("current_logfiles", false), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("PG_VERSION", false), BACKUP_INCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("base/5/16384", false), BACKUP_INCLUDE);
    /* a file where a kept-empty directory would be is not a directory to keep */
    CHECK_EQ_INT(backup_exclude_rule("pg_wal", false), BACKUP_EXCLUDE);
}

static void test_temporary_files_anywhere(void)
{
    CHECK_EQ_INT(backup_exclude_rule("base/pgsql_tmp", true), BACKUP_EXCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("base/pgsql_tmp/pgsql_tmp123.0", false), BACKUP_EXCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("pg_tblspc/16384/PG_15_202209061/pgsql_tmp", true),
                 BACKUP_EXCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("pgsql_tmp99.1", false), BACKUP_EXCLUDE);
    CHECK_EQ_INT(backup_exclude_rule("base/5/pgsql", false), BACKUP_INCLUDE);
}

TEST_MAIN(TEST(test_directories_kept_empty), TEST(test_files_left_out),
          TEST(test_temporary_files_anywhere))
