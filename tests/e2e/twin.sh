#!/bin/sh
# The PyTorch twin (python/sptt_twin) against the C model: step dumps of several configurations
# reproduced by autograd (loss, logits, every gradient, within the tolerance measured from float32
# noise, see python/sptt_twin/check.py), a corrupted gradient caught, bad input refused, and the
# converter's round trip dump -> .pt -> checkpoint that the C trainer loads back. Prints ok / not ok;
# a visible SKIP line when no Python with torch exists (Debian: python3-torch).
. "$(dirname "$0")/../e2e_common.sh"
tool="$bin/sptt-train"
# Under the sanitizers (make check): the trainer's Open MPI start-up allocations are never freed
# (see train_run.sh); memory errors are still caught, leaks are not checked here.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

if ! py=$(torch_python); then
    echo "# SKIP twin: no Python with torch (install python3-torch)"
    exit 0
fi
export PYTHONPATH="$(pwd)/python${PYTHONPATH:+:$PYTHONPATH}"
twin() { "$py" -m sptt_twin "$@"; }

# the tiny model (sptt_config_tiny) with one change each
tiny='"vocab_size":300,"hidden":32,"n_layer":4,"n_head":4,"n_kv_head":2,"head_dim":8,"ffn":48,"ttt_heads":4,"ttt_rope_dim":4,"chunk":8,"window":10,"anchor_every":2,"frame_w":8,"frame_h":8,"patch":4,"rope_sections":[2,1,1]'
mk() { printf '{%s%s}' "$tiny" "$2" >"$t/$1.json"; }
mk video ''
mk text ''
mk postnorm ',"prenorm":0'
mk tttoff ',"use_ttt":0'
mk allfull ',"all_full":1'
mk plain ',"use_muon":0,"use_momentum":0,"use_conv":0,"tie_embeddings":1,"ttt_rope_dim":0'
# long: 219 tokens, 14 chunks and a window short enough that attention runs block by block
printf '{%s}' "$(echo "$tiny" | sed 's/"chunk":8,"window":10/"chunk":16,"window":24/')" >"$t/long.json"
q="How many chairs are in the room, and which one is closest to the door that opens onto the corridor?"
dumps=
for p in "" "--f64"; do
    if "$tool" --dump-step "$t/long${p:+.f64}.st" --config "$t/long.json" --frames 8 --prompt "$q $q $q" \
            --answer "two chairs; the left one" $p >"$t/long.out" 2>&1; then dumps="$dumps $t/long${p:+.f64}.st"
    else no "dump long $p: $(cat "$t/long.out")"; fi
done
# video + text in a batch of 2 (the loss is the batch mean); text only; the rest with video
set -- "video --frames 4 --batch 2" "text --frames 0" "postnorm --frames 4" "tttoff --frames 4" \
       "allfull --frames 4" "plain --frames 2"
for spec in "$@"; do
    name=${spec%% *}; opts=${spec#* }
    # each configuration twice: the float model, and its kernels in double on the same parameters
    for p in "" "--f64"; do
        # shellcheck disable=SC2086
        if "$tool" --dump-step "$t/$name${p:+.f64}.st" --config "$t/$name.json" $opts $p >"$t/$name.out" 2>&1; then
            dumps="$dumps $t/$name${p:+.f64}.st"
        else
            no "dump $name $p: $(cat "$t/$name.out")"
        fi
    done
done
set -- "$@" "long"
# one process for all dumps: torch's import dominates the time
# shellcheck disable=SC2086
twin check --threads 1 $dumps >"$t/check.out" 2>&1; rc=$?
for spec in "$@"; do
    name=${spec%% *}
    for f in "$name.st" "$name.f64.st"; do
        line=$(grep "/$f: C" "$t/check.out")
        msg=$(echo "$line" | sed "s|.*/$f: ||")
        if echo "$line" | grep -q "within tolerance$"; then ok "twin reproduces $name, $msg"
        else no "twin reproduces $f: ${msg:-$(cat "$t/check.out")}"; fi
    done
done
if [ $rc -eq 0 ]; then ok "check exits 0 within tolerance"; else no "check exits $rc"; fi

# The bound follows each quantity's conditioning, measured: a corrupted gradient is caught at 1e-4
# relative where the path is well conditioned (TTT off: float32 noise ~1e-6) and at 1e-2 through the
# TTT branch of the tiny model, whose Newton-Schulz on 8x8 matrices lifts rounding noise (~3e-4);
# against the double-precision dump, at 1e-8.
# (one Python process writes the corrupted copies, one checks them: torch's import is the cost)
"$py" - "$t" <<'PY' >"$t/mut.out" 2>&1
import sys
from sptt_twin import safetensors as st
for name, tensor, rel in (("tttoff", "grad.layers.0.attn.wq", 1e-4), ("video", "grad.layers.0.ttt.w0", 1e-2),
                          ("video.f64", "grad.layers.0.ttt.w0", 1e-8)):
    t, m, d = st.read(f"{sys.argv[1]}/{name}.st")
    t[tensor] *= 1 + rel
    st.write(f"{sys.argv[1]}/bad-{name}.st", t, m, d)
PY
twin check "$t/bad-tttoff.st" "$t/bad-video.st" "$t/bad-video.f64.st" >"$t/bad.out" 2>&1; rc=$?
caught() {
    line=$(grep "bad-$1.st: $2: relative error" "$t/bad.out")
    if [ $rc -eq 1 ] && [ -n "$line" ] && [ "$(grep -c "bad-$1.st: grad\." "$t/bad.out")" -eq 1 ]; then
        ok "$1: $2 off by $3 is caught, and only it ($(echo "$line" | sed 's/.*: relative/relative/'))"
    else no "$1: $2 off by $3 caught ($rc: $(cat "$t/mut.out" "$t/bad.out"))"; fi
}
caught tttoff grad.layers.0.attn.wq 1e-4
caught video grad.layers.0.ttt.w0 1e-2
# in double the same conditioning leaves room for nothing near float32's noise: 1e-8 is caught
caught video.f64 grad.layers.0.ttt.w0 1e-8

# bad input: one line naming the file and the reason, status 2
head -c 100 "$t/text.st" >"$t/trunc.st"
twin check "$t/trunc.st" >"$t/out" 2>"$t/err"; rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$t/err")" -eq 1 ] && grep -q "trunc.st: header length" "$t/err"; then
    ok "truncated dump refused with status 2: $(cat "$t/err")"
else no "truncated dump ($rc: $(cat "$t/err"))"; fi

# round trip: dump -> .pt -> checkpoint; sptt-train loads it and dumps the very same step (text
# only, so the batch does not depend on the random draws the weights no longer need)
twin convert "$t/text.st" "$t/t.pt" >"$t/out" 2>&1 &&
    twin convert "$t/t.pt" "$t/t.safetensors" >>"$t/out" 2>&1 &&
    "$tool" --dump-step "$t/back.st" --init "$t/t.safetensors" --frames 0 >>"$t/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && cmp -s "$t/text.st" "$t/back.st"; then
    ok "dump -> .pt -> checkpoint -> sptt-train --init: the same step dump, byte for byte"
else no "round trip ($rc: $(cat "$t/out"))"; fi
"$tool" --dump-step "$t/x.st" --init "$t/t.safetensors" --config "$t/text.json" >/dev/null 2>"$t/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "drop --config" "$t/err" && [ ! -e "$t/x.st" ]; then
    ok "--dump-step --init refuses --config (the checkpoint gives the model)"
else no "--init with --config ($rc: $(cat "$t/err"))"; fi
twin convert "$t/t.safetensors" "$t/t2.pt" >"$t/out" 2>&1; rc=$?
"$py" - "$t/t.pt" "$t/t2.pt" <<'PY' >>"$t/out" 2>&1 || rc=1
import sys, torch
a, b = torch.load(sys.argv[1]), torch.load(sys.argv[2])
assert a["state_dict"].keys() == b["state_dict"].keys()
assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
assert torch.equal(a["extra"]["tokenizer.merges"], b["extra"]["tokenizer.merges"])
PY
if [ $rc -eq 0 ]; then ok "checkpoint -> .pt keeps every parameter and the tokenizer"
else no "checkpoint -> .pt ($(cat "$t/out"))"; fi
# a checkpoint the trainer wrote (AdamW moments, random state, options) survives checkpoint -> .pt
# -> checkpoint byte for byte, so the converted file resumes like the original
raw="$t/raw"
if "$bin/sptt-synth" --out "$raw" --scenes 2 --seed 5 -q >"$t/out" 2>&1 &&
    "$bin/sptt-ingest" scannet "$raw/scannet/scans"/* --labels "$raw/scannet/scannetv2-labels.combined.tsv" --db "$t/d.db" -q >>"$t/out" 2>&1 &&
    "$bin/sptt-geometry" --db "$t/d.db" -q >>"$t/out" 2>&1 && "$bin/sptt-annotate" --db "$t/d.db" --frames 8 -q >>"$t/out" 2>&1 &&
    printf '{%s}' "$(echo "$tiny" | sed 's/"chunk":8,"window":10/"chunk":64,"window":64/; s/"frame_w":8,"frame_h":8/"frame_w":32,"frame_h":32/; s/"patch":4/"patch":8/')" >"$t/run.json" &&
    "$tool" --db "$t/d.db" --out "$t/run" --stage descriptions --steps 2 --config "$t/run.json" --val-fraction 0.5 >>"$t/out" 2>&1; then
    ck="$t/run/stage1/ckpt-00000002.safetensors"
    twin convert "$ck" "$t/ck.pt" >"$t/out" 2>&1 && twin convert "$t/ck.pt" "$t/ck.safetensors" >>"$t/out" 2>&1; rc=$?
    if [ $rc -eq 0 ] && cmp -s "$ck" "$t/ck.safetensors"; then
        ok "trainer checkpoint -> .pt -> checkpoint: the same bytes, moments and state included"
    else no "trainer checkpoint round trip ($rc: $(cat "$t/out"))"; fi
else no "a trained checkpoint to convert: $(tail -n 5 "$t/out")"; fi

# the checksum covers every byte: the C loader and the twin both refuse a flipped one
cp "$t/t.safetensors" "$t/flip.safetensors"
printf 'X' | dd of="$t/flip.safetensors" bs=1 seek=$(($(wc -c <"$t/flip.safetensors") - 3)) conv=notrunc 2>/dev/null
"$tool" --dump-step "$t/x.st" --init "$t/flip.safetensors" --frames 0 >/dev/null 2>"$t/cerr"; crc=$?
twin convert "$t/flip.safetensors" "$t/x.pt" >/dev/null 2>"$t/perr"; prc=$?
if [ $crc -ne 0 ] && grep -q "checksum mismatch" "$t/cerr" && [ $prc -eq 2 ] && grep -q "checksum mismatch" "$t/perr"; then
    ok "a flipped byte in a written checkpoint is refused by sptt-train and the twin"
else no "flipped checkpoint ($crc $prc: $(cat "$t/cerr" "$t/perr"))"; fi

# the benchmark runs and prints one parseable line (a tiny custom size: this is not a measurement)
twin bench --hidden 64 --layers 2 --tokens 64 --steps 1 >"$t/bench.out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -Eq "^bench=sptt_twin config=custom hidden=64 layers=2 tokens=64 .* tokens_per_s=[0-9.]+ best_of=1$" "$t/bench.out"; then
    ok "bench prints one key=value line per measurement"
else no "bench ($rc: $(cat "$t/bench.out"))"; fi
# bf16 autocast is a GPU measurement: on the CPU it is refused, not quietly run in fp32
twin bench --hidden 64 --layers 2 --tokens 64 --steps 1 --bf16 >"$t/bf.out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q "^sptt_twin.bench: --bf16 needs --device cuda$" "$t/bf.out"; then
    ok "bench --bf16 without --device cuda: refused with exit 2"
else no "bench --bf16 on the CPU ($rc: $(cat "$t/bf.out"))"; fi

exit $fail
