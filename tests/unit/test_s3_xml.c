/* S3 XML: error documents (AWS and radosgw forms), ListObjectsV2 pages, multipart and
 * multi-object delete responses, and the one-line messages made from errors. */
#include "common/buf.h"
#include "common/error.h"
#include "storage/s3_xml.h"
#include "test.h"

#define PARSE_ERR(xml, e) s3_xml_parse_error((xml), strlen(xml), (e))

static void test_error_aws(void)
{
    s3_error e;
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                    "<Message>The resource you requested does not exist</Message>"
                    "<Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9"
                    "</RequestId></Error>";
    CHECK_EQ_INT(PARSE_ERR(x, &e), 1);
    CHECK_STR(e.code, "NoSuchKey");
    CHECK_STR(e.message, "The resource you requested does not exist");
}

static void test_error_radosgw(void)
{
    s3_error e;
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code>"
                    "<BucketName>nobucket</BucketName><RequestId>tx0000</RequestId>"
                    "<HostId>1-default-default</HostId></Error>";
    CHECK_EQ_INT(PARSE_ERR(x, &e), 1);
    CHECK_STR(e.code, "NoSuchBucket");
    CHECK_STR(e.message, "");
}

static void test_error_redirect_region(void)
{
    s3_error e;
    const char *x = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization "
                    "header is malformed; the region 'us-east-1' is wrong; expecting "
                    "'eu-west-1'</Message><Region>eu-west-1</Region></Error>";
    CHECK_EQ_INT(PARSE_ERR(x, &e), 1);
    CHECK_STR(e.region, "eu-west-1");
    s3_error_report("GET", "s3://b/k", "b", 400, &e, "us-east-1", "");
    CHECK_CONTAINS(err_msg(), "bucket \"b\" is in region eu-west-1, not us-east-1");
    CHECK_CONTAINS(err_msg(), "AWS_REGION=eu-west-1");
    /* PermanentRedirect with the region only in x-amz-bucket-region */
    const char *y = "<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting "
                    "to access must be addressed using the specified endpoint.</Message>"
                    "<Endpoint>b.s3.eu-central-1.amazonaws.com</Endpoint></Error>";
    CHECK_EQ_INT(PARSE_ERR(y, &e), 1);
    s3_error_report("PUT", "s3://b/k", "b", 301, &e, "us-east-1", "eu-central-1");
    CHECK_CONTAINS(err_msg(), "is in region eu-central-1");
    /* A HEAD 301 has no body: the header alone is enough */
    memset(&e, 0, sizeof e);
    s3_error_report("HEAD", "s3://b/k", "b", 301, &e, "us-east-1", "ap-south-1");
    CHECK_CONTAINS(err_msg(), "AWS_REGION=ap-south-1");
}

static void test_error_not_an_error(void)
{
    s3_error e;
    CHECK_EQ_INT(PARSE_ERR("", &e), 0);
    CHECK_EQ_INT(PARSE_ERR("<html><body>502 Bad Gateway</body></html>", &e), 0);
    CHECK_EQ_INT(PARSE_ERR("<Error><Code>", &e), 0); /* truncated */
    CHECK_EQ_INT(PARSE_ERR("not xml at all", &e), 0);
    CHECK_EQ_INT(PARSE_ERR("<Error><Message>x</Message></Error>", &e), 0); /* no code */
    /* entities are not expanded, nothing is fetched */
    const char *xxe = "<?xml version=\"1.0\"?><!DOCTYPE Error [<!ENTITY x SYSTEM "
                      "\"file:///etc/passwd\">]><Error><Code>&x;</Code></Error>";
    PARSE_ERR(xxe, &e);
    CHECK(strstr(e.code, "root:") == NULL);
}

static void test_error_messages(void)
{
    s3_error e;
    PARSE_ERR("<Error><Code>SignatureDoesNotMatch</Code><Message>line one\nline two</Message>"
              "</Error>", &e);
    CHECK(strchr(e.message, '\n') == NULL);
    s3_error_report("PUT", "s3://b/wal_005/x.lzo", "b", 403, &e, "us-east-1", "");
    CHECK_CONTAINS(err_msg(), "PUT s3://b/wal_005/x.lzo");
    CHECK_CONTAINS(err_msg(), "SignatureDoesNotMatch");
    CHECK_CONTAINS(err_msg(), "AWS_SECRET_ACCESS_KEY");
    CHECK_CONTAINS(err_msg(), "clock");
    PARSE_ERR("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>", &e);
    s3_error_report("delete", "s3://b/k", "b", 403, &e, "us-east-1", "");
    CHECK_CONTAINS(err_msg(), "delete s3://b/k: access denied");
    PARSE_ERR("<Error><Code>NoSuchBucket</Code></Error>", &e);
    s3_error_report("GET", "s3://nob/k", "nob", 404, &e, "us-east-1", "");
    CHECK_CONTAINS(err_msg(), "bucket \"nob\" does not exist (NoSuchBucket)");
    PARSE_ERR("<Error><Code>RequestTimeTooSkewed</Code></Error>", &e);
    s3_error_report("GET", "s3://b/k", "b", 403, &e, "us-east-1", "");
    CHECK_CONTAINS(err_msg(), "clock");
    CHECK_CONTAINS(err_msg(), "RequestTimeTooSkewed");
    memset(&e, 0, sizeof e);
    s3_error_report("HEAD", "s3://b/k", "b", 403, &e, "us-east-1", "");
    CHECK_CONTAINS(err_msg(), "access denied");
    PARSE_ERR("<Error><Code>InternalError</Code><Message>We encountered an internal error."
              "</Message></Error>", &e);
    s3_error_report("GET", "s3://b/k", "b", 500, &e, "us-east-1", "");
    CHECK_STR(err_msg(), "GET s3://b/k: HTTP 500 InternalError: We encountered an internal error.");
}

typedef struct seen {
    int n;
    char keys[4][64];
    uint64_t sizes[4];
    int64_t mtimes[4];
    char etags[4][40];
} seen;

static int collect(void *arg, const s3_list_item *it)
{
    seen *s = arg;
    if (s->n < 4) {
        snprintf(s->keys[s->n], sizeof s->keys[0], "%s", it->key);
        s->sizes[s->n] = it->size;
        s->mtimes[s->n] = it->mtime;
        snprintf(s->etags[s->n], sizeof s->etags[0], "%s", it->etag);
    }
    s->n++;
    return PA_OK;
}

static void test_list_page(void)
{
    const char *x =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<Name>bucket</Name><Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
        "<IsTruncated>true</IsTruncated><Contents><Key>p/a&amp;b.lzo</Key>"
        "<LastModified>2009-10-12T17:50:30.000Z</LastModified>"
        "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
        "<StorageClass>STANDARD</StorageClass></Contents><Contents><Key>p/c</Key>"
        "<LastModified>2009-10-12T17:50:31.000Z</LastModified><ETag>\"x-2\"</ETag>"
        "<Size>0</Size></Contents>"
        "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
        "</ListBucketResult>";
    seen s = {0};
    int truncated = 0;
    buf tok;
    buf_init(&tok, 1024);
    CHECK_EQ_INT(s3_xml_parse_list_page(x, strlen(x), collect, &s, &truncated, &tok), PA_OK);
    CHECK_EQ_INT(s.n, 2);
    CHECK_STR(s.keys[0], "p/a&b.lzo");
    CHECK_EQ_INT(s.sizes[0], 434234);
    CHECK_EQ_INT(s.mtimes[0], 1255369830);
    CHECK_STR(s.etags[0], "fba9dede5f27731c9771645a39863328");
    CHECK_STR(s.keys[1], "p/c");
    CHECK_STR(s.etags[1], "x-2");
    CHECK_EQ_INT(truncated, 1);
    CHECK_STR(tok.data, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");

    const char *last = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    s.n = 0;
    CHECK_EQ_INT(s3_xml_parse_list_page(last, strlen(last), collect, &s, &truncated, &tok), PA_OK);
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_INT(truncated, 0);

    const char *bad = "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>";
    CHECK_EQ_INT(s3_xml_parse_list_page(bad, strlen(bad), collect, &s, &truncated, &tok), PA_ERR);
    CHECK_CONTAINS(err_msg(), "continuation token");
    const char *junk = "<ListBucketResult><Contents><Key>k</Key><Size>12x</Size></Contents>";
    CHECK_EQ_INT(s3_xml_parse_list_page(junk, strlen(junk), collect, &s, &truncated, &tok), PA_ERR);
    CHECK_EQ_INT(s3_xml_parse_list_page("<Error/>", 8, collect, &s, &truncated, &tok), PA_ERR);
    buf_free(&tok);
}

static int stop_at_first(void *arg, const s3_list_item *it)
{
    (void)it;
    (*(int *)arg)++;
    return PA_EXISTS;
}

static void test_list_stops(void)
{
    const char *x = "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></Contents>"
                    "<Contents><Key>b</Key><Size>1</Size></Contents></ListBucketResult>";
    int n = 0, truncated;
    buf tok;
    buf_init(&tok, 1024);
    CHECK_EQ_INT(s3_xml_parse_list_page(x, strlen(x), stop_at_first, &n, &truncated, &tok),
                 PA_EXISTS);
    CHECK_EQ_INT(n, 1);
    buf_free(&tok);
}

static void test_upload_id(void)
{
    buf id;
    buf_init(&id, 1024);
    const char *x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult "
                    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>k"
                    "</Key><UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA"
                    "</UploadId></InitiateMultipartUploadResult>";
    CHECK_EQ_INT(s3_xml_parse_upload_id(x, strlen(x), &id), PA_OK);
    CHECK_STR(id.data, "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");
    CHECK_EQ_INT(s3_xml_parse_upload_id("<x/>", 4, &id), PA_ERR);
    buf_free(&id);
}

static void test_delete_result(void)
{
    s3_error e;
    buf key;
    buf_init(&key, 1024);
    const char *ok = "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>";
    CHECK_EQ_INT(s3_xml_parse_delete_result(ok, strlen(ok), &e, &key), PA_OK);
    CHECK_EQ_INT(s3_xml_parse_delete_result("", 0, &e, &key), PA_OK);
    const char *partial = "<DeleteResult><Deleted><Key>a</Key></Deleted><Error><Key>p/b</Key>"
                          "<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
                          "</DeleteResult>";
    CHECK_EQ_INT(s3_xml_parse_delete_result(partial, strlen(partial), &e, &key), PA_ERR);
    CHECK_STR(e.code, "AccessDenied");
    CHECK_STR(key.data, "p/b");
    const char *whole = "<Error><Code>AccessDenied</Code></Error>"; /* radosgw: 403 */
    CHECK_EQ_INT(s3_xml_parse_delete_result(whole, strlen(whole), &e, &key), PA_ERR);
    CHECK_STR(e.code, "AccessDenied");
    buf_free(&key);
}

static void test_escape(void)
{
    buf b;
    buf_init(&b, 1024);
    CHECK_EQ_INT(s3_xml_escape(&b, "a<b>&\"c'"), PA_OK);
    CHECK_STR(b.data, "a&lt;b&gt;&amp;&quot;c&apos;");
    buf_free(&b);
}

static int count_items(void *arg, const s3_list_item *it)
{
    (*(size_t *)arg) += strlen(it->key) + (size_t)(it->size & 1);
    return PA_OK;
}

/* Mutated and truncated documents: every parser returns cleanly (sanitizers watch). */
static void test_mutations(void)
{
    static const char *const seeds[] = {
        "<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>p/a&amp;b</Key>"
        "<LastModified>2009-10-12T17:50:30.000Z</LastModified><ETag>\"x\"</ETag><Size>42</Size>"
        "</Contents><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>",
        "<Error><Code>AccessDenied</Code><Message>m</Message><Region>r</Region></Error>",
        "<DeleteResult><Error><Key>k</Key><Code>c</Code></Error></DeleteResult>",
        "<InitiateMultipartUploadResult><UploadId>u</UploadId></InitiateMultipartUploadResult>",
    };
    unsigned char doc[512];
    buf tok, id;
    buf_init(&tok, 1024);
    buf_init(&id, 1024);
    for (int round = 0; round < 4000; round++) {
        const char *seed = seeds[round % 4];
        size_t n = strlen(seed);
        memcpy(doc, seed, n);
        unsigned char rnd[8];
        test_random_bytes(rnd, sizeof rnd, (unsigned long long)round);
        for (int k = 0; k < (rnd[0] & 3) + 1; k++)
            doc[rnd[1 + k] % n] = (unsigned char)(k & 1 ? rnd[5] : "<>&/\"\0x"[rnd[6 + (k & 1)] % 8]);
        size_t len = rnd[4] & 1 ? n : (size_t)rnd[5] % n;
        s3_error e;
        size_t sum = 0;
        int truncated;
        s3_xml_parse_error((const char *)doc, len, &e);
        s3_xml_parse_list_page((const char *)doc, len, count_items, &sum, &truncated, &tok);
        s3_xml_parse_upload_id((const char *)doc, len, &id);
        s3_xml_parse_delete_result((const char *)doc, len, &e, &tok);
        CHECK(strlen(e.code) < sizeof e.code);
    }
    buf_free(&tok);
    buf_free(&id);
}

TEST_MAIN(TEST(test_mutations), TEST(test_error_aws), TEST(test_error_radosgw), TEST(test_error_redirect_region),
          TEST(test_error_not_an_error), TEST(test_error_messages), TEST(test_list_page),
          TEST(test_list_stops), TEST(test_upload_id), TEST(test_delete_result), TEST(test_escape))
