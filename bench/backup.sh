#!/bin/bash
# Benchmark: full base backup of one cluster, pgattest backup-push (file:// repository, lzop,
# 2 jobs) against pgBackRest backup (posix repository, lz4, process-max=2), in one run on the
# same data. The dataset is pgbench at SCALE plus RANDOM_MB of poorly compressible random
# text, because pgbench alone compresses 9-23x and flatters every compressor.
# Prints wall time, MB/s of data backed up, peak RSS (/usr/bin/time -v; for pgBackRest the
# largest of its processes), repository size, and the ratios.
#
#   bench/backup.sh [SCALE] [RANDOM_MB] [ROUNDS]     defaults: 50, 300, 1
#
# Needs root (runs PostgreSQL as the postgres OS user) and `scripts/install-deps.sh --bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-50}
RANDOM_MB=${2:-300}
ROUNDS=${3:-1}
. bench/lib.sh
bench_begin backup

cat > "$B/pgbackrest.conf" <<CONF
[global]
repo1-path=$B/pgbr-repo
repo1-retention-full=100
compress-type=lz4
process-max=2
start-fast=y
log-level-console=warn
log-level-file=off
lock-path=$B/pgbr-lock
[bench]
pg1-path=$B/data
pg1-socket-path=$B
pg1-user=postgres
CONF
chown postgres "$B/pgbackrest.conf"

echo "== dataset: pgbench scale $SCALE + $RANDOM_MB MB of random text"
as_pg "$PGBIN/initdb" -D "$B/data" -U postgres -A trust --no-sync >/dev/null
cat >> "$B/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$B'
max_wal_size = 4GB
fsync = off
archive_mode = on
archive_command = '$B/pgattest wal-push --prefix file://$B/pga-repo %p && pgbackrest --config=$B/pgbackrest.conf --stanza=bench archive-push %p'
CONF
as_pg mkdir -p "$B/pga-repo" "$B/pgbr-repo"
as_pg "$PGBIN/pg_ctl" -D "$B/data" -l "$B/server.log" -w start >/dev/null
as_pg pgbackrest --config="$B/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
bench_dataset "$B" "$SCALE" "$RANDOM_MB"
data_bytes=$(du -sb --exclude=pg_wal "$B/data" | cut -f1)
echo "   data directory (without pg_wal): $((data_bytes / 1048576)) MiB"
# same starting point for both: the data in the page cache
find "$B/data" -type f -exec cat {} + > /dev/null 2>&1 || true  # files may vanish (archiver)


# Each backup waits for its last WAL segment to be archived: start each with the archiver idle,
# so neither pays for the other's (or the data load's) backlog.
archiver_idle() {
    psql_b "select pg_switch_wal()" > /dev/null
    while [ "$(psql_b "select count(*) from pg_ls_archive_statusdir() where name like '%.ready'")" != 0 ]; do
        sleep 0.2
    done
}

best_pga="" best_pgbr="" rss_pga=0 rss_pgbr=0
for round in $(seq 1 "$ROUNDS"); do
    archiver_idle
    bench_measure "$B/time-pga" "$B/pgattest" backup-push --prefix "file://$B/pga-repo" --fast \
        --dbname "host=$B user=postgres dbname=postgres" "$B/data"
    [ -z "$best_pga" ] || [ "$(echo "$WALL < $best_pga" | bc)" = 1 ] && best_pga=$WALL
    [ "$RSS" -gt "$rss_pga" ] && rss_pga=$RSS
    echo "   round $round: pgattest backup-push  $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
    archiver_idle
    bench_measure "$B/time-pgbr" pgbackrest --config="$B/pgbackrest.conf" --stanza=bench --type=full backup
    [ -z "$best_pgbr" ] || [ "$(echo "$WALL < $best_pgbr" | bc)" = 1 ] && best_pgbr=$WALL
    [ "$RSS" -gt "$rss_pgbr" ] && rss_pgbr=$RSS
    echo "   round $round: pgbackrest backup     $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
done

size_pga=$(( $(du -sb "$B/pga-repo/basebackups_005" | cut -f1) / ROUNDS ))
size_pgbr=$(( $(du -sb "$B/pgbr-repo/backup" | cut -f1) / ROUNDS ))
mb=$(echo "$data_bytes / 1048576" | bc -l)
echo
echo "full backup of $(printf '%.0f' "$mb") MiB (pgbench scale $SCALE + $RANDOM_MB MB random text), best of $ROUNDS:"
printf '  %-40s %7.2f s %8.1f MB/s  peak RSS %6.1f MiB  repo %7.1f MiB\n' \
    "pgattest backup-push (lzop, 2 jobs)" "$best_pga" "$(echo "$mb / $best_pga" | bc -l)" \
    "$(echo "$rss_pga / 1024" | bc -l)" "$(echo "$size_pga / 1048576" | bc -l)"
printf '  %-40s %7.2f s %8.1f MB/s  peak RSS %6.1f MiB  repo %7.1f MiB\n' \
    "pgbackrest backup (lz4, process-max=2)" "$best_pgbr" "$(echo "$mb / $best_pgbr" | bc -l)" \
    "$(echo "$rss_pgbr / 1024" | bc -l)" "$(echo "$size_pgbr / 1048576" | bc -l)"
printf '  throughput ratio (pgattest / pgBackRest): %.2fx   (target >= 1.5x)\n' "$(echo "$best_pgbr / $best_pga" | bc -l)"
printf '  peak RSS pgattest: %.1f MiB   (target < 32 MiB)\n' "$(echo "$rss_pga / 1024" | bc -l)"
printf '  repository size ratio (pgattest / pgBackRest): %.2f\n' "$(echo "$size_pga / $size_pgbr" | bc -l)"
echo "  (restore: bench/restore.sh on the same kind of dataset)"
