#!/bin/bash
# delete on a real archive: a PostgreSQL 15 cluster archiving with pgattest wal-push, three
# base backups (cold, our format, made with GNU tar + lzop by tests/lib/make_backup.py).
# retain 2: the dry run changes nothing; --confirm removes the oldest backup and exactly the
# WAL before the second backup's start; what is left still restores and recovers.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

REPO=$(new_repo repo); REPO_DIR=${REPO#file://}
snapshot() { (cd "$REPO_DIR" && find . -type f | sort | xargs -r sha256sum); }

switch_and_wait() {
    local seg i
    seg=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
    for i in $(seq 1 100); do
        [ -f "$REPO_DIR/wal_005/$seg.lzo" ] && return 0
        sleep 0.2
    done
    echo "segment $seg was not archived"; return 1
}

pg_init src || exit 1
pg_conf src "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO %p'"
pg_start src || exit 1
pg_psql src "create table t (id int, round int)" >/dev/null
NAMES=()
for round in 1 2 3; do
    pg_psql src "insert into t select g, $round from generate_series(1, 20000) g" >/dev/null
    switch_and_wait && switch_and_wait || exit 1
    pg_stop src
    name=$(/usr/bin/python3 "$TOP/tests/lib/make_backup.py" --pgdata "$(pg_datadir src)" \
        --repo "$REPO_DIR" --format pgattest) || setup_failed "backup $round"
    chown -R "$PGUSER_OS" "$REPO_DIR"
    NAMES+=("$name")
    pg_start src || exit 1
    sleep 1.1 # distinct stop times (one-second resolution)
done
pg_psql src "insert into t select g, 4 from generate_series(1, 20000) g" >/dev/null
switch_and_wait && switch_and_wait || exit 1
EXPECT=$(pg_psql src "select count(*), sum(id), sum(round) from t")
pg_stop src
# A timeline history file: always kept.
printf '1\t0/3000000\tno recovery target specified\n' > "$T/00000002.history"
chown "$PGUSER_OS" "$T/00000002.history"
check "a .history file archived" pgattest wal-push --prefix "$REPO" "$T/00000002.history"

# Incomplete backups (no sentinel): one older than everything, one newer (may be running).
OLD_INCOMPLETE=base_000000010000000000000001_00000028
NEW_INCOMPLETE=base_0000000100000000000000FF_00000028
as_pg mkdir -p "$REPO_DIR/basebackups_005/$OLD_INCOMPLETE/tar_partitions" "$REPO_DIR/basebackups_005/$NEW_INCOMPLETE"
echo x | as_pg tee "$REPO_DIR/basebackups_005/$OLD_INCOMPLETE/tar_partitions/part_00000000.tar.lzo" > /dev/null
echo x | as_pg tee "$REPO_DIR/basebackups_005/$NEW_INCOMPLETE/extended_version.txt" > /dev/null

SECOND_START=${NAMES[1]:5:24}
BEFORE=$(snapshot)
check_exit "delete retain 2 (dry run) exits 0" 0 pgattest delete --prefix "$REPO" retain 2
[[ $LAST_OUT == *"would delete base backup ${NAMES[0]}"* && $LAST_OUT == *"would delete"*"WAL files"* ]] &&
    pass "the dry run names the oldest backup and the WAL it would delete" ||
    fail "the dry run names the oldest backup and the WAL it would delete" "$LAST_OUT"
[[ $LAST_OUT == *"keeping base backup ${NAMES[1]}"* && $LAST_OUT == *"keeping base backup ${NAMES[2]}"* ]] &&
    pass "the dry run keeps the two newest" || fail "the dry run keeps the two newest" "$LAST_OUT"
[ "$(snapshot)" = "$BEFORE" ] && pass "the dry run changed nothing" || fail "the dry run changed nothing"

check_exit "delete before <far future> (dry run) keeps the newest backup" 0 \
    pgattest delete --prefix "$REPO" before 2999-01-01
[[ $LAST_OUT == *"keeping base backup ${NAMES[2]}"* && $LAST_OUT == *"would delete base backup ${NAMES[1]}"* ]] &&
    pass "before TIMESTAMP: older backups go, the newest stays" || fail "before TIMESTAMP: older backups go, the newest stays" "$LAST_OUT"
check_exit "delete before NAME (dry run)" 0 pgattest delete --prefix "$REPO" before "${NAMES[2]}"
[[ $LAST_OUT == *"would delete base backup ${NAMES[1]}"* ]] && pass "before NAME: the older backups would go" ||
    fail "before NAME: the older backups would go" "$LAST_OUT"
check_exit "delete before an unknown backup fails" 1 pgattest delete --prefix "$REPO" before base_000000010000000000000099_00000028
check_exit "delete retain 0 is a usage error" 2 pgattest delete --prefix "$REPO" retain 0
[ "$(snapshot)" = "$BEFORE" ] && pass "still nothing changed" || fail "still nothing changed"

check_exit "delete retain 2 --confirm exits 0" 0 pgattest delete --prefix "$REPO" retain 2 --confirm
[ ! -e "$REPO_DIR/basebackups_005/${NAMES[0]}_backup_stop_sentinel.json" ] &&
    [ -z "$(find "$REPO_DIR/basebackups_005" -path "*${NAMES[0]}/*" -type f)" ] &&
    pass "the oldest backup is gone (sentinel and objects)" || fail "the oldest backup is gone (sentinel and objects)"
for n in "${NAMES[1]}" "${NAMES[2]}"; do
    [ -f "$REPO_DIR/basebackups_005/${n}_backup_stop_sentinel.json" ] &&
        [ -f "$REPO_DIR/basebackups_005/$n/manifest.json" ] && pass "backup $n is kept" || fail "backup $n is kept"
done
wrong=""; n_gone=0; n_kept=0
while read -r f; do
    base=${f%.lzo}
    if [[ $base =~ ^[0-9A-F]{24} ]] && [[ "${base:8:16}" < "${SECOND_START:8:16}" ]]; then
        [ -e "$REPO_DIR/wal_005/$f" ] && wrong="$wrong kept:$f"; n_gone=$((n_gone + 1))
    else
        [ -e "$REPO_DIR/wal_005/$f" ] || wrong="$wrong deleted:$f"; n_kept=$((n_kept + 1))
    fi
done < <(printf '%s\n' "$BEFORE" | sed -n 's,.* \./wal_005/,,p')
[ -z "$wrong" ] && [ $n_gone -gt 0 ] && [ $n_kept -gt 0 ] &&
    pass "exactly the WAL before ${SECOND_START} is gone ($n_gone deleted, $n_kept kept)" ||
    fail "exactly the WAL before ${SECOND_START} is gone" "$wrong (gone $n_gone, kept $n_kept)"
[ -e "$REPO_DIR/wal_005/00000002.history.lzo" ] && pass ".history is kept" || fail ".history is kept"
[ ! -e "$REPO_DIR/basebackups_005/$OLD_INCOMPLETE" ] && pass "an incomplete backup older than the kept ones is deleted" ||
    fail "an incomplete backup older than the kept ones is deleted" "$(find "$REPO_DIR/basebackups_005/$OLD_INCOMPLETE")"
[ -e "$REPO_DIR/basebackups_005/$NEW_INCOMPLETE/extended_version.txt" ] && pass "a newer incomplete backup (maybe running) is kept" ||
    fail "a newer incomplete backup (maybe running) is kept"

check_exit "wal-fetch of the second backup's start segment still works" 0 \
    pgattest wal-fetch --prefix "$REPO" "$SECOND_START" "$T/fetched"
check_exit "wal-fetch of a deleted segment says not found (1)" 1 \
    pgattest wal-fetch --prefix "$REPO" "${NAMES[0]:5:24}" "$T/fetched2"

AFTER=$(snapshot)
check_exit "delete retain 2 --confirm again deletes nothing" 0 pgattest delete --prefix "$REPO" retain 2 --confirm
[ "$(snapshot)" = "$AFTER" ] && pass "the second run changed nothing" || fail "the second run changed nothing"

# What is left is enough: the oldest kept backup restores and recovers to the end.
as_pg mkdir -p "$T/dst"
check_exit "the oldest kept backup restores" 0 pgattest backup-fetch --prefix "$REPO" "$(pg_datadir dst)" "${NAMES[1]}"
pg_conf dst "unix_socket_directories = '$(pg_sockdir dst)'" "archive_mode = off" \
    "restore_command = '$PGATTEST wal-fetch --prefix $REPO %f %p'" "recovery_target_timeline = '1'"
as_pg touch "$(pg_datadir dst)/recovery.signal"
if pg_start dst; then
    for i in $(seq 1 150); do
        [ "$(pg_psql dst "select pg_is_in_recovery()")" = f ] && break
        sleep 0.2
    done
    got=$(pg_psql dst "select count(*), sum(id), sum(round) from t")
    [ "$got" = "$EXPECT" ] && pass "recovered from the kept backup and WAL: data matches ($got)" ||
        fail "recovered from the kept backup and WAL: data matches" "expected $EXPECT, got $got"
    pg_stop dst
else
    fail "the restored cluster starts"
fi

# ---- a delete that fails half-way leaves no backup looking complete, and no WAL deleted ----
B2="$REPO_DIR/basebackups_005/${NAMES[1]}"
chmod 555 "$B2/tar_partitions"     # its parts cannot be removed
WAL_BEFORE=$(ls "$REPO_DIR/wal_005" | sort)
check_exit "delete retain 1 --confirm fails when an object cannot be removed" 1 \
    pgattest delete --prefix "$REPO" retain 1 --confirm
check_err_contains "the failure names what could not be removed" "cannot remove"
[ ! -e "${B2}_backup_stop_sentinel.json" ] && [ -n "$(ls "$B2/tar_partitions")" ] &&
    pass "the sentinel went first: the half-deleted backup has no sentinel" ||
    fail "the sentinel went first: the half-deleted backup has no sentinel" "$(ls -R "$REPO_DIR/basebackups_005")"
[ "$(ls "$REPO_DIR/wal_005" | sort)" = "$WAL_BEFORE" ] && pass "no WAL was deleted by the failed run" ||
    fail "no WAL was deleted by the failed run"
as_pg mkdir -p "$T/dst_half"
check_exit "the half-deleted backup is not restorable" 1 \
    pgattest backup-fetch --prefix "$REPO" "$T/dst_half/data" "${NAMES[1]}"
check_err_contains "backup-fetch calls it incomplete" "incomplete"
chmod 755 "$B2/tar_partitions"
check_exit "the delete completes when run again" 0 pgattest delete --prefix "$REPO" retain 1 --confirm
[ ! -e "$B2" ] && [ -f "$REPO_DIR/basebackups_005/${NAMES[2]}_backup_stop_sentinel.json" ] &&
    pass "the half-deleted backup is gone, the newest kept" || fail "the half-deleted backup is gone, the newest kept"
