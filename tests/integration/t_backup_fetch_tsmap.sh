#!/bin/bash
# backup-fetch and tablespaces, on a hand-made WAL-E-format backup (python3 tarfile + lzop):
# --tablespace-map puts each tablespace where asked, pg_tblspc/<oid> links there, and
# tablespace_map (which PostgreSQL uses to recreate the links during recovery) is rewritten
# to match, with PostgreSQL's escaping; overlapping or relative targets are refused before
# anything is written.
. "$TOP/tests/lib/common.sh"

NAME=base_000000010000000000000002_00000028
REPO_DIR="$T/repo"; REPO="file://$REPO_DIR"
mkdir -p "$REPO_DIR/basebackups_005/$NAME/tar_partitions"
/usr/bin/python3 - "$T" <<'PY'
import io, json, sys, tarfile
t = sys.argv[1]
def esc(p):  # as PostgreSQL writes tablespace_map
    return "".join("\\" + c if c in "\\\n\r" else c for c in p)
tsmap = "16400 %s\n16401 %s\n" % (esc("/orig/ts a"), esc("/orig/with\\back"))
with tarfile.open(f"{t}/part.tar", "w") as tf:
    def add(name, data=None, kind="file"):
        info = tarfile.TarInfo(name)
        if kind == "dir":
            info.type, info.mode = tarfile.DIRTYPE, 0o700
            tf.addfile(info)
        else:
            info.size, info.mode = len(data), 0o600
            tf.addfile(info, io.BytesIO(data))
    add("PG_VERSION", b"15\n")
    add("backup_label", b"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n")
    add("tablespace_map", tsmap.encode())
    add("pg_tblspc", kind="dir")
    for oid, rel in (("16400", "123"), ("16401", "124")):
        add(f"pg_tblspc/{oid}", kind="dir")
        add(f"pg_tblspc/{oid}/PG_15_202209061", kind="dir")
        add(f"pg_tblspc/{oid}/PG_15_202209061/5", kind="dir")
        add(f"pg_tblspc/{oid}/PG_15_202209061/5/{rel}", f"relation {rel}\n".encode())
spec = {"base_prefix": "/orig/data", "tablespaces": ["16400", "16401"],
        "16400": {"loc": "/orig/ts a", "link": "pg_tblspc/16400"},
        "16401": {"loc": "/orig/with\\back", "link": "pg_tblspc/16401"}}
json.dump({"wal_segment_backup_stop": "000000010000000000000002",
           "wal_segment_offset_backup_stop": "00000100", "expanded_size_bytes": 100, "spec": spec},
          open(f"{t}/sentinel.json", "w"))
PY
lzop -q -c "$T/part.tar" > "$REPO_DIR/basebackups_005/$NAME/tar_partitions/part_00000000.tar.lzo"
mv "$T/sentinel.json" "$REPO_DIR/basebackups_005/${NAME}_backup_stop_sentinel.json"
chown -R "$PGUSER_OS" "$REPO_DIR"

DEST="$T/dst/data"; as_pg mkdir -p "$T/dst"
check_exit "a tablespace inside DEST is refused" 1 pgattest backup-fetch --prefix "$REPO" \
    --tablespace-map "16400=$DEST/inside" --tablespace-map "16401=$T/b" "$DEST" LATEST
check_err_contains "the refusal says it overlaps DEST" "overlaps the destination"
check_exit "two tablespaces in one directory are refused" 1 pgattest backup-fetch --prefix "$REPO" \
    --tablespace-map "16400=$T/same" --tablespace-map "16401=$T/same/" "$DEST" LATEST
check_err_contains "the refusal names both tablespaces" "tablespaces 16400 and 16401"
check_exit "a relative --tablespace-map is a usage error" 2 pgattest backup-fetch --prefix "$REPO" \
    --tablespace-map "16400=relative" "$DEST" LATEST
check_exit "the recorded locations cannot be created here: refused" 1 pgattest backup-fetch --prefix "$REPO" \
    --tablespace-map "16400=$T/a" "$DEST" LATEST
[ ! -e "$DEST" ] && [ ! -e "$T/same" ] && [ ! -e "$T/a" ] && pass "refused restores created nothing" ||
    fail "refused restores created nothing" "$(ls -la "$T" "$T/dst")"

A="$T/new ts"; B="$T/back\\slash"
check_exit "backup-fetch with both tablespaces remapped" 0 pgattest backup-fetch --prefix "$REPO" \
    --tablespace-map "16400=$A" --tablespace-map "16401=$B" "$DEST" LATEST
[[ $LAST_OUT == *"rewrote tablespace_map"* ]] && pass "it says tablespace_map was rewritten" ||
    fail "it says tablespace_map was rewritten" "$LAST_OUT"
[ "$(readlink "$DEST/pg_tblspc/16400")" = "$A" ] && [ "$(readlink "$DEST/pg_tblspc/16401")" = "$B" ] &&
    pass "pg_tblspc links point to the new directories" || fail "pg_tblspc links point to the new directories" "$(ls -l "$DEST/pg_tblspc")"
[ "$(cat "$A/PG_15_202209061/5/123")" = "relation 123" ] && [ "$(cat "$B/PG_15_202209061/5/124")" = "relation 124" ] &&
    pass "tablespace files are in the new directories" || fail "tablespace files are in the new directories"
[ ! -e "$DEST/pg_tblspc/16400/PG_15_202209061/5/124" ] && pass "each tablespace got only its own files" ||
    fail "each tablespace got only its own files"
map=$(/usr/bin/python3 - "$DEST/tablespace_map" <<'PY'
import sys
entries, line, bs = [], "", False
for ch in open(sys.argv[1]).read():   # PostgreSQL's read_tablespace_map() rules
    if not bs and ch in "\n\r":
        if line:
            oid, _, path = line.partition(" ")
            entries.append(f"{oid}={path}")
        line = ""
    elif not bs and ch == "\\":
        bs = True
    else:
        line += ch; bs = False
print("|".join(entries))
PY
)
[ "$map" = "16400=$A|16401=$B" ] && pass "tablespace_map names the new directories (PostgreSQL's escaping)" ||
    fail "tablespace_map names the new directories" "got: $map"
[ "$(stat -c %a "$A")" = 700 ] && pass "new tablespace directories have mode 0700" || fail "new tablespace directories have mode 0700"

# An existing, empty DEST that the restoring user cannot write into: refused up front.
if [ "$(id -u)" -eq 0 ]; then
    mkdir -m 755 "$T/not_mine"     # owned by root; pgattest runs as $PGUSER_OS
    check_exit "an empty DEST the user cannot write into is refused" 1 \
        pgattest backup-fetch --prefix "$REPO" --tablespace-map "16400=$T/c" --tablespace-map "16401=$T/d" "$T/not_mine" LATEST
    check_err_contains "the refusal names DEST" "cannot write into the destination"
    [ ! -e "$T/c" ] && [ ! -e "$T/d" ] && pass "nothing was created for it" || fail "nothing was created for it"
else
    skip "unwritable DEST: needs root to make a directory another user owns"
fi
