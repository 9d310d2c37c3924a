#!/bin/sh
# `make demo`: the main job on the synthetic default. Each stage adds its step here as it lands.
set -eu
bin=$1
out=demo
mkdir -p "$out"
echo "== 1. synthesise 3 ScanNet scenes and 3 ARKitScenes videos in their real on-disk formats"
"$bin/sptt-synth" --out "$out/raw" --scenes 3 --seed 0 --format both --frames 240
echo
echo "== 2. ingest them into $out/dataset.db (packs in $out/packs/)"
"$bin/sptt-ingest" scannet "$out"/raw/scannet/scans/scene* --labels "$out/raw/scannet/scannetv2-labels.combined.tsv" \
    --db "$out/dataset.db"
if [ -x "$bin/sptt-ingest" ] && "$bin/sptt-ingest" --help | grep -q "arkitscenes VIDEO_DIR"; then
    "$bin/sptt-ingest" arkitscenes "$out"/raw/arkitscenes/3dod/Training/* --db "$out/dataset.db" || true
fi
echo
echo "== 3. room and object geometry, a top-down picture per scene in $out/geometry/"
"$bin/sptt-geometry" --db "$out/dataset.db" --png "$out/geometry"
echo
echo "== 4. annotations: visibility, scene graph, spatial QA, walkthrough descriptions"
"$bin/sptt-annotate" --db "$out/dataset.db" --masks "$out/masks"
echo
echo "== a sample of each question type"
sqlite3 -separator ' | ' "$out/dataset.db" \
  "SELECT question_type, question, coalesce(options, ''), ground_truth FROM qa
   WHERE qa_id IN (SELECT min(qa_id) FROM qa GROUP BY question_type) ORDER BY question_type" | fold -s -w 120
echo
echo "== one walkthrough description ($(sqlite3 "$out/dataset.db" "SELECT name FROM scenes ORDER BY name LIMIT 1"))"
sqlite3 "$out/dataset.db" "SELECT text FROM descriptions d JOIN scenes s USING(scene_id) ORDER BY s.name, variant LIMIT 1" | fold -s -w 120
echo
echo "ScanNet layout:      $out/raw/scannet/scans/<scene>/ (+ scannetv2-labels.combined.tsv)"
echo "ARKitScenes layout:  $out/raw/arkitscenes/3dod/Training/<video>/"
echo "Ground truth:        ground_truth.json beside each scene"
echo "Dataset:             $out/dataset.db  (sqlite3 $out/dataset.db 'SELECT name, n_points, n_frames FROM scenes')"
