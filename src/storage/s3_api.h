/*
 * s3_api.h — raw S3 API requests on an s3:// repository's bucket, for the auditor and the
 * writer probe: bucket subresources (?versioning, ?lifecycle, ?policy, ...), version
 * listings, a probe's put and deletes.
 *
 * Unlike the storage interface, the answer is handed back whatever its HTTP status: a 403
 * AccessDenied or a 404 NoSuchLifecycleConfiguration is a fact the auditor judges, not a
 * failure. Requests are signed and retried exactly as the driver's own (5xx, 429/SlowDown,
 * timeouts, dropped connections); only a request that never got an answer is an error.
 */
#ifndef PGATTEST_STORAGE_S3_API_H
#define PGATTEST_STORAGE_S3_API_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "storage/s3_url.h"
#include "storage/storage.h"

struct aws_credentials_provider;

typedef struct s3_api_call {
    const char *op;          /* for messages: "GetBucketVersioning" */
    const char *method;      /* GET PUT POST DELETE HEAD */
    /* Object key relative to the repository prefix (".pgattest-probe/canary"), or NULL for
     * the bucket itself. */
    const char *key;
    /* Canonical query string, parameters sorted and URI-encoded ("versioning",
     * "prefix=node1%2F&versions"), or NULL. */
    const char *query;
    const void *body;        /* PUT/POST body, not copied */
    size_t body_len;
    const char *content_md5; /* base64 Content-MD5 (S3 requires it on some PUTs), or NULL */
    size_t max_body;         /* cap for the collected answer body; 0 = 1 MiB */
} s3_api_call;

typedef struct s3_api_answer {
    long status;             /* HTTP status of the final attempt */
    char code[64];           /* S3 error code of a non-2xx answer ("AccessDenied"), else "" */
    char message[512];       /* its message, else "" */
    buf body;                /* the answer body (any status); owned, see s3_api_answer_free */
    char version_id[256];    /* x-amz-version-id, "" when absent */
    char bucket_region[64];  /* x-amz-bucket-region, "" when absent */
} s3_api_answer;

void s3_api_answer_init(s3_api_answer *a);
void s3_api_answer_free(s3_api_answer *a);

/* true when st is an s3:// repository (the other functions here need one). */
bool storage_is_s3(const storage *st);
/* Bucket, prefix ("" or "path/"), region and endpoint of an s3:// repository; valid while
 * st is open. */
const s3_location *s3_storage_location(const storage *st);

/* One request, signed and retried. PA_OK when an answer arrived, whatever its status (look
 * at a->status and a->code); PA_ERR (message set) when none did. a must be initialized. */
int s3_api_request(storage *st, const s3_api_call *call, s3_api_answer *a);

/* Open an s3:// repository with these credentials instead of the environment's (the writer
 * probe uses the writer's own). Takes ownership of creds, also on failure. */
storage *s3_storage_open_with_credentials(const char *url, struct aws_credentials_provider *creds);

#endif
