# Incremental verify --deep (README): what passed is remembered, what failed is checked again
# on the next run, and stays CRITICAL until it is repaired; a broken sentinel is CRITICAL.
# The repository is written by a real PostgreSQL 15 (wal-push) and backup-push.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO=$(new_repo repo); DIR=${REPO#file://}; WAL=$DIR/wal_005
pg_init src || exit 1
pg_conf src "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO %p'"
pg_start src || exit 1
export PGHOST=$(pg_sockdir src) PGUSER=postgres
pg_psql src "create table t as select generate_series(1, 50000) g"
NAME=$(pgattest backup-push --prefix "$REPO" --fast "$(pg_datadir src)" 2> "$T/push.err") ||
    setup_failed "backup-push" "$(cat "$T/push.err")"
for i in 1 2 3; do
    pg_psql src "insert into t values ($i)"
    LAST=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
done
for i in $(seq 1 600); do [ -f "$WAL/$LAST.lzo" ] && break; sleep 0.1; done
[ -f "$WAL/$LAST.lzo" ] || setup_failed "segment $LAST archived within 60 s"
pg_stop src
N_WAL=$(ls "$WAL" | wc -l)

deep() { # deep [options]: verify --deep --json with the state file; sets VSTATUS
    pgattest verify --prefix "$REPO" --deep --state "$T/state" --json "$@" > "$T/v.json" 2> "$T/v.err"
    VSTATUS=$?
}
counts() { jq -c '.integrity | [.wal_objects_checked, .wal_objects_failed, .wal_objects_skipped]' "$T/v.json"; }
expect() { # expect DESCRIPTION EXIT COUNTS
    local got; got="$VSTATUS $(counts)"
    if [ "$got" = "$2 $3" ]; then pass "$1"
    else fail "$1" "expected exit $2 and [checked,failed,skipped] $3, got $got" \
        "$(head -c 600 "$T/v.err")"; fi
}
wal_integrity() { jq -r '.checks[] | select(.id == "wal.integrity") | .status' "$T/v.json"; }

deep
expect "first --deep run: every WAL object checked, none failed" 0 "[$N_WAL,0,0]"
deep
expect "second run: nothing downloaded again" 0 "[0,0,$N_WAL]"

# A bit flipped in the newest segment (its mtime changes, as a rewrite's would).
cp -p "$WAL/$LAST.lzo" "$T/last.orig"
b=$(od -An -tu1 -j 4000 -N1 "$WAL/$LAST.lzo" | tr -d ' ')
printf "$(printf '\\%03o' $(( b ^ 8 )))" | dd of="$WAL/$LAST.lzo" bs=1 seek=4000 conv=notrunc status=none
touch -d '+5 seconds' "$WAL/$LAST.lzo"
deep
expect "the damaged object is checked and fails: exit 2" 2 "[1,1,$((N_WAL - 1))]"
check "wal.integrity is CRITICAL and names the object" test \
    "$(wal_integrity) $(jq -r '[.checks[] | select(.id == "wal.integrity") | .evidence[]] | map(select(endswith("'"$LAST"'.lzo"))) | length' "$T/v.json")" = "CRITICAL 1"
deep
expect "the next run checks the failed object again, and it fails again" 2 "[1,1,$((N_WAL - 1))]"
check "still CRITICAL on the next run (a failure is never remembered as checked)" test "$(wal_integrity)" = CRITICAL
# Repaired with its original bytes AND its original mtime: only a state that did not record
# the failure as a pass checks it (key, size and mtime are those of the first, good run).
cp -p "$T/last.orig" "$WAL/$LAST.lzo"
deep
expect "repaired: checked again, passes" 0 "[1,0,$((N_WAL - 1))]"
deep
expect "after the repair nothing is downloaded again" 0 "[0,0,$N_WAL]"

# ---- a broken sentinel ----
S="$DIR/basebackups_005/${NAME}_backup_stop_sentinel.json"
cp -p "$S" "$T/sentinel.orig"
head -c 40 "$T/sentinel.orig" > "$S"
pgattest verify --prefix "$REPO" --json > "$T/v.json" 2> "$T/v.err"; VSTATUS=$?
check "a broken sentinel: exit 2" test "$VSTATUS" -eq 2
check "a broken sentinel: backup.completeness CRITICAL" test \
    "$(jq -r '.checks[] | select(.id == "backup.completeness") | .status' "$T/v.json")" = CRITICAL
check "the finding names the sentinel" test "$(jq -r --arg k "${NAME}_backup_stop_sentinel.json" \
    '[.checks[] | select(.id == "backup.completeness") | .findings[] | select(.severity == "CRITICAL") | (.evidence // [])[] | select(endswith($k))] | length' "$T/v.json")" -ge 1
check "the backup is not restorable" test "$(jq -r --arg n "$NAME" '.backups[] | select(.name == $n) | .restorable' "$T/v.json")" = false
deep
check "with --deep and the state: still exit 2" test "$VSTATUS" -eq 2
deep
check "and on the next --deep run too" test "$VSTATUS" -eq 2
cp -p "$T/sentinel.orig" "$S"
deep
check "the sentinel restored: exit 0 again" test "$VSTATUS" -eq 0
