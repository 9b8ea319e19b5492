#!/bin/bash
# Run every test: C unit tests (build/test/unit/*), then the integration scripts
# (tests/integration/*.sh) against real PostgreSQL 15 and the real lzop CLI.
#
#   tests/run.sh                 everything
#   tests/run.sh --unit-only     unit tests only
#   tests/run.sh PATTERN...      only integration scripts whose name contains PATTERN
#
# Prints one line per check and ends with "N passed, N failed, N skipped".
# Exit status 0 only when nothing failed. A unit-test or fuzz source without its binary, a
# script that records no result, and (under CI=true) a skip that tests/skip-allowlist.txt does
# not list are failures.
set -u
cd "$(dirname "$0")/.." || exit 2
TOP=$PWD

unit_only=0
patterns=()
for a in "$@"; do
    case "$a" in
        --unit-only) unit_only=1 ;;
        *) patterns+=("$a") ;;
    esac
done

passed=0 failed=0 skipped=0
failures=()

# skip_allowed SCRIPT DESCRIPTION: the allow-list has "SCRIPT: DESCRIPTION — REASON" for it.
ALLOWLIST=tests/skip-allowlist.txt
skip_allowed() {
    local entry
    while IFS= read -r entry; do
        case "$entry" in ''|'#'*) continue ;; esac
        [[ $entry == *" — "?* ]] || continue      # an entry without a reason allows nothing
        [ "${entry%% — *}" = "$1: $2" ] && return 0
    done < "$ALLOWLIST"
    return 1
}

# ---- unit tests: every tests/unit/test_*.c must have been built and must report ----
if [ ${#patterns[@]} -eq 0 ]; then
    for src in tests/unit/test_*.c; do
        t=build/test/unit/$(basename "$src" .c)
        if [ ! -x "$t" ]; then
            echo "FAIL $t: not built (run make test-build)"
            failed=$((failed + 1)); failures+=("$t"); continue
        fi
        out=$("$t" 2>&1); status=$?
        printf '%s\n' "$out" | grep -v '^[0-9]* passed, [0-9]* failed$'
        line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
        f=0
        if [ -n "$line" ]; then
            p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
            passed=$((passed + p)); failed=$((failed + f))
            [ "$f" -gt 0 ] && failures+=("$t")
        else
            echo "FAIL $t: printed no \"N passed, N failed\" line"
            failed=$((failed + 1)); failures+=("$t")
        fi
        if [ $status -ne 0 ] && [ -n "$line" ] && [ "$f" -eq 0 ]; then
            echo "FAIL $t: exited with status $status"
            failed=$((failed + 1)); failures+=("$t")
        fi
    done
fi

# ---- fuzzing: each libFuzzer target (one per tests/fuzz/fuzz_*.c) for a bounded time ----
# The target runs on a copy of its committed corpus (tests/fuzz/corpus/TARGET); a target that
# ran no input at all is a failure, not a pass.
if [ ${#patterns[@]} -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c); target=${name#fuzz_}; f=build/fuzz/$name
        if [ ! -x "$f" ]; then
            echo "FAIL fuzz $target: $f not built (run make test-build)"
            failed=$((failed + 1)); failures+=("$name"); continue
        fi
        work=$(mktemp -d /tmp/pgattest-fuzz.XXXXXX)
        cp tests/fuzz/corpus/"$target"/* "$work"/ 2>/dev/null
        # tests/fuzz/corpus/TARGET.max_len, when present, lets inputs grow past libFuzzer's guess.
        len_opt=()
        [ -f tests/fuzz/corpus/"$target".max_len ] &&
            len_opt=(-max_len="$(cat tests/fuzz/corpus/"$target".max_len)")
        if "$f" -max_total_time="${FUZZ_SECONDS:-10}" -rss_limit_mb=2048 -timeout=10 \
                "${len_opt[@]}" -print_final_stats=1 \
                -artifact_prefix="$work/" "$work" > "$work/log" 2>&1; then
            runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | awk '{print $2}')
            if [ "${runs:-0}" -gt 0 ]; then
                echo "ok   fuzz $target: $runs runs, no crash (${FUZZ_SECONDS:-10} s)"
                passed=$((passed + 1))
                rm -rf "$work"
            else
                echo "FAIL fuzz $target: executed no input; log kept in $work"
                failed=$((failed + 1)); failures+=("$name")
            fi
        else
            echo "FAIL fuzz $target: crash or leak; input and log kept in $work"
            tail -30 "$work/log"
            failed=$((failed + 1)); failures+=("$name")
        fi
    done
fi

# ---- integration tests ----
if [ $unit_only -eq 0 ]; then
    RUN_ROOT=$(mktemp -d /tmp/pgattest-check.XXXXXX)
    chmod 755 "$RUN_ROOT"
    export RUN_ROOT TOP
    # The postgres OS user must be able to run the binary PostgreSQL calls: install it here.
    mkdir -p "$RUN_ROOT/bin"
    install -m 755 build/test/pgattest "$RUN_ROOT/bin/pgattest"
    install -m 755 build/pgattest "$RUN_ROOT/bin/pgattest-release"
    for script in tests/integration/*.sh; do
        name=$(basename "$script" .sh)
        if [ ${#patterns[@]} -gt 0 ]; then
            match=0
            for p in "${patterns[@]}"; do [[ $name == *"$p"* ]] && match=1; done
            [ $match -eq 1 ] || continue
        fi
        results="$RUN_ROOT/$name.results"
        : > "$results"
        echo "== $name"
        RESULTS=$results TEST_NAME=$name timeout --kill-after=30 1800 bash "$script" 2>&1 \
            | sed 's/^/   /'
        status=${PIPESTATUS[0]}
        p=$(grep -c '^PASS' "$results"); f=$(grep -c '^FAIL' "$results"); s=$(grep -c '^SKIP' "$results")
        passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
        [ "$f" -gt 0 ] && failures+=("$name")
        if [ "$status" -ne 0 ]; then
            echo "FAIL $name: script exited with status $status"
            failed=$((failed + 1)); failures+=("$name")
        fi
        if [ $((p + f + s)) -eq 0 ]; then
            echo "FAIL $name: recorded no result (no pass, fail or skip)"
            failed=$((failed + 1)); failures+=("$name")
        fi
        # Under CI a skip is a failure unless tests/skip-allowlist.txt lists it with a reason.
        if [ "${CI:-}" = true ] && [ "$s" -gt 0 ]; then
            while IFS= read -r desc; do
                if ! skip_allowed "$name" "$desc"; then
                    echo "FAIL $name: skipped \"$desc\" under CI=true, and" \
                        "tests/skip-allowlist.txt does not allow it"
                    failed=$((failed + 1)); failures+=("$name")
                fi
            done < <(sed -n 's/^SKIP //p' "$results")
        fi
    done
    # Whatever a script left running (it should not), stop it.
    for pid in $(cat "$RUN_ROOT"/*/*/postmaster.pid 2>/dev/null | sed -n '1~8p' 2>/dev/null); do
        kill -QUIT "$pid" 2>/dev/null
    done
    if [ "$failed" -eq 0 ] && [ -z "${KEEP_TEST_DIR:-}" ]; then
        rm -rf "$RUN_ROOT"
    else
        echo "test files kept in $RUN_ROOT"
    fi
fi

if [ ${#failures[@]} -gt 0 ]; then
    echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
