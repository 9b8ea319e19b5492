# lzop format interop with the real lzop CLI, both directions.
# Our files: `lzop -t` accepts them and `lzop -d` gives back the original bytes.
# lzop's files (every method, checksum variant, empty, multi-block, with a stored name) are
# decompressed exactly by wal-fetch; a flipped bit or a truncated file is a clear error.
. "$TOP/tests/lib/common.sh"

REPO=$(new_repo repo)
export PGATTEST_PREFIX=$REPO
WAL=$T/repo/wal_005
as_pg mkdir -p "$T/src" "$WAL"

# Inputs: empty, tiny, text spanning several 256 KiB blocks, incompressible, a 16 MiB segment.
make_inputs() {
    : > "$T/src/empty"
    printf 'x' > "$T/src/one"
    yes "pgattest lzop interop line $RANDOM" | head -c 3000000 > "$T/src/text"
    head -c 1500000 /dev/urandom > "$T/src/random"
    { head -c 4000000 /dev/urandom; yes "wal record" | head -c 12777216; } > "$T/src/segment"
    chmod 644 "$T"/src/*
}
make_inputs

# --- our files read by lzop ---
i=1
for f in empty one text random segment; do
    name=$(printf '%08X%016X' 1 "$i")     # a segment name
    partial="$name.partial"               # .partial: any size is legal
    cp "$T/src/$f" "$T/src/$partial"; chown "$PGUSER_OS" "$T/src/$partial"
    check "wal-push $f ($(stat -c %s "$T/src/$f") bytes)" pgattest wal-push "$T/src/$partial"
    check "lzop -t accepts our $f" lzop -t "$WAL/$partial.lzo"
    check "lzop -d restores our $f exactly" sh -c "lzop -dc '$WAL/$partial.lzo' | cmp - '$T/src/$f'"
    i=$((i + 1))
done

# --- lzop's files read by us ---
fetch_compare() { # fetch_compare DESC LZOP_FILE ORIGINAL
    local name
    name=$(printf '%08X%016X.partial' 2 "$RANDOM$RANDOM")
    cp "$2" "$WAL/$name.lzo"; chown "$PGUSER_OS" "$WAL/$name.lzo"
    rm -f "$T/out"
    check_exit "$1: wal-fetch exits 0" 0 pgattest wal-fetch "$name" "$T/out"
    check "$1: identical bytes" cmp "$T/out" "$3"
}
for f in empty one text random segment; do
    for opt in -1 -3 -7 -9 --crc32 -F; do
        lzop $opt -c < "$T/src/$f" > "$T/lz.lzo"
        fetch_compare "lzop $opt, $f from stdin" "$T/lz.lzo" "$T/src/$f"
    done
done
# A file compressed by name (header carries the name and mode) and a multi-block text file.
cp "$T/src/text" "$T/named"; lzop -f -o "$T/named.lzo" "$T/named"
fetch_compare "lzop with a stored file name" "$T/named.lzo" "$T/src/text"

# --- damage is detected: no output file, exit above 125, a message naming the object ---
lzop -c < "$T/src/text" > "$T/good.lzo"
size=$(stat -c %s "$T/good.lzo")
damage() { # damage DESC FILE
    local name
    name=$(printf '%08X%016X.partial' 3 "$RANDOM$RANDOM")
    cp "$2" "$WAL/$name.lzo"; chown "$PGUSER_OS" "$WAL/$name.lzo"
    rm -f "$T/out"
    check_exit "$1: wal-fetch fails with 255" 255 pgattest wal-fetch "$name" "$T/out"
    check_err_contains "$1: the error names the object" "$name.lzo"
    check_err_contains "$1: the error says corrupt" "corrupt lzop data"
    check_no_file "$1: no output file left" "$T" "out"
    check_no_file "$1: no temporary file left" "$T" ".pgattest-fetch*"
}
for at in 20 60 $((size / 2)) $((size - 10)); do
    cp "$T/good.lzo" "$T/flip.lzo"
    byte=$(od -An -tu1 -j "$at" -N1 "$T/flip.lzo" | tr -d ' ')
    printf "$(printf '\\%03o' $((byte ^ 4)))" | dd of="$T/flip.lzo" bs=1 seek="$at" conv=notrunc status=none
    damage "bit flipped at byte $at of $size" "$T/flip.lzo"
done
head -c $((size / 2)) "$T/good.lzo" > "$T/trunc.lzo"
damage "truncated to half" "$T/trunc.lzo"
head -c $((size - 4)) "$T/good.lzo" > "$T/trunc2.lzo"
damage "end marker missing" "$T/trunc2.lzo"
