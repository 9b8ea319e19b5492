/*
 * s3_url.h — where an S3 request goes: the s3://bucket/prefix repository URL, the endpoint
 * (AWS_ENDPOINT_URL or AWS's regional one), path- or virtual-hosted-style addressing, and
 * the URL, Host header and canonical URI of one request.
 *
 * Addressing: path-style ("host/bucket/key") when AWS_S3_FORCE_PATH_STYLE=true, when the
 * endpoint host is an IP address or localhost, or when an https bucket name contains a dot
 * (the wildcard certificate cannot match it); virtual-hosted ("bucket.host/key") otherwise.
 */
#ifndef PGATTEST_STORAGE_S3_URL_H
#define PGATTEST_STORAGE_S3_URL_H

#include "common/buf.h"

typedef struct s3_location {
    char bucket[64];
    char prefix[1024];  /* "" or "path/" (no leading slash, one trailing slash) */
    char scheme[8];     /* "https" or "http" */
    char host[256];     /* endpoint host[:port] as the Host header wants it */
    char base_path[256];/* endpoint path ("" or "/something", no trailing slash) */
    char region[64];
    int path_style;
} s3_location;

/* Parse "s3://bucket[/prefix]" into loc->bucket and loc->prefix. PA_OK or PA_ERR. */
int s3_parse_repository_url(const char *url, s3_location *loc);

/* Set scheme/host/base_path/path_style from an endpoint URL ("http://127.0.0.1:7480"), or
 * from AWS's endpoint for loc->region when endpoint is NULL or empty. force_path_style is
 * the parsed AWS_S3_FORCE_PATH_STYLE. loc->bucket and loc->region must be set. */
int s3_set_endpoint(s3_location *loc, const char *endpoint, int force_path_style);

/* Build the pieces of one request. key is the full object key (prefix included) or NULL for
 * the bucket itself; query is the canonical query string or NULL. Buffers are reset and
 * filled: url (for curl), host (Host header, signed), canonical_uri (signed). */
int s3_build_request_url(const s3_location *loc, const char *key, const char *query, buf *url,
                         buf *host, buf *canonical_uri);

#endif
