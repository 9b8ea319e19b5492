#include <stdarg.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "common/error.h"
#include "common/log.h"
#include "storage/aws_credentials.h"

int common_option(const command *cmd, int opt, common_options *common, int *exit_status)
{
    switch (opt) {
    case 'P':
        common->prefix = optarg;
        return 1;
    case 'v':
        log_set_level(log_get_level() >= LOG_VERBOSE ? LOG_DEBUG : LOG_VERBOSE);
        return 1;
    case OPT_AWS_INSTANCE_PROFILE:
        aws_use_instance_profile(1);
        return 1;
    case 'q':
        log_set_level(LOG_QUIET);
        return 1;
    case 'h':
        fputs(cmd->usage, stdout);
        *exit_status = EXIT_OK;
        return -1;
    case OPT_VERSION:
        printf("pgattest %s\n", PGATTEST_VERSION);
        *exit_status = EXIT_OK;
        return -1;
    case '?':
        fprintf(stderr, "Try \"pgattest %s --help\".\n", cmd->name);
        *exit_status = EXIT_USAGE;
        return -1;
    default:
        return 0;
    }
}

int usage_error(const command *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\nTry \"pgattest %s --help\".\n", log_prefix(), msg, cmd->name);
    return EXIT_USAGE;
}

void report_failure(void)
{
    log_error("%s", *err_msg() ? err_msg() : "failed (no detail)");
}
