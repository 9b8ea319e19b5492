/*
 * audit.h — the auditor: families of checks run against one policy's repository.
 *
 * The auditor gathers, then judges (DESIGN.md). For each family, gather() reads what the
 * servers say (the archive's listing and sentinels; the bucket's versioning, lifecycle,
 * lock and policy as fetched; the writer's IAM documents and probe answers; the restore-test
 * history) into facts, as JSON. judge() is a pure function of (facts, policy, now) that adds
 * findings to the report. The report carries the facts as evidence, so an auditor sees what
 * was read, a saved report can be judged again, and every check is unit-tested on recorded
 * facts without a server.
 *
 * Families run in registry order (archive, bucket, iam, restore); a later family's gather
 * and judge may read the facts of earlier ones (archive.retention_horizon needs the backups
 * and the bucket's lifecycle). A family that does not apply (the bucket checks on a file://
 * repository) reports each of its check ids as NOT_APPLICABLE with the reason.
 */
#ifndef PGATTEST_AUDIT_AUDIT_H
#define PGATTEST_AUDIT_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "report/findings.h"
#include "storage/storage.h"

struct cJSON;

typedef struct audit_context {
    const policy *pol;
    storage *st;                /* the policy's repository, open */
    int64_t now;                /* injectable clock (seconds since the epoch) */
    /* Object: family name -> that family's facts, filled as families run. Owned by the
     * runner; gather() must not keep pointers into it past its return. */
    struct cJSON *facts;
    bool deep;                  /* audit --deep: the archive family downloads and checks */
} audit_context;

typedef struct audit_family {
    const char *name;                 /* "archive", "bucket", "iam", "restore" */
    const char *const *check_ids;     /* every id it reports, NULL-terminated */
    /* NULL when the family applies to this policy and repository, else the reason it does
     * not (a static string), reported on each of its checks. */
    const char *(*not_applicable)(const audit_context *ctx);
    /* Read the facts. A read the server refuses or that fails is recorded in the facts
     * (what was asked, the answer, the permission it needs), not returned as an error: the
     * judge makes the affected checks UNKNOWN, never OK. *facts receives a new cJSON value,
     * owned by the caller. PA_ERR only on out of memory. */
    int (*gather)(const audit_context *ctx, struct cJSON **facts);
    /* Judge: findings into r, from all_facts (family name -> facts) only. Must report
     * every id in check_ids (OK, a finding, UNKNOWN or NOT_APPLICABLE). */
    void (*judge)(const struct cJSON *all_facts, const policy *p, int64_t now, report *r);
} audit_family;

/* The registry, in run order. */
const audit_family *const *audit_families(size_t *n);

#endif
