#!/bin/bash
# make demo: the main job on a throwaway PostgreSQL 15 cluster, end to end.
#   archive with wal-push -> base backup under load -> more load -> backup-list -> verify ->
#   restore into a scratch directory with backup-fetch + wal-fetch -> prove the data matches.
# Everything lives in a temporary directory that is removed at the end (KEEP=1 keeps it).
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=/usr/lib/postgresql/15/bin
D=$(mktemp -d /tmp/pgattest-demo.XXXXXX)
chmod 755 "$D"

if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$D"
    as_pg() { runuser -u postgres -- "$@"; }
else
    as_pg() { "$@"; }
fi
cleanup() {
    for c in "$D/restored" "$D/cluster"; do
        [ -f "$c/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$c" -m immediate -w stop >/dev/null 2>&1
    done
    if [ -n "${KEEP:-}" ]; then echo "kept $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

install -m 755 build/pgattest "$D/pgattest"
PGA="$D/pgattest"
REPO="file://$D/repository"
export PGATTEST_PREFIX=$REPO PGHOST=$D PGUSER=postgres PGDATABASE=postgres

step "A throwaway PostgreSQL 15 cluster in $D/cluster, archiving into $REPO"
as_pg mkdir "$D/repository"   # pgattest never creates the repository directory itself
as_pg "$PGBIN/initdb" -D "$D/cluster" -U postgres -A trust --no-sync >/dev/null
cat >> "$D/cluster/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$D'
archive_mode = on
archive_command = '$PGA wal-push %p'
archive_timeout = 5
CONF
as_pg "$PGBIN/pg_ctl" -D "$D/cluster" -l "$D/cluster.log" -w start >/dev/null
echo "archive_command = '$PGA wal-push %p'"

step "Load: pgbench (scale 5)"
as_pg "$PGBIN/pgbench" -i -s 5 -q 2>&1 | tail -1

step "Base backup while pgbench runs: pgattest backup-push --fast (immediate checkpoint)"
as_pg "$PGBIN/pgbench" -c 2 -T 8 >/dev/null 2>&1 &
load=$!
sleep 1
backup=$(as_pg "$PGA" backup-push --fast "$D/cluster")
wait $load
echo "backup $backup stored"

step "More transactions after the backup"
as_pg "$PGBIN/pgbench" -c 2 -T 4 2>&1 | grep 'transactions actually processed'
as_pg "$PGBIN/psql" -Atqc "create table demo_marker as select 'written after the base backup'::text as note, now() as at"
as_pg "$PGBIN/psql" -Atqc "select pg_switch_wal()" >/dev/null
want=$(as_pg "$PGBIN/psql" -Atc "select pg_walfile_name(pg_current_wal_lsn() - 1)")
for _ in $(seq 1 60); do
    got=$(as_pg "$PGBIN/psql" -Atc "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    [[ "$got" > "$want" || "$got" == "$want" ]] && break
    sleep 1
done
echo "WAL archived up to $got"

step "pgattest backup-list"
as_pg "$PGA" backup-list

step "pgattest verify --deep: can these backups be restored, and to when? (every object checked)"
set +e
as_pg "$PGA" verify --deep --no-state
verdict=$?
set -e
echo "verify exit status $verdict (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)"
[ "$verdict" -le 1 ] || { echo "verify found the archive broken" >&2; exit 1; }

sums() {
    as_pg "$PGBIN/psql" -h "$1" -Atc "select 'pgbench_accounts ' || md5(string_agg(a::text, '|' order by aid)) from pgbench_accounts a
        union all select 'pgbench_history  ' || md5(string_agg(h::text, '|' order by h::text)) from pgbench_history h
        union all select 'demo_marker      ' || note from demo_marker"
}
sums "$D" > "$D/source.sums"

step "Restore into a scratch directory: backup-fetch LATEST, then recovery with wal-fetch"
as_pg "$PGA" backup-fetch "$D/restored" LATEST
mkdir -p "$D/restored-socket"; [ "$(id -u)" -eq 0 ] && chown postgres "$D/restored-socket"
cat >> "$D/restored/postgresql.conf" <<CONF
unix_socket_directories = '$D/restored-socket'
archive_mode = off
restore_command = '$PGA wal-fetch %f %p'
CONF
as_pg touch "$D/restored/recovery.signal"
as_pg "$PGBIN/pg_ctl" -D "$D/restored" -l "$D/restored.log" -w start >/dev/null
for _ in $(seq 1 120); do
    [ "$(as_pg "$PGBIN/psql" -h "$D/restored-socket" -Atc 'select pg_is_in_recovery()' 2>/dev/null)" = f ] && break
    sleep 1
done
echo "restored cluster recovered to the end of the archive and was promoted"

step "Proof: table checksums, source vs restored"
sums "$D/restored-socket" > "$D/restored.sums"
paste "$D/source.sums" "$D/restored.sums" | awk -F'\t' '{printf "  %-50s %s\n", $1, ($1 == $2 ? "= restored" : "DIFFERS: " $2)}'
if cmp -s "$D/source.sums" "$D/restored.sums"; then
    step "Done: archived, backed up under load, restored, and the data matches. Cleaning up."
else
    echo "the restored data differs from the source" >&2
    exit 1
fi
