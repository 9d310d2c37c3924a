#!/bin/sh
# Stages what tests/cuda/device_check.sh needs on a GPU machine into one folder (default
# build-cuda/devkit; run from the repository root after `make` and `make cuda`):
#   the CUDA binaries (stripped; packed in bins.tar.xz), devlibs.tar.xz (the shared libraries they
#   load that a bare machine with the driver, CUDA and Open MPI may lack: ldd's list minus libc,
#   libm, libstdc++, libgcc_s, Open MPI's, libcuda and cuBLAS; packed, as OpenBLAS and oneDNN alone
#   pass 64 MiB), python/sptt_twin, a 3-scene synthetic dataset (d.db + packs/, two one-room
#   streams), a Muon-off tiny config and a Muon-off larger one (mid.json).
# Then on the GPU machine:  sh DIR/device_check.sh  (OUT=dir for its outputs).
set -eu
out=${1:-build-cuda/devkit}
bins="build-cuda/tests/test_cuda_model build-cuda/tests/test_cuda_stream build-cuda/bench/bench_cuda_model
      build-cuda/bench/bench_stream bin-cuda/sptt-train bin-cuda/sptt-eval bin-cuda/sptt-stream"
for b in $bins bin/sptt-synth; do [ -x "$b" ] || { echo "devkit: $b missing: run make and make cuda" >&2; exit 2; }; done
rm -rf "$out"
mkdir -p "$out/lib" "$out/python"
for b in $bins; do cp "$b" "$out/"; strip "$out/$(basename "$b")"; done
cp tests/cuda/device_check.sh tests/kill_resume.sh "$out/"
for b in $bins; do ldd "$b"; done | awk '/=>/ {print $3}' | sort -u |
    grep -v -E '/lib(c|m|dl|rt|pthread|gcc_s|stdc\+\+|mpi|open-pal|open-rte|hwloc|event[a-z_]*|cuda|cublas|cublasLt)[.-]|ld-linux' |
    while read -r f; do cp -L "$f" "$out/lib/"; done
tar -cJf "$out/devlibs.tar.xz" -C "$out/lib" .
rm -rf "$out/lib"
# the binaries packed too (each carries the CUDA runtime; seven of them pass a 64 MiB carry)
names=$(for b in $bins; do basename "$b"; done)
tar -cJf "$out/bins.tar.xz" -C "$out" $names
(cd "$out" && rm -f $names)
cp -r python/sptt_twin "$out/python/"
rm -rf "$out/python/sptt_twin/__pycache__"
t="$out/tmp"
bin/sptt-synth --out "$t/raw" --scenes 3 --seed 5 -q
bin/sptt-ingest scannet "$t/raw/scannet/scans"/* --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" --db "$out/d.db" -q
bin/sptt-geometry --db "$out/d.db" -q
bin/sptt-annotate --db "$out/d.db" --frames 8 -q
# long-horizon streams of one room each, so that sptt-eval streams some questions
bin/sptt-annotate --db "$out/d.db" --streams 2 --rooms 1 -q
rm -rf "$t"
cat > "$out/nomuon.json" <<'JSON'
{"vocab_size": 300, "hidden": 32, "n_layer": 4, "n_head": 4, "n_kv_head": 2, "head_dim": 8, "ffn": 48, "ttt_heads": 4,
 "ttt_rope_dim": 4, "chunk": 8, "window": 10, "anchor_every": 2, "frame_w": 8, "frame_h": 8, "patch": 4,
 "rope_sections": [2, 1, 1], "use_muon": 0}
JSON
# a larger model for the gradient sums' speed (about 52 M parameters on the same small frames)
cat > "$out/mid.json" <<'JSON'
{"vocab_size": 300, "hidden": 1024, "n_layer": 4, "n_head": 8, "n_kv_head": 4, "head_dim": 128, "ffn": 3072, "ttt_heads": 8,
 "ttt_rope_dim": 64, "chunk": 8, "window": 10, "anchor_every": 2, "frame_w": 8, "frame_h": 8, "patch": 4,
 "rope_sections": [24, 20, 20], "use_muon": 0}
JSON
echo "devkit: $out, $(du -sh "$out" | cut -f1); carry it and run: sh $out/device_check.sh"
