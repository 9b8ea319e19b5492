#!/bin/bash
# Benchmark: archive one real 16 MiB WAL segment per process, as archive_command does,
# pgattest wal-push (file:// repository) against pgbackrest archive-push (posix repository,
# lz4), on the same segments, in one run. Prints per-segment time (median of all pushes),
# segments per second, peak RSS, repository size and the ratios.
#
#   bench/wal_push.sh [SEGMENTS] [ROUNDS]      defaults: 10 segments, 3 rounds
#
# Needs root (runs PostgreSQL as the postgres OS user) and `scripts/install-deps.sh --bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
SEGMENTS=${1:-10}
ROUNDS=${2:-3}
PGBIN=/usr/lib/postgresql/15/bin
scripts/install-deps.sh --bench
make -s build/pgattest

B=$(mktemp -d /tmp/pgattest-bench.XXXXXX)
chmod 755 "$B"; chown postgres "$B"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$B/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$B"; }
trap cleanup EXIT
install -m 755 build/pgattest "$B/pgattest"

echo "== generating $SEGMENTS real WAL segments (pgbench)"
as_pg "$PGBIN/initdb" -D "$B/data" -U postgres -A trust --no-sync >/dev/null
cat >> "$B/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$B'
wal_keep_size = 4GB
max_wal_size = 4GB
fsync = off
CONF
as_pg "$PGBIN/pg_ctl" -D "$B/data" -l "$B/server.log" -w start >/dev/null
as_pg "$PGBIN/pgbench" -h "$B" -U postgres -i -s 20 -q postgres >/dev/null 2>&1
start_seg=$(as_pg "$PGBIN/psql" -h "$B" -U postgres -Atc "select pg_walfile_name(pg_current_wal_lsn())" postgres)
while :; do
    as_pg "$PGBIN/pgbench" -h "$B" -U postgres -c 2 -T 3 postgres >/dev/null 2>&1
    n=$(ls "$B/data/pg_wal" | grep '^[0-9A-F]\{24\}$' | awk -v s="$start_seg" '$0 >= s' | wc -l)
    [ "$n" -gt $((SEGMENTS + 2)) ] && break
done
as_pg "$PGBIN/psql" -h "$B" -U postgres -Atc "select pg_switch_wal()" postgres >/dev/null
mkdir -p "$B/segs"
ls "$B/data/pg_wal" | grep '^[0-9A-F]\{24\}$' | sort | awk -v s="$start_seg" '$0 >= s' \
    | head -n "$SEGMENTS" | while read -r f; do cp "$B/data/pg_wal/$f" "$B/segs/"; done
chown -R postgres "$B/segs"
echo "   $(ls "$B/segs" | wc -l) segments, $(du -sh "$B/segs" | cut -f1)"

cat > "$B/pgbackrest.conf" <<CONF
[global]
repo1-path=$B/pgbr-repo
compress-type=lz4
log-level-console=warn
log-level-file=off
lock-path=$B/pgbr-lock
[bench]
pg1-path=$B/data
pg1-socket-path=$B
pg1-user=postgres
CONF
chown postgres "$B/pgbackrest.conf"

now_ns() { date +%s%N; }
declare -a T_PGA T_PGBR
RSS_PGA=0 RSS_PGBR=0
for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$B/pga-repo" "$B/pgbr-repo" "$B/pgbr-lock"
    as_pg mkdir -p "$B/pga-repo" "$B/pgbr-repo"
    as_pg pgbackrest --config="$B/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
    for f in "$B"/segs/*; do
        t0=$(now_ns)
        rss=$(as_pg /usr/bin/time -f %M "$B/pgattest" wal-push --prefix "file://$B/pga-repo" "$f" 2>&1 >/dev/null | tail -1)
        t1=$(now_ns)
        T_PGA+=($(( (t1 - t0) / 1000 )))
        [ "$rss" -gt "$RSS_PGA" ] && RSS_PGA=$rss
        t0=$(now_ns)
        rss=$(as_pg /usr/bin/time -f %M pgbackrest --config="$B/pgbackrest.conf" --stanza=bench archive-push "$f" 2>&1 >/dev/null | tail -1)
        t1=$(now_ns)
        T_PGBR+=($(( (t1 - t0) / 1000 )))
        [ "$rss" -gt "$RSS_PGBR" ] && RSS_PGBR=$rss
    done
    echo "   round $round done"
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
m_pga=$(median "${T_PGA[@]}")
m_pgbr=$(median "${T_PGBR[@]}")
size_pga=$(du -sb "$B/pga-repo" | cut -f1)
size_pgbr=$(du -sb "$B/pgbr-repo/archive" | cut -f1)
echo
echo "archive one 16 MiB segment per process ($(( ${#T_PGA[@]} )) pushes each, median):"
printf '  %-34s %8.1f ms  %6.1f seg/s  peak RSS %6.1f MiB  repo %6.1f MiB\n' \
    "pgattest wal-push (lzop, file://)" "$(echo "$m_pga/1000" | bc -l)" "$(echo "1000000/$m_pga" | bc -l)" \
    "$(echo "$RSS_PGA/1024" | bc -l)" "$(echo "$size_pga/1048576" | bc -l)"
printf '  %-34s %8.1f ms  %6.1f seg/s  peak RSS %6.1f MiB  repo %6.1f MiB\n' \
    "pgbackrest archive-push (lz4)" "$(echo "$m_pgbr/1000" | bc -l)" "$(echo "1000000/$m_pgbr" | bc -l)" \
    "$(echo "$RSS_PGBR/1024" | bc -l)" "$(echo "$size_pgbr/1048576" | bc -l)"
printf '  ratio (pgattest speed / pgBackRest speed): %.2fx   (target >= 1.75x)\n' "$(echo "$m_pgbr/$m_pga" | bc -l)"
