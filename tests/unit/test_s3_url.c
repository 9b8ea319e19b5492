/* S3 repository URLs, endpoints, addressing style and request URLs. */
#include "common/buf.h"
#include "common/error.h"
#include "storage/s3_url.h"
#include "test.h"

static void test_repository_url(void)
{
    s3_location l;
    memset(&l, 0, sizeof l);
    CHECK_EQ_INT(s3_parse_repository_url("s3://pgbackup/node1", &l), PA_OK);
    CHECK_STR(l.bucket, "pgbackup");
    CHECK_STR(l.prefix, "node1/");
    CHECK_EQ_INT(s3_parse_repository_url("s3://pgbackup//a/b///", &l), PA_OK);
    CHECK_STR(l.prefix, "a/b/");
    CHECK_EQ_INT(s3_parse_repository_url("s3://pgbackup", &l), PA_OK);
    CHECK_STR(l.prefix, "");
    CHECK_EQ_INT(s3_parse_repository_url("s3://pgbackup/", &l), PA_OK);
    CHECK_STR(l.prefix, "");
    CHECK_EQ_INT(s3_parse_repository_url("s3://ab/x", &l), PA_ERR);
    CHECK_CONTAINS(err_msg(), "not a valid bucket name");
    CHECK_EQ_INT(s3_parse_repository_url("s3:///x", &l), PA_ERR);
    CHECK_EQ_INT(s3_parse_repository_url("s3://b?x/y", &l), PA_ERR);
    CHECK_EQ_INT(s3_parse_repository_url("s3://bucket/a//b", &l), PA_ERR);
}

static s3_location loc(const char *bucket, const char *region)
{
    s3_location l;
    memset(&l, 0, sizeof l);
    snprintf(l.bucket, sizeof l.bucket, "%s", bucket);
    snprintf(l.region, sizeof l.region, "%s", region);
    return l;
}

static void build(const s3_location *l, const char *key, const char *query, const char *want_url,
                  const char *want_host, const char *want_uri)
{
    buf url, host, uri;
    buf_init(&url, 4096);
    buf_init(&host, 4096);
    buf_init(&uri, 4096);
    CHECK_EQ_INT(s3_build_request_url(l, key, query, &url, &host, &uri), PA_OK);
    CHECK_STR(url.data, want_url);
    CHECK_STR(host.data, want_host);
    CHECK_STR(uri.data, want_uri);
    buf_free(&url);
    buf_free(&host);
    buf_free(&uri);
}

static void test_aws_default_virtual_hosted(void)
{
    s3_location l = loc("pgbackup", "eu-west-1");
    CHECK_EQ_INT(s3_set_endpoint(&l, NULL, 0), PA_OK);
    CHECK_STR(l.scheme, "https");
    CHECK_STR(l.host, "s3.eu-west-1.amazonaws.com");
    CHECK_EQ_INT(l.path_style, 0);
    build(&l, "node1/wal_005/000000010000000000000001.lzo", NULL,
          "https://pgbackup.s3.eu-west-1.amazonaws.com/node1/wal_005/000000010000000000000001.lzo",
          "pgbackup.s3.eu-west-1.amazonaws.com", "/node1/wal_005/000000010000000000000001.lzo");
    build(&l, NULL, "list-type=2&prefix=node1%2F",
          "https://pgbackup.s3.eu-west-1.amazonaws.com/?list-type=2&prefix=node1%2F",
          "pgbackup.s3.eu-west-1.amazonaws.com", "/");
    /* forced path style */
    CHECK_EQ_INT(s3_set_endpoint(&l, NULL, 1), PA_OK);
    build(&l, "k", NULL, "https://s3.eu-west-1.amazonaws.com/pgbackup/k",
          "s3.eu-west-1.amazonaws.com", "/pgbackup/k");
    /* a dotted bucket cannot match the wildcard certificate: path style over https */
    s3_location d = loc("my.backups", "us-east-1");
    CHECK_EQ_INT(s3_set_endpoint(&d, NULL, 0), PA_OK);
    CHECK_EQ_INT(d.path_style, 1);
}

static void test_custom_endpoints(void)
{
    s3_location l = loc("pgbackup", "us-east-1");
    CHECK_EQ_INT(s3_set_endpoint(&l, "http://127.0.0.1:7480", 0), PA_OK);
    CHECK_STR(l.scheme, "http");
    CHECK_STR(l.host, "127.0.0.1:7480");
    CHECK_EQ_INT(l.path_style, 1);
    build(&l, "a b/c$d", NULL, "http://127.0.0.1:7480/pgbackup/a%20b/c%24d", "127.0.0.1:7480",
          "/pgbackup/a%20b/c%24d");
    CHECK_EQ_INT(s3_set_endpoint(&l, "https://localhost:8443/", 0), PA_OK);
    CHECK_EQ_INT(l.path_style, 1);
    CHECK_STR(l.host, "localhost:8443");
    CHECK_EQ_INT(s3_set_endpoint(&l, "https://[::1]:8443", 0), PA_OK);
    CHECK_EQ_INT(l.path_style, 1);
    CHECK_EQ_INT(s3_set_endpoint(&l, "https://minio.example.com", 0), PA_OK);
    CHECK_EQ_INT(l.path_style, 0);
    build(&l, "k", NULL, "https://pgbackup.minio.example.com/k", "pgbackup.minio.example.com",
          "/k");
    /* default ports are not part of Host (curl would not send them) */
    CHECK_EQ_INT(s3_set_endpoint(&l, "https://s3.example.com:443", 0), PA_OK);
    CHECK_STR(l.host, "s3.example.com");
    /* a path in the endpoint: path style under it */
    CHECK_EQ_INT(s3_set_endpoint(&l, "http://gw.example.com/s3/", 0), PA_OK);
    CHECK_EQ_INT(l.path_style, 1);
    build(&l, "k", NULL, "http://gw.example.com/s3/pgbackup/k", "gw.example.com",
          "/s3/pgbackup/k");
    CHECK_EQ_INT(s3_set_endpoint(&l, "ftp://x", 0), PA_ERR);
    CHECK_CONTAINS(err_msg(), "https://");
    CHECK_EQ_INT(s3_set_endpoint(&l, "http://user:pw@host", 0), PA_ERR);
    CHECK_EQ_INT(s3_set_endpoint(&l, "https://", 0), PA_ERR);
}

TEST_MAIN(TEST(test_repository_url), TEST(test_aws_default_virtual_hosted),
          TEST(test_custom_endpoints))
