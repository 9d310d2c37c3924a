#!/bin/sh
# End-to-end checks of sptt-ingest scannet: several scenes, one of them broken; reruns.
. "$(dirname "$0")/../e2e_common.sh"

"$bin/sptt-synth" --out "$t/raw" --scenes 3 --seed 2 --frames 24 --quiet || no "synth"
scans="$t/raw/scannet/scans"
tsv="$t/raw/scannet/scannetv2-labels.combined.tsv"
# break the middle scene: its segment list no longer matches the mesh
printf '{"segIndices": [0, 1, 2]}' > "$scans/scene0701_00/scene0701_00_vh_clean_2.0.010000.segs.json"

"$bin/sptt-ingest" scannet "$scans"/scene070* --labels "$tsv" --db "$t/d.db" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 2 ] && ok "a bad scene gives exit status 2" || no "exit status $rc"
[ "$(wc -l < "$t/err")" = 1 ] && grep -q "scene0701_00_vh_clean_2.0.010000.segs.json: field 'segIndices'" "$t/err" \
    && ok "one line naming the file and field" || no "error line: $(cat "$t/err")"
grep -q "^scene0700_00: .* points" "$t/out" && grep -q "^scene0702_00: .* points" "$t/out" \
    && ok "the other scenes go on" || no "summaries: $(cat "$t/out")"
grep -q "2 ingested, 0 unchanged, 1 failed" "$t/out" && ok "closing count" || no "closing count"
[ "$(q "SELECT count(*) FROM scenes")" = 2 ] && ok "two scenes in the dataset" || no "scene rows"
[ "$(q "SELECT count(*) FROM scenes WHERE name='scene0701_00'")" = 0 ] && ok "nothing of the bad scene" || no "bad scene rows"
[ "$(ls "$t/packs" | wc -l)" = 2 ] && ok "two packs beside the dataset" || no "packs: $(ls "$t/packs")"
[ "$(q "SELECT status FROM runs ORDER BY run_id DESC LIMIT 1")" = 2 ] && ok "run recorded with its status" || no "runs row"

"$bin/sptt-ingest" scannet "$scans/scene0700_00" --labels "$tsv" --db "$t/d.db" > "$t/out2"; rc=$?
[ $rc = 0 ] && grep -q "unchanged since the last ingest, skipped" "$t/out2" && ok "unchanged scene skipped" || no "rerun ($rc)"
"$bin/sptt-ingest" scannet "$scans/scene0700_00" --labels "$tsv" --db "$t/d.db" --force --no-images --quiet; rc=$?
[ $rc = 0 ] && [ "$(q "SELECT count(*) FROM scenes")" = 2 ] && ok "--force re-ingests in place" || no "--force ($rc)"
[ "$(ls "$t/packs" | wc -l)" = 2 ] && ok "the replaced pack is gone" || no "packs after replace: $(ls "$t/packs")"

"$bin/sptt-ingest" scannet "$scans/scene0702_00" --db "$t/d.db" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--labels" "$t/err" && ok "missing --labels explained" || no "missing --labels ($rc)"
"$bin/sptt-ingest" kinect x --db "$t/d.db" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown command 'kinect'" "$t/err" && ok "unknown source" || no "unknown source ($rc)"
"$bin/sptt-ingest" --help | grep -q "usage: sptt-ingest scannet" && ok "--help" || no "--help"
"$bin/sptt-ingest" --version | grep -q "sptt-ingest [0-9]" && ok "--version" || no "--version"
printf 'not a database at all, just text padding padding padding padding padding padding padding padding' > "$t/x.db"
"$bin/sptt-ingest" scannet "$scans/scene0700_00" --labels "$tsv" --db "$t/x.db" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "x.db: not a Spatial-TTT dataset" "$t/err" && ok "foreign file refused" || no "foreign db ($rc: $(cat "$t/err"))"
exit $fail
