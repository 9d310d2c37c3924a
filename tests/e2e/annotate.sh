#!/bin/sh
# End-to-end checks of sptt-annotate on the whole pipeline: synth -> ingest -> geometry -> annotate.
. "$(dirname "$0")/../e2e_common.sh"

"$bin/sptt-synth" --out "$t/raw" --scenes 2 --seed 4 --format both --frames 120 --quiet || no "synth"
scans="$t/raw/scannet/scans"
tsv="$t/raw/scannet/scannetv2-labels.combined.tsv"
"$bin/sptt-ingest" scannet "$scans/scene0700_00" --labels "$tsv" --db "$t/d.db" --quiet || no "ingest scannet"
"$bin/sptt-ingest" arkitscenes "$t"/raw/arkitscenes/3dod/Training/* --db "$t/d.db" --quiet || no "ingest arkit"
# a scene ingested without frame images, and one with no camera walk at all
"$bin/sptt-ingest" scannet "$scans/scene0701_00" --labels "$tsv" --db "$t/d.db" --no-images --quiet || no "ingest no-images"
mkdir -p "$t/walkless" && cp -r "$scans/scene0700_00" "$t/walkless/scene0799_00"
for f in "$t"/walkless/scene0799_00/scene0700_00*; do mv "$f" "$(echo "$f" | sed 's/scene0700_00\([^/]*\)$/scene0799_00\1/')"; done
rm -rf "$t/walkless/scene0799_00/scene0799_00.sens" "$t/walkless/scene0799_00/pose"
"$bin/sptt-ingest" scannet "$t/walkless/scene0799_00" --labels "$tsv" --db "$t/d.db" --quiet || no "ingest walkless"
[ "$(q "SELECT n_frames FROM scenes WHERE name='scene0799_00'")" = 0 ] && ok "a scene without a camera walk" || no "walkless scene"

# before geometry: refused with the command to run
"$bin/sptt-annotate" --db "$t/d.db" --scene scene0700_00 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "run first: sptt-geometry --db" "$t/err" && ok "no geometry: refused, naming the command" || no "no geometry ($rc: $(cat "$t/err"))"
"$bin/sptt-geometry" --db "$t/d.db" --quiet || no "geometry"

"$bin/sptt-annotate" --db "$t/d.db" --masks "$t/masks" --render-frames 160x120 --seed 3 > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && ok "annotate every scene" || no "annotate ($rc: $(cat "$t/err"))"
[ "$(grep -c " questions, " "$t/out")" = 5 ] && ok "one summary line per scene" || no "summaries: $(cat "$t/out")"
[ "$(q "SELECT count(*) FROM visibility")" -gt 100 ] && ok "visibility rows" || no "visibility rows"
[ "$(q "SELECT count(DISTINCT question_type) FROM qa")" -ge 8 ] && ok "at least 8 question types" || no "question types: $(q "SELECT group_concat(DISTINCT question_type) FROM qa")"
[ "$(q "SELECT count(*) FROM descriptions")" = 15 ] && ok "three descriptions per scene" || no "descriptions"
[ "$(q "SELECT count(*) FROM qa WHERE options IS NOT NULL AND mc_answer IS NULL")" = 0 ] && ok "every multiple-choice question has its letter" || no "mc letters"
[ "$(q "SELECT count(*) FROM qa q JOIN scenes s USING(scene_id) WHERE s.name='scene0799_00' AND question_type='obj_appearance_order'")" = 0 ] \
    && [ "$(q "SELECT count(*) FROM qa q JOIN scenes s USING(scene_id) WHERE s.name='scene0799_00' AND question_type='room_size_estimation'")" = 1 ] \
    && ok "walkless scene: frame-free tasks only" || no "walkless tasks"
[ "$(q "SELECT count(*) FROM scene_warnings w JOIN scenes s USING(scene_id) WHERE s.name='scene0799_00' AND stage='annotate' AND message LIKE '%obj_appearance_order%'")" = 1 ] \
    && ok "walkless scene: skipped task recorded" || no "walkless warning"
ls "$t/masks/scene0700_00/instance" | grep -q "000000.png" && ls "$t/masks/scene0700_00/label" | grep -q "000000.png" \
    && ok "masks written" || no "masks"
[ "$(q "SELECT count(*) FROM frames f JOIN scenes s USING(scene_id) WHERE s.name='scene0701_00' AND has_image=1 AND width=160")" \
    = "$(q "SELECT n_frames FROM scenes WHERE name='scene0701_00'")" ] && grep -q "scene0701_00: .*frames rendered" "$t/out" \
    && ok "frames rendered into the pack of the image-less scene" || no "render frames"
[ "$(q "SELECT count(*) FROM frames f JOIN scenes s USING(scene_id) WHERE s.name='scene0700_00' AND width=160")" = 0 ] \
    && ok "scenes with real frames are not re-rendered" || no "re-rendered real frames"

# determinism: the same seed gives identical records
q "SELECT question_type, question, options, ground_truth, mc_answer, meta FROM qa ORDER BY qa_id" > "$t/qa1"
q "SELECT text FROM descriptions ORDER BY scene_id, variant" > "$t/d1"
"$bin/sptt-annotate" --db "$t/d.db" --seed 3 --quiet || no "rerun"
q "SELECT question_type, question, options, ground_truth, mc_answer, meta FROM qa ORDER BY qa_id" > "$t/qa2"
q "SELECT text FROM descriptions ORDER BY scene_id, variant" > "$t/d2"
cmp -s "$t/qa1" "$t/qa2" && cmp -s "$t/d1" "$t/d2" && ok "same seed, identical qa and descriptions" || no "determinism"
"$bin/sptt-annotate" --db "$t/d.db" --seed 4 --quiet --scene scene0700_00 || no "seed 4"
q "SELECT question_type, question, options, ground_truth, mc_answer, meta FROM qa ORDER BY qa_id" > "$t/qa3"
cmp -s "$t/qa1" "$t/qa3" && no "another seed changes the draw" || ok "another seed changes the draw"
[ "$(q "SELECT count(*) FROM qa WHERE scene_id=(SELECT scene_id FROM scenes WHERE name='scene0700_00')")" -gt 0 ] \
    && ok "re-annotation replaces, rows still there" || no "replace"

"$bin/sptt-annotate" --db "$t/d.db" --tasks object_counting,bogus 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown question type 'bogus'" "$t/err" && ok "bad --tasks named" || no "bad tasks ($rc)"
"$bin/sptt-annotate" --db "$t/d.db" --tasks room_size_estimation --scene scene0700_00 --quiet || no "tasks subset"
[ "$(q "SELECT count(DISTINCT question_type) FROM qa WHERE scene_id=(SELECT scene_id FROM scenes WHERE name='scene0700_00')")" = 1 ] \
    && ok "--tasks limits the question types" || no "--tasks"
"$bin/sptt-annotate" --help | grep -q "usage: sptt-annotate" && ok "--help" || no "--help"
exit $fail
