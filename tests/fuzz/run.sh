#!/bin/sh
# Runs every harness in $1 (build-fuzz) for $2 seconds over its corpus, $3 at a time, and prints
# one line per harness: executions reached, or what went wrong. Exits non-zero when any harness
# stops early: a crash, a sanitizer report, a leak, a timeout (10 s per input) or running out of
# memory (2 GB). The input that did it is kept under $1/crashes/<name>/, the log under
# $1/logs/<name>.log.
#
#   sh tests/fuzz/run.sh --one DIR SECONDS NAME    runs one harness (used by the parallel loop)
here=$(cd "$(dirname "$0")" && pwd)

# Largest input per harness: the seeds are cut below these, and small inputs keep the fuzzers fast.
max_len() {
    case $1 in
        pack|labels) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

dict_of() {
    case $1 in
        segs|aggregation|arkit_annotation|safetensors) echo "$here/json.dict" ;;
        ply) echo "$here/ply.dict" ;;
        *) echo "" ;;
    esac
}

if [ "${1:-}" = "--one" ]; then
    out=$2; secs=$3; name=$4
    mkdir -p "$out/crashes/$name" "$out/logs" "$out/corpus/$name"
    dict=$(dict_of "$name")
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$here/ubsan.supp" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1" \
    # Inputs that once broke a parser (tests/fuzz/regress/<name>/) run first, every time.
    regress=""
    [ -d "$here/regress/$name" ] && regress="$here/regress/$name"
    "$out/fuzz_$name" "$out/corpus/$name" $regress -max_total_time="$secs" -max_len="$(max_len "$name")" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/crashes/$name/" ${dict:+-dict="$dict"} \
        > "$out/logs/$name.log" 2>&1
    echo $? > "$out/logs/$name.rc"
    exit 0
fi

out=$1
secs=$2
jobs=${3:-2}
names=""
for b in "$out"/fuzz_*; do
    [ -x "$b" ] || continue
    names="$names $(basename "$b" | sed 's/^fuzz_//')"
done
[ -n "$names" ] || { echo "fuzz: no harness in $out (make fuzz-build)"; exit 1; }
rm -f "$out"/logs/*.rc
echo "fuzz: $(echo $names | wc -w) harnesses, $secs s each, $jobs at a time"
# shellcheck disable=SC2086
printf '%s\n' $names | xargs -P "$jobs" -I{} sh "$0" --one "$out" "$secs" {}

failed=0
for name in $names; do
    log="$out/logs/$name.log"
    rc=$(cat "$out/logs/$name.rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    [ -n "$execs" ] || execs=$(grep -a -o '^#[0-9]*' "$log" | tail -n 1 | tr -d '#')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    files=$(ls "$out/corpus/$name" | wc -l)
    if [ "$rc" = 0 ]; then
        echo "fuzz_$name: ok, ${execs:-?} executions (${rate:-?}/s), corpus $files inputs"
    else
        failed=1
        why=$(grep -a -m 1 -E "^SUMMARY|ERROR: libFuzzer|==ERROR|runtime error" "$log" | cut -c 1-200)
        echo "fuzz_$name: FAILED (status $rc) after ${execs:-?} executions: ${why:-see the log}"
        echo "    input kept in $out/crashes/$name/, log in $log"
    fi
done
exit $failed
