/* Credentials and region: environment first, then the profile in the shared files. */
#include <stdlib.h>
#include <unistd.h>

#include "common/error.h"
#include "storage/aws_credentials.h"
#include "test.h"

static char dir[64];
static char creds_path[128], config_path[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/pgattest-unit-aws.XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(creds_path, sizeof creds_path, "%s/credentials", dir);
    snprintf(config_path, sizeof config_path, "%s/config", dir);
    write_file(creds_path, "[default]\naws_access_key_id = AKDEFAULT\n"
                           "aws_secret_access_key = secretdefault\n\n"
                           "# comment\n[backup]\n  aws_access_key_id=AKBACKUP  \n"
                           "aws_secret_access_key=secret/backup+x\naws_session_token = tok\n"
                           "[half]\naws_access_key_id = AKHALF\n");
    write_file(config_path, "[default]\nregion = eu-north-1\n[profile backup]\n"
                            "region = ap-southeast-2\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", creds_path, 1);
    setenv("AWS_CONFIG_FILE", config_path, 1);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    unsetenv("AWS_INSTANCE_PROFILE");
}

static void teardown(void)
{
    unlink(creds_path);
    unlink(config_path);
    rmdir(dir);
}

static void test_ini(void)
{
    char v[64];
    setup();
    CHECK_EQ_INT(aws_ini_lookup(creds_path, "backup", "aws_access_key_id", v, sizeof v), 1);
    CHECK_STR(v, "AKBACKUP");
    CHECK_EQ_INT(aws_ini_lookup(creds_path, "backup", "aws_secret_access_key", v, sizeof v), 1);
    CHECK_STR(v, "secret/backup+x");
    CHECK_EQ_INT(aws_ini_lookup(creds_path, "nope", "aws_access_key_id", v, sizeof v), 0);
    CHECK_EQ_INT(aws_ini_lookup("/nonexistent/file", "default", "x", v, sizeof v), 0);
    teardown();
}

static void test_env_first(void)
{
    setup();
    setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "secretenv", 1);
    setenv("AWS_SESSION_TOKEN", "envtoken", 1);
    aws_credentials_provider *p = aws_credentials_provider_new();
    CHECK(p != NULL);
    aws_credentials c;
    if (p) {
        CHECK_EQ_INT(aws_credentials_get(p, time(NULL), &c), PA_OK);
        CHECK_STR(c.access_key, "AKENV");
        CHECK_STR(c.secret_key, "secretenv");
        CHECK_STR(c.session_token, "envtoken");
        CHECK_STR(aws_credentials_source(p), "environment");
        aws_credentials_provider_free(p);
    }
    /* half a pair is an error that names what is missing, not a fall-through */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CHECK(aws_credentials_provider_new() == NULL);
    CHECK_CONTAINS(err_msg(), "AWS_SECRET_ACCESS_KEY");
    CHECK(strstr(err_msg(), "AKENV") == NULL);
    teardown();
}

static void test_profiles(void)
{
    setup();
    aws_credentials c;
    aws_credentials_provider *p = aws_credentials_provider_new();
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(aws_credentials_get(p, time(NULL), &c), PA_OK);
        CHECK_STR(c.access_key, "AKDEFAULT");
        CHECK_STR(c.session_token, "");
        aws_credentials_provider_free(p);
    }
    setenv("AWS_PROFILE", "backup", 1);
    p = aws_credentials_provider_new();
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_INT(aws_credentials_get(p, time(NULL), &c), PA_OK);
        CHECK_STR(c.access_key, "AKBACKUP");
        CHECK_STR(c.secret_key, "secret/backup+x");
        CHECK_STR(c.session_token, "tok");
        CHECK_STR(aws_credentials_source(p), "profile backup");
        aws_credentials_provider_free(p);
    }
    setenv("AWS_PROFILE", "half", 1);
    CHECK(aws_credentials_provider_new() == NULL);
    CHECK_CONTAINS(err_msg(), "no aws_secret_access_key");
    setenv("AWS_PROFILE", "missing", 1);
    CHECK(aws_credentials_provider_new() == NULL);
    CHECK_CONTAINS(err_msg(), "profile \"missing\"");
    unsetenv("AWS_PROFILE");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent", 1);
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    CHECK(aws_credentials_provider_new() == NULL);
    CHECK_CONTAINS(err_msg(), "--aws-instance-profile");
    teardown();
}

static void test_region(void)
{
    char r[64];
    setup();
    aws_region_resolve(r, sizeof r);
    CHECK_STR(r, "eu-north-1");
    setenv("AWS_PROFILE", "backup", 1);
    aws_region_resolve(r, sizeof r);
    CHECK_STR(r, "ap-southeast-2");
    setenv("AWS_DEFAULT_REGION", "us-west-2", 1);
    aws_region_resolve(r, sizeof r);
    CHECK_STR(r, "us-west-2");
    setenv("AWS_REGION", "eu-central-1", 1);
    aws_region_resolve(r, sizeof r);
    CHECK_STR(r, "eu-central-1");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_CONFIG_FILE", "/nonexistent", 1);
    aws_region_resolve(r, sizeof r);
    CHECK_STR(r, "us-east-1");
    teardown();
}

TEST_MAIN(TEST(test_ini), TEST(test_env_first), TEST(test_profiles), TEST(test_region))
