#!/bin/sh
# End-to-end checks of sptt-stream: a tiny model trained for one step watches frames from a folder
# of PNGs, a scene pack and raw RGB on stdin, and answers questions after given frames; the
# answers do not depend on where the frames came from when the pixels are the same; bad input
# exits 2 with one line. Prints ok / not ok. (sptt-train is an Open MPI program, whose start-up
# allocations LeakSanitizer would report: leaks are checked for sptt-stream, not for it.)
. "$(dirname "$0")/../e2e_common.sh"

tiny_trained_model 2 4 1 1 0.5 || { no "dataset and a trained checkpoint"; exit 1; }
scene=$(sqlite3 "$t/d.db" "SELECT name FROM scenes ORDER BY name LIMIT 1")

# --- a folder of PNGs (made by ffmpeg at the model's 8x8), two questions
mkdir "$t/png"
ffmpeg -loglevel error -f lavfi -i testsrc=size=8x8:rate=1 -frames:v 7 "$t/png/f%03d.png" || { no "ffmpeg frames"; exit 1; }
"$bin/sptt-stream" --ckpt "$ckpt" --frames "$t/png" --ask "how many chairs?" --at 4 --ask "what is near the door?" --at 7 \
    --max-new 4 > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 0 ] && [ "$(wc -l < "$t/out")" = 2 ] && grep -q '^frame 4: how many chairs? -> ' "$t/out" \
    && grep -q '^frame 7: what is near the door? -> ' "$t/out" && grep -q '7 frames' "$t/err" \
    && ok "--frames: answers after frames 4 and 7" || no "--frames ($rc: $(cat "$t/out" "$t/err"))"

# --- the same pixels as raw RGB on stdin give the same answers
ffmpeg -loglevel error -f lavfi -i testsrc=size=8x8:rate=1 -frames:v 7 -f rawvideo -pix_fmt rgb24 - > "$t/frames.rgb"
"$bin/sptt-stream" --ckpt "$ckpt" --raw 8x8 --ask "how many chairs?" --at 4 --ask "what is near the door?" --at 7 \
    --max-new 4 < "$t/frames.rgb" > "$t/out2" 2> "$t/err"; rc=$?
[ $rc = 0 ] && cmp -s "$t/out" "$t/out2" && ok "--raw 8x8 on stdin: the same answers as the PNGs" \
    || no "--raw ($rc: $(cat "$t/out2" "$t/err"))"

# --- questions as lines on stdin; a bounded anchor window and the official variant run too
printf '2 how many chairs?\n# a comment\n\n5 what is near the door?\n' |
    "$bin/sptt-stream" --ckpt "$ckpt" --frames "$t/png" --max-new 4 > "$t/out3" 2> "$t/err"; rc=$?
[ $rc = 0 ] && [ "$(wc -l < "$t/out3")" = 2 ] && grep -q '^frame 2: how many chairs? -> ' "$t/out3" \
    && grep -q '^frame 5: ' "$t/out3" && ok "questions from stdin lines \"N question\"" || no "stdin questions ($rc: $(cat "$t/out3" "$t/err"))"
"$bin/sptt-stream" --ckpt "$ckpt" --frames "$t/png" --ask "how many chairs?" --at 6 --anchor-window 8 --variant official \
    --max-new 4 > "$t/out4" 2> "$t/err"; rc=$?
[ $rc = 0 ] && grep -q '^frame 6: ' "$t/out4" && ok "--anchor-window 8 --variant official" || no "window/official ($rc: $(cat "$t/err"))"

# --- a scene pack of the dataset; a question past the last frame is asked at the end
"$bin/sptt-stream" --ckpt "$ckpt" --scene "$scene" --db "$t/d.db" --ask "how big is the room?" --at 100000 \
    --max-new 4 > "$t/out5" 2> "$t/err"; rc=$?
n=$(sed -n 's/.* \([0-9]*\) frames.*/\1/p' "$t/err")
[ $rc = 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && grep -q "^frame $n: how big is the room? -> " "$t/out5" \
    && ok "--scene --db: $n frames of the pack, the question after the last" || no "--scene ($rc: $(cat "$t/out5" "$t/err"))"

# --- bad input: one line, exit 2
bad() {   # description, expected text in the message, command...
    d=$1; e=$2; shift 2
    "$@" < /dev/null > /dev/null 2> "$t/berr"; rc=$?
    [ $rc = 2 ] && [ "$(wc -l < "$t/berr")" = 1 ] && grep -q -- "$e" "$t/berr" && ok "bad input: $d" || no "bad input: $d ($rc: $(cat "$t/berr"))"
}
bad "no frame source" "exactly one of" "$bin/sptt-stream" --ckpt "$ckpt"
bad "--ask without --at" "one --at per --ask" "$bin/sptt-stream" --ckpt "$ckpt" --frames "$t/png" --ask q
head -c 500 "$t/frames.rgb" > "$t/short.rgb"
bad "a truncated raw frame" "stdin: frame 2: 116 bytes of 192 (offset 500)" sh -c "\"$bin/sptt-stream\" --ckpt \"$ckpt\" --raw 8x8 < \"$t/short.rgb\""
bad "a scene that does not exist" "nosuch" "$bin/sptt-stream" --ckpt "$ckpt" --scene nosuch --db "$t/d.db"
printf 'x what\n' > "$t/q.txt"
bad "a question line without a frame count" "line 1" sh -c "\"$bin/sptt-stream\" --ckpt \"$ckpt\" --frames \"$t/png\" < \"$t/q.txt\""
# --device cuda needs the CUDA build (make cuda, bin-cuda/sptt-stream)
bad "--device cuda in a CPU build" "run make cuda" "$bin/sptt-stream" --ckpt "$ckpt" --frames "$t/png" --device cuda
