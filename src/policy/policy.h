/*
 * policy.h — what an organisation promises about one cluster's backups, and what to check.
 *
 * A policy is a JSON file (policies/README.md and policies/schema.json are the reference).
 * policy_load() reads it with cJSON, checks every field (unknown keys are errors, so a typo
 * is never silently ignored) and fills defaults: the WAL-E guide's set-up. Errors are one
 * line naming the file and either the line and column where the JSON does not parse, or the
 * field path and what was expected:
 *   policies/x.json:3:17: expected ',' or '}'
 *   policies/x.json: bucket.lifecycle.expire_days: expected a positive integer, got "8d"
 *
 * Sections: the top level and "bucket" (the bucket audit), "writer" (the writer-credential
 * audit), "restore_test" (test restores), "waivers". A section absent from the file is
 * filled with its defaults and has_<section> false, so a check can tell "not asked for" from
 * "asked for with the defaults".
 *
 * Secrets never appear in a policy: "writer.credentials" names where the writer's keys are
 * (an envdir, a profile, the instance profile), never the keys themselves.
 *
 * Memory: everything hangs off the policy and is released by policy_free().
 */
#ifndef PGATTEST_POLICY_POLICY_H
#define PGATTEST_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/waiver.h"

struct cJSON;

typedef struct policy_lifecycle {
    int expire_days;                       /* default 8; current versions expire after */
    int noncurrent_days;                   /* default 1; non-current versions deleted after */
    int abort_incomplete_multipart_days;   /* default 7 */
} policy_lifecycle;

typedef enum policy_object_lock_mode {
    POLICY_LOCK_NONE = 0,                  /* "object_lock": null (default) */
    POLICY_LOCK_GOVERNANCE,
    POLICY_LOCK_COMPLIANCE,
} policy_object_lock_mode;

typedef struct policy_bucket {
    char *versioning;                      /* expected status, default "Enabled" */
    bool mfa_delete;                       /* required; default false */
    policy_lifecycle lifecycle;
    policy_object_lock_mode object_lock_mode;  /* required mode, NONE = not required */
    int object_lock_min_days;              /* required default retention (days) */
    bool encryption_required;              /* "encryption": "required"; default "optional" */
    char **storage_classes;                /* allowed classes; default STANDARD, STANDARD_IA */
    size_t n_storage_classes;
} policy_bucket;

typedef enum policy_credentials_kind {
    POLICY_CREDS_NONE = 0,                 /* no credentials: the probe cannot run */
    POLICY_CREDS_ENVDIR,                   /* {"envdir": DIR} */
    POLICY_CREDS_PROFILE,                  /* {"profile": NAME} */
    POLICY_CREDS_INSTANCE_PROFILE,         /* {"instance_profile": true} */
} policy_credentials_kind;

typedef struct policy_writer {
    char *iam_user;                        /* or NULL */
    char *iam_role;                        /* or NULL (an EC2 instance profile's role) */
    char *arn;                             /* the writer's ARN, or NULL */
    char **policy_documents;               /* paths, resolved against the policy's directory */
    size_t n_policy_documents;
    char *bucket_policy_document;          /* path (resolved), or NULL: GetBucketPolicy */
    policy_credentials_kind credentials_kind;
    char *credentials_value;               /* the envdir path (resolved) or profile name */
    char **forbidden;                      /* actions; default: issue 9's list */
    size_t n_forbidden;
    bool probe;                            /* default true */
} policy_writer;

typedef enum policy_backup_choice {
    POLICY_BACKUP_LATEST = 0,              /* default */
    POLICY_BACKUP_OLDEST,
    POLICY_BACKUP_RANDOM,
    POLICY_BACKUP_UNTESTED,
    POLICY_BACKUP_NAMED,                   /* backup_name holds it */
} policy_backup_choice;

typedef enum policy_target_kind {
    POLICY_TARGET_END_OF_ARCHIVE = 0,      /* default */
    POLICY_TARGET_IMMEDIATE,
    POLICY_TARGET_TIME,                    /* target_time (seconds since the epoch) */
    POLICY_TARGET_LSN,                     /* target_lsn */
} policy_target_kind;

typedef struct policy_sql_check {
    char *name;
    char *sql;
    bool has_min, has_max, has_equals;
    double min, max;
    char *equals;                          /* compared as text with the first column */
} policy_sql_check;

typedef struct policy_restore_test {
    policy_backup_choice backup;
    char *backup_name;                     /* POLICY_BACKUP_NAMED */
    policy_target_kind target;
    int64_t target_time;
    uint64_t target_lsn;
    char *target_text;                     /* the target as written, for reports */
    char *scratch_dir;                     /* default "/var/tmp/pgattest-restore" */
    int every_hours;                       /* default 24 */
    int timeout_minutes;                   /* default 60 */
    bool amcheck;                          /* default true */
    bool read_all_tables;                  /* default true */
    policy_sql_check *checks;
    size_t n_checks;
} policy_restore_test;

typedef struct policy {
    char *path;                            /* the file it was read from */
    char *name;                            /* required */
    char *repository;                      /* required: s3://bucket/path or file:///path */
    int recovery_window_days;              /* default 7 */
    int base_backup_every_hours;           /* default 24 */
    int audit_every_hours;                 /* default 24 */
    int64_t max_wal_age_seconds;           /* default 300 */
    char *database_region;                 /* or NULL */
    bool has_bucket, has_writer, has_restore_test;
    policy_bucket bucket;
    policy_writer writer;
    policy_restore_test restore_test;
    waiver_list waivers;
    /* The policy as audited (defaults filled in, no secrets), for reports. Owned. */
    struct cJSON *as_audited;
} policy;

/* Read and check a policy file. PA_OK, or PA_ERR with the one-line message described above
 * (and *out left empty). Free with policy_free(). */
int policy_load(const char *path, policy *out);
/* The same from text already read; `where` names it in messages, `base_dir` resolves
 * relative paths (policy_documents, envdir). */
int policy_parse(const char *text, size_t len, const char *where, const char *base_dir,
                 policy *out);
void policy_free(policy *p);

/* The policy's name made safe as one path component ("orders-db production" ->
 * "orders-db-production"). Caller frees. NULL on out of memory. */
char *policy_file_name(const policy *p);

#endif
