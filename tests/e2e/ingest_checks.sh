#!/bin/sh
# End-to-end checks of input that used to pass ingest and break a later stage, or to fail with an
# unnamed error: one stray vertex far away (the top-down picture), a label table with a header and
# no rows, an empty ARKitScenes trajectory. Refusals are one line, exit status 2, nothing written.
. "$(dirname "$0")/../e2e_common.sh"

"$bin/sptt-synth" --out "$t/raw" --scenes 1 --seed 5 --format both --frames 6 --quiet || no "synth"
scene="$t/raw/scannet/scans/scene0700_00"
tsv="$t/raw/scannet/scannetv2-labels.combined.tsv"
vid=$(ls "$t/raw/arkitscenes/3dod/Training")
video="$t/raw/arkitscenes/3dod/Training/$vid"

# A label table with its header and no rows maps nothing: refused like an empty file.
head -n 1 "$tsv" > "$t/header_only.tsv"
"$bin/sptt-ingest" scannet "$scene" --labels "$t/header_only.tsv" --db "$t/e.db" > /dev/null 2> "$t/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "header_only.tsv: empty label table" "$t/err" \
    && ok "label table without rows refused" || no "label table without rows ($rc): $(cat "$t/err")"

# An empty trajectory beside frames: refused by name instead of a video without a walk.
: > "$video/${vid}_frames/lowres_wide.traj"
"$bin/sptt-ingest" arkitscenes "$video" --db "$t/e.db" > /dev/null 2> "$t/err"; rc=$?
[ $rc = 2 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "lowres_wide.traj: no poses" "$t/err" \
    && ok "empty trajectory refused" || no "empty trajectory ($rc): $(cat "$t/err")"
if command -v sqlite3 > /dev/null; then
    [ "$(sqlite3 "$t/e.db" "SELECT count(*) FROM scenes")" = 0 ] && ok "nothing written for the refused inputs" \
        || no "rows for refused inputs"
else
    echo "# SKIP row count: no sqlite3 command"
fi
# Vertex 0's x set to 1e7 m (float32 bytes 80 96 18 4b): the picture's extent used to follow it,
# 2e8 pixels a side, and --png tried to allocate about 10^16 bytes.
ply="$scene/scene0700_00_vh_clean_2.ply"
hdr=$(grep -a -b -m 1 "^end_header" "$ply" | cut -d: -f1)
printf '\200\226\030\113' | dd of="$ply" bs=1 seek=$((hdr + 11)) conv=notrunc 2> /dev/null
"$bin/sptt-ingest" scannet "$scene" --labels "$tsv" --db "$t/d.db" --no-images --quiet 2> "$t/err"; rc=$?
[ $rc = 0 ] && ok "a scene with one far vertex ingests" || no "ingest ($rc): $(cat "$t/err")"
"$bin/sptt-geometry" --db "$t/d.db" --png "$t/png" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && [ -s "$t/png/scene0700_00.png" ] && ok "geometry --png succeeds despite the far vertex" \
    || no "geometry --png ($rc): $(cat "$t/err")"
if [ -s "$t/png/scene0700_00.png" ]; then
    # IHDR: width and height, big-endian, at bytes 16 and 20.
    set -- $(od -An -tu1 -j16 -N8 "$t/png/scene0700_00.png")
    w=$(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 )); h=$(( ($5 << 24) + ($6 << 16) + ($7 << 8) + $8 ))
    echo "# picture ${w}x${h}"
    [ "$w" -ge 420 ] && [ "$w" -le 2000 ] && [ "$h" -le 2000 ] && ok "the picture is sized by the room, not by the stray vertex" \
        || no "picture size ${w}x${h}"
fi

exit $fail
