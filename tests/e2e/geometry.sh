#!/bin/sh
# End-to-end checks of sptt-geometry on scenes written by sptt-synth and sptt-ingest, and on the
# real ScanNet fixture when present.
. "$(dirname "$0")/../e2e_common.sh"
fix=${SPTT_FIXTURES:-../shared/fixtures}

"$bin/sptt-synth" --out "$t/raw" --scenes 2 --seed 5 --format both --frames 4 --quiet || no "synth"
"$bin/sptt-ingest" scannet "$t/raw/scannet/scans"/* --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" \
    --db "$t/d.db" --no-images --quiet || no "ingest scannet"
"$bin/sptt-ingest" arkitscenes "$t/raw/arkitscenes/3dod/Training"/* --db "$t/d.db" --no-images --quiet || no "ingest arkitscenes"

"$bin/sptt-geometry" --db "$t/d.db" --room-sample all --png "$t/png" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && ok "four scenes, exit status 0" || no "exit status $rc: $(cat "$t/err")"
[ "$(grep -c "m2, .* m high; .* boxes" "$t/out")" = 4 ] && ok "one line per scene" || no "lines: $(cat "$t/out")"
n=$(ls "$t/png"/*.png 2> /dev/null | wc -l)
[ "$n" = 4 ] && ok "one picture per scene" || no "pictures: $n"
head -c 8 "$t/png/scene0700_00.png" | od -An -c | grep -q "P   N   G" && ok "pictures are PNG" || no "PNG signature"

if command -v sqlite3 > /dev/null; then
    # Room area within 1% of the generator's exact floor area, height within 1 cm, every scene.
    bad=0
    for gt in "$t"/raw/scannet/scans/*/ground_truth.json "$t"/raw/arkitscenes/3dod/Training/*/ground_truth.json; do
        name=$(basename "$(dirname "$gt")")
        line=$(q "SELECT room_area, json_extract(readfile('$gt'), '\$.room.floor_area'), room_height,
                         json_extract(readfile('$gt'), '\$.room.height') FROM scenes WHERE name='$name'")
        echo "# $name: room_area|truth|room_height|truth = $line"
        echo "$line" | awk -F'|' '{ e = ($1 - $2) / $2; if (e < 0) e = -e; if (e >= 0.01) exit 1 }' || bad=1
        # ARKitScenes packs carry no floor or ceiling label: their height comes from percentiles.
        echo "$line" | awk -F'|' '{ d = $3 - $4; if (d < 0) d = -d; if (d >= 0.01) exit 1 }' || bad=1
    done
    [ $bad = 0 ] && ok "room area within 1% and height within 1 cm of the truth" || no "room area or height"
    [ "$(q "SELECT count(*) FROM scenes WHERE room_polygon LIKE '[[[%' AND geometry_at IS NOT NULL AND room_center_x IS NOT NULL
             AND json_extract(geometry_params, '\$.room_sample')='all'")" = 4 ] \
        && ok "room outline, centre, parameters and time recorded" || no "scene rows"
    [ "$(q "SELECT count(*) FROM objects WHERE nyu40_id IN (1,2,22) AND box_kind IS NOT NULL")" = 0 ] \
        && ok "no box for wall, floor, ceiling" || no "structural boxes"
    [ "$(q "SELECT count(*) FROM objects WHERE nyu40_id NOT IN (1,2,22) AND n_points >= 4 AND box_kind IS NULL")" = 0 ] \
        && ok "every other object has a box" || no "objects without a box"
    [ "$(q "SELECT count(DISTINCT o.box_kind) FROM objects o JOIN scenes s USING(scene_id) WHERE s.source='scannet' AND box_kind IS NOT NULL")" = 1 ] &&
    [ "$(q "SELECT min(box_kind) FROM objects o JOIN scenes s USING(scene_id) WHERE s.source='scannet'")" = minimal ] \
        && ok "ScanNet objects store the minimal box" || no "ScanNet box kind"
    [ "$(q "SELECT count(*) FROM objects o JOIN scenes s USING(scene_id) WHERE s.source='arkitscenes' AND box_kind IS NOT NULL AND box_kind<>'annotation'")" = 0 ] \
        && ok "ARKitScenes objects keep their annotation box" || no "ARKitScenes box kind"
    [ "$(q "SELECT count(*) FROM objects o JOIN object_boxes b USING(scene_id, instance_id) WHERE b.kind=o.box_kind
             AND b.center_x=o.center_x AND b.size_y=o.size_y AND b.axes=o.axes")" = "$(q "SELECT count(*) FROM objects WHERE box_kind IS NOT NULL")" ] \
        && ok "the stored box is also in object_boxes" || no "objects vs object_boxes"
    [ "$(q "SELECT count(*) FROM objects o JOIN scenes s USING(scene_id) WHERE s.source='arkitscenes' AND box_kind IS NOT NULL
             AND (SELECT count(*) FROM object_boxes b WHERE b.scene_id=o.scene_id AND b.instance_id=o.instance_id)<>3")" = 0 ] \
        && ok "ARKitScenes: annotation, minimal and upright boxes side by side" || no "ARKitScenes object_boxes"
    [ "$(q "SELECT count(*) FROM object_boxes WHERE json_array_length(axes)<>9 OR abs(volume - size_x*size_y*size_z) > 1e-9")" = 0 ] \
        && ok "axes are 9 numbers, volume is the product of sizes" || no "object_boxes values"
    [ "$(q "SELECT status || ' ' || json_extract(summary, '\$.scenes') FROM runs WHERE tool='sptt-geometry'")" = "0 4" ] \
        && ok "runs row with status and summary" || no "runs row: $(q "SELECT * FROM runs WHERE tool='sptt-geometry'")"

    nb=$(q "SELECT count(*) FROM object_boxes")
    "$bin/sptt-geometry" --db "$t/d.db" --scene scene0700_00 --obb upright --quiet; rc=$?
    [ $rc = 0 ] && [ "$(q "SELECT count(*) FROM object_boxes")" = "$nb" ] && ok "rerun replaces rows" || no "rerun ($rc)"
    [ "$(q "SELECT count(*) FROM objects o JOIN scenes s USING(scene_id) WHERE s.name='scene0700_00' AND box_kind='upright'
             AND json_extract(axes, '\$[8]') > 0.999999999")" = "$(q "SELECT count(*) FROM objects o JOIN scenes s USING(scene_id)
             WHERE s.name='scene0700_00' AND box_kind IS NOT NULL")" ] && ok "--obb upright stores yaw-only boxes" || no "--obb upright"
    [ "$(q "SELECT count(*) FROM objects o JOIN scenes s USING(scene_id) WHERE s.name='scene0701_00' AND box_kind='minimal'")" -gt 0 ] \
        && ok "--scene leaves the other scenes alone" || no "--scene"
else
    echo "# SKIP row checks: no sqlite3 command"
fi

# The real scan, ingested from the public fixture files (no .sens: no frames, which geometry ignores).
if [ -f "$fix/scannet/scene0000_00/scene0000_00_vh_clean_2.ply" ]; then
    "$bin/sptt-ingest" scannet "$fix/scannet/scene0000_00" --labels "$fix/scannet/scannetv2-labels.combined.tsv" \
        --align "$fix/scannet/scene0000_00.axis_alignment.txt" --db "$t/r.db" --no-images --quiet 2> /dev/null || no "ingest the real scene"
    "$bin/sptt-geometry" --db "$t/r.db" > "$t/rout" 2> "$t/rerr"; rc=$?
    [ $rc = 0 ] && ok "real scene0000_00" || no "real scene ($rc): $(cat "$t/rerr")"
    echo "# real $(cat "$t/rout")"
    if command -v sqlite3 > /dev/null; then
        line=$(sqlite3 "$t/r.db" "SELECT room_area, room_height FROM scenes WHERE name='scene0000_00'")
        echo "# real scene0000_00: room_area|room_height = $line"
        echo "$line" | awk -F'|' '{ if ($1 < 20 || $1 > 60 || $2 < 2.2 || $2 > 3.5) exit 1 }' \
            && ok "real room area and height plausible" || no "real room: $line"
        [ "$(sqlite3 "$t/r.db" "SELECT count(*) FROM objects WHERE nyu40_id NOT IN (1,2,22) AND box_kind IS NULL")" = 0 ] \
            && ok "every non-structural real instance has a box" || no "real boxes"
    fi
else
    echo "# SKIP real scene: no fixture under $fix"
fi

# Arguments and inputs that are refused.
"$bin/sptt-geometry" --help | grep -q "usage: sptt-geometry" && ok "--help" || no "--help"
"$bin/sptt-geometry" --version | grep -q "sptt-geometry [0-9]" && ok "--version" || no "--version"
"$bin/sptt-geometry" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--db DB is required" "$t/err" && ok "missing --db" || no "missing --db ($rc)"
"$bin/sptt-geometry" --db "$t/d.db" --obb tilted 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--obb: 'tilted'" "$t/err" && ok "bad --obb named" || no "bad --obb ($rc)"
"$bin/sptt-geometry" --db "$t/d.db" --room-sample some 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--room-sample" "$t/err" && ok "bad --room-sample named" || no "bad --room-sample ($rc)"
"$bin/sptt-geometry" --db "$t/d.db" --scene nosuch 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "nosuch" "$t/err" && ok "unknown scene refused before any work" || no "unknown scene ($rc)"
"$bin/sptt-geometry" --db "$t/none.db" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "no such dataset" "$t/err" && [ ! -e "$t/none.db" ] && ok "missing dataset not created" || no "missing dataset ($rc)"
printf 'not a database at all, just text padding padding padding padding padding padding padding padding' > "$t/x.db"
"$bin/sptt-geometry" --db "$t/x.db" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "not a Spatial-TTT dataset" "$t/err" && ok "foreign file refused" || no "foreign db ($rc: $(cat "$t/err"))"
# ingest --sample: the surface samples stand in for the vertices
"$bin/sptt-ingest" scannet "$t/raw/scannet/scans/scene0700_00" --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" \
    --db "$t/s.db" --no-images --quiet --sample 60000 || no "ingest with samples"
"$bin/sptt-geometry" --db "$t/s.db" --room-sample all --quiet || no "geometry on samples"
line=$(sqlite3 "$t/s.db" "SELECT json_extract(geometry_params, '\$.room_points'), room_area,
        json_extract(readfile('$t/raw/scannet/scans/scene0700_00/ground_truth.json'), '\$.room.floor_area') FROM scenes")
echo "# samples: room points|area|truth = $line"
echo "$line" | awk -F'|' '{ e = ($2 - $3) / $3; if (e < 0) e = -e; exit !($1 > 20000 && e < 0.02) }' \
    && ok "--sample: geometry runs on the samples (area within 2%)" || no "geometry on samples: $line"
exit $fail
