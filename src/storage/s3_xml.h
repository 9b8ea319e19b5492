/*
 * s3_xml.h — the S3 XML documents we read (errors, ListObjectsV2 pages, multipart and
 * multi-object delete responses) and write (CompleteMultipartUpload, Delete), with libxml2.
 *
 * Parsers take a response body (not necessarily NUL-terminated) and fill caller-owned
 * structs; they never fetch anything (no network, no entity expansion). Malformed XML is
 * PA_ERR with a one-line message.
 */
#ifndef PGATTEST_STORAGE_S3_XML_H
#define PGATTEST_STORAGE_S3_XML_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

void s3_xml_init(void); /* idempotent, thread-safe */

/* <Error><Code>..</Code><Message>..</Message><Region>/<Endpoint>..</Error> */
typedef struct s3_error {
    char code[64];
    char message[256];
    char region[64];   /* Region, when the server says where the bucket is */
    char endpoint[128];
} s3_error;

/* Returns 1 when body is an S3 error document (fields filled, text made one-line), else 0
 * (e is zeroed). */
int s3_xml_parse_error(const char *body, size_t len, s3_error *e);

/* One ListObjectsV2 page; fn is called for each <Contents> in document order. */
typedef struct s3_list_item {
    const char *key;   /* full key; valid during the callback */
    uint64_t size;
    int64_t mtime;
    const char *etag;  /* quotes removed */
} s3_list_item;
typedef int (*s3_list_item_fn)(void *arg, const s3_list_item *item);
/* *truncated and next_token (reset, filled when truncated) tell whether another page follows.
 * Stops with fn's result when fn returns non-PA_OK. */
int s3_xml_parse_list_page(const char *body, size_t len, s3_list_item_fn fn, void *arg,
                           int *truncated, buf *next_token);

/* InitiateMultipartUploadResult → UploadId (reset and filled). */
int s3_xml_parse_upload_id(const char *body, size_t len, buf *upload_id);

/* DeleteResult: returns PA_OK when it has no <Error>; otherwise fills e from the first error
 * (e->message gets the key) and returns PA_ERR without setting err_msg. */
int s3_xml_parse_delete_result(const char *body, size_t len, s3_error *e, buf *failed_key);

/* Append s with XML special characters escaped. */
int s3_xml_escape(buf *out, const char *s);

/* One-line message for a failed S3 request. op is the operation ("PUT", "GET", "list",
 * "delete"), where names the object (s3://bucket/key), region is what we signed for,
 * bucket_region the x-amz-bucket-region header ("" when absent). Sets err_msg; PA_ERR. */
int s3_error_report(const char *op, const char *where, const char *bucket, long status,
                    const s3_error *e, const char *region, const char *bucket_region);

#endif
