# The engine tests, run against any repository URL (file:// or s3://).
# Source after common.sh and pg.sh.
#
#   engine_suite URL [ENV_FILE]
#
# ENV_FILE (optional) is sourced before pgattest runs (credentials, endpoint); it is read by
# the PostgreSQL user only, so no secret ever appears on a command line. Every pgattest call
# here, archive_command and restore_command included, goes through the wrapper $T/pgattest-repo.

# make_wrapper URL [ENV_FILE] -> prints the wrapper path
make_wrapper() {
    local url=$1 envf=${2:-} w="$T/pgattest-repo"
    {
        echo '#!/bin/sh'
        [ -n "$envf" ] && echo ". '$envf'"
        echo "export PGATTEST_PREFIX='$url'"
        echo "exec '$PGATTEST' \"\$@\""
    } > "$w"
    chmod 700 "$w"; chown "$PGUSER_OS" "$w"
    echo "$w"
}

# a WAL-like file: half random (incompressible), half zeros
make_segment() { # PATH SIZE_MIB SEED
    { head -c $(( $2 * 524288 )) /dev/urandom; head -c $(( $2 * 524288 )) /dev/zero; } > "$1"
    chown "$PGUSER_OS" "$1"
}

engine_suite() {
    local url=$1 envf=${2:-} w
    w=$(make_wrapper "$url" "$envf")
    repo() { as_pg "$w" "$@"; }
    local d="$T/engine"
    mkdir -p "$d/pg_wal" "$d/restore"; chown -R "$PGUSER_OS" "$d"

    # -- wal-push / wal-fetch round trips
    make_segment "$d/pg_wal/000000010000000000000001" 16
    check_exit "[$url] wal-push of a 16 MiB segment" 0 repo wal-push "$d/pg_wal/000000010000000000000001"
    check_exit "[$url] wal-fetch of it" 0 repo wal-fetch 000000010000000000000001 "$d/restore/seg1"
    check "[$url] fetched segment equals the original" cmp "$d/pg_wal/000000010000000000000001" "$d/restore/seg1"
    check_exit "[$url] pushing identical content again succeeds" 0 repo wal-push "$d/pg_wal/000000010000000000000001"
    make_segment "$d/other/000000010000000000000001" 16 2>/dev/null || {
        mkdir -p "$d/other"; chown "$PGUSER_OS" "$d/other"; make_segment "$d/other/000000010000000000000001" 16; }
    check_exit "[$url] pushing different content under an archived name fails" 1 repo wal-push "$d/other/000000010000000000000001"
    check_err_contains "[$url] ... and says so" "differs from the archived"
    check_exit "[$url] the archived object was left untouched" 0 repo wal-fetch 000000010000000000000001 "$d/restore/seg1b"
    check "[$url] ... same bytes as the first push" cmp "$d/pg_wal/000000010000000000000001" "$d/restore/seg1b"
    check_exit "[$url] wal-fetch of a missing segment exits 1" 1 repo wal-fetch 0000000100000000000000FF "$d/restore/missing"
    check_no_file "[$url] ... and leaves nothing behind" "$d/restore" "*0000000100000000000000FF*"
    printf '1\t0/3000000\tno recovery target specified\n' > "$d/pg_wal/00000002.history"
    chown "$PGUSER_OS" "$d/pg_wal/00000002.history"
    check_exit "[$url] wal-push of a timeline history file" 0 repo wal-push "$d/pg_wal/00000002.history"
    check_exit "[$url] wal-fetch of it" 0 repo wal-fetch 00000002.history "$d/restore/hist"
    check "[$url] history file round trip" cmp "$d/pg_wal/00000002.history" "$d/restore/hist"
    : > "$d/pg_wal/empty"; chown "$PGUSER_OS" "$d/pg_wal/empty"
    check_exit "[$url] wal-push refuses a non-WAL name" 1 repo wal-push "$d/pg_wal/empty"

    # -- a real PostgreSQL archiving into the repository, and a restore from it (under its own
    # prefix: the synthetic segments above must not collide with the cluster's)
    w=$(make_wrapper "$url/cluster" "$envf")
    pg_init src || { fail "[$url] initdb"; return; }
    pg_conf src "wal_level = replica" "archive_mode = on" "archive_timeout = 0" \
        "archive_command = '$w wal-push %p'"
    pg_start src || { fail "[$url] start PostgreSQL"; return; }
    pg_psql src "create table t (id int, v text); insert into t select g, md5(g::text) from generate_series(1, 1000) g" > /dev/null
    mkdir -p "$T/dst"; chown "$PGUSER_OS" "$T/dst"
    if as_pg timeout 300 "$PGBIN/pg_basebackup" -h "$(pg_sockdir src)" -U postgres -D "$(pg_datadir dst)" \
            -X none -c fast > "$T/basebackup.log" 2>&1; then
        pass "[$url] base backup taken (no WAL inside: it must come from the archive)"
    else
        fail "[$url] base backup" "$(cat "$T/basebackup.log")"; return
    fi
    pg_psql src "insert into t select g, md5(g::text) from generate_series(1001, 2000) g" > /dev/null
    local last
    last=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
    local i archived=""
    for i in $(seq 120); do
        archived=$(pg_psql src "select coalesce(last_archived_wal, '') from pg_stat_archiver")
        [[ "$archived" > "$last" || "$archived" == "$last" ]] && break
        sleep 0.5
    done
    local failed_count
    failed_count=$(pg_psql src "select failed_count from pg_stat_archiver")
    if [[ "$archived" > "$last" || "$archived" == "$last" ]]; then
        pass "[$url] archive_command archived up to $last"
    else
        fail "[$url] archive_command archived up to $last" "last archived: $archived" "$(tail -5 "$T/src/server.log")"
    fi
    check "[$url] no archive_command failures" test "$failed_count" = 0
    pg_stop src

    pg_conf dst "unix_socket_directories = '$(pg_sockdir dst)'" "archive_mode = off" \
        "restore_command = '$w wal-fetch %f %p'"
    as_pg touch "$(pg_datadir dst)/recovery.signal"
    if pg_start dst; then
        local inrec=t
        for i in $(seq 120); do
            inrec=$(pg_psql dst "select pg_is_in_recovery()" 2>/dev/null)
            [ "$inrec" = f ] && break
            sleep 0.5
        done
        check "[$url] restored cluster finished recovery from the archive" test "$inrec" = f
        check "[$url] restored cluster has every archived row" test "$(pg_psql dst 'select count(*) from t')" = 2000
        pg_stop dst
    else
        fail "[$url] restored cluster starts"
    fi
}
