#!/bin/sh
# Runs every benchmark binary in $1 with the tools in $2. Each prints its own table rows;
# figures are ratios measured in the same run, so they compare across machines.
dir=$1
export SPTT_BIN="$2"
export SPTT_FIXTURES="${SPTT_FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/../shared/fixtures}"
export OPENBLAS_NUM_THREADS=1
status=0
found=0
for b in "$dir"/bench_*; do
    [ -x "$b" ] || continue
    found=1
    echo "== $(basename "$b")"
    "$b" || { echo "bench $(basename "$b") failed" >&2; status=1; }
done
# Benchmarks that run the tools themselves (e.g. under mpirun): scripts, each with its defaults.
for s in "$(dirname "$0")"/bench/*.sh; do
    [ -f "$s" ] || continue
    found=1
    echo "== $(basename "$s" .sh)"
    sh "$s" || { echo "bench $(basename "$s") failed" >&2; status=1; }
done
[ "$found" = 1 ] || echo "no benchmarks yet"
# sptt-build at 1 and 2 ranks (the script takes any rank counts: tests/bench/build_scaling.sh 1 16).
echo "== build_scaling"
sh "$(dirname "$0")/bench/build_scaling.sh" 1 2 || { echo "bench build_scaling failed" >&2; status=1; }
exit $status
