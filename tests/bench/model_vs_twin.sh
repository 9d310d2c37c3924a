#!/bin/sh
# The C model against its PyTorch twin on the same workload, measured in one run on this machine:
# forward + backward tokens/s, best of 3 steps after a warm-up, at each thread count given.
#
#   tests/bench/model_vs_twin.sh [THREADS...]        (default: 1 and all cores)
#
# Configurations (MODEL_VS_TWIN_CONFIGS, default "small video"; "small big video" is the full set):
#   small  hidden 256, 4 layers, 1,024 tokens of text
#   big    hidden 512, 8 layers, 2,048 tokens of text
#   video  small with video groups and the 3x3x3 conv
# Text only, every position supervised, vocabulary 2048, heads of 64, FFN 4H, TTT with Muon,
# momentum and pre-norm, chunk = window = T/4: bench_model's text workload and the twin's bench
# build the same model and the same sequence.
#
# Prints one table row per configuration and thread count, with the ratio C / PyTorch, and skips
# (visibly) where no Python has torch. Environment: SPTT_PYTHON (the interpreter; by default the
# first of /usr/bin/python3, where Debian's python3-torch lives, and python3 that has torch),
# BENCH_MODEL (default build/bench/bench_model).
root=$(cd "$(dirname "$0")/../.." && pwd)
bm=${BENCH_MODEL:-$root/build/bench/bench_model}
configs=${MODEL_VS_TWIN_CONFIGS:-small video}
[ $# -gt 0 ] || set -- 1 "$(getconf _NPROCESSORS_ONLN)"
. "$root/tests/e2e_common.sh"   # torch_python, and $t, a scratch folder
if ! py=$(torch_python); then
    echo "# SKIP model_vs_twin: no Python with torch (install python3-torch)"
    exit 0
fi
[ -x "$bm" ] || { echo "model_vs_twin: $bm is not built (make $bm)" >&2; exit 1; }
export OPENBLAS_NUM_THREADS=1
# the value of key=... on a bench line
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

echo "# C model vs PyTorch twin (torch $("$py" -c 'import torch; print(torch.__version__)')), $(getconf _NPROCESSORS_ONLN) cores"
# "at peak / PyTorch": the ratio C would reach if every model FLOP ran at the sgemm peak bench_model
# measured at that thread count (the better of oneDNN's threaded sgemm and one-thread sgemms side by
# side), so what a target ratio asks of the machine shows beside what was reached. "at FFN rate /
# PyTorch": the ratio C would reach if every model FLOP ran as fast as the same step's feed-forward
# (its largest, plainest products), the practical ceiling of the other parts
echo "| config | H | L | T | threads | C tokens/s | PyTorch tokens/s | C / PyTorch | at FFN rate / PyTorch | at peak / PyTorch |"
echo "|--------|---|---|---|---------|------------|------------------|-------------|-----------------------|-------------------|"
status=0
for cfg in $configs; do
    case $cfg in
        small) h=256; l=4; n=1024; v="" ;;
        big)   h=512; l=8; n=2048; v="" ;;
        video) h=256; l=4; n=1024; v=video ;;
        *) echo "model_vs_twin: unknown configuration '$cfg' (small, big, video)" >&2; exit 2 ;;
    esac
    for th in "$@"; do
        OMP_NUM_THREADS=$th "$bm" $h $l $n "$th" $v > "$t/out" 2>&1 || { echo "model_vs_twin: bench_model failed: $(tail -n 3 "$t/out")" >&2; status=1; continue; }
        c=$(grep '^bench=sptt_model' "$t/out" | field tokens_per_s)
        cmax=$(grep '^bench=sptt_model' "$t/out" | field peak_tokens_per_s)
        cffn=$(grep '^bench=sptt_model' "$t/out" | field ffn_tokens_per_s)
        vflag=""; [ -n "$v" ] && vflag=--video
        p=$(cd "$root/python" && OMP_NUM_THREADS=$th "$py" -m sptt_twin bench --hidden $h --layers $l --tokens $n \
                $vflag --threads "$th" 2>&1 | grep '^bench=sptt_twin' | field tokens_per_s)
        if [ -z "$c" ] || [ -z "$p" ]; then
            echo "model_vs_twin: no figure for $cfg at $th threads" >&2
            status=1
            continue
        fi
        echo "| $cfg | $h | $l | $n | $th | $c | $p | $(awk "BEGIN { printf \"%.2fx | %.2fx | %.2fx\", $c / $p, $cffn / $p, $cmax / $p }") |"
    done
done
exit $status
