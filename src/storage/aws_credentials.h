/*
 * aws_credentials.h — where AWS credentials and the region come from.
 *
 * Order: the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then
 * the shared files for AWS_PROFILE (default "default"): ~/.aws/credentials
 * (AWS_SHARED_CREDENTIALS_FILE) and ~/.aws/config (AWS_CONFIG_FILE), then — only when asked
 * for with --aws-instance-profile (or AWS_INSTANCE_PROFILE=true) — the EC2 instance metadata
 * service, IMDSv2 (a session token PUT, then the role's credentials), at
 * AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254). Instance credentials
 * are refreshed a few minutes before they expire.
 *
 * Secrets are copied into the provider and into caller buffers only; they never appear in
 * messages or logs. A provider may be used by several threads at once.
 */
#ifndef PGATTEST_STORAGE_AWS_CREDENTIALS_H
#define PGATTEST_STORAGE_AWS_CREDENTIALS_H

#include <stdint.h>
#include <time.h>

typedef struct aws_credentials {
    char access_key[128];
    char secret_key[256];
    char session_token[4096]; /* "" when none */
    int64_t expiration;       /* seconds since the epoch; 0 = does not expire */
} aws_credentials;

typedef struct aws_credentials_provider aws_credentials_provider;

/* Ask for instance-profile credentials (set by the --aws-instance-profile option). */
void aws_use_instance_profile(int on);
int aws_instance_profile_requested(void);

/* Find credentials now (so a missing credential fails early with a clear message). Returns
 * NULL with err_msg() set. Caller frees with aws_credentials_provider_free(). */
aws_credentials_provider *aws_credentials_provider_new(void);
void aws_credentials_provider_free(aws_credentials_provider *p);
/* Current credentials (refreshed first when they expire within a few minutes). now is the
 * current time (a parameter for tests). PA_OK or PA_ERR. */
int aws_credentials_get(aws_credentials_provider *p, time_t now, aws_credentials *out);
/* "environment", "profile NAME", "instance profile ROLE" — for verbose messages. */
const char *aws_credentials_source(const aws_credentials_provider *p);

/* The region: AWS_REGION, AWS_DEFAULT_REGION, then `region` of the profile in the config
 * file, then "us-east-1". out gets it. */
void aws_region_resolve(char *out, size_t cap);

/* Look up `key` in [section] of an INI-style AWS file. Returns 1 and fills out when found,
 * 0 when not (missing file included). For tests and internal use. */
int aws_ini_lookup(const char *path, const char *section, const char *key, char *out, size_t cap);

#endif
