#!/bin/sh
# End-to-end checks of the dataset contract every tool shares: a dataset folder moved and used from
# another working directory, unique scene names, annotations invalidated by new geometry, stale
# geometry refused, a pack copied over another scene's refused, two processes creating one
# dataset at once, and the shared command-line convention. Prints ok / not ok lines.
. "$(dirname "$0")/../e2e_common.sh"
q() { sqlite3 "$1" "$2"; }

"$bin/sptt-synth" --out "$t/raw" --scenes 2 --seed 3 -q || { no "synth"; exit 1; }
scans="$t/raw/scannet/scans"
tsv="$t/raw/scannet/scannetv2-labels.combined.tsv"
a=scene0700_00
b=scene0701_00

# --- a dataset built from a working directory of its own, with a relative --db
mkdir -p "$t/work/ds" "$t/elsewhere"
cd "$t/work" || exit 1
"$bin/sptt-ingest" scannet "$scans/$a" "$scans/$b" --labels "$tsv" --db ds/dataset.db --no-images -q &&
    "$bin/sptt-geometry" --db ds/dataset.db -q && "$bin/sptt-annotate" --db ds/dataset.db -q; rc=$?
[ $rc = 0 ] && ok "pipeline from a working directory of its own" || no "pipeline ($rc)"
n=$(q ds/dataset.db "SELECT count(*) FROM scenes WHERE pack_path LIKE 'packs/%'")
[ "$n" = 2 ] && ok "pack paths stored relative to the dataset's folder" || no "pack paths relative ($(q ds/dataset.db 'SELECT pack_path FROM scenes'))"

# --- moved, and used from elsewhere by every tool
mv "$t/work/ds" "$t/moved"
cd "$t/elsewhere" || exit 1
"$bin/sptt-ingest" scannet "$scans/$a" "$scans/$b" --labels "$tsv" --db ../moved/dataset.db --no-images > out 2> err; rc=$?
[ $rc = 0 ] && grep -q "2 scenes: 0 ingested, 2 unchanged, 0 failed" out && ok "ingest after the move: scenes found unchanged" \
    || no "ingest after the move ($rc: $(cat out err))"
"$bin/sptt-geometry" --db ../moved/dataset.db --png pics > out 2> err; rc=$?
[ $rc = 0 ] && [ -s pics/$a.png ] && grep -q "2 scenes: 2 computed, 0 unchanged, 0 failed" out \
    && ok "geometry after the move" || no "geometry after the move ($rc: $(cat out err))"
"$bin/sptt-annotate" --db ../moved/dataset.db --frames 8 > out 2> err; rc=$?
[ $rc = 0 ] && grep -q "2 scenes: 2 annotated" out && ok "annotate after the move" || no "annotate after the move ($rc: $(cat out err))"
db="$t/moved/dataset.db"

# --- scene names are unique per dataset
cat > "$t/$a.obj" <<'EOF'
o chair_1
v 0 0 0
v 1 0 0
v 1 1 0
v 0 1 0
v 0 0 1
v 1 0 1
f 1 2 3
f 1 3 4
f 1 2 6
f 1 6 5
EOF
nqa=$(q "$db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE name='$a'")
"$bin/sptt-ingest" mesh "$t/$a.obj" --db "$db" > out 2> err; rc=$?
[ $rc = 2 ] && [ "$(wc -l < err)" = 1 ] && grep -q "scene '$a' already exists" err && grep -q -- "--replace" err \
    && [ "$(q "$db" "SELECT source FROM scenes WHERE name='$a'")" = scannet ] \
    && [ "$(q "$db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE name='$a'")" = "$nqa" ] \
    && ok "a mesh named like a ScanNet scene is refused, the scene untouched" || no "name clash refused ($rc: $(cat err))"
"$bin/sptt-ingest" mesh "$t/$a.obj" --db "$db" --replace -q; rc=$?
[ $rc = 0 ] && [ "$(q "$db" "SELECT source FROM scenes WHERE name='$a'")" = mesh ] \
    && ok "--replace replaces it" || no "--replace ($rc)"

# --- geometry with other results invalidates the annotations; annotate makes them again
before=$(q "$db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE name='$b'")
"$bin/sptt-geometry" --db "$db" --scene $b --obb upright > out 2> err; rc=$?
[ $rc = 0 ] && [ "$before" -gt 0 ] && grep -q "annotations were deleted" out \
    && [ "$(q "$db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE name='$b'")" = 0 ] \
    && [ "$(q "$db" "SELECT annotated_at IS NULL FROM scenes WHERE name='$b'")" = 1 ] \
    && ok "geometry with other options deletes the scene's annotations" || no "invalidation ($rc, $before: $(cat out err))"
"$bin/sptt-geometry" --db "$db" --scene $b --obb upright > out 2> err
! grep -q "annotations were deleted" out && ok "the same geometry again keeps them" || no "same geometry ($(cat out))"
"$bin/sptt-annotate" --db "$db" -q; rc=$?
[ $rc = 0 ] && [ "$(q "$db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE name='$b'")" -gt 0 ] \
    && ok "annotate regenerates them" || no "annotate after invalidation ($rc)"
# The answers agree with the rows beside them.
bad=$(q "$db" "SELECT count(*) FROM qa q JOIN scenes s USING(scene_id) WHERE s.name='$b' AND (
    (q.question_type='object_size_estimation' AND CAST(q.ground_truth AS INT) <> (SELECT CAST(round(100*max(size_x,size_y,size_z)) AS INT)
        FROM objects o WHERE o.scene_id=s.scene_id AND o.instance_id=json_extract(q.objects,'\$.ids[0]')))
    OR (q.question_type='object_counting' AND CAST(q.ground_truth AS INT) <> (SELECT count(*) FROM objects o
        WHERE o.scene_id=s.scene_id AND o.category=json_extract(q.objects,'\$.category')))
    OR (q.question_type='room_size_estimation' AND q.ground_truth <> printf('%.1f', s.room_area)))")
nsize=$(q "$db" "SELECT count(*) FROM qa JOIN scenes USING(scene_id) WHERE name='$b' AND question_type IN ('object_size_estimation','room_size_estimation')")
[ "$bad" = 0 ] && [ "$nsize" -gt 1 ] && ok "sizes, counts and room size answers equal the rows ($nsize checked)" || no "answers against rows ($bad bad of $nsize)"

# --- stale geometry is refused by annotate
q "$db" "UPDATE scenes SET geometry_input='0000000000000000' WHERE name='$b'"
"$bin/sptt-annotate" --db "$db" --scene $b > out 2> err; rc=$?
[ $rc = 2 ] && grep -q "computed on an earlier ingest" err && grep -q "sptt-geometry --db" err \
    && ok "annotate refuses geometry of an earlier ingest" || no "stale geometry ($rc: $(cat err))"
"$bin/sptt-geometry" --db "$db" --scene $b -q

# --- a pack copied over another scene's
pa=$(q "$db" "SELECT pack_path FROM scenes WHERE name='$a'")
pb=$(q "$db" "SELECT pack_path FROM scenes WHERE name='$b'")
cp "$t/moved/$pa" "$t/moved/$pb"
"$bin/sptt-geometry" --db "$db" --scene $b > out 2> err; rc=$?
[ $rc = 2 ] && grep -q "holds scene '$a'" err && grep -q "not scene '$b'" err \
    && ok "a pack copied over another scene's is refused, naming both" || no "copied pack ($rc: $(cat err))"

# --- a FIFO where a pack should be: refused at once, not waited on
rm -f "$t/moved/$pb"
mkfifo "$t/moved/$pb"
timeout 20 "$bin/sptt-geometry" --db "$db" --scene $b > out 2> err; rc=$?
[ $rc = 1 ] && grep -q "not a regular file" err && ok "a FIFO at a pack path is refused without blocking" || no "FIFO pack ($rc: $(cat err))"

# --- two processes creating the same new dataset at once
fails=0
i=0
while [ $i -lt 20 ]; do
    "$bin/sptt-ingest" scannet "$scans/$a" --labels "$tsv" --db "$t/race$i.db" --no-images -q 2> "$t/e1" &
    p1=$!
    "$bin/sptt-ingest" scannet "$scans/$b" --labels "$tsv" --db "$t/race$i.db" --no-images -q 2> "$t/e2" &
    p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    if [ $r1 != 0 ] || [ $r2 != 0 ] || [ "$(q "$t/race$i.db" 'SELECT count(*) FROM scenes')" != 2 ]; then
        fails=$((fails + 1))
        echo "# trial $i: $r1 $r2 $(cat "$t/e1" "$t/e2")"
    fi
    i=$((i + 1))
done
[ $fails = 0 ] && ok "two processes creating one dataset: 20 of 20 trials both succeed" || no "concurrent creation ($fails of 20 failed)"

# --- the shared command-line convention
for tool in ingest geometry annotate synth train; do
    "$bin/sptt-$tool" --bogus > out 2> err; rc=$?
    [ $rc = 2 ] && [ "$(wc -l < err)" = 1 ] && grep -q "^sptt-$tool: unknown .*'--bogus' (see sptt-$tool --help)$" err \
        && ok "sptt-$tool: an unknown flag, one line, status 2" || no "sptt-$tool --bogus ($rc: $(cat err))"
    "$bin/sptt-$tool" --version | grep -q "^sptt-$tool [0-9]" && "$bin/sptt-$tool" -h | grep -q "^usage: sptt-$tool " \
        && ok "sptt-$tool: --version and -h" || no "sptt-$tool --version / -h"
done
"$bin/sptt-geometry" --db "$t/nope.db" > out 2> err; rc=$?
[ $rc = 2 ] && grep -q "no such dataset" err && [ ! -e "$t/nope.db" ] && ok "a missing dataset: status 2, nothing created" \
    || no "missing dataset ($rc: $(cat err))"
"$bin/sptt-ingest" scannet "$scans/$a" --db "$t/new.db" > out 2> err; rc=$?
[ $rc = 2 ] && grep -q -- "--labels" err && [ ! -e "$t/new.db" ] && ok "a missing --labels: status 2 before the dataset is created" \
    || no "missing --labels ($rc: $(cat err))"
"$bin/sptt-geometry" --db "$db" --scene nosuch > out 2> err; rc=$?
[ $rc = 2 ] && grep -q "scene 'nosuch' is not in" err && ok "an unknown --scene: status 2" || no "unknown --scene ($rc: $(cat err))"
"$bin/sptt-geometry" --db "$db" --scene $a -q > out 2> err; rc=$?
[ $rc = 0 ] && [ ! -s out ] && ok "--quiet prints nothing on success" || no "--quiet ($rc: $(cat out err))"
