#!/bin/bash
# The engine suite on an s3:// repository served by a real radosgw, run as a least-privilege
# writer: an IAM user policy that allows only s3:ListBucket, s3:GetObject and s3:PutObject.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"
. "$TOP/tests/lib/rgw.sh"
. "$TOP/tests/lib/engine_suite.sh"

if ! rgw_start; then
    fail "radosgw starts (install: scripts/install-deps.sh)"
    exit 0
fi
B=pgattest-engine
check "bucket created by the owner" s3_mkbucket "$B"
check "writer gets an Allow-only List/Get/Put policy" s3_set_writer_policy writer-list-get-put \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:ListBucket\",\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::$B\",\"arn:aws:s3:::$B/*\"]}]}"
s3_env_file "$T/writer.env" "$RGW_WRITER_AK" "$RGW_WRITER_SK" "s3://$B/node1"
engine_suite "s3://$B/node1" "$T/writer.env"

# The writer really is limited: it cannot delete what it archived.
code=$(s3_writer DELETE "/$B/node1/wal_005/000000010000000000000001.lzo")
check "the writer credential cannot delete (HTTP $code)" test "$code" = 403
