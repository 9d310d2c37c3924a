#!/bin/sh
# End-to-end checks of input that used to pass ingest and break a later stage, or reach undefined
# behaviour: a label table with a header and no rows, an empty ARKitScenes trajectory. Refusals
# are one line, exit status 2, nothing written.
bin=${SPTT_BIN:-bin}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; fail=1; }

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
exit $fail
