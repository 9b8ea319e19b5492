# Sourced by the bench/*.sh scripts: what every benchmark does the same way.
#
#   bench_begin NAME       install packages, build, make $B (a private temp dir the postgres
#                          user can use) holding the release binary as $B/pgattest; stop
#                          every cluster and radosgw under $B and remove it on exit
#                          (KEEP_BENCH_DIR=1 keeps it)
#   as_pg CMD...           run as the postgres OS user
#   bench_measure LOG CMD  run CMD as postgres: sets WALL (s) and RSS (peak, KiB);
#                          BENCH_DROP_CACHES=1 drops the page cache first
#   bench_median N...      median of numbers
#   bench_dataset SOCKDIR SCALE RANDOM_MB   pgbench at SCALE plus RANDOM_MB of random text
#                          (pgbench alone compresses 9-23x and flatters every compressor)
#   bench_wal_segments N   start a cluster in $B/data and copy N real, full WAL segments made
#                          by pgbench into $B/segs
#   bench_rgw_tls          start radosgw with HTTPS in $B/rgw (tests/lib/rgw), create the
#                          buckets pga and pgbr; sets TLS_PORT and the S3_* variables
PGBIN=/usr/lib/postgresql/15/bin

as_pg() { runuser -u postgres -- "$@"; }
# SQL on the cluster listening in $B (the one bench_dataset and bench_wal_segments use).
psql_b() { as_pg "$PGBIN/psql" -X -q -At -h "$B" -U postgres -d postgres -c "$1"; }

bench_cleanup() {
    local pid
    for pid in $(find "$B" -maxdepth 3 -name postmaster.pid 2>/dev/null); do
        as_pg "$PGBIN/pg_ctl" -D "$(dirname "$pid")" -m immediate stop >/dev/null 2>&1 || true
    done
    [ -d "$B/rgw" ] && { STOP_SIGNAL=KILL tests/lib/rgw/stop-rgw.sh "$B/rgw" >/dev/null 2>&1 || true; }
    if [ -n "${KEEP_BENCH_DIR:-}" ]; then echo "kept $B"; else rm -rf "$B"; fi
}

bench_begin() {
    scripts/install-deps.sh --bench
    make -s build/pgattest
    B=$(mktemp -d "/tmp/pgattest-bench-$1.XXXXXX")
    chmod 755 "$B"; chown postgres "$B"
    trap bench_cleanup EXIT
    install -m 755 build/pgattest "$B/pgattest"
}

bench_measure() {
    local log=$1; shift
    local t0 t1
    if [ -n "${BENCH_DROP_CACHES:-}" ]; then
        sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
    fi
    t0=$(date +%s%N)
    as_pg /usr/bin/time -v -o "$log" "$@" > /dev/null
    t1=$(date +%s%N)
    WALL=$(echo "($t1 - $t0) / 1000000000" | bc -l)
    RSS=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
}

bench_median() {
    printf '%s\n' "$@" | sort -n |
        awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

bench_dataset() {
    local sock=$1 scale=$2 random_mb=$3
    as_pg "$PGBIN/pgbench" -h "$sock" -U postgres -i -s "$scale" -q postgres >/dev/null 2>&1
    # rows of 256 hex characters from md5(random()): LZ-style compressors find almost nothing
    local rows=$(( random_mb * 1024 * 1024 / 300 ))
    as_pg "$PGBIN/psql" -X -q -At -h "$sock" -U postgres -d postgres -c "create table random_text as
        select g as id, (select string_agg(md5(random()::text || g || i), '')
                         from generate_series(1, 8) i) as t
        from generate_series(1, $rows) g"
    as_pg "$PGBIN/psql" -X -q -At -h "$sock" -U postgres -d postgres -c "checkpoint" >/dev/null
}

bench_wal_segments() {
    local n=$1
    echo "== generating $n real WAL segments (pgbench)"
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
    local start_seg have
    start_seg=$(as_pg "$PGBIN/psql" -h "$B" -U postgres -Atc "select pg_walfile_name(pg_current_wal_lsn())" postgres)
    while :; do
        as_pg "$PGBIN/pgbench" -h "$B" -U postgres -c 2 -T 3 postgres >/dev/null 2>&1
        have=$(ls "$B/data/pg_wal" | grep '^[0-9A-F]\{24\}$' | awk -v s="$start_seg" '$0 >= s' | wc -l)
        [ "$have" -gt $((n + 2)) ] && break
    done
    as_pg "$PGBIN/psql" -h "$B" -U postgres -Atc "select pg_switch_wal()" postgres >/dev/null
    mkdir -p "$B/segs"
    ls "$B/data/pg_wal" | grep '^[0-9A-F]\{24\}$' | sort | awk -v s="$start_seg" '$0 >= s' \
        | head -n "$n" | while read -r f; do cp "$B/data/pg_wal/$f" "$B/segs/"; done
    chown -R postgres "$B/segs"
    echo "   $(ls "$B/segs" | wc -l) segments, $(du -sh "$B/segs" | cut -f1)"
}

bench_rgw_tls() {
    echo "== starting radosgw with HTTPS"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$B/key.pem" -out "$B/cert.pem" -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
    cat "$B/cert.pem" "$B/key.pem" > "$B/both.pem"; chmod 644 "$B/cert.pem"
    local port=$(( (RANDOM % 300) * 100 + 20000 ))
    RGW_CERT="$B/both.pem" tests/lib/rgw/start-rgw.sh "$B/rgw" "$port" > "$B/rgw.log" 2>&1 \
        || { tail -20 "$B/rgw.log"; exit 1; }
    . "$B/rgw/env.sh"
    TLS_PORT=$((port + 100))
    local bucket
    for bucket in pga pgbr; do
        curl -sf -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" \
            --user "$S3_OWNER_ACCESS_KEY:$S3_OWNER_SECRET_KEY" \
            -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -X PUT "$S3_ENDPOINT/$bucket"
    done
}
