#!/bin/sh
# Install the Debian packages pgattest needs to build, test and run its demo.
#   scripts/install-deps.sh            build + test + demo packages
#   scripts/install-deps.sh --bench    also what bench/ compares against (pgBackRest)
# As root it runs apt-get (update first); otherwise it names what is missing and how to install it.
set -eu

PACKAGES="gcc make pkg-config libc6-dev
libcurl4-openssl-dev libssl-dev liblzo2-dev libpq-dev libcjson-dev libxml2-dev libarchive-dev libisal-dev
postgresql-15 lzop util-linux procps coreutils tar python3 jq
clang libclang-rt-14-dev
ceph-mon ceph-osd radosgw ceph-common uuid-runtime iproute2 bc curl openssl"
[ "${1:-}" = "--bench" ] && PACKAGES="$PACKAGES pgbackrest time"

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$status" in
        *"ok installed") ;;
        *) missing="$missing $p" ;;
    esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "pgattest: missing Debian packages:$missing" >&2
    echo "pgattest: install them as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
    exit 1
fi

echo "pgattest: installing missing Debian packages:$missing"
# A test machine needs no default cluster listening on 5432; tests start their own.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
