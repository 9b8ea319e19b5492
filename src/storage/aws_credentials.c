/*
 * aws_credentials.c — environment, shared files and EC2 instance metadata (IMDSv2) credentials
 * (see aws_credentials.h).
 */
#include "storage/aws_credentials.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/error.h"
#include "common/log.h"
#include "storage/http.h"

/* Refresh instance credentials this long before they expire. */
#define REFRESH_MARGIN_SECONDS 300
#define IMDS_DEFAULT "http://169.254.169.254"

static atomic_int instance_profile;

void aws_use_instance_profile(int on)
{
    atomic_store(&instance_profile, on);
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

int aws_instance_profile_requested(void)
{
    return atomic_load(&instance_profile) || env_true("AWS_INSTANCE_PROFILE");
}

enum source { SRC_ENV, SRC_FILE, SRC_IMDS };

struct aws_credentials_provider {
    pthread_mutex_t lock;
    enum source source;
    char source_name[160];
    aws_credentials creds;
};

/* ---------------- shared files ---------------- */

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, strlen(s + i) + 1);
}

int aws_ini_lookup(const char *path, const char *section, const char *key, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int in_section = 0, found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        trim(line);
        if (!line[0] || line[0] == '#' || line[0] == ';')
            continue;
        if (line[0] == '[') {
            char *end = strchr(line, ']');
            if (end)
                *end = '\0';
            char *name = line + 1;
            trim(name);
            in_section = strcmp(name, section) == 0;
            continue;
        }
        if (!in_section)
            continue;
        char *eq = strchr(line, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *k = line, *v = eq + 1;
        trim(k);
        trim(v);
        if (strcmp(k, key) == 0) {
            snprintf(out, cap, "%s", v);
            found = 1;
        }
    }
    OPENSSL_cleanse(line, sizeof line);
    fclose(f);
    return found;
}

static void aws_file(const char *env, const char *name, char *out, size_t cap)
{
    const char *p = getenv(env);
    if (p && *p) {
        snprintf(out, cap, "%s", p);
        return;
    }
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : "/";
    }
    snprintf(out, cap, "%s/.aws/%s", home, name);
}

static const char *profile_name(void)
{
    const char *p = getenv("AWS_PROFILE");
    return p && *p ? p : "default";
}

/* A key from the profile: credentials file [NAME], then config file [profile NAME] (or
 * [default]). */
static int profile_lookup(const char *key, char *out, size_t cap, int credentials_file_first)
{
    char path[1024], section[300];
    const char *name = profile_name();
    if (credentials_file_first) {
        aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials", path, sizeof path);
        if (aws_ini_lookup(path, name, key, out, cap))
            return 1;
    }
    aws_file("AWS_CONFIG_FILE", "config", path, sizeof path);
    if (strcmp(name, "default") == 0)
        snprintf(section, sizeof section, "default");
    else
        snprintf(section, sizeof section, "profile %s", name);
    return aws_ini_lookup(path, section, key, out, cap);
}

void aws_region_resolve(char *out, size_t cap)
{
    const char *r = getenv("AWS_REGION");
    if (!r || !*r)
        r = getenv("AWS_DEFAULT_REGION");
    if (r && *r) {
        snprintf(out, cap, "%s", r);
        return;
    }
    if (profile_lookup("region", out, cap, 0) && *out)
        return;
    snprintf(out, cap, "us-east-1");
}

/* ---------------- instance metadata (IMDSv2) ---------------- */

static int imds_request(void *h, const char *method, const char *url, const char *header,
                        http_response *resp)
{
    const char *headers[1] = {header};
    http_request req = {.method = method, .url = url, .headers = headers,
                        .n_headers = header ? 1 : 0, .max_body = 64 * 1024,
                        .connect_timeout = 2, .stall_timeout = 5};
    int rc = PA_ERR;
    for (int attempt = 0; attempt < 3; attempt++) {
        if (attempt)
            http_sleep_ms(http_backoff_ms(attempt, 200, 2000));
        rc = http_perform(h, &req, resp);
        if (rc == PA_OK && resp->status == 200)
            return PA_OK;
        if (rc == PA_OK) {
            rc = err_set("instance metadata %s %s: HTTP %ld", method, url, resp->status);
            if (!http_status_retryable(resp->status, NULL))
                break;
        } else if (!http_transport_error_retryable(resp->transport_error)) {
            break;
        }
    }
    return rc;
}

static int imds_fetch(aws_credentials *out, char *role, size_t role_cap)
{
    const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (!base || !*base)
        base = IMDS_DEFAULT;
    int bl = (int)strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    if (bl > 400)
        return err_set("AWS_EC2_METADATA_SERVICE_ENDPOINT is too long");
    http_pool pool;
    http_pool_init(&pool);
    void *h = http_pool_get(&pool);
    http_response resp;
    http_response_init(&resp);
    cJSON *json = NULL;
    char url[1024], header[600], token[512];
    int rc = PA_ERR;
    if (!h)
        goto out;

    /* 1. A session token (IMDSv2). */
    snprintf(url, sizeof url, "%.*s/latest/api/token", bl, base);
    if (imds_request(h, "PUT", url, "X-aws-ec2-metadata-token-ttl-seconds: 21600", &resp) != PA_OK)
        goto fail;
    if (resp.body.len == 0 || resp.body.len >= sizeof token) {
        err_set("instance metadata returned an unusable session token");
        goto fail;
    }
    snprintf(token, sizeof token, "%s", resp.body.data);
    trim(token);
    snprintf(header, sizeof header, "X-aws-ec2-metadata-token: %s", token);

    /* 2. The role attached to the instance. */
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/", bl, base);
    if (imds_request(h, "GET", url, header, &resp) != PA_OK) {
        if (resp.status == 404)
            err_set("instance metadata: no IAM role is attached to this instance");
        goto fail;
    }
    snprintf(role, role_cap, "%.*s", (int)strcspn(resp.body.data ? resp.body.data : "", "\r\n"),
             resp.body.data ? resp.body.data : "");
    trim(role);
    if (!*role || strchr(role, '/')) {
        err_set("instance metadata: no IAM role is attached to this instance");
        goto fail;
    }

    /* 3. Its temporary credentials. */
    snprintf(url, sizeof url, "%.*s/latest/meta-data/iam/security-credentials/%s", bl, base, role);
    if (imds_request(h, "GET", url, header, &resp) != PA_OK)
        goto fail;
    json = cJSON_ParseWithLength(resp.body.data ? resp.body.data : "", resp.body.len);
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(json, "Code");
    const cJSON *ak = cJSON_GetObjectItemCaseSensitive(json, "AccessKeyId");
    const cJSON *sk = cJSON_GetObjectItemCaseSensitive(json, "SecretAccessKey");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(json, "Token");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(json, "Expiration");
    if (!json || (cJSON_IsString(code) && strcmp(code->valuestring, "Success") != 0) ||
        !cJSON_IsString(ak) || !cJSON_IsString(sk) || !*ak->valuestring || !*sk->valuestring) {
        err_set("instance metadata: unusable credentials for role \"%s\"%s%s", role,
                cJSON_IsString(code) ? ", Code " : "", cJSON_IsString(code) ? code->valuestring : "");
        goto fail;
    }
    if (strlen(ak->valuestring) >= sizeof out->access_key ||
        strlen(sk->valuestring) >= sizeof out->secret_key ||
        (cJSON_IsString(tok) && strlen(tok->valuestring) >= sizeof out->session_token)) {
        err_set("instance metadata: credentials for role \"%s\" are too long", role);
        goto fail;
    }
    memset(out, 0, sizeof *out);
    snprintf(out->access_key, sizeof out->access_key, "%s", ak->valuestring);
    snprintf(out->secret_key, sizeof out->secret_key, "%s", sk->valuestring);
    if (cJSON_IsString(tok))
        snprintf(out->session_token, sizeof out->session_token, "%s", tok->valuestring);
    out->expiration = cJSON_IsString(exp) ? http_parse_date(exp->valuestring) : 0;
    if (out->expiration < 0)
        out->expiration = 0;
    rc = PA_OK;
    goto out;
fail:
    err_prefix("--aws-instance-profile: instance metadata service");
out:
    if (json) {
        /* wipe the secret copies inside the parsed document */
        const cJSON *sec = cJSON_GetObjectItemCaseSensitive(json, "SecretAccessKey");
        if (cJSON_IsString(sec))
            OPENSSL_cleanse(sec->valuestring, strlen(sec->valuestring));
        cJSON_Delete(json);
    }
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.len);
    http_response_free(&resp);
    http_pool_put(&pool, h);
    http_pool_destroy(&pool);
    return rc;
}

/* ---------------- provider ---------------- */

static int copy_checked(char *dst, size_t cap, const char *src, const char *what)
{
    if (strlen(src) >= cap)
        return err_set("%s is too long", what);
    snprintf(dst, cap, "%s", src);
    return PA_OK;
}

static int find(aws_credentials_provider *p)
{
    const char *ak = getenv("AWS_ACCESS_KEY_ID"), *sk = getenv("AWS_SECRET_ACCESS_KEY");
    if ((ak && *ak) || (sk && *sk)) {
        if (!ak || !*ak || !sk || !*sk)
            return err_set("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together "
                           "(only %s is set)",
                           ak && *ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
        const char *tok = getenv("AWS_SESSION_TOKEN");
        if (copy_checked(p->creds.access_key, sizeof p->creds.access_key, ak,
                         "AWS_ACCESS_KEY_ID") != PA_OK ||
            copy_checked(p->creds.secret_key, sizeof p->creds.secret_key, sk,
                         "AWS_SECRET_ACCESS_KEY") != PA_OK ||
            copy_checked(p->creds.session_token, sizeof p->creds.session_token,
                         tok ? tok : "", "AWS_SESSION_TOKEN") != PA_OK)
            return PA_ERR;
        p->source = SRC_ENV;
        snprintf(p->source_name, sizeof p->source_name, "environment");
        return PA_OK;
    }
    if (profile_lookup("aws_access_key_id", p->creds.access_key, sizeof p->creds.access_key, 1)) {
        if (!profile_lookup("aws_secret_access_key", p->creds.secret_key,
                            sizeof p->creds.secret_key, 1) ||
            !*p->creds.secret_key)
            return err_set("AWS profile \"%s\" has aws_access_key_id but no "
                           "aws_secret_access_key",
                           profile_name());
        profile_lookup("aws_session_token", p->creds.session_token,
                       sizeof p->creds.session_token, 1);
        p->source = SRC_FILE;
        snprintf(p->source_name, sizeof p->source_name, "profile %.100s", profile_name());
        return PA_OK;
    }
    if (aws_instance_profile_requested()) {
        char role[128];
        if (imds_fetch(&p->creds, role, sizeof role) != PA_OK)
            return PA_ERR;
        p->source = SRC_IMDS;
        snprintf(p->source_name, sizeof p->source_name, "instance profile %.100s", role);
        return PA_OK;
    }
    const char *prof = getenv("AWS_PROFILE");
    if (prof && *prof)
        return err_set("no AWS credentials: profile \"%s\" (AWS_PROFILE) has none in "
                       "~/.aws/credentials or ~/.aws/config",
                       prof);
    return err_set("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                   "configure a profile in ~/.aws/credentials (AWS_PROFILE), or pass "
                   "--aws-instance-profile on EC2");
}

aws_credentials_provider *aws_credentials_provider_new(void)
{
    aws_credentials_provider *p = calloc(1, sizeof *p);
    if (!p) {
        err_set("out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->lock, NULL);
    if (find(p) != PA_OK) {
        aws_credentials_provider_free(p);
        return NULL;
    }
    log_verbose("AWS credentials from the %s", p->source_name);
    return p;
}

void aws_credentials_provider_free(aws_credentials_provider *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    OPENSSL_cleanse(&p->creds, sizeof p->creds);
    free(p);
}

int aws_credentials_get(aws_credentials_provider *p, time_t now, aws_credentials *out)
{
    int rc = PA_OK;
    pthread_mutex_lock(&p->lock);
    if (p->source == SRC_IMDS && p->creds.expiration &&
        p->creds.expiration - (int64_t)now < REFRESH_MARGIN_SECONDS) {
        aws_credentials fresh;
        char role[128];
        if (imds_fetch(&fresh, role, sizeof role) == PA_OK) {
            p->creds = fresh;
            log_verbose("refreshed instance profile credentials for role %s", role);
        } else if (p->creds.expiration <= (int64_t)now) {
            rc = PA_ERR; /* expired and no replacement: message set by imds_fetch */
        }
        OPENSSL_cleanse(&fresh, sizeof fresh);
    }
    if (rc == PA_OK)
        *out = p->creds;
    pthread_mutex_unlock(&p->lock);
    return rc;
}

const char *aws_credentials_source(const aws_credentials_provider *p)
{
    return p->source_name;
}
