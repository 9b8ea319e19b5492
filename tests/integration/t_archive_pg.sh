# A real PostgreSQL 15 cluster archives with archive_command = 'pgattest wal-push %p' under
# pgbench load and archive_timeout; every archived file is in the repository and round-trips
# byte-identical through wal-fetch.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO_URL=${REPO_URL:-$(new_repo repo)}
pg_init main || exit 1
pg_conf main "archive_mode = on" \
    "archive_command = '$PGATTEST wal-push --prefix $REPO_URL %p'" \
    "archive_timeout = 1" "wal_keep_size = 2GB" "max_wal_size = 2GB"
pg_start main || exit 1
DATA=$(pg_datadir main)
SOCK=$(pg_sockdir main)

as_pg "$PGBIN/pgbench" -h "$SOCK" -U postgres -i -s 5 -q postgres > "$T/pgbench-init.log" 2>&1
check "pgbench initialised" test $? -eq 0
as_pg "$PGBIN/pgbench" -h "$SOCK" -U postgres -c 2 -T 8 postgres > "$T/pgbench.log" 2>&1
check "pgbench ran" grep -q "number of transactions actually processed" "$T/pgbench.log"
pg_psql main "select pg_switch_wal()" > /dev/null

# Wait for the archiver to catch up with the segment we just switched away from.
last=$(pg_psql main "select pg_walfile_name(pg_current_wal_lsn() - 1)")
ok=0
for _ in $(seq 1 120); do
    archived=$(pg_psql main "select coalesce(last_archived_wal, '') from pg_stat_archiver")
    if [[ "$archived" > "$last" || "$archived" == "$last" ]] && [ -z "$(ls "$DATA/pg_wal/archive_status/" | grep ready)" ]; then ok=1; break; fi
    sleep 1
done
check "the archiver caught up (last archived $archived, wanted $last)" test $ok -eq 1
failed=$(pg_psql main "select failed_count from pg_stat_archiver")
check "no archive_command failure (failed_count=$failed)" test "$failed" -eq 0

# Every file PostgreSQL marked archived is in the repository and round-trips exactly.
done_files=$(ls "$DATA/pg_wal/archive_status/" | sed -n 's/\.done$//p')
n=0; bad=0
for f in $done_files; do
    n=$((n + 1))
    if [ ! -f "${REPO_URL#file://}/wal_005/$f.lzo" ]; then bad=$((bad + 1)); echo "missing: $f"; continue; fi
    rm -f "$T/fetched"
    if ! pgattest wal-fetch "--prefix=$REPO_URL" "$f" "$T/fetched" || ! cmp -s "$T/fetched" "$DATA/pg_wal/$f"; then
        bad=$((bad + 1)); echo "differs: $f"
    fi
done
check "at least 5 segments were archived (got $n)" test "$n" -ge 5
check "all $n archived files are in the repository and round-trip byte-identical" test "$bad" -eq 0
segments=$(echo "$done_files" | grep -c '^[0-9A-F]\{24\}$')
check "full 16 MiB segments among them ($segments)" test "$segments" -ge 5
check "lzop -t accepts an archived segment" lzop -t "${REPO_URL#file://}/wal_005/$(echo "$done_files" | grep '^[0-9A-F]\{24\}$' | head -1).lzo"

# A segment archived twice (PostgreSQL retries after a crash) is accepted without rewrite.
first=$(echo "$done_files" | grep '^[0-9A-F]\{24\}$' | head -1)
check_exit "re-archiving $first with identical content succeeds" 0 \
    pgattest wal-push --prefix "$REPO_URL" "$DATA/pg_wal/$first"
pg_stop main
