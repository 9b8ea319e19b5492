# PostgreSQL 15 clusters for integration tests. Source after common.sh.
#
#   pg_init NAME [initdb args...]   initdb into $T/NAME/data (as the postgres OS user)
#   pg_conf NAME 'line'...          append to postgresql.conf
#   pg_start NAME / pg_stop NAME    start (waits until ready) / stop (fast)
#   pg_psql NAME SQL                run SQL, print unaligned tuples-only output
#   pg_datadir NAME / pg_sockdir NAME
# Clusters listen only on a Unix socket in their own directory, so parallel runs and other
# PostgreSQL servers on the machine never collide on a port. Every cluster started here is
# stopped when the script exits, whatever happens.
PG_STARTED=()

pg_datadir() { echo "$T/$1/data"; }
pg_sockdir() { echo "$T/$1"; }

pg_init() {
    local name=$1; shift
    mkdir -p "$T/$name"; chown "$PGUSER_OS" "$T/$name"
    as_pg "$PGBIN/initdb" -D "$(pg_datadir "$name")" -U postgres --no-sync -A trust "$@" \
        > "$T/$name/initdb.log" 2>&1 || { cat "$T/$name/initdb.log"; return 1; }
    pg_conf "$name" "listen_addresses = ''" \
        "unix_socket_directories = '$(pg_sockdir "$name")'" \
        "fsync = off" "shared_buffers = 32MB" "max_wal_size = 256MB" \
        "log_min_messages = warning" "logging_collector = off"
}

pg_conf() {
    local name=$1; shift
    local line
    for line in "$@"; do echo "$line" >> "$(pg_datadir "$name")/postgresql.conf"; done
}

pg_start() {
    local name=$1
    if as_pg "$PGBIN/pg_ctl" -D "$(pg_datadir "$name")" -l "$T/$name/server.log" -w -t 120 start \
        > /dev/null; then
        PG_STARTED+=("$(pg_datadir "$name")")
        return 0
    fi
    echo "cannot start cluster $name:"; tail -20 "$T/$name/server.log"
    return 1
}

pg_stop() {
    as_pg "$PGBIN/pg_ctl" -D "$(pg_datadir "$1")" -m fast -w -t 120 stop > /dev/null 2>&1
}

pg_psql() {
    local name=$1; shift
    as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$(pg_sockdir "$name")" -U postgres \
        -d postgres -c "$*"
}

pg_stop_all() {
    local d
    for d in "${PG_STARTED[@]}"; do
        [ -f "$d/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$d" -m immediate -w stop \
            > /dev/null 2>&1
    done
    return 0
}
trap pg_stop_all EXIT

# pg_table_digests SOCKDIR: one line per table of database postgres (every schema but the
# system ones): "schema.table rows md5-of-the-sorted-rows". Two clusters with the same data
# print the same lines; PostgreSQL computes them, so it is the oracle.
pg_table_digests() {
    local sock=$1 tbl
    as_pg "$PGBIN/psql" -X -q -At -h "$sock" -U postgres -d postgres -c \
        "select format('%I.%I', schemaname, tablename) from pg_tables
         where schemaname not in ('pg_catalog', 'information_schema') order by 1" |
    while IFS= read -r tbl; do
        as_pg "$PGBIN/psql" -X -q -At -h "$sock" -U postgres -d postgres -c \
            "select '$tbl ' || count(*) || ' ' || coalesce(md5(string_agg(r, E'\n' order by r)), '-')
             from (select x::text as r from $tbl x) s"
    done
}
