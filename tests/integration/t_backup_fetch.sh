#!/bin/bash
# backup-fetch against real backups of a real PostgreSQL 15 cluster, made with the real
# tools (GNU tar, the lzop CLI; tests/lib/make_backup.py writes sentinel and manifest):
#   - a WAL-E-format repository (WAL-E's sentinel keys only, WAL archived by the lzop CLI)
#     is listed, fetched, recovered with restore_command = pgattest wal-fetch, and its data
#     checked, tablespace included (remapped);
#   - our format (manifest + part checksums): LATEST, --jobs, a flipped bit and a recompressed
#     part fail naming the part, manifest edits fail naming the file or manifest.json;
#   - a non-empty destination and a non-empty tablespace location are refused.
. "$TOP/tests/lib/common.sh"
. "$TOP/tests/lib/pg.sh"

MAKE_BACKUP="/usr/bin/python3 $TOP/tests/lib/make_backup.py"

# make_backup REPO_DIR FORMAT: cold backup of the (stopped) source cluster into REPO_DIR.
make_backup() {
    local name
    name=$($MAKE_BACKUP --pgdata "$(pg_datadir src)" --repo "$1" --format "$2") || return 1
    chown -R "$PGUSER_OS" "$1"
    echo "$name"
}

# switch_and_wait NAME: switch WAL and wait until the finished segment is archived.
switch_and_wait() {
    local seg i
    seg=$(pg_psql src "select pg_walfile_name(pg_switch_wal())")
    for i in $(seq 1 100); do
        [ -f "$WALE_DIR/wal_005/$seg.lzo" ] && return 0
        sleep 0.2
    done
    echo "segment $seg was not archived"; return 1
}

WALE_REPO=$(new_repo wale); WALE_DIR=${WALE_REPO#file://}
OURS_REPO=$(new_repo ours); OURS_DIR=${OURS_REPO#file://}
as_pg mkdir -p "$WALE_DIR/wal_005" "$T/ts_src"

# ---- source cluster: archives like WAL-E did (lzop CLI), one tablespace ----
pg_init src || exit 1
pg_conf src "archive_mode = on" \
    "archive_command = 'test ! -f $WALE_DIR/wal_005/%f.lzo && lzop -q -c %p > $WALE_DIR/wal_005/%f.lzo.tmp && mv $WALE_DIR/wal_005/%f.lzo.tmp $WALE_DIR/wal_005/%f.lzo'"
pg_start src || exit 1
pg_psql src "create tablespace ts location '$T/ts_src'" >/dev/null
pg_psql src "create table t (id int primary key, phase text);
             insert into t select g, 'before' from generate_series(1, 5000) g;
             create table t_ts (id int, payload text) tablespace ts;
             insert into t_ts select g, md5(g::text) from generate_series(1, 3000) g;" >/dev/null
TS_OID=$(pg_psql src "select oid from pg_tablespace where spcname = 'ts'")
pg_stop src
WALE_NAME=$(make_backup "$WALE_DIR" wale) ||
    setup_failed "WAL-E fixture: cold backup made with GNU tar + lzop"
cp "$(pg_datadir src)/global/pg_control" "$T/pg_control.at_backup"
setup_step "WAL-E fixture: parts pass lzop -t" lzop -t "$WALE_DIR/basebackups_005/$WALE_NAME/tar_partitions/"*.lzo
if grep -q pgattest_format "$WALE_DIR/basebackups_005/${WALE_NAME}_backup_stop_sentinel.json" ||
   [ -e "$WALE_DIR/basebackups_005/$WALE_NAME/manifest.json" ]; then
    setup_failed "WAL-E fixture has only WAL-E's keys and no manifest"
fi

check_exit "WAL-E fixture: backup-list exits 0" 0 pgattest backup-list --prefix "$WALE_REPO"
[[ $LAST_OUT == *"$WALE_NAME"*complete* ]] && pass "WAL-E fixture: backup-list lists it as complete" ||
    fail "WAL-E fixture: backup-list lists it as complete" "$LAST_OUT"

# Transactions after the backup: only WAL replay can bring them back.
pg_start src || exit 1
pg_psql src "insert into t select g, 'after' from generate_series(5001, 6000) g;
             insert into t_ts select g, 'after' from generate_series(3001, 3500) g;" >/dev/null
switch_and_wait || exit 1
EXPECT_T=$(pg_psql src "select count(*), sum(id), count(*) filter (where phase = 'after') from t")
EXPECT_TS=$(pg_psql src "select count(*), md5(string_agg(payload, ',' order by id)) from t_ts")
pg_stop src

# ---- the recorded tablespace location is not empty: refused before anything is written ----
as_pg mkdir -p "$T/dst1"
check_exit "WAL-E backup: refused while the tablespace's recorded location is not empty" 1 \
    pgattest backup-fetch --prefix "$WALE_REPO" "$(pg_datadir dst1)" LATEST
check_err_contains "the refusal names the tablespace and says it is not empty" "not empty"
[ ! -e "$(pg_datadir dst1)" ] && pass "nothing was created for the refused restore" ||
    fail "nothing was created for the refused restore" "$(ls -la "$T/dst1")"

# ---- WAL-E backup: fetch with the tablespace remapped, recover from the archive ----
check_exit "WAL-E backup: backup-fetch LATEST with --tablespace-map succeeds" 0 \
    pgattest backup-fetch --prefix "$WALE_REPO" --tablespace-map "$TS_OID=$T/ts_dst1" \
    "$(pg_datadir dst1)" LATEST
[[ $LAST_OUT == *"lzop block checksums"* ]] && pass "WAL-E backup: says it relies on the lzop block checksums" ||
    fail "WAL-E backup: says it relies on the lzop block checksums" "$LAST_OUT"
[[ $LAST_OUT == *"restored base backup \"$WALE_NAME\""* ]] && pass "output names the backup restored" ||
    fail "output names the backup restored" "$LAST_OUT"
[ "$(readlink "$(pg_datadir dst1)/pg_tblspc/$TS_OID")" = "$T/ts_dst1" ] &&
    pass "pg_tblspc/$TS_OID links to the remapped directory" ||
    fail "pg_tblspc/$TS_OID links to the remapped directory" "$(ls -l "$(pg_datadir dst1)/pg_tblspc")"
[ -n "$(ls "$T/ts_dst1")" ] && pass "tablespace files restored into the remapped directory" ||
    fail "tablespace files restored into the remapped directory"
[ "$(stat -c %a "$(pg_datadir dst1)")" = 700 ] && pass "DEST created with mode 0700" ||
    fail "DEST created with mode 0700" "$(stat -c %a "$(pg_datadir dst1)")"
cmp -s "$T/pg_control.at_backup" "$(pg_datadir dst1)/global/pg_control" &&
    pass "restored pg_control is the backed-up one" || fail "restored pg_control is the backed-up one"

pg_conf dst1 "unix_socket_directories = '$(pg_sockdir dst1)'" "archive_mode = off" \
    "restore_command = '$PGATTEST wal-fetch --prefix $WALE_REPO %f %p'"
as_pg touch "$(pg_datadir dst1)/recovery.signal"
if pg_start dst1; then
    for i in $(seq 1 150); do
        [ "$(pg_psql dst1 "select pg_is_in_recovery()")" = f ] && break
        sleep 0.2
    done
    got_t=$(pg_psql dst1 "select count(*), sum(id), count(*) filter (where phase = 'after') from t")
    got_ts=$(pg_psql dst1 "select count(*), md5(string_agg(payload, ',' order by id)) from t_ts")
    [ "$got_t" = "$EXPECT_T" ] && pass "WAL-E backup recovered: table t matches ($got_t)" ||
        fail "WAL-E backup recovered: table t matches" "expected $EXPECT_T, got $got_t"
    [ "$got_ts" = "$EXPECT_TS" ] && pass "WAL-E backup recovered: tablespace table matches" ||
        fail "WAL-E backup recovered: tablespace table matches" "expected $EXPECT_TS, got $got_ts"
    pg_stop dst1
else
    fail "restored WAL-E backup starts with restore_command = pgattest wal-fetch"
fi

# ---- WAL-E backup, a bit flipped in a part: the lzop block checksums are the only defence ----
flip_bit() { # flip_bit FILE OFFSET: XOR one bit of the byte at OFFSET
    /usr/bin/python3 -c "
import sys; p = sys.argv[1]; off = int(sys.argv[2])
d = bytearray(open(p, 'rb').read()); d[off] ^= 0x04; open(p, 'wb').write(d)" "$1" "$2"
}
WALE_PARTS=$(ls "$WALE_DIR/basebackups_005/$WALE_NAME/tar_partitions/")
n=0
for part in $WALE_PARTS; do
    P="$WALE_DIR/basebackups_005/$WALE_NAME/tar_partitions/$part"
    size=$(stat -c %s "$P")
    for frac in 2 4; do   # the middle and the last quarter: compressed data, past the header
        n=$((n + 1)); off=$((size * (frac - 1) / frac))
        cp "$P" "$T/wale_part.orig"; flip_bit "$P" "$off"
        lzop -t "$P" 2> /dev/null && setup_failed "lzop -t rejects $part with bit $off flipped"
        rm -rf "$T/wf$n" "$T/ts_wf$n"; as_pg mkdir -p "$T/wf$n"
        run_capture pgattest backup-fetch --prefix "$WALE_REPO" --tablespace-map "$TS_OID=$T/ts_wf$n" \
            "$T/wf$n/data" LATEST
        [ $LAST_STATUS -eq 1 ] && pass "WAL-E $part, bit flipped at byte $off: backup-fetch exits 1" ||
            fail "WAL-E $part, bit flipped at byte $off: backup-fetch exits 1" "status $LAST_STATUS: $LAST_ERR"
        check_err_contains "WAL-E $part, byte $off: the error names the part" "$part"
        [ ! -e "$T/wf$n/data/global/pg_control" ] &&
            pass "WAL-E $part, byte $off: no global/pg_control after the failed restore" ||
            fail "WAL-E $part, byte $off: no global/pg_control after the failed restore"
        cp "$T/wale_part.orig" "$P"
    done
done
# PostgreSQL itself refuses the last half-restored directory.
if [ -d "$T/wf$n/data" ]; then
    chown -R "$PGUSER_OS" "$T/wf$n"
    if as_pg "$PGBIN/pg_ctl" -D "$T/wf$n/data" -l "$T/wf$n.log" -w -t 30 start > /dev/null 2>&1; then
        PG_STARTED+=("$T/wf$n/data")
        fail "PostgreSQL refuses to start the half-restored WAL-E backup" "it started"
    else
        pass "PostgreSQL refuses to start the half-restored WAL-E backup"
    fi
fi

# ---- our format: two backups, manifest and part checksums ----
OURS1=$(make_backup "$OURS_DIR" pgattest) || setup_failed "build our-format backup 1"
pg_start src || exit 1
pg_psql src "insert into t select g, 'second' from generate_series(6001, 6100) g" >/dev/null
pg_stop src
OURS2=$(make_backup "$OURS_DIR" pgattest) || setup_failed "build our-format backup 2"
[ "$OURS1" != "$OURS2" ] || setup_failed "two distinct backups in our format" "$OURS1 $OURS2"

fetch_ours() { # fetch_ours NAME DESTNAME [options]: restore into $T/DESTNAME/data
    local which=$1 d=$2; shift 2
    rm -rf "$T/$d" "$T/ts_$d"; as_pg mkdir -p "$T/$d"
    run_capture pgattest backup-fetch --prefix "$OURS_REPO" --tablespace-map "$TS_OID=$T/ts_$d" \
        "$@" "$T/$d/data" "$which"
}

fetch_ours LATEST dst2 --jobs 3
[ $LAST_STATUS -eq 0 ] && pass "our format: backup-fetch LATEST --jobs 3 succeeds" ||
    fail "our format: backup-fetch LATEST --jobs 3 succeeds" "$LAST_ERR"
[[ $LAST_OUT == *"restored base backup \"$OURS2\""* ]] && pass "LATEST is the newest backup ($OURS2)" ||
    fail "LATEST is the newest backup" "$LAST_OUT"
[[ $LAST_OUT == *"every file against the manifest"* ]] && pass "output says files were checked against the manifest" ||
    fail "output says files were checked against the manifest" "$LAST_OUT"
diff -r --no-dereference -x pg_wal -x postmaster.pid -x postmaster.opts -x pg_tblspc \
    "$(pg_datadir src)" "$T/dst2/data" > "$T/diff.out" 2>&1 &&
    pass "restored files are byte-identical to the source data directory" ||
    fail "restored files are byte-identical to the source data directory" "$(head -5 "$T/diff.out")"
diff -r "$T/ts_src" "$T/ts_dst2" > "$T/diff.out" 2>&1 &&
    pass "restored tablespace is byte-identical to the source" ||
    fail "restored tablespace is byte-identical to the source" "$(head -5 "$T/diff.out")"

fetch_ours "$OURS1" dst3 --jobs 1
[ $LAST_STATUS -eq 0 ] && [[ $LAST_OUT == *"\"$OURS1\""* ]] && pass "fetch by name (--jobs 1)" ||
    fail "fetch by name (--jobs 1)" "$LAST_ERR"

# ---- non-empty DEST ----
as_pg mkdir -p "$T/busy"; echo keep > "$T/busy/precious"; chown -R "$PGUSER_OS" "$T/busy"
check_exit "a non-empty DEST is refused" 1 pgattest backup-fetch --prefix "$OURS_REPO" "$T/busy" LATEST
check_err_contains "the refusal says DEST is not empty" "is not empty"
[ "$(ls "$T/busy")" = precious ] && [ "$(cat "$T/busy/precious")" = keep ] &&
    pass "the non-empty DEST is untouched" || fail "the non-empty DEST is untouched"

check_exit "an unknown backup name fails" 1 pgattest backup-fetch --prefix "$OURS_REPO" "$T/none" base_000000010000000000000099_00000040
check_err_contains "the failure names the backup" "no base backup named"
check_exit "--tablespace-map for a tablespace the backup lacks is refused" 1 \
    pgattest backup-fetch --prefix "$OURS_REPO" --tablespace-map "$TS_OID=$T/tsx" --tablespace-map "99999=$T/tsy" "$T/none" LATEST
check_err_contains "the refusal names the OID" "has no tablespace 99999"

# ---- corruption: a flipped bit in a part ----
BDIR="$OURS_DIR/basebackups_005/$OURS2"
PART1="$BDIR/tar_partitions/part_00000001.tar.lzo"
cp "$PART1" "$T/part1.orig"
size=$(stat -c %s "$PART1")
/usr/bin/python3 -c "
import sys; p = sys.argv[1]; off = int(sys.argv[2])
d = bytearray(open(p, 'rb').read()); d[off] ^= 0x10; open(p, 'wb').write(d)" "$PART1" $((size / 2))
fetch_ours LATEST dst4
[ $LAST_STATUS -eq 1 ] && pass "a flipped bit in a part fails with exit 1" ||
    fail "a flipped bit in a part fails with exit 1" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the damaged part" "part_00000001.tar.lzo"
check_err_contains "the failure says the restore is incomplete and cannot be started" "cannot be started"
[ ! -e "$T/dst4/data/global/pg_control" ] && pass "the incomplete restore has no pg_control (PostgreSQL refuses to start it)" ||
    fail "the incomplete restore has no pg_control (PostgreSQL refuses to start it)"
cp "$T/part1.orig" "$PART1"

# ---- a part replaced by another valid lzop file of the same tar: only SHA-256 sees it ----
PART0="$BDIR/tar_partitions/part_00000000.tar.lzo"
cp "$PART0" "$T/part0.orig"
lzop -dc "$T/part0.orig" | lzop -1 -c > "$PART0"
fetch_ours LATEST dst5
[ $LAST_STATUS -eq 1 ] && pass "a recompressed (lzop-valid) part fails" ||
    fail "a recompressed (lzop-valid) part fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the part and the sentinel's record of it" "part_00000000.tar.lzo"
[[ $LAST_ERR == *"the sentinel says"* ]] && pass "the failure is the mismatch with the sentinel" ||
    fail "the failure is the mismatch with the sentinel" "$LAST_ERR"
cp "$T/part0.orig" "$PART0"

# ---- same size, valid lzop, different bytes (header mtime changed, header checksum fixed):
#      only the sentinel's SHA-256 can tell ----
/usr/bin/python3 - "$PART0" <<'PY'
import sys, zlib
p = sys.argv[1]
d = bytearray(open(p, "rb").read())
flags = int.from_bytes(d[17:21], "big")
assert not flags & 0x800 and not flags & 0x1000, "unexpected lzop header flags"
d[25] ^= 0x01                      # mtime, low byte
end = 34 + d[33]                   # after the stored file name
d[end:end + 4] = zlib.adler32(bytes(d[9:end])).to_bytes(4, "big")
open(p, "wb").write(d)
PY
if lzop -t "$PART0" 2>/dev/null; then pass "the re-stamped part is valid lzop"; else fail "the re-stamped part is valid lzop"; fi
fetch_ours LATEST dst5b
[ $LAST_STATUS -eq 1 ] && pass "a part with the right size but other bytes fails" ||
    fail "a part with the right size but other bytes fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the part's SHA-256 mismatch" "part_00000000.tar.lzo of base backup \"$OURS2\": stored object has SHA-256"
cp "$T/part0.orig" "$PART0"

# ---- manifest edits ----
# edit_manifest PYTHON_EXPR [resign]: change manifest.json (m = parsed JSON); with resign, also
# update the sentinel's record of it, as a consistent forgery would.
cp "$BDIR/manifest.json" "$T/manifest.orig"; cp "$BDIR"_backup_stop_sentinel.json "$T/sentinel.orig"
edit_manifest() {
    /usr/bin/python3 - "$BDIR" "$1" "${2:-}" <<'PY'
import hashlib, json, sys
bdir, expr, resign = sys.argv[1:4]
m = json.load(open(bdir + "/manifest.json"))
exec(expr)
data = json.dumps(m).encode()
open(bdir + "/manifest.json", "wb").write(data)
if resign:
    s = json.load(open(bdir + "_backup_stop_sentinel.json"))
    s["manifest"].update(size=len(data), sha256=hashlib.sha256(data).hexdigest())
    json.dump(s, open(bdir + "_backup_stop_sentinel.json", "w"))
PY
}
restore_manifest() { cp "$T/manifest.orig" "$BDIR/manifest.json"; cp "$T/sentinel.orig" "$BDIR"_backup_stop_sentinel.json; }

edit_manifest "
f = next(f for f in m['files'] if f['path'] == 'global/pg_control')
f['sha256'] = ('0' if f['sha256'][0] != '0' else '1') + f['sha256'][1:]" resign
fetch_ours LATEST dst6
[ $LAST_STATUS -eq 1 ] && pass "a file that does not match its manifest SHA-256 fails" ||
    fail "a file that does not match its manifest SHA-256 fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the file" "\"global/pg_control\""
restore_manifest

edit_manifest "m['files'][0]['size'] = m['files'][0].get('size', 0) + 1"
fetch_ours LATEST dst7
[ $LAST_STATUS -eq 1 ] && pass "a manifest that does not match the sentinel fails" ||
    fail "a manifest that does not match the sentinel fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names manifest.json" "manifest.json"
restore_manifest

edit_manifest "m['files'].append({'path': 'base/1/999999', 'type': 'file', 'size': 0, 'sha256': '0' * 64, 'mode': 384, 'mtime': 0, 'part': 1})" resign
fetch_ours LATEST dst8
[ $LAST_STATUS -eq 1 ] && pass "a file in the manifest but in no part fails" ||
    fail "a file in the manifest but in no part fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the missing file" "base/1/999999"
restore_manifest

edit_manifest "m['files'] = [f for f in m['files'] if f['path'] != 'PG_VERSION']" resign
fetch_ours LATEST dst9
[ $LAST_STATUS -eq 1 ] && pass "a file in a part but not in the manifest fails" ||
    fail "a file in a part but not in the manifest fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the extra file" "\"PG_VERSION\""
restore_manifest

/usr/bin/python3 - "$BDIR"_backup_stop_sentinel.json <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["parts"].reverse(); json.dump(s, open(sys.argv[1], "w"))
PY
fetch_ours LATEST dst10a
[ $LAST_STATUS -eq 0 ] && pass "parts listed out of order in the sentinel still match the manifest's part numbers" ||
    fail "parts listed out of order in the sentinel still match the manifest's part numbers" "$LAST_ERR"
restore_manifest

fetch_ours LATEST dst10
[ $LAST_STATUS -eq 0 ] && pass "after the repairs the backup restores again" ||
    fail "after the repairs the backup restores again" "$LAST_ERR"

# ---- no --tablespace-map: the tablespace goes back to its recorded location when empty ----
mv "$T/ts_src" "$T/ts_src.moved"
rm -rf "$T/dst11"; as_pg mkdir -p "$T/dst11"
check_exit "a backup restores its tablespace to the recorded (now empty) location" 0 \
    pgattest backup-fetch --prefix "$OURS_REPO" "$T/dst11/data" "$OURS1"
[ "$(readlink "$T/dst11/data/pg_tblspc/$TS_OID")" = "$T/ts_src" ] && [ -n "$(ls "$T/ts_src")" ] &&
    pass "pg_tblspc/$TS_OID links to the recorded location, which holds the files" ||
    fail "pg_tblspc/$TS_OID links to the recorded location" "$(ls -l "$T/dst11/data/pg_tblspc")"

# ---- parts missing, truncated or unexpected ----
head -c 1000 "$T/part1.orig" > "$PART1"
fetch_ours LATEST dst12
[ $LAST_STATUS -eq 1 ] && pass "a truncated part fails" || fail "a truncated part fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the truncated part" "part_00000001.tar.lzo"
rm "$PART1"
fetch_ours LATEST dst13
[ $LAST_STATUS -eq 1 ] && pass "a missing part fails" || fail "a missing part fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure says the part is missing" "part_00000001.tar.lzo of base backup \"$OURS2\" is listed in the sentinel but missing"
cp "$T/part1.orig" "$PART1"
cp "$PART1" "$BDIR/tar_partitions/part_00000009.tar.lzo"; chown "$PGUSER_OS" "$BDIR/tar_partitions/part_00000009.tar.lzo"
fetch_ours LATEST dst14
[ $LAST_STATUS -eq 1 ] && pass "a part the sentinel does not list fails" || fail "a part the sentinel does not list fails" "status $LAST_STATUS: $LAST_ERR"
check_err_contains "the failure names the unexpected part" "part_00000009.tar.lzo\" is not listed in the sentinel"
rm "$BDIR/tar_partitions/part_00000009.tar.lzo"

WPART0="$WALE_DIR/basebackups_005/$WALE_NAME/tar_partitions/part_00000000.tar.lzo"
mv "$WPART0" "$T/wale_part0"
rm -rf "$T/dst15"; as_pg mkdir -p "$T/dst15"
check_exit "a WAL-E backup with a gap in its parts fails" 1 pgattest backup-fetch --prefix "$WALE_REPO" \
    --tablespace-map "$TS_OID=$T/ts_dst15" "$T/dst15/data" "$WALE_NAME"
check_err_contains "the failure names the missing WAL-E part" "no part_00000000.tar.lzo"
mv "$T/wale_part0" "$WPART0"
