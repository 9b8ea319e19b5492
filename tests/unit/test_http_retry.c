/* Which failures are retried, how long we wait, and HTTP date parsing. */
#include <curl/curl.h>

#include "common/error.h"
#include "storage/http.h"
#include "test.h"

static void test_status_classification(void)
{
    CHECK(http_status_retryable(500, "InternalError"));
    CHECK(http_status_retryable(502, ""));
    CHECK(http_status_retryable(503, "SlowDown"));
    CHECK(http_status_retryable(504, NULL));
    CHECK(http_status_retryable(429, NULL));
    CHECK(http_status_retryable(408, NULL));
    CHECK(http_status_retryable(400, "RequestTimeout")); /* S3 sends it as a 400 */
    CHECK(!http_status_retryable(400, "InvalidArgument"));
    CHECK(!http_status_retryable(403, "AccessDenied"));
    CHECK(!http_status_retryable(403, "SignatureDoesNotMatch"));
    CHECK(!http_status_retryable(404, "NoSuchKey"));
    CHECK(!http_status_retryable(404, "NoSuchBucket"));
    CHECK(!http_status_retryable(412, "PreconditionFailed"));
    CHECK(!http_status_retryable(301, "PermanentRedirect"));
}

static void test_transport_classification(void)
{
    CHECK(http_transport_error_retryable(CURLE_COULDNT_CONNECT));
    CHECK(http_transport_error_retryable(CURLE_OPERATION_TIMEDOUT));
    CHECK(http_transport_error_retryable(CURLE_RECV_ERROR));
    CHECK(http_transport_error_retryable(CURLE_SEND_ERROR));
    CHECK(http_transport_error_retryable(CURLE_GOT_NOTHING));
    CHECK(http_transport_error_retryable(CURLE_PARTIAL_FILE));
    CHECK(!http_transport_error_retryable(CURLE_PEER_FAILED_VERIFICATION));
    CHECK(!http_transport_error_retryable(CURLE_URL_MALFORMAT));
    CHECK(!http_transport_error_retryable(CURLE_WRITE_ERROR));
    CHECK(!http_transport_error_retryable(CURLE_OUT_OF_MEMORY));
}

static void test_backoff(void)
{
    for (int attempt = 0; attempt < 12; attempt++) {
        unsigned limit = 200u << (attempt < 10 ? attempt : 10);
        if (limit > 10000)
            limit = 10000;
        int varied = 0;
        unsigned first = http_backoff_ms(attempt, 200, 10000);
        for (int i = 0; i < 200; i++) {
            unsigned ms = http_backoff_ms(attempt, 200, 10000);
            CHECK(ms <= limit);
            varied |= ms != first;
        }
        CHECK(varied); /* jitter */
    }
    CHECK_EQ_INT(http_backoff_ms(3, 0, 1000), 0);
}

static void test_dates(void)
{
    CHECK_EQ_INT(http_parse_date("Fri, 24 May 2013 00:00:00 GMT"), 1369353600);
    CHECK_EQ_INT(http_parse_date("2013-05-24T00:00:00.000Z"), 1369353600);
    CHECK_EQ_INT(http_parse_date("2013-05-24T00:00:00Z"), 1369353600);
    CHECK_EQ_INT(http_parse_date("yesterday"), -1);
}

TEST_MAIN(TEST(test_status_classification), TEST(test_transport_classification),
          TEST(test_backoff), TEST(test_dates))
