#!/bin/sh
# End-to-end checks of long-horizon streams: five synthetic scenes built by sptt-build with
# --streams, every stream row checked with sqlite3 and every answer recomputed by Python from the
# visibility rows (instances seen with min-pixels, first glimpses), a re-run that leaves them
# unchanged, usage errors, a version 3 dataset upgraded, a merge carrying them, the JSONL export
# read back, and sptt-eval's long-horizon section on a tiny checkpoint recomputed from its
# predictions. Prints ok / not ok. (sptt-build and sptt-train are Open MPI programs, whose
# start-up allocations LeakSanitizer would report: leaks are checked for the other tools.)
. "$(dirname "$0")/../e2e_common.sh"
export SPTT_PROGRESS=0
py=${SPTT_PYTHON:-/usr/bin/python3}
mpi_env() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "$@"; }

"$bin/sptt-synth" --out "$t/raw" --scenes 5 --seed 21 -q || { no "synth"; exit 1; }
mpi_env "$bin/sptt-build" --db "$t/d.db" --frames 16 --streams 3 --rooms 3 --seed 4 "$t/raw" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && grep -q "3 streams of 3 rooms: 3 made" "$t/out" && [ "$(q "SELECT count(*) FROM streams")" = 3 ] \
    && ok "sptt-build --streams 3 --rooms 3 after its scenes" || no "sptt-build --streams ($rc: $(cat "$t/err"))"

# --- the rows: walks of three distinct scenes laid end to end, questions at the rooms' last frames
[ "$(q "SELECT count(*) FROM streams t WHERE n_rooms = 3 AND seed = 4 AND n_frames = (SELECT sum(n_frames) FROM stream_scenes x
        WHERE x.stream_id = t.stream_id) AND (SELECT count(DISTINCT scene_name) FROM stream_scenes x WHERE x.stream_id = t.stream_id) = 3")" = 3 ] \
    && [ "$(q "SELECT count(*) FROM stream_scenes x JOIN scenes s ON s.name = x.scene_name WHERE x.n_frames = s.n_frames
        AND x.annotated_geometry = s.annotated_geometry AND x.annotate_params IS s.annotate_params
        AND x.frame_offset = (SELECT coalesce(sum(y.n_frames), 0) FROM stream_scenes y WHERE y.stream_id = x.stream_id AND y.position < x.position)")" = 9 ] \
    && [ "$(q "SELECT count(*) FROM stream_qa q WHERE NOT EXISTS(SELECT 1 FROM stream_scenes x WHERE x.stream_id = q.stream_id
        AND x.frame_offset + x.n_frames - 1 = q.query_frame)")" = 0 ] \
    && [ "$(q "SELECT count(DISTINCT question_type) FROM stream_qa")" = 3 ] \
    && ok "stream rows: $(q "SELECT count(*) FROM stream_qa") questions, rooms back to back, asked at each room's end" \
    || no "stream rows"

if "$py" -c 'import sqlite3' 2>/dev/null; then
"$py" - "$t/d.db" > "$t/py" 2>&1 <<'EOF' && ok "every answer recomputed from the visibility rows ($(cat "$t/py"))" || no "answers differ from the rows: $(cat "$t/py")"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = {}
for sid, in db.execute("SELECT stream_id FROM streams"):
    rooms = db.execute("SELECT x.position, x.frame_offset, x.n_frames, s.scene_id, s.annotate_params, s.fps FROM stream_scenes x "
                       "JOIN scenes s ON s.name = x.scene_name WHERE x.stream_id = ? ORDER BY x.position", (sid,)).fetchall()
    inst = []   # (room, category, first seen, first glimpse), global frames
    times = []
    t0 = 0.0
    for pos, off, nf, scene, params, fps in rooms:
        minpx = json.loads(params)["min_pixels"]
        ts = [r[0] for r in db.execute("SELECT timestamp FROM frames WHERE scene_id = ? ORDER BY frame_index", (scene,))]
        assert len(ts) == nf
        times += [t0 + x for x in ts]
        t0 += ts[-1] + 1.0 / fps
        for iid, cat in db.execute("SELECT instance_id, category FROM objects WHERE scene_id = ? AND category IS NOT NULL", (scene,)):
            fr = [(f, p) for f, p in db.execute("SELECT frame_index, pixels FROM visibility WHERE scene_id = ? AND instance_id = ?", (scene, iid))]
            seen = min([f for f, p in fr if p >= minpx], default=None)
            glimpse = min([f for f, p in fr], default=None)
            inst.append((pos, cat, None if seen is None else off + seen, None if glimpse is None else off + glimpse))
    def room_of(g):
        return max(p for p, off, *_ in rooms if off <= g)
    for typ, qf, gt, ans, opts, objs in db.execute("SELECT question_type, query_frame, ground_truth, answer_text, options, objects "
                                                   "FROM stream_qa WHERE stream_id = ?", (sid,)):
        n[typ] = n.get(typ, 0) + 1
        if opts:
            o = json.loads(opts)
            assert o[ord(gt) - 65] == gt + ". " + ans, (o, gt, ans)
        def onset(cat):
            seen = [s for r, c, s, g in inst if c == cat and s is not None and s <= qf]
            gl = [g for r, c, s, g in inst if c == cat and g is not None and g <= qf]
            return (min(seen) if seen else None), (min(gl) if gl else None)
        if typ == "stream_object_counting":
            cat = json.loads(objs)["category"]
            count = sum(1 for r, c, s, g in inst if c == cat and s is not None and s <= qf)
            doubt = any(c == cat and g is not None and g <= qf and (s is None or s > qf) for r, c, s, g in inst)
            assert int(gt) == count and count >= 2 and not doubt, (cat, gt, count, doubt)
        elif typ == "stream_appearance_order":
            cats = json.loads(objs)["categories"]
            order = sorted(cats, key=lambda c: onset(c)[0])
            assert ans == ", ".join(order), (ans, order)
            for a, b in zip(order, order[1:]):
                assert times[onset(a)[0]] + 1 < times[onset(b)[1]], (a, b)
            assert len({room_of(onset(c)[0]) for c in cats}) >= 2
        else:
            cat = json.loads(objs)["category"]
            f, g = onset(cat)
            assert ans == "room %d" % (room_of(f) + 1) and room_of(g) == room_of(f), (cat, ans, f, g)
print(", ".join("%d %s" % (v, k) for k, v in sorted(n.items())))
EOF
else
    echo "SKIP - answers against the visibility rows: no Python"
fi

# --- the same command again: nothing made, rows unchanged; bad input refused before writing
q "SELECT * FROM stream_qa ORDER BY stream_qa_id" > "$t/qa1"
"$bin/sptt-annotate" --db "$t/d.db" --streams 3 --rooms 3 --seed 4 > "$t/out" 2>&1; rc=$?
q "SELECT * FROM stream_qa ORDER BY stream_qa_id" > "$t/qa2"
[ $rc = 0 ] && grep -q "0 made, 3 unchanged" "$t/out" && cmp -s "$t/qa1" "$t/qa2" \
    && ok "sptt-annotate --streams again: unchanged, row for row" || no "re-run ($rc: $(cat "$t/out"))"
"$bin/sptt-annotate" --db "$t/d.db" --streams 1 --rooms 6 > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "6 rooms need 6" "$t/err" && [ "$(q "SELECT count(*) FROM streams")" = 3 ] \
    && ok "more rooms than scenes: one line, status 2, nothing written" || no "too many rooms ($rc: $(cat "$t/err"))"
"$bin/sptt-annotate" --db "$t/d.db" --rooms 2 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "give --streams N too" "$t/err" && ok "--rooms without --streams: a usage error" || no "--rooms alone ($rc)"

# --- a scene annotated with other options: its streams are stale, remade by the next run
"$bin/sptt-annotate" --db "$t/d.db" --scene "$(q "SELECT scene_name FROM stream_scenes LIMIT 1")" --frames 12 -q
"$bin/sptt-export" streams --db "$t/d.db" -o "$t/stale.jsonl" -q
stale=$(q "SELECT count(DISTINCT stream_id) FROM stream_scenes x JOIN scenes s ON s.name = x.scene_name WHERE x.annotate_params IS NOT s.annotate_params")
"$bin/sptt-annotate" --db "$t/d.db" --streams 3 --rooms 3 --seed 4 > "$t/out" 2>&1; rc=$?
[ "$stale" -ge 1 ] && [ "$(grep -c . < "$t/stale.jsonl")" -lt "$(grep -c . < "$t/qa1")" ] && [ $rc = 0 ] \
    && grep -q "$stale made, $((3 - stale)) unchanged" "$t/out" \
    && ok "a scene annotated again: its $stale stream(s) left out by readers, then remade" || no "stale streams ($rc: $(cat "$t/out"))"

# --- a version 3 dataset: refused read-only, upgraded by a writing tool
cp "$t/d.db" "$t/v3.db"
sqlite3 "$t/v3.db" "DROP TABLE stream_qa; DROP TABLE stream_scenes; DROP TABLE streams; PRAGMA user_version=3;"
"$bin/sptt-export" streams --db "$t/v3.db" -o "$t/x.jsonl" 2> "$t/err"; rc=$?
"$bin/sptt-annotate" --db "$t/v3.db" --streams 1 --rooms 2 -q; rc2=$?
[ $rc = 2 ] && grep -q "must be upgraded to 4" "$t/err" && [ $rc2 = 0 ] && [ "$(sqlite3 "$t/v3.db" "PRAGMA user_version")" = 4 ] \
    && [ "$(sqlite3 "$t/v3.db" "SELECT count(*) FROM streams")" = 1 ] \
    && ok "a version 3 dataset: refused read-only, upgraded to 4 by sptt-annotate --streams" || no "v3 upgrade ($rc $rc2: $(cat "$t/err"))"

# --- merged into another dataset: the streams come along and stay current
mpi_env "$bin/sptt-build" --merge "$t/m.db" "$t/d.db" -q; rc=$?
"$bin/sptt-export" streams --db "$t/d.db" -o "$t/d.jsonl" -q && "$bin/sptt-export" streams --db "$t/m.db" -o "$t/m.jsonl" -q
sed 's/^{"id":[0-9]*,//' "$t/d.jsonl" > "$t/d.norm"; sed 's/^{"id":[0-9]*,//' "$t/m.jsonl" > "$t/m.norm"
[ $rc = 0 ] && [ -s "$t/d.norm" ] && cmp -s "$t/d.norm" "$t/m.norm" && ok "sptt-build --merge carries the streams, current" \
    || no "merge ($rc)"

# --- the JSONL export against the rows
if "$py" -c 'import json' 2>/dev/null; then
"$py" - "$t/d.jsonl" "$t/d.db" <<'EOF' && ok "sptt-export streams: every record equals its rows" || no "streams export"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[2])
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(recs) == db.execute("SELECT count(*) FROM stream_qa").fetchone()[0]
for r in recs:
    typ, qf, question, options, gt, name, nf = db.execute(
        "SELECT q.question_type, q.query_frame, q.question, q.options, q.ground_truth, t.name, t.n_frames FROM stream_qa q "
        "JOIN streams t USING(stream_id) WHERE q.stream_qa_id = ?", (r["id"],)).fetchone()
    assert (r["question_type"], r["query_frame"], r["question"], r["ground_truth"], r["stream"], r["n_frames"]) == (typ, qf, question, gt, name, nf)
    assert r["options"] == (json.loads(options) if options else None)
    sc = db.execute("SELECT x.scene_name, s.source, x.frame_offset, x.n_frames FROM stream_scenes x JOIN streams t USING(stream_id) "
                    "JOIN scenes s ON s.name = x.scene_name WHERE t.name = ? ORDER BY x.position", (name,)).fetchall()
    assert [(s["scene_name"], s["dataset"], s["frame_offset"], s["n_frames"], s["video"]) for s in r["scenes"]] == \
        [(a, b, c, d, "%s/%s.mp4" % (b, a)) for a, b, c, d in sc]
    assert any(s["frame_offset"] <= r["query_frame"] < s["frame_offset"] + s["n_frames"] for s in r["scenes"])
EOF
fi

# --- sptt-eval: streams of the validation and training scenes, the long-horizon section
mpi_env "$bin/sptt-train" --db "$t/d.db" --out "$t/run" --stage qa --steps 2 --batch 2 --frames 4 --val-fraction 0.6 -q \
    || { no "a trained checkpoint"; exit 1; }
"$bin/sptt-annotate" --db "$t/d.db" --streams 2 --rooms 2 --split val -q && "$bin/sptt-annotate" --db "$t/d.db" --streams 2 --rooms 2 --split train -q
"$bin/sptt-eval" --ckpt "$t/run/stage2/ckpt-00000002.safetensors" --db "$t/d.db" --max-new 3 -o "$t/rep.json" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && grep -q "^long-horizon" "$t/out" && grep -q "^stream_object_counting" "$t/out" \
    && ok "sptt-eval prints a long-horizon section: $(grep -A3 '^long-horizon' "$t/out" | tr -s ' ' | tr '\n' ';')" \
    || no "sptt-eval ($rc: $(cat "$t/err"))"
if "$py" -c 'import numpy' 2>/dev/null; then
"$py" - "$t/rep.json" "$t/d.db" <<'EOF' && ok "long-horizon scores and baseline equal VSI-Bench's expressions" || no "long-horizon scores"
import json, sqlite3, sys
import numpy as np
rep = json.load(open(sys.argv[1]))["long_horizon"]
db = sqlite3.connect(sys.argv[2])
def split_streams(split):
    return [i for i, in db.execute("SELECT t.stream_id FROM streams t WHERE NOT EXISTS(SELECT 1 FROM stream_scenes x JOIN scenes s "
                                   "ON s.name = x.scene_name WHERE x.stream_id = t.stream_id AND s.split IS NOT ?)", (split,))]
val, train = split_streams("val"), split_streams("train")
assert rep["streams"] == len(val) >= 1
def mra(pred, target):
    conf = np.linspace(.5, .95, int((.95 - .5) / .05 + 2))
    return float((abs(pred - target) / target <= 1 - conf).mean())
def is_num(s):
    try:
        float(s); return True
    except ValueError:
        return False
def score(pred, target):
    tok = pred.split(' ')[0].rstrip('.').strip()
    if not is_num(target):
        return 1.0 if tok.lower() == target.lower() else 0.0
    try:
        return mra(float(tok), float(target))
    except ValueError:
        return 0.0
rows = {i: (t, g) for i, t, g in db.execute("SELECT stream_qa_id, question_type, ground_truth FROM stream_qa WHERE stream_id IN (%s)"
                                            % ",".join(map(str, val)))}
assert len(rep["predictions"]) == len(rows) == rep["questions"]
tr = {}
for t, g in db.execute("SELECT question_type, ground_truth FROM stream_qa WHERE stream_id IN (%s)" % ",".join(map(str, train))):
    tr.setdefault(t, []).append(g)
def baseline(t):
    a = tr.get(t)
    if not a: return None
    if all(is_num(x) for x in a): return repr(sum(float(x) for x in a) / len(a))
    return sorted(set(a), key=lambda x: (-a.count(x), x))[0]
m, b = {}, {}
for p in rep["predictions"]:
    t, g = rows[p["id"]]
    assert (p["question_type"], p["target"]) == (t, g)
    s = score(p["prediction"], g)
    assert abs(s - p["score"]) < 1e-12
    m.setdefault(t, []).append(s)
    if baseline(t) is not None: b.setdefault(t, []).append(score(baseline(t), g))
for r in rep["types"]:
    assert abs(r["score"] - 100 * sum(m[r["name"]]) / len(m[r["name"]])) < 1e-9, r
for r in rep["baseline_types"]:
    assert abs(r["score"] - 100 * sum(b[r["name"]]) / len(b[r["name"]])) < 1e-9, r
assert len(rep["baseline_types"]) >= 1
EOF
else
    echo "SKIP - long-horizon scores against VSI-Bench's expressions: no Python with numpy"
fi

# --- the streamed answers are sptt-stream's: each validation stream's walk exported as PNGs at the
# model's frame size (the bytes the evaluation decodes), every stride-th frame of it given to
# sptt-stream --frames with each question --at the frames streamed before it; its output must be
# the report's questions and predictions byte for byte (invalid UTF-8 shown as the report shows it)
cmp_stream() {   # report, then the options both were given
    rep=$1; shift
    "$py" - "$rep" "$t/d.db" "$bin" "$t/run/stage2/ckpt-00000002.safetensors" "$t/walk" "$@" <<'PYEOF'
import codecs, json, os, sqlite3, struct, subprocess, sys
rep_path, db_path, bin, ckpt, work = sys.argv[1:6]
opts = sys.argv[6:]
rep = json.load(open(rep_path))
lh = rep["long_horizon"]
db = sqlite3.connect(db_path)
with open(ckpt, "rb") as f:
    cfg = json.loads(json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]["config"])
W, H = cfg["frame_w"], cfg["frame_h"]
# the evaluation shows each byte that is not UTF-8 as U+FFFD
codecs.register_error("perbyte", lambda e: ("\ufffd" * (e.end - e.start), e.end))
assert lh["mode"] == "stream" and lh["predictions"], lh.keys()
streams = []
for p in lh["predictions"]:
    if not streams or streams[-1][0] != p["stream"]:
        streams.append((p["stream"], []))
    streams[-1][1].append(p)
os.makedirs(work, exist_ok=True)
n_q = 0
for name, preds in streams:
    scenes = db.execute("SELECT x.scene_name, x.frame_offset, x.n_frames FROM stream_scenes x JOIN streams t USING(stream_id) "
                        "WHERE t.name = ? ORDER BY x.position", (name,)).fetchall()
    n_walk = sum(s[2] for s in scenes)
    k = preds[0]["stride"]
    assert all(p["stride"] == k for p in preds)
    assert k == (int(opts[opts.index("--stream-stride") + 1]) if "--stream-stride" in opts else max(1, -(-n_walk // 256))), (k, n_walk)
    for p in preds:
        fed = list(range(0, p["query_frame"] + 1, k))
        assert (p["asked_at"], p["frames_streamed"]) == (fed[-1], len(fed)), p
    d = os.path.join(work, "%s-%d" % (name, k))
    os.makedirs(d)
    for scene, off, nf in scenes:
        sd = os.path.join(work, scene)
        if not os.path.isdir(sd):
            subprocess.run([bin + "/sptt-export", "video", "--db", db_path, "--scene", scene, "--png", sd, "--size", "%dx%d" % (W, H),
                            "-q"], check=True)
        for g in range(off, off + nf):
            if g % k == 0 and g <= preds[-1]["asked_at"]:
                os.symlink(os.path.join(sd, "%06d.png" % (g - off)), os.path.join(d, "%06d.png" % g))
    # sptt-eval's stream options but the stride, which the folder already applies
    args = [bin + "/sptt-stream", "--ckpt", ckpt, "--frames", d, "--max-new", "3", "-q"]
    args += [o for i, o in enumerate(opts) if "--stream-stride" not in opts[max(i - 1, 0):i + 1]]
    expect = ""
    for p in preds:
        prompt, = db.execute("SELECT prompt FROM stream_qa WHERE stream_qa_id = ?", (p["id"],)).fetchone()
        args += ["--ask", prompt, "--at", str(p["frames_streamed"])]
        expect += "frame %d: %s -> %s\n" % (p["frames_streamed"], prompt, p["prediction"])
    out = subprocess.run(args, check=True, stdout=subprocess.PIPE).stdout.decode("utf-8", "perbyte")
    assert out == expect, (name, out[-300:], expect[-300:])
    n_q += len(preds)
print("%d questions of %d streams, stride %s" % (n_q, len(streams), ",".join(str(s[1][0]["stride"]) for s in streams)))
PYEOF
}
if "$py" -c 'import json' 2>/dev/null; then
    cmp_stream "$t/rep.json" > "$t/py" 2>&1 && ok "streamed answers equal sptt-stream's on the exported walk: $(cat "$t/py")" \
        || no "streamed answers differ from sptt-stream's: $(tail -5 "$t/py")"
    "$bin/sptt-eval" --ckpt "$t/run/stage2/ckpt-00000002.safetensors" --db "$t/d.db" --max-new 3 --max-questions 6 --stream-stride 7 \
        --anchor-window 12 --variant official -q -o "$t/rep2.json" 2> "$t/err" && rm -rf "$t/walk" \
        && cmp_stream "$t/rep2.json" --stream-stride 7 --anchor-window 12 --variant official > "$t/py" 2>&1 \
        && ok "--stream-stride 7 --anchor-window 12 --variant official: sptt-stream's answers too ($(cat "$t/py"))" \
        || no "stride/window/official against sptt-stream: $(cat "$t/err") $(tail -5 "$t/py")"
fi
"$bin/sptt-eval" --ckpt "$t/run/stage2/ckpt-00000002.safetensors" --db "$t/d.db" --max-new 3 --max-questions 3 --offline-streams \
    -o "$t/rep3.json" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && grep -q "offline, 4 frames a question" "$t/out" && "$py" -c '
import json, sys
lh = json.load(open(sys.argv[1]))["long_horizon"]
assert lh["mode"] == "offline" and len(lh["predictions"]) == 3
assert all(p["asked_at"] == p["query_frame"] and p["frames"] == 4 for p in lh["predictions"])' "$t/rep3.json" \
    && ok "--offline-streams: each question from 4 frames of the walk up to its query frame" || no "--offline-streams ($rc: $(cat "$t/err"))"
"$bin/sptt-eval" --ckpt "$t/run/stage2/ckpt-00000002.safetensors" --db "$t/d.db" --offline-streams --stream-stride 2 2> "$t/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "not --offline-streams" "$t/err" \
    && ok "--offline-streams with a stream option: a usage error" || no "--offline-streams --stream-stride ($rc: $(cat "$t/err"))"
