#include "backup/exclude.h"

#include <string.h>

/* Directories whose contents are not backed up (basebackup.c: excludeDirContents, plus
 * pg_wal whose segments come from the archive). pg_wal/archive_status is kept, empty. */
static const char *const empty_dirs[] = {
    "pg_wal",        "pg_wal/archive_status", "pg_stat_tmp", "pg_replslot", "pg_dynshmem",
    "pg_notify",     "pg_serial",             "pg_snapshots", "pg_subtrans", NULL,
};

/* Files never backed up, in any directory (basebackup.c: excludeFiles). */
static const char *const excluded_names[] = {
    "postgresql.auto.conf.tmp", "current_logfiles.tmp", "backup_label", "tablespace_map",
    "backup_manifest",          "postmaster.pid",       "postmaster.opts", NULL,
};

backup_rule backup_exclude_rule(const char *relative, bool is_dir)
{
    const char *slash = strrchr(relative, '/');
    const char *name = slash ? slash + 1 : relative;
    /* temporary files and directories, anywhere (PG_TEMP_FILE_PREFIX) */
    if (strncmp(name, "pgsql_tmp", 9) == 0)
        return BACKUP_EXCLUDE;
    /* the relation cache init file and its temporary versions (matched by prefix) */
    if (!is_dir && strncmp(name, "pg_internal.init", 16) == 0)
        return BACKUP_EXCLUDE;
    if (!is_dir)
        for (const char *const *n = excluded_names; *n; n++)
            if (strcmp(name, *n) == 0)
                return BACKUP_EXCLUDE;
    for (const char *const *d = empty_dirs; *d; d++)
        if (strcmp(relative, *d) == 0)
            return is_dir ? BACKUP_EMPTY_DIR : BACKUP_EXCLUDE;
    return BACKUP_INCLUDE;
}
