# verify --max-wal-age and --max-backup-age (README: wal.rpo and backup.age WARNINGs) on a
# repository written by a real PostgreSQL 15 (archive_command = wal-push) and backup-push.
# The ages' origins come from outside pgattest: the newest WAL object's mtime from the file
# system, the backup's stop time from PostgreSQL's backup history file. The clock is pinned
# with PGATTEST_NOW, so the limits are tested exactly at, above and below the age.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO=$(new_repo repo); WAL=${REPO#file://}/wal_005
pg_init src || exit 1
pg_conf src "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO %p'"
pg_start src || exit 1
export PGHOST=$(pg_sockdir src) PGUSER=postgres
pg_psql src "create table t as select generate_series(1, 1000) g"
NAME=$(pgattest backup-push --prefix "$REPO" --fast "$(pg_datadir src)" 2> "$T/push.err") ||
    setup_failed "backup-push" "$(cat "$T/push.err")"
HIST=$(ls "$(pg_datadir src)"/pg_wal/*.backup | tail -1)
LAST=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
for i in $(seq 1 600); do [ -f "$WAL/$LAST.lzo" ] && break; sleep 0.1; done
[ -f "$WAL/$LAST.lzo" ] || setup_failed "segment $LAST archived within 60 s"
pg_stop src

# The newest segment and its age origin, from the file system.
NEWEST=$(ls "$WAL" | grep -E '^[0-9A-F]{24}\.lzo$' | sort | tail -1); NEWEST=${NEWEST%.lzo}
WAL_MTIME=$(stat -c %Y "$WAL/$NEWEST.lzo")
# The backup's stop time, from PostgreSQL ("STOP TIME: 2026-12-01 21:30:00 UTC").
STOP_TIME=$(date -d "$(sed -n 's/^STOP TIME: //p' "$HIST")" +%s) ||
    setup_failed "PostgreSQL's backup history file has a STOP TIME" "$(cat "$HIST")"

# verify_at NOW [options]: verify --json with the clock at NOW; sets VSTATUS, keeps $T/v.json
verify_at() {
    local now=$1; shift
    PGATTEST_NOW=$now pgattest verify --prefix "$REPO" --json "$@" > "$T/v.json" 2> "$T/v.err"
    VSTATUS=$?
}
status_of() { jq -r --arg id "$1" '.checks[] | select(.id == $id) | .status' "$T/v.json"; }
expect() { # expect DESCRIPTION EXIT CHECK_ID STATUS
    local got; got="$VSTATUS $(status_of "$3")"
    if [ "$got" = "$2 $4" ]; then pass "$1"
    else fail "$1" "expected exit $2 and $3 $4, got $got" "$(head -c 600 "$T/v.err")" \
        "$(jq -c '[.checks[] | {id, status, details}]' "$T/v.json" 2>/dev/null | head -c 1500)"; fi
}

# ---- --max-wal-age ----
verify_at $((WAL_MTIME + 1000))
expect "no --max-wal-age: an old archive is not a WARNING" 0 wal.rpo OK
check "wal.rpo names the newest segment and its age from the file system" test \
    "$(jq -c '.wal.newest | [.name, .age_seconds]' "$T/v.json")" = "[\"$NEWEST\",1000]"
verify_at $((WAL_MTIME + 1000)) --max-wal-age 1000
expect "--max-wal-age equal to the age: OK" 0 wal.rpo OK
verify_at $((WAL_MTIME + 1000)) --max-wal-age 999
expect "--max-wal-age one second below the age: WARNING, exit 1" 1 wal.rpo WARNING
check "the WARNING names the segment and the limit" grep -q \
    "newest archived segment $NEWEST is .* old, more than --max-wal-age 999 s" \
    <<< "$(jq -r '.checks[] | select(.id == "wal.rpo") | .findings[].summary' "$T/v.json")"
check "the WARNING's evidence is the object" test \
    "$(jq -r '.checks[] | select(.id == "wal.rpo") | .findings[0].evidence[0]' "$T/v.json")" = \
    "$REPO/wal_005/$NEWEST.lzo"
expect "only wal.rpo is affected: backup.age OK" 1 backup.age OK

# ---- --max-backup-age ----
verify_at $((STOP_TIME + 5000)) --max-backup-age 5000
expect "--max-backup-age equal to the age since PostgreSQL's STOP TIME: OK" 0 backup.age OK
check "newest_backup is the backup, aged from PostgreSQL's STOP TIME" test \
    "$(jq -c '.newest_backup | [.name, .age_seconds]' "$T/v.json")" = "[\"$NAME\",5000]"
verify_at $((STOP_TIME + 5000)) --max-backup-age 4999
expect "--max-backup-age one second below: WARNING, exit 1" 1 backup.age WARNING
check "the WARNING names the backup and the limit" grep -q \
    "newest complete backup $NAME is .* old, more than --max-backup-age 4999 s" \
    <<< "$(jq -r '.checks[] | select(.id == "backup.age") | .findings[].summary' "$T/v.json")"

# both at once, and the human summary
verify_at $((STOP_TIME + 90000)) --max-backup-age 3600 --max-wal-age 3600
expect "both limits exceeded: wal.rpo WARNING" 1 wal.rpo WARNING
expect "both limits exceeded: backup.age WARNING" 1 backup.age WARNING
PGATTEST_NOW=$((STOP_TIME + 90000)) pgattest verify --prefix "$REPO" --max-backup-age 3600 \
    > "$T/human.txt" 2>&1
check "the human summary says WARNING for backup.age" grep -q "WARNING.*$NAME" "$T/human.txt"

# ---- usage ----
for bad in 0 -5 1h abc; do
    check_exit "--max-wal-age $bad is a usage error (exit 3)" 3 pgattest verify --prefix "$REPO" --max-wal-age "$bad"
done
check_exit "--max-backup-age 0 is a usage error (exit 3)" 3 pgattest verify --prefix "$REPO" --max-backup-age 0
