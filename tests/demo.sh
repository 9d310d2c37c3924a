#!/bin/sh
# `make demo`: the main job on the synthetic default. Each stage adds its step here as it lands.
set -eu
bin=$1
out=demo
mkdir -p "$out"
echo "== 1. synthesise 3 ScanNet scenes and 3 ARKitScenes videos in their real on-disk formats"
"$bin/sptt-synth" --out "$out/raw" --scenes 3 --seed 0 --format both --frames 240
echo
echo "== 2. sptt-build: every scene under $out/raw ingested (packs in $out/packs/), its room and object"
echo "   geometry (a top-down picture per scene in $out/geometry/), its annotations: visibility, scene"
echo "   graph, spatial QA, walkthrough descriptions (masks in $out/masks/), into $out/dataset.db"
"$bin/sptt-build" --db "$out/dataset.db" --png "$out/geometry" --masks "$out/masks" "$out/raw"
echo
echo "== 3. any other mesh goes through Assimp and the single tools: a small OBJ room with named objects"
mkdir -p "$out/raw/mesh"
awk 'function box(name, x0, y0, z0, x1, y1, z1,   i) {
         printf "o %s\n", name
         printf "v %g %g %g\nv %g %g %g\nv %g %g %g\nv %g %g %g\n", x0,y0,z0, x1,y0,z0, x1,y1,z0, x0,y1,z0
         printf "v %g %g %g\nv %g %g %g\nv %g %g %g\nv %g %g %g\n", x0,y0,z1, x1,y0,z1, x1,y1,z1, x0,y1,z1
         b = n; n += 8
         printf "f %d %d %d %d\nf %d %d %d %d\n", b+1,b+4,b+3,b+2, b+5,b+6,b+7,b+8
         printf "f %d %d %d %d\nf %d %d %d %d\n", b+1,b+2,b+6,b+5, b+2,b+3,b+7,b+6
         printf "f %d %d %d %d\nf %d %d %d %d\n", b+3,b+4,b+8,b+7, b+4,b+1,b+5,b+8 }
     BEGIN { n = 0
         box("Floor_main", -2, -1.5, -0.02, 2, 1.5, 0)
         box("Table_oak", -0.6, -0.4, 0, 0.6, 0.4, 0.75)
         box("Chair_01", 0.8, -0.25, 0, 1.25, 0.2, 0.9)
         box("Chair_02", -1.25, -0.2, 0, -0.8, 0.25, 0.9) }' > "$out/raw/mesh/dining.obj"
printf 'floor\tfloor\t2\ntable\ttable\t7\nchair\tchair\t5\n' > "$out/raw/mesh/names.tsv"
"$bin/sptt-ingest" mesh "$out/raw/mesh/dining.obj" --labels "$out/raw/mesh/names.tsv" --db "$out/dataset.db" \
    --sample 40000
"$bin/sptt-geometry" --db "$out/dataset.db" --scene dining --png "$out/geometry"
"$bin/sptt-annotate" --db "$out/dataset.db" --scene dining --masks "$out/masks"
echo
echo "== a sample of each question type"
sqlite3 -separator ' | ' "$out/dataset.db" \
  "SELECT question_type, question, coalesce(options, ''), ground_truth FROM qa
   WHERE qa_id IN (SELECT min(qa_id) FROM qa GROUP BY question_type) ORDER BY question_type" | fold -s -w 120
echo
echo "== one walkthrough description ($(sqlite3 "$out/dataset.db" "SELECT name FROM scenes ORDER BY name LIMIT 1"))"
sqlite3 "$out/dataset.db" "SELECT text FROM descriptions d JOIN scenes s USING(scene_id) ORDER BY s.name, variant LIMIT 1" | fold -s -w 120
echo
echo "== exports: VSI-Bench JSONL, fine-tuning JSON, a video (FFmpeg) and a point cloud"
"$bin/sptt-export" vsibench --db "$out/dataset.db" -o "$out/export/vsibench.jsonl"
"$bin/sptt-export" training --db "$out/dataset.db" -o "$out/export/train_qa.json"
"$bin/sptt-export" video --db "$out/dataset.db" --scene scene0700_00 -o "$out/export/scannet/scene0700_00.mp4"
"$bin/sptt-export" ply --db "$out/dataset.db" --scene scene0700_00 -o "$out/export/scene0700_00.ply"
echo
echo "== 4. training a tiny model in two stages: descriptions, then spatial QA (under a minute)"
cat > "$out/tiny.json" <<'EOF'
{"vocab_size": 512, "hidden": 64, "n_layer": 4, "n_head": 4, "n_kv_head": 2, "head_dim": 16, "ffn": 128, "ttt_heads": 4,
 "ttt_rope_dim": 8, "chunk": 64, "window": 64, "anchor_every": 2, "frame_w": 32, "frame_h": 32, "patch": 8,
 "rope_sections": [4, 2, 2]}
EOF
"$bin/sptt-train" --db "$out/dataset.db" --out "$out/train" --config "$out/tiny.json" --stage both --steps 60 --batch 4 \
    --frames 4 --lr 3e-3 --fast-lr 3e-3 --val-every 20 --log-every 20 --val-fraction 0.4
echo
echo "== long-horizon streams: scenes of one split walked one after another, asked at each room's end"
walks() { sqlite3 "$out/dataset.db" "SELECT count(*) FROM scenes WHERE split='$1' AND n_frames > 0 AND annotated_at IS NOT NULL"; }
if [ "$(walks val)" -ge 2 ] && [ "$(walks train)" -ge 2 ]; then
    "$bin/sptt-annotate" --db "$out/dataset.db" --streams 1 --rooms 2 --split val
    "$bin/sptt-annotate" --db "$out/dataset.db" --streams 2 --rooms 2 --split train
    sqlite3 "$out/dataset.db" "SELECT t.name || ' @ frame ' || q.query_frame || ': ' || q.question || '  -> ' || q.answer_text
        FROM stream_qa q JOIN streams t USING(stream_id) WHERE t.name LIKE 'val-%' ORDER BY q.stream_qa_id LIMIT 3" | fold -s -w 120
    "$bin/sptt-export" streams --db "$out/dataset.db" -o "$out/export/streams.jsonl"
fi
echo
last=$(ls "$out/train/stage2/"ckpt-*.safetensors | tail -n 1)
echo "ScanNet layout:      $out/raw/scannet/scans/<scene>/ (+ scannetv2-labels.combined.tsv)"
echo "ARKitScenes layout:  $out/raw/arkitscenes/3dod/Training/<video>/"
echo "Ground truth:        ground_truth.json beside each scene"
echo "Dataset:             $out/dataset.db  (sqlite3 $out/dataset.db 'SELECT name, n_points, n_frames FROM scenes')"
echo "Trained model:       $out/train/stage1/, $out/train/stage2/ (checkpoints), $out/train/metrics.jsonl"
echo "Loss curve:          $out/train/loss.png"
echo "Evaluation:          $out/eval.json (every prediction and its score, streamed questions with their frame)"
echo "Exports:             $out/export/ (sptt-export --help)"
echo
db=$out/dataset.db
scene=$(sqlite3 "$db" "SELECT name FROM scenes WHERE split='val' AND n_frames >= 4 AND annotated_at IS NOT NULL
    AND EXISTS(SELECT 1 FROM qa WHERE qa.scene_id = scenes.scene_id) ORDER BY name LIMIT 1")
if [ -n "$scene" ]; then
    n=$(sqlite3 "$db" "SELECT n_frames FROM scenes WHERE name='$scene'")
    # two questions of different types (counting and room size first), asked half way and at the end
    set -- $(sqlite3 "$db" "SELECT qa_id FROM qa q JOIN scenes s USING(scene_id) WHERE s.name='$scene' AND qa_id IN
        (SELECT min(qa_id) FROM qa x WHERE x.scene_id = s.scene_id GROUP BY question_type)
        ORDER BY question_type IN ('object_counting', 'room_size_estimation') DESC, qa_id LIMIT 2")
    [ $# = 2 ] || set -- "$1" "$1"
    echo "== 5. sptt-stream: validation scene $scene ($n frames) fed to the trained model one frame at a time;"
    echo "   two of its questions asked on the way, after frame $((n / 2)) and after frame $n"
    for id in "$@"; do
        sqlite3 "$db" "SELECT '   ' || question_type || ', stored answer ' || coalesce(mc_answer, ground_truth) FROM qa WHERE qa_id=$id"
    done
    "$bin/sptt-stream" --ckpt "$last" --scene "$scene" --db "$db" \
        --ask "$(sqlite3 "$db" "SELECT prompt FROM qa WHERE qa_id=$1")" --at $((n / 2)) \
        --ask "$(sqlite3 "$db" "SELECT prompt FROM qa WHERE qa_id=$2")" --at "$n"
    echo
fi
echo "== 6. the validation split's questions answered by the trained model, scored as VSI-Bench; the"
echo "   long-horizon streams' questions streamed, each asked when the walk reaches its frame"
"$bin/sptt-eval" --ckpt "$last" --db "$db" -o "$out/eval.json"
