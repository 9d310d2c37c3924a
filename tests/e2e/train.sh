#!/bin/sh
# End-to-end checks of sptt-train --dump-step: options, the safetensors layout of the dump,
# determinism, the loss at initialisation and configuration errors. Prints ok / not ok lines.
. "$(dirname "$0")/../e2e_common.sh"
tool="$bin/sptt-train"
check() { if eval "$2"; then ok "$1"; else no "$1"; fi; }

# the JSON header of a safetensors file
header() {
    n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
    dd if="$1" bs=1 skip=8 count="$n" 2>/dev/null
}
meta() { header "$1" | sed -n "s/.*\"$2\":\"\([^\"]*\)\".*/\1/p"; }

check "help exits 0 and shows usage" '"$tool" --help | grep -q "sptt-train --dump-step FILE"'
check "version" '"$tool" --version | grep -q "^sptt-train [0-9]"'
"$tool" --bogus >/dev/null 2>"$t/err"; rc=$?
check "unknown option exits 2" '[ $rc -eq 2 ] && grep -q "unknown option" "$t/err"'
"$tool" >/dev/null 2>&1; rc=$?
check "no mode exits 2" '[ $rc -eq 2 ]'

"$tool" --dump-step "$t/a.st" >"$t/out" 2>&1; rc=$?
check "dump written" '[ $rc -eq 0 ] && [ -s "$t/a.st" ]'
n=$(od -An -tu8 -N8 "$t/a.st" | tr -d ' ')
size=$(wc -c <"$t/a.st")
check "header length is a multiple of 8 and inside the file" '[ $((n % 8)) -eq 0 ] && [ $((n + 8)) -lt "$size" ]'
h=$(header "$t/a.st")
for tensor in param.wte grad.wte param.layers.0.ttt.w0 grad.layers.0.ttt.w0 grad.layers.0.ttt.conv_q \
         grad.layers.1.attn.wq grad.lm_head batch.0.tokens batch.0.targets batch.0.positions \
         batch.0.pixels batch.0.logits loss tokenizer.merges; do
    check "dump holds $tensor" 'echo "$h" | grep -q "\"$tensor\":{"'
done
# the last tensor must end exactly at the end of the file
last=$(echo "$h" | sed 's/.*"data_offsets":\[[0-9]*,\([0-9]*\)\].*/\1/')
check "data area ends at the end of the file" '[ $((8 + n + last)) -eq "$size" ]'
check "config in the metadata" '[ "$(meta "$t/a.st" format)" = "sptt-step-dump" ] && echo "$h" | grep -q "hidden"'

"$tool" --dump-step "$t/b.st" >/dev/null 2>&1
check "same seed, same bytes" 'cmp -s "$t/a.st" "$t/b.st"'
"$tool" --dump-step "$t/c.st" --seed 2 >/dev/null 2>&1
check "another seed, other bytes" '! cmp -s "$t/a.st" "$t/c.st"'

# at initialisation the weights are small, so the loss is close to ln(vocab) = ln 300 = 5.70
"$tool" --dump-step "$t/i.st" --perturb 0 >/dev/null 2>&1
loss=$(meta "$t/i.st" loss)
check "initial loss near ln(vocab) ($loss)" 'awk -v l="$loss" "BEGIN{exit !(l > 5.5 && l < 5.9)}"'

printf '{"prenorm": 0, "use_muon": 0, "vocab_size": 300, "hidden": 32, "n_layer": 2, "n_head": 2, "head_dim": 16, "n_kv_head": 1, "ffn": 64, "ttt_rope_dim": 8, "chunk": 8, "window": 8, "frame_w": 8, "frame_h": 8, "patch": 4, "rope_sections": [4, 2, 2]}' >"$t/cfg.json"
"$tool" --dump-step "$t/p.st" --config "$t/cfg.json" --batch 2 >"$t/out" 2>&1; rc=$?
check "config file and a batch of 2" '[ $rc -eq 0 ] && header "$t/p.st" | grep -q "\"batch.1.logits\":{" && [ "$(meta "$t/p.st" batch)" = 2 ]'
check "config saved in the dump" 'header "$t/p.st" | grep -q "prenorm..:0"'

printf '{"hidden": 32, "colour": 1}' >"$t/bad.json"
"$tool" --dump-step "$t/x.st" --config "$t/bad.json" >/dev/null 2>"$t/err"; rc=$?
check "unknown config field is refused by name" '[ $rc -eq 2 ] && grep -q "colour" "$t/err" && [ ! -e "$t/x.st" ]'
printf '{"hidden": 30}' >"$t/bad2.json"
"$tool" --dump-step "$t/x.st" --config "$t/bad2.json" >/dev/null 2>"$t/err"; rc=$?
check "inconsistent config is refused" '[ $rc -ne 0 ] && grep -q "n_head" "$t/err"'
"$tool" --dump-step "$t/x.st" --frames 3 >/dev/null 2>"$t/err"; rc=$?
check "odd frame count is refused" '[ $rc -eq 2 ]'
# --device cuda needs the CUDA build (make cuda, bin-cuda/); a CPU build says so and writes nothing
"$tool" --dump-step "$t/x.st" --device cuda >/dev/null 2>"$t/err"; rc=$?
check "--device cuda in a CPU build: exit 2, told to run make cuda" \
    '[ $rc -eq 2 ] && grep -q "this build has no CUDA; run make cuda" "$t/err" && [ "$(wc -l <"$t/err")" -eq 1 ] && [ ! -e "$t/x.st" ]'
"$tool" --db "$t/none.db" --out "$t/run" --device cuda >/dev/null 2>"$t/err"; rc=$?
check "--device cuda to train in a CPU build: the same" '[ $rc -eq 2 ] && grep -q "run make cuda" "$t/err" && [ ! -e "$t/run" ]'
# --tf32 and --bf16 are GPU options: without --device cuda each is a usage error, in any build
"$tool" --dump-step "$t/x.st" --tf32 >/dev/null 2>"$t/err"; rc=$?
check "--tf32 without --device cuda: exit 2, one line" \
    '[ $rc -eq 2 ] && grep -q "tf32 is for the GPU" "$t/err" && [ "$(wc -l <"$t/err")" -eq 1 ] && [ ! -e "$t/x.st" ]'
"$tool" --dump-step "$t/x.st" --bf16 >/dev/null 2>"$t/err"; rc=$?
check "--bf16 without --device cuda: exit 2, one line" \
    '[ $rc -eq 2 ] && grep -q "bf16 is for the GPU" "$t/err" && [ "$(wc -l <"$t/err")" -eq 1 ] && [ ! -e "$t/x.st" ]'
# --allreduce nccl sums on the GPUs: without --device cuda a usage error; an unknown path too
"$tool" --dump-step "$t/x.st" --allreduce nccl >/dev/null 2>"$t/err"; rc=$?
check "--allreduce nccl without --device cuda: exit 2, one line" \
    '[ $rc -eq 2 ] && grep -q "allreduce nccl is for the GPU" "$t/err" && [ "$(wc -l <"$t/err")" -eq 1 ] && [ ! -e "$t/x.st" ]'
"$tool" --dump-step "$t/x.st" --allreduce gloo >/dev/null 2>"$t/err"; rc=$?
check "--allreduce with an unknown path: exit 2" '[ $rc -eq 2 ] && grep -q "allreduce" "$t/err" && [ ! -e "$t/x.st" ]'

printf 'the chair is left of the table\nthe table is 2.5 meters from the door\n' >"$t/corpus.txt"
"$tool" --dump-step "$t/t.st" --corpus "$t/corpus.txt" --prompt "where is the chair" --answer "left" >/dev/null 2>&1; rc=$?
check "tokenizer fitted on a corpus file" '[ $rc -eq 0 ] && header "$t/t.st" | grep -q "tokenizer.merges"'

exit $fail
