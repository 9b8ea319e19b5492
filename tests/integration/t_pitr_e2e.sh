# End to end, with real PostgreSQL 15: a cluster archives with pgattest while pgbench runs,
# backup-push takes a base backup under load, then transactions with known content and
# timestamps follow. backup-fetch + restore_command = 'pgattest wal-fetch %f %p':
#  1. recovery_target_time between two known transactions: exactly the ones before it;
#  2. recovery to the end of the archive: every table's checksum equals the source's.
# REPO_URL may name another repository (the S3 suite runs this same script).
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO_URL=${REPO_URL:-$(new_repo repo)}
pg_init src || exit 1
pg_conf src "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO_URL %p'" \
    "archive_timeout = 5" "track_commit_timestamp = on"
pg_start src || exit 1
SRC=$(pg_datadir src)
export PGHOST=$(pg_sockdir src) PGUSER=postgres PGDATABASE=postgres

as_pg "$PGBIN/pgbench" -i -s 3 -q > "$T/pgbench-init.log" 2>&1
as_pg "$PGBIN/pgbench" -c 2 -T 15 > "$T/pgbench.log" 2>&1 &
load=$!
# The backup starts once pgbench is committing (PostgreSQL's count, not a sleep).
commits() { pg_psql src "select xact_commit from pg_stat_database where datname = 'postgres'"; }
c0=$(commits)
for _ in $(seq 1 300); do [ "$(commits)" -gt $((c0 + 50)) ] && break; sleep 0.1; done
check_exit "backup-push under pgbench load" 0 pgattest backup-push --fast --prefix "$REPO_URL" "$SRC"
backup=$LAST_OUT
# pg_backup_stop's history file says what the backup spans; pg_waldump, what committed then.
HIST=$(ls "$SRC"/pg_wal/*.backup | tail -1)
PG_START=$(sed -n 's/^START WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST")
PG_STOP=$(sed -n 's/^STOP WAL LOCATION: \([0-9A-F]*\/[0-9A-F]*\) .*/\1/p' "$HIST")
during=$(as_pg "$PGBIN/pg_waldump" -p "$SRC/pg_wal" -s "$PG_START" -e "$PG_STOP" -r Transaction \
    2> "$T/waldump.err" | grep -c 'desc: COMMIT')
if [ "$during" -gt 0 ]; then pass "pgbench committed $during transactions during the backup (pg_waldump)"
else fail "pgbench committed transactions during the backup (pg_waldump)" \
    "start $PG_START stop $PG_STOP: $(head -c 500 "$T/waldump.err")"; fi
wait $load
check "pgbench's clients finished without error" test $? -eq 0

# Known transactions, one per psql call; PostgreSQL records each commit's time
# (track_commit_timestamp), and the target is halfway between the commits of rows 3 and 4.
pg_psql src "create table marks (id int primary key, at timestamptz)"
for i in 1 2 3 4 5; do
    pg_psql src "insert into marks values ($i, clock_timestamp())"
done
target=$(pg_psql src "select c3 + (c4 - c3) / 2 from
    (select pg_xact_commit_timestamp(xmin) c3 from marks where id = 3) a,
    (select pg_xact_commit_timestamp(xmin) c4 from marks where id = 4) b")
check "the target lies strictly between the commits of rows 3 and 4 (PostgreSQL's times)" \
    test "$(pg_psql src "select pg_xact_commit_timestamp(xmin) < '$target' from marks where id = 3
                         union all
                         select pg_xact_commit_timestamp(xmin) > '$target' from marks where id = 4" |
            tr -d '\n')" = tt
pg_psql src "select pg_switch_wal()" > /dev/null
last=$(pg_psql src "select pg_walfile_name(pg_current_wal_lsn() - 1)")
for _ in $(seq 1 600); do
    archived=$(pg_psql src "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    [[ "$archived" > "$last" || "$archived" == "$last" ]] && break
    sleep 0.1
done
[[ "$archived" > "$last" || "$archived" == "$last" ]] ||
    setup_failed "segment $last archived within 60 s (last archived: $archived)"
checksums() { # checksums CLUSTER: one line per table
    pg_psql "$1" "select 'accounts ' || md5(string_agg(a::text, '|' order by aid)) from pgbench_accounts a
                  union all select 'branches ' || md5(string_agg(b::text, '|' order by bid)) from pgbench_branches b
                  union all select 'tellers ' || md5(string_agg(t::text, '|' order by tid)) from pgbench_tellers t
                  union all select 'history ' || md5(string_agg(h::text, '|' order by h::text)) from pgbench_history h
                  union all select 'marks ' || md5(string_agg(m::text, '|' order by id)) from marks m"
}
checksums src > "$T/source.sums"

restore() { # restore NAME [recovery settings...]: fetch LATEST, recover, wait until promoted
    local name=$1; shift
    mkdir -p "$T/$name"; chown "$PGUSER_OS" "$T/$name"
    check_exit "$name: backup-fetch LATEST" 0 pgattest backup-fetch --prefix "$REPO_URL" "$(pg_datadir "$name")" LATEST
    [[ $LAST_OUT == *"\"$backup\""* ]] && pass "$name: LATEST is the backup backup-push made ($backup)" ||
        fail "$name: LATEST is the backup backup-push made ($backup)" "backup-fetch said: $LAST_OUT"
    # The restored copy must never archive into the production repository.
    pg_conf "$name" "listen_addresses = ''" "unix_socket_directories = '$(pg_sockdir "$name")'" \
        "archive_mode = off" "log_min_messages = log" "restore_command = '$PGATTEST wal-fetch --prefix $REPO_URL %f %p'" "$@"
    as_pg touch "$(pg_datadir "$name")/recovery.signal"
    pg_start "$name" || { fail "$name: restored cluster starts"; return 1; }
    local state=""
    for _ in $(seq 1 120); do
        state=$(pg_psql "$name" "select pg_is_in_recovery()" 2>/dev/null)
        [ "$state" = f ] && break
        sleep 1
    done
    check "$name: recovery finished and the cluster was promoted" test "$state" = f
}

restore pitr "recovery_target_time = '$target'" "recovery_target_action = 'promote'"
ids=$(pg_psql pitr "select string_agg(id::text, ',' order by id) from marks")
check "point in time: exactly the transactions before $target (got: $ids)" test "$ids" = "1,2,3"
check "point in time: recovery used archived WAL fetched by pgattest" \
    grep -q 'restored log file "0000000' "$T/pitr/server.log"
pg_stop pitr

restore full
checksums full > "$T/restored.sums"
check "end of archive: every table's checksum equals the source's" cmp "$T/source.sums" "$T/restored.sums"
pg_stop full
pg_stop src
