/*
 * exclude.h — what a base backup leaves out of the data directory.
 *
 * The rules are PostgreSQL's (basebackup.c and the "Making a Base Backup Using the Low Level
 * API" section of the documentation): some directories are kept empty because the server
 * recreates or does not need their contents (pg_wal, pg_replslot, pg_stat_tmp, ...), some
 * files must not be restored (postmaster.pid, an old backup_label, ...), and temporary files
 * (pgsql_tmp*) are never copied, wherever they are.
 */
#ifndef PGATTEST_BACKUP_EXCLUDE_H
#define PGATTEST_BACKUP_EXCLUDE_H

#include <stdbool.h>

typedef enum backup_rule {
    BACKUP_INCLUDE = 0,      /* copy it (a directory: with its contents) */
    BACKUP_EXCLUDE,          /* leave it out entirely */
    BACKUP_EMPTY_DIR,        /* a directory kept, its contents left out */
} backup_rule;

/* Rule for `relative` (path relative to PGDATA as stored in the tar, no leading or trailing
 * '/', e.g. "pg_wal" or "base/1/pgsql_tmp12.0"). is_dir tells whether it is a directory. */
backup_rule backup_exclude_rule(const char *relative, bool is_dir);

#endif
