#!/bin/bash
# The storage contract (tests/unit/test_storage_contract.c: atomic writes, no-overwrite,
# verify, ranges, multipart, paginated listing, batch delete, several threads on one handle)
# against a real radosgw, once as the bucket owner and once as an Allow-only writer (whose
# deletes must be refused loudly).
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/rgw.sh"

BIN="$TOP/build/test/unit/test_storage_contract"
if ! rgw_start; then
    fail "radosgw starts (install: scripts/install-deps.sh)"
    exit 0
fi
B=pgattest-contract
check "bucket created" s3_mkbucket "$B"
s3_set_writer_policy writer-list-get-put \
    "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:ListBucket\",\"s3:GetObject\",\"s3:PutObject\"],\"Resource\":[\"arn:aws:s3:::$B\",\"arn:aws:s3:::$B/*\"]}]}" \
    || fail "writer policy set"

# contract LABEL AK SK [VAR=value...]: run the contract binary, one PASS/FAIL per test case
contract() {
    local label=$1 ak=$2 sk=$3 line; shift 3
    env AWS_ACCESS_KEY_ID="$ak" AWS_SECRET_ACCESS_KEY="$sk" AWS_ENDPOINT_URL="$RGW_ENDPOINT" \
        AWS_REGION="$RGW_REGION" PGATTEST_TEST_REPO="s3://$B/$label" PGATTEST_S3_PART_SIZE=5MiB \
        PGATTEST_S3_UPLOAD_CONCURRENCY=3 PGATTEST_S3_LIST_MAX_KEYS=2 "$@" \
        "$BIN" > "$T/$label.out" 2>&1
    local status=$?
    while IFS= read -r line; do
        case "$line" in
            "ok   "*) pass "[$label] ${line#*: }" ;;
            "FAIL "*) fail "[$label] ${line#*: }" "$(grep '^  ' "$T/$label.out" | head -20)" ;;
        esac
    done < "$T/$label.out"
    [ $status -eq 0 ] || grep -q '^FAIL' "$T/$label.out" || fail "[$label] contract binary exited $status" "$(tail -20 "$T/$label.out")"
}
contract owner "$RGW_OWNER_AK" "$RGW_OWNER_SK"
contract writer "$RGW_WRITER_AK" "$RGW_WRITER_SK" PGATTEST_TEST_EXPECT_REMOVE_DENIED=1
