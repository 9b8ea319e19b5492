#!/bin/bash
# Benchmark: restore of one full base backup, pgattest backup-fetch (file:// repository,
# lzop, --jobs 2, every file and part verified, every file fsynced) against pgBackRest
# restore (posix repository, lz4, process-max=2), in one run on the same data: pgbench at
# SCALE plus RANDOM_MB of poorly compressible random text (pgbench alone compresses 9-23x and
# flatters every compressor). Prints wall time, MB/s of data restored, peak RSS
# (/usr/bin/time -v; for pgBackRest the largest of its processes) and the ratios.
#
#   bench/restore.sh [SCALE] [RANDOM_MB] [ROUNDS]     defaults: 50, 300, 1
#   PARTITION_SIZE=128M bench/restore.sh ...          backup-push's --partition-size (parts
#                                                     are what backup-fetch restores in parallel)
#
# Needs root (PostgreSQL runs as the postgres OS user), `scripts/install-deps.sh --bench`,
# and a build with backup-push (the backups to restore are made with it).
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-50}
RANDOM_MB=${2:-300}
ROUNDS=${3:-1}
. bench/lib.sh
bench_begin restore
build/pgattest backup-push --help > /dev/null 2>&1 ||
    { echo "bench/restore.sh: this build has no backup-push to make the backup with" >&2; exit 1; }


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
as_pg "$B/pgattest" backup-push --prefix "file://$B/pga-repo" --fast \
    ${PARTITION_SIZE:+--partition-size "$PARTITION_SIZE"} \
    --dbname "host=$B user=postgres dbname=postgres" "$B/data" > /dev/null
echo "   pgattest backup: $(ls "$B"/pga-repo/basebackups_005/*/tar_partitions | wc -l) parts (partition size ${PARTITION_SIZE:-default})"
as_pg pgbackrest --config="$B/pgbackrest.conf" --stanza=bench --type=full backup
as_pg "$PGBIN/pg_ctl" -D "$B/data" -m fast -w stop > /dev/null
data_bytes=$(du -sb --exclude=pg_wal "$B/data" | cut -f1)
echo "   data directory (without pg_wal): $((data_bytes / 1048576)) MiB"


export BENCH_DROP_CACHES=1   # both restores start from disk
best_pga="" best_pgbr="" rss_pga=0 rss_pgbr=0
for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$B/restore-pga" "$B/restore-pgbr"
    bench_measure "$B/time-pga" "$B/pgattest" backup-fetch --prefix "file://$B/pga-repo" --jobs 2 \
        "$B/restore-pga" LATEST
    [ -z "$best_pga" ] || [ "$(echo "$WALL < $best_pga" | bc)" = 1 ] && best_pga=$WALL
    [ "$RSS" -gt "$rss_pga" ] && rss_pga=$RSS
    echo "   round $round: pgattest backup-fetch  $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
    as_pg mkdir -m 700 "$B/restore-pgbr"
    bench_measure "$B/time-pgbr" pgbackrest --config="$B/pgbackrest.conf" --stanza=bench \
        --pg1-path="$B/restore-pgbr" restore
    [ -z "$best_pgbr" ] || [ "$(echo "$WALL < $best_pgbr" | bc)" = 1 ] && best_pgbr=$WALL
    [ "$RSS" -gt "$rss_pgbr" ] && rss_pgbr=$RSS
    echo "   round $round: pgbackrest restore    $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
done

mb=$(echo "$data_bytes / 1048576" | bc -l)
echo
echo "restore of $(printf '%.0f' "$mb") MiB (pgbench scale $SCALE + $RANDOM_MB MB random text), best of $ROUNDS:"
printf '  %-44s %7.2f s %8.1f MB/s  peak RSS %6.1f MiB\n' \
    "pgattest backup-fetch (lzop, 2 jobs, verified)" "$best_pga" "$(echo "$mb / $best_pga" | bc -l)" \
    "$(echo "$rss_pga / 1024" | bc -l)"
printf '  %-44s %7.2f s %8.1f MB/s  peak RSS %6.1f MiB\n' \
    "pgbackrest restore (lz4, process-max=2)" "$best_pgbr" "$(echo "$mb / $best_pgbr" | bc -l)" \
    "$(echo "$rss_pgbr / 1024" | bc -l)"
printf '  throughput ratio (pgattest / pgBackRest): %.2fx   (target >= 1.5x)\n' "$(echo "$best_pgbr / $best_pga" | bc -l)"
