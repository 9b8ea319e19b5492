# Bad input: each case gives one clear line on stderr, a non-zero exit, and leaves no partial
# file behind (in the repository or at the destination).
. "$TOP/tests/lib/common.sh"

REPO=$(new_repo repo)
export PGATTEST_PREFIX=$REPO
SEG=000000010000000000000001
as_pg mkdir -p "$T/pg_wal"
as_pg sh -c "head -c 16777216 /dev/urandom > '$T/pg_wal/$SEG'"

no_partial_objects() {
    check_no_file "$1: no temporary object in the repository" "$T" ".pgattest-tmp*"
}

check_exit "missing source file" 1 pgattest wal-push "$T/pg_wal/000000010000000000000009"
check_err_contains "missing source: says what and where" "cannot read \"$T/pg_wal/000000010000000000000009\": No such file"

as_pg cp "$T/pg_wal/$SEG" "$T/pg_wal/000000010000000000000002"
chmod 000 "$T/pg_wal/000000010000000000000002"
check_exit "unreadable source file" 1 pgattest wal-push "$T/pg_wal/000000010000000000000002"
check_err_contains "unreadable source: permission denied named" "Permission denied"
no_partial_objects "unreadable source"

as_pg mkdir "$T/pg_wal/000000010000000000000003"
check_exit "a directory instead of a file" 1 pgattest wal-push "$T/pg_wal/000000010000000000000003"
check_err_contains "directory: says it is not a regular file" "not a regular file"

as_pg cp "$T/pg_wal/$SEG" "$T/pg_wal/postgresql.conf"
check_exit "a file that is not WAL" 1 pgattest wal-push "$T/pg_wal/postgresql.conf"
check_err_contains "not WAL: says so" "is not a WAL file name"

as_pg sh -c "head -c 1000 /dev/urandom > '$T/pg_wal/000000010000000000000005'"
check_exit "a segment of impossible size (still being written?)" 1 \
    pgattest wal-push "$T/pg_wal/000000010000000000000005"
check_err_contains "short segment: gives the size" "is 1000 bytes"
if [ -e "$T/repo/wal_005/000000010000000000000005.lzo" ]; then fail "short segment not archived"; else pass "short segment not archived"; fi

# Unwritable repository (as a non-root user permissions apply).
as_pg mkdir -p "$T/ro-repo"
chmod 555 "$T/ro-repo"
check_exit "unwritable repository" 1 pgattest wal-push --prefix "file://$T/ro-repo" "$T/pg_wal/$SEG"
check_err_contains "unwritable repository: permission denied named" "Permission denied"
check_no_file "unwritable repository: nothing written" "$T/ro-repo" "*.lzo"

# A full disk: a 1 MiB tmpfs as the repository. As root (CI) it must run: a mount that fails
# is a failure, with mount's own message; only a non-root run may skip it.
full_disk_ok=0
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p "$T/full"
    if mount_err=$(mount -t tmpfs -o size=1m,mode=0777 tmpfs "$T/full" 2>&1); then
        full_disk_ok=1
        trap 'umount "$T/full" 2>/dev/null' EXIT
    else
        fail "full disk: mount a 1 MiB tmpfs as root" "$mount_err"
    fi
else
    skip "full disk (needs root to mount a small tmpfs)"
fi
if [ $full_disk_ok -eq 1 ]; then
    check_exit "full repository file system" 1 pgattest wal-push --prefix "file://$T/full" "$T/pg_wal/$SEG"
    check_err_contains "full disk: says no space" "No space left on device"
    check_no_file "full disk: no partial object" "$T/full" "*"
    # wal-fetch into a full file system: exit 255 and no partial destination file.
    pgattest wal-push "$T/pg_wal/$SEG" >/dev/null 2>&1
    check_exit "wal-fetch into a full file system exits 255" 255 pgattest wal-fetch "$SEG" "$T/full/$SEG"
    check_no_file "wal-fetch into a full disk leaves nothing" "$T/full" "*"
    umount "$T/full"
fi

# A corrupt object: fetch fails with 255, no destination file.
pgattest wal-push "$T/pg_wal/$SEG" >/dev/null 2>&1
obj="$T/repo/wal_005/$SEG.lzo"
printf 'garbage' | dd of="$obj" bs=1 seek=5000 conv=notrunc status=none
check_exit "corrupt object on fetch exits 255" 255 pgattest wal-fetch "$SEG" "$T/restored"
check_err_contains "corrupt object: names the object" "wal_005/$SEG.lzo"
check_no_file "corrupt object: no destination file" "$T" "restored"
check_no_file "corrupt object: no temporary file" "$T" ".pgattest-fetch*"
# ... and pushing the good segment again refuses to overwrite the damaged object.
check_exit "pushing over a damaged archived object fails" 1 pgattest wal-push "$T/pg_wal/$SEG"
check_err_contains "it says the archived object cannot be read back" "cannot be read back"

# An empty object (e.g. a truncated upload by another tool).
: > "$T/repo/wal_005/000000010000000000000007.lzo"
check_exit "empty object on fetch exits 255" 255 pgattest wal-fetch 000000010000000000000007 "$T/r2"
check_err_contains "empty object: says truncated" "truncated"

# A repository directory that does not exist (an unmounted volume, a typo) is never created:
# writing into a fresh local directory in its place would look like success.
check_exit "wal-push into a repository directory that does not exist fails" 1 \
    pgattest wal-push --prefix "file://$T/not-mounted/backups" "$T/pg_wal/$SEG"
check_err_contains "it says the directory does not exist" "does not exist (not mounted?"
if [ -e "$T/not-mounted" ]; then fail "the missing repository was not created"; else pass "the missing repository was not created"; fi
