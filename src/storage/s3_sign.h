/*
 * s3_sign.h — AWS Signature Version 4 (header-based, single-chunk payload), done with
 * OpenSSL's HMAC-SHA256 so every byte that is signed is under our control and testable
 * against the AWS documentation examples.
 *
 * The caller supplies the request in canonical pieces: the URI path already encoded
 * (s3_uri_encode with keep_slash), the canonical query string (parameters sorted, names and
 * values encoded), the headers to sign (any case; they are lower-cased, trimmed and sorted
 * here) and the hex SHA-256 of the payload. The time is a parameter, so tests are
 * deterministic. Nothing here logs: secrets stay inside.
 */
#ifndef PGATTEST_STORAGE_S3_SIGN_H
#define PGATTEST_STORAGE_S3_SIGN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/buf.h"

#define S3_SIGN_MAX_HEADERS 16
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

typedef struct s3_header {
    const char *name;
    const char *value;
} s3_header;

typedef struct s3_sign_request {
    const char *method;          /* "GET" */
    const char *canonical_uri;   /* "/test%24file.text" */
    const char *canonical_query; /* "max-keys=2&prefix=J" or "" */
    const s3_header *headers;    /* every header to sign, host and x-amz-date included */
    size_t n_headers;
    const char *payload_sha256;  /* lower-case hex */
    const char *region;          /* "us-east-1" */
    const char *service;         /* "s3" */
    const char *amz_date;        /* "20130524T000000Z" */
    const char *access_key;
    const char *secret_key;
} s3_sign_request;

/* Optional intermediate results, for tests; each buffer is reset and filled when non-NULL. */
typedef struct s3_sign_debug {
    buf *canonical_request;
    buf *string_to_sign;
    buf *signed_headers;
    buf *signature;
} s3_sign_debug;

/* Fill `authorization` (reset first) with the Authorization header value. PA_OK or PA_ERR. */
int s3_sign(const s3_sign_request *req, buf *authorization, s3_sign_debug *debug);

/* Append s percent-encoded as SigV4 wants: unreserved characters (A-Z a-z 0-9 - . _ ~) kept,
 * '/' kept when keep_slash, everything else %XX upper-case. */
int s3_uri_encode(buf *out, const char *s, int keep_slash);

/* "YYYYMMDDTHHMMSSZ" (17 bytes with NUL) for t in UTC. */
void s3_amz_date(time_t t, char out[17]);

/* Lower-case hex SHA-256 of data (65 bytes with NUL). */
void s3_sha256_hex(const void *data, size_t len, char out[65]);
/* Base64 of the MD5 of data (25 bytes with NUL) and its lower-case hex (33 bytes). Either
 * output may be NULL. */
void s3_md5(const void *data, size_t len, char b64[25], char hex[33]);

#endif
