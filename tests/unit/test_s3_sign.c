/* SigV4: the four worked examples of the Amazon S3 API Reference ("Signature Calculations for
 * the Authorization Header: Transferring Payload in a Single Chunk"), restated here as known
 * answers (public facts), plus URI encoding. */
#include "common/buf.h"
#include "common/error.h"
#include "storage/s3_sign.h"
#include "test.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define DATE "20130524T000000Z"

static void check_case(const char *method, const char *uri, const char *query,
                       const s3_header *hs, size_t n, const char *payload_hash,
                       const char *want_creq, const char *want_sts, const char *want_signed,
                       const char *want_sig, const char *want_auth)
{
    buf auth, creq, sts, sh, sig;
    buf_init(&auth, 4096);
    buf_init(&creq, 4096);
    buf_init(&sts, 4096);
    buf_init(&sh, 4096);
    buf_init(&sig, 4096);
    s3_sign_request r = {method, uri, query, hs, n, payload_hash, "us-east-1", "s3", DATE, AK, SK};
    s3_sign_debug d = {&creq, &sts, &sh, &sig};
    CHECK_EQ_INT(s3_sign(&r, &auth, &d), PA_OK);
    CHECK_STR(creq.data, want_creq);
    CHECK_STR(sts.data, want_sts);
    CHECK_STR(sh.data, want_signed);
    CHECK_STR(sig.data, want_sig);
    CHECK_STR(auth.data, want_auth);
    buf_free(&auth);
    buf_free(&creq);
    buf_free(&sts);
    buf_free(&sh);
    buf_free(&sig);
}

static void test_get_object(void)
{
    const s3_header hs[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Range", "bytes=0-9"},
        {"x-amz-content-sha256", S3_EMPTY_SHA256},
        {"x-amz-date", DATE},
    };
    check_case("GET", "/test.txt", "", hs, 4, S3_EMPTY_SHA256,
               "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
               "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
               "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
               "host;range;x-amz-content-sha256;x-amz-date",
               "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

static void test_put_object(void)
{
    const char *payload = "Welcome to Amazon S3.";
    char hash[65];
    s3_sha256_hex(payload, strlen(payload), hash);
    CHECK_STR(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    buf uri;
    buf_init(&uri, 256);
    CHECK_EQ_INT(buf_append_str(&uri, "/"), PA_OK);
    CHECK_EQ_INT(s3_uri_encode(&uri, "test$file.text", 1), PA_OK);
    CHECK_STR(uri.data, "/test%24file.text");
    const s3_header hs[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
        {"x-amz-date", DATE},
        {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
        {"x-amz-content-sha256", hash},
    };
    check_case("PUT", uri.data, "", hs, 5, hash,
               "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\n"
               "host:examplebucket.s3.amazonaws.com\n"
               "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
               "x-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
               "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
               "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d",
               "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
               "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
               "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    buf_free(&uri);
}

static void test_get_lifecycle(void)
{
    const s3_header hs[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-date", DATE},
        {"x-amz-content-sha256", S3_EMPTY_SHA256},
    };
    check_case("GET", "/", "lifecycle=", hs, 3, S3_EMPTY_SHA256,
               "GET\n/\nlifecycle=\nhost:examplebucket.s3.amazonaws.com\n"
               "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
               "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
               "host;x-amz-content-sha256;x-amz-date",
               "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
               "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

static void test_list_objects(void)
{
    const s3_header hs[] = {
        {"Host", "examplebucket.s3.amazonaws.com"},
        {"x-amz-date", DATE},
        {"x-amz-content-sha256", S3_EMPTY_SHA256},
    };
    check_case("GET", "/", "max-keys=2&prefix=J", hs, 3, S3_EMPTY_SHA256,
               "GET\n/\nmax-keys=2&prefix=J\nhost:examplebucket.s3.amazonaws.com\n"
               "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
               "x-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n"
               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
               "host;x-amz-content-sha256;x-amz-date",
               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
               "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
               "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

/* Header names are signed lower-case whatever their case; values trimmed, runs squeezed. */
static void test_header_canonicalization(void)
{
    const s3_header a[] = {{"X-Amz-Date", DATE}, {"HOST", "  h.example   "},
                           {"x-amz-meta-note", "a   b\tc"}};
    const s3_header b[] = {{"host", "h.example"}, {"x-amz-date", DATE},
                           {"x-amz-meta-note", "a b c"}};
    buf x, y, cx;
    buf_init(&x, 4096);
    buf_init(&y, 4096);
    buf_init(&cx, 4096);
    s3_sign_request ra = {"GET", "/", "", a, 3, S3_EMPTY_SHA256, "eu-west-1", "s3", DATE, AK, SK};
    s3_sign_request rb = {"GET", "/", "", b, 3, S3_EMPTY_SHA256, "eu-west-1", "s3", DATE, AK, SK};
    s3_sign_debug d = {&cx, NULL, NULL, NULL};
    CHECK_EQ_INT(s3_sign(&ra, &x, &d), PA_OK);
    CHECK_EQ_INT(s3_sign(&rb, &y, NULL), PA_OK);
    CHECK_STR(x.data, y.data);
    CHECK_CONTAINS(cx.data, "host:h.example\nx-amz-date:" DATE "\nx-amz-meta-note:a b c\n");
    CHECK_CONTAINS(x.data, "/20130524/eu-west-1/s3/aws4_request,");
    /* A different secret gives a different signature. */
    s3_sign_request rc = rb;
    rc.secret_key = "other";
    CHECK_EQ_INT(s3_sign(&rc, &y, NULL), PA_OK);
    CHECK(strcmp(x.data, y.data) != 0);
    buf_free(&x);
    buf_free(&y);
    buf_free(&cx);
}

static void test_uri_encode(void)
{
    buf b;
    buf_init(&b, 256);
    CHECK_EQ_INT(s3_uri_encode(&b, "wal_005/0001.lzo", 1), PA_OK);
    CHECK_STR(b.data, "wal_005/0001.lzo");
    buf_reset(&b);
    CHECK_EQ_INT(s3_uri_encode(&b, "a b/c+d~e=f&é", 0), PA_OK);
    CHECK_STR(b.data, "a%20b%2Fc%2Bd~e%3Df%26%C3%A9");
    buf_free(&b);
}

static void test_md5_and_date(void)
{
    char b64[25], hex[33], date[17];
    s3_md5("", 0, b64, hex);
    CHECK_STR(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
    CHECK_STR(hex, "d41d8cd98f00b204e9800998ecf8427e");
    s3_amz_date((time_t)1369353600, date);
    CHECK_STR(date, "20130524T000000Z");
}

TEST_MAIN(TEST(test_get_object), TEST(test_put_object), TEST(test_get_lifecycle),
          TEST(test_list_objects), TEST(test_header_canonicalization), TEST(test_uri_encode),
          TEST(test_md5_and_date))
