/*
 * s3_xml.c — S3 XML responses and requests (see s3_xml.h).
 */
#include "storage/s3_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "storage/http.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
    xmlInitParser();
}

void s3_xml_init(void)
{
    pthread_once(&xml_once, xml_init_once);
}

static void silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static xmlDocPtr parse(const char *body, size_t len)
{
    s3_xml_init();
    if (!body || len == 0 || len > (size_t)INT32_MAX)
        return NULL;
    xmlSetGenericErrorFunc(NULL, silent);
    return xmlReadMemory(body, (int)len, "response.xml", NULL,
                         XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Text of n copied into out (one line: control characters become spaces). */
static void text_into(const xmlNode *n, char *out, size_t cap)
{
    xmlChar *t = xmlNodeGetContent(n);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
    xmlFree(t);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
    for (const xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (is(c, name))
            return c;
    return NULL;
}

static void fill_error(const xmlNode *err, s3_error *e)
{
    const xmlNode *c;
    if ((c = child(err, "Code")))
        text_into(c, e->code, sizeof e->code);
    if ((c = child(err, "Message")))
        text_into(c, e->message, sizeof e->message);
    if ((c = child(err, "Region")))
        text_into(c, e->region, sizeof e->region);
    if ((c = child(err, "Endpoint")))
        text_into(c, e->endpoint, sizeof e->endpoint);
}

int s3_xml_parse_error(const char *body, size_t len, s3_error *e)
{
    memset(e, 0, sizeof *e);
    xmlDocPtr doc = parse(body, len);
    if (!doc)
        return 0;
    const xmlNode *root = xmlDocGetRootElement(doc);
    int found = 0;
    if (root && is(root, "Error")) {
        fill_error(root, e);
        found = e->code[0] != '\0';
    }
    xmlFreeDoc(doc);
    return found;
}

int s3_xml_parse_list_page(const char *body, size_t len, s3_list_item_fn fn, void *arg,
                           int *truncated, buf *next_token)
{
    *truncated = 0;
    buf_reset(next_token);
    xmlDocPtr doc = parse(body, len);
    if (!doc)
        return err_set("malformed ListObjectsV2 response (not XML)");
    int rc = PA_OK;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is(root, "ListBucketResult")) {
        rc = err_set("unexpected ListObjectsV2 response (root element <%s>)",
                     root ? (const char *)root->name : "none");
        goto out;
    }
    for (const xmlNode *c = root->children; c && rc == PA_OK; c = c->next) {
        if (is(c, "IsTruncated")) {
            char v[16];
            text_into(c, v, sizeof v);
            *truncated = strcmp(v, "true") == 0;
        } else if (is(c, "NextContinuationToken")) {
            xmlChar *t = xmlNodeGetContent(c);
            rc = buf_append_str(next_token, t ? (const char *)t : "");
            xmlFree(t);
        } else if (is(c, "Contents")) {
            const xmlNode *k = child(c, "Key"), *s = child(c, "Size");
            const xmlNode *m = child(c, "LastModified"), *et = child(c, "ETag");
            if (!k || !s) {
                rc = err_set("malformed ListObjectsV2 response (<Contents> without Key or Size)");
                break;
            }
            xmlChar *key = xmlNodeGetContent(k);
            char size[32] = "", mtime[64] = "", etag[130] = "";
            text_into(s, size, sizeof size);
            if (m)
                text_into(m, mtime, sizeof mtime);
            if (et)
                text_into(et, etag, sizeof etag);
            char *e = etag;
            size_t el = strlen(e);
            if (el >= 2 && e[0] == '"' && e[el - 1] == '"') {
                e[el - 1] = '\0';
                e++;
            }
            char *endp;
            s3_list_item item = {key ? (const char *)key : "", strtoull(size, &endp, 10), 0, e};
            if (!*size || *endp) {
                xmlFree(key);
                rc = err_set("malformed ListObjectsV2 response (size \"%s\")", size);
                break;
            }
            int64_t t = *mtime ? http_parse_date(mtime) : 0;
            item.mtime = t > 0 ? t : 0;
            rc = fn(arg, &item);
            xmlFree(key);
        }
    }
    if (rc == PA_OK && *truncated && next_token->len == 0)
        rc = err_set("malformed ListObjectsV2 response (truncated without a continuation token)");
out:
    xmlFreeDoc(doc);
    return rc;
}

int s3_xml_parse_upload_id(const char *body, size_t len, buf *upload_id)
{
    buf_reset(upload_id);
    xmlDocPtr doc = parse(body, len);
    if (!doc)
        return err_set("malformed InitiateMultipartUpload response (not XML)");
    int rc = PA_ERR;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *id = root && is(root, "InitiateMultipartUploadResult") ? child(root, "UploadId")
                                                                          : NULL;
    if (!id) {
        err_set("unexpected InitiateMultipartUpload response (no UploadId)");
    } else {
        xmlChar *t = xmlNodeGetContent(id);
        if (t && *t)
            rc = buf_append_str(upload_id, (const char *)t);
        else
            err_set("unexpected InitiateMultipartUpload response (empty UploadId)");
        xmlFree(t);
    }
    xmlFreeDoc(doc);
    return rc;
}

int s3_xml_parse_delete_result(const char *body, size_t len, s3_error *e, buf *failed_key)
{
    memset(e, 0, sizeof *e);
    buf_reset(failed_key);
    if (len == 0)
        return PA_OK; /* quiet mode, nothing to report */
    xmlDocPtr doc = parse(body, len);
    if (!doc) {
        snprintf(e->code, sizeof e->code, "MalformedResponse");
        snprintf(e->message, sizeof e->message, "DeleteObjects response is not XML");
        return PA_ERR;
    }
    int rc = PA_OK;
    const xmlNode *root = xmlDocGetRootElement(doc);
    if (root && is(root, "Error")) {
        fill_error(root, e);
        rc = PA_ERR;
    } else if (root && is(root, "DeleteResult")) {
        for (const xmlNode *c = root->children; c; c = c->next) {
            if (is(c, "Error")) {
                fill_error(c, e);
                const xmlNode *k = child(c, "Key");
                if (k) {
                    xmlChar *t = xmlNodeGetContent(k);
                    buf_append_str(failed_key, t ? (const char *)t : "");
                    xmlFree(t);
                }
                rc = PA_ERR;
                break;
            }
        }
    } else {
        snprintf(e->code, sizeof e->code, "MalformedResponse");
        snprintf(e->message, sizeof e->message, "unexpected DeleteObjects response");
        rc = PA_ERR;
    }
    xmlFreeDoc(doc);
    return rc;
}

int s3_xml_escape(buf *out, const char *s)
{
    for (; *s; s++) {
        const char *r = NULL;
        switch (*s) {
        case '&': r = "&amp;"; break;
        case '<': r = "&lt;"; break;
        case '>': r = "&gt;"; break;
        case '"': r = "&quot;"; break;
        case '\'': r = "&apos;"; break;
        default: break;
        }
        if (r ? buf_append_str(out, r) : buf_append(out, s, 1))
            return PA_ERR;
    }
    return PA_OK;
}

int s3_error_report(const char *op, const char *where, const char *bucket, long status,
                    const s3_error *e, const char *region, const char *bucket_region)
{
    const char *code = e->code;
    const char *msg = e->message[0] ? e->message : "";
    const char *other_region = bucket_region && *bucket_region ? bucket_region : e->region;
    if (strcmp(code, "AccessDenied") == 0 || (!*code && status == 403)) {
        int read = strcmp(op, "GET") == 0 || strcmp(op, "HEAD") == 0;
        return err_set("%s %s: access denied (HTTP 403%s%s): the credential is not allowed to do "
                       "this; check its IAM/bucket policy%s",
                       op, where, *code ? " " : "", code,
                       read ? " (without s3:ListBucket, S3 also answers 403 for a missing key)"
                            : "");
    }
    if (strcmp(code, "NoSuchBucket") == 0)
        return err_set("%s %s: bucket \"%s\" does not exist (NoSuchBucket); check the "
                       "repository prefix and AWS_ENDPOINT_URL",
                       op, where, bucket);
    if (strcmp(code, "SignatureDoesNotMatch") == 0)
        return err_set("%s %s: the server rejected our request signature "
                       "(SignatureDoesNotMatch); check AWS_SECRET_ACCESS_KEY and that the system "
                       "clock is right",
                       op, where);
    if (strcmp(code, "InvalidAccessKeyId") == 0)
        return err_set("%s %s: the server does not know this access key (InvalidAccessKeyId); "
                       "check AWS_ACCESS_KEY_ID",
                       op, where);
    if (strcmp(code, "RequestTimeTooSkewed") == 0)
        return err_set("%s %s: the system clock differs too much from the server's "
                       "(RequestTimeTooSkewed); fix the clock (NTP)",
                       op, where);
    if (strcmp(code, "PermanentRedirect") == 0 || strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
        strcmp(code, "IllegalLocationConstraintException") == 0 || status == 301 ||
        (other_region && *other_region && strcmp(other_region, region) != 0 &&
         (status == 400 || status == 301))) {
        if (other_region && *other_region)
            return err_set("%s %s: bucket \"%s\" is in region %s, not %s (%s); set "
                           "AWS_REGION=%s",
                           op, where, bucket, other_region, region, *code ? code : "redirect",
                           other_region);
        return err_set("%s %s: bucket \"%s\" is not in region %s (%s%s%s); set AWS_REGION to "
                       "the bucket's region",
                       op, where, bucket, region, *code ? code : "redirect",
                       e->endpoint[0] ? ", endpoint " : "", e->endpoint);
    }
    if (strcmp(code, "InvalidToken") == 0 || strcmp(code, "ExpiredToken") == 0 ||
        strcmp(code, "TokenRefreshRequired") == 0)
        return err_set("%s %s: the session token was rejected (%s); check AWS_SESSION_TOKEN or "
                       "refresh the credentials",
                       op, where, code);
    if (*code)
        return err_set("%s %s: HTTP %ld %s%s%s", op, where, status, code, *msg ? ": " : "", msg);
    return err_set("%s %s: HTTP %ld from the server", op, where, status);
}
