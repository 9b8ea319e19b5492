#!/bin/bash
# Benchmark: `pgattest verify --deep` against `pgbackrest verify` on the same cluster, in one
# run: a pgbench database plus a table of poorly compressible random text, WAL archived to
# both repositories by one archive_command, one full backup in each (pgBackRest: lz4,
# process-max 2; pgattest: backup-push). Prints wall time, peak RSS and
# the ratio (median of ROUNDS alternating runs), then the incremental re-run (only new
# objects) with the state file.
#
#   bench/verify_deep.sh [SCALE] [RANDOM_MB] [ROUNDS]   defaults: 20, 64, 5 (KEEP_BENCH_DIR=1 keeps the files)
#
# Needs root (runs PostgreSQL as the postgres OS user) and `scripts/install-deps.sh --bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE=${1:-20}
RANDOM_MB=${2:-64}
ROUNDS=${3:-5}
. bench/lib.sh
bench_begin verifydeep

mkdir -p "$B/c" "$B/repo"; chown postgres "$B/c" "$B/repo"
cat > "$B/pgbackrest.conf" <<CONF
[global]
repo1-path=$B/pgbr-repo
compress-type=lz4
process-max=2
log-level-console=warn
log-level-file=off
lock-path=$B/pgbr-lock
start-fast=y
[bench]
pg1-path=$B/c/data
pg1-socket-path=$B/c
pg1-user=postgres
CONF
chown postgres "$B/pgbackrest.conf"
PGBR="pgbackrest --config=$B/pgbackrest.conf --stanza=bench"
as_pg "$PGBIN/initdb" -D "$B/c/data" -U postgres -A trust --no-sync >/dev/null
cat >> "$B/c/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$B/c'
max_wal_size = 4GB
fsync = off
archive_mode = on
archive_command = '$B/pgattest wal-push --prefix file://$B/repo %p && $PGBR archive-push %p'
CONF
as_pg "$PGBIN/pg_ctl" -D "$B/c/data" -l "$B/server.log" -w start >/dev/null
psql() { as_pg "$PGBIN/psql" -h "$B/c" -U postgres -X -q -At "$@" postgres; }
echo "== dataset: pgbench scale $SCALE + $RANDOM_MB MB of random text"
as_pg "$PGBIN/pgbench" -h "$B/c" -U postgres -i -s "$SCALE" -q postgres >/dev/null 2>&1
psql -c "create table noise as select md5(random()::text) || md5(random()::text) as t
         from generate_series(1, $RANDOM_MB * 1024 * 1024 / 100)"
as_pg $PGBR stanza-create >/dev/null
echo "== backups"
as_pg $PGBR backup --type=full >/dev/null
PGHOST=$B/c PGUSER=postgres as_pg "$B/pgattest" backup-push --prefix "file://$B/repo" --fast "$B/c/data" > /dev/null 2>&1
as_pg "$PGBIN/pgbench" -h "$B/c" -U postgres -c 2 -T 10 postgres >/dev/null 2>&1
psql -c "select pg_switch_wal()" >/dev/null; sleep 3
echo "   database $(psql -c "select pg_size_pretty(pg_database_size('postgres'))")," \
     "pgattest repository $(du -sh "$B/repo" | cut -f1), pgBackRest repository $(du -sh "$B/pgbr-repo" | cut -f1)"

as_pg sync
timed() { /usr/bin/time -o "$B/time.out" -f '%e %M' "$@" >/dev/null 2>&1 || true; tail -1 "$B/time.out"; }
ours=() brs=() oursk=0 brk=0
for r in $(seq 1 "$ROUNDS"); do   # alternate the tools so machine noise hits both
    read -r s k < <(timed runuser -u postgres -- "$B/pgattest" verify --prefix "file://$B/repo" \
        --deep --jobs 2 --no-state); ours+=("$s"); if [ "$k" -gt "$oursk" ]; then oursk=$k; fi
    read -r s k < <(timed runuser -u postgres -- $PGBR verify); brs+=("$s"); if [ "$k" -gt "$brk" ]; then brk=$k; fi
done
read -r first_s first_k < <(timed runuser -u postgres -- "$B/pgattest" verify --prefix "file://$B/repo" --deep --jobs 2 --state "$B/state")
read -r again_s again_k < <(timed runuser -u postgres -- "$B/pgattest" verify --prefix "file://$B/repo" --deep --jobs 2 --state "$B/state")
ours_s=$(bench_median "${ours[@]}"); br_s=$(bench_median "${brs[@]}")
printf '\n%-46s %8s %10s\n' "(median of $ROUNDS, alternating)" "seconds" "peak RSS"
printf '%-46s %8s %7d KiB\n' "pgattest verify --deep --jobs 2" "$ours_s" "$oursk"
printf '%-46s %8s %7d KiB\n' "pgbackrest verify (process-max 2)" "$br_s" "$brk"
printf '%-46s %8s %7d KiB\n' "pgattest verify --deep, state: first run" "$first_s" "$first_k"
printf '%-46s %8s %7d KiB\n' "pgattest verify --deep, state: nothing new" "$again_s" "$again_k"
echo "ratio (pgattest / pgBackRest time): $(echo "scale=2; $ours_s / $br_s" | bc)  (target <= 0.5)"
echo "ratio incremental re-run / pgBackRest: $(echo "scale=3; $again_s / $br_s" | bc)"
