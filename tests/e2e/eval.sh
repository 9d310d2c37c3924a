#!/bin/sh
# End-to-end checks of sptt-eval: a tiny model trained for a few steps answers the validation
# split; the report's every score, per-type and per-task mean, overall score and baseline are
# recomputed by Python from VSI-Bench's own expressions (numpy's linspace thresholds) and from the
# dataset's rows. Prints ok / not ok. (sptt-train is an Open MPI program, whose start-up
# allocations LeakSanitizer would report: leaks are checked for sptt-eval, not for it.)
. "$(dirname "$0")/../e2e_common.sh"

tiny_trained_model 3 8 3 2 0.34 || { no "dataset and a trained checkpoint"; exit 1; }

"$bin/sptt-eval" --ckpt "$ckpt" --db "$t/d.db" --max-new 4 -o "$t/rep.json" > "$t/out" 2> "$t/err"; rc=$?
nval=$(sqlite3 "$t/d.db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE split='val'")
[ $rc = 0 ] && grep -q '^overall' "$t/out" && grep -q baseline "$t/out" \
    && ok "a table per task beside the baseline ($nval validation questions)" || no "sptt-eval ($rc: $(cat "$t/err"))"

py=${SPTT_PYTHON:-/usr/bin/python3}
if ! "$py" -c 'import numpy' 2>/dev/null; then
    echo "SKIP - the report against VSI-Bench's expressions: no Python with numpy"
    exit 0
fi
"$py" - "$t/rep.json" "$t/d.db" <<'EOF' && ok "every score, mean and the baseline equal VSI-Bench's expressions in Python" || no "scores differ from Python's"
import json, sqlite3, sys
import numpy as np
rep = json.load(open(sys.argv[1]))
db = sqlite3.connect(sys.argv[2])

def mra(pred, target, start=.5, end=.95, interval=.05):
    num_pts = (end - start) / interval + 2
    conf = np.linspace(start, end, int(num_pts))
    return float((abs(pred - target) / target <= 1 - conf).mean())

def score(pred, target, numeric):
    tok = pred.split(' ')[0].rstrip('.').strip()
    if not numeric:
        return 1.0 if tok.lower() == target.lower() else 0.0
    try:
        return mra(float(tok), float(target))
    except ValueError:
        return 0.0

def is_num(s):
    try:
        float(s); return True
    except ValueError:
        return False

# the validation questions, their targets as the rows hold them
rows = {qid: (t, mc if mc is not None else gt) for qid, t, mc, gt in db.execute(
    "SELECT qa_id, question_type, mc_answer, ground_truth FROM qa JOIN scenes USING(scene_id) WHERE split='val'")}
preds = rep["predictions"]
assert len(preds) == len(rows) == rep["questions"], (len(preds), len(rows))
by_type, base_type = {}, {}
train = {}
for t, mc, gt in db.execute("SELECT question_type, mc_answer, ground_truth FROM qa JOIN scenes USING(scene_id) WHERE split='train'"):
    train.setdefault(t, []).append(mc if mc is not None else gt)
def baseline(t):
    a = train.get(t)
    if not a:
        return None
    if all(is_num(x) for x in a):
        return repr(sum(float(x) for x in a) / len(a))
    return sorted(set(a), key=lambda x: (-a.count(x), x))[0]
for p in preds:
    t, target = rows[p["id"]]
    assert p["question_type"] == t and p["target"] == target, p
    s = score(p["prediction"], target, is_num(target))
    assert abs(s - p["score"]) < 1e-12, (p, s)
    by_type.setdefault(t, []).append(s)
    b = baseline(t)
    if b is not None:
        base_type.setdefault(t, []).append(score(b, target, is_num(target)))

def tasks(per_type):
    means = {t: sum(v) / len(v) for t, v in per_type.items()}
    task = {}
    for t in sorted(means):
        k = "object_rel_direction" if t.startswith("object_rel_direction_") else t
        task.setdefault(k, []).append(means[t])
    return means, {k: sum(v) / len(v) for k, v in task.items()}

means, task = tasks(by_type)
for r in rep["types"]:
    assert abs(r["score"] - 100 * means[r["name"]]) < 1e-9, r
for r in rep["tasks"]:
    assert abs(r["score"] - 100 * task[r["name"]]) < 1e-9, r
assert abs(rep["overall"] - 100 * sum(task.values()) / len(task)) < 1e-9
_, btask = tasks(base_type)
for r in rep["baseline_tasks"]:
    assert abs(r["score"] - 100 * btask[r["name"]]) < 1e-9, (r, btask)
assert abs(rep["baseline_overall"] - (100 * sum(btask.values()) / len(btask) if btask else 0)) < 1e-9
EOF

# a suffix reaches the prompt; bad input is one line and status 2
"$bin/sptt-eval" --ckpt "$ckpt" --db "$t/d.db" --max-questions 2 --suffix "Sum the counts over all rooms." -q; rc=$?
[ $rc = 0 ] && ok "--suffix and --max-questions" || no "--suffix ($rc)"
printf 'not a checkpoint' > "$t/bad.safetensors"
"$bin/sptt-eval" --ckpt "$t/bad.safetensors" --db "$t/d.db" -q 2> "$t/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "bad.safetensors" "$t/err" \
    && ok "a damaged checkpoint: one line naming it, status 2" || no "damaged checkpoint ($rc: $(cat "$t/err"))"
