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
. bench/lib.sh
bench_begin walpush
bench_wal_segments "$SEGMENTS"

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

m_pga=$(bench_median "${T_PGA[@]}")
m_pgbr=$(bench_median "${T_PGBR[@]}")
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
