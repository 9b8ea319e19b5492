#!/bin/bash
# backup-push and backup-list against real PostgreSQL 15 clusters: a busy cluster with a
# tablespace, the parts/manifest/sentinel agree with each other and with the source files
# (checked with the real lzop, GNU tar, sha256sum and jq), the backup restores and recovers
# with wal-fetch, refusals (archive_mode off, wal_level minimal, wrong PGDATA), and a failure
# in the middle leaves no sentinel.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO=$(new_repo repo)
REPO_DIR=${REPO#file://}
pg_init src --data-checksums || exit 1
pg_conf src "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO %p'"
pg_start src || exit 1
export PGHOST=$(pg_sockdir src) PGUSER=postgres
SRC=$(pg_datadir src)

mkdir -p "$T/ts"; chown "$PGUSER_OS" "$T/ts"
pg_psql src "create tablespace ts location '$T/ts'"
pg_psql src "create table in_ts tablespace ts as select g as id, md5(g::text) as v from generate_series(1, 20000) g"
pg_psql src "create table fixed as select g as id from generate_series(1, 1000) g"
TS_OID=$(pg_psql src "select oid from pg_tablespace where spcname = 'ts'")
as_pg "$PGBIN/pgbench" -h "$PGHOST" -U postgres -i -s 2 -q postgres > "$T/pgbench-init.log" 2>&1

# ---- a backup while pgbench runs ----
as_pg "$PGBIN/pgbench" -h "$PGHOST" -U postgres -c 2 -T 15 postgres > "$T/pgbench.log" 2>&1 &
PGBENCH=$!
# Start the backup only once pgbench has committed transactions (PostgreSQL counts them).
commits() { pg_psql src "select xact_commit from pg_stat_database where datname = 'postgres'"; }
c0=$(commits)
for i in $(seq 1 300); do [ "$(commits)" -gt $((c0 + 50)) ] && break; sleep 0.1; done
check_exit "backup-push succeeds while pgbench runs" 0 \
    pgattest backup-push --prefix "$REPO" --fast --jobs 2 --partition-size 1M "$SRC"
NAME=$LAST_OUT
# PostgreSQL's own record of the backup: pg_backup_stop's history file names start and stop;
# pg_waldump counts the transactions that committed in between: pgbench wrote DURING the backup.
HIST=$(ls "$SRC"/pg_wal/*.backup | tail -1)
PG_START=$(sed -n 's/^START WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST")
PG_STOP=$(sed -n 's/^STOP WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST")
during=$(as_pg "$PGBIN/pg_waldump" -p "$SRC/pg_wal" -s "$PG_START" -e "$PG_STOP" -r Transaction \
    2> "$T/waldump.err" | grep -c 'desc: COMMIT')
if [ "$during" -gt 0 ]; then pass "pgbench committed $during transactions between backup start and stop (pg_waldump)"
else fail "pgbench committed transactions between backup start and stop (pg_waldump)" \
    "start $PG_START stop $PG_STOP: $(head -c 500 "$T/waldump.err")"; fi
wait $PGBENCH
pgbench_status=$?
check "pgbench's clients all finished without error (exit $pgbench_status)" test "$pgbench_status" -eq 0
if [[ $NAME =~ ^base_[0-9A-F]{24}_[0-9]{8}$ ]]; then pass "backup-push prints the backup name"
else fail "backup-push prints the backup name" "stdout: $NAME"; fi

B="$REPO_DIR/basebackups_005/$NAME"
SENTINEL="$REPO_DIR/basebackups_005/${NAME}_backup_stop_sentinel.json"
check "the sentinel exists and is JSON" jq -e . "$SENTINEL"
check "extended_version.txt holds the server version" grep -q "^PostgreSQL 15" "$B/extended_version.txt"

nparts=$(jq '.parts | length' "$SENTINEL")
stored=$(ls "$B/tar_partitions" | wc -l)
if [ "$nparts" -gt 2 ] && [ "$nparts" -eq "$stored" ]; then pass "the sentinel lists every stored part ($nparts)"
else fail "the sentinel lists every stored part" "sentinel: $nparts, stored: $stored"; fi

bad=""
total=0
for i in $(seq 0 $((nparts - 1))); do
    pname=$(jq -r ".parts[$i].name" "$SENTINEL")
    psize=$(jq -r ".parts[$i].size" "$SENTINEL")
    psha=$(jq -r ".parts[$i].sha256" "$SENTINEL")
    f="$B/tar_partitions/$pname"
    [ "$pname" = "$(printf 'part_%08d.tar.lzo' "$i")" ] || bad="$bad name:$pname"
    [ "$(stat -c %s "$f")" = "$psize" ] || bad="$bad size:$pname"
    [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$psha" ] || bad="$bad sha256:$pname"
    lzop -t "$f" 2> /dev/null || bad="$bad lzop-t:$pname"
    total=$((total + psize))
done
if [ -z "$bad" ]; then pass "each part's name, size and SHA-256 match the sentinel; lzop -t accepts each"
else fail "each part's name, size and SHA-256 match the sentinel; lzop -t accepts each" "$bad"; fi
check "compressed_size_bytes is the sum of the parts" test "$(jq .compressed_size_bytes "$SENTINEL")" = "$total"

M="$B/manifest.json"
check "the manifest's size and SHA-256 match the sentinel" test \
    "$(jq -r '.manifest.size' "$SENTINEL") $(jq -r '.manifest.sha256' "$SENTINEL")" = \
    "$(stat -c %s "$M") $(sha256sum < "$M" | cut -d' ' -f1)"
check "the manifest names its backup" test "$(jq -r .backup "$M")" = "$NAME"

# every tar member in tar order, with its part, from GNU tar
: > "$T/members"
for i in $(seq 0 $((nparts - 1))); do
    lzop -dc "$B/tar_partitions/$(printf 'part_%08d.tar.lzo' "$i")" | tar -t | sed 's,/$,,' \
        | sed "s/\$/ $i/" >> "$T/members"
done
jq -r '.files[] | "\(.path) \(.part)"' "$M" > "$T/manifest-members"
check "the manifest lists every tar member in tar order with its part" \
    cmp "$T/members" "$T/manifest-members"
check "the manifest's files carry size, mode, mtime and sha256" \
    jq -e '[.files[] | select(.type == "file") | select((.size|type) == "number" and (.mode|type) == "number" and (.mtime|type) == "number" and (.sha256|length) == 64)] | length > 100' "$M"

sum_ok=1
for f in PG_VERSION global/pg_filenode.map postgresql.conf "base/1/PG_VERSION"; do
    want=$(sha256sum < "$SRC/$f" | cut -d' ' -f1)
    got=$(jq -r --arg p "$f" '.files[] | select(.path == $p) | .sha256' "$M")
    [ "$want" = "$got" ] || { sum_ok=0; echo "   $f: manifest $got, file $want"; }
done
[ $sum_ok -eq 1 ] && pass "manifest SHA-256 of unchanging files match the source" \
    || fail "manifest SHA-256 of unchanging files match the source"

check "pg_wal and pg_wal/archive_status are stored, empty" \
    bash -c "grep -qx 'pg_wal [0-9]*' '$T/members' && grep -qx 'pg_wal/archive_status [0-9]*' '$T/members' && ! grep -q '^pg_wal/0' '$T/members'"
check "excluded files are left out (postmaster.pid/opts, pg_replslot and pg_stat_tmp contents)" \
    bash -c "! grep -qE '^(postmaster\\.pid|postmaster\\.opts|pg_replslot/.|pg_stat_tmp/.|pg_subtrans/.|pg_notify/.)' '$T/members'"
check "tablespace files are stored under pg_tblspc/$TS_OID/" grep -q "^pg_tblspc/$TS_OID/PG_15_[0-9]*/" "$T/members"
check "the sentinel's spec records the tablespace" test \
    "$(jq -r --arg o "$TS_OID" '"\(.spec.tablespaces[0]) \(.spec[$o].loc) \(.spec[$o].link)"' "$SENTINEL")" = \
    "$TS_OID $T/ts pg_tblspc/$TS_OID"
last=$(printf 'part_%08d.tar.lzo' $((nparts - 1)))
check "backup_label and tablespace_map are in the last part" \
    test "$(lzop -dc "$B/tar_partitions/$last" | tar -t | sort | tr '\n' ' ')" = "backup_label tablespace_map "
check "backup_label names the start position" \
    bash -c "lzop -dc '$B/tar_partitions/$last' | tar -xO backup_label | grep -q 'START WAL LOCATION'"
check "the sentinel records the cluster's identity and positions" jq -e \
    --arg sys "$(as_pg "$PGBIN/pg_controldata" "$SRC" | sed -n 's/^Database system identifier: *//p')" \
    '.system_identifier == $sys and (.vanished_files|type) == "number" and .wal_segment_size == 16777216 and .timeline == 1 and .server_version >= 150000 and (.start_lsn|length) > 2 and (.stop_lsn|length) > 2 and .pgattest_format == 1' "$SENTINEL"

# ---- the backup restores: extract, recover from the archive, same data ----
# Everything pgbench wrote is archived before the restore, and nothing writes to the source
# until the restored cluster is compared with it.
LAST_SEG=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
for i in $(seq 1 600); do [ -f "$REPO_DIR/wal_005/$LAST_SEG.lzo" ] && break; sleep 0.1; done
[ -f "$REPO_DIR/wal_005/$LAST_SEG.lzo" ] || setup_failed "segment $LAST_SEG archived within 60 s"
R=$T/restore
mkdir -p "$R" "$T/ts_restored"; chown "$PGUSER_OS" "$R" "$T/ts_restored"; chmod 700 "$R"
for i in $(seq 0 $((nparts - 1))); do
    lzop -dc "$B/tar_partitions/$(printf 'part_%08d.tar.lzo' "$i")" | as_pg tar -x -C "$R"
done
# what backup-fetch does with tablespace_map: the tablespace goes to its own directory
as_pg bash -c "mv '$R/pg_tblspc/$TS_OID'/* '$T/ts_restored/' && rmdir '$R/pg_tblspc/$TS_OID' && ln -s '$T/ts_restored' '$R/pg_tblspc/$TS_OID' && rm '$R/tablespace_map'"
mkdir -p "$T/restore-sock"; chown "$PGUSER_OS" "$T/restore-sock"
cat >> "$R/postgresql.conf" <<CONF
unix_socket_directories = '$T/restore-sock'
archive_mode = off
restore_command = '$PGATTEST wal-fetch --prefix $REPO %f %p'
CONF
as_pg touch "$R/recovery.signal"
if as_pg "$PGBIN/pg_ctl" -D "$R" -l "$T/restore.log" -w -t 120 start > /dev/null; then
    PG_STARTED+=("$R")
    pass "the restored backup recovers to consistency with WAL from the archive"
    for i in $(seq 1 600); do
        [ "$(as_pg "$PGBIN/psql" -X -At -h "$T/restore-sock" -U postgres -d postgres \
            -c "select pg_is_in_recovery()")" = f ] && break
        sleep 0.1
    done
    check "the restored cluster ended recovery at the end of the archive" test \
        "$(as_pg "$PGBIN/psql" -X -At -h "$T/restore-sock" -U postgres -d postgres \
            -c "select pg_is_in_recovery()")" = f
    got=$(pg_table_digests "$T/restore-sock")
    want=$(pg_table_digests "$PGHOST")
    if [ "$got" = "$want" ] && [ "$(grep -c . <<< "$want")" -ge 6 ]; then
        pass "every table of the restored cluster equals the source's ($(grep -c . <<< "$want") tables)"
    else
        fail "every table of the restored cluster equals the source's" \
            "$(diff <(echo "$want") <(echo "$got") | head -20)"
    fi
    as_pg "$PGBIN/pg_ctl" -D "$R" -m fast -w stop > /dev/null
    check "pg_checksums finds every page checksum of the restored cluster valid" \
        as_pg "$PGBIN/pg_checksums" --check -D "$R"
else
    fail "the restored backup recovers to consistency with WAL from the archive" "$(tail -5 "$T/restore.log")"
fi

# ---- backup-list ----
check_exit "backup-list succeeds" 0 pgattest backup-list --prefix "$REPO"
check "backup-list shows the backup as complete with its stop LSN" \
    grep -q "^$NAME *complete .* $(jq -r .stop_lsn "$SENTINEL") " <<< "$LAST_OUT"
check_exit "backup-list --json succeeds" 0 pgattest backup-list --prefix "$REPO" --json
check "backup-list --json has name, LSNs, timeline, sizes" jq -e --arg n "$NAME" \
    --argjson sz "$(jq .expanded_size_bytes "$SENTINEL")" --argjson c "$total" \
    '.[0].name == $n and .[0].status == "complete" and .[0].size == $sz and .[0].compressed_size == $c and .[0].timeline == 1 and (.[0].start_lsn|length) > 2' <<< "$LAST_OUT"

# ---- a failure in the middle: parts cannot be stored -> exit 1, no sentinel ----
# RLIMIT_FSIZE makes every write past 64 KiB fail with EFBIG: extended_version.txt is
# stored, the tar parts are not.
run_capture as_pg bash -c "trap '' XFSZ; ulimit -f 64; exec '$PGATTEST' backup-push --prefix '$REPO' --fast --partition-size 1M '$SRC'"
if [ "$LAST_STATUS" -eq 1 ]; then pass "backup-push exits 1 when a part cannot be stored"
else fail "backup-push exits 1 when a part cannot be stored" "status $LAST_STATUS: $LAST_ERR"; fi
check_err_contains "the failure names the part and says the backup is incomplete" "no sentinel written"
nsent=$(ls "$REPO_DIR/basebackups_005/" | grep -c '_backup_stop_sentinel.json$')
check "the failed backup left no sentinel" test "$nsent" = 1
check "the server is not left in backup mode (session closed)" \
    test "$(pg_psql src "select count(*) from pg_stat_activity where application_name = 'pgattest'")" = 0
check_exit "backup-list --json after the failure" 0 pgattest backup-list --prefix "$REPO" --json
check "the failed backup is listed as incomplete" jq -e \
    'length == 2 and ([.[] | select(.status == "incomplete" and .complete == false and .size == null)] | length) == 1' <<< "$LAST_OUT"
check_exit "backup-list text after the failure" 0 pgattest backup-list --prefix "$REPO"
check "the text listing says incomplete" grep -q " incomplete " <<< "$LAST_OUT"

# a WAL-E backup (sentinel with WAL-E's keys only) lists with what it knows
WALE=base_000000010000000000000001_00000040
as_pg mkdir -p "$REPO_DIR/basebackups_005/$WALE/tar_partitions"
echo 12345 | as_pg tee "$REPO_DIR/basebackups_005/$WALE/tar_partitions/part_00000000.tar.lzo" > /dev/null
echo '{"wal_segment_backup_stop": "000000010000000000000001", "wal_segment_offset_backup_stop": "00000184", "expanded_size_bytes": 1000}' \
    | as_pg tee "$REPO_DIR/basebackups_005/${WALE}_backup_stop_sentinel.json" > /dev/null
check_exit "backup-list with a WAL-E backup" 0 pgattest backup-list --prefix "$REPO" --json
check "a WAL-E backup is complete, with its size and null LSNs" jq -e --arg n "$WALE" \
    '.[] | select(.name == $n) | .status == "complete" and .size == 1000 and .start_lsn == null and .stop_lsn == null and .timeline == 1 and .wal_segment_backup_stop == "000000010000000000000001"' <<< "$LAST_OUT"
check_exit "backup-list text with a WAL-E backup" 0 pgattest backup-list --prefix "$REPO"
check "the text listing shows - for what a WAL-E sentinel does not record" \
    grep -Eq "^$WALE +complete +[0-9T:Z-]+ +- +- +1 +1000 " <<< "$LAST_OUT"

# an unwritable repository: fails before any part, no sentinel
mkdir -p "$T/ro-repo/basebackups_005"; chmod 555 "$T/ro-repo/basebackups_005"
check_exit "backup-push into an unwritable repository exits 1" 1 \
    pgattest backup-push --prefix "file://$T/ro-repo" --fast "$SRC"
check_err_contains "the error names the repository" "$T/ro-repo"
check_no_file "no sentinel in the unwritable repository" "$T/ro-repo" '*sentinel*'

# ---- the WAL does not reach this repository (archive_command pushes elsewhere) ----
OTHER_REPO=$(new_repo other-repo)
check_exit "backup-push into a repository that does not receive the WAL exits 1" 1 \
    pgattest backup-push --prefix "$OTHER_REPO" --fast --archive-timeout 2 "$SRC"
check_err_contains "it names the missing WAL segment and archive_command" "did not reach"
check_no_file "no sentinel when the WAL is missing" "${OTHER_REPO#file://}" '*sentinel*'

# ---- the data directory of another cluster ----
pg_init other || exit 1
check_exit "backup-push refuses a PGDATA that is not the server's" 1 \
    pgattest backup-push --prefix "$REPO" --fast "$(pg_datadir other)"
check_err_contains "the refusal names both system identifiers" "but the server we connected to is database system"

# ---- refusals: archive_mode off, wal_level minimal ----
pg_init plain || exit 1
pg_start plain || exit 1
check_exit "backup-push refuses when archive_mode is off" 1 \
    pgattest backup-push --prefix "$REPO" --fast --dbname "host=$(pg_sockdir plain) user=postgres dbname=postgres" "$(pg_datadir plain)"
check_err_contains "it says why (archive_mode off, backup useless without WAL)" "archive_mode is off: a base backup without its WAL is useless"
pg_stop plain
pg_conf plain "wal_level = minimal" "max_wal_senders = 0"
pg_start plain || exit 1
check_exit "backup-push refuses when wal_level is minimal" 1 \
    pgattest backup-push --prefix "$REPO" --fast --dbname "host=$(pg_sockdir plain) user=postgres dbname=postgres" "$(pg_datadir plain)"
check_err_contains "it says why (wal_level minimal)" "wal_level is minimal: a base backup without its WAL is useless"
check "no backup was started by the refusals" test "$(ls "$REPO_DIR/basebackups_005" | wc -l)" = 5

# ---- usage ----
check_exit "backup-push without PGDATA is a usage error" 2 pgattest backup-push --prefix "$REPO"
check_exit "backup-push --help" 0 pgattest backup-push --help
check_exit "backup-list --help" 0 pgattest backup-list --help
check_exit "bad --partition-size is a usage error" 2 pgattest backup-push --partition-size 12X "$SRC"
