#include "report/findings.h"

#include <cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
static const int rank[] = {0, 1, 3, 2}; /* OK < WARNING < UNKNOWN < CRITICAL */

const char *severity_name(severity s) { return names[s]; }

severity severity_worse(severity a, severity b) { return rank[a] >= rank[b] ? a : b; }

int severity_exit_code(severity s) { return (int)s; }

void report_init(report *r) { memset(r, 0, sizeof *r); }

static void finding_free(finding *f)
{
    free(f->summary);
    for (size_t i = 0; i < f->n_details; i++)
        free(f->details[i]);
    free(f->details);
    for (size_t i = 0; i < f->n_evidence; i++)
        free(f->evidence[i]);
    free(f->evidence);
    free(f->waived_reason);
}

void report_free(report *r)
{
    for (size_t i = 0; i < r->n_checks; i++) {
        check_result *c = r->checks[i];
        for (size_t j = 0; j < c->n_findings; j++) {
            finding_free(c->findings[j]);
            free(c->findings[j]);
        }
        free(c->findings);
        cJSON_Delete(c->data);
        free(c->id);
        free(c->summary);
        free(c);
    }
    free(r->checks);
    memset(r, 0, sizeof *r);
}

static bool grow(report *r, void **items, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 4;
    void *p = realloc(*items, ncap * size);
    if (!p) {
        r->oom = true;
        return false;
    }
    *items = p;
    *cap = ncap;
    return true;
}

static char *vformat(report *r, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        r->oom = true;
        return NULL;
    }
    return s;
}

check_result *report_check(report *r, const char *id)
{
    for (size_t i = 0; i < r->n_checks; i++)
        if (strcmp(r->checks[i]->id, id) == 0)
            return r->checks[i];
    if (!grow(r, (void **)&r->checks, &r->cap_checks, r->n_checks, sizeof *r->checks))
        return NULL;
    check_result *c = calloc(1, sizeof *c);
    if (!c || !(c->id = strdup(id))) {
        free(c);
        r->oom = true;
        return NULL;
    }
    c->ran = true;
    r->checks[r->n_checks++] = c;
    return c;
}

void check_set_summary(report *r, check_result *c, const char *fmt, ...)
{
    if (!c)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(r, fmt, ap);
    va_end(ap);
    if (s) {
        free(c->summary);
        c->summary = s;
    }
}

finding *check_add(report *r, check_result *c, severity sev, const char *fmt, ...)
{
    if (!c || !grow(r, (void **)&c->findings, &c->cap_findings, c->n_findings,
                    sizeof *c->findings))
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(r, fmt, ap);
    va_end(ap);
    finding *f = s ? calloc(1, sizeof *f) : NULL;
    if (!f) {
        free(s);
        r->oom = true;
        return NULL;
    }
    c->findings[c->n_findings++] = f;
    f->sev = sev;
    f->summary = s;
    c->status = severity_worse(c->status, sev);
    if (sev == SEV_UNKNOWN)
        c->ran = false;
    return f;
}

void check_not_applicable(report *r, check_result *c, const char *fmt, ...)
{
    if (!c)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = vformat(r, fmt, ap);
    va_end(ap);
    if (s) {
        free(c->summary);
        c->summary = s;
    }
    c->not_applicable = true;
}

void check_add_data(report *r, check_result *c, cJSON *item)
{
    if (!item)
        r->oom = true;
    if (!c || !item) {
        cJSON_Delete(item);
        return;
    }
    if (!c->data && !(c->data = cJSON_CreateArray())) {
        cJSON_Delete(item);
        r->oom = true;
        return;
    }
    if (!cJSON_AddItemToArray(c->data, item)) {
        cJSON_Delete(item);
        r->oom = true;
    }
}

const char *check_status_name(const check_result *c)
{
    return c->not_applicable ? "NOT_APPLICABLE" : severity_name(c->status);
}

static void append(report *r, char ***items, size_t *n, size_t *cap, const char *fmt, va_list ap)
{
    if (!grow(r, (void **)items, cap, *n, sizeof **items))
        return;
    char *s = vformat(r, fmt, ap);
    if (s)
        (*items)[(*n)++] = s;
}

void finding_detail(report *r, finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    append(r, &f->details, &f->n_details, &f->cap_details, fmt, ap);
    va_end(ap);
}

void finding_evidence(report *r, finding *f, const char *fmt, ...)
{
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    append(r, &f->evidence, &f->n_evidence, &f->cap_evidence, fmt, ap);
    va_end(ap);
}

static void recompute(check_result *c)
{
    c->status = c->ran ? SEV_OK : SEV_UNKNOWN;
    for (size_t i = 0; i < c->n_findings; i++)
        c->status = severity_worse(c->status, c->findings[i]->sev);
}

void finding_waive(report *r, finding *f, const char *reason)
{
    if (!f)
        return;
    free(f->waived_reason);
    if (!(f->waived_reason = strdup(reason)))
        r->oom = true;
    f->sev = SEV_OK;
    for (size_t i = 0; i < r->n_checks; i++)
        for (size_t j = 0; j < r->checks[i]->n_findings; j++)
            if (r->checks[i]->findings[j] == f)
                recompute(r->checks[i]);
}

severity report_status(const report *r)
{
    severity s = r->oom ? SEV_UNKNOWN : SEV_OK;
    for (size_t i = 0; i < r->n_checks; i++)
        if (!r->checks[i]->not_applicable)
            s = severity_worse(s, r->checks[i]->status);
    return s;
}

static cJSON *string_array(char *const *items, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(items[i]))) {
            cJSON_Delete(a);
            return NULL;
        }
    return a;
}

cJSON *report_checks_json(const report *r)
{
    cJSON *checks = cJSON_CreateArray();
    if (!checks)
        return NULL;
    for (size_t i = 0; i < r->n_checks; i++) {
        const check_result *c = r->checks[i];
        cJSON *o = cJSON_CreateObject();
        cJSON *details = cJSON_CreateArray(), *evidence = cJSON_CreateArray();
        cJSON *findings = cJSON_CreateArray();
        if (!cJSON_AddItemToArray(checks, o) || !details || !evidence || !findings) {
            cJSON_Delete(details);
            cJSON_Delete(evidence);
            cJSON_Delete(findings);
            goto oom;
        }
        cJSON_AddStringToObject(o, "id", c->id);
        cJSON_AddStringToObject(o, "status", check_status_name(c));
        cJSON_AddStringToObject(o, "summary", c->summary ? c->summary : "");
        if (c->data) { /* structured details replace the findings' summaries */
            cJSON_Delete(details);
            details = cJSON_Duplicate(c->data, 1);
            if (!details) {
                cJSON_Delete(evidence);
                cJSON_Delete(findings);
                goto oom;
            }
        }
        cJSON_AddItemToObject(o, "details", details);
        cJSON_AddItemToObject(o, "evidence", evidence);
        cJSON_AddItemToObject(o, "findings", findings);
        for (size_t j = 0; j < c->n_findings; j++) {
            const finding *f = c->findings[j];
            if (!c->data)
                cJSON_AddItemToArray(details, cJSON_CreateString(f->summary));
            for (size_t k = 0; k < f->n_evidence; k++)
                cJSON_AddItemToArray(evidence, cJSON_CreateString(f->evidence[k]));
            cJSON *fo = cJSON_CreateObject();
            if (!cJSON_AddItemToArray(findings, fo))
                goto oom;
            cJSON_AddStringToObject(fo, "severity", severity_name(f->sev));
            cJSON_AddStringToObject(fo, "summary", f->summary);
            cJSON_AddItemToObject(fo, "details", string_array(f->details, f->n_details));
            cJSON_AddItemToObject(fo, "evidence", string_array(f->evidence, f->n_evidence));
            if (f->waived_reason)
                cJSON_AddStringToObject(fo, "waived", f->waived_reason);
        }
    }
    return checks;
oom:
    cJSON_Delete(checks);
    return NULL;
}

void report_print_text(const report *r, FILE *out, bool verbose)
{
    for (size_t i = 0; i < r->n_checks; i++) {
        const check_result *c = r->checks[i];
        const char *word = c->not_applicable ? "N/A" : severity_name(c->status);
        fprintf(out, "%-8s %-20s %s\n", word, c->id,
                c->summary ? c->summary : "");
        for (size_t j = 0; j < c->n_findings; j++) {
            const finding *f = c->findings[j];
            if (f->sev == SEV_OK && !f->waived_reason && !verbose)
                continue;
            fprintf(out, "         %-8s %s%s%s%s\n", severity_name(f->sev), f->summary,
                    f->waived_reason ? " (waived: " : "",
                    f->waived_reason ? f->waived_reason : "", f->waived_reason ? ")" : "");
            for (size_t k = 0; verbose && k < f->n_details; k++)
                fprintf(out, "                  %s\n", f->details[k]);
            for (size_t k = 0; verbose && k < f->n_evidence; k++)
                fprintf(out, "                  evidence: %s\n", f->evidence[k]);
        }
    }
    if (r->oom)
        fprintf(out, "UNKNOWN  out of memory while building the report: it is incomplete\n");
}
