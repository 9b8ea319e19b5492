/*
 * pgattest — PostgreSQL backup engine (WAL-E compatible) and backup verifier.
 * main: find the command in argv and hand over to it.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "common/log.h"

static const command *const commands[] = {
    &cmd_wal_push,
    &cmd_wal_fetch,
    &cmd_backup_push,
    &cmd_backup_fetch,
    &cmd_backup_list,
    &cmd_delete,
    &cmd_verify,
};

static void print_help(FILE *out)
{
    fprintf(out,
            "pgattest %s — PostgreSQL backups you can prove restorable\n\n"
            "Usage: pgattest COMMAND [OPTIONS] [ARGS]\n\nCommands:\n",
            PGATTEST_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->synopsis);
    fprintf(out,
            "\nOptions for every command:\n"
            "  --prefix URL   repository (file:///path or s3://bucket/path); default "
            "$PGATTEST_PREFIX, then $WALE_S3_PREFIX\n"
            "  --aws-instance-profile  S3 credentials from the EC2 instance metadata (IMDSv2)\n"
            "  -v, --verbose  say more (twice: debug)\n"
            "  -q, --quiet    only errors\n"
            "  -h, --help     this help; \"pgattest COMMAND --help\" for one command\n"
            "  --version      print the version\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_help(stdout);
        return EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("pgattest %s\n", PGATTEST_VERSION);
        return EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[1], commands[i]->name) == 0) {
            static char prefix[64];
            snprintf(prefix, sizeof prefix, "pgattest: %s", commands[i]->name);
            log_set_prefix(prefix);
            return commands[i]->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "pgattest: unknown command \"%s\"\nTry \"pgattest --help\".\n", argv[1]);
    return EXIT_USAGE;
}
