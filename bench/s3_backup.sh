#!/bin/bash
# Benchmark: full backup and restore over S3, pgattest (backup-push / backup-fetch, s3://,
# lzop, 2 jobs) against pgBackRest (repo1-type=s3, lz4, process-max=2), both over HTTPS to
# the same local radosgw (tests/lib/rgw), on the same cluster, in one run. The dataset is
# pgbench at SCALE plus RANDOM_MB of poorly compressible random text. Prints wall time, MB/s
# of data, peak RSS (/usr/bin/time -v; for pgBackRest its largest process) and the ratios.
#
#   bench/s3_backup.sh [SCALE] [RANDOM_MB] [ROUNDS]     defaults: 50, 300, 1
#
# Needs root (runs PostgreSQL as the postgres OS user) and `scripts/install-deps.sh --bench`.
# radosgw runs on loopback with an in-memory store: this measures client cost (compression,
# hashing, signing, TLS, requests), not network or S3 latency.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-50}
RANDOM_MB=${2:-300}
ROUNDS=${3:-1}
. bench/lib.sh
bench_begin s3backup

bench_rgw_tls

# Credentials in files readable by postgres only, never on a command line: pgattest runs
# through a wrapper that reads them.
cat > "$B/pgbackrest.conf" <<CONF
[global]
repo1-type=s3
repo1-s3-endpoint=localhost
repo1-storage-port=$TLS_PORT
repo1-s3-uri-style=path
repo1-s3-region=us-east-1
repo1-s3-bucket=pgbr
repo1-s3-key=$S3_OWNER_ACCESS_KEY
repo1-s3-key-secret=$S3_OWNER_SECRET_KEY
repo1-storage-ca-file=$B/cert.pem
repo1-path=/bench
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
cat > "$B/pga" <<WRAP
#!/bin/sh
export AWS_ACCESS_KEY_ID=$S3_OWNER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_OWNER_SECRET_KEY
export AWS_ENDPOINT_URL=https://localhost:$TLS_PORT AWS_CA_BUNDLE=$B/cert.pem AWS_REGION=us-east-1
export PGATTEST_PREFIX=s3://pga/bench
exec $B/pgattest "\$@"
WRAP
chown postgres "$B/pgbackrest.conf" "$B/pga"; chmod 600 "$B/pgbackrest.conf"; chmod 700 "$B/pga"

echo "== dataset: pgbench scale $SCALE + $RANDOM_MB MB of random text"
as_pg "$PGBIN/initdb" -D "$B/data" -U postgres -A trust --no-sync >/dev/null
cat >> "$B/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$B'
max_wal_size = 4GB
fsync = off
archive_mode = on
archive_command = '$B/pga wal-push %p && pgbackrest --config=$B/pgbackrest.conf --stanza=bench archive-push %p'
CONF
as_pg "$PGBIN/pg_ctl" -D "$B/data" -l "$B/server.log" -w start >/dev/null
as_pg pgbackrest --config="$B/pgbackrest.conf" --stanza=bench stanza-create >/dev/null
bench_dataset "$B" "$SCALE" "$RANDOM_MB"
data_bytes=$(du -sb --exclude=pg_wal "$B/data" | cut -f1)
echo "   data directory (without pg_wal): $((data_bytes / 1048576)) MiB"
find "$B/data" -type f -exec cat {} + > /dev/null 2>&1 || true  # files may vanish (archiver)

archiver_idle() {
    psql_b "select pg_switch_wal()" > /dev/null
    while [ "$(psql_b "select count(*) from pg_ls_archive_statusdir() where name like '%.ready'")" != 0 ]; do
        sleep 0.2
    done
}
better() { [ -z "$1" ] || [ "$(echo "$2 < $1" | bc)" = 1 ]; }

bk_pga="" bk_pgbr="" bk_rss_pga=0 bk_rss_pgbr=0
for round in $(seq 1 "$ROUNDS"); do
    archiver_idle
    bench_measure "$B/time-pga" "$B/pga" backup-push --fast --dbname "host=$B user=postgres dbname=postgres" "$B/data"
    better "$bk_pga" "$WALL" && bk_pga=$WALL
    [ "$RSS" -gt "$bk_rss_pga" ] && bk_rss_pga=$RSS
    echo "   round $round: pgattest backup-push  $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
    archiver_idle
    bench_measure "$B/time-pgbr" pgbackrest --config="$B/pgbackrest.conf" --stanza=bench --type=full backup
    better "$bk_pgbr" "$WALL" && bk_pgbr=$WALL
    [ "$RSS" -gt "$bk_rss_pgbr" ] && bk_rss_pgbr=$RSS
    echo "   round $round: pgbackrest backup     $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
done
as_pg "$PGBIN/pg_ctl" -D "$B/data" -m fast -w stop > /dev/null

rs_pga="" rs_pgbr="" rs_rss_pga=0 rs_rss_pgbr=0
for round in $(seq 1 "$ROUNDS"); do
    rm -rf "$B/restore-pga" "$B/restore-pgbr"
    bench_measure "$B/time-pga" "$B/pga" backup-fetch --jobs 2 "$B/restore-pga" LATEST
    better "$rs_pga" "$WALL" && rs_pga=$WALL
    [ "$RSS" -gt "$rs_rss_pga" ] && rs_rss_pga=$RSS
    echo "   round $round: pgattest backup-fetch $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
    as_pg mkdir -m 700 "$B/restore-pgbr"
    bench_measure "$B/time-pgbr" pgbackrest --config="$B/pgbackrest.conf" --stanza=bench --pg1-path="$B/restore-pgbr" restore
    better "$rs_pgbr" "$WALL" && rs_pgbr=$WALL
    [ "$RSS" -gt "$rs_rss_pgbr" ] && rs_rss_pgbr=$RSS
    echo "   round $round: pgbackrest restore    $(printf '%.2f' "$WALL") s, peak RSS $((RSS / 1024)) MiB"
done

mb=$(echo "$data_bytes / 1048576" | bc -l)
row() { printf '  %-46s %7.2f s %8.1f MB/s  peak RSS %6.1f MiB\n' "$1" "$2" "$(echo "$mb / $2" | bc -l)" "$(echo "$3 / 1024" | bc -l)"; }
echo
echo "over S3 (radosgw, HTTPS, loopback), $(printf '%.0f' "$mb") MiB (pgbench scale $SCALE + $RANDOM_MB MB random text), best of $ROUNDS:"
row "pgattest backup-push (lzop, 2 jobs)" "$bk_pga" "$bk_rss_pga"
row "pgbackrest backup (lz4, process-max=2)" "$bk_pgbr" "$bk_rss_pgbr"
row "pgattest backup-fetch (lzop, 2 jobs, verified)" "$rs_pga" "$rs_rss_pga"
row "pgbackrest restore (lz4, process-max=2)" "$rs_pgbr" "$rs_rss_pgbr"
printf '  backup throughput ratio (pgattest / pgBackRest):  %.2fx\n' "$(echo "$bk_pgbr / $bk_pga" | bc -l)"
printf '  restore throughput ratio (pgattest / pgBackRest): %.2fx\n' "$(echo "$rs_pgbr / $rs_pga" | bc -l)"
printf '  peak RSS pgattest backup-push: %.1f MiB   (target < 32 MiB)\n' "$(echo "$bk_rss_pga / 1024" | bc -l)"
