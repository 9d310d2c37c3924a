#!/bin/sh
# Crash test: every dataset tool killed with SIGKILL at a random moment, then the dataset checked
# and the same command run again to completion.
#
# Four synthetic scenes (two ScanNet, ingested without images so that annotate renders frames into
# their packs; two ARKitScenes, with images) go through sptt-ingest scannet, sptt-ingest
# arkitscenes, sptt-geometry (--png in odd trials) and sptt-annotate --render-frames (--masks in odd
# trials: the pictures cost a third of the run time, mostly in fsync). In each trial each of
# these four commands is started on the trial's dataset and killed after a random delay drawn over
# its whole run time (measured on a first build without any kill). After every kill:
#   - PRAGMA integrity_check is ok and PRAGMA foreign_key_check is empty;
#   - no scene is half-written, as a transaction per scene guarantees: each row holds its pack and
#     exactly the objects, frames and ingest warnings of the uninterrupted build; a scene with
#     geometry holds all of it (room, every box, object_boxes, warnings) and one without has none;
#     an annotated scene holds the annotations of the uninterrupted build, an unannotated one none;
#     its frame rows describe its pack as ingested or as annotate rendered into it, and a pack is
#     never behind its rows (annotate writes the rendered pack before the scene's transaction);
#   - every referenced pack exists and is byte for byte the uninterrupted build's; every finished
#     picture and mask is too.
# Then the command is run again: it exits 0, leaves no temporary file (*.tmp.*) in the packs,
# picture or mask folders and no pack that no row references, and the dataset equals the
# uninterrupted build at that stage (every table's rows, without ids and times; packs, pictures
# and masks byte for byte).
#
# CRASH_TRIALS (default 20) sets the number of trials, CRASH_SEED the seed of the delays (printed;
# a random one by default), CRASH_MS the six run times in ms the delays are drawn over (printed;
# measured by default), CRASH_KEEP=1 keeps the folder of a failed trial. Prints ok / not ok lines:
# three for kill moments made exactly, then one per trial, whose line says when each run was killed
# and how many scenes it had committed.
. "$(dirname "$0")/../e2e_common.sh"
trials=${CRASH_TRIALS:-20}
seed=${CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
export SPTT_PROGRESS=0
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
start=$(now_ms)

"$bin/sptt-synth" --out "$t/raw" --scenes 2 --format both --seed 11 --frames 8 -q || { no "synth"; exit 1; }
tsv="$t/raw/scannet/scannetv2-labels.combined.tsv"

# Runs stage $1 on the dataset folder $2 in place of the calling (sub)shell, so that $! is the
# tool's own pid. Not quiet: each scene's line is printed after its commit, which tells how far a
# killed run got.
stage() {
    case $1 in
        scannet) exec "$bin/sptt-ingest" scannet "$t"/raw/scannet/scans/* --labels "$tsv" --db "$2/dataset.db" --no-images ;;
        arkit) exec "$bin/sptt-ingest" arkitscenes "$t"/raw/arkitscenes/3dod/Training/* --db "$2/dataset.db" ;;
        geometry) [ "$pics" = 1 ] || exec "$bin/sptt-geometry" --db "$2/dataset.db"
            exec "$bin/sptt-geometry" --db "$2/dataset.db" --png "$2/png" ;;
        annotate) [ "$pics" = 1 ] || exec "$bin/sptt-annotate" --db "$2/dataset.db" --render-frames 64x48
            exec "$bin/sptt-annotate" --db "$2/dataset.db" --render-frames 64x48 --masks "$2/masks" ;;
    esac
}

# Every table's rows with scene names for ids and without ids or times that differ between builds.
dump_sql="
SELECT 'S', name, source, input_hash, pack_path, n_points, n_faces, n_frames, fps, alignment, room_area, room_height,
    room_center_x, room_center_y, room_center_z, room_polygon, room_flags, geometry_params, geometry_input, geometry_hash,
    annotated_geometry, annotate_params, split, ingested_at IS NOT NULL, geometry_at IS NOT NULL, annotated_at IS NOT NULL FROM scenes ORDER BY name;
SELECT 'W', s.name, w.stage, w.code, w.message FROM scene_warnings w JOIN scenes s USING(scene_id) ORDER BY 2, 3, 4, 5;
SELECT 'O', s.name, instance_id, raw_label, nyu40_id, label, category, o.n_points, center_x, center_y, center_z, size_x, size_y,
    size_z, axes, box_kind, box_flags FROM objects o JOIN scenes s USING(scene_id) ORDER BY 2, 3;
SELECT 'B', s.name, instance_id, kind, center_x, center_y, center_z, size_x, size_y, size_z, axes, volume, flags
    FROM object_boxes b JOIN scenes s USING(scene_id) ORDER BY 2, 3, 4;
SELECT 'F', s.name, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, height, has_image
    FROM frames f JOIN scenes s USING(scene_id) ORDER BY 2, 3;
SELECT 'V', s.name, frame_index, instance_id, pixels, x0, y0, x1, y1 FROM visibility v JOIN scenes s USING(scene_id) ORDER BY 2, 3, 4;
SELECT 'R', s.name, subject_id, relation, object_id, object2_id, value, frame_index FROM relations r JOIN scenes s USING(scene_id)
    ORDER BY 2, r.rowid;
SELECT 'Q', s.name, question_type, question, options, ground_truth, mc_answer, objects, prompt, meta, seed
    FROM qa q JOIN scenes s USING(scene_id) ORDER BY 2, qa_id;
SELECT 'D', s.name, variant, text, facts, seed FROM descriptions d JOIN scenes s USING(scene_id) ORDER BY 2, 3;
"

# The invariants of a transaction-per-scene design, checked against the uninterrupted build: $1 is
# the reference after ingest (frames and packs before annotate rendered into them), $2 the final
# one. Prints one line per problem.
check_sql() {
    cat <<EOF
ATTACH '$1/dataset.db' AS i;
ATTACH '$2/dataset.db' AS f;
.mode list
.separator |
CREATE TEMP VIEW rf AS SELECT s.name, o.* FROM f.objects o JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW cf AS SELECT s.name, o.* FROM main.objects o JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW fr_c AS SELECT s.name, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, height, has_image
    FROM main.frames JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW fr_i AS SELECT s.name, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, height, has_image
    FROM i.frames JOIN i.scenes s USING(scene_id);
CREATE TEMP VIEW fr_f AS SELECT s.name, frame_index, source_index, timestamp, pose, fx, fy, cx, cy, width, height, has_image
    FROM f.frames JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW w_c AS SELECT s.name, stage, code, message FROM main.scene_warnings JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW w_f AS SELECT s.name, stage, code, message FROM f.scene_warnings JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW b_c AS SELECT s.name, instance_id, kind, center_x, center_y, center_z, size_x, size_y, size_z, axes, volume, flags
    FROM main.object_boxes JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW b_f AS SELECT s.name, instance_id, kind, center_x, center_y, center_z, size_x, size_y, size_z, axes, volume, flags
    FROM f.object_boxes JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW q_c AS SELECT s.name, question_type, question, options, ground_truth, mc_answer, objects, prompt, meta, q.seed
    FROM main.qa q JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW q_f AS SELECT s.name, question_type, question, options, ground_truth, mc_answer, objects, prompt, meta, q.seed
    FROM f.qa q JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW d_c AS SELECT s.name, variant, text, facts, d.seed FROM main.descriptions d JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW d_f AS SELECT s.name, variant, text, facts, d.seed FROM f.descriptions d JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW v_c AS SELECT s.name, frame_index, instance_id, pixels, x0, y0, x1, y1 FROM main.visibility JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW v_f AS SELECT s.name, frame_index, instance_id, pixels, x0, y0, x1, y1 FROM f.visibility JOIN f.scenes s USING(scene_id);
CREATE TEMP VIEW r_c AS SELECT s.name, subject_id, relation, object_id, object2_id, value, frame_index FROM main.relations JOIN main.scenes s USING(scene_id);
CREATE TEMP VIEW r_f AS SELECT s.name, subject_id, relation, object_id, object2_id, value, frame_index FROM f.relations JOIN f.scenes s USING(scene_id);
CREATE TEMP TABLE n AS SELECT name,
    (SELECT count(*) FROM cf WHERE cf.name=s.name) AS c_obj, (SELECT count(*) FROM rf WHERE rf.name=s.name) AS f_obj,
    (SELECT count(*) FROM fr_c WHERE fr_c.name=s.name) AS c_fr, (SELECT max(frame_index) FROM fr_c WHERE fr_c.name=s.name) AS c_frmax,
    (SELECT count(*) FROM b_c WHERE b_c.name=s.name) AS c_b, (SELECT count(*) FROM b_f WHERE b_f.name=s.name) AS f_b,
    (SELECT count(*) FROM q_c WHERE q_c.name=s.name) AS c_q, (SELECT count(*) FROM q_f WHERE q_f.name=s.name) AS f_q,
    (SELECT count(*) FROM d_c WHERE d_c.name=s.name) AS c_d, (SELECT count(*) FROM d_f WHERE d_f.name=s.name) AS f_d,
    (SELECT count(*) FROM v_c WHERE v_c.name=s.name) AS c_v, (SELECT count(*) FROM v_f WHERE v_f.name=s.name) AS f_v,
    (SELECT count(*) FROM r_c WHERE r_c.name=s.name) AS c_r, (SELECT count(*) FROM r_f WHERE r_f.name=s.name) AS f_r
    FROM main.scenes s;

SELECT 'integrity_check: ' || integrity_check FROM pragma_integrity_check WHERE integrity_check <> 'ok';
SELECT 'foreign_key_check: ' || "table" || ' row ' || rowid || ' -> ' || parent FROM pragma_foreign_key_check;

-- ingest: the row, its pack path, objects, frames and warnings, all or nothing
SELECT name || ': not a scene of the uninterrupted build' FROM main.scenes WHERE name NOT IN (SELECT name FROM f.scenes);
SELECT name || ': row without pack_path, input_hash, ingested_at or n_frames' FROM main.scenes
    WHERE pack_path IS NULL OR input_hash IS NULL OR ingested_at IS NULL OR n_frames IS NULL;
SELECT c.name || ': row differs from the uninterrupted ingest' FROM main.scenes c JOIN f.scenes g USING(name)
    WHERE c.source IS NOT g.source OR c.input_hash IS NOT g.input_hash OR c.pack_path IS NOT g.pack_path
    OR c.n_points IS NOT g.n_points OR c.n_faces IS NOT g.n_faces OR c.n_frames IS NOT g.n_frames OR c.fps IS NOT g.fps
    OR c.alignment IS NOT g.alignment;
SELECT s.name || ': ' || c_fr || ' frames rows (last index ' || ifnull(c_frmax, 'none') || '), n_frames ' || s.n_frames
    FROM main.scenes s JOIN n USING(name) WHERE c_fr <> s.n_frames OR ifnull(c_frmax, -1) <> s.n_frames - 1;
SELECT name || ': ' || c_obj || ' objects, the uninterrupted build has ' || f_obj FROM n WHERE c_obj <> f_obj OR c_obj = 0;
SELECT DISTINCT name || ': objects differ from the uninterrupted ingest' FROM (
    SELECT name, instance_id, raw_label, nyu40_id, label, category, n_points FROM cf
    EXCEPT SELECT name, instance_id, raw_label, nyu40_id, label, category, n_points FROM rf);
SELECT s.name || ': ingest warnings differ from the uninterrupted build' FROM main.scenes s WHERE
    EXISTS (SELECT * FROM w_c WHERE w_c.name = s.name AND stage = 'ingest' EXCEPT SELECT * FROM w_f WHERE w_f.name = s.name AND stage = 'ingest')
    OR EXISTS (SELECT * FROM w_f WHERE w_f.name = s.name AND stage = 'ingest' EXCEPT SELECT * FROM w_c WHERE w_c.name = s.name AND stage = 'ingest');
-- the frames rows describe either the ingested pack or the one annotate rendered into, not a mix
SELECT DISTINCT name || ': frames rows match neither the ingested nor the rendered pack' FROM n
    WHERE EXISTS (SELECT * FROM fr_c WHERE fr_c.name = n.name EXCEPT SELECT * FROM fr_i WHERE fr_i.name = n.name)
    AND EXISTS (SELECT * FROM fr_c WHERE fr_c.name = n.name EXCEPT SELECT * FROM fr_f WHERE fr_f.name = n.name);

-- geometry: all of it or none of it
SELECT name || ': geometry_at set but room, polygon, params or hashes missing' FROM main.scenes WHERE geometry_at IS NOT NULL
    AND (room_area IS NULL OR room_height IS NULL OR room_center_x IS NULL OR room_center_y IS NULL OR room_center_z IS NULL
    OR room_polygon IS NULL OR room_flags IS NULL OR geometry_params IS NULL OR geometry_input IS NOT input_hash OR geometry_hash IS NULL);
SELECT c.name || ': geometry differs from the uninterrupted build' FROM main.scenes c JOIN f.scenes g USING(name)
    WHERE c.geometry_at IS NOT NULL AND (c.geometry_hash IS NOT g.geometry_hash OR c.room_area IS NOT g.room_area
    OR c.room_polygon IS NOT g.room_polygon OR c.room_height IS NOT g.room_height);
SELECT s.name || ': geometry_at set but object ' || o.instance_id || ' (' || o.label || ') has no box and no skip flag'
    FROM main.scenes s JOIN main.objects o USING(scene_id)
    WHERE s.geometry_at IS NOT NULL AND o.label NOT IN ('wall', 'floor', 'ceiling') AND o.box_kind IS NULL AND o.box_flags IS NULL;
SELECT DISTINCT s.name || ': geometry_at set but object boxes differ from the uninterrupted build' FROM main.scenes s
    JOIN (SELECT name, instance_id, center_x, center_y, center_z, size_x, size_y, size_z, axes, box_kind, box_flags FROM cf
          EXCEPT SELECT name, instance_id, center_x, center_y, center_z, size_x, size_y, size_z, axes, box_kind, box_flags FROM rf) USING(name)
    WHERE s.geometry_at IS NOT NULL;
SELECT s.name || ': geometry_at set but ' || c_b || ' object_boxes rows, ' || f_b || ' expected' FROM main.scenes s JOIN n USING(name)
    WHERE s.geometry_at IS NOT NULL AND (c_b <> f_b
    OR EXISTS (SELECT * FROM b_c WHERE b_c.name = s.name EXCEPT SELECT * FROM b_f WHERE b_f.name = s.name));
SELECT s.name || ': geometry_at set but geometry warnings differ' FROM main.scenes s WHERE s.geometry_at IS NOT NULL AND (
    EXISTS (SELECT * FROM w_c WHERE w_c.name = s.name AND stage = 'geometry' EXCEPT SELECT * FROM w_f WHERE w_f.name = s.name AND stage = 'geometry')
    OR EXISTS (SELECT * FROM w_f WHERE w_f.name = s.name AND stage = 'geometry' EXCEPT SELECT * FROM w_c WHERE w_c.name = s.name AND stage = 'geometry'));
SELECT s.name || ': no geometry_at but geometry results present' FROM main.scenes s JOIN n USING(name) WHERE s.geometry_at IS NULL
    AND (s.geometry_hash IS NOT NULL OR s.room_area IS NOT NULL OR c_b > 0
    OR EXISTS (SELECT 1 FROM main.objects o WHERE o.scene_id = s.scene_id AND (o.box_kind IS NOT NULL OR o.center_x IS NOT NULL))
    OR EXISTS (SELECT 1 FROM w_c WHERE w_c.name = s.name AND stage = 'geometry'));

-- annotate: all of it or none of it
SELECT s.name || ': annotated_at set but annotated_geometry ' || ifnull(annotated_geometry, 'NULL') || ' <> geometry_hash '
    || ifnull(geometry_hash, 'NULL') FROM main.scenes s WHERE annotated_at IS NOT NULL AND annotated_geometry IS NOT geometry_hash;
SELECT s.name || ': annotated_at set but ' || c_q || ' qa, ' || c_d || ' descriptions, ' || c_v || ' visibility, ' || c_r
    || ' relations rows; expected ' || f_q || ', ' || f_d || ', ' || f_v || ', ' || f_r FROM main.scenes s JOIN n USING(name)
    WHERE annotated_at IS NOT NULL AND (c_q <> f_q OR c_q = 0 OR c_d <> f_d OR c_d = 0 OR c_v <> f_v OR c_r <> f_r);
SELECT DISTINCT name || ': annotated, but qa differ from the uninterrupted build' FROM (SELECT * FROM q_c EXCEPT SELECT * FROM q_f);
SELECT DISTINCT name || ': annotated, but descriptions differ from the uninterrupted build' FROM (SELECT * FROM d_c EXCEPT SELECT * FROM d_f);
SELECT DISTINCT name || ': annotated, but visibility differs from the uninterrupted build' FROM (SELECT * FROM v_c EXCEPT SELECT * FROM v_f);
SELECT DISTINCT name || ': annotated, but relations differ from the uninterrupted build' FROM (SELECT * FROM r_c EXCEPT SELECT * FROM r_f);
SELECT s.name || ': annotated_at set but annotate warnings differ' FROM main.scenes s WHERE s.annotated_at IS NOT NULL AND (
    EXISTS (SELECT * FROM w_c WHERE w_c.name = s.name AND stage = 'annotate' EXCEPT SELECT * FROM w_f WHERE w_f.name = s.name AND stage = 'annotate')
    OR EXISTS (SELECT * FROM w_f WHERE w_f.name = s.name AND stage = 'annotate' EXCEPT SELECT * FROM w_c WHERE w_c.name = s.name AND stage = 'annotate'));
SELECT s.name || ': no annotated_at but ' || c_q || ' qa, ' || c_d || ' descriptions, ' || c_v || ' visibility, ' || c_r
    || ' relations rows' FROM main.scenes s JOIN n USING(name) WHERE annotated_at IS NULL AND c_q + c_d + c_v + c_r > 0;
SELECT s.name || ': no annotated_at but annotate warnings' FROM main.scenes s WHERE annotated_at IS NULL
    AND EXISTS (SELECT 1 FROM w_c WHERE w_c.name = s.name AND stage = 'annotate');

-- for the shell: each pack, and which reference its frames rows follow (i: ingested, f: rendered)
SELECT 'PACK|' || name || '|' || pack_path || '|' ||
    CASE WHEN EXISTS (SELECT * FROM fr_c WHERE fr_c.name = n.name EXCEPT SELECT * FROM fr_f WHERE fr_f.name = n.name) THEN 'i' ELSE 'f' END
    FROM n JOIN main.scenes USING(name);
EOF
}

# Lists "cksum size path" of every finished file in folder $1 (temporaries left out), sorted.
files_list() {
    [ -d "$1" ] || return 0
    (cd "$1" && find . -type f ! -name '*.tmp.*' | LC_ALL=C sort | xargs -r cksum)
}

# Checks the dataset folder $1 right after a kill; prints one line per problem.
check_killed() {
    w=$1
    [ -e "$w/dataset.db" ] || return 0     # killed before the dataset was created
    # Creation is one transaction: no table and no identity yet, or the whole schema with it.
    state=$(sqlite3 "$w/dataset.db" "SELECT count(*), (SELECT application_id FROM pragma_application_id),
        (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema WHERE name = 'scenes') FROM sqlite_schema" 2>&1)
    case $state in
        "0|0|0|0") return 0 ;;
        *"|1397773396|4|1") ;;
        *) echo "half-created dataset: $state (tables, application_id, user_version, scenes table)"; return 0 ;;
    esac
    check_sql "$ref0" "$ref" | sqlite3 "$w/dataset.db" > "$t/chk" 2>&1 || echo "sqlite3 failed: $(cat "$t/chk")"
    grep -v '^PACK|' "$t/chk"
    grep '^PACK|' "$t/chk" | while IFS='|' read -r _ name pack which; do
        case $pack in /*) p=$pack ;; *) p="$w/$pack" ;; esac
        # Rows that describe the rendered pack need it; rows still at the ingested pack may find
        # it rendered already (annotate writes the pack before the scene's transaction).
        if [ ! -f "$p" ]; then echo "$name: pack $pack missing"
        elif ! cmp -s "$p" "$ref/$pack" && { [ "$which" = f ] || ! cmp -s "$p" "$ref0/$pack"; }; then
            echo "$name: pack $pack is neither the uninterrupted build's ingested nor its rendered one (frames rows follow the $which one)"
        fi
    done
    # Every finished picture and mask is the uninterrupted build's.
    for d in png masks; do
        files_list "$w/$d" > "$t/l1"
        files_list "$ref/$d" > "$t/l2"
        grep -v -x -F -f "$t/l2" "$t/l1" | sed "s|^|$d: not the uninterrupted build's file: |"
    done
}

# Checks the dataset folder $1 after a complete rerun of stage $2 against the reference $3 of that stage.
check_rerun() {
    w=$1
    find "$w" -name '*.tmp.*' | sed "s|^$w/|temporary file left: |"
    # Only referenced packs in packs/.
    sqlite3 "$w/dataset.db" "SELECT pack_path FROM scenes" | LC_ALL=C sort > "$t/l1"
    (cd "$w" && find packs -type f ! -name '*.tmp.*' | LC_ALL=C sort) > "$t/l2"
    LC_ALL=C comm -13 "$t/l1" "$t/l2" | sed 's/^/pack no row references: /'
    sqlite3 "$w/dataset.db" "$dump_sql" > "$t/d1"
    sqlite3 "$3/dataset.db" "$dump_sql" > "$t/d2"
    if ! cmp -s "$t/d1" "$t/d2"; then
        echo "the dataset differs from the uninterrupted build after $2:"
        diff "$t/d2" "$t/d1" | head -n 6 | cut -c1-300
    fi
    dirs=packs
    [ "$pics" = 1 ] && dirs="packs png masks"
    for d in $dirs; do
        files_list "$w/$d" > "$t/l1"
        files_list "$3/$d" > "$t/l2"
        cmp -s "$t/l1" "$t/l2" || echo "$d/ differs from the uninterrupted build's after $2"
    done
}

# --- the uninterrupted build, timed stage by stage, with a snapshot after each stage; then
# geometry and annotate timed again without pictures (on copies, which must give the same rows)
ref="$t/ref"
ref0="$t/ref-ingest"
ref1="$t/ref-geometry"
mkdir -p "$ref"
pics=1
for s in scannet arkit geometry annotate; do
    t0=$(now_ms)
    (stage $s "$ref") > "$t/out" 2> "$t/err" || { no "uninterrupted $s ($(cat "$t/err"))"; exit 1; }
    eval "ms_$s=$(( $(now_ms) - t0 ))"
    case $s in
        arkit) cp -R "$ref" "$ref0" ;;
        geometry) cp -R "$ref" "$ref1" ;;
    esac
done
n=$(sqlite3 "$ref/dataset.db" "SELECT count(*) FROM scenes WHERE annotated_at IS NOT NULL AND
    (SELECT count(*) FROM qa WHERE qa.scene_id = scenes.scene_id) > 0")
[ "$n" = 4 ] || { no "uninterrupted build: $n of 4 scenes annotated with questions"; exit 1; }
pics=0
w="$t/w"
rm -rf "$w"
cp -R "$ref0" "$w"
for s in geometry annotate; do
    t0=$(now_ms)
    (stage $s "$w") > "$t/out" 2> "$t/err" || { no "uninterrupted $s without pictures ($(cat "$t/err"))"; exit 1; }
    eval "ms_${s}_nopics=$(( $(now_ms) - t0 ))"
    if [ $s = geometry ]; then r="$ref1"; else r="$ref"; fi
    problems=$(check_rerun "$w" $s "$r")
    [ -z "$problems" ] || { no "uninterrupted $s without pictures: $problems"; exit 1; }
done
ms="$ms_scannet $ms_arkit $ms_geometry $ms_annotate $ms_geometry_nopics $ms_annotate_nopics"
[ -z "$CRASH_MS" ] || ms=$CRASH_MS
echo "# uninterrupted run times (ms): ingest scannet, arkitscenes, geometry --png, annotate --masks, geometry, annotate: $ms"
echo "# seed $seed, $trials trials: CRASH_SEED=$seed CRASH_MS='$ms' repeats the delays"

# --- kill moments made exactly. A pid surely gone names the temporaries of killed writers.
sh -c 'exit 0' &
dead=$!
wait $dead
# Ingest --force killed while rewriting a current scene's pack: the rerun, without --force, finds
# every scene unchanged and must still remove the temporary.
pics=1
rm -rf "$w"
cp -R "$ref0" "$w"
p=$(sqlite3 "$ref0/dataset.db" "SELECT pack_path FROM scenes WHERE source = 'arkitscenes' ORDER BY name LIMIT 1")
head -c 5000 "$ref0/$p" > "$w/$p.tmp.$dead"
(stage arkit "$w") > "$t/out" 2> "$t/err"
rc=$?
problems=$(check_rerun "$w" arkit "$ref0")
[ $rc = 0 ] && grep -q "0 ingested, 2 unchanged" "$t/out" && [ -z "$problems" ] \
    && ok "ingest that skips every scene removes the temporary pack of a killed --force run" \
    || no "ingest after a killed --force run ($rc: $(cat "$t/out" "$t/err") $problems)"
# The two that random trials found first: annotate killed between rendering scene A's pack and
# committing A (A's rendered pack beside its unrendered rows), and while writing scene B's
# rendered pack (a dead writer's temporary beside B's pack).
rm -rf "$w"
cp -R "$ref1" "$w"
set -- $(sqlite3 "$ref/dataset.db" "SELECT pack_path FROM scenes WHERE source = 'scannet' ORDER BY name")
cp "$ref/$1" "$w/$1"
head -c 5000 "$ref/$2" > "$w/$2.tmp.$dead"
(stage annotate "$w") > "$t/out" 2> "$t/err"
rc=$?
problems=$(check_rerun "$w" annotate "$ref")
[ $rc = 0 ] && [ -z "$problems" ] \
    && ok "annotate after a kill between a rendered pack and its commit, and during a pack's write: the rows follow the pack, the temporary goes" \
    || no "annotate after a rendered pack without its commit and a dead writer's temporary ($rc: $(cat "$t/err") $problems)"
# What a trial's rerun does when the kill came after the last commit.
rm -rf "$w"
cp -R "$ref" "$w"
(stage annotate "$w") > "$t/out" 2> "$t/err"
rc=$?
problems=$(check_rerun "$w" annotate "$ref")
[ $rc = 0 ] && [ -z "$problems" ] && ok "annotate --render-frames run again on its own result changes nothing" \
    || no "annotate run again ($rc: $(cat "$t/err") $problems)"

# Delays in seconds, drawn uniformly over each stage's run time (odd trials with pictures, even ones
# without): trial scannet arkit geometry annotate.
# awk's own rand() differs between awks (and mawk's is poor for large seeds): Park and Miller's
# generator, exact in doubles, gives the same delays everywhere.
echo "$ms" | awk -v seed="$seed" -v n="$trials" '
function u() { x = (x * 16807) % 2147483647; return x / 2147483647 }
{
    x = seed % 2147483646 + 1;
    for (k = 0; k < 10; k++) u();
    for (i = 1; i <= n; i++) {
        g = i % 2 ? $3 : $5; a = i % 2 ? $4 : $6;
        printf "%d %.3f %.3f %.3f %.3f\n", i, u() * $1 / 1000, u() * $2 / 1000, u() * g / 1000, u() * a / 1000;
    }
}' > "$t/delays"

killed=0
finished=0
failed=0
# The delays come in on descriptor 3, so that nothing a trial runs can read them from stdin.
while read -r i d_scannet d_arkit d_geometry d_annotate <&3; do
    rm -rf "$w"
    mkdir -p "$w"
    bad=""
    notes=""
    # Odd trials create the dataset with the ScanNet ingest and write pictures, even ones create it
    # with the ARKitScenes ingest and write none.
    if [ $((i % 2)) = 1 ]; then
        order="scannet arkit geometry annotate" pics=1
    else
        order="arkit scannet geometry annotate" pics=0
    fi
    for s in $order; do
        eval "d=\$d_$s"
        (stage $s "$w") > "$t/out" 2> "$t/err" &
        pid=$!
        sleep "$d"
        kill -KILL $pid 2> /dev/null
        wait $pid 2> /dev/null
        rc=$?
        lines=$(grep -c -v -e '^sptt-' -e '^ ' -e '^questions' "$t/out")
        if [ $rc = 137 ]; then
            killed=$((killed + 1))
            notes="$notes $s killed at ${d}s after $lines scenes;"
        else
            finished=$((finished + 1))
            notes="$notes $s finished (status $rc) before ${d}s;"
            [ $rc = 0 ] || bad="$bad
$s exited $rc before the kill: $(cat "$t/err")"
        fi
        problems=$(check_killed "$w")
        [ -z "$problems" ] || bad="$bad
after killing $s at ${d}s ($lines scenes done):
$problems"
        (stage $s "$w") > "$t/out" 2> "$t/err"
        rc=$?
        [ $rc = 0 ] || bad="$bad
rerun of $s exited $rc: $(cat "$t/err")"
        case $s in
            geometry) r="$ref1" ;;
            annotate) r="$ref" ;;
            *) r="" ;;
        esac
        # After the first ingest only half the scenes are in; the second one completes the stage.
        case "$order" in "$s"*) r=partial ;; esac
        if [ "$r" = partial ]; then
            problems=$(check_killed "$w"; find "$w" -name '*.tmp.*' | sed "s|^$w/|temporary file left: |")
        else
            problems=$(check_rerun "$w" "$s" "${r:-$ref0}")
        fi
        [ -z "$problems" ] || bad="$bad
after the rerun of $s:
$problems"
    done
    if [ -z "$bad" ]; then
        ok "trial $i:$notes consistent after each kill, each rerun completed it"
    else
        failed=$((failed + 1))
        no "trial $i:$notes"
        echo "$bad" | sed 's/^/#   /'
        if [ -n "$CRASH_KEEP" ]; then
            k=$(mktemp -d)
            cp -R "$w" "$k/"
            echo "#   kept in $k/w"
        fi
    fi
done 3< "$t/delays"
echo "# $trials trials, $failed failed: $killed runs killed mid-run, $finished finished before their kill; $(( $(now_ms) - start )) ms in all"
[ $failed = 0 ]
