#!/bin/bash
# Benchmark: archive one real 16 MiB WAL segment per process, as archive_command does, into
# S3: pgattest wal-push (s3://, lzop) against pgbackrest archive-push (repo1-type=s3, lz4),
# both over HTTPS to the same local radosgw (tests/lib/rgw), on the same segments, in one
# run. Prints per-segment time (median), segments per second, peak RSS and the ratio.
#
#   bench/s3_wal_push.sh [SEGMENTS] [ROUNDS]      defaults: 10 segments, 3 rounds
#
# Needs root (runs PostgreSQL as the postgres OS user) and `scripts/install-deps.sh --bench`.
# Both tools talk to radosgw on loopback: this measures client cost (compression, hashing,
# signing, TLS, requests per segment), not network or S3 latency.
set -euo pipefail
cd "$(dirname "$0")/.."
SEGMENTS=${1:-10}
ROUNDS=${2:-3}
. bench/lib.sh
bench_begin s3walpush
bench_rgw_tls

bench_wal_segments "$SEGMENTS"

# Credentials in files readable by postgres only, never on a command line.
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
compress-type=lz4
log-level-console=warn
log-level-file=off
lock-path=$B/pgbr-lock
[bench]
pg1-path=$B/data
pg1-socket-path=$B
pg1-user=postgres
CONF
cat > "$B/pga.env" <<ENV
export AWS_ACCESS_KEY_ID=$S3_OWNER_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_OWNER_SECRET_KEY
export AWS_ENDPOINT_URL=https://localhost:$TLS_PORT AWS_CA_BUNDLE=$B/cert.pem AWS_REGION=us-east-1
ENV
chown postgres "$B/pgbackrest.conf" "$B/pga.env"; chmod 600 "$B/pgbackrest.conf" "$B/pga.env"

now_ns() { date +%s%N; }
declare -a T_PGA T_PGBR
RSS_PGA=0 RSS_PGBR=0
for round in $(seq 1 "$ROUNDS"); do
    as_pg pgbackrest --config="$B/pgbackrest.conf" --repo1-path="/round$round" --stanza=bench stanza-create >/dev/null
    for f in "$B"/segs/*; do
        t0=$(now_ns)
        rss=$(as_pg sh -c '. "$1"; exec /usr/bin/time -f %M "$2" wal-push --prefix "$3" "$4"' _ \
            "$B/pga.env" "$B/pgattest" "s3://pga/round$round" "$f" 2>&1 >/dev/null | tail -1)
        t1=$(now_ns)
        T_PGA+=($(( (t1 - t0) / 1000 )))
        [ "$rss" -gt "$RSS_PGA" ] && RSS_PGA=$rss
        t0=$(now_ns)
        rss=$(as_pg /usr/bin/time -f %M pgbackrest --config="$B/pgbackrest.conf" --repo1-path="/round$round" \
            --stanza=bench archive-push "$f" 2>&1 >/dev/null | tail -1)
        t1=$(now_ns)
        T_PGBR+=($(( (t1 - t0) / 1000 )))
        [ "$rss" -gt "$RSS_PGBR" ] && RSS_PGBR=$rss
    done
    echo "   round $round done"
done

m_pga=$(bench_median "${T_PGA[@]}")
m_pgbr=$(bench_median "${T_PGBR[@]}")
echo
echo "archive one 16 MiB segment per process into S3 over HTTPS ($(( ${#T_PGA[@]} )) pushes each, median):"
printf '  %-38s %8.1f ms  %6.1f seg/s  peak RSS %6.1f MiB\n' \
    "pgattest wal-push (lzop, s3://)" "$(echo "$m_pga/1000" | bc -l)" "$(echo "1000000/$m_pga" | bc -l)" \
    "$(echo "$RSS_PGA/1024" | bc -l)"
printf '  %-38s %8.1f ms  %6.1f seg/s  peak RSS %6.1f MiB\n' \
    "pgbackrest archive-push (lz4, s3)" "$(echo "$m_pgbr/1000" | bc -l)" "$(echo "1000000/$m_pgbr" | bc -l)" \
    "$(echo "$RSS_PGBR/1024" | bc -l)"
printf '  ratio (pgattest speed / pgBackRest speed): %.2fx   (target >= 1.75x)\n' "$(echo "$m_pgbr/$m_pga" | bc -l)"
