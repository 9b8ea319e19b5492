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
PGBIN=/usr/lib/postgresql/15/bin
scripts/install-deps.sh --bench
make -s build/pgattest
build/pgattest backup-push --help > /dev/null 2>&1 ||
    { echo "bench/restore.sh: this build has no backup-push to make the backup with" >&2; exit 1; }

B=$(mktemp -d /tmp/pgattest-bench.XXXXXX)
chmod 755 "$B"; chown postgres "$B"
as_pg() { runuser -u postgres -- "$@"; }
cleanup() { as_pg "$PGBIN/pg_ctl" -D "$B/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$B"; }
trap cleanup EXIT
install -m 755 build/pgattest "$B/pgattest"
psql_b() { as_pg "$PGBIN/psql" -X -q -At -h "$B" -U postgres -d postgres -c "$1"; }

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
as_pg "$PGBIN/pgbench" -h "$B" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1
rows=$(( RANDOM_MB * 1024 * 1024 / 300 ))
psql_b "create table random_text as select g as id, (select string_agg(md5(random()::text || g || i), '') from generate_series(1, 8) i) as t from generate_series(1, $rows) g"
psql_b "checkpoint"
as_pg "$B/pgattest" backup-push --prefix "file://$B/pga-repo" --fast \
    ${PARTITION_SIZE:+--partition-size "$PARTITION_SIZE"} \
    --dbname "host=$B user=postgres dbname=postgres" "$B/data" > /dev/null
echo "   pgattest backup: $(ls "$B"/pga-repo/basebackups_005/*/tar_partitions | wc -l) parts (partition size ${PARTITION_SIZE:-default})"
as_pg pgbackrest --config="$B/pgbackrest.conf" --stanza=bench --type=full backup
as_pg "$PGBIN/pg_ctl" -D "$B/data" -m fast -w stop > /dev/null
data_bytes=$(du -sb --exclude=pg_wal "$B/data" | cut -f1)
echo "   data directory (without pg_wal): $((data_bytes / 1048576)) MiB"

measure() { # measure LOG COMMAND... -> sets WALL (s) RSS (KiB)
    local log=$1; shift
    local t0 t1
    sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true  # both start from disk
    t0=$(date +%s%N)
    as_pg /usr/bin/time -v -o "$log" "$@" > /dev/null
    t1=$(date +%s%N)
    WALL=$(echo "($t1 - $t0) / 1000000000" | bc -l)
    RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
}

best_pga="" best_pgbr="" rss_pga=0 rss_pgbr=0
for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$B/restore-pga" "$B/restore-pgbr"
    measure "$B/time-pga" "$B/pgattest" backup-fetch --prefix "file://$B/pga-repo" --jobs 2 \
        "$B/restore-pga" LATEST
    [ -z "$best_pga" ] || [ "$(echo "$WALL < $best_pga" | bc)" = 1 ] && best_pga=$WALL
    [ "$RSS" -gt "$rss_pga" ] && rss_pga=$RSS
    echo "   round $round: pgattest backup-fetch  $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
    as_pg mkdir -m 700 "$B/restore-pgbr"
    measure "$B/time-pgbr" pgbackrest --config="$B/pgbackrest.conf" --stanza=bench \
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
