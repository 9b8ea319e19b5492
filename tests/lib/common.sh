# Sourced by every integration script (tests/integration/*.sh).
#
# Provides: $T (this script's private directory, owned by the user that runs PostgreSQL),
# $PGATTEST (the sanitized binary installed where that user can run it), check helpers that
# record PASS/FAIL/SKIP lines in $RESULTS, set-up helpers that stop the script with a FAIL,
# and `as_pg` to run a command as that user.
set -u
: "${RUN_ROOT:?run through tests/run.sh}" "${RESULTS:?}" "${TEST_NAME:?}"

T="$RUN_ROOT/$TEST_NAME"
mkdir -p "$T"
PGATTEST="$RUN_ROOT/bin/pgattest"
PGATTEST_RELEASE="$RUN_ROOT/bin/pgattest-release"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

# PostgreSQL refuses to run as root: as root, run it (and pgattest, so file permissions mean
# something) as the postgres OS user.
if [ "$(id -u)" -eq 0 ]; then
    PGUSER_OS=postgres
    chown "$PGUSER_OS" "$T"
    as_pg() { runuser -u "$PGUSER_OS" -- "$@"; }
else
    PGUSER_OS=$(id -un)
    as_pg() { "$@"; }
fi
cd "$T" || exit 1

pgattest() { as_pg "$PGATTEST" "$@"; }

record() { # record STATUS DESCRIPTION
    echo "$1 $2" >> "$RESULTS"
    case "$1" in
        PASS) echo "ok   $2" ;;
        FAIL) echo "FAIL $2" ;;
        SKIP) echo "skip $2" ;;
    esac
}
pass() { record PASS "$1"; }
fail() { record FAIL "$1"; [ $# -gt 1 ] && printf '     %s\n' "${@:2}"; return 0; }
skip() { record SKIP "$1"; }

# Set-up steps are not assertions: they record nothing when they work, and when one fails the
# script stops at once with a FAIL naming the step (what follows would test nothing).
#   setup_failed DESCRIPTION [DETAIL...]    record "FAIL set-up: DESCRIPTION" and exit 1
#   setup_step DESCRIPTION COMMAND...       run COMMAND; on failure, setup_failed with its output
setup_failed() { fail "set-up: $1" "${@:2}"; exit 1; }
setup_step() {
    local desc=$1; shift
    local out
    out=$("$@" 2>&1) || setup_failed "$desc" "command: $*" "output: ${out:0:2000}"
    return 0
}

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
    local desc=$1; shift
    local out
    if out=$("$@" 2>&1); then pass "$desc"; else fail "$desc" "command: $*" "output: ${out:0:2000}"; fi
}

# check_exit DESCRIPTION EXPECTED_STATUS COMMAND...: runs COMMAND, keeps its stderr in
# $LAST_ERR and stdout in $LAST_OUT, passes when the exit status is EXPECTED_STATUS.
LAST_OUT="" LAST_ERR="" LAST_STATUS=0
run_capture() {
    "$@" > "$T/.out" 2> "$T/.err"
    LAST_STATUS=$?
    LAST_OUT=$(cat "$T/.out"); LAST_ERR=$(cat "$T/.err")
    return $LAST_STATUS
}
check_exit() {
    local desc=$1 want=$2; shift 2
    run_capture "$@"
    if [ "$LAST_STATUS" -eq "$want" ]; then pass "$desc"
    else fail "$desc" "expected exit $want, got $LAST_STATUS: $*" "stderr: ${LAST_ERR:0:2000}"; fi
}

# check_err_contains DESCRIPTION TEXT: the last captured stderr contains TEXT and is one line.
check_err_contains() {
    local desc=$1 text=$2
    local lines
    lines=$(printf '%s' "$LAST_ERR" | grep -c '')
    if [[ $LAST_ERR == *"$text"* ]] && [ "$lines" -le 1 ]; then pass "$desc"
    else fail "$desc" "expected one stderr line containing: $text" "got: ${LAST_ERR:0:2000}"; fi
}

# check_no_file DESCRIPTION DIR PATTERN: no file matching PATTERN (find -name) under DIR.
check_no_file() {
    local found
    found=$(find "$2" -type f -name "$3" 2>/dev/null | head -5)
    if [ -z "$found" ]; then pass "$1"; else fail "$1" "unexpected files: $found"; fi
}

# A fresh file:// repository owned by the PostgreSQL user.
new_repo() { # new_repo NAME -> prints the URL
    mkdir -p "$T/$1"; chown "$PGUSER_OS" "$T/$1"
    echo "file://$T/$1"
}
