/* Unit tests for the findings model: statuses, not-applicable checks, structured details. */
#include <cJSON.h>

#include "report/findings.h"
#include "test.h"

static const cJSON *check_json(const cJSON *checks, const char *id)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, checks)
    {
        const cJSON *cid = cJSON_GetObjectItem(c, "id");
        if (cJSON_IsString(cid) && strcmp(cid->valuestring, id) == 0)
            return c;
    }
    return NULL;
}

static void test_worst_status(void)
{
    report r;
    report_init(&r);
    check_add(&r, report_check(&r, "a.warn"), SEV_WARNING, "w");
    CHECK_EQ_INT(report_status(&r), SEV_WARNING);
    check_add(&r, report_check(&r, "b.unknown"), SEV_UNKNOWN, "u");
    CHECK_EQ_INT(report_status(&r), SEV_UNKNOWN);
    check_add(&r, report_check(&r, "c.crit"), SEV_CRITICAL, "c");
    CHECK_EQ_INT(report_status(&r), SEV_CRITICAL);
    report_free(&r);
}

static void test_not_applicable(void)
{
    report r;
    report_init(&r);
    check_result *ok = report_check(&r, "wal.rpo");
    check_set_summary(&r, ok, "fine");
    check_result *na = report_check(&r, "bucket.versioning");
    check_not_applicable(&r, na, "file:// repository: %s", "no bucket");
    /* A not-applicable check never counts, whatever was added to it. */
    check_add(&r, na, SEV_CRITICAL, "ignored");
    CHECK_EQ_INT(report_status(&r), SEV_OK);
    CHECK_STR(check_status_name(na), "NOT_APPLICABLE");
    CHECK_STR(check_status_name(ok), "OK");
    cJSON *checks = report_checks_json(&r);
    const cJSON *j = check_json(checks, "bucket.versioning");
    CHECK(j != NULL);
    CHECK_STR(cJSON_GetObjectItem(j, "status")->valuestring, "NOT_APPLICABLE");
    CHECK_STR(cJSON_GetObjectItem(j, "summary")->valuestring, "file:// repository: no bucket");
    cJSON_Delete(checks);
    report_free(&r);
}

static void test_structured_details(void)
{
    report r;
    report_init(&r);
    check_result *c = report_check(&r, "iam.writer.delete");
    check_add(&r, c, SEV_CRITICAL, "the writer may delete archived objects");
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "action", "s3:DeleteObject");
    cJSON_AddStringToObject(d, "verdict", "allowed");
    check_add_data(&r, c, d);
    check_add_data(&r, c, NULL); /* out of memory upstream: remembered */
    CHECK(r.oom);
    r.oom = false;
    cJSON *checks = report_checks_json(&r);
    const cJSON *j = check_json(checks, "iam.writer.delete");
    const cJSON *details = cJSON_GetObjectItem(j, "details");
    CHECK_EQ_INT(cJSON_GetArraySize(details), 1);
    const cJSON *first = cJSON_GetArrayItem(details, 0);
    CHECK(cJSON_IsObject(first));
    CHECK_STR(cJSON_GetObjectItem(first, "action")->valuestring, "s3:DeleteObject");
    /* The finding is still there, with its summary. */
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItem(j, "findings")), 1);
    CHECK_STR(cJSON_GetObjectItem(j, "status")->valuestring, "CRITICAL");
    cJSON_Delete(checks);
    report_free(&r);
}

TEST_MAIN(TEST(test_worst_status), TEST(test_not_applicable), TEST(test_structured_details))
