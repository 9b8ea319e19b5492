/*
 * cmd.h — the command table's entries and what every command shares.
 *
 * A handler gets argv starting at the command name and returns the process exit status.
 * It reports failures with log_error()/err_msg(): one line, what and where.
 */
#ifndef PGATTEST_CMD_CMD_H
#define PGATTEST_CMD_CMD_H

#include <getopt.h>

#define PGATTEST_VERSION "0.1.0"

/* Exit statuses. */
enum {
    EXIT_OK = 0,
    EXIT_FAILURE_ENGINE = 1,
    EXIT_NOT_IN_ARCHIVE = 1, /* wal-fetch only: the archive says the file does not exist */
    /* wal-fetch, any other failure: above 125 so PostgreSQL aborts recovery instead of
     * taking it for "not found" and ending recovery early (xlogarchive.c). */
    EXIT_FETCH_FATAL = 255,
    EXIT_USAGE = 2,
};

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *synopsis; /* one line for the command list */
    const char *usage;    /* full --help text */
} command;

/* Options every command accepts. */
typedef struct common_options {
    const char *prefix; /* --prefix: repository URL, overrides the environment */
} common_options;

/* Long-only common options (values outside the char range). */
#define OPT_AWS_INSTANCE_PROFILE 0x101
#define OPT_VERSION 0x102
/* Long options of a single command take values from here on, so they never collide with the
 * common ones above. */
#define OPT_COMMAND_FIRST 0x200

#define COMMON_LONG_OPTIONS                                                       \
    {"prefix", required_argument, NULL, 'P'}, {"verbose", no_argument, NULL, 'v'}, \
        {"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'},           \
        {"aws-instance-profile", no_argument, NULL, OPT_AWS_INSTANCE_PROFILE},        \
        {"version", no_argument, NULL, OPT_VERSION}
#define COMMON_SHORT_OPTIONS "vqh"

/* Handle a common option returned by getopt_long. Returns 1 if handled, 0 if not one of
 * ours, -1 if the command must exit now (after --help, or a usage error), with *exit_status
 * set. */
int common_option(const command *cmd, int opt, common_options *common, int *exit_status);
/* Print "usage error" and the usage hint; returns EXIT_USAGE. */
int usage_error(const command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report the current err_msg() as the command's failure line. */
void report_failure(void);

extern const command cmd_wal_push;
extern const command cmd_wal_fetch;
extern const command cmd_backup_push;
extern const command cmd_backup_fetch;
extern const command cmd_backup_list;
extern const command cmd_delete;
extern const command cmd_verify;

#endif
