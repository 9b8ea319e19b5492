/*
 * http.h — one HTTP exchange over libcurl, a pool of reusable curl handles, and the retry
 * policy (what is worth retrying, how long to wait).
 *
 * http_perform() makes exactly one attempt; callers that sign requests (S3) loop, because
 * each attempt needs a fresh signature. A 2xx response body is streamed into req->out when
 * set (bytes counted in resp->delivered), otherwise it is collected, like any non-2xx body,
 * into resp->body up to req->max_body bytes. Nothing here logs headers: they carry secrets.
 *
 * Handles: a pool hands each caller its own CURL handle (connections are kept alive inside
 * it) and takes it back; any number of threads may use one pool.
 */
#ifndef PGATTEST_STORAGE_HTTP_H
#define PGATTEST_STORAGE_HTTP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "io/sink.h"

typedef struct http_request {
    const char *method;           /* GET HEAD PUT POST DELETE */
    const char *url;
    const char *const *headers;   /* "Name: value" strings */
    size_t n_headers;
    const void *body;             /* request body (PUT/POST), body_len bytes; not copied */
    size_t body_len;
    sink *out;                    /* where a 2xx body goes; NULL: into resp->body */
    size_t max_body;              /* cap for resp->body */
    long connect_timeout;         /* seconds */
    long stall_timeout;           /* seconds without a single byte moving: give up */
    const char *ca_bundle;        /* NULL: system default */
} http_request;

typedef struct http_response {
    long status;                  /* 0 when no response was received */
    buf body;                     /* owned; http_response_free releases it */
    char etag[130];               /* as sent, quotes included */
    char bucket_region[64];       /* x-amz-bucket-region */
    char version_id[256];         /* x-amz-version-id ("" when absent) */
    uint64_t content_length;
    int has_content_length;
    int64_t last_modified;        /* seconds since the epoch, 0 when absent */
    uint64_t delivered;           /* bytes pushed into req->out */
    int sink_failed;              /* req->out refused bytes: err_msg() holds why; no retry */
    int transport_error;          /* a curl error code when the exchange did not complete */
} http_response;

void http_global_init(void); /* idempotent, thread-safe */

void http_response_init(http_response *resp);
void http_response_free(http_response *resp);

/* One attempt. PA_OK when a complete response arrived (whatever its status); PA_ERR when the
 * transfer failed (resp->transport_error set, message names the URL without its query) or
 * the sink refused data (resp->sink_failed). */
int http_perform(void *curl_handle, const http_request *req, http_response *resp);

/* Retry policy. */
int http_transport_error_retryable(int curl_code);
/* 5xx, 408, 429; S3 codes SlowDown, RequestTimeout, InternalError, ServiceUnavailable. */
int http_status_retryable(long status, const char *error_code);
/* Full-jitter exponential backoff: a random delay in [0, min(cap, base * 2^attempt)] ms. */
unsigned http_backoff_ms(int attempt, unsigned base_ms, unsigned cap_ms);
void http_sleep_ms(unsigned ms);

/* A pool of curl handles. */
#define HTTP_POOL_MAX 32
typedef struct http_pool {
    pthread_mutex_t lock;
    void *free_handles[HTTP_POOL_MAX];
    int n_free;
} http_pool;

void http_pool_init(http_pool *p);
/* A handle for this caller's exclusive use, or NULL (message set). */
void *http_pool_get(http_pool *p);
void http_pool_put(http_pool *p, void *handle);
void http_pool_destroy(http_pool *p);

/* Parse an HTTP date ("Fri, 24 May 2013 00:00:00 GMT") or ISO 8601 ("2013-05-24T00:00:00.000Z").
 * Returns seconds since the epoch, or -1. */
int64_t http_parse_date(const char *s);

#endif
