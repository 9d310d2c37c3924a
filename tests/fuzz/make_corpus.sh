#!/bin/sh
# Seeds the corpora of make fuzz: $1/corpus/<harness>/ from the synthetic generator's output (the
# tools in $2), and from the real fixtures when ../shared/fixtures exists. Nothing here is kept in
# the repository: fixture files are research data of their owners, copied only into the build
# folder. Large inputs are cut down by corpus_tool so that each fuzzer iteration stays fast.
# Runs once per build folder (a stamp file); the fuzzers add what they find to the same folders.
# Remove $1/corpus to seed again.
set -eu
out=$1
tools=$2
fix=${SPTT_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/../shared/fixtures}
c="$out/corpus"
ct="$out/corpus_tool"
[ -f "$c/.seeded" ] && exit 0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for h in ply segs aggregation scene_txt labels sens traj pincam arkit_annotation label_map pack safetensors; do
    mkdir -p "$c/$h"
done

# Synthetic scenes in both layouts, few frames.
"$tools/sptt-synth" --out "$tmp/s" --scenes 2 --seed 11 --format both --frames 8 --quiet
for d in "$tmp"/s/scannet/scans/*; do
    n=$(basename "$d")
    "$ct" ply "$d/${n}_vh_clean_2.ply" "$c/ply/synth_$n" 60
    "$ct" segs "$d/${n}_vh_clean_2.0.010000.segs.json" "$c/segs/synth_$n.json" 200
    "$ct" sens "$d/$n.sens" "$c/sens/synth_$n.sens" 3 64
    cp "$d/$n.aggregation.json" "$c/aggregation/synth_$n.json"
    cp "$d/$n.txt" "$c/scene_txt/synth_$n.txt"
done
cp "$tmp/s/scannet/scannetv2-labels.combined.tsv" "$c/labels/synth.tsv"
for d in "$tmp"/s/arkitscenes/3dod/Training/*; do
    n=$(basename "$d")
    "$ct" ply "$d/${n}_3dod_mesh.ply" "$c/ply/synth_arkit_$n" 60
    cp "$d/${n}_3dod_annotation.json" "$c/arkit_annotation/synth_$n.json"
    cp "$d/${n}_frames/lowres_wide.traj" "$c/traj/synth_$n.traj"
    head -n 3 "$d/${n}_frames/lowres_wide.traj" > "$c/traj/synth_${n}_head.traj"
    for p in $(ls "$d/${n}_frames/lowres_wide_intrinsics" | head -n 2); do
        cp "$d/${n}_frames/lowres_wide_intrinsics/$p" "$c/pincam/synth_$p"
    done
done

# The mesh name table has no generator: a few lines in its documented forms.
printf 'chair\tchair\ntable_01\ttable\t7\n' > "$c/label_map/plain.tsv"
printf '# name\traw\tnyu40\r\nSofa\tsofa\t6\r\n\r\nlamp\tlamp\r\nwall\twall\t1\r\n' > "$c/label_map/crlf.tsv"

# Packs: one ScanNet scene with a few small frames and surface samples, the ARKitScenes videos
# with poses only; then cut to a few dozen points, each also with uncompressed sections (.raw).
"$tools/sptt-ingest" scannet "$tmp/s/scannet/scans/scene0700_00" --labels "$tmp/s/scannet/scannetv2-labels.combined.tsv" \
    --db "$tmp/d.db" --fps 4 --frame-size 32x24 --sample 40 --quiet
"$tools/sptt-ingest" arkitscenes "$tmp"/s/arkitscenes/3dod/Training/* --db "$tmp/d.db" --no-images --quiet
i=0
for p in "$tmp"/packs/*; do
    i=$((i + 1))
    "$ct" pack "$p" "$c/pack/synth_$i.pack" 48
done

# A step dump cut to its metadata and small tensors.
"$tools/sptt-train" --dump-step "$tmp/step.safetensors" > /dev/null
"$ct" st "$tmp/step.safetensors" "$c/safetensors/step_small.safetensors" 64
"$ct" st "$tmp/step.safetensors" "$c/safetensors/step_mid.safetensors" 1024

# Real files, when the fixtures are there.
if [ -d "$fix/scannet/scene0000_00" ]; then
    r="$fix/scannet/scene0000_00"
    "$ct" ply "$r/scene0000_00_vh_clean_2.ply" "$c/ply/real" 60
    "$ct" ply "$r/scene0000_00_vh_clean_2.labels.ply" "$c/ply/real_labels" 60
    "$ct" segs "$r/scene0000_00_vh_clean_2.0.010000.segs.json" "$c/segs/real.json" 300
    cp "$r/scene0000_00.aggregation.json" "$c/aggregation/real.json"
    cp "$r/scene0000_00.txt" "$c/scene_txt/real.txt"
    cp "$fix/scannet/scene0000_00.axis_alignment.txt" "$c/scene_txt/real_alignment.txt"
    head -n 40 "$fix/scannet/scannetv2-labels.combined.tsv" > "$c/labels/real_head.tsv"
    echo "fuzz corpus: seeded from the synthetic scenes and the real fixtures"
else
    echo "fuzz corpus: seeded from the synthetic scenes (no fixtures at $fix)"
fi
chmod -R u+w "$c"
touch "$c/.seeded"
