/*
 * http.c — libcurl exchanges, handle pool and retry policy (see http.h).
 */
#include "storage/http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/error.h"

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_init(void)
{
    pthread_once(&global_once, global_init);
}

void http_response_init(http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    buf_init(&resp->body, 64 * 1024);
}

void http_response_free(http_response *resp)
{
    buf_free(&resp->body);
}

typedef struct exchange {
    CURL *h;
    const http_request *req;
    http_response *resp;
    int collect_error; /* body goes to resp->body */
} exchange;

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    exchange *x = arg;
    size_t len = size * n;
    char line[512];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, data, l);
    line[l] = '\0';
    while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == '\n'))
        line[--l] = '\0';
    if (strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100 Continue, redirects) */
        x->resp->etag[0] = '\0';
        x->resp->bucket_region[0] = '\0';
        x->resp->version_id[0] = '\0';
        x->resp->has_content_length = 0;
        x->resp->last_modified = 0;
        return len;
    }
    char *colon = strchr(line, ':');
    if (!colon)
        return len;
    *colon = '\0';
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strcasecmp(line, "etag") == 0)
        snprintf(x->resp->etag, sizeof x->resp->etag, "%s", v);
    else if (strcasecmp(line, "x-amz-bucket-region") == 0)
        snprintf(x->resp->bucket_region, sizeof x->resp->bucket_region, "%s", v);
    else if (strcasecmp(line, "x-amz-version-id") == 0)
        snprintf(x->resp->version_id, sizeof x->resp->version_id, "%s", v);
    else if (strcasecmp(line, "content-length") == 0) {
        x->resp->content_length = strtoull(v, NULL, 10);
        x->resp->has_content_length = 1;
    } else if (strcasecmp(line, "last-modified") == 0) {
        int64_t t = http_parse_date(v);
        x->resp->last_modified = t > 0 ? t : 0;
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    exchange *x = arg;
    size_t len = size * n;
    long status = 0;
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    if (x->req->out && status >= 200 && status < 300) {
        if (sink_write(x->req->out, data, len) != PA_OK) {
            x->resp->sink_failed = 1;
            return 0; /* abort the transfer; err_msg() keeps the sink's reason */
        }
        x->resp->delivered += len;
        return len;
    }
    /* Error bodies beyond the cap are cut (the message needs only the start); a collected
     * success body beyond the cap is an error. */
    if (x->resp->body.len + len > x->resp->body.max) {
        if (status >= 200 && status < 300) {
            err_set("response from %s is larger than %zu bytes", "the server", x->resp->body.max);
            x->resp->sink_failed = 1;
            return 0;
        }
        size_t room = x->resp->body.max - x->resp->body.len;
        if (room)
            buf_append(&x->resp->body, data, room);
        return len;
    }
    if (buf_append(&x->resp->body, data, len) != PA_OK) {
        x->resp->sink_failed = 1;
        return 0;
    }
    return len;
}

typedef struct upload {
    const char *data;
    size_t len, pos;
} upload;

static size_t on_read(char *dst, size_t size, size_t n, void *arg)
{
    upload *u = arg;
    size_t want = size * n, left = u->len - u->pos;
    if (want > left)
        want = left;
    memcpy(dst, u->data + u->pos, want);
    u->pos += want;
    return want;
}

static int on_seek(void *arg, curl_off_t offset, int origin)
{
    upload *u = arg;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > u->len)
        return CURL_SEEKFUNC_FAIL;
    u->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* The URL without its query string, for messages (queries may carry upload ids, never
 * secrets, but they make messages long). */
static void url_for_message(const char *url, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)strcspn(url, "?"), url);
}

int http_perform(void *curl_handle, const http_request *req, http_response *resp)
{
    CURL *h = curl_handle;
    exchange x = {h, req, resp, 0};
    upload up = {req->body, req->body_len, 0};
    struct curl_slist *headers = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    int rc = PA_ERR;

    resp->status = 0;
    resp->transport_error = 0;
    resp->sink_failed = 0;
    buf_reset(&resp->body);
    if (req->max_body)
        resp->body.max = req->max_body;

    curl_easy_reset(h);
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(headers, req->headers[i]);
        if (!n) {
            err_set("out of memory");
            goto out;
        }
        headers = n;
    }
    /* No "Expect: 100-continue" round trip; no default Accept or Content-Type. */
    static const char *const suppress[] = {"Expect:", "Accept:", "Content-Type:"};
    for (size_t i = 0; i < sizeof suppress / sizeof *suppress; i++) {
        int have = 0;
        for (size_t j = 0; j < req->n_headers; j++)
            if (strncasecmp(req->headers[j], suppress[i], strlen(suppress[i])) == 0)
                have = 1;
        if (have)
            continue;
        struct curl_slist *n = curl_slist_append(headers, suppress[i]);
        if (!n) {
            err_set("out of memory");
            goto out;
        }
        headers = n;
    }
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, req->connect_timeout > 0 ? req->connect_timeout : 10L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, req->stall_timeout > 0 ? req->stall_timeout : 60L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (req->ca_bundle)
        curl_easy_setopt(h, CURLOPT_CAINFO, req->ca_bundle);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, &up);
        curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(h, CURLOPT_SEEKDATA, &up);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    }

    CURLcode cc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    if (cc != CURLE_OK) {
        if (resp->sink_failed)
            goto out; /* message already set by the sink */
        resp->transport_error = (int)cc;
        char where[512];
        url_for_message(req->url, where, sizeof where);
        err_set("%s %s: %s", req->method, where, *errbuf ? errbuf : curl_easy_strerror(cc));
        goto out;
    }
    rc = PA_OK;
out:
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(headers);
    return rc;
}

int http_transport_error_retryable(int curl_code)
{
    switch ((CURLcode)curl_code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return 1;
    default:
        return 0;
    }
}

int http_status_retryable(long status, const char *code)
{
    if (status >= 500 || status == 408 || status == 429)
        return 1;
    if (code && (strcmp(code, "SlowDown") == 0 || strcmp(code, "RequestTimeout") == 0 ||
                 strcmp(code, "InternalError") == 0 || strcmp(code, "ServiceUnavailable") == 0))
        return 1;
    return 0;
}

static unsigned next_random(void)
{
    static _Thread_local unsigned state;
    if (!state) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = (unsigned)ts.tv_nsec ^ (unsigned)(uintptr_t)&state ^ 0x9e3779b9u;
        if (!state)
            state = 1;
    }
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

unsigned http_backoff_ms(int attempt, unsigned base_ms, unsigned cap_ms)
{
    unsigned long long limit = base_ms;
    for (int i = 0; i < attempt && limit < cap_ms; i++)
        limit *= 2;
    if (limit > cap_ms)
        limit = cap_ms;
    return limit ? next_random() % ((unsigned)limit + 1) : 0;
}

void http_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void http_pool_init(http_pool *p)
{
    http_global_init();
    pthread_mutex_init(&p->lock, NULL);
    p->n_free = 0;
}

void *http_pool_get(http_pool *p)
{
    void *h = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->n_free > 0)
        h = p->free_handles[--p->n_free];
    pthread_mutex_unlock(&p->lock);
    if (!h && !(h = curl_easy_init()))
        err_set("cannot create an HTTP client handle (curl_easy_init failed)");
    return h;
}

void http_pool_put(http_pool *p, void *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->n_free < HTTP_POOL_MAX) {
        p->free_handles[p->n_free++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (h)
        curl_easy_cleanup(h);
}

void http_pool_destroy(http_pool *p)
{
    for (int i = 0; i < p->n_free; i++)
        curl_easy_cleanup(p->free_handles[i]);
    p->n_free = 0;
    pthread_mutex_destroy(&p->lock);
}

int64_t http_parse_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);
    if (!end) {
        memset(&tm, 0, sizeof tm);
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    }
    if (!end)
        return -1;
    return (int64_t)timegm(&tm);
}
