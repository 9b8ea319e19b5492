/*
 * s3_sign.c — AWS Signature Version 4 for S3 requests (see s3_sign.h).
 */
#include "storage/s3_sign.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/error.h"

static void to_hex(const unsigned char *d, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char d[SHA256_DIGEST_LENGTH];
    SHA256(data, len, d);
    to_hex(d, sizeof d, out);
}

void s3_md5(const void *data, size_t len, char b64[25], char hex[33])
{
    unsigned char d[16];
    unsigned int n = 0;
    EVP_Digest(data, len, d, &n, EVP_md5(), NULL);
    if (b64)
        EVP_EncodeBlock((unsigned char *)b64, d, 16);
    if (hex)
        to_hex(d, 16, hex);
}

void s3_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int s3_uri_encode(buf *out, const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
            if (buf_append(out, &c, 1) != 0)
                return PA_ERR;
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            if (buf_append(out, e, 3) != 0)
                return PA_ERR;
        }
    }
    return PA_OK;
}

static int hmac(const void *key, size_t key_len, const char *msg, unsigned char out[32])
{
    unsigned int n = 0;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, strlen(msg), out, &n) ||
        n != 32)
        return err_set("HMAC-SHA256 failed");
    return PA_OK;
}

typedef struct canon_header {
    char name[64];
    const char *value;
} canon_header;

static int compare_header(const void *a, const void *b)
{
    return strcmp(((const canon_header *)a)->name, ((const canon_header *)b)->name);
}

/* Header value as SigV4 wants it: leading/trailing blanks removed, inner runs squeezed. */
static int append_trimmed(buf *b, const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    int space = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            space = 1;
            continue;
        }
        if (space && buf_append(b, " ", 1) != 0)
            return PA_ERR;
        space = 0;
        if (buf_append(b, v, 1) != 0)
            return PA_ERR;
    }
    return PA_OK;
}

int s3_sign(const s3_sign_request *req, buf *authorization, s3_sign_debug *debug)
{
    int rc = PA_ERR;
    canon_header hs[S3_SIGN_MAX_HEADERS];
    buf creq, sts, signed_headers, key;
    buf_init(&creq, 64 * 1024);
    buf_init(&sts, 4096);
    buf_init(&signed_headers, 4096);
    buf_init(&key, 256);
    if (req->n_headers > S3_SIGN_MAX_HEADERS) {
        err_set("too many headers to sign");
        goto out;
    }
    for (size_t i = 0; i < req->n_headers; i++) {
        size_t n = strlen(req->headers[i].name);
        if (n >= sizeof hs[i].name) {
            err_set("header name too long to sign");
            goto out;
        }
        for (size_t j = 0; j <= n; j++)
            hs[i].name[j] = (char)tolower((unsigned char)req->headers[i].name[j]);
        hs[i].value = req->headers[i].value;
    }
    qsort(hs, req->n_headers, sizeof *hs, compare_header);

    /* Canonical request. */
    if (buf_appendf(&creq, "%s\n%s\n%s\n", req->method, req->canonical_uri,
                    req->canonical_query) != 0)
        goto out;
    for (size_t i = 0; i < req->n_headers; i++) {
        if (buf_appendf(&creq, "%s:", hs[i].name) != 0 || append_trimmed(&creq, hs[i].value) != 0 ||
            buf_append(&creq, "\n", 1) != 0)
            goto out;
        if (buf_appendf(&signed_headers, "%s%s", i ? ";" : "", hs[i].name) != 0)
            goto out;
    }
    if (buf_appendf(&creq, "\n%s\n%s", signed_headers.data ? signed_headers.data : "",
                    req->payload_sha256) != 0)
        goto out;

    /* String to sign. */
    char date[9];
    snprintf(date, sizeof date, "%.8s", req->amz_date);
    char creq_hash[65];
    s3_sha256_hex(creq.data, creq.len, creq_hash);
    if (buf_appendf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", req->amz_date, date,
                    req->region, req->service, creq_hash) != 0)
        goto out;

    /* Signing key: HMAC chain from "AWS4" + secret. */
    unsigned char k[32], sig[32];
    if (buf_appendf(&key, "AWS4%s", req->secret_key) != 0)
        goto out;
    if (hmac(key.data, key.len, date, k) != PA_OK || hmac(k, 32, req->region, k) != PA_OK ||
        hmac(k, 32, req->service, k) != PA_OK || hmac(k, 32, "aws4_request", k) != PA_OK ||
        hmac(k, 32, sts.data, sig) != PA_OK)
        goto out;
    char sig_hex[65];
    to_hex(sig, 32, sig_hex);

    buf_reset(authorization);
    if (buf_appendf(authorization,
                    "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request,SignedHeaders=%s,"
                    "Signature=%s",
                    req->access_key, date, req->region, req->service,
                    signed_headers.data ? signed_headers.data : "", sig_hex) != 0)
        goto out;
    if (debug) {
        if (debug->canonical_request) {
            buf_reset(debug->canonical_request);
            buf_append(debug->canonical_request, creq.data, creq.len);
        }
        if (debug->string_to_sign) {
            buf_reset(debug->string_to_sign);
            buf_append(debug->string_to_sign, sts.data, sts.len);
        }
        if (debug->signed_headers) {
            buf_reset(debug->signed_headers);
            buf_append_str(debug->signed_headers, signed_headers.data ? signed_headers.data : "");
        }
        if (debug->signature) {
            buf_reset(debug->signature);
            buf_append_str(debug->signature, sig_hex);
        }
    }
    OPENSSL_cleanse(k, sizeof k);
    rc = PA_OK;
out:
    if (key.data)
        OPENSSL_cleanse(key.data, key.len);
    buf_free(&key);
    buf_free(&creq);
    buf_free(&sts);
    buf_free(&signed_headers);
    return rc;
}
