#!/bin/sh
# End-to-end checks of sptt-ingest arkitscenes and mesh: ingest, skip when unchanged, one bad video
# among good ones, an OBJ through Assimp, a PLY refused.
. "$(dirname "$0")/../e2e_common.sh"

"$bin/sptt-synth" --out "$t/raw" --scenes 3 --seed 3 --format arkitscenes --frames 12 --quiet || no "synthesise videos"
train="$t/raw/arkitscenes/3dod/Training"
set -- $(ls "$train")
a=$1 b=$2 c=$3

"$bin/sptt-ingest" arkitscenes "$train/$a" "$train/$b" --db "$t/d.db" > "$t/out1" 2> "$t/err1"; rc=$?
[ $rc = 0 ] && [ ! -s "$t/err1" ] && ok "two videos ingested" || no "two videos ingested ($rc: $(cat "$t/err1"))"
[ "$(grep -c "^$a: .* points, .* instances .* frames with images, sky " "$t/out1")" = 1 ] && ok "one summary line per video" \
    || no "one summary line per video ($(cat "$t/out1"))"
grep -q "^sptt-ingest: 2 scenes: 2 ingested, 0 unchanged, 0 failed" "$t/out1" && ok "run summary" || no "run summary"
[ -n "$(ls "$t/packs"/*.sptt 2> /dev/null)" ] && ok "packs beside the database" || no "packs beside the database"

"$bin/sptt-ingest" arkitscenes "$train/$a" "$train/$b" --db "$t/d.db" > "$t/out2" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(grep -c "unchanged since the last ingest, skipped" "$t/out2")" = 2 ] && ok "second run says unchanged" \
    || no "second run says unchanged ($rc: $(cat "$t/out2"))"

# A broken copy of video c (its traj line 3 loses a number) next to the good video c.
mkdir -p "$t/bad" && cp -r "$train/$c" "$t/bad/" || no "copy video"
traj="$t/bad/$c/${c}_frames/lowres_wide.traj"
awk 'NR==3 { $7 = "" } { print }' "$traj" > "$traj.new" && mv "$traj.new" "$traj"
"$bin/sptt-ingest" arkitscenes "$t/bad/$c" --db "$t/e.db" > "$t/out3" 2> "$t/err3"; rc=$?
[ $rc = 2 ] && ok "broken video: exit status 2" || no "broken video: exit status 2 (got $rc)"
[ "$(wc -l < "$t/err3")" = 1 ] && grep -q "lowres_wide.traj: line 3: expected 7 numbers" "$t/err3" \
    && ok "one-line message naming the file and line" || no "one-line message naming the file and line ($(cat "$t/err3"))"
"$bin/sptt-ingest" arkitscenes "$t/bad/$c" "$train/$a" --db "$t/f.db" > "$t/out4" 2> "$t/err4"; rc=$?
[ $rc = 2 ] && grep -q "^$a: " "$t/out4" && grep -q "^sptt-ingest: 2 scenes: 1 ingested, 0 unchanged, 1 failed" "$t/out4" \
    && ok "the good video in the same command still ingests" || no "good video beside a broken one ($rc: $(cat "$t/out4" "$t/err4"))"
if command -v sqlite3 > /dev/null; then
    n=$(sqlite3 "$t/f.db" "SELECT count(*) FROM scenes")
    [ "$n" = 1 ] && ok "no rows for the broken video" || no "no rows for the broken video ($n scenes)"
else
    echo "# SKIP row count: no sqlite3 command"
fi

# Generic meshes.
printf 'o Chair_01\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\no lamp\nv 2 0 0\nv 3 0 0\nv 2 0 1\nf 4 5 6\n' > "$t/room.obj"
printf 'chair\tchair\n' > "$t/map.tsv"
"$bin/sptt-ingest" mesh "$t/room.obj" --labels "$t/map.tsv" --db "$t/m.db" > "$t/out5" 2>&1; rc=$?
[ $rc = 0 ] && grep -q "^room: 6 points, 2 faces, 2 instances (1 without NYU40 label), up z, 1 warnings" "$t/out5" \
    && ok "OBJ ingested through Assimp" || no "OBJ ingested through Assimp ($rc: $(cat "$t/out5"))"
printf 'ply\nformat ascii 1.0\nelement vertex 0\nend_header\n' > "$t/scan.ply"
"$bin/sptt-ingest" mesh "$t/scan.ply" --db "$t/m.db" > /dev/null 2> "$t/err6"; rc=$?
[ $rc = 2 ] && grep -q "scan.ply: PLY is not read through Assimp" "$t/err6" && ok "PLY refused by the mesh source" \
    || no "PLY refused by the mesh source ($rc: $(cat "$t/err6"))"
exit $fail
