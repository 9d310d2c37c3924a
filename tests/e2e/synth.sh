#!/bin/sh
# End-to-end checks of sptt-synth: determinism, both formats, argument errors.
. "$(dirname "$0")/../e2e_common.sh"

"$bin/sptt-synth" --out "$t/a" --scenes 2 --seed 7 --format both --frames 24 > "$t/a.log" 2>&1 || no "run a"
"$bin/sptt-synth" --out "$t/b" --scenes 2 --seed 7 --format both --frames 24 --quiet > "$t/b.log" 2>&1 || no "run b"
if diff -r "$t/a" "$t/b" > /dev/null; then ok "same seed gives identical trees"; else no "same seed gives identical trees"; fi
"$bin/sptt-synth" --out "$t/c" --scenes 1 --seed 8 --frames 24 --quiet || no "run c"
if cmp -s "$t/a/scannet/scans/scene0700_00/scene0700_00_vh_clean_2.ply" "$t/c/scannet/scans/scene0700_00/scene0700_00_vh_clean_2.ply"; then
    no "another seed gives another scene"
else
    ok "another seed gives another scene"
fi
[ "$(grep -c '^scannet scene' "$t/a.log")" = 2 ] && [ "$(grep -c '^arkitscenes ' "$t/a.log")" = 2 ] && ok "one summary line per scene" || no "one summary line per scene"
[ ! -s "$t/b.log" ] && ok "--quiet prints nothing" || no "--quiet prints nothing"
n=$(ls "$t/a/scannet/scans" | wc -l); [ "$n" = 2 ] && ok "two ScanNet scenes" || no "two ScanNet scenes ($n)"
n=$(ls "$t/a/arkitscenes/3dod/Training" | wc -l); [ "$n" = 2 ] && ok "two ARKitScenes videos" || no "two ARKitScenes videos ($n)"
ls "$t"/a/*/*/*.tmp.* "$t"/a/*/*/*/*.tmp.* > /dev/null 2>&1 && no "no temporary files left" || ok "no temporary files left"

"$bin/sptt-synth" --help | grep -q "usage: sptt-synth" && ok "--help" || no "--help"
"$bin/sptt-synth" --version | grep -q "sptt-synth [0-9]" && ok "--version" || no "--version"
"$bin/sptt-synth" --scenes 2 > /dev/null 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--out DIR is required" "$t/err" && ok "missing --out: status 2 and a message" || no "missing --out ($rc)"
"$bin/sptt-synth" --out "$t/x" --scenes zero 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--scenes: 'zero' is not an integer" "$t/err" && ok "bad --scenes named" || no "bad --scenes ($rc)"
"$bin/sptt-synth" --out "$t/x" --format kinect 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q -- "--format" "$t/err" && ok "bad --format named" || no "bad --format ($rc)"
"$bin/sptt-synth" --out /proc/forbidden/x 2> "$t/err"; rc=$?
[ $rc = 1 ] && grep -q "/proc/forbidden" "$t/err" && ok "unwritable output named, status 1" || no "unwritable output ($rc: $(cat "$t/err"))"
exit $fail
