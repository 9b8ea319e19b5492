#!/bin/bash
# backup-fetch of hot backups made by backup-push: a cluster with a tablespace archives with
# pgattest; backup-push under writes (pg_waldump shows commits between start and stop);
# backup-fetch remaps the tablespace (the recorded location is in use), rewrites
# tablespace_map, and PostgreSQL's recovery — which recreates pg_tblspc links from
# tablespace_map — ends with every row of every table, the tablespace's included, in the
# new place.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO=$(new_repo repo); REPO_DIR=${REPO#file://}
pg_init src || exit 1
pg_conf src "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO %p'"
pg_start src || exit 1
export PGHOST=$(pg_sockdir src) PGUSER=postgres PGDATABASE=postgres
as_pg mkdir -p "$T/ts"
pg_psql src "create tablespace ts location '$T/ts'" >/dev/null
pg_psql src "create table in_ts (id int, v text) tablespace ts;
             insert into in_ts select g, md5(g::text) from generate_series(1, 20000) g;
             create table plain (id int); insert into plain select generate_series(1, 5000)" >/dev/null
TS_OID=$(pg_psql src "select oid from pg_tablespace where spcname = 'ts'")
# A link out of the data directory (a log directory on another disk, say): kept as a link,
# as pg_basebackup keeps it, and restored as a link, never followed.
as_pg ln -s "$T/elsewhere" "$(pg_datadir src)/outside_link"

# Writers during the backup: pgbench inserting into both tables until the backup is done.
printf 'insert into in_ts values (:client_id, md5(random()::text));\ninsert into plain values (:client_id);\n' \
    > "$T/writes.sql"; chmod 644 "$T/writes.sql"
as_pg "$PGBIN/pgbench" -h "$PGHOST" -U postgres -n -c 2 -T 20 -f "$T/writes.sql" postgres > "$T/pgbench.log" 2>&1 &
PGBENCH=$!
commits() { pg_psql src "select xact_commit from pg_stat_database where datname = 'postgres'"; }
c0=$(commits)
for i in $(seq 1 300); do [ "$(commits)" -gt $((c0 + 50)) ] && break; sleep 0.1; done
check_exit "backup-push" 0 pgattest backup-push --prefix "$REPO" --fast "$(pg_datadir src)"
NAME=$LAST_OUT
# PostgreSQL says what the backup spans (pg_backup_stop's history file) and pg_waldump what
# committed in between: the backup was taken under writes.
HIST=$(ls "$(pg_datadir src)"/pg_wal/*.backup | tail -1)
PG_START=$(sed -n 's/^START WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST")
PG_STOP=$(sed -n 's/^STOP WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST")
during=$(as_pg "$PGBIN/pg_waldump" -p "$(pg_datadir src)/pg_wal" -s "$PG_START" -e "$PG_STOP" \
    -r Transaction 2> "$T/waldump.err" | grep -c 'desc: COMMIT')
if [ "$during" -gt 0 ]; then pass "$during transactions committed between backup start and stop (pg_waldump)"
else fail "transactions committed between backup start and stop (pg_waldump)" \
    "start $PG_START stop $PG_STOP: $(head -c 500 "$T/waldump.err")"; fi
wait $PGBENCH
check "the writers finished without error" test $? -eq 0
pg_psql src "insert into in_ts select g, 'after' from generate_series(20001, 21000) g;
             insert into plain select generate_series(5001, 6000)" >/dev/null
seg=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
for i in $(seq 1 600); do [ -f "$REPO_DIR/wal_005/$seg.lzo" ] && break; sleep 0.1; done
[ -f "$REPO_DIR/wal_005/$seg.lzo" ] || setup_failed "segment $seg archived within 60 s"
EXPECT=$(pg_table_digests "$PGHOST")

as_pg mkdir -p "$T/dst"
check_exit "the recorded tablespace location is in use: refused" 1 \
    pgattest backup-fetch --prefix "$REPO" "$(pg_datadir dst)" "$NAME"
check_exit "backup-fetch with the tablespace remapped" 0 \
    pgattest backup-fetch --prefix "$REPO" --jobs 3 --tablespace-map "$TS_OID=$T/ts_new" "$(pg_datadir dst)" "$NAME"
[[ $LAST_OUT == *"every file against the manifest"* ]] && pass "every file was checked against backup-push's manifest" ||
    fail "every file was checked against backup-push's manifest" "$LAST_OUT"
grep -q "^$TS_OID $T/ts_new\$" "$(pg_datadir dst)/tablespace_map" &&
    pass "tablespace_map names the new location" || fail "tablespace_map names the new location" "$(cat "$(pg_datadir dst)/tablespace_map" 2>&1)"
[ "$(readlink "$(pg_datadir dst)/outside_link")" = "$T/elsewhere" ] &&
    pass "a symlink pointing out of PGDATA is restored as that symlink" ||
    fail "a symlink pointing out of PGDATA is restored as that symlink" "$(ls -l "$(pg_datadir dst)" 2>&1 | head -5)"
[ ! -e "$T/elsewhere" ] && pass "nothing was written through it" || fail "nothing was written through it"
[ -f "$(pg_datadir dst)/backup_label" ] && pass "backup_label from pg_backup_stop is restored" || fail "backup_label from pg_backup_stop is restored"

pg_conf dst "unix_socket_directories = '$(pg_sockdir dst)'" "archive_mode = off" \
    "restore_command = '$PGATTEST wal-fetch --prefix $REPO %f %p'"
as_pg touch "$(pg_datadir dst)/recovery.signal"
if pg_start dst; then
    for i in $(seq 1 600); do
        [ "$(pg_psql dst "select pg_is_in_recovery()")" = f ] && break
        sleep 0.1
    done
    check "the restored cluster ended recovery" test "$(pg_psql dst "select pg_is_in_recovery()")" = f
    got=$(pg_table_digests "$(pg_sockdir dst)")
    [ "$got" = "$EXPECT" ] && pass "recovered: every row of every table, the tablespace's included" ||
        fail "recovered: every row of every table, the tablespace's included" "$(diff <(echo "$EXPECT") <(echo "$got"))"
    [ "$(readlink "$(pg_datadir dst)/pg_tblspc/$TS_OID")" = "$T/ts_new" ] &&
        pass "after recovery pg_tblspc/$TS_OID still points to the new location" ||
        fail "after recovery pg_tblspc/$TS_OID still points to the new location" "$(ls -l "$(pg_datadir dst)/pg_tblspc")"
    loc=$(pg_psql dst "select pg_tablespace_location($TS_OID)")
    [ "$loc" = "$T/ts_new" ] && pass "PostgreSQL reports the tablespace at the new location" ||
        fail "PostgreSQL reports the tablespace at the new location" "$loc"
    pg_stop dst
else
    fail "the restored cluster starts"
fi
pg_stop src
