#!/bin/bash
# The end-to-end suite (t_pitr_e2e.sh: archive under pgbench load, backup-push, backup-fetch,
# point-in-time and end-of-archive recovery) on an s3:// repository served by radosgw.
# The same script runs, as a child with REPO_URL set; its checks land in this run's results.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/rgw.sh"

SUITE="$TOP/tests/integration/t_pitr_e2e.sh"

if ! rgw_start; then
    fail "radosgw starts (install: scripts/install-deps.sh)"
    exit 0
fi
B=pgattest-pitr
check "bucket created" s3_mkbucket "$B"
# The guide's writer credential: it may only List, Get and Put. Everything here — archiving,
# backup-push, backup-fetch, wal-fetch — must work with exactly that.
check "writer gets an Allow-only List/Get/Put policy" s3_set_writer_policy writer-pitr \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:ListBucket\",\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::$B\",\"arn:aws:s3:::$B/*\"]}]}"
# Credentials reach pgattest (and archive_command/restore_command, through the postmaster's
# environment) by inheritance, never on a command line.
export AWS_ACCESS_KEY_ID=$RGW_WRITER_AK AWS_SECRET_ACCESS_KEY=$RGW_WRITER_SK
export AWS_ENDPOINT_URL=$RGW_ENDPOINT AWS_REGION=$RGW_REGION PGATTEST_S3_PART_SIZE=5MiB
REPO_URL="s3://$B/pitr" TEST_NAME="${TEST_NAME}_suite" bash "$SUITE"
status=$?
[ $status -eq 0 ] || fail "t_pitr_e2e.sh on s3:// exited with status $status"
s3_owner GET "/$B?list-type=2&prefix=pitr%2Fbasebackups_005%2F" > /dev/null
check "the base backup and its sentinel are in the bucket" grep -q '_backup_stop_sentinel.json' "$T/.s3body"
