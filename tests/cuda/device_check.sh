#!/bin/sh
# The CUDA build's checks on a GPU machine, in one go (each part under its own time limit, its
# output kept in $OUT), in this order: test_cuda_model (CPU against GPU, every tensor; fp32, TF32
# and bf16, the last two with the tensor-core attention where the head width allows),
# test_cuda_stream (the GPU stream against the training pass and the CPU stream), the same
# with the fused fp32 attention (SPTT_CUDA_FLASH=1) and with the strips only (SPTT_CUDA_FLASH=0,
# also without cuBLASLt: SPTT_CUDA_LT=0), --dump-step on the GPU checked by
# the PyTorch twin, bench_cuda_model and the twin's bench on the same GPU (fp32, TF32 and bf16
# autocast) with the table of the two side by side (CUDA tokens/s over the twin's, per
# precision), bench_stream on the GPU against the CPU's 16 threads, and last
# sptt-train on the GPU against the CPU (1 rank, 2 ranks sharing the GPU, --tf32, --bf16), the
# gradient-sum paths (one rank through NCCL against MPI; two ranks sharing a GPU fall back from
# NCCL to MPI, and refuse a forced NCCL), with two GPUs or more NCCL across two GPUs against one
# rank of twice the batch and the NCCL and MPI paths' speed on a larger model, and last a GPU
# training run killed with SIGKILL and resumed, against the uninterrupted run (the sums through
# MPI, then through NCCL).
# TRAIN_ONLY=1 runs only the trainer's part (from sptt-train against the CPU on).
#
# Run from the folder tests/cuda/devkit.sh makes (after make and make cuda): the three CUDA
# binaries, their non-system shared libraries packed, python/sptt_twin and a small dataset.
# PY names a python with torch; TWIN=0 leaves out the twin's bench. Arguments go to
# bench_cuda_model (H,L,T ...).
cd "$(dirname "$0")" || exit 1
D=$PWD
# the libraries may come packed (OpenBLAS and oneDNN alone pass 64 MiB; xz makes them 11)
[ -f devlibs.tar.xz ] && [ ! -d devlibs ] && mkdir devlibs && tar -xJf devlibs.tar.xz -C devlibs
[ -f bins.tar.xz ] && [ ! -x sptt-train ] && tar -xJf bins.tar.xz
O=${OUT:-/tmp/sptt-cuda-check}
mkdir -p "$O"
export LD_LIBRARY_PATH="$D/devlibs:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
PY=${PY:-/opt/torch/.venv/bin/python3}
# sptt-train opens libnccl.so.2 at run time: CUDA's copy first, else the one PyTorch ships
for d in "$(dirname "$PY")"/../lib/python3*/site-packages/nvidia/nccl/lib; do
    [ -f "$d/libnccl.so.2" ] && LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$d"
done
export PYTHONPATH="$D/python"
mpi() { mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -np "$@"; }
worst() { [ -s "$1" ] && [ -s "$2" ] || { printf "n/a"; return; }; paste "$1" "$2" | grep '"loss"' | head -n "$3" | awk -F'"loss":' '{split($2,a,","); split($3,b,","); d=a[1]-b[1]; if(d<0)d=-d; r=d/(a[1]>0?a[1]:1); if(r>m)m=r} END{printf "%.3g", m+0}'; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
if [ "${TRAIN_ONLY:-0}" != 1 ]; then
echo "== test_cuda_model"
timeout 240 ./test_cuda_model -v > "$O/test.txt" 2>&1; rc=$?
echo "rc=$rc" >> "$O/test.txt"
grep -E "^#|^ok|^not ok|^PASS|^FAIL|FAIL$|over the|loss cpu|^  loss|^  logits|rc=|rror" "$O/test.txt" | head -150
if [ $rc != 0 ] && [ $rc != 1 ] && [ -x /usr/local/cuda/bin/compute-sanitizer ]; then
    echo "== compute-sanitizer (case 1)"
    SPTT_CUDA_CASE=1 timeout 60 /usr/local/cuda/bin/compute-sanitizer --print-limit 5 ./test_cuda_model 2>&1 | head -60
fi

grep -E "^# (fp32|tf32|bf16)" "$O/test.txt"
echo "== test_cuda_stream (the GPU stream against the training pass and the CPU stream)"
timeout 120 ./test_cuda_stream > "$O/test_stream.txt" 2>&1; echo "rc=$?" >> "$O/test_stream.txt"
grep -E "^#|^ok|^not ok|^PASS|^FAIL|rc=|rror" "$O/test_stream.txt" | head -60
echo "== test_cuda_model with the fused attention (SPTT_CUDA_FLASH=1)"
SPTT_CUDA_FLASH=1 timeout 200 ./test_cuda_model > "$O/test_flash.txt" 2>&1; echo "rc=$?" >> "$O/test_flash.txt"
grep -E "^ok|^not ok|^PASS|^FAIL|FAIL$|^# (tf32|bf16)|rc=|rror" "$O/test_flash.txt" | head -60
echo "== test_cuda_model with the strips only (SPTT_CUDA_FLASH=0), and without cuBLASLt (SPTT_CUDA_LT=0)"
SPTT_CUDA_FLASH=0 SPTT_CUDA_LT=0 timeout 200 ./test_cuda_model > "$O/test_strips.txt" 2>&1; echo "rc=$?" >> "$O/test_strips.txt"
grep -E "^ok|^not ok|^PASS|^FAIL|FAIL$|rc=|rror" "$O/test_strips.txt" | head -60

echo "== dump-step on the GPU, checked by the twin"
timeout 30 ./sptt-train --dump-step "$O/gpu.st" --device cuda 2>&1 | tail -2
timeout 30 ./sptt-train --dump-step "$O/cpu.st" 2>&1 | tail -2
timeout 40 "$PY" -m sptt_twin check "$O/gpu.st" 2>&1 | tail -6
rm -f "$O/cpu.st"

echo "== bench_cuda_model"
timeout ${BENCH_S:-150} ./bench_cuda_model "$@" 2>&1 | tee "$O/bench.txt"
if [ "${TWIN:-1}" != 0 ]; then
echo "== PyTorch twin on the GPU (eager; fp32, then TF32, then bf16 mixed precision)"
: > "$O/twin.txt"
for tf in "" --tf32 --bf16; do
    for c in "512 8 2048" "1024 8 8192" "2048 8 4096"; do
        set -- $c
        timeout 50 "$PY" -m sptt_twin bench --hidden $1 --layers $2 --tokens $3 --device cuda $tf 2>&1 | tail -1 | tee -a "$O/twin.txt"
    done
done
echo "== CUDA against the twin, same GPU, same precision (tokens/s)"
# key: hidden,layers,tokens and the precision; the CUDA rows with graphs=1 (fp32 against the twin's
# fp32, TF32 against its TF32, bf16 against its bf16 autocast)
kv() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
{
printf "%-16s %-5s %-9s %12s %8s %12s %8s\n" "H,L,T" "prec" "attention" "cuda tok/s" "mfu" "twin tok/s" "ratio"
grep '^bench=cuda_model' "$O/bench.txt" | grep 'graphs=1' | while read -r l; do
    h=$(echo "$l" | kv hidden); L=$(echo "$l" | kv layers); t=$(echo "$l" | kv tokens)
    g=$(echo "$l" | kv tokens_per_s); mfu=$(echo "$l" | kv mfu); at=$(echo "$l" | kv attention); mm=$(echo "$l" | kv math)
    case $mm in fp32) pr="tf32=0 bf16=0";; tf32) pr="tf32=1 bf16=0";; *) pr="tf32=0 bf16=1";; esac
    p=$(grep "hidden=$h layers=$L tokens=$t .*$pr " "$O/twin.txt" | head -1 | kv tokens_per_s)
    r=$(awk -v a="$g" -v b="${p:-0}" 'BEGIN{ if(b>0) printf "%.2fx", a/b; else printf "n/a" }')
    printf "%-16s %-5s %-9s %12s %8s %12s %8s\n" "$h,$L,$t" "$mm" "$at" "$g" "$mfu" "${p:-n/a}" "$r"
done
} | tee "$O/table.txt"
fi
echo "== streaming: bench_stream on the GPU against the CPU's 16 threads (8 layers, 66 tokens a frame pair)"
# 256 frames at hidden 1024, 64 at 2048 (the CPU's three models take about 4 s a frame pair there)
for hf in 1024:256 2048:64; do
    h=${hf%:*}; f=${hf#*:}
    for dv in cpu cuda; do
        OMP_NUM_THREADS=16 timeout 120 ./bench_stream --hidden $h --layers 8 --frame 64 --patch 8 --chunk 64 --frames $f \
            --threads 16 --device $dv > "$O/stream_${h}_$dv.txt" 2>&1 || echo "bench_stream $h $dv: rc=$?"
        grep -E "^\(|^streaming|^anchor" "$O/stream_${h}_$dv.txt"
    done
    # ms per frame over the last mark, per model, CPU over GPU
    for k in 1 2 3; do
        c=$(grep -E '^\(' "$O/stream_${h}_cpu.txt" | grep " $f frames" | sed -n "${k}p" | awk '{print $(NF-1)}')
        g=$(grep -E '^\(' "$O/stream_${h}_cuda.txt" | grep " $f frames" | sed -n "${k}p" | awk '{print $(NF-1)}')
        n=$(grep -E '^\(' "$O/stream_${h}_cuda.txt" | grep " $f frames" | sed -n "${k}p" | sed 's/ *[0-9]* frames.*//')
        awk -v c="$c" -v g="$g" -v n="$n" -v h="$h" -v f="$f" 'BEGIN{ if(g>0) printf "stream hidden %s, %s, at %s frames: cpu %.3f ms/frame, gpu %.3f: %.2fx\n", h, n, f, c, g, c/g; else print "stream hidden " h ": n/a" }'
    done
done
fi

echo "== sptt-train: GPU against CPU (Muon off, 10 steps), and 2 ranks sharing the GPU"
t=/tmp/sptt-cuda-train
rm -rf "$t"; mkdir -p "$t"; cp -r d.db packs "$t/"
timeout 60 ./sptt-train --db "$t/d.db" --out "$t/cpu" --config nomuon.json --stage qa --steps 10 --batch 2 -q 2>&1 | tail -3
timeout 60 ./sptt-train --db "$t/d.db" --out "$t/gpu" --config nomuon.json --stage qa --steps 10 --batch 2 -q --device cuda 2>&1 | tail -3
# the two ranks share GPU 0 also where there are more
CUDA_VISIBLE_DEVICES=0 timeout 60 sh -c "mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -x CUDA_VISIBLE_DEVICES -np 2 ./sptt-train --db $t/d.db --out $t/gpu2 --config nomuon.json --stage qa --steps 10 --batch 1 --check-every 1 -q --device cuda" > "$t/gpu2.err" 2>&1
tail -3 "$t/gpu2.err"
# the same run with the host's optimiser (the parameters back and forth each step), to compare
SPTT_TRAIN_HOST_OPTIM=1 timeout 60 ./sptt-train --db "$t/d.db" --out "$t/gpuh" --config nomuon.json --stage qa --steps 10 --batch 2 -q --device cuda 2>&1 | tail -3
timeout 40 ./sptt-train --db "$t/d.db" --out "$t/gputf" --config nomuon.json --stage qa --steps 10 --batch 2 -q --device cuda --tf32 2>&1 | tail -3
timeout 40 ./sptt-train --db "$t/d.db" --out "$t/gpubf" --config nomuon.json --stage qa --steps 10 --batch 2 -q --device cuda --bf16 2>&1 | tail -3
for r in cpu gpu gpu2 gputf gpubf; do echo "$r: $(grep -c '"loss"' $t/$r/metrics.jsonl 2>/dev/null) steps; $(head -c 300 $t/$r/metrics.jsonl 2>/dev/null | head -2 | tr '\n' ' ')"; done
# AdamW on the device against the host's: the loss, rate and norm of every step, and the final
# checkpoint (parameters and both moments), bit for bit
lg() { grep -o '"loss":[^,]*,"lr":[^,]*,"grad_norm":[^,]*' "$1" 2>/dev/null; }
ckd=$(ls "$t"/gpu/stage2/ckpt-*.safetensors 2>/dev/null | tail -n 1); ckh=$(ls "$t"/gpuh/stage2/ckpt-*.safetensors 2>/dev/null | tail -n 1)
[ -n "$(lg "$t/gpu/metrics.jsonl")" ] && [ "$(lg "$t/gpu/metrics.jsonl")" = "$(lg "$t/gpuh/metrics.jsonl")" ] &&
    echo "ok - AdamW on the device: every step's loss, rate and gradient norm equal the host optimiser's ($(lg "$t/gpu/metrics.jsonl" | wc -l) steps)" ||
    echo "not ok - AdamW on the device against the host's: $(lg "$t/gpu/metrics.jsonl" | tail -n 1) | $(lg "$t/gpuh/metrics.jsonl" | tail -n 1)"
[ -n "$ckd" ] && [ -n "$ckh" ] && cmp -s "$ckd" "$ckh" &&
    echo "ok - AdamW on the device: the final checkpoint (parameters, moments) equals the host optimiser's byte for byte" ||
    echo "not ok - the device optimiser's checkpoint differs from the host's: $(cmp "$ckd" "$ckh" 2>&1 | head -n 1)"
echo "worst relative loss difference over 10 steps: gpu vs cpu $(worst $t/cpu/metrics.jsonl $t/gpu/metrics.jsonl 10), 2-rank gpu vs cpu $(worst $t/cpu/metrics.jsonl $t/gpu2/metrics.jsonl 10), --tf32 gpu vs cpu $(worst $t/cpu/metrics.jsonl $t/gputf/metrics.jsonl 10), --bf16 gpu vs cpu $(worst $t/cpu/metrics.jsonl $t/gpubf/metrics.jsonl 10)"

echo "== sptt-eval --device cuda against the CPU (streamed questions too), with the CPU run's checkpoint"
ck=$(ls "$t"/cpu/stage2/ckpt-*.safetensors 2>/dev/null | tail -n 1)
for dv in cpu cuda; do
    timeout 120 ./sptt-eval --ckpt "$ck" --db "$t/d.db" --max-new 8 --device $dv -q -o "$t/eval_$dv.json" \
        2>&1 | tail -n 2
done
# each question's id, prediction and score, in order: greedy decoding from the same float32 model
pr() { grep -E '"(id|prediction|score)"' "$1" 2>/dev/null; }
n=$(pr "$t/eval_cpu.json" | grep -c '"prediction"')
[ "$n" -gt 0 ] && [ "$(pr "$t/eval_cpu.json")" = "$(pr "$t/eval_cuda.json")" ] && grep -q '"device": "cuda"' "$t/eval_cuda.json" &&
    echo "ok - sptt-eval --device cuda: the CPU's $n predictions and scores, in order" ||
    echo "not ok - sptt-eval --device cuda against the CPU ($n on the CPU): $(pr "$t/eval_cpu.json" | head -n 6 | tr '\n' ' ') | $(pr "$t/eval_cuda.json" | head -n 6 | tr '\n' ' ')"
cp "$t/eval_cpu.json" "$t/eval_cuda.json" "$O/" 2>/dev/null

echo "== sptt-stream --device cuda against the CPU, with the CPU run's checkpoint"
# 24 raw frames (a fixed byte pattern) and three questions, one before any frame
"$PY" -c "import sys; sys.stdout.buffer.write(bytes((i * 37 + i // 193) % 256 for i in range(24 * 8 * 8 * 3)))" > "$t/raw.bin"
for dv in cpu cuda; do
    timeout 120 ./sptt-stream --ckpt "$ck" --raw 8x8 --device $dv --max-new 8 --ask "what is here?" --at 0 \
        --ask "how many chairs?" --at 9 --ask "which is closer?" --at 24 < "$t/raw.bin" > "$t/stream_$dv.txt" 2> "$t/stream_$dv.err"
    echo "rc=$? $(tail -n 1 "$t/stream_$dv.err")"
done
n=$(grep -c '^frame' "$t/stream_cpu.txt")
[ "$n" = 3 ] && cmp -s "$t/stream_cpu.txt" "$t/stream_cuda.txt" &&
    echo "ok - sptt-stream --device cuda: the CPU's $n answers, word for word: $(tr '\n' ' ' < "$t/stream_cuda.txt")" ||
    echo "not ok - sptt-stream --device cuda against the CPU: $(tr '\n' ' ' < "$t/stream_cpu.txt") | $(tr '\n' ' ' < "$t/stream_cuda.txt")"
cp "$t/stream_cpu.txt" "$t/stream_cuda.txt" "$O/" 2>/dev/null

echo "== the gradient sums' paths: NCCL on one rank against MPI; two ranks sharing a GPU: auto falls back to MPI, nccl refuses"
# the loss column as text, for equality to the last digit
lc() { grep -o '"loss":[^,]*' "$1" 2>/dev/null; }
same() { [ -s "$1" ] && [ "$(lc "$1")" = "$(lc "$2")" ]; }
timeout 60 ./sptt-train --db "$t/d.db" --out "$t/gpun" --config nomuon.json --stage qa --steps 10 --batch 2 -q --device cuda --allreduce nccl > "$t/gpun.err" 2>&1
echo "rc=$? $(head -c 300 "$t/gpun.err")"
grep -q "gradient sums: NCCL" "$t/gpun.err" && same "$t/gpun/metrics.jsonl" "$t/gpu/metrics.jsonl" &&
    echo "ok - 1 rank, --allreduce nccl: says NCCL, losses equal the MPI path's bit for bit ($(lc "$t/gpun/metrics.jsonl" | wc -l) steps)" ||
    echo "not ok - 1 rank, --allreduce nccl against the MPI path"
grep -q "gradient sums: MPI on the host (ranks 0 and 1 share one GPU" "$t/gpu2.err" &&
    echo "ok - 2 ranks sharing a GPU, --allreduce auto: falls back to MPI and says so: $(grep 'gradient sums' "$t/gpu2.err")" ||
    echo "not ok - 2 ranks sharing a GPU, auto: no fallback message"
CUDA_VISIBLE_DEVICES=0 timeout 60 sh -c "mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -x CUDA_VISIBLE_DEVICES -np 2 ./sptt-train --db $t/d.db --out $t/gpu2m --config nomuon.json --stage qa --steps 10 --batch 1 -q --device cuda --allreduce mpi" > "$t/gpu2m.err" 2>&1
same "$t/gpu2m/metrics.jsonl" "$t/gpu2/metrics.jsonl" && echo "ok - 2 ranks sharing a GPU: auto's losses equal --allreduce mpi's bit for bit" ||
    echo "not ok - 2 ranks sharing a GPU: auto against --allreduce mpi ($(tail -2 "$t/gpu2m.err"))"
CUDA_VISIBLE_DEVICES=0 timeout 60 sh -c "mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -x CUDA_VISIBLE_DEVICES -np 2 ./sptt-train --db $t/d.db --out $t/gpu2n --config nomuon.json --stage qa --steps 10 --batch 1 -q --device cuda --allreduce nccl" > "$t/gpu2n.err" 2>&1; rc=$?
[ $rc != 0 ] && grep -q "allreduce nccl: ranks 0 and 1 share one GPU" "$t/gpu2n.err" &&
    echo "ok - 2 ranks sharing a GPU, --allreduce nccl: refused (mpirun rc=$rc): $(grep -m1 'allreduce nccl' "$t/gpu2n.err")" ||
    echo "not ok - 2 ranks sharing a GPU, --allreduce nccl (rc=$rc): $(tail -3 "$t/gpu2n.err")"

ng=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
if [ "$ng" -ge 2 ]; then
    echo "== NCCL across 2 GPUs: 2 ranks x batch 1 against 1 rank x batch 2 (the gpu run), twice"
    for k in a b; do
        timeout 60 sh -c "mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -np 2 ./sptt-train --db $t/d.db --out $t/n2$k --config nomuon.json --stage qa --steps 10 --batch 1 --check-every 1 -q --device cuda --allreduce nccl" > "$t/n2$k.err" 2>&1
        echo "rc=$? $(grep 'gradient sums' "$t/n2$k.err")"
    done
    echo "worst relative loss difference over 10 steps: 2 GPUs NCCL vs 1 rank x batch 2 $(worst $t/gpu/metrics.jsonl $t/n2a/metrics.jsonl 10)"
    same "$t/n2a/metrics.jsonl" "$t/n2b/metrics.jsonl" && echo "ok - 2 GPUs through NCCL: the repeated run's losses equal the first's bit for bit" ||
        echo "not ok - 2 GPUs through NCCL: the repeat differs"
    echo "== 2 ranks on 2 GPUs, a larger model (mid.json, Muon off): NCCL against MPI and NCCL again, 8 steps each (summary lines)"
    for p in nccl mpi nccl; do
        rm -rf "$t/mid"
        timeout 120 sh -c "mpirun --allow-run-as-root --oversubscribe -x LD_LIBRARY_PATH -np 2 ./sptt-train --db $t/d.db --out $t/mid --config mid.json --stage qa --steps 8 --batch 2 -q --device cuda --allreduce $p" > "$t/mid.err" 2>&1
        echo "$p rc=$? $(grep '"summary"' "$t/mid/metrics.jsonl" 2>/dev/null | tail -1)"
        [ -f "$O/metrics_mid_$p.jsonl" ] && mv "$O/metrics_mid_$p.jsonl" "$O/metrics_mid_${p}_1.jsonl"
        cp "$t/mid/metrics.jsonl" "$O/metrics_mid_$p.jsonl" 2>/dev/null
    done
    # two ranks: each sum is one addition of two floats, the same whichever path makes it
    same "$O/metrics_mid_nccl.jsonl" "$O/metrics_mid_mpi.jsonl" && same "$O/metrics_mid_nccl.jsonl" "$O/metrics_mid_nccl_1.jsonl" &&
        echo "ok - mid.json on 2 GPUs: NCCL's losses equal MPI's and repeat, bit for bit" || echo "not ok - mid.json: NCCL's losses against MPI's or the repeat"
fi
for r in cpu gpu gpuh gpu2 gputf gpubf gpun gpu2m n2a n2b; do cp $t/$r/metrics.jsonl "$O/metrics_$r.jsonl" 2>/dev/null; done

echo "== sptt-train --device cuda: SIGKILL at a varying step, then --resume: the losses equal the uninterrupted run's"
# as tests/e2e/train_run.sh on the CPU (the same check, kill_resume.sh): the GPU model sums in
# fixed orders (no atomics), the optimiser is the host's, so a resumed run must repeat the
# uninterrupted one bit for bit
. "$D/kill_resume.sh"
sptt_train() { o=$1; shift; exec ./sptt-train --db "$t/d.db" --out "$o" --stage both --steps 8 --batch 2 --ckpt-every 1 -q --device cuda "$@"; }
kill_resume "$t"
[ $KR_REF = 0 ] || echo "not ok - GPU reference run"
[ $KR_FAILS = 0 ] && echo "ok - GPU: SIGKILL then --resume: the loss sequence equals the uninterrupted run's, bit for bit (3 kills)" \
    || echo "not ok - GPU resume ($KR_FAILS of 3)"
cp "$t/ref/metrics.jsonl" "$O/metrics_resume_ref.jsonl" 2>/dev/null
cp "$t/k/metrics.jsonl" "$O/metrics_resume_k.jsonl" 2>/dev/null

echo "== the same with the sums through NCCL (--allreduce nccl, one rank): the backward's hook does not wait for the GPU"
sptt_train() { o=$1; shift; exec ./sptt-train --db "$t/d.db" --out "$o" --stage both --steps 8 --batch 2 --ckpt-every 1 -q --device cuda --allreduce nccl "$@"; }
mkdir -p "$t/nccl"
kill_resume "$t/nccl"
[ $KR_REF = 0 ] || echo "not ok - GPU reference run through NCCL"
[ $KR_FAILS = 0 ] && echo "ok - GPU through NCCL: SIGKILL then --resume: the loss sequence equals the uninterrupted run's, bit for bit (3 kills)" \
    || echo "not ok - GPU resume through NCCL ($KR_FAILS of 3)"
same "$t/nccl/ref/metrics.jsonl" "$t/ref/metrics.jsonl" && echo "ok - the NCCL reference run's losses equal the MPI path's bit for bit" ||
    echo "not ok - the NCCL reference run against the MPI path's"

# one archive of the detail (full test tables, twin lines, metrics, the step dump) beside the two
# summaries: a caller that brings back only a few files still gets everything
(cd "$O" && set -- $(ls | grep -v -x -e bench.txt -e table.txt -e check.tgz) && [ $# -gt 0 ] &&
    tar -czf check.tgz "$@" && rm -f "$@")

