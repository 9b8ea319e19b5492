/*
 * s3.c — the s3:// storage driver: a repository in an S3 (or S3-compatible) bucket.
 *
 * Requests are signed here (SigV4, s3_sign.c) on every attempt and retried with exponential
 * backoff and jitter on transient failures (http.c decides what is transient). Each request
 * takes a curl handle from the driver's pool, so connections are reused and any number of
 * threads may use one storage handle.
 *
 * Writing: bytes are buffered up to the part size. An object that fits is sent with one PUT
 * at sink_finish (Content-MD5 and the signed SHA-256 let the server reject corrupted bytes;
 * S3 makes the object visible atomically, only when complete). A larger object becomes a
 * multipart upload whose parts are uploaded by up to PGATTEST_S3_UPLOAD_CONCURRENCY threads
 * (for all writers of one handle together) while the next part is being filled, so memory
 * stays at (concurrency + number of writers) parts; the
 * object appears only when CompleteMultipartUpload succeeds, and a writer freed before that
 * aborts the upload (best effort: a writer credential without s3:AbortMultipartUpload leaves
 * the parts for a lifecycle rule to clean up, never a visible object).
 *
 * STORAGE_NO_OVERWRITE: a HEAD just before the object is made visible, plus
 * "If-None-Match: *" on single PUTs (S3 and radosgw then refuse to replace an object
 * atomically), and on CompleteMultipartUpload too (AWS S3 honours it there; a store that
 * ignores it leaves only the HEAD, where two writers racing on one key could both succeed).
 * STORAGE_VERIFY: success only once the server confirmed what it stored: the ETag of a
 * single PUT equals the MD5 of what we sent, or (multipart, or an ETag that is not an MD5,
 * e.g. SSE-KMS) a HEAD reports the size we sent.
 *
 * No request in any path deletes an object except storage_remove (DeleteObjects), so a
 * writer allowed only s3:ListBucket, s3:GetObject and s3:PutObject can archive.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>

#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "storage/aws_credentials.h"
#include "storage/http.h"
#include "storage/s3_api.h"
#include "storage/s3_sign.h"
#include "storage/s3_url.h"
#include "storage/s3_xml.h"
#include "storage/storage.h"

#define MIN_PART_SIZE (5u * 1024 * 1024)
/* S3's smallest part: backup-push writes --jobs parts at once, each holding (in flight + 1)
 * part buffers, and its peak RSS must stay under 32 MiB (8 MiB parts measured 43 MiB). */
#define DEFAULT_PART_SIZE (5u * 1024 * 1024)
#define MAX_PART_SIZE (5ull * 1024 * 1024 * 1024)
#define MAX_PARTS 10000
#define MAX_CONCURRENCY 16
#define DELETE_BATCH 1000

typedef struct s3_storage {
    storage base;
    s3_location loc;
    aws_credentials_provider *creds;
    http_pool pool;
    char acl[64];            /* canned ACL to send with uploads, "" for none */
    char ca_bundle[1024];    /* "" for the system default */
    size_t part_size;
    int concurrency;
    int max_attempts;
    long timeout;            /* seconds a transfer may stall */
    int conditional_put;     /* send If-None-Match: * with no-overwrite PUTs */
    int list_max_keys;       /* keys per ListObjectsV2 page (PGATTEST_S3_LIST_MAX_KEYS) */
    /* Part uploads in flight across every writer of this handle, at most `concurrency`:
     * backup-push writes several parts at once, and memory must not multiply with them. */
    pthread_mutex_t inflight_lock;
    pthread_cond_t inflight_done;
    int inflight;
} s3_storage;

/* ---------------- configuration ---------------- */

static int env_size(const char *name, uint64_t def, uint64_t min, uint64_t max, uint64_t *out)
{
    const char *v = getenv(name);
    *out = def;
    if (!v || !*v)
        return PA_OK;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    uint64_t mult = 1;
    if (*end && strchr("kK", *end))
        mult = 1024;
    else if (*end && strchr("mM", *end))
        mult = 1024 * 1024;
    else if (*end && strchr("gG", *end))
        mult = 1024 * 1024 * 1024;
    if (*end && mult != 1)
        end++;
    if (*end == 'i' || *end == 'I')
        end++;
    if (*end == 'b' || *end == 'B')
        end++;
    if (end == v || *end || n * mult < min || n * mult > max)
        return err_set("%s=\"%s\": expected a number between %" PRIu64 " and %" PRIu64, name, v,
                       min, max);
    *out = n * mult;
    return PA_OK;
}

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* ---------------- one request, signed and retried ---------------- */

typedef struct s3_req {
    const char *op;          /* for messages: "PUT", "GET", "HEAD", "list", "delete", ... */
    const char *method;
    const char *key;         /* full key (repository prefix included) or NULL: the bucket */
    const char *query;       /* canonical query string or NULL */
    const void *body;
    size_t body_len;
    const char *content_md5; /* base64, or NULL */
    s3_header extra[4];      /* more headers to send and sign (name NULL = unused) */
    sink *out;               /* GET: the 2xx body goes here */
    uint64_t range_start;    /* GET with out: where to start */
    uint64_t range_len;      /* GET with out: how much (0 = to the end) */
    size_t max_body;         /* cap for a collected body */
    int if_none_match;       /* PUT: If-None-Match: *  (412 becomes PA_EXISTS) */
} s3_req;

static void where_of(const s3_storage *s3, const char *key, char *out, size_t cap)
{
    snprintf(out, cap, "s3://%s/%s", s3->loc.bucket, key ? key : "");
}

static int attempt_once(s3_storage *s3, void *h, const s3_req *req, uint64_t delivered,
                        const char *if_match, const char *payload_hash, http_response *resp)
{
    int rc = PA_ERR;
    aws_credentials cred;
    buf url, host, curi, auth;
    buf_init(&url, 16384);
    buf_init(&host, 512);
    buf_init(&curi, 16384);
    buf_init(&auth, 4096);
    char date[17], range[80] = "";
    char *lines[S3_SIGN_MAX_HEADERS] = {0};
    s3_header hs[S3_SIGN_MAX_HEADERS];
    size_t n = 0;
    time_t now = time(NULL);

    if (aws_credentials_get(s3->creds, now, &cred) != PA_OK)
        goto out;
    if (s3_build_request_url(&s3->loc, req->key, req->query, &url, &host, &curi) != PA_OK)
        goto out;
    s3_amz_date(now, date);
    hs[n++] = (s3_header){"Host", host.data};
    hs[n++] = (s3_header){"x-amz-date", date};
    hs[n++] = (s3_header){"x-amz-content-sha256", payload_hash};
    if (cred.session_token[0])
        hs[n++] = (s3_header){"x-amz-security-token", cred.session_token};
    if (req->content_md5)
        hs[n++] = (s3_header){"Content-MD5", req->content_md5};
    if (req->out) {
        uint64_t start = req->range_start + delivered;
        if (req->range_len)
            snprintf(range, sizeof range, "bytes=%" PRIu64 "-%" PRIu64, start,
                     req->range_start + req->range_len - 1);
        else if (start > 0)
            snprintf(range, sizeof range, "bytes=%" PRIu64 "-", start);
        if (range[0])
            hs[n++] = (s3_header){"Range", range};
        if (if_match && *if_match)
            hs[n++] = (s3_header){"If-Match", if_match};
    }
    if (req->if_none_match)
        hs[n++] = (s3_header){"If-None-Match", "*"};
    for (size_t i = 0; i < sizeof req->extra / sizeof *req->extra; i++)
        if (req->extra[i].name)
            hs[n++] = req->extra[i];

    s3_sign_request sr = {req->method, curi.data, req->query ? req->query : "", hs, n,
                          payload_hash, s3->loc.region, "s3", date, cred.access_key,
                          cred.secret_key};
    if (s3_sign(&sr, &auth, NULL) != PA_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (asprintf(&lines[i], "%s: %s", hs[i].name, hs[i].value) < 0) {
            lines[i] = NULL;
            err_set("out of memory");
            goto out;
        }
    }
    if (asprintf(&lines[n], "Authorization: %s", auth.data) < 0) {
        lines[n] = NULL;
        err_set("out of memory");
        goto out;
    }
    http_request hr = {.method = req->method, .url = url.data, .headers = (const char *const *)lines,
                       .n_headers = n + 1, .body = req->body, .body_len = req->body_len,
                       .out = req->out, .max_body = req->max_body ? req->max_body : 64 * 1024,
                       .connect_timeout = s3->timeout < 10 ? s3->timeout : 10,
                       .stall_timeout = s3->timeout,
                       .ca_bundle = s3->ca_bundle[0] ? s3->ca_bundle : NULL};
    rc = http_perform(h, &hr, resp);
out:
    for (size_t i = 0; i <= n && i < S3_SIGN_MAX_HEADERS; i++) {
        if (lines[i]) {
            OPENSSL_cleanse(lines[i], strlen(lines[i]));
            free(lines[i]);
        }
    }
    OPENSSL_cleanse(&cred, sizeof cred);
    buf_free(&url);
    buf_free(&host);
    buf_free(&curi);
    buf_free(&auth);
    return rc;
}

/* Perform req with retries. PA_OK on 2xx; PA_NOT_FOUND on an authoritative "no such key"
 * (404 NoSuchKey; for HEAD, which has no body, any 404); PA_EXISTS on 412 with
 * req->if_none_match; PA_ERR otherwise with a one-line message. resp is the caller's
 * (initialized by the caller, freed by the caller). */
static int s3_request(s3_storage *s3, const s3_req *req, http_response *resp)
{
    char where[1200], payload_hash[65], if_match[130] = "";
    where_of(s3, req->key, where, sizeof where);
    if (req->body && req->body_len)
        s3_sha256_hex(req->body, req->body_len, payload_hash);
    else
        snprintf(payload_hash, sizeof payload_hash, "%s", S3_EMPTY_SHA256);
    void *h = http_pool_get(&s3->pool);
    if (!h)
        return PA_ERR;
    int rc = PA_ERR;
    uint64_t delivered = 0;
    s3_error e;
    for (int attempt = 0;; attempt++) {
        int last = attempt + 1 >= s3->max_attempts;
        resp->delivered = 0;
        resp->transport_error = 0; /* a failure before any exchange is not a transport one */
        resp->sink_failed = 0;
        int prc = attempt_once(s3, h, req, delivered, if_match, payload_hash, resp);
        if (req->out && resp->delivered > 0) {
            if (!if_match[0] && resp->etag[0])
                snprintf(if_match, sizeof if_match, "%s", resp->etag); /* resume only this version */
            delivered += resp->delivered;
        }
        if (prc != PA_OK) {
            if (resp->sink_failed || !resp->transport_error)
                break; /* the sink's, or a local, failure: message set, nothing to retry */
            if (!http_transport_error_retryable(resp->transport_error) || last) {
                char detail[ERR_MSG_MAX];
                snprintf(detail, sizeof detail, "%s", err_msg());
                const char *colon = strstr(detail, ": ");
                const char *why = colon ? colon + 2 : detail;
                if (attempt)
                    err_set("%s %s: %s (gave up after %d attempts)", req->op, where, why,
                            attempt + 1);
                else
                    err_set("%s %s: %s", req->op, where, why);
                break;
            }
            unsigned ms = http_backoff_ms(attempt, 200, 10000);
            log_verbose("%s %s: %s; retrying in %u ms", req->op, where, err_msg(), ms);
            http_sleep_ms(ms);
            continue;
        }
        long st = resp->status;
        if (st >= 200 && st < 300) {
            if (req->out && req->range_len && delivered != req->range_len) {
                err_set("%s %s: range %" PRIu64 "+%" PRIu64 " ends past the end of the object",
                        req->op, where, req->range_start, req->range_len);
                break;
            }
            rc = PA_OK;
            break;
        }
        s3_xml_parse_error(resp->body.data, resp->body.len, &e);
        if (st == 404 && (strcmp(e.code, "NoSuchKey") == 0 ||
                          (strcmp(req->method, "HEAD") == 0 && !e.code[0]))) {
            if (delivered > 0) /* part of it already went into the sink */
                err_set("%s %s: the object disappeared while it was being read", req->op, where);
            else
                rc = PA_NOT_FOUND;
            break;
        }
        if (st == 412 && req->if_none_match) {
            rc = PA_EXISTS;
            break;
        }
        if (st == 412 && if_match[0]) {
            err_set("%s %s: the object changed while it was being read", req->op, where);
            break;
        }
        if (http_status_retryable(st, e.code) && !last) {
            unsigned ms = http_backoff_ms(attempt, 200, 10000);
            log_verbose("%s %s: HTTP %ld %s; retrying in %u ms", req->op, where, st, e.code, ms);
            http_sleep_ms(ms);
            continue;
        }
        s3_error_report(req->op, where, s3->loc.bucket, st, &e, s3->loc.region,
                        resp->bucket_region);
        if (http_status_retryable(st, e.code) && attempt) {
            char detail[ERR_MSG_MAX];
            snprintf(detail, sizeof detail, "%s", err_msg());
            err_set("%s (gave up after %d attempts)", detail, attempt + 1);
        }
        break;
    }
    http_pool_put(&s3->pool, h);
    return rc;
}

static char *full_key(const s3_storage *s3, const char *key)
{
    char *k = NULL;
    if (!*key || key[0] == '/' || asprintf(&k, "%s%s", s3->loc.prefix, key) < 0) {
        if (*key && key[0] != '/')
            err_set("out of memory");
        else
            err_set("invalid object key \"%s\"", key);
        return NULL;
    }
    return k;
}

static void strip_quotes(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n >= 2 && in[0] == '"' && in[n - 1] == '"')
        snprintf(out, cap, "%.*s", (int)(n - 2), in + 1);
    else
        snprintf(out, cap, "%s", in);
}

/* ---------------- stat ---------------- */

static int head(s3_storage *s3, const char *fkey, http_response *resp)
{
    s3_req req = {.op = "HEAD", .method = "HEAD", .key = fkey};
    int rc = s3_request(s3, &req, resp);
    if (rc == PA_ERR && resp->status >= 300 && resp->status < 500 && resp->body.len == 0) {
        /* A HEAD answer has no body, so a 403 cannot tell a bad signature from a denied
         * request. Ask the same question with a one-byte GET, whose error says which. */
        sink *discard = discard_sink_new();
        http_response diag;
        http_response_init(&diag);
        s3_req get = {.op = "HEAD", .method = "GET", .key = fkey, .out = discard,
                      .range_len = 1};
        char first[ERR_MSG_MAX];
        snprintf(first, sizeof first, "%s", err_msg());
        if (!discard || s3_request(s3, &get, &diag) != PA_ERR || diag.body.len == 0)
            err_set("%s", first);
        http_response_free(&diag);
        sink_free(discard);
    }
    return rc;
}

static int s3_stat(storage *st, const char *key, storage_entry *out)
{
    static _Thread_local char etag[130];
    s3_storage *s3 = (s3_storage *)st;
    char *fkey = full_key(s3, key);
    if (!fkey)
        return PA_ERR;
    http_response resp;
    http_response_init(&resp);
    int rc = head(s3, fkey, &resp);
    if (rc == PA_OK) {
        strip_quotes(resp.etag, etag, sizeof etag);
        out->size = resp.content_length;
        out->mtime = resp.last_modified;
        out->etag = etag;
    }
    http_response_free(&resp);
    free(fkey);
    return rc;
}

/* ---------------- read ---------------- */

static int s3_read(storage *st, const char *key, uint64_t offset, uint64_t length, sink *dst)
{
    s3_storage *s3 = (s3_storage *)st;
    char *fkey = full_key(s3, key);
    if (!fkey)
        return PA_ERR;
    http_response resp;
    http_response_init(&resp);
    s3_req req = {.op = "GET", .method = "GET", .key = fkey, .out = dst, .range_start = offset,
                  .range_len = length};
    int rc = s3_request(s3, &req, &resp);
    http_response_free(&resp);
    free(fkey);
    return rc;
}

/* ---------------- list ---------------- */

typedef struct list_ctx {
    size_t strip;            /* length of the repository prefix */
    storage_list_fn fn;
    void *arg;
} list_ctx;

static int list_item(void *arg, const s3_list_item *it)
{
    list_ctx *c = arg;
    if (strlen(it->key) <= c->strip)
        return PA_OK;
    storage_entry e = {it->key + c->strip, it->size, it->mtime, it->etag};
    return c->fn(c->arg, &e);
}

static int s3_list(storage *st, const char *prefix, storage_list_fn fn, void *arg)
{
    s3_storage *s3 = (s3_storage *)st;
    int rc = PA_ERR;
    buf query, token, full_prefix;
    buf_init(&query, 64 * 1024);
    buf_init(&token, 16 * 1024);
    buf_init(&full_prefix, 8192);
    http_response resp;
    http_response_init(&resp);
    list_ctx ctx = {strlen(s3->loc.prefix), fn, arg};
    if (buf_appendf(&full_prefix, "%s%s", s3->loc.prefix, prefix) != PA_OK)
        goto out;
    for (;;) {
        buf_reset(&query);
        if (token.len && (buf_append_str(&query, "continuation-token=") != PA_OK ||
                          s3_uri_encode(&query, token.data, 0) != PA_OK ||
                          buf_append_str(&query, "&") != PA_OK))
            goto out;
        if (buf_appendf(&query, "list-type=2&max-keys=%d&prefix=", s3->list_max_keys) != PA_OK ||
            s3_uri_encode(&query, full_prefix.data ? full_prefix.data : "", 0) != PA_OK)
            goto out;
        s3_req req = {.op = "list", .method = "GET", .query = query.data,
                      .max_body = 32 * 1024 * 1024};
        rc = s3_request(s3, &req, &resp);
        if (rc != PA_OK) {
            if (rc == PA_NOT_FOUND) /* a 404 NoSuchKey on a bucket listing makes no sense */
                rc = err_set("list s3://%s/%s: unexpected 404", s3->loc.bucket, full_prefix.data);
            goto out;
        }
        int truncated = 0;
        /* One page at a time: this page's body is released before the next is requested. */
        rc = s3_xml_parse_list_page(resp.body.data, resp.body.len, list_item, &ctx, &truncated,
                                    &token);
        if (rc != PA_OK || !truncated)
            goto out;
        rc = PA_ERR;
    }
out:
    if (rc == PA_ERR && !strstr(err_msg(), "s3://"))
        err_prefix("list s3://%s/%s", s3->loc.bucket, full_prefix.data ? full_prefix.data : "");
    http_response_free(&resp);
    buf_free(&query);
    buf_free(&token);
    buf_free(&full_prefix);
    return rc;
}

/* ---------------- remove ---------------- */

static int remove_batch(s3_storage *s3, const char *const *keys, size_t n)
{
    int rc = PA_ERR;
    buf body, failed;
    buf_init(&body, 4 * 1024 * 1024);
    buf_init(&failed, 4096);
    http_response resp;
    http_response_init(&resp);
    char md5[25], where[1200];
    if (buf_append_str(&body, "<Delete><Quiet>true</Quiet>") != PA_OK)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (!*keys[i] || keys[i][0] == '/') {
            err_set("invalid object key \"%s\"", keys[i]);
            goto out;
        }
        if (buf_append_str(&body, "<Object><Key>") != PA_OK ||
            s3_xml_escape(&body, s3->loc.prefix) != PA_OK ||
            s3_xml_escape(&body, keys[i]) != PA_OK ||
            buf_append_str(&body, "</Key></Object>") != PA_OK)
            goto out;
    }
    if (buf_append_str(&body, "</Delete>") != PA_OK)
        goto out;
    s3_md5(body.data, body.len, md5, NULL);
    s3_req req = {.op = "delete", .method = "POST", .query = "delete=", .body = body.data,
                  .body_len = body.len, .content_md5 = md5,
                  .extra = {{"Content-Type", "application/xml"}}, .max_body = 4 * 1024 * 1024};
    rc = s3_request(s3, &req, &resp);
    if (rc != PA_OK) {
        if (rc == PA_NOT_FOUND)
            rc = err_set("delete s3://%s: unexpected 404", s3->loc.bucket);
        else
            err_prefix("removing %zu object%s starting with \"%s%s\"", n, n == 1 ? "" : "s",
                       s3->loc.prefix, keys[0]);
        goto out;
    }
    s3_error e;
    if (s3_xml_parse_delete_result(resp.body.data, resp.body.len, &e, &failed) != PA_OK) {
        snprintf(where, sizeof where, "s3://%s/%s", s3->loc.bucket,
                 failed.len ? failed.data : s3->loc.prefix);
        rc = s3_error_report("delete", where, s3->loc.bucket, e.code[0] ? 403 : 200, &e,
                             s3->loc.region, "");
        goto out;
    }
    rc = PA_OK;
out:
    http_response_free(&resp);
    buf_free(&body);
    buf_free(&failed);
    return rc;
}

static int s3_remove(storage *st, const char *const *keys, size_t n)
{
    s3_storage *s3 = (s3_storage *)st;
    for (size_t i = 0; i < n; i += DELETE_BATCH) {
        size_t m = n - i < DELETE_BATCH ? n - i : DELETE_BATCH;
        if (remove_batch(s3, keys + i, m) != PA_OK)
            return PA_ERR;
    }
    return PA_OK;
}

/* ---------------- writer ---------------- */

typedef struct s3_writer s3_writer;

typedef struct part_job {
    s3_writer *w;
    int number;              /* 1-based; 0 = slot free */
    char *data;
    size_t len;
    pthread_t thread;
    int rc;
    char etag[130];
    char err[ERR_MSG_MAX];
} part_job;

struct s3_writer {
    sink base;
    s3_storage *s3;
    unsigned flags;
    char *key;               /* full key */
    char *data;              /* the part being filled */
    size_t len, cap;
    uint64_t total;
    buf upload_id;           /* non-empty once a multipart upload was started */
    int completed;           /* the object is visible */
    int parts;               /* parts dispatched */
    part_job jobs[MAX_CONCURRENCY];
    char (*etags)[130];      /* per part number - 1 */
    size_t etags_cap;
};

static void upload_headers(const s3_writer *w, s3_req *req)
{
    size_t i = 0;
    while (i < sizeof req->extra / sizeof *req->extra && req->extra[i].name)
        i++;
    if (w->s3->acl[0] && i < sizeof req->extra / sizeof *req->extra)
        req->extra[i] = (s3_header){"x-amz-acl", w->s3->acl};
}

static void *part_thread(void *arg)
{
    part_job *j = arg;
    s3_writer *w = j->w;
    char md5[25], query[1200], where[1200];
    buf q;
    buf_init(&q, 4096);
    http_response resp;
    http_response_init(&resp);
    s3_md5(j->data, j->len, md5, NULL);
    j->rc = PA_ERR;
    if (buf_appendf(&q, "partNumber=%d&uploadId=", j->number) == PA_OK &&
        s3_uri_encode(&q, w->upload_id.data, 0) == PA_OK) {
        snprintf(query, sizeof query, "%s", q.data);
        s3_req req = {.op = "PUT part", .method = "PUT", .key = w->key, .query = q.data,
                      .body = j->data, .body_len = j->len, .content_md5 = md5};
        j->rc = s3_request(w->s3, &req, &resp);
        if (j->rc == PA_OK && !resp.etag[0]) {
            where_of(w->s3, w->key, where, sizeof where);
            j->rc = err_set("PUT part %d of %s: the server returned no ETag", j->number, where);
        } else if (j->rc == PA_OK) {
            snprintf(j->etag, sizeof j->etag, "%s", resp.etag);
        } else if (j->rc != PA_ERR) {
            where_of(w->s3, w->key, where, sizeof where);
            j->rc = err_set("PUT part %d of %s: unexpected answer", j->number, where);
        }
    }
    if (j->rc != PA_OK)
        snprintf(j->err, sizeof j->err, "%s", err_msg());
    http_response_free(&resp);
    buf_free(&q);
    pthread_mutex_lock(&w->s3->inflight_lock);
    w->s3->inflight--;
    pthread_cond_broadcast(&w->s3->inflight_done);
    pthread_mutex_unlock(&w->s3->inflight_lock);
    return NULL;
}

/* Wait for the job in slot; record its ETag; PA_ERR (message set) if it failed. */
static int join_job(s3_writer *w, part_job *j)
{
    if (!j->number)
        return PA_OK;
    pthread_join(j->thread, NULL);
    int rc = j->rc;
    if (rc == PA_OK)
        snprintf(w->etags[j->number - 1], sizeof w->etags[0], "%s", j->etag);
    else
        err_set("%s", j->err);
    free(j->data); /* not kept for reuse: memory is (in flight + 1) parts, no more */
    j->data = NULL;
    j->number = 0;
    return rc;
}

static int start_multipart(s3_writer *w)
{
    http_response resp;
    http_response_init(&resp);
    s3_req req = {.op = "start multipart upload", .method = "POST", .key = w->key,
                  .query = "uploads="};
    upload_headers(w, &req);
    int rc = s3_request(w->s3, &req, &resp);
    if (rc == PA_OK)
        rc = s3_xml_parse_upload_id(resp.body.data, resp.body.len, &w->upload_id);
    else if (rc != PA_ERR)
        rc = err_set("start multipart upload s3://%s/%s: unexpected answer", w->s3->loc.bucket,
                     w->key);
    http_response_free(&resp);
    return rc;
}

/* Hand the filled buffer to an upload thread (waiting for a free slot). */
static int dispatch_part(s3_writer *w)
{
    if (w->parts >= MAX_PARTS) {
        char where[1200];
        where_of(w->s3, w->key, where, sizeof where);
        return err_set("%s: object too large for %d parts of %zu bytes; raise "
                       "PGATTEST_S3_PART_SIZE",
                       where, MAX_PARTS, w->cap);
    }
    if (!w->upload_id.len && start_multipart(w) != PA_OK)
        return PA_ERR;
    part_job *j = &w->jobs[w->parts % w->s3->concurrency];
    if (join_job(w, j) != PA_OK)
        return PA_ERR;
    if ((size_t)w->parts >= w->etags_cap) {
        size_t cap = w->etags_cap ? w->etags_cap * 2 : 64;
        void *p = realloc(w->etags, cap * sizeof *w->etags);
        if (!p)
            return err_set("out of memory");
        w->etags = p;
        w->etags_cap = cap;
    }
    /* Wait for a slot in the handle-wide budget; uploads finish on their own threads, so
     * this always makes progress. */
    pthread_mutex_lock(&w->s3->inflight_lock);
    while (w->s3->inflight >= w->s3->concurrency)
        pthread_cond_wait(&w->s3->inflight_done, &w->s3->inflight_lock);
    w->s3->inflight++;
    pthread_mutex_unlock(&w->s3->inflight_lock);
    j->w = w;
    j->number = ++w->parts;
    j->data = w->data;
    j->len = w->len;
    j->rc = PA_ERR;
    j->err[0] = '\0';
    w->data = NULL;
    w->len = 0;
    if (pthread_create(&j->thread, NULL, part_thread, j) != 0) {
        /* run it here instead */
        part_thread(j);
        int rc = j->rc;
        if (rc == PA_OK)
            snprintf(w->etags[j->number - 1], sizeof w->etags[0], "%s", j->etag);
        else
            err_set("%s", j->err);
        w->data = j->data;
        j->data = NULL;
        j->number = 0;
        if (rc != PA_OK)
            return rc;
    }
    if (!w->data && !(w->data = malloc(w->cap)))
        return err_set("out of memory (upload buffer of %zu bytes)", w->cap);
    return PA_OK;
}

static int s3_writer_write(sink *s, const void *data, size_t len)
{
    s3_writer *w = (s3_writer *)s;
    const char *p = data;
    while (len > 0) {
        if (w->len == w->cap && dispatch_part(w) != PA_OK)
            return PA_ERR;
        size_t n = w->cap - w->len < len ? w->cap - w->len : len;
        memcpy(w->data + w->len, p, n);
        w->len += n;
        w->total += n;
        p += n;
        len -= n;
    }
    return PA_OK;
}

/* PA_EXISTS when the key is already there, PA_OK when not. */
static int check_absent(s3_writer *w)
{
    http_response resp;
    http_response_init(&resp);
    int rc = head(w->s3, w->key, &resp);
    http_response_free(&resp);
    if (rc == PA_OK)
        return PA_EXISTS;
    return rc == PA_NOT_FOUND ? PA_OK : rc;
}

static int verify_size(s3_writer *w)
{
    http_response resp;
    http_response_init(&resp);
    int rc = head(w->s3, w->key, &resp);
    char where[1200];
    where_of(w->s3, w->key, where, sizeof where);
    if (rc == PA_NOT_FOUND)
        rc = err_set("%s: not found right after it was stored", where);
    else if (rc == PA_OK && (!resp.has_content_length || resp.content_length != w->total))
        rc = err_set("%s: the server stored %" PRIu64 " bytes, %" PRIu64 " were sent", where,
                     resp.content_length, w->total);
    http_response_free(&resp);
    return rc;
}

static int finish_single(s3_writer *w)
{
    char md5[25], md5hex[33], etag[130], where[1200];
    http_response resp;
    http_response_init(&resp);
    s3_md5(w->data, w->len, md5, md5hex);
    s3_req req = {.op = "PUT", .method = "PUT", .key = w->key, .body = w->data,
                  .body_len = w->len, .content_md5 = md5,
                  .if_none_match = (w->flags & STORAGE_NO_OVERWRITE) && w->s3->conditional_put};
    upload_headers(w, &req);
    int rc = s3_request(w->s3, &req, &resp);
    if (rc == PA_OK) {
        w->completed = 1;
        if (w->flags & STORAGE_VERIFY) {
            strip_quotes(resp.etag, etag, sizeof etag);
            if (strcasecmp(etag, md5hex) != 0) {
                /* Not an MD5 ETag (SSE-KMS, some S3-compatible stores): check the size. */
                log_verbose("s3://%s/%s: ETag is not the MD5 of the content; checking the size",
                            w->s3->loc.bucket, w->key);
                rc = verify_size(w);
            }
        }
    } else if (rc == PA_NOT_FOUND) {
        where_of(w->s3, w->key, where, sizeof where);
        rc = err_set("PUT %s: unexpected 404", where);
    }
    http_response_free(&resp);
    return rc;
}

static int finish_multipart(s3_writer *w)
{
    int rc = PA_OK;
    if (w->len > 0)
        rc = dispatch_part(w);
    for (int i = 0; i < w->s3->concurrency; i++) {
        int r = join_job(w, &w->jobs[i]);
        if (rc == PA_OK)
            rc = r;
    }
    if (rc != PA_OK)
        return rc;
    buf body, q;
    buf_init(&body, 8 * 1024 * 1024);
    buf_init(&q, 4096);
    http_response resp;
    http_response_init(&resp);
    rc = PA_ERR;
    if (buf_append_str(&body, "<CompleteMultipartUpload>") != PA_OK)
        goto out;
    for (int i = 0; i < w->parts; i++) {
        if (buf_appendf(&body, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1) != PA_OK ||
            s3_xml_escape(&body, w->etags[i]) != PA_OK ||
            buf_append_str(&body, "</ETag></Part>") != PA_OK)
            goto out;
    }
    if (buf_append_str(&body, "</CompleteMultipartUpload>") != PA_OK ||
        buf_append_str(&q, "uploadId=") != PA_OK || s3_uri_encode(&q, w->upload_id.data, 0) != PA_OK)
        goto out;
    if ((w->flags & STORAGE_NO_OVERWRITE) && (rc = check_absent(w)) != PA_OK)
        goto out;
    rc = PA_ERR;
    s3_req req = {.op = "complete multipart upload", .method = "POST", .key = w->key,
                  .query = q.data, .body = body.data, .body_len = body.len,
                  .if_none_match = (w->flags & STORAGE_NO_OVERWRITE) && w->s3->conditional_put,
                  .extra = {{"Content-Type", "application/xml"}}, .max_body = 1024 * 1024};
    rc = s3_request(w->s3, &req, &resp);
    if (rc == PA_ERR && strstr(err_msg(), "NoSuchUpload")) {
        /* A retried complete whose first attempt succeeded (the answer was lost) finds the
         * upload gone: the object is there if it has our size. */
        char first[ERR_MSG_MAX];
        snprintf(first, sizeof first, "%s", err_msg());
        if (verify_size(w) == PA_OK) {
            w->completed = 1;
            rc = PA_OK;
        } else {
            err_set("%s", first);
        }
        goto out;
    }
    if (rc == PA_OK) {
        /* CompleteMultipartUpload may fail after a 200 status: the error is in the body. */
        s3_error e;
        if (s3_xml_parse_error(resp.body.data, resp.body.len, &e)) {
            char where[1200];
            where_of(w->s3, w->key, where, sizeof where);
            rc = s3_error_report("complete multipart upload", where, w->s3->loc.bucket, 200, &e,
                                 w->s3->loc.region, "");
            goto out;
        }
        w->completed = 1;
        if (w->flags & STORAGE_VERIFY)
            rc = verify_size(w);
    } else if (rc != PA_ERR) {
        rc = err_set("complete multipart upload s3://%s/%s: unexpected answer",
                     w->s3->loc.bucket, w->key);
    }
out:
    http_response_free(&resp);
    buf_free(&body);
    buf_free(&q);
    return rc;
}

static int s3_writer_finish(sink *s)
{
    s3_writer *w = (s3_writer *)s;
    if (w->completed)
        return PA_OK;
    if (!w->upload_id.len) {
        if (w->flags & STORAGE_NO_OVERWRITE) {
            int rc = check_absent(w);
            if (rc != PA_OK)
                return rc;
        }
        return finish_single(w);
    }
    return finish_multipart(w);
}

static void abort_upload(s3_writer *w)
{
    buf q;
    buf_init(&q, 4096);
    http_response resp;
    http_response_init(&resp);
    if (buf_append_str(&q, "uploadId=") == PA_OK && s3_uri_encode(&q, w->upload_id.data, 0) == PA_OK) {
        s3_req req = {.op = "abort multipart upload", .method = "DELETE", .key = w->key,
                      .query = q.data};
        char saved[ERR_MSG_MAX];
        snprintf(saved, sizeof saved, "%s", err_msg());
        if (s3_request(w->s3, &req, &resp) != PA_OK)
            log_verbose("%s (the incomplete upload stays until a lifecycle rule removes it)",
                        err_msg());
        err_set("%s", saved); /* keep the failure that made us abort */
        if (!saved[0])
            err_clear();
    }
    http_response_free(&resp);
    buf_free(&q);
}

static void s3_writer_destroy(sink *s)
{
    s3_writer *w = (s3_writer *)s;
    char saved[ERR_MSG_MAX];
    snprintf(saved, sizeof saved, "%s", err_msg());
    for (int i = 0; i < MAX_CONCURRENCY; i++)
        if (w->jobs[i].number)
            join_job(w, &w->jobs[i]);
    if (w->upload_id.len && !w->completed)
        abort_upload(w);
    err_set("%s", saved);
    if (!saved[0])
        err_clear();
    buf_free(&w->upload_id);
    free(w->etags);
    free(w->data);
    free(w->key);
    free(w);
}

static const sink_ops s3_writer_ops = {"s3-writer", s3_writer_write, s3_writer_finish,
                                       s3_writer_destroy};

static int s3_open_write(storage *st, const char *key, unsigned flags, sink **out)
{
    s3_storage *s3 = (s3_storage *)st;
    *out = NULL;
    s3_writer *w = calloc(1, sizeof *w);
    if (!w)
        return err_set("out of memory");
    w->base.ops = &s3_writer_ops;
    w->s3 = s3;
    w->flags = flags;
    w->cap = s3->part_size;
    buf_init(&w->upload_id, 4096);
    if (!(w->key = full_key(s3, key)))
        goto fail;
    /* One part's worth of address space; pages are touched only as bytes arrive, so a small
     * object (a compressed WAL segment) costs only its size. */
    if (!(w->data = malloc(w->cap))) {
        err_set("out of memory (upload buffer of %zu bytes)", w->cap);
        goto fail;
    }
    *out = &w->base;
    return PA_OK;
fail:
    s3_writer_destroy(&w->base);
    return PA_ERR;
}

/* ---------------- open / close ---------------- */

static void s3_close(storage *st)
{
    s3_storage *s3 = (s3_storage *)st;
    pthread_mutex_destroy(&s3->inflight_lock);
    pthread_cond_destroy(&s3->inflight_done);
    http_pool_destroy(&s3->pool);
    aws_credentials_provider_free(s3->creds);
    free(s3->base.url);
    free(s3);
}

static const storage_ops s3_ops = {"s3", s3_open_write, s3_read, s3_stat, s3_list, s3_remove,
                                   s3_close};

static storage *open_s3(const char *url, aws_credentials_provider *creds)
{
    s3_storage *s3 = calloc(1, sizeof *s3);
    if (!s3 || !(s3->base.url = strdup(url))) {
        free(s3);
        aws_credentials_provider_free(creds);
        err_set("out of memory");
        return NULL;
    }
    s3->base.ops = &s3_ops;
    s3->creds = creds; /* NULL: the environment's, found below */
    pthread_mutex_init(&s3->inflight_lock, NULL);
    pthread_cond_init(&s3->inflight_done, NULL);
    http_pool_init(&s3->pool);
    s3_xml_init();
    uint64_t part, conc, attempts, timeout, max_keys;
    const char *endpoint = getenv("AWS_ENDPOINT_URL_S3");
    if (!endpoint || !*endpoint)
        endpoint = getenv("AWS_ENDPOINT_URL");
    const char *ca = getenv("AWS_CA_BUNDLE");
    const char *acl = getenv("PGATTEST_S3_ACL");
    const char *cond = getenv("PGATTEST_S3_CONDITIONAL_PUT");
    if (s3_parse_repository_url(url, &s3->loc) != PA_OK)
        goto fail;
    aws_region_resolve(s3->loc.region, sizeof s3->loc.region);
    if (s3_set_endpoint(&s3->loc, endpoint, env_flag("AWS_S3_FORCE_PATH_STYLE")) != PA_OK ||
        env_size("PGATTEST_S3_PART_SIZE", DEFAULT_PART_SIZE, MIN_PART_SIZE, MAX_PART_SIZE, &part) ||
        env_size("PGATTEST_S3_UPLOAD_CONCURRENCY", 2, 1, MAX_CONCURRENCY, &conc) ||
        env_size("PGATTEST_S3_MAX_ATTEMPTS", 5, 1, 20, &attempts) ||
        env_size("PGATTEST_S3_TIMEOUT", 60, 1, 3600, &timeout) ||
        env_size("PGATTEST_S3_LIST_MAX_KEYS", 1000, 1, 1000, &max_keys))
        goto fail;
    s3->part_size = (size_t)part;
    s3->concurrency = (int)conc;
    s3->max_attempts = (int)attempts;
    s3->timeout = (long)timeout;
    s3->list_max_keys = (int)max_keys;
    s3->conditional_put = !(cond && (strcasecmp(cond, "false") == 0 || strcmp(cond, "0") == 0));
    if (ca && *ca) {
        if (strlen(ca) >= sizeof s3->ca_bundle) {
            err_set("AWS_CA_BUNDLE is too long");
            goto fail;
        }
        snprintf(s3->ca_bundle, sizeof s3->ca_bundle, "%s", ca);
    }
    if (acl && *acl) {
        static const char *const canned[] = {"private", "bucket-owner-read",
                                             "bucket-owner-full-control"};
        int ok = 0;
        for (size_t i = 0; i < sizeof canned / sizeof *canned; i++)
            ok |= strcmp(acl, canned[i]) == 0;
        if (!ok) {
            err_set("PGATTEST_S3_ACL=\"%s\": expected bucket-owner-full-control, "
                    "bucket-owner-read or private",
                    acl);
            goto fail;
        }
        snprintf(s3->acl, sizeof s3->acl, "%s", acl);
    }
    if (!s3->creds && !(s3->creds = aws_credentials_provider_new()))
        goto fail;
    log_verbose("repository %s: endpoint %s://%s%s, region %s, %s-style addressing", url,
                s3->loc.scheme, s3->loc.host, s3->loc.base_path, s3->loc.region,
                s3->loc.path_style ? "path" : "virtual-hosted");
    return &s3->base;
fail:
    err_prefix("repository \"%s\"", url);
    s3_close(&s3->base);
    return NULL;
}

storage *s3_storage_open(const char *url) { return open_s3(url, NULL); }

storage *s3_storage_open_with_credentials(const char *url, aws_credentials_provider *creds)
{
    if (!creds) {
        err_set("repository \"%s\": no credentials given", url);
        return NULL;
    }
    return open_s3(url, creds);
}

/* ---------------- raw API requests (s3_api.h) ---------------- */

bool storage_is_s3(const storage *st) { return st && st->ops == &s3_ops; }

const s3_location *s3_storage_location(const storage *st)
{
    return &((const s3_storage *)st)->loc;
}

void s3_api_answer_init(s3_api_answer *a)
{
    memset(a, 0, sizeof *a);
    buf_init(&a->body, 64 * 1024 * 1024);
}

void s3_api_answer_free(s3_api_answer *a) { buf_free(&a->body); }

int s3_api_request(storage *st, const s3_api_call *call, s3_api_answer *a)
{
    s3_storage *s3 = (s3_storage *)st;
    char *fkey = NULL;
    if (call->key && !(fkey = full_key(s3, call->key)))
        return PA_ERR;
    http_response resp;
    http_response_init(&resp);
    s3_req req = {.op = call->op, .method = call->method, .key = fkey, .query = call->query,
                  .body = call->body, .body_len = call->body_len,
                  .content_md5 = call->content_md5,
                  .max_body = call->max_body ? call->max_body : 1024 * 1024};
    int rc = s3_request(s3, &req, &resp);
    if (resp.status == 0) { /* no answer at all: s3_request's message says why */
        rc = PA_ERR;
        goto out;
    }
    a->status = resp.status;
    snprintf(a->version_id, sizeof a->version_id, "%s", resp.version_id);
    snprintf(a->bucket_region, sizeof a->bucket_region, "%s", resp.bucket_region);
    buf_reset(&a->body);
    if (resp.body.len && buf_append(&a->body, resp.body.data, resp.body.len) != PA_OK) {
        rc = PA_ERR;
        goto out;
    }
    a->code[0] = a->message[0] = '\0';
    if (resp.status < 200 || resp.status >= 300) {
        s3_error e;
        s3_xml_parse_error(resp.body.data, resp.body.len, &e);
        snprintf(a->code, sizeof a->code, "%s", e.code);
        snprintf(a->message, sizeof a->message, "%s", e.message);
    }
    err_clear();
    rc = PA_OK;
out:
    http_response_free(&resp);
    free(fkey);
    return rc;
}
