#!/bin/sh
# Data-parallel weak scaling of sptt-train: the same per-rank batch on 1, 2, ... ranks, so a
# perfect run does N times the work in the same time. For each rank count: tokens/s, the
# efficiency against N times one rank's rate, and where a rank's time went (computing, waiting
# for the gradient sums, which includes waiting for the slowest rank, the optimiser, data).
#
#   tests/bench/train_scaling.sh [NRANKS ...]        (default: 1 2)
#
# Environment: SPTT_BIN (the tools, default bin), SCALING_DB (an existing dataset with QA;
# default: a small synthetic one built here), SCALING_STEPS (optimiser steps, default 6),
# SCALING_FRAMES (frames per example, default 16), SCALING_THREADS (threads per rank, default 1),
# SCALING_STAGE (qa, default: questions of varying length; descriptions: every example cut to the
# same 256-token answer, so no rank waits for a longer example), SCALING_ALONE=1 (instead of one
# data-parallel job, N independent one-rank runs side by side: what the machine itself allows),
# MPIRUN (default mpirun). One line per rank count, starting "scaling".
set -eu
bin=${SPTT_BIN:-bin}
steps=${SCALING_STEPS:-6}
frames=${SCALING_FRAMES:-16}
threads=${SCALING_THREADS:-1}
stage=${SCALING_STAGE:-qa}
alone=${SCALING_ALONE:-0}
mpirun=${MPIRUN:-mpirun}
ranks=${*:-1 2}
work=$(mktemp -d "${TMPDIR:-/tmp}/sptt-scaling.XXXXXX")
trap 'rm -rf "$work"' EXIT

db=${SCALING_DB:-}
if [ -z "$db" ]; then
    # Two ScanNet scenes and two ARKitScenes videos: a few hundred questions.
    "$bin/sptt-synth" --out "$work/raw" --scenes 2 --seed 0 --format both --frames 96 -q
    "$bin/sptt-ingest" scannet "$work"/raw/scannet/scans/scene* --labels "$work/raw/scannet/scannetv2-labels.combined.tsv" \
        --db "$work/dataset.db" -q
    "$bin/sptt-ingest" arkitscenes "$work"/raw/arkitscenes/3dod/Training/* --db "$work/dataset.db" -q
    "$bin/sptt-geometry" --db "$work/dataset.db" -q
    "$bin/sptt-annotate" --db "$work/dataset.db" -q
    db=$work/dataset.db
fi

# The small model (every field at its default): hidden 256, 8 layers, 64x64 frames.
echo '{}' > "$work/small.json"
# mpirun binds each rank to its own core while there are enough cores; beyond that it would
# refuse, so larger counts (an oversubscribed machine) run unbound.
cores=$(nproc)
base=""
printf '%-8s %6s %8s %10s %10s %10s %10s %10s %10s\n' "scaling" ranks threads "tokens/s" efficiency "compute s" "skew" "comm" "data wait"
for n in $ranks; do
    bind="--bind-to core"
    [ $((n * threads)) -le "$cores" ] || bind="--bind-to none --oversubscribe"
    [ "$threads" -gt 1 ] && bind="--bind-to none"
    out=$work/run$n
    set -- --db "$db" --config "$work/small.json" --stage "$stage" --steps "$steps" --batch 1 --frames "$frames" \
        --threads "$threads" --val-fraction 0 --check-every 0 -q
    if [ "$alone" = 1 ]; then
        # N one-rank runs at once, each on its own core; the rate is their sum.
        i=0
        while [ $i -lt "$n" ]; do
            OMP_NUM_THREADS=$threads taskset -c $((i % cores)) "$bin/sptt-train" "$@" --out "$out.$i" >"$work/log$n.$i" 2>&1 &
            i=$((i + 1))
        done
        wait
        mkdir -p "$out"
        cat "$out".*/metrics.jsonl | grep '"summary"' | awk '{ print } END {}' > "$work/all$n"
        # one summary: rates summed, times averaged
        awk -F'"summary":' '{ print $2 }' "$work/all$n" | tr -d '{}' | awk -F, -v n="$n" '{
            for (i = 1; i <= NF; i++) { split($i, kv, ":"); gsub(/"/, "", kv[1]); v[kv[1]] += kv[2] } }
            END { printf "{\"summary\":{\"tokens_per_s\":%f,\"seconds\":%f,\"compute_s\":%f,\"compute_s_slowest\":%f,\"comm_wait_s\":0,\"comm_exposed_s\":0,\"data_wait_s\":%f}}\n",
                  v["tokens_per_s"], v["seconds"] / n, v["compute_s"] / n, v["compute_s_slowest"] / n, v["data_wait_s"] / n }' > "$out/metrics.jsonl"
    # shellcheck disable=SC2086
    elif ! OMP_NUM_THREADS=$threads "$mpirun" --allow-run-as-root $bind -np "$n" "$bin/sptt-train" "$@" --out "$out" \
        >"$work/log$n" 2>&1; then
        echo "train_scaling: $n ranks failed:" >&2
        tail -n 20 "$work/log$n" >&2
        exit 1
    fi
    line=$(grep '"summary"' "$out/metrics.jsonl" | tail -n 1)
    get() { echo "$line" | sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p"; }
    tps=$(get tokens_per_s); sec=$(get seconds)
    [ -n "$base" ] || base=$tps
    # skew: waiting for the slowest rank of each step; comm: communication compute did not hide
    awk -v n="$n" -v t="$threads" -v tps="$tps" -v base="$base" -v sec="$sec" -v c="$(get compute_s)" \
        -v cs="$(get compute_s_slowest)" -v x="$(get comm_exposed_s)" -v d="$(get data_wait_s)" 'BEGIN {
        printf "%-8s %6d %8d %10.0f %9.1f%% %10.2f %9.1f%% %9.1f%% %9.1f%%\n", "scaling", n, t, tps,
               100 * tps / (n * base), c, 100 * (cs - c) / sec, 100 * x / sec, 100 * d / sec }'
done
