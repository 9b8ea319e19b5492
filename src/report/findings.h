/*
 * findings.h — the result model shared by verify and the auditor.
 *
 * A report holds checks, each with a stable id ("wal.continuity"), a status, a one-line
 * summary and its findings. A finding has a severity, a one-line summary, detail lines and
 * evidence (object keys, policy statements, SQL results). A check's status is the worst of
 * its findings' severities (OK when it has none); the report's status is the worst of its
 * checks. "Worst" ranks CRITICAL > UNKNOWN > WARNING > OK: a broken backup must page even
 * when another check could not run. The JSON report is the model; human text, HTML and the
 * exit status are views of it.
 *
 * Allocation failures are remembered (report->oom) and make the report UNKNOWN instead of
 * being returned from every call; callers need not check each add.
 */
#ifndef PGATTEST_REPORT_FINDINGS_H
#define PGATTEST_REPORT_FINDINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef enum severity { SEV_OK = 0, SEV_WARNING = 1, SEV_CRITICAL = 2, SEV_UNKNOWN = 3 } severity;

const char *severity_name(severity s);          /* "OK", "WARNING", "CRITICAL", "UNKNOWN" */
severity severity_worse(severity a, severity b);
/* Monitoring convention: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
int severity_exit_code(severity s);

typedef struct finding {
    severity sev;
    char *summary;
    char **details;
    size_t n_details, cap_details;
    char **evidence;
    size_t n_evidence, cap_evidence;
    char *waived_reason;     /* set when a waiver accepted it (sev is then OK) */
} finding;

typedef struct check_result {
    char *id;
    char *summary;
    severity status;
    bool ran;                /* false: the check could not run (status UNKNOWN) */
    /* The check does not apply here (a bucket check on a file:// repository): reported as
     * NOT_APPLICABLE with the reason in summary, never as OK, and it does not count towards
     * the report's status. */
    bool not_applicable;
    /* Structured details (a cJSON array of objects, owned), e.g. one verdict per IAM action.
     * When set, the JSON "details" of the check is this array instead of the findings'
     * summaries. */
    struct cJSON *data;
    finding **findings;      /* each allocated on its own: pointers stay valid */
    size_t n_findings, cap_findings;
} check_result;

typedef struct report {
    check_result **checks;   /* each allocated on its own: pointers stay valid */
    size_t n_checks, cap_checks;
    bool oom;
} report;

void report_init(report *r);
void report_free(report *r);
/* The check with this id, created (status OK, ran) on first use, in order of first use.
 * NULL only on out of memory (then r->oom is set). Check and finding pointers stay valid
 * until report_free, whatever is added later. */
check_result *report_check(report *r, const char *id);
void check_set_summary(report *r, check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Add a finding; raises the check's status. Returns NULL on out of memory. */
finding *check_add(report *r, check_result *c, severity sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void finding_detail(report *r, finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void finding_evidence(report *r, finding *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The check does not apply: status NOT_APPLICABLE, the reason becomes its summary. */
void check_not_applicable(report *r, check_result *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Append one structured detail (takes ownership of item, also on failure). */
void check_add_data(report *r, check_result *c, struct cJSON *item);
/* "OK", ..., or "NOT_APPLICABLE": the status word of a check, as in the JSON. */
const char *check_status_name(const check_result *c);

/* Mark as accepted by a waiver: severity becomes OK, the finding stays in the report. */
void finding_waive(report *r, finding *f, const char *reason);

severity report_status(const report *r);

/* cJSON array of the checks ({id, status, summary, details, evidence, findings}); status
 * is one of OK, WARNING, CRITICAL, UNKNOWN, NOT_APPLICABLE. Caller
 * owns the result (cJSON_Delete). NULL on out of memory. */
struct cJSON *report_checks_json(const report *r);
/* Human text: one line per check, then its non-OK findings (all with verbose). */
void report_print_text(const report *r, FILE *out, bool verbose);

#endif
