#!/bin/sh
# Runs every unit-test binary in $1 and every end-to-end script in tests/e2e with the tools in $2.
# Counts test cases: Criterion's synthesis line for unit binaries, "ok"/"not ok" lines for scripts.
# Ends with the single line "N passed, N failed" and a non-zero status on any failure.
units=$1
bin=$2
export SPTT_BIN="$bin"
export OPENBLAS_NUM_THREADS=1
# Progress lines appear after two seconds of work; a slow (sanitizer) build must not see them
# in the stderr whose lines the tests count.
export SPTT_PROGRESS=0
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
export SPTT_FIXTURES="${SPTT_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures}"
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$units"/test_*; do
    [ -x "$t" ] || continue
    name=$(basename "$t")
    # A unit binary that hangs (a forked child stuck on a lock another thread held at the fork)
    # is stopped after UNIT_TIMEOUT seconds and run once more on one job, saying so; a second
    # hang fails.
    timeout "${UNIT_TIMEOUT:-900}" "$t" --jobs 2 >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq 124 ]; then
        echo "$name: no result after ${UNIT_TIMEOUT:-900} s; running it again with --jobs 1"
        timeout "${UNIT_TIMEOUT:-900}" "$t" --jobs 1 >"$log" 2>&1
        rc=$?
    fi
    line=$(grep -a "Synthesis:" "$log" | tail -n 1)
    p=$(echo "$line" | sed -n 's/.*Passing: \([0-9]*\).*/\1/p')
    f=$(echo "$line" | sed -n 's/.*Failing: \([0-9]*\).*/\1/p')
    c=$(echo "$line" | sed -n 's/.*Crashing: \([0-9]*\).*/\1/p')
    p=${p:-0}; f=$(( ${f:-0} + ${c:-0} ))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    # Criterion runs each test in a child whose sanitizer report does not change the verdict.
    if grep -a -q -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log"; then f=$((f + 1)); fi
    grep -a -E "SKIP|skipp" "$log" | sed "s/^/$name: /"
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name"
        grep -a -v "^\[----\] *$" "$log" | tail -n 40
    else
        echo "ok   $name ($p)"
    fi
    passed=$((passed + p)); failed=$((failed + f))
done
for s in tests/e2e/*.sh; do
    [ -f "$s" ] || continue
    name=$(basename "$s" .sh)
    sh "$s" >"$log" 2>&1
    rc=$?
    p=$(grep -a -c "^ok " "$log")
    f=$(grep -a -c "^not ok " "$log")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if grep -a -q -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$log"; then f=$((f + 1)); fi
    grep -a "^# SKIP" "$log" | sed "s/^/$name: /"
    if [ "$f" -ne 0 ]; then
        echo "FAIL $name"
        tail -n 40 "$log"
    else
        echo "ok   $name ($p)"
    fi
    passed=$((passed + p)); failed=$((failed + f))
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
