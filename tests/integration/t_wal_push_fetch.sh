# wal-push / wal-fetch semantics on a file:// repository: every kind of WAL file, the
# no-overwrite rule, wal-fetch's exit statuses, and where the repository comes from.
. "$TOP/tests/lib/common.sh"

REPO_URL=${REPO_URL:-$(new_repo repo)}
export PGATTEST_PREFIX=$REPO_URL
as_pg mkdir -p "$T/pg_wal"
SEG=000000010000000000000001
head -c 16777216 /dev/urandom > "$T/pg_wal/$SEG"
printf '1\t0/3000000\tno recovery target specified\n' > "$T/pg_wal/00000002.history"
printf 'START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n' \
    > "$T/pg_wal/000000010000000000000002.00000028.backup"
head -c 5000000 /dev/urandom > "$T/pg_wal/000000010000000000000003.partial"
chown -R "$PGUSER_OS" "$T/pg_wal"

for f in "$SEG" 00000002.history 000000010000000000000002.00000028.backup \
         000000010000000000000003.partial; do
    check_exit "wal-push $f" 0 pgattest wal-push "$T/pg_wal/$f"
    rm -f "$T/fetched"
    check_exit "wal-fetch $f" 0 pgattest wal-fetch "$f" "$T/fetched"
    check "$f round-trips byte-identical" cmp "$T/fetched" "$T/pg_wal/$f"
done

# A relative path, as PostgreSQL passes %p (pg_wal/NAME relative to the data directory).
as_pg cp "$T/pg_wal/$SEG" "$T/pg_wal/000000010000000000000004"
check_exit "wal-push with a relative path" 0 \
    as_pg sh -c "cd '$T' && '$PGATTEST' wal-push pg_wal/000000010000000000000004"

# Same name, same content again: success, object unchanged.
before=$(stat -c '%i %Y %s' "${REPO_URL#file://}/wal_005/$SEG.lzo")
check_exit "pushing the same segment again succeeds" 0 pgattest wal-push "$T/pg_wal/$SEG"
after=$(stat -c '%i %Y %s' "${REPO_URL#file://}/wal_005/$SEG.lzo")
if [ "$before" = "$after" ]; then pass "the archived object was not rewritten"; else fail "the archived object was not rewritten" "$before -> $after"; fi

# Same name, different content: failure naming both, the archived object untouched.
sum_before=$(sha256sum < "${REPO_URL#file://}/wal_005/$SEG.lzo")
as_pg mkdir -p "$T/other/pg_wal"
head -c 16777216 /dev/urandom > "$T/other/pg_wal/$SEG"; chown "$PGUSER_OS" "$T/other/pg_wal/$SEG"
check_exit "pushing different content under an archived name fails" 1 \
    pgattest wal-push "$T/other/pg_wal/$SEG"
check_err_contains "the error names the local file" "$T/other/pg_wal/$SEG"
check_err_contains "the error names the archived object" "wal_005/$SEG.lzo"
check_err_contains "the error says it was left untouched" "left untouched"
sum_after=$(sha256sum < "${REPO_URL#file://}/wal_005/$SEG.lzo")
if [ "$sum_before" = "$sum_after" ]; then pass "the archived object is byte-identical after the refusal"; else fail "the archived object is byte-identical after the refusal"; fi
rm -f "$T/fetched"
pgattest wal-fetch "$SEG" "$T/fetched"
check "wal-fetch still returns the original content" cmp "$T/fetched" "$T/pg_wal/$SEG"

# wal-fetch exit statuses: 0 fetched, 1 only for "not in the archive", 255 otherwise.
rm -f "$T/fetched"
check_exit "wal-fetch of a segment not in the archive exits 1" 1 \
    pgattest wal-fetch 0000000100000000000000AA "$T/fetched"
check_no_file "nothing is written for a missing segment" "$T" "fetched"
check_exit "a history file that does not exist exits 1 (PostgreSQL probes for them)" 1 \
    pgattest wal-fetch 00000009.history "$T/fetched"
check_exit "wal-fetch into a directory that does not exist exits 255" 255 \
    pgattest wal-fetch "$SEG" "$T/no/such/dir/x"
check_exit "wal-fetch with a missing argument exits 255, not 1 or 2" 255 pgattest wal-fetch "$SEG"
check_exit "wal-fetch of a malformed name exits 255" 255 pgattest wal-fetch "../etc/passwd" "$T/x"
check_exit "wal-fetch from a repository directory that does not exist exits 255 (unmounted?)" \
    255 pgattest wal-fetch --prefix "file://$T/no-such-repo" "$SEG" "$T/x"
check_err_contains "it says the repository directory does not exist" "does not exist"
as_pg mkdir -p "$T/empty-repo"
check_exit "wal-fetch from a repository without any WAL (empty mount point?) exits 255" 255 \
    pgattest wal-fetch --prefix "file://$T/empty-repo" "$SEG" "$T/x"
check_err_contains "it says the archive holds no WAL at all" "holds no WAL at all"
as_pg mkdir -p "$T/locked"; chmod 000 "$T/locked"
if [ "$(id -u)" -eq 0 ] || [ ! -r "$T/locked" ]; then
    check_exit "wal-fetch from an unreadable repository exits 255" 255 \
        pgattest wal-fetch --prefix "file://$T/locked" "$SEG" "$T/x"
else
    skip "unreadable repository (cannot make one as this user)"
fi

# Where the repository comes from.
check_exit "no prefix at all is an error" 1 env -u PGATTEST_PREFIX -u WALE_S3_PREFIX \
    "$PGATTEST" wal-push "$T/pg_wal/$SEG"
check_err_contains "it names PGATTEST_PREFIX" "PGATTEST_PREFIX"
check_exit "a malformed PGATTEST_PREFIX is an error" 1 env PGATTEST_PREFIX=file://relative \
    "$PGATTEST" wal-push "$T/pg_wal/$SEG"
check_err_contains "it names the variable" "PGATTEST_PREFIX"
check_exit "an unknown scheme in WALE_S3_PREFIX is an error" 1 env -u PGATTEST_PREFIX \
    WALE_S3_PREFIX=gs://bucket "$PGATTEST" wal-push "$T/pg_wal/$SEG"
check_err_contains "it names WALE_S3_PREFIX" "WALE_S3_PREFIX"
check_exit "a bad --prefix is an error naming --prefix" 1 \
    "$PGATTEST" wal-push --prefix nonsense "$T/pg_wal/$SEG"
check_err_contains "it names --prefix" "--prefix"
check_exit "WALE_S3_PREFIX alone works (a WAL-E envdir)" 0 env -u PGATTEST_PREFIX \
    WALE_S3_PREFIX="$REPO_URL" "$PGATTEST" wal-fetch "$SEG" "$T/via-wale"
check_exit "--prefix overrides the environment" 255 \
    pgattest wal-fetch --prefix "file://$T/empty-repo" "$SEG" "$T/x"
check_exit "wal-fetch with a malformed prefix exits 255" 255 env PGATTEST_PREFIX=bogus \
    "$PGATTEST" wal-fetch "$SEG" "$T/x"
check_exit "--version" 0 "$PGATTEST" --version
check_exit "--help" 0 "$PGATTEST" --help
check_exit "wal-push --help" 0 "$PGATTEST" wal-push --help
check_exit "an unknown command exits 2" 2 "$PGATTEST" frobnicate
# Every command takes the common options, --version included (and no command's own long
# option may share a common option's code: verify's --json once answered to --version).
for c in wal-push wal-fetch backup-push backup-fetch backup-list delete verify; do
    run_capture "$PGATTEST" "$c" --version
    [ "$LAST_STATUS" -eq 0 ] && [ "$LAST_OUT" = "$("$PGATTEST" --version)" ] &&
        pass "$c --version prints the version" || fail "$c --version prints the version" "$LAST_STATUS: $LAST_OUT $LAST_ERR"
done
