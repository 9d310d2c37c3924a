#!/bin/sh
# End-to-end checks of sptt-train on a small synthetic dataset: the two stages end to end, data
# parallelism (2 ranks x batch B against 1 rank x batch 2B), exact resume after SIGKILL, a
# corrupt newest checkpoint, SIGTERM, and overfitting a handful of examples. Prints ok / not ok.
. "$(dirname "$0")/../e2e_common.sh"
# Under the sanitizers (make check): Open MPI never frees what MPI_Init allocates and unloads its
# plugins before LeakSanitizer looks, so those reports cannot be suppressed by name. Memory errors
# are still caught here; leaks are not checked for sptt-train.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
q() { sqlite3 "$1" "$2"; }
# Open MPI refuses root unless told; CI runs as root. --oversubscribe: more ranks than cores.
mpi() { mpirun --allow-run-as-root --oversubscribe -np "$@"; }
# losses FILE and kill_resume DIR (the SIGKILL-and-resume check, shared with the GPU's)
. "$(dirname "$0")/../kill_resume.sh"

"$bin/sptt-synth" --out "$t/raw" --scenes 3 --seed 5 -q &&
    "$bin/sptt-ingest" scannet "$t/raw/scannet/scans"/* --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" --db "$t/d.db" -q &&
    "$bin/sptt-geometry" --db "$t/d.db" -q && "$bin/sptt-annotate" --db "$t/d.db" --frames 8 -q || { no "dataset"; exit 1; }

# --- both stages end to end
"$bin/sptt-train" --db "$t/d.db" --out "$t/run" --stage both --steps 4 --batch 2 --log-every 1 --val-fraction 0.34 \
    > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && [ -s "$t/run/loss.png" ] && ls "$t/run/stage1/"ckpt-00000004.safetensors "$t/run/stage2/"ckpt-00000004.safetensors >/dev/null 2>&1 \
    && [ "$(losses "$t/run/metrics.jsonl" | wc -l)" = 8 ] && grep -q '"val_loss"' "$t/run/metrics.jsonl" \
    && ok "two stages: checkpoints, metrics, validation loss and loss.png" || no "two stages ($rc: $(cat "$t/err" "$t/out"))"
[ "$(q "$t/d.db" "SELECT count(*) FROM scenes WHERE split='val'")" = 1 ] && [ "$(q "$t/d.db" "SELECT count(*) FROM scenes WHERE split='train'")" = 2 ] \
    && ok "the split is stored in the dataset: 2 train scenes, 1 validation scene" || no "split stored"

# --- data parallelism: 2 ranks x batch 1 against 1 rank x batch 2, step for step, 20 steps.
# The two runs sum the same per-example gradients in another order, so float32 rounding differs in
# the last bits (about 1e-7 relative per step). Without Newton-Schulz that stays below 1e-6 over
# 20 steps. With it (the default), the orthogonalisation lifts directions whose singular values are
# rounding noise to unit size, so the runs part after the first update: there only the first
# step's loss, taken before any update, is compared at 1e-6.
cat > "$t/nomuon.json" <<'EOF'
{"vocab_size": 300, "hidden": 32, "n_layer": 4, "n_head": 4, "n_kv_head": 2, "head_dim": 8, "ffn": 48, "ttt_heads": 4,
 "ttt_rope_dim": 4, "chunk": 8, "window": 10, "anchor_every": 2, "frame_w": 8, "frame_h": 8, "patch": 4,
 "rope_sections": [2, 1, 1], "use_muon": 0}
EOF
worst() { paste "$1" "$2" | grep '"loss"' | head -n "$3" | awk -F'"loss":' '{split($2,a,","); split($3,b,","); d=a[1]-b[1]; if(d<0)d=-d; r=d/(a[1]>0?a[1]:1); if(r>m)m=r} END{printf "%.3g", m+0}'; }
"$bin/sptt-train" --db "$t/d.db" --out "$t/one" --config "$t/nomuon.json" --stage qa --steps 20 --batch 2 -q 2> "$t/err1"; r1=$?
mpi 2 "$bin/sptt-train" --db "$t/d.db" --out "$t/two" --config "$t/nomuon.json" --stage qa --steps 20 --batch 1 --check-every 1 -q 2> "$t/err2"; r2=$?
"$bin/sptt-train" --db "$t/d.db" --out "$t/onem" --stage qa --steps 2 --batch 2 -q 2>> "$t/err1"; r3=$?
mpi 2 "$bin/sptt-train" --db "$t/d.db" --out "$t/twom" --stage qa --steps 2 --batch 1 --check-every 1 -q 2>> "$t/err2"; r4=$?
if [ $r1$r2$r3$r4 = 0000 ]; then
    w=$(worst "$t/one/metrics.jsonl" "$t/two/metrics.jsonl" 20)
    wm=$(worst "$t/onem/metrics.jsonl" "$t/twom/metrics.jsonl" 1)
    awk -v w="$w" -v m="$wm" 'BEGIN{exit !(w < 1e-6 && m < 1e-6)}' \
        && ok "2 ranks x batch 1 = 1 rank x batch 2: 20 steps within $w (Muon off), first step within $wm (Muon on); ranks identical every step" \
        || no "2 ranks against 1 (worst $w, with Muon $wm)"
else
    no "data-parallel runs ($r1 $r2 $r3 $r4: $(cat "$t/err1" "$t/err2"))"
fi

# --- SIGKILL at a varying step, then --resume: the losses equal the uninterrupted run's
sptt_train() { o=$1; shift; exec "$bin/sptt-train" --db "$t/d.db" --out "$o" --stage both --steps 8 --batch 2 --ckpt-every 1 -q "$@"; }
kill_resume "$t"
[ $KR_REF = 0 ] || no "reference run"
[ $KR_FAILS = 0 ] && ok "SIGKILL then --resume: the loss sequence equals the uninterrupted run's, bit for bit (3 kills)" || no "resume ($KR_FAILS of 3)"

# --- a corrupt newest checkpoint: the previous one is used, and the run says so
rm -rf "$t/c"
"$bin/sptt-train" --db "$t/d.db" --out "$t/c" --stage qa --steps 3 --batch 2 --ckpt-every 1 --keep 3 -q 2>/dev/null
newest=$(ls "$t/c/stage2/"ckpt-*.safetensors | tail -n 1)
printf 'garbage' | dd of="$newest" bs=1 seek=200 conv=notrunc 2>/dev/null
"$bin/sptt-train" --db "$t/d.db" --out "$t/c" --stage qa --steps 5 --batch 2 --resume > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && grep -q "$(basename "$newest")" "$t/err" && grep -q "step 2 of 5" "$t/out" \
    && ok "a corrupt newest checkpoint is reported and the previous one resumes" || no "corrupt checkpoint ($rc: $(cat "$t/err" "$t/out"))"

# --- SIGTERM: a final checkpoint, status 1, and --resume finishes the run
rm -rf "$t/s"
"$bin/sptt-train" --db "$t/d.db" --out "$t/s" --stage qa --steps 400 --batch 1 -q 2> "$t/err" &
pid=$!
i=0
while [ $i -lt 600 ] && [ "$(grep -c '"loss"' "$t/s/metrics.jsonl" 2>/dev/null || echo 0)" -lt 3 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid; rc=$?
n=$(ls "$t/s/stage2/" 2>/dev/null | grep -c "^ckpt-")
[ $rc = 1 ] && [ "$n" -ge 1 ] && grep -q "stopped at step" "$t/err" && ok "SIGTERM: a checkpoint, then status 1" || no "SIGTERM ($rc, $n: $(cat "$t/err"))"

# --- a tiny model overfits a few examples
cat > "$t/tiny.json" <<'EOF'
{"vocab_size": 300, "hidden": 32, "n_layer": 2, "n_head": 4, "n_kv_head": 2, "head_dim": 8, "ffn": 64, "ttt_heads": 4,
 "ttt_rope_dim": 4, "chunk": 16, "window": 16, "anchor_every": 2, "frame_w": 8, "frame_h": 8, "patch": 4,
 "rope_sections": [2, 1, 1]}
EOF
"$bin/sptt-train" --db "$t/d.db" --out "$t/o" --config "$t/tiny.json" --stage qa --steps 150 --batch 8 --max-examples 8 --lr 0.01 --fast-lr 0.01 \
    --warmup 5 --frames 2 -q 2> "$t/err"; rc=$?
first=$(losses "$t/o/metrics.jsonl" | head -n 1 | cut -d' ' -f3)
last=$(losses "$t/o/metrics.jsonl" | tail -n 5 | awk '{s+=$3} END{printf "%.4f", s/NR}')
[ $rc = 0 ] && awk -v a="$first" -v b="$last" 'BEGIN{exit !(b < 0.1 * a)}' \
    && ok "overfitting: mean loss of the last 5 steps $last from $first" || no "overfit ($rc: $first -> $last $(cat "$t/err"))"

# --- stage 1 helps stage 2: stage 2's first loss (before any stage-2 update) against the same
# model and tokenizer left untrained in stage 1 (learning rate 0), on the same first batch
"$bin/sptt-train" --db "$t/d.db" --out "$t/s12" --stage both --steps 5 --batch 2 -q 2> "$t/err"; r1=$?
"$bin/sptt-train" --db "$t/d.db" --out "$t/s0" --stage both --steps 5 --batch 2 --lr 0 --fast-lr 0 -q 2>> "$t/err"; r2=$?
a=$(losses "$t/s12/metrics.jsonl" | awk '$1==2 && $2==1 {print $3}')
b=$(losses "$t/s0/metrics.jsonl" | awk '$1==2 && $2==1 {print $3}')
[ $r1$r2 = 00 ] && awk -v a="$a" -v b="$b" 'BEGIN{exit !(a < b)}' \
    && ok "stage 2 starts lower after stage 1: first loss $a against $b untrained" || no "stage 1 helps ($r1 $r2: $a vs $b $(cat "$t/err"))"
