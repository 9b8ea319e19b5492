# A throw-away Ceph radosgw (real S3: SigV4, policies, multipart) for integration tests.
# Source after common.sh (and pg.sh when used).
#
#   rgw_start              start one in $T/rgw on free loopback ports; sets RGW_ENDPOINT,
#                          RGW_REGION, RGW_OWNER_AK/SK, RGW_WRITER_AK/SK, RGW_WRITER_USER
#                          (returns 1 when radosgw is not installed)
#   rgw_stop               stop it (also done on exit, whatever happens)
#   s3_owner / s3_writer METHOD PATH [curl args]   a signed request (curl --aws-sigv4) as
#                          the bucket owner / the writer; prints the HTTP status, body in
#                          $T/.s3body
#   s3_mkbucket NAME       create a bucket as the owner
#   s3_set_writer_policy BUCKET ACTIONS_JSON   inline IAM user policy for the writer
#   s3_env_file FILE AK SK BUCKET_URL   write a mode-600 env file (for archive_command)
RGW_DIR=""
RGW_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/rgw

rgw_available() { command -v radosgw > /dev/null && command -v ceph-mon > /dev/null; }

# A base port with PORT..PORT+99 free (ports PORT+100 for TLS too).
_rgw_pick_port() {
    local try base p busy
    for try in $(seq 50); do
        base=$(( (RANDOM % 300) * 100 + 20000 ))
        busy=$(ss -Htan 2>/dev/null | awk '{print $4}' | sed 's/.*://' |
               awk -v lo="$base" -v hi="$((base + 199))" '$1 >= lo && $1 <= hi' | head -1)
        [ -z "$busy" ] && { echo "$base"; return 0; }
    done
    return 1
}

rgw_start() {
    rgw_available || return 1
    RGW_DIR="$T/rgw"
    local port
    port=$(_rgw_pick_port) || { echo "no free ports for radosgw"; return 1; }
    LC_DEBUG_INTERVAL=${LC_DEBUG_INTERVAL:-10} MEMSTORE_BYTES=${MEMSTORE_BYTES:-1073741824} \
        "$RGW_LIB_DIR/start-rgw.sh" "$RGW_DIR" "$port" > "$T/rgw-start.log" 2>&1 \
        || { echo "radosgw did not start:"; tail -20 "$T/rgw-start.log"; return 1; }
    # shellcheck disable=SC1091
    . "$RGW_DIR/env.sh"
    RGW_ENDPOINT=$S3_ENDPOINT RGW_REGION=$S3_REGION
    RGW_OWNER_AK=$S3_OWNER_ACCESS_KEY RGW_OWNER_SK=$S3_OWNER_SECRET_KEY
    RGW_WRITER_AK=$S3_WRITER_ACCESS_KEY RGW_WRITER_SK=$S3_WRITER_SECRET_KEY
    RGW_WRITER_USER=$S3_WRITER_USER
    RGW_PORT=$port
    return 0
}

rgw_stop() {
    [ -n "$RGW_DIR" ] && [ -d "$RGW_DIR" ] && STOP_SIGNAL=KILL "$RGW_LIB_DIR/stop-rgw.sh" "$RGW_DIR" > /dev/null 2>&1
    RGW_DIR=""
    return 0
}

_rgw_on_exit() {
    rgw_stop
    declare -F pg_stop_all > /dev/null && pg_stop_all
    declare -F test_on_exit > /dev/null && test_on_exit
    return 0
}
trap _rgw_on_exit EXIT

_s3_curl() { # KEY:SECRET SERVICE METHOD PATH [curl args]
    local k=$1 svc=$2 m=$3 p=$4 ph=${PH:-UNSIGNED-PAYLOAD}; shift 4
    local how=(-X "$m")
    [ "$m" = HEAD ] && how=(--head) # -X HEAD would wait for a body that never comes
    curl -s -m 60 -o "$T/.s3body" -D "$T/.s3hdr" -w '%{http_code}' --aws-sigv4 "aws:amz:$RGW_REGION:$svc" \
        --user "$k" -H "x-amz-content-sha256: $ph" "${how[@]}" "$@" "$RGW_ENDPOINT$p"
}
s3_owner() { _s3_curl "$RGW_OWNER_AK:$RGW_OWNER_SK" s3 "$@"; }
s3_writer() { _s3_curl "$RGW_WRITER_AK:$RGW_WRITER_SK" s3 "$@"; }

s3_mkbucket() { [ "$(s3_owner PUT "/$1")" = 200 ]; }

# s3_set_writer_policy NAME POLICY_JSON: inline IAM user policy for the writer (as the owner).
s3_set_writer_policy() {
    local pd body
    pd=$(python3 -c 'import urllib.parse,sys;print(urllib.parse.quote(sys.argv[1],safe=""))' "$2")
    body="Action=PutUserPolicy&UserName=$RGW_WRITER_USER&PolicyName=$1&PolicyDocument=$pd&Version=2010-05-08"
    [ "$(PH=$(printf %s "$body" | sha256sum | cut -d' ' -f1) _s3_curl "$RGW_OWNER_AK:$RGW_OWNER_SK" iam POST / \
        -H 'Content-Type: application/x-www-form-urlencoded' --data "$body")" = 200 ]
}

# s3_env_file FILE AK SK PREFIX [MORE ASSIGNMENTS...]: environment for pgattest, readable by
# the PostgreSQL user only (keys never go on a command line).
s3_env_file() {
    local f=$1 ak=$2 sk=$3 prefix=$4; shift 4
    {
        echo "export AWS_ACCESS_KEY_ID='$ak' AWS_SECRET_ACCESS_KEY='$sk'"
        echo "export AWS_ENDPOINT_URL='$RGW_ENDPOINT' AWS_REGION='$RGW_REGION'"
        echo "export PGATTEST_PREFIX='$prefix'"
        local a; for a in "$@"; do echo "export $a"; done
    } > "$f"
    chmod 600 "$f"; chown "$PGUSER_OS" "$f"
}

# ---- helper servers (fault proxy, scripted instance metadata) ----
HELPER_PIDS=()
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
# helper_start LOGNAME PORT COMMAND...: run a helper in the background, wait for PORT to listen.
helper_start() {
    local name=$1 port=$2 i; shift 2
    "$@" > "$T/$name.log" 2>&1 &
    HELPER_PIDS+=($!)
    for i in $(seq 50); do
        ss -Hltn "sport = :$port" | grep -q . && return 0
        sleep 0.1
    done
    echo "$name did not start:"; cat "$T/$name.log"; return 1
}
helper_stop_all() {
    local p
    for p in "${HELPER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    HELPER_PIDS=()
    return 0
}
test_on_exit() { helper_stop_all; }
