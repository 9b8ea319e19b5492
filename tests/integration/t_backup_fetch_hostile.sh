#!/bin/bash
# backup-fetch against hostile tar parts (made with python3's tarfile and GNU tar options)
# in an otherwise valid WAL-E-format repository: absolute names, "..", symlinks pointing out
# and extraction through them, hard links, special files, duplicate members. Each must fail
# with exit 1 and a message naming the member, and nothing may appear outside DEST.
. "$TOP/tests/lib/common.sh"

NAME=base_000000010000000000000002_00000028
OUT="$T/outside"            # what an escape would reach
mkdir -p "$OUT" "$T/src"; echo data > "$T/src/pwned_gnu"
chown -R "$PGUSER_OS" "$OUT"

# make_repo CASE: a repository whose only backup's part 0 is $T/CASE.tar; prints its URL.
make_repo() {
    local dir="$T/repo_$1"
    mkdir -p "$dir/basebackups_005/$NAME/tar_partitions"
    lzop -q -c "$T/$1.tar" > "$dir/basebackups_005/$NAME/tar_partitions/part_00000000.tar.lzo"
    echo '{"wal_segment_backup_stop": "000000010000000000000002", "wal_segment_offset_backup_stop": "00000100", "expanded_size_bytes": 10}' \
        > "$dir/basebackups_005/${NAME}_backup_stop_sentinel.json"
    chown -R "$PGUSER_OS" "$dir"
    echo "file://$dir"
}

# python3 tarfile: hostile members after a benign one
/usr/bin/python3 - "$T" "$OUT" "$(id -u "$PGUSER_OS")" "$(id -g "$PGUSER_OS")" <<'PY'
import io, sys, tarfile
t, out, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def build(case, members):
    with tarfile.open(f"{t}/{case}.tar", "w", format=tarfile.GNU_FORMAT) as tf:
        def add(name, kind="file", data=b"pwned\n", target=None):
            info = tarfile.TarInfo(name)
            info.mode = 0o600 if kind == "file" else 0o777
            if name.endswith("setuid"):  # owned by the restoring user: libarchive would keep the bits
                info.mode, info.uid, info.gid = 0o7755, uid, gid
            if kind == "file":
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
                return
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE,
                         "chr": tarfile.CHRTYPE}[kind]
            if kind == "dir":
                info.mode = 0o700
            if target is not None:
                info.linkname = target
            tf.addfile(info)
        add("PG_VERSION", data=b"15\n")
        for m in members:
            add(*m)
build("dotdot", [("../pwned_dotdot",)])
build("deep_dotdot", [("base/../../pwned_deep",)])
build("absolute", [(f"{out}/pwned_absolute",)])
build("symlink_absolute", [("evil", "symlink", None, out), ("evil/pwned_through_abs",)])
build("symlink_relative", [("evil", "symlink", None, "../../outside"), ("evil/pwned_through_rel",)])
build("symlink_trick", [("a", "symlink", None, "."), ("b", "symlink", None, "a/../.."),
                        ("b/outside/pwned_trick",)])
build("through_symlink", [("sub", "dir"), ("d", "symlink", None, "sub"), ("d/pwned_through",)])
build("hardlink", [("pwned_hard", "hardlink", None, "/etc/passwd")])
build("fifo", [("pwned_fifo", "fifo")])
build("device", [("pwned_dev", "chr")])
build("duplicate", [("global", "dir"), ("global/pg_control", "file", b"one"),
                    ("global/pg_control", "file", b"two")])
build("benign", [("sub", "dir"), ("sub/file", "file", b"ok\n"), ("link", "symlink", None, "sub/file"),
                 ("sub/setuid", "file", b"#!/bin/sh\n"),
                 ("sub/up", "symlink", None, "../PG_VERSION")])
PY
# GNU tar: absolute names kept with -P, "../" names made with --transform
tar -C "$T/src" -cf "$T/gnu_absolute.tar" -P "$T/src/pwned_gnu" 2>/dev/null
tar -C "$T/src" -cf "$T/gnu_dotdot.tar" -P --transform 's,^,../../,' pwned_gnu
tar -tf "$T/gnu_absolute.tar" 2>/dev/null | grep -q "^/" ||
    setup_failed "GNU tar made an absolute member name" "$(tar -tf "$T/gnu_absolute.tar" 2>&1)"

expect_refused() { # CASE TEXT
    local url; url=$(make_repo "$1")
    as_pg mkdir -p "$T/d_$1"
    check_exit "hostile tar \"$1\" is refused (exit 1)" 1 \
        pgattest backup-fetch --prefix "$url" "$T/d_$1/data" LATEST
    check_err_contains "hostile tar \"$1\": the error says why" "$2"
}
expect_refused dotdot 'contains ".."'
expect_refused deep_dotdot 'contains ".."'
expect_refused absolute "absolute path"
expect_refused gnu_absolute "absolute path"
expect_refused gnu_dotdot 'contains ".."'
expect_refused symlink_absolute "points outside"
expect_refused symlink_relative "points outside"
expect_refused symlink_trick "points outside"
expect_refused through_symlink "d/pwned_through"
expect_refused hardlink "hard link"
expect_refused fifo "special file"
expect_refused device "special file"
expect_refused duplicate "appears twice"

# Every escape above would land under $RUN_ROOT (DEST is $T/d_CASE/data, $OUT is in $T).
found=$(find "$RUN_ROOT" -name 'pwned*' -not -path "$T/src/*" 2>/dev/null | head -5)
[ -z "$found" ] && pass "no hostile member was written anywhere" || fail "no hostile member was written anywhere" "$found"
[ -z "$(ls -A "$OUT")" ] && pass "the directory outside DEST is still empty" ||
    fail "the directory outside DEST is still empty" "$(ls -A "$OUT")"
links=$(find "$T"/d_* -type l 2>/dev/null | while read -r l; do printf '%s -> %s\n' "$l" "$(readlink "$l")"; done)
case "$links" in *"-> /"*|*"-> ../../"*) fail "no symlink pointing out was created" "$links" ;;
    *) pass "no symlink pointing out was created" ;; esac

# The rules do not get in the way of ordinary members and inward symlinks.
url=$(make_repo benign); as_pg mkdir -p "$T/d_benign"
check_exit "a tar with inward symlinks restores" 0 pgattest backup-fetch --prefix "$url" "$T/d_benign/data" LATEST
[ "$(cat "$T/d_benign/data/link")" = ok ] && [ "$(cat "$T/d_benign/data/sub/up")" = 15 ] &&
    pass "inward symlinks restored as links" || fail "inward symlinks restored as links" "$(ls -lR "$T/d_benign")"
[ "$(stat -c %a "$T/d_benign/data/sub/setuid")" = 755 ] && pass "set-user-ID and set-group-ID bits are not restored" ||
    fail "set-user-ID and set-group-ID bits are not restored" "$(stat -c %a "$T/d_benign/data/sub/setuid")"
