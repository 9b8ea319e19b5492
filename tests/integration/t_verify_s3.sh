# verify on an s3:// repository served by a real radosgw: a cluster archiving with wal-push, a
# backup-push backup, then verify (continuity over a paged ListObjectsV2 listing) and
# verify --deep with its ETag-keyed state; a segment deleted in the middle is found.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"
. "$TOP/tests/lib/rgw.sh"
. "$TOP/tests/lib/fixture_backup.sh"   # segname, SEG_SIZE

if ! rgw_start; then
    fail "radosgw starts (install: scripts/install-deps.sh)"
    exit 0
fi
B=pgattest-verify
check "bucket created" s3_mkbucket "$B"
URL="s3://$B/node1"
s3_env_file "$T/s3.env" "$RGW_OWNER_AK" "$RGW_OWNER_SK" "$URL"
W="$T/pgattest-s3"
printf '#!/bin/sh\n. %s\nexec %s "$@"\n' "$T/s3.env" "$PGATTEST" > "$W"
chmod 700 "$W"; chown "$PGUSER_OS" "$W"
s3() { as_pg "$W" "$@"; }

pg_init v
pg_conf v "archive_mode = on" "archive_command = '$W wal-push %p'"
pg_start v || exit 1
pg_psql v "create table t as select g from generate_series(1, 10000) g"
BK=$(PGHOST=$(pg_sockdir v) PGUSER=postgres s3 backup-push --fast "$(pg_datadir v)" 2> "$T/backup-push.log")
[ -n "$BK" ] || setup_failed "backup-push into S3" "$(tail -5 "$T/backup-push.log")"
# What PostgreSQL says the backup spans: pg_backup_stop's backup history file in pg_wal.
HIST=$(ls "$(pg_datadir v)"/pg_wal/*.backup 2>/dev/null | tail -1)
PG_START=$(sed -n 's/^START WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST" 2>/dev/null)
PG_STOP=$(sed -n 's/^STOP WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST" 2>/dev/null)
[ -n "$PG_START" ] && [ -n "$PG_STOP" ] ||
    setup_failed "PostgreSQL's backup history file gives the start and stop LSNs" "$HIST"
for i in 1 2 3 4 5; do
    pg_psql v "insert into t values ($i)"
    pg_psql v "select pg_switch_wal()" > /dev/null
done
pg_psql v "checkpoint"
for i in $(seq 1 600); do   # until the archiver has nothing left
    [ "$(pg_psql v "select count(*) from pg_ls_archive_statusdir() where name like '%.ready'")" = 0 ] && break
    sleep 0.1
done
[ "$(pg_psql v "select count(*) from pg_ls_archive_statusdir() where name like '%.ready'")" = 0 ] ||
    setup_failed "the archiver archived every finished segment within 60 s"
pg_stop v

s3 verify --json > "$T/v.json" 2> "$T/v.err"; VSTATUS=$?
if [ "$VSTATUS" -eq 0 ]; then pass "s3: verify exits 0"; else fail "s3: verify exits 0" "exit $VSTATUS: $(head -c 600 "$T/v.err")" "$(jq -c '[.checks[] | {id, status, details}]' "$T/v.json" 2>/dev/null | head -c 1500)"; fi
check "s3: the backup is restorable with no gap" test "$(jq -r ".backups[0] | [.name, .restorable, (.gaps | length)] | tostring" "$T/v.json")" = "[\"$BK\",true,0]"
check "s3: verify's start and stop LSNs are PostgreSQL's ($PG_START, $PG_STOP)" \
    test "$(jq -c '.backups[0] | [.start_lsn, .stop_lsn]' "$T/v.json")" = "[\"$PG_START\",\"$PG_STOP\"]"
STOP_NO=$(lsn_segno "$PG_STOP")

s3 verify --deep --state "$T/state" --json > "$T/d.json" 2> "$T/d.err"; VSTATUS=$?
if [ "$VSTATUS" -eq 0 ]; then pass "s3: verify --deep exits 0"; else fail "s3: verify --deep exits 0" "exit $VSTATUS: $(head -c 600 "$T/d.err")" "$(jq -c '[.checks[] | {id, status, details}]' "$T/d.json" 2>/dev/null | head -c 1500)"; fi
checked=$(jq -r '.integrity.wal_objects_checked + .integrity.backup_objects_checked' "$T/d.json")
check "s3: --deep downloaded every object" test "$checked" -gt 5
s3 verify --deep --state "$T/state" --json > "$T/d2.json" 2>&1
check "s3: the next --deep run downloads nothing (ETags unchanged)" \
    test "$(jq -r '[.integrity.wal_objects_checked, .integrity.backup_objects_checked, .integrity.wal_objects_skipped + .integrity.backup_objects_skipped] | tostring' "$T/d2.json")" = "[0,0,$checked]"

MID=$(segname 1 $((STOP_NO + 2)))
code=$(s3_owner DELETE "/$B/node1/wal_005/$MID.lzo")
check "a segment deleted from the bucket (HTTP $code)" test "$code" = 204
s3 verify --json > "$T/v.json" 2> "$T/v.err"; VSTATUS=$?
check "s3: a deleted segment: exit 2" test "$VSTATUS" -eq 2
check "s3: the gap is exactly that segment" \
    test "$(jq -c '.backups[0].gaps | map([.timeline, .first_missing, .last_missing, .count])' "$T/v.json")" = "[[1,\"$MID\",\"$MID\",1]]"
