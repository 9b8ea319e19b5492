#!/bin/bash
# start-rgw.sh DIR [PORT]
# Throw-away single-node Ceph (1 mon, 1 memstore OSD, no mgr, auth=none) + radosgw (beast)
# on 127.0.0.1:PORT, entirely inside DIR (no /etc/ceph, no systemd). Everything lives in RAM
# of the OSD process (memstore); stop-rgw.sh DIR tears it down.
# Ports used: PORT (S3/IAM), PORT+1/PORT+2 (mon v2/v1), PORT+3..PORT+99 (OSD messengers).
# Env overrides: OWNER_AK OWNER_SK WRITER_AK WRITER_SK WRITER_UID LC_DEBUG_INTERVAL (secs per
# lifecycle "day", default 10; -1 = real days) MEMSTORE_BYTES (default 2 GiB)
# RGW_CERT=PEM (certificate followed by its key): also serve HTTPS on 127.0.0.1:PORT+100.
# Adapted from the team's shared test-server scripts (S3-TEST-SERVER.md).
# Needs: apt-get install --no-install-recommends ceph-mon ceph-osd radosgw ceph-common
set -u
D=${1:?usage: start-rgw.sh DIR [PORT]}; PORT=${2:-7480}
OWNER_AK=${OWNER_AK:-OWNERACCESSKEY000001}; OWNER_SK=${OWNER_SK:-ownersecretkey0000000000000000000000001}
WRITER_UID=${WRITER_UID:-writer}
WRITER_AK=${WRITER_AK:-WRITERACCESSKEY00001}; WRITER_SK=${WRITER_SK:-writersecretkey000000000000000000000001}
LC=${LC_DEBUG_INTERVAL:-10}; MEM=${MEMSTORE_BYTES:-2147483648}
MON2=$((PORT+1)); MON1=$((PORT+2))
T0=$(date +%s.%N)
el() { printf '%5.1fs' "$(echo "$(date +%s.%N) - $T0" | bc)"; }
log() { echo "[start-rgw $(el)] $*" >&2; }
for b in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool uuidgen curl; do
  command -v $b >/dev/null || { echo "missing $b (apt-get install ceph-mon ceph-osd radosgw ceph-common)" >&2; exit 1; }
done
mkdir -p "$D"; D=$(cd "$D" && pwd)
if [ -n "$(ls -A "$D")" ]; then
  [ -f "$D/.rgw-test-cluster" ] || { echo "$D is not empty and not ours; refusing" >&2; exit 1; }
  for p in "$D"/run/*.pid; do [ -f "$p" ] && kill -0 "$(cat "$p")" 2>/dev/null && { echo "cluster in $D still running; run stop-rgw.sh first" >&2; exit 1; }; done
  rm -rf "${D:?}"/* "$D/.rgw-test-cluster"
fi
for p in $PORT $MON2 $MON1; do
  ss -Hltn "sport = :$p" | grep -q . && { echo "port $p already in use" >&2; exit 1; }
done
touch "$D/.rgw-test-cluster"; mkdir -p "$D"/{run,log,mon,osd,rgw}
C="$D/ceph.conf"; FSID=$(uuidgen)
cat > "$C" <<EOF
[global]
fsid = $FSID
mon host = [v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
public network = 127.0.0.0/8
ms bind ipv6 = false
ms bind port min = $((PORT+3))
ms bind port max = $((PORT+99))
auth cluster required = none
auth service required = none
auth client required = none
# radosgw defaults to secure-only mon connections, impossible with auth=none
ms mon client mode = crc secure
client mount timeout = 30
run dir = $D/run
admin socket = $D/run/\$cluster-\$name.asok
pid file = $D/run/\$cluster-\$name.pid
log file = $D/log/\$cluster-\$name.log
mon data = $D/mon/\$cluster-\$id
osd data = $D/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = $MEM
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
mon allow pool delete = true
# faster map updates (each RGW pool creation otherwise costs ~2 s)
paxos propose interval = 0.1
paxos min wait = 0.01
[client]
rgw lc debug interval = $LC
[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$PORT${RGW_CERT:+ ssl_endpoint=127.0.0.1:$((PORT+100)) ssl_certificate=$RGW_CERT}
rgw data = $D/rgw
EOF
fail() { log "FAILED: $*"; tail -n 15 "$D"/log/*.log >&2; "$(dirname "$0")/stop-rgw.sh" "$D" >&2; exit 1; }
CEPH="ceph -c $C --connect-timeout 10"
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON2,v1:127.0.0.1:$MON1]" "$D/monmap" >/dev/null || fail monmaptool
ceph-mon -c "$C" -i a --mkfs --monmap "$D/monmap" 2>>"$D/log/setup.err" || fail "mon mkfs"
ceph-mon -c "$C" -i a 2>>"$D/log/setup.err" || fail "mon start"
for i in $(seq 60); do $CEPH mon stat >/dev/null 2>&1 && break; sleep 0.5; done
$CEPH mon stat >/dev/null 2>&1 || fail "mon not answering"; log "mon up"
OU=$(uuidgen); OID=$($CEPH osd new "$OU" 2>>"$D/log/setup.err") || fail "osd new"
mkdir -p "$D/osd/ceph-$OID"; ceph-osd -c "$C" -i "$OID" --mkfs --osd-uuid "$OU" 2>>"$D/log/setup.err" || fail "osd mkfs"
ceph-osd -c "$C" -i "$OID" 2>>"$D/log/setup.err" || fail "osd start"
for i in $(seq 60); do $CEPH osd stat 2>/dev/null | grep -q '1 up' && break; sleep 0.5; done
$CEPH osd stat 2>/dev/null | grep -q '1 up' || fail "osd not up"; log "osd.$OID up (memstore)"
radosgw -c "$C" -n client.rgw 2>>"$D/log/setup.err" || fail "radosgw start"
for i in $(seq 120); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")" = 200 ] && break; sleep 0.5; done
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")" = 200 ] || fail "radosgw not answering"
log "radosgw answering on 127.0.0.1:$PORT"
RA="radosgw-admin -c $C -n client.admin"
$RA user create --uid=owner --display-name="Bucket owner / admin" --access-key="$OWNER_AK" --secret-key="$OWNER_SK" >/dev/null 2>>"$D/log/setup.err" || fail "user create owner"
$RA caps add --uid=owner --caps="user-policy=*" >/dev/null 2>>"$D/log/setup.err" || fail "caps add"
$RA user create --uid="$WRITER_UID" --display-name="Backup writer" --access-key="$WRITER_AK" --secret-key="$WRITER_SK" >/dev/null 2>>"$D/log/setup.err" || fail "user create writer"
cat > "$D/env.sh" <<EOF
export S3_ENDPOINT=http://127.0.0.1:$PORT
${RGW_CERT:+export S3_TLS_ENDPOINT=https://localhost:$((PORT+100))}
export S3_REGION=us-east-1
export S3_OWNER_ACCESS_KEY=$OWNER_AK S3_OWNER_SECRET_KEY=$OWNER_SK
export S3_WRITER_USER=$WRITER_UID S3_WRITER_ACCESS_KEY=$WRITER_AK S3_WRITER_SECRET_KEY=$WRITER_SK
export CEPH_CONF=$C
EOF
log "ready"
cat "$D/env.sh"
