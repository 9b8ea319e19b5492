# Base backups made by PostgreSQL itself, for verify's tests, until backup-push exists:
# pg_backup_start / GNU tar / pg_backup_stop in ONE psql session (non-exclusive backups end
# with their session), parts compressed with the real lzop CLI, a manifest and a stop
# sentinel written in the repository format (DESIGN.md, src/catalog/sentinel.h). Source
# after common.sh and pg.sh.
#
#   fixture_backup CLUSTER REPO_DIR [wale]   -> prints the backup name
#   fixture_lsns NAME   -> sets FIXTURE_START_LSN, FIXTURE_STOP_LSN, FIXTURE_TLI: what
#                          pg_backup_start/pg_backup_stop returned for that backup, so tests
#                          take their expectations from PostgreSQL, not from pgattest
# Two parts: part 0 holds everything but base/, part 1 holds base/. With "wale" the
# sentinel has only WAL-E's keys and there is no manifest (as WAL-E writes them).

SEG_SIZE=16777216

# lsn_segno X/Y -> decimal segment number (16 MiB segments)
lsn_segno() { local hi=${1%/*} lo=${1#*/}; echo $(( ((16#$hi << 32) | 16#$lo) / SEG_SIZE )); }
lsn_offset() { local hi=${1%/*} lo=${1#*/}; echo $(( ((16#$hi << 32) | 16#$lo) % SEG_SIZE )); }
# segname TLI SEGNO -> 24-hex name
segname() { printf '%08X%08X%08X' "$1" $(( $2 / 256 )) $(( $2 % 256 )); }

# manifest_entries TAR_FILE PART_INDEX EXTRACT_DIR: JSON objects (one per line, comma-ended)
manifest_entries() {
    local tar_file=$1 part=$2 dir=$3 path type line
    rm -rf "$dir"; mkdir -p "$dir"
    tar -C "$dir" -xpf "$tar_file"
    declare -A sums
    while read -r sum path; do sums[${path#./}]=$sum; done \
        < <(cd "$dir" && find . -type f -print0 | xargs -0 -r sha256sum)
    while IFS= read -r path; do
        path=${path#./}; path=${path%/}
        [ -z "$path" ] && path=.
        if [ -d "$dir/$path" ]; then
            [ "$path" = . ] && continue
            printf '{"path": "%s", "type": "dir", "mode": %d, "part": %d},\n' \
                "$path" "$((8#$(stat -c %a "$dir/$path")))" "$part"
        else
            printf '{"path": "%s", "type": "file", "size": %d, "mode": %d, "mtime": %d, "sha256": "%s", "part": %d},\n' \
                "$path" "$(stat -c %s "$dir/$path")" "$((8#$(stat -c %a "$dir/$path")))" \
                "$(stat -c %Y "$dir/$path")" "${sums[$path]}" "$part"
        fi
    done < <(tar -tf "$tar_file")
}

fixture_backup() {
    local cluster=$1 repo=$2 style=${3:-ours}
    local data work out
    data=$(pg_datadir "$cluster")
    work="$T/fixture.$cluster.$RANDOM"
    mkdir -p "$work"; chown "$PGUSER_OS" "$work"
    out=$(as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -At -h "$(pg_sockdir "$cluster")" \
        -U postgres -d postgres <<SQL
set client_min_messages = warning;
select pg_backup_start('pgattest-fixture', true) as start_lsn \gset
select timeline_id as tli from pg_control_checkpoint() \gset
\! tar -C '$data' --exclude=./pg_wal/* --exclude=./postmaster.pid --exclude=./postmaster.opts --exclude=./base -cf '$work/part0.tar' . 2>/dev/null; true
\! tar -C '$data' -cf '$work/part1.tar' ./base 2>/dev/null; true
select lsn as stop_lsn, labelfile from pg_backup_stop(true) \gset
\echo START :start_lsn
\echo STOP :stop_lsn
\echo TLI :tli
select system_identifier from pg_control_system();
show server_version_num;
SQL
) || { echo "fixture_backup: psql failed: $out" >&2; return 1; }
    local start_lsn stop_lsn tli sysid version
    start_lsn=$(sed -n 's/^START //p' <<<"$out")
    stop_lsn=$(sed -n 's/^STOP //p' <<<"$out")
    tli=$(sed -n 's/^TLI //p' <<<"$out")
    sysid=$(sed -n '4p' <<<"$out")
    version=$(sed -n '5p' <<<"$out")
    # The checkpoint's timeline is the backup's (a promotion in between would end the backup).
    local start_seg start_name stop_name name
    start_seg=$(lsn_segno "$start_lsn")
    start_name=$(segname "$tli" "$start_seg")
    stop_name=$(segname "$tli" "$(lsn_segno "$stop_lsn")")
    name=$(printf 'base_%s_%08d' "$start_name" "$(lsn_offset "$start_lsn")")
    local dir="$repo/basebackups_005/$name"
    mkdir -p "$dir/tar_partitions"
    local parts_json="" manifest="" i size sha
    for i in 0 1; do
        lzop -q -c "$work/part$i.tar" > "$dir/tar_partitions/part_0000000$i.tar.lzo"
        size=$(stat -c %s "$dir/tar_partitions/part_0000000$i.tar.lzo")
        sha=$(sha256sum < "$dir/tar_partitions/part_0000000$i.tar.lzo"); sha=${sha%% *}
        parts_json="$parts_json${parts_json:+, }{\"name\": \"part_0000000$i.tar.lzo\", \"size\": $size, \"sha256\": \"$sha\"}"
        manifest="$manifest$(manifest_entries "$work/part$i.tar" "$i" "$work/x$i")"$'\n'
    done
    local now; now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    if [ "$style" = wale ]; then
        cat > "$repo/basebackups_005/${name}_backup_stop_sentinel.json" <<JSON
{"wal_segment_backup_stop": "$stop_name", "wal_segment_offset_backup_stop": "$(printf %08d "$(lsn_offset "$stop_lsn")")", "expanded_size_bytes": 1000, "spec": {"base_prefix": "$data", "tablespaces": []}}
JSON
    else
        printf '{"pgattest_manifest": 1, "backup": "%s", "files": [\n%s]}\n' "$name" \
            "$(printf '%s' "$manifest" | sed '$ s/,$//')" > "$dir/manifest.json"
        local msize msha
        msize=$(stat -c %s "$dir/manifest.json")
        msha=$(sha256sum < "$dir/manifest.json"); msha=${msha%% *}
        cat > "$repo/basebackups_005/${name}_backup_stop_sentinel.json" <<JSON
{"wal_segment_backup_stop": "$stop_name", "wal_segment_offset_backup_stop": "$(printf %08d "$(lsn_offset "$stop_lsn")")",
 "expanded_size_bytes": 1000, "spec": {"base_prefix": "$data", "tablespaces": []},
 "pgattest_format": 1, "start_lsn": "$start_lsn", "stop_lsn": "$stop_lsn", "timeline": $tli,
 "start_time": "$now", "stop_time": "$now", "system_identifier": "$sysid",
 "server_version": $version, "wal_segment_size": $SEG_SIZE, "compressed_size_bytes": "0",
 "parts": [$parts_json],
 "manifest": {"name": "manifest.json", "size": $msize, "sha256": "$msha"}}
JSON
    fi
    chown -R "$PGUSER_OS" "$repo/basebackups_005"
    rm -rf "$work"
    printf 'FIXTURE_START_LSN=%s\nFIXTURE_STOP_LSN=%s\nFIXTURE_TLI=%s\n' \
        "$start_lsn" "$stop_lsn" "$tli" > "$T/fixture_lsns.$name"
    echo "$name"
}

fixture_lsns() {
    [ -f "$T/fixture_lsns.$1" ] || { echo "fixture_lsns: no fixture backup $1" >&2; return 1; }
    . "$T/fixture_lsns.$1"
}
