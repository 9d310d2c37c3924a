#!/bin/sh
# End-to-end checks of sptt-build on six small synthetic scenes (three ScanNet, three ARKitScenes):
# a one-process build, the same under mpirun -np 2, a run again (everything skipped), changed
# options (only the stages they shape redone), a kill -9 of one process and of a 2-rank job then
# a resume, a corrupt scene among good ones, sptt-build --merge alone, and usage errors.
# Prints ok / not ok.
#
# "Equal datasets" means equal dumps (dump below): every table of the schema but runs, every
# column but scene_id and qa_id, ingested_at, geometry_at and annotated_at, each value written by
# quote() (reals exactly), scene_id replaced by the scene's name, rows ordered by scene name then
# by their order of insertion (rowid). So two builds are equal when they hold the same scenes with
# the same rows in the same order within each scene. What is left out and why: scene_id and qa_id
# are surrogate keys numbered in the order scenes finish, which depends on how ranks shared them
# out; the *_at columns are wall-clock times; runs is the history of the commands run on the file.
# The packs, all in one folder, are also compared byte for byte.
. "$(dirname "$0")/../e2e_common.sh"
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"   # Open MPI's start-up allocations (train_run.sh)
export SPTT_PROGRESS=0
mpi() { mpirun --allow-run-as-root --oversubscribe -np "$@"; }
opts="--frames 8"

# The dump of dataset $1 (see above), one row per line.
dump() {
    for tab in $(sqlite3 "$1" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'runs' ORDER BY name"); do
        cols=$(sqlite3 "$1" "SELECT group_concat('quote(t.\"' || name || '\")', ',') FROM pragma_table_info('$tab')
                             WHERE name NOT IN ('scene_id', 'qa_id', 'ingested_at', 'geometry_at', 'annotated_at')")
        if [ "$tab" = scenes ]; then
            sqlite3 "$1" "SELECT '$tab', $cols FROM scenes t ORDER BY t.name"
        elif [ "$tab" = streams ]; then
            sqlite3 "$1" "SELECT '$tab', t.name, t.seed, t.n_rooms, t.n_frames, t.params FROM streams t ORDER BY t.name"
        elif [ "$tab" = stream_scenes ] || [ "$tab" = stream_qa ]; then
            # streams span scenes: rows by their stream's name, ids left out as scene_id is
            cols=$(sqlite3 "$1" "SELECT group_concat('quote(t.\"' || name || '\")', ',') FROM pragma_table_info('$tab')
                                 WHERE name NOT IN ('stream_id', 'stream_qa_id')")
            sqlite3 "$1" "SELECT '$tab', s.name, $cols FROM \"$tab\" t JOIN streams s ON s.stream_id = t.stream_id ORDER BY s.name, t.rowid"
        else
            sqlite3 "$1" "SELECT '$tab', s.name, $cols FROM \"$tab\" t JOIN scenes s ON s.scene_id = t.scene_id ORDER BY s.name, t.rowid"
        fi
    done
}
# Compares dataset folders $1 and $2 (dataset.db and packs/): prints what differs, nothing if equal.
same() {
    dump "$1/dataset.db" > "$t/dump1"
    dump "$2/dataset.db" > "$t/dump2"
    cmp -s "$t/dump1" "$t/dump2" || { echo "rows differ:"; diff "$t/dump1" "$t/dump2" | head -n 5; }
    (cd "$1/packs" && ls) > "$t/packs1"
    (cd "$2/packs" && ls) > "$t/packs2"
    cmp -s "$t/packs1" "$t/packs2" || echo "pack folders differ: $(diff "$t/packs1" "$t/packs2" | head -n 4)"
    for p in $(cat "$t/packs1"); do cmp -s "$1/packs/$p" "$2/packs/$p" || echo "pack $p differs"; done
}
rows() { dump "$1/dataset.db" | wc -l; }
summary() { sqlite3 "$1/dataset.db" "SELECT json_extract(summary, '\$.done') || ' ' || json_extract(summary, '\$.skipped') || ' ' ||
                                       json_extract(summary, '\$.failed') FROM runs WHERE tool = 'sptt-build' ORDER BY run_id DESC LIMIT 1"; }

"$bin/sptt-synth" --out "$t/raw" --scenes 3 --seed 5 --format both --frames 16 -q || { no "synth"; exit 1; }

# --- one process
mkdir "$t/one"
"$bin/sptt-build" --db "$t/one/dataset.db" $opts "$t/raw" > "$t/out" 2> "$t/err"; rc=$?
n=$(sqlite3 "$t/one/dataset.db" "SELECT count(*) FROM scenes WHERE annotated_geometry = geometry_hash AND geometry_input = input_hash")
nq=$(sqlite3 "$t/one/dataset.db" "SELECT count(*) FROM qa")
[ $rc = 0 ] && [ "$n" = 6 ] && [ "$nq" -gt 0 ] && grep -q "^  scenes  *6  *0  *0 " "$t/out" && [ "$(summary "$t/one")" = "6 0 0" ] \
    && ok "one process: 6 scenes found under one folder, ingested, measured and annotated ($nq questions); summary table 6 done" \
    || no "one process ($rc, $n annotated: $(cat "$t/err" "$t/out"))"
# Largest first: the scene lines come in the order of the size of the files directly in each
# scene's folder (largest first, then by name).
grep -v "^sptt-build\|^ " "$t/out" | cut -d: -f1 > "$t/order"
for d in "$t"/raw/scannet/scans/* "$t"/raw/arkitscenes/3dod/Training/*; do
    echo "$(find "$d" -maxdepth 1 -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') $(basename "$d")"
done | sort -k1,1nr -k2,2 | cut -d' ' -f2 > "$t/bysize"
cmp -s "$t/order" "$t/bysize" && ok "scenes are taken largest first: $(tr '\n' ' ' < "$t/order")" \
    || no "largest first: $(tr '\n' ' ' < "$t/order") against $(tr '\n' ' ' < "$t/bysize")"

# --- two ranks
mkdir "$t/two"
mpi 2 "$bin/sptt-build" --db "$t/two/dataset.db" $opts "$t/raw" > "$t/out2" 2> "$t/err2"; rc=$?
d=$(same "$t/one" "$t/two")
[ $rc = 0 ] && [ -z "$d" ] && [ -z "$(ls "$t/two" | grep shard)" ] && grep -q "6 scenes on 2 ranks" "$t/out2" \
    && ok "mpirun -np 2 equals one process: $(rows "$t/one") rows, $(ls "$t/one/packs" | wc -l) packs byte for byte; the shards are merged and gone" \
    || no "two ranks ($rc: $d $(cat "$t/err2"))"
# Each scene built once, and both ranks built some (each line names its rank).
r0=$(grep -c '^\[rank 0\] .*: ingest [0-9]' "$t/out2")
r1=$(grep -c '^\[rank 1\] .*: ingest [0-9]' "$t/out2")
[ $((r0 + r1)) = 6 ] && [ "$r0" -gt 0 ] && [ "$r1" -gt 0 ] && ok "two ranks: each scene built once, $r0 by rank 0 and $r1 by rank 1" \
    || no "two ranks built $r0 + $r1 scenes: $(cat "$t/out2")"

# --- run again: every stage of every scene is current
"$bin/sptt-build" --db "$t/one/dataset.db" $opts "$t/raw" > "$t/out" 2> "$t/err"; rc=$?
cp -R "$t/one" "$t/once"
[ $rc = 0 ] && [ "$(summary "$t/one")" = "0 6 0" ] && [ "$(grep -c 'ingest unchanged, geometry unchanged, annotate unchanged' "$t/out")" = 6 ] \
    && ok "run again with the same options: 6 scenes skipped, nothing written" || no "run again ($rc: $(cat "$t/out" "$t/err"))"
mpi 2 "$bin/sptt-build" --db "$t/two/dataset.db" $opts "$t/raw" > "$t/out2" 2> "$t/err2"; rc=$?
[ $rc = 0 ] && [ "$(summary "$t/two")" = "0 6 0" ] && [ -z "$(same "$t/one" "$t/two")" ] \
    && ok "two ranks run again: 6 scenes skipped from the dataset's rows, dataset unchanged" || no "two ranks again ($rc: $(cat "$t/err2"))"

# --- changed options redo what they shape: annotate's --seed only annotate; geometry's --obb
# geometry everywhere, and annotate where the boxes changed: the ScanNet scenes (ARKitScenes objects
# keep their annotation box, so their geometry results and annotations stay)
"$bin/sptt-build" --db "$t/one/dataset.db" $opts --seed 3 "$t/raw" > "$t/out" 2> "$t/err"; rc=$?
a=$(grep -c 'ingest unchanged, geometry unchanged, annotate [0-9]' "$t/out")
s=$(sqlite3 "$t/one/dataset.db" "SELECT count(DISTINCT seed) || ' ' || min(seed) FROM qa")
"$bin/sptt-build" --db "$t/one/dataset.db" $opts --seed 3 --obb upright "$t/raw" > "$t/out" 2> "$t/err"; rc2=$?
b=$(grep -c '^scene[0-9_]*: ingest unchanged, geometry [0-9.]* s, annotate [0-9]' "$t/out")
c=$(grep -c '^[0-9]*: ingest unchanged, geometry [0-9.]* s, annotate unchanged' "$t/out")
[ $rc$rc2 = 00 ] && [ "$a" = 6 ] && [ "$s" = "1 3" ] && [ "$b" = 3 ] && [ "$c" = 3 ] \
    && ok "changed options: --seed redoes annotate only (6 scenes); --obb redoes geometry (6) and annotate where boxes changed (3 ScanNet)" \
    || no "changed options ($rc $rc2, $a $b $c, seeds $s: $(cat "$t/err" "$t/out"))"

# --- kill -9 during a build, then resume: equal to the uninterrupted build
mkdir "$t/k"
: > "$t/outk"
"$bin/sptt-build" --db "$t/k/dataset.db" $opts "$t/raw" > "$t/outk" 2> "$t/errk" &
pid=$!
i=0
while [ "$(grep -c ': ingest ' "$t/outk")" -lt 2 ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
kill -KILL $pid 2> /dev/null
wait $pid 2> /dev/null; krc=$?
done_before=$(grep -c ': ingest ' "$t/outk")
"$bin/sptt-build" --db "$t/k/dataset.db" $opts "$t/raw" > "$t/out" 2> "$t/err"; rc=$?
d=$(same "$t/once" "$t/k")
[ $krc = 137 ] && [ "$done_before" -lt 6 ] && [ $rc = 0 ] && [ -z "$d" ] && [ -z "$(ls "$t/k/packs" | grep '\.tmp\.')" ] \
    && ok "kill -9 after $done_before scenes, then the same command: equals the uninterrupted build, no temporary left" \
    || no "kill and resume (killed: $krc after $done_before; resume $rc: $d $(cat "$t/err"))"

# --- kill -9 both ranks of a 2-rank job, then resume with one process: the shards left are merged
mkdir "$t/km"
: > "$t/outk"
# mpirun itself, not through mpi(), so that $! is mpirun and its children are the ranks.
mpirun --allow-run-as-root --oversubscribe -np 2 "$bin/sptt-build" --db "$t/km/dataset.db" $opts "$t/raw" > "$t/outk" 2> "$t/errk" &
mpid=$!
i=0
while [ "$(grep -c ': ingest ' "$t/outk")" -lt 3 ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done
ranks=$(ps -o pid= --ppid $mpid)
for p in $ranks; do kill -KILL "$p" 2> /dev/null; done
kill -KILL $mpid 2> /dev/null
wait $mpid 2> /dev/null
# The ranks are gone once init has reaped them; until then their pids still answer, and a pack
# temporary named after a live pid is rightly left alone.
for p in $ranks; do
    i=0
    while kill -0 "$p" 2> /dev/null && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
done
done_before=$(grep -c ': ingest ' "$t/outk")
shards=$(ls "$t/km" | grep -c 'dataset.db.shard-[0-9]*$')
"$bin/sptt-build" --db "$t/km/dataset.db" $opts "$t/raw" > "$t/out" 2> "$t/err"; rc=$?
d=$(same "$t/once" "$t/km")
left=$(ls "$t/km" | grep shard)
[ "$done_before" -lt 6 ] && [ "$shards" = 2 ] && [ $rc = 0 ] && [ -z "$d" ] && grep -q "left by an earlier run" "$t/out" \
    && [ -z "$left" ] \
    && ok "kill -9 of a 2-rank job after $done_before scenes, resumed by one process: its 2 shards merged first, equals the uninterrupted build" \
    || no "2-rank kill and resume (after $done_before, $shards shards; resume $rc: $d $(cat "$t/err" "$t/out"); left: $left)"

# --- a corrupt scene among good ones: reported with its stage and skipped, the others built
cp -R "$t/raw" "$t/bad"
s=$(ls "$t/bad/scannet/scans" | head -n 1)
ply="$t/bad/scannet/scans/$s/${s}_vh_clean_2.ply"
head -c 2000 "$ply" > "$ply.cut" && mv "$ply.cut" "$ply"
mkdir "$t/b"
"$bin/sptt-build" --db "$t/b/dataset.db" $opts "$t/bad" > "$t/out" 2> "$t/err"; rc=$?
n=$(sqlite3 "$t/b/dataset.db" "SELECT count(*) FROM scenes WHERE annotated_geometry = geometry_hash")
[ $rc = 1 ] && [ "$n" = 5 ] && [ "$(wc -l < "$t/err")" = 1 ] && grep -q "^sptt-build: $s: ingest failed: .*${s}_vh_clean_2.ply" "$t/err" \
    && grep -q "^  scenes  *5  *0  *1 " "$t/out" && grep -q "^  ingest  *5  *0  *1 " "$t/out" \
    && ok "a corrupt scene: one line (scene, stage, file: $(cut -c1-60 "$t/err")...), 5 others built, failed 1 in the table, status 1" \
    || no "corrupt scene ($rc, $n built: $(cat "$t/err" "$t/out"))"
mkdir "$t/bm"
mpi 2 "$bin/sptt-build" --db "$t/bm/dataset.db" $opts "$t/bad" > "$t/out" 2> "$t/err"; rc=$?
[ $rc = 1 ] && [ "$(sqlite3 "$t/bm/dataset.db" "SELECT count(*) FROM scenes WHERE annotated_geometry = geometry_hash")" = 5 ] \
    && grep -q "^sptt-build: $s: ingest failed" "$t/err" && [ "$(summary "$t/bm")" = "5 0 1" ] \
    && ok "the same under 2 ranks: reported by the rank that met it, status 1 from the job" || no "corrupt scene, 2 ranks ($rc: $(cat "$t/err"))"

# --- sptt-build --merge alone: two datasets built from disjoint halves merge into the whole
mkdir -p "$t/m" "$t/ha/scannet" "$t/hb/arkitscenes"
cp -R "$t/raw/scannet/"* "$t/ha/scannet/"
cp -R "$t/raw/arkitscenes/"* "$t/hb/arkitscenes/"
"$bin/sptt-build" --db "$t/m/a.db" $opts "$t/ha" -q && "$bin/sptt-build" --db "$t/m/b.db" $opts "$t/hb" -q \
    && "$bin/sptt-build" --merge "$t/m/dataset.db" "$t/m/b.db" "$t/m/a.db" > "$t/out" 2> "$t/err"; rc=$?
d=$(same "$t/once" "$t/m")
[ $rc = 0 ] && [ -z "$d" ] && grep -q "merged 3 scenes from" "$t/out" \
    && ok "--merge DB SHARD...: two half datasets merged equal the whole build" || no "--merge ($rc: $d $(cat "$t/err"))"
"$bin/sptt-build" --merge "$t/m/dataset.db" "$t/m/a.db" -q; rc=$?
[ $rc = 0 ] && [ -z "$(same "$t/once" "$t/m")" ] && ok "merging a shard twice changes nothing (scenes replaced by name)" \
    || no "merge twice ($rc)"
"$bin/sptt-build" --merge "$t/m/dataset.db" "$t/m/../m/dataset.db" -q 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "is the dataset merged into" "$t/err" && [ -z "$(same "$t/once" "$t/m")" ] \
    && ok "--merge refuses the dataset itself as a shard" || no "merge into itself ($rc: $(cat "$t/err"))"

# --- usage errors: one line, status 2, nothing created
"$bin/sptt-build" --db "$t/u.db" "$t/nowhere" 2> "$t/err"; r1=$?
"$bin/sptt-build" "$t/raw" 2>> "$t/err"; r2=$?
"$bin/sptt-build" --db "$t/u.db" --frames 0 "$t/raw" 2>> "$t/err"; r3=$?
mkdir -p "$t/nolabels/scans/scene0001_00"
"$bin/sptt-build" --db "$t/u.db" "$t/nolabels" 2>> "$t/err"; r4=$?
[ $r1$r2$r3$r4 = 2222 ] && [ "$(wc -l < "$t/err")" = 4 ] && [ ! -e "$t/u.db" ] && grep -q "nowhere: no such folder" "$t/err" \
    && grep -q "no scannetv2-labels.combined.tsv beside" "$t/err" \
    && ok "usage errors: a missing folder, no --db, a bad option value, ScanNet scenes without a label table: one line each, status 2" \
    || no "usage errors ($r1 $r2 $r3 $r4: $(cat "$t/err"))"
# The same folder given twice is one scene; another folder holding a scene of the same name is refused.
"$bin/sptt-build" --db "$t/two/dataset.db" $opts "$t/raw" "$t/raw/scannet" "$t/raw/arkitscenes/3dod" -q 2> "$t/err"; rc=$?
[ $rc = 0 ] && [ "$(summary "$t/two")" = "0 6 0" ] && ok "a folder reached through several source folders is one scene" || no "same folder twice ($rc: $(cat "$t/err"))"
mkdir -p "$t/dup/scans"
cp -R "$t/raw/scannet/scans/$s" "$t/dup/scans/"
"$bin/sptt-build" --db "$t/two/dataset.db" --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" "$t/raw" "$t/dup" 2> "$t/err"; rc=$?
[ $rc = 2 ] && grep -q "scene '$s' found twice: " "$t/err" && ok "two folders of one scene name: refused before anything is written, naming both" \
    || no "duplicate scene names ($rc: $(cat "$t/err"))"
"$bin/sptt-build" --help | grep -q "mpirun -np N sptt-build" && ok "--help shows the mpirun form" || no "--help"
