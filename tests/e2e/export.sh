#!/bin/sh
# End-to-end checks of sptt-export: each file read by the reader of its target format where one
# is installed (Python's json, FFmpeg's ffprobe), and every field compared with the dataset's rows.
. "$(dirname "$0")/../e2e_common.sh"

"$bin/sptt-synth" --out "$t/raw" --scenes 1 --seed 5 --format both --frames 48 --quiet || no "synth"
"$bin/sptt-ingest" scannet "$t"/raw/scannet/scans/scene* --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" \
    --db "$t/d.db" --quiet || no "ingest scannet"
"$bin/sptt-ingest" arkitscenes "$t"/raw/arkitscenes/3dod/Training/* --db "$t/d.db" --quiet || no "ingest arkit"
"$bin/sptt-geometry" --db "$t/d.db" --quiet || no "geometry"
"$bin/sptt-annotate" --db "$t/d.db" --frames 12 --quiet || no "annotate"
scan=$(q "SELECT name FROM scenes WHERE source='scannet'")
ark=$(q "SELECT name FROM scenes WHERE source='arkitscenes'")

# --- vsibench: JSONL with the videos beside it
"$bin/sptt-export" vsibench --db "$t/d.db" -o "$t/vsi/test.jsonl" --videos --size 96x64 --quiet; rc=$?
[ $rc = 0 ] && ok "vsibench export" || no "vsibench export ($rc)"
sqlite3 -json "$t/d.db" "SELECT q.qa_id, s.source, s.name, q.question_type, q.question, q.options, q.ground_truth, q.mc_answer
   FROM qa q JOIN scenes s USING(scene_id) ORDER BY s.name, q.qa_id" > "$t/rows.json"
if command -v python3 > /dev/null; then
    python3 - "$t/vsi/test.jsonl" "$t/rows.json" > "$t/py" 2>&1 <<'EOF'
import json, sys
recs = [json.loads(line) for line in open(sys.argv[1], encoding="utf-8")]
rows = json.load(open(sys.argv[2]))
assert len(recs) == len(rows) > 0, (len(recs), len(rows))
for r, w in zip(recs, rows):
    assert list(r) == ["id", "dataset", "scene_name", "question_type", "question", "options", "ground_truth"], list(r)
    assert r["id"] == w["qa_id"] and r["dataset"] == w["source"] and r["scene_name"] == w["name"]
    assert r["question_type"] == w["question_type"] and r["question"] == w["question"]
    if w["options"] is None:
        assert r["options"] is None and r["ground_truth"] == w["ground_truth"]
        float(r["ground_truth"])
    else:
        assert r["options"] == json.loads(w["options"]) and r["ground_truth"] == w["mc_answer"]
        assert r["options"]["ABCDEFGH".index(r["ground_truth"])][3:] == w["ground_truth"]
# the reference's second sentences sit on their own line
assert all("?\nIf multiple rooms" in r["question"] for r in recs if r["question_type"] == "room_size_estimation")
assert all(len(r["options"]) == 4 for r in recs if r["question_type"] == "object_rel_distance")
print(len(recs))
EOF
    [ $? = 0 ] && ok "vsibench JSONL loads with Python's json, every field equal to its row ($(cat "$t/py") records)" \
        || no "vsibench JSONL: $(cat "$t/py")"
else
    echo "# SKIP python3 checks: no python3"
fi
for s in "scannet/$scan" "arkitscenes/$ark"; do
    f="$t/vsi/$s.mp4"
    n=$(q "SELECT n_frames FROM scenes WHERE name='$(basename "$s")'")
    got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=codec_name,width,height,nb_read_frames \
          -of csv=p=0 "$f" 2>&1)
    [ "$got" = "h264,96,64,$n" ] && ok "video $s.mp4 decodes with ffprobe: H.264, 96x64, all $n frames" \
        || no "video $s.mp4: '$got', wanted h264,96,64,$n"
done

# --- training: the JSON list the fine-tuning code reads, videos below --video-dir
"$bin/sptt-export" training --db "$t/d.db" -o "$t/train/qa.json" --video-dir "$t/train/videos" --size 64x48 --fps 6 --quiet \
    && ok "training export (qa)" || no "training export"
"$bin/sptt-export" training --db "$t/d.db" -o "$t/train/desc.json" --stage descriptions --instruction "Describe it." --quiet \
    && ok "training export (descriptions)" || no "training export descriptions"
sqlite3 -json "$t/d.db" "SELECT q.qa_id, s.source, s.name, q.prompt, coalesce(q.mc_answer, q.ground_truth) FROM qa q JOIN scenes s USING(scene_id)
   WHERE s.n_frames > 0 ORDER BY s.name, q.qa_id" > "$t/train_rows.json"
if command -v python3 > /dev/null; then
    python3 - "$t/train/qa.json" "$t/train_rows.json" "$t/train/desc.json" "$t/train/videos" > "$t/py" 2>&1 <<'EOF'
import json, os, sys
recs, rows = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert len(recs) == len(rows) > 0
for r, w in zip(recs, rows):
    assert r["id"] == w["qa_id"] and r["video"] == "%s/%s.mp4" % (w["source"], w["name"])
    h, g = r["conversations"]
    assert h == {"from": "human", "value": "<video>\n" + w["prompt"]} and g == {"from": "gpt", "value": w[list(w)[-1]]}
    assert sum(c["value"].count("<video>") for c in r["conversations"]) == 1
    assert os.path.isfile(os.path.join(sys.argv[4], r["video"]))
desc = json.load(open(sys.argv[3]))
assert len(desc) > 0 and all(d["conversations"][0]["value"] == "<video>\nDescribe it." for d in desc)
print(len(recs), len(desc))
EOF
    [ $? = 0 ] && ok "training JSON loads, records equal the rows, one <video> each, videos exist ($(cat "$t/py"))" \
        || no "training JSON: $(cat "$t/py")"
fi
got=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height,avg_frame_rate -of csv=p=0 "$t/train/videos/scannet/$scan.mp4")
[ "$got" = "64,48,6/1" ] && ok "training videos at --size and --fps" || no "training video: $got"

# --- video: defaults are the evaluation's 352x480 (height x width); PNG frames too
"$bin/sptt-export" video --db "$t/d.db" --scene "$ark" -o "$t/v.mp4" --png "$t/png" --quiet || no "video export"
n=$(q "SELECT n_frames FROM scenes WHERE name='$ark'")
got=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=width,height,nb_read_frames,pix_fmt -of csv=p=0 "$t/v.mp4")
[ "$got" = "480,352,yuv420p,$n" ] && ok "default video 480x352, $n frames" || no "default video: $got"
[ "$(ls "$t/png" | grep -c '\.png$')" = "$n" ] && ok "one PNG per frame" || no "png frames: $(ls "$t/png" | wc -l)"
"$bin/sptt-export" video --db "$t/d.db" --scene "$ark" -o "$t/v2.mp4" --quiet
cmp -s "$t/v.mp4" "$t/v2.mp4" && ok "the same video twice: identical bytes" || no "video not deterministic"

# --- ply
"$bin/sptt-export" ply --db "$t/d.db" --scene "$scan" -o "$t/s.ply" > "$t/out" || no "ply export"
np=$(q "SELECT n_points FROM scenes WHERE name='$scan'")
nf=$(q "SELECT n_faces FROM scenes WHERE name='$scan'")
head -c 600 "$t/s.ply" | grep -a -q "element vertex $np" && head -c 600 "$t/s.ply" | grep -a -q "element face $nf" \
    && head -c 600 "$t/s.ply" | grep -a -q "property ushort instance" && head -c 600 "$t/s.ply" | grep -a -q "property ushort label" \
    && ok "ply header: $np vertices, $nf faces, instance and label" || no "ply header"
size=$(wc -c < "$t/s.ply")
hdr=$(head -c 1000 "$t/s.ply" | grep -a -b -o "end_header" | cut -d: -f1)
[ "$size" = $((hdr + 11 + np * 19 + nf * 13)) ] && ok "ply size is header + 19 bytes a vertex + 13 a face" \
    || no "ply size $size (header $hdr)"

# --- errors: one line, status 2, nothing written
"$bin/sptt-export" video --db "$t/d.db" --scene "$scan" -o "$t/odd.mp4" --size 95x64 2> "$t/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "even" "$t/err" && [ ! -e "$t/odd.mp4" ] \
    && ok "odd --size: one line, status 2" || no "odd size ($rc: $(cat "$t/err"))"
"$bin/sptt-export" ply --db "$t/d.db" --scene "$scan" -o "$t/x.ply" --png "$t/p" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "does not apply to ply" "$t/err" && ok "an option of another command is refused" || no "misplaced option ($rc)"
"$bin/sptt-export" ply --db "$t/d.db" --scene nope -o "$t/x.ply" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "nope" "$t/err" && [ ! -e "$t/x.ply" ] && ok "unknown scene: status 2, named, nothing written" \
    || no "unknown scene ($rc: $(cat "$t/err"))"
sqlite3 "$t/d.db" "UPDATE qa SET mc_answer='Q' WHERE qa_id=(SELECT min(qa_id) FROM qa WHERE options IS NOT NULL)"
"$bin/sptt-export" vsibench --db "$t/d.db" -o "$t/bad.jsonl" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "mc_answer 'Q'" "$t/err" && [ -z "$(ls "$t" | grep bad.jsonl)" ] \
    && ok "a broken row: status 2, the question named, no file" || no "broken row ($rc: $(cat "$t/err"))"
"$bin/sptt-export" bogus --db "$t/d.db" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown command 'bogus'" "$t/err" && ok "unknown command" || no "unknown command ($rc)"
"$bin/sptt-export" --help | grep -q "usage: sptt-export vsibench" && ok "--help" || no "--help"
exit $fail
