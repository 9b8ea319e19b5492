# verify: WAL continuity, timelines, completeness, with archives made by real PostgreSQL 15.
# Each scenario copies a healthy repository, breaks it one way and asserts the exact verdict,
# exit status and ranges from --json.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"
. "$TOP/tests/lib/fixture_backup.sh"

REPO_URL=$(new_repo repo)
REPO=${REPO_URL#file://}
WAL=$REPO/wal_005

# verify_json DIR [options]: run verify --json on file://DIR; sets VSTATUS, keeps $T/v.json
verify_json() {
    local dir=$1; shift
    pgattest verify --prefix "file://$dir" --json "$@" > "$T/v.json" 2> "$T/v.err"
    VSTATUS=$?
}
jqv() { jq -r "$1" "$T/v.json"; }
# check_jq DESCRIPTION FILTER EXPECTED
check_jq() {
    local got; got=$(jqv "$2" 2>&1)
    if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "jq $2: expected '$3', got '$got'" "stderr: $(head -c 500 "$T/v.err")"; fi
}
check_status() { # check_status DESCRIPTION EXPECTED
    if [ "$VSTATUS" -eq "$2" ]; then pass "$1"; else fail "$1" "expected exit $2, got $VSTATUS" "$(head -c 800 "$T/v.err")" "$(jq -c '[.checks[] | {id, status, details}]' "$T/v.json" 2>/dev/null | head -c 1500)"; fi
}
variant() { # variant NAME: a copy of the healthy repository
    rm -rf "$T/$1"; cp -a "$REPO" "$T/$1"; echo "$T/$1"
}
switch_wal() { pg_psql "$1" "select pg_switch_wal()" > /dev/null; }
# wait_archived CLUSTER: until the current segment before the switch is archived; a segment
# that never arrives stops the script with a FAIL (every expectation below depends on it).
wait_archived() {
    local i name
    name=$(pg_psql "$1" "select pg_walfile_name(pg_current_wal_lsn())")
    switch_wal "$1"
    for i in $(seq 1 600); do
        [ -f "$WAL/$name.lzo" ] && return 0
        sleep 0.1
    done
    setup_failed "$1: segment $name archived within 60 s" "$(tail -5 "$T/$1/server.log")"
}

# ---- a primary archiving with pgattest: backup 1 on timeline 1 ----
pg_init a
pg_conf a "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $REPO_URL %p'" \
    "wal_level = replica" "max_wal_senders = 4"
pg_start a || exit 1
pg_psql a "create table t(i int); insert into t select generate_series(1, 1000)"
wait_archived a
B1=$(fixture_backup a "$REPO") || setup_failed "fixture backup 1"
fixture_lsns "$B1" || setup_failed "fixture backup 1: PostgreSQL's LSNs"
B1_START=$FIXTURE_START_LSN B1_STOP=$FIXTURE_STOP_LSN
for i in 1 2 3 4 5 6; do pg_psql a "insert into t values ($i)"; wait_archived a; done

# ---- healthy ----
verify_json "$REPO"
check_status "healthy archive: exit 0" 0
check_jq "healthy: status OK" .status OK
check_jq "healthy: backup restorable" ".backups[] | select(.name==\"$B1\") | .restorable" true
check_jq "healthy: no gaps" "[.backups[].gaps[]] | length" 0
check_jq "healthy: the start and stop LSNs are PostgreSQL's" ".backups[0] | [.start_lsn, .stop_lsn] | tostring" \
    "[\"$B1_START\",\"$B1_STOP\"]"
check_jq "healthy: recoverable from the stop LSN" ".backups[0].recoverable_from" "$B1_STOP"
NEWEST=$(cd "$WAL" && ls | grep -E '^[0-9A-F]{24}\.lzo$' | sort | tail -1); NEWEST=${NEWEST%.lzo}
NEWEST_NO=$((16#${NEWEST:8:8} * 256 + 16#${NEWEST:16:8}))
END_LSN=$(printf '%X/%X' $(( (NEWEST_NO + 1) * SEG_SIZE >> 32 )) $(( (NEWEST_NO + 1) * SEG_SIZE & 0xFFFFFFFF )))
check_jq "healthy: recoverable until the end of the newest segment" ".backups[0].recoverable_until" "$END_LSN"
check_jq "healthy: RPO names the newest segment" .wal.newest.name "$NEWEST"
check_jq "healthy: every check OK" '[.checks[] | select(.status != "OK")] | length' 0
for id in backup.completeness wal.continuity wal.history wal.rpo backup.age; do
    check_jq "healthy: check $id is reported" "[.checks[] | select(.id==\"$id\")] | length" 1
done
pgattest verify --prefix "$REPO_URL" > "$T/human.txt" 2>&1
check "human summary says restorable" grep -q "$B1  restorable, recoverable from $B1_STOP until $END_LSN (timeline 1)" "$T/human.txt"

STOP_SEG=$(pg_psql a "select pg_walfile_name('$B1_STOP')")   # PostgreSQL names the segment
STOP_NO=$(lsn_segno "$B1_STOP")

# ---- a segment removed in the middle (after the backup) ----
V=$(variant mid)
MID=$(segname 1 $((STOP_NO + 2)))
rm "$V/wal_005/$MID.lzo"
verify_json "$V"
check_status "segment removed in the middle: exit 2 (CRITICAL)" 2
check_jq "middle gap: wal.continuity CRITICAL" '.checks[] | select(.id=="wal.continuity") | .status' CRITICAL
check_jq "middle gap: exact range" ".backups[0].gaps | map([.timeline, .first_missing, .last_missing, .count, .status]) | tostring" \
    "[[1,\"$MID\",\"$MID\",1,\"missing\"]]"
check_jq "middle gap: still restorable" ".backups[0].restorable" true
check_jq "middle gap: recoverable until the start of the missing segment" ".backups[0].recoverable_until" \
    "$(printf '%X/%X' $(( (STOP_NO + 2) * SEG_SIZE >> 32 )) $(( (STOP_NO + 2) * SEG_SIZE & 0xFFFFFFFF )))"
# the same gap waived, then with an expired waiver
cat > "$T/waivers.json" <<JSON
[{"check": "wal.continuity", "from": "$MID", "to": "$MID", "reason": "lost in test", "expires": "2999-12-31"}]
JSON
verify_json "$V" --waivers "$T/waivers.json"
check_status "a waived gap: exit 0" 0
check_jq "a waived gap is still listed, as waived" ".backups[0].gaps[0].status + \" \" + .backups[0].gaps[0].waiver.reason" "waived lost in test"
check_jq "the waived finding says why" '.checks[] | select(.id=="wal.continuity") | .findings[0].waived' "lost in test"
sed -i 's/2999-12-31/2001-01-01/' "$T/waivers.json"
verify_json "$V" --waivers "$T/waivers.json"
check_status "an expired waiver no longer applies: exit 2" 2
check_jq "the finding says the waiver expired" '.checks[] | select(.id=="wal.continuity") | .findings[0].details | map(select(test("expired on 2001-01-01"))) | length' 1

# ---- a gap in the newest segments: archiving may be in progress ----
V=$(variant recent)
LAST2=$(segname 1 $((NEWEST_NO - 1)))
rm "$V/wal_005/$LAST2.lzo"
verify_json "$V"
check_status "gap just before the newest segment: exit 1 (WARNING)" 1
check_jq "recent gap is in progress" ".backups[0].gaps[0].status" in_progress
verify_json "$V" --in-progress-segments 0
check_status "with --in-progress-segments 0 it is CRITICAL" 2

# ---- the stop segment of the backup removed ----
V=$(variant stop)
rm "$V/wal_005/$STOP_SEG.lzo"
verify_json "$V"
check_status "stop segment removed: exit 2" 2
check_jq "stop segment removed: NOT restorable" ".backups[0].restorable" false
check_jq "stop segment removed: recoverable_until null" ".backups[0].recoverable_until" null
check_jq "stop segment removed: the gap blocks restore" ".backups[0].gaps | map([.first_missing, .last_missing, .blocks_restore]) | tostring" \
    "[[\"$STOP_SEG\",\"$STOP_SEG\",true]]"
check_jq "backup.completeness CRITICAL" '.checks[] | select(.id=="backup.completeness") | .status' CRITICAL
pgattest verify --prefix "file://$V" > "$T/human.txt" 2>&1
check "human summary says NOT RESTORABLE" grep -q "$B1  NOT RESTORABLE" "$T/human.txt"

# ---- a backup without a sentinel ----
V=$(variant nosentinel)
rm "$V/basebackups_005/${B1}_backup_stop_sentinel.json"
verify_json "$V"
check_status "backup without a sentinel: exit 2 (no complete backup left)" 2
check_jq "it is listed as incomplete" ".backups[0] | [.name, .complete, .restorable, .problem] | tostring" \
    "[\"$B1\",false,false,\"no stop sentinel\"]"
check_jq "incomplete backup is a WARNING finding" '.checks[] | select(.id=="backup.completeness") | .findings | map(select(.severity != "OK") | .severity) | tostring' '["WARNING","CRITICAL"]'

# ---- unusable arguments and repositories: UNKNOWN ----
as_pg mkdir -p "$T/empty-repo"
verify_json "$T/empty-repo"
check_status "an empty repository (or a wrong prefix): exit 2, never OK" 2
check_jq "an empty repository says so" '.checks[] | select(.id=="backup.completeness") | .findings[] | select(.summary | test("repository is empty")) | .severity' CRITICAL
verify_json "$T/does-not-exist"
check_status "a repository directory that does not exist (not mounted?): exit 3 (UNKNOWN)" 3
check_jq "it says the directory does not exist" '[.checks[] | .details[] | select(test("does not exist"))] | length > 0' true
chmod 000 "$T/mid/wal_005"
verify_json "$T/mid"
chmod 755 "$T/mid/wal_005"
check_status "a WAL archive that cannot be listed: exit 3 (UNKNOWN)" 3
check_jq "wal.continuity is UNKNOWN" '.checks[] | select(.id=="wal.continuity") | .status' UNKNOWN
pgattest verify --prefix "file://$T/empty-repo" -q > "$T/q.out" 2>&1
VSTATUS=$?; check_status "--quiet: the exit status still tells" 2
check "--quiet prints nothing" test ! -s "$T/q.out"
pgattest verify --prefix "$REPO_URL" --jobs 0 > /dev/null 2>&1
VSTATUS=$?; check_status "a usage error: exit 3, never 0 or 2" 3
echo '[{"check": "wal.continuity"' > "$T/bad.json"
pgattest verify --prefix "$REPO_URL" --waivers "$T/bad.json" > /dev/null 2> "$T/v.err"
VSTATUS=$?; check_status "a malformed waivers file: exit 3" 3
check "the waivers error names file, line and column" grep -q "bad.json: line 1, column 28: not valid JSON" "$T/v.err"

# ---- a promoted standby starts timeline 2; a backup taken on timeline 2 ----
mkdir -p "$T/s"; chown "$PGUSER_OS" "$T/s"
as_pg "$PGBIN/pg_basebackup" -h "$(pg_sockdir a)" -U postgres -D "$(pg_datadir s)" -R -X stream \
    > "$T/s/basebackup.log" 2>&1 || { cat "$T/s/basebackup.log"; exit 1; }
pg_conf s "unix_socket_directories = '$(pg_sockdir s)'" \
    "restore_command = '$PGATTEST wal-fetch --prefix $REPO_URL %f %p'"
pg_start s || exit 1
pg_psql a "insert into t values (100)"
wait_archived a
pg_stop a                               # the primary is lost ...
as_pg "$PGBIN/pg_ctl" -D "$(pg_datadir s)" -w promote > /dev/null   # ... the standby takes over
for i in $(seq 1 600); do [ -f "$WAL/00000002.history.lzo" ] && break; sleep 0.1; done
[ -f "$WAL/00000002.history.lzo" ] || setup_failed "the promoted standby archived 00000002.history"
SWITCH=$(pg_psql s "select pg_current_wal_lsn()")
for i in 1 2 3; do pg_psql s "insert into t values ($i)"; wait_archived s; done
B2=$(fixture_backup s "$REPO") || exit 1
for i in 1 2 3; do pg_psql s "insert into t values ($i)"; wait_archived s; done
pg_stop s

PARTIAL=$(cd "$WAL" && ls | grep -E '^00000001[0-9A-F]{16}\.partial\.lzo$'); PARTIAL=${PARTIAL%.lzo}
SW_NO=$((16#${PARTIAL:8:8} * 256 + 16#${PARTIAL:16:8}))
NEWEST=$(cd "$WAL" && ls | grep -E '^00000002[0-9A-F]{16}\.lzo$' | sort | tail -1); NEWEST=${NEWEST%.lzo}
NEWEST_NO=$((16#${NEWEST:8:8} * 256 + 16#${NEWEST:16:8}))
END_LSN=$(printf '%X/%X' $(( (NEWEST_NO + 1) * SEG_SIZE >> 32 )) $(( (NEWEST_NO + 1) * SEG_SIZE & 0xFFFFFFFF )))
check "the promotion archived the old timeline's last segment as .partial" test -n "$PARTIAL"
check "timeline 1 has no full copy of the switch segment" test ! -f "$WAL/$(segname 1 $SW_NO).lzo"

verify_json "$REPO"
check_status "timeline switch: exit 0" 0
check_jq "timeline switch: no gap (no false MISSING across the switch, wal-g #1390)" "[.backups[].gaps[]] | length" 0
check_jq "backup on timeline 1 follows timeline 2" ".backups[] | select(.name==\"$B1\") | [.restorable, .target_timeline, .recoverable_until_timeline, .recoverable_until] | tostring" \
    "[true,2,2,\"$END_LSN\"]"
check_jq "backup on timeline 1 can also stop on timeline 1, at the switch segment" \
    ".backups[] | select(.name==\"$B1\") | .timelines | map([.timeline, .recoverable_until]) | tostring" \
    "[[1,\"$(printf '%X/%X' $(( SW_NO * SEG_SIZE >> 32 )) $(( SW_NO * SEG_SIZE & 0xFFFFFFFF )))\"],[2,\"$END_LSN\"]]"
check_jq "backup on timeline 2 is restorable to the end" ".backups[] | select(.name==\"$B2\") | [.timeline, .restorable, .recoverable_until] | tostring" \
    "[2,true,\"$END_LSN\"]"
check_jq "the .partial segment is listed" '.wal.timelines[] | select(.timeline==1) | .partials | tostring' "[\"$PARTIAL\"]"
check_jq "timeline 2 has its history" '.wal.timelines[] | select(.timeline==2) | .history' true

# the history file of timeline 2 removed
V=$(variant nohistory)
rm "$V/wal_005/00000002.history.lzo"
verify_json "$V"
check_status "history file removed: exit 2" 2
check_jq "wal.history CRITICAL names timeline 2" '.checks[] | select(.id=="wal.history") | [.status, (.details[0] | test("timeline 2 has WAL .* but no history file 00000002.history"))] | tostring' '["CRITICAL",true]'
check_jq "without it the timeline-1 backup stops at the switch" ".backups[] | select(.name==\"$B1\") | [.target_timeline, .recoverable_until] | tostring" \
    "[1,\"$(printf '%X/%X' $(( SW_NO * SEG_SIZE >> 32 )) $(( SW_NO * SEG_SIZE & 0xFFFFFFFF )))\"]"
check_jq "the timeline-2 backup is still restorable" ".backups[] | select(.name==\"$B2\") | .restorable" true

# the first timeline-2 segment (the copy of the switch segment) removed
V=$(variant tl2gap)
rm "$V/wal_005/$(segname 2 $SW_NO).lzo"
verify_json "$V"
check_status "the switch segment missing on timeline 2: exit 2" 2
check_jq "the gap is on timeline 2, exactly the switch segment" ".backups[] | select(.name==\"$B1\") | .gaps | map([.timeline, .first_missing, .last_missing, .count]) | tostring" \
    "[[2,\"$(segname 2 $SW_NO)\",\"$(segname 2 $SW_NO)\",1]]"
check_jq "the timeline-1 backup recovers until the switch segment" ".backups[] | select(.name==\"$B1\") | .recoverable_until" \
    "$(printf '%X/%X' $(( SW_NO * SEG_SIZE >> 32 )) $(( SW_NO * SEG_SIZE & 0xFFFFFFFF )))"
check_jq "the timeline-2 backup is not affected" ".backups[] | select(.name==\"$B2\") | .gaps | length" 0

# ---- a WAL-E-format archive: WAL-E's sentinel keys only, lzop CLI parts, no manifest ----
WREPO_URL=$(new_repo walerepo)
WREPO=${WREPO_URL#file://}
pg_init w
pg_conf w "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $WREPO_URL %p'"
pg_start w || exit 1
WAL=$WREPO/wal_005
wait_archived w
BW=$(fixture_backup w "$WREPO" wale) || exit 1
for i in 1 2; do pg_psql w "create table w$i()"; wait_archived w; done
pg_stop w
verify_json "$WREPO"
check_status "WAL-E archive: exit 0" 0
check_jq "WAL-E backup: format, restorable, no gaps" ".backups[0] | [.name, .format, .restorable, (.gaps | length)] | tostring" "[\"$BW\",\"WAL-E\",true,0]"
check_jq "WAL-E: the segment size is said to be assumed" '.wal.segment_size_assumed' true
check_jq "WAL-E: start LSN derived from the backup name" ".backups[0].start_lsn" \
    "$(printf '%X/%X' $(( ($(lsn_segno 0/0) + 16#${BW:13:8} * 256 + 16#${BW:21:8}) * SEG_SIZE >> 32 )) $(( ((16#${BW:13:8} * 256 + 16#${BW:21:8}) * SEG_SIZE + 10#${BW:30:8}) & 0xFFFFFFFF )))"

# ---- --deep: every object downloaded and checked ----
WAL=$REPO/wal_005
verify_json "$REPO" --deep --state "$T/state"
check_status "deep, healthy (two timelines, a .partial, two backups): exit 0" 0
check_jq "deep: every WAL object checked" ".integrity.wal_objects_checked" "$(ls "$WAL" | wc -l)"
check_jq "deep: every backup part checked" "[.integrity.backup_objects_checked, .integrity.backup_objects_failed] | tostring" "[4,0]"
check_jq "deep: wal.integrity and backup.integrity OK" '[.checks[] | select(.id=="wal.integrity" or .id=="backup.integrity") | .status] | tostring' '["OK","OK"]'
verify_json "$REPO" --deep --state "$T/state"
check_jq "deep again: nothing new, nothing downloaded" "[.integrity.wal_objects_checked, .integrity.backup_objects_checked, .integrity.wal_objects_skipped, .integrity.backup_objects_skipped] | tostring" \
    "[0,0,$(ls "$WAL" | wc -l),4]"
verify_json "$REPO" --deep --full --state "$T/state"
check_jq "deep --full: everything checked again" "[.integrity.wal_objects_checked, .integrity.backup_objects_skipped] | tostring" "[$(ls "$WAL" | wc -l),0]"

# a bit flipped inside a WAL object (in the compressed data, past the lzop header)
V=$(variant walflip)
FLIP=$(segname 1 $((STOP_NO + 1)))
flip_byte() { # flip_byte FILE OFFSET
    local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $(( b ^ 16 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
flip_byte "$V/wal_005/$FLIP.lzo" 5000
verify_json "$V"
check_status "a flipped bit is invisible without --deep (the listing is fine): exit 0" 0
verify_json "$V" --deep --no-state
check_status "deep: a flipped bit in a WAL object: exit 2" 2
check_jq "deep: wal.integrity names the damaged object" "[.checks[] | select(.id==\"wal.integrity\") | .status, (.evidence[0] | endswith(\"wal_005/$FLIP.lzo\"))] | tostring" '["CRITICAL",true]'
check_jq "deep: one WAL object failed" ".integrity.wal_objects_failed" 1

# a truncated WAL object
V=$(variant waltrunc)
TRUNC=$(segname 1 $((STOP_NO + 2)))
truncate -s 3000 "$V/wal_005/$TRUNC.lzo"
verify_json "$V" --deep --no-state
check_status "deep: a truncated WAL object: exit 2" 2
check_jq "deep: the truncated object is named" "[.checks[] | select(.id==\"wal.integrity\") | .findings[] | select(.evidence[0] | endswith(\"$TRUNC.lzo\"))] | length" 1

# a segment holding another segment's WAL (renamed): the page addresses say so
V=$(variant walswap)
cp "$V/wal_005/$(segname 1 $((STOP_NO + 3))).lzo" "$V/wal_005/$(segname 1 $((STOP_NO + 2))).lzo"
verify_json "$V" --deep --no-state
check_status "deep: a segment with another segment's content: exit 2" 2
check_jq "deep: the page address mismatch is reported" '[.checks[] | select(.id=="wal.integrity") | .details[] | select(test("says it is at"))] | length' 1

# a bit flipped inside a backup part
V=$(variant partflip)
flip_byte "$V/basebackups_005/$B1/tar_partitions/part_00000001.tar.lzo" 20000
verify_json "$V" --deep --no-state
check_status "deep: a flipped bit in a backup part: exit 2" 2
check_jq "deep: backup.integrity names the part" "[.checks[] | select(.id==\"backup.integrity\") | .status, (.evidence | map(select(endswith(\"$B1/tar_partitions/part_00000001.tar.lzo\"))) | length > 0)] | tostring" '["CRITICAL",true]'

# a backup part missing
V=$(variant partmissing)
rm "$V/basebackups_005/$B2/tar_partitions/part_00000000.tar.lzo"
verify_json "$V" --deep --no-state
check_status "deep: a backup part missing: exit 2" 2
check_jq "deep: the missing part is reported" "[.checks[] | select(.id==\"backup.integrity\") | .details[] | select(test(\"$B2: part part_00000000.tar.lzo is missing\"))] | length" 1

# a file changed inside a part, the part re-compressed and the sentinel updated to match: only
# the manifest's per-file SHA-256 can tell
V=$(variant filechanged)
P=$V/basebackups_005/$B1/tar_partitions/part_00000001.tar.lzo
mkdir -p "$T/x"; rm -rf "$T/x"/*
lzop -dc "$P" | tar -C "$T/x" -xf -
VICTIM=$(cd "$T/x" && find base -type f -size +8k | sort | head -1)
printf 'X' | dd of="$T/x/$VICTIM" bs=1 seek=100 conv=notrunc status=none
(cd "$T/x" && tar -cf - ./base) | lzop -c > "$P"
SZ=$(stat -c %s "$P"); SHA=$(sha256sum < "$P"); SHA=${SHA%% *}
jq --argjson sz "$SZ" --arg sha "$SHA" '.parts[1].size = $sz | .parts[1].sha256 = $sha' \
    "$V/basebackups_005/${B1}_backup_stop_sentinel.json" > "$T/s.json"
cp "$T/s.json" "$V/basebackups_005/${B1}_backup_stop_sentinel.json"
verify_json "$V" --deep --no-state
check_status "deep: a file that does not match the manifest: exit 2" 2
check_jq "deep: the file is named" "[.checks[] | select(.id==\"backup.integrity\") | .details[] | select(. == \"$B1: \\\"$VICTIM\\\" does not match its SHA-256 in the manifest\")] | length" 1

# a part that is sound lzop but not a tar (sentinel updated to match): the tar reader's
# verdict is reported, not a broken pipe
V=$(variant nottar)
P=$V/basebackups_005/$B1/tar_partitions/part_00000001.tar.lzo
head -c 300000 /dev/urandom | lzop -c > "$P"
SZ=$(stat -c %s "$P"); SHA=$(sha256sum < "$P"); SHA=${SHA%% *}
jq --argjson sz "$SZ" --arg sha "$SHA" '.parts[1].size = $sz | .parts[1].sha256 = $sha' \
    "$V/basebackups_005/${B1}_backup_stop_sentinel.json" > "$T/s.json"
cp "$T/s.json" "$V/basebackups_005/${B1}_backup_stop_sentinel.json"
verify_json "$V" --deep --no-state
check_status "deep: a part that is not a tar: exit 2" 2
check_jq "deep: the finding is about the tar, not the pipe" "[.checks[] | select(.id==\"backup.integrity\") | .details[] | select(test(\"part_00000001.tar.lzo: (not a tar stream|damaged tar)\"))] | length" 1
check_jq "deep: no broken pipe reported" "[.checks[] | .details[] | select(test(\"Broken pipe\"))] | length" 0

# a truncated backup part
V=$(variant parttrunc)
truncate -s 10000 "$V/basebackups_005/$B2/tar_partitions/part_00000001.tar.lzo"
verify_json "$V" --deep --no-state
check_status "deep: a truncated part: exit 2" 2
check_jq "deep: the size mismatch with the sentinel is reported" "[.checks[] | select(.id==\"backup.integrity\") | .details[] | select(test(\"10000 bytes stored, the sentinel says\"))] | length" 1

# a segment of another cluster under the right name: the system identifier tells
V=$(variant foreign)
cp "$WREPO/wal_005/000000010000000000000001.lzo" "$V/wal_005/000000010000000000000001.lzo"
verify_json "$V" --deep --no-state
check_status "deep: WAL of another cluster: exit 2" 2
check_jq "deep: the foreign segment is named" '[.checks[] | select(.id=="wal.integrity") | .details[] | select(test("000000010000000000000001.lzo: system identifier .* is not the backups.*another cluster"))] | length' 1

# two clusters' backups in one repository
V=$(variant twosystems)
jq '.system_identifier = "12345"' "$V/basebackups_005/${B2}_backup_stop_sentinel.json" > "$T/s.json"
cp "$T/s.json" "$V/basebackups_005/${B2}_backup_stop_sentinel.json"
verify_json "$V"
check_status "backups of two systems in one repository: exit 2" 2
check_jq "the clash is reported" '[.checks[] | select(.id=="backup.completeness") | .details[] | select(test("two clusters share this repository"))] | length' 1

# deep on the WAL-E archive: lzop and tar checks without hashes
verify_json "$WREPO" --deep --no-state
check_status "deep, WAL-E archive: exit 0" 0
check_jq "deep, WAL-E: its parts were read" "[.integrity.backup_objects_checked, .integrity.backup_objects_failed] | tostring" "[2,0]"

# ---- a backup made by backup-push (several parts, a tablespace): verify and --deep agree ----
PREPO_URL=$(new_repo pushrepo)
PREPO=${PREPO_URL#file://}
pg_init p
pg_conf p "archive_mode = on" "archive_command = '$PGATTEST wal-push --prefix $PREPO_URL %p'"
pg_start p || exit 1
WAL=$PREPO/wal_005
mkdir -p "$T/pts"; chown "$PGUSER_OS" "$T/pts"
pg_psql p "create tablespace ts location '$T/pts'"
pg_psql p "create table in_ts tablespace ts as select g as id, md5(g::text) as v from generate_series(1, 20000) g"
BP=$(PGHOST=$(pg_sockdir p) PGUSER=postgres pgattest backup-push --prefix "$PREPO_URL" --fast \
    --partition-size 1M "$(pg_datadir p)" 2> "$T/backup-push.log")
check "backup-push made a backup to verify" test -n "$BP"
pg_psql p "insert into in_ts values (0, 'x')"; wait_archived p
pg_psql p "insert into in_ts values (0, 'y')"; wait_archived p
pg_stop p
verify_json "$PREPO" --deep --no-state
check_status "backup-push's backup: verify --deep exit 0" 0
check_jq "backup-push's backup: restorable, pgattest format, no gaps" ".backups[0] | [.name, .format, .restorable, (.gaps | length)] | tostring" "[\"$BP\",\"pgattest\",true,0]"
NPARTS=$(ls "$PREPO/basebackups_005/$BP/tar_partitions" | wc -l)
check "backup-push wrote several parts" test "$NPARTS" -gt 1
check_jq "every part of it was checked against sentinel and manifest" "[.integrity.backup_objects_checked, .integrity.backup_objects_failed] | tostring" "[$NPARTS,0]"
V=$T/pushflip; rm -rf "$V"; cp -a "$PREPO" "$V"
LASTPART=$(ls "$V/basebackups_005/$BP/tar_partitions" | tail -1)
flip_byte "$V/basebackups_005/$BP/tar_partitions/$LASTPART" 100
verify_json "$V" --deep --no-state
check_status "backup-push's backup with a flipped bit: exit 2" 2

# ---- an archive missing every other segment: the report stays bounded ----
# (a synthetic listing: without --deep verify reads names and sentinels only)
SREPO=$T/sparse
mkdir -p "$SREPO/wal_005" "$SREPO/basebackups_005/base_000000010000000000000002_00000040/tar_partitions"
for n in $(seq 2 2 2600); do : > "$SREPO/wal_005/$(segname 1 "$n").lzo"; done
: > "$SREPO/wal_005/README.txt"   # a stray object: one more check (this once freed a held pointer)
: > "$SREPO/basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_00000000.tar.lzo"
echo '{"wal_segment_backup_stop": "000000010000000000000002", "wal_segment_offset_backup_stop": "00000300", "expanded_size_bytes": 1}' \
    > "$SREPO/basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json"
chown -R "$PGUSER_OS" "$SREPO"
verify_json "$SREPO"
check_status "every other segment missing: exit 2" 2
check_jq "the backup lists its first 1000 gaps and says there are more" ".backups[0] | [(.gaps | length), .gaps_truncated, .gaps[0].first_missing, .recoverable_until] | tostring" \
    '[1000,true,"000000010000000000000003","0/3000000"]'
check_jq "the truncation is a finding" '[.checks[] | select(.id=="wal.continuity") | .details[] | select(test("more than 1000 gaps"))] | length' 1
check_jq "the stray object is reported" '.checks[] | select(.id=="catalog.stray") | [.status, (.evidence[0] | endswith("wal_005/README.txt"))] | tostring' '["WARNING",true]'
