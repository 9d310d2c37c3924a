#!/bin/sh
# make cuda, where nvcc is installed: the GPU model, its tests and bench, the CUDA trainer, evaluator and stream
# compile (nvcc and gcc with -Werror) against the current CPU tree, into a scratch folder so the
# user's build-cuda/ is left alone. Nothing here needs a GPU: test_cuda_model answers 77 (skip)
# without one, which is what a machine with nvcc but no GPU checks; with a GPU it runs in full.
# Without nvcc the script says so and skips (the CPU build never needs CUDA).
. "$(dirname "$0")/../e2e_common.sh"
root=$(cd "$(dirname "$0")/../.." && pwd)
cuda=${CUDA_HOME:-/usr/local/cuda}
if [ ! -x "$cuda/bin/nvcc" ] && ! command -v nvcc >/dev/null 2>&1; then
    echo "# SKIP cuda_build: no nvcc (looked in $cuda/bin and PATH)"
    exit 0
fi
# the link takes cuBLAS and the static CUDA runtime from $CUDA_HOME/lib64, as the Makefile does
if [ ! -e "$cuda/lib64/libcublas.so" ] || [ ! -e "$cuda/lib64/libcudart_static.a" ]; then
    echo "# SKIP cuda_build: nvcc is here but $cuda/lib64 lacks libcublas.so or libcudart_static.a (set CUDA_HOME)"
    exit 0
fi
# a make started from make test must not join that make's job server
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$root" --no-print-directory CB="$t/cb" CUDA_BIN="$t/bin" cuda \
    > "$t/log" 2>&1; rc=$?
if [ $rc -eq 0 ] && [ -x "$t/cb/tests/test_cuda_model" ] && [ -x "$t/cb/tests/test_cuda_stream" ] &&
    [ -x "$t/cb/bench/bench_cuda_model" ] && [ -x "$t/bin/sptt-train" ] && [ -x "$t/bin/sptt-eval" ] && [ -x "$t/bin/sptt-stream" ]; then
    ok "make cuda: the GPU model, its tests and bench, the CUDA trainer, evaluator and stream build with -Werror"
else
    no "make cuda (rc=$rc): $(grep -m3 -iE 'error|warning' "$t/log" | tr '\n' ' ')"
    exit 1
fi
"$t/cb/tests/test_cuda_model" > "$t/out" 2>&1; rc=$?
if [ $rc -eq 77 ] || [ $rc -eq 0 ]; then
    ok "test_cuda_model: $( [ $rc -eq 77 ] && echo 'no GPU here, exit 77 (skip)' || echo 'passed on this GPU')"
else
    no "test_cuda_model exit $rc: $(tail -n 3 "$t/out" | tr '\n' ' ')"
fi
"$t/cb/tests/test_cuda_stream" > "$t/out" 2>&1; rc=$?
if [ $rc -eq 77 ] || [ $rc -eq 0 ]; then
    ok "test_cuda_stream: $( [ $rc -eq 77 ] && echo 'no GPU here, exit 77 (skip)' || echo 'passed on this GPU')"
else
    no "test_cuda_stream exit $rc: $(tail -n 3 "$t/out" | tr '\n' ' ')"
fi
"$t/bin/sptt-stream" --help 2>&1 | grep -q -- "--device D" && ok "the CUDA sptt-stream offers --device cuda" ||
    no "the CUDA sptt-stream's --help: $("$t/bin/sptt-stream" --help 2>&1 | head -c 200)"
"$t/bin/sptt-eval" --help 2>&1 | grep -q -- "--device D" && ok "the CUDA sptt-eval offers --device cuda" ||
    no "the CUDA sptt-eval's --help: $("$t/bin/sptt-eval" --help 2>&1 | head -c 200)"
# the CUDA trainer's options, and --allreduce checked before anything is opened
"$t/bin/sptt-train" --help > "$t/help" 2>&1
grep -q -- "--allreduce" "$t/help" && grep -q -- "--bf16" "$t/help" && grep -q "cuda" "$t/help" &&
    ok "the CUDA sptt-train offers --device cuda, --tf32, --bf16 and --allreduce" || no "the CUDA sptt-train's --help: $(head -c 200 "$t/help")"
"$t/bin/sptt-train" --db "$t/none.db" --out "$t/r" --device cuda --allreduce bogus > /dev/null 2> "$t/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$t/err")" -eq 1 ] && [ ! -e "$t/r" ] &&
    ok "the CUDA sptt-train: an unknown --allreduce path is exit 2, one line, nothing written" ||
    no "the CUDA sptt-train, --allreduce bogus: rc=$rc $(cat "$t/err")"
exit $fail
