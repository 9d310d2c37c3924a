#!/bin/sh
# sptt-build scaling: one synthetic set of scenes (half ScanNet, half ARKitScenes) built from
# scratch under mpirun -np N for each N given, one thread per rank.
#
#   tests/bench/build_scaling.sh [NRANKS...]          (default: 1 2)
#
# Prints one parseable line per rank count:
#   build_scaling ranks=N scenes=S seconds=T scenes_per_hour=R speedup=X ingest=I% geometry=G% annotate=A% wall=W
# seconds is the build's own time (from its start to the merged dataset, as sptt-build records it
# in the runs table), wall adds mpirun's start; speedup is scenes_per_hour over that of the first
# rank count given; the stage shares are of the time the ranks spent in each stage, summed over
# ranks. The datasets are checked to hold every scene annotated, and equal row for row to the
# first count's (tests/e2e/build.sh's comparison, reduced to a checksum).
#
# Environment: SPTT_BIN (default bin), BUILD_SCENES (default 20, even), BUILD_SCALE (small or
# scannet, default small), BUILD_MPIRUN (default: mpirun, with --allow-run-as-root when root and
# --oversubscribe).
#
# BUILD_ALONE=1 measures the machine's own ceiling instead, for each N given: N independent
# one-process builds (no MPI), each of BUILD_SCENES scenes of its own, started side by side,
# against one of them alone:
#   build_alone n=N scenes_each=S alone=T side_by_side=W slowest=X ceiling=C%
# ceiling = alone / side_by_side wall: the share of N times one build's throughput the machine
# gives when N cores are busy, which no rank count N can beat.
bin=$(cd "${SPTT_BIN:-bin}" && pwd)
scenes=${BUILD_SCENES:-20}
scale=${BUILD_SCALE:-small}
[ $# -gt 0 ] || set -- 1 2
if [ -n "$BUILD_MPIRUN" ]; then
    mpi=$BUILD_MPIRUN
elif [ "$(id -u)" = 0 ]; then
    mpi="mpirun --allow-run-as-root --oversubscribe"
else
    mpi="mpirun --oversubscribe"
fi
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 SPTT_PROGRESS=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Every table but runs, without ids and times, scene ids as names (see tests/e2e/build.sh).
checksum() {
    for tab in $(sqlite3 "$1" "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'runs' ORDER BY name"); do
        cols=$(sqlite3 "$1" "SELECT group_concat('quote(t.\"' || name || '\")', ',') FROM pragma_table_info('$tab')
                             WHERE name NOT IN ('scene_id', 'qa_id', 'ingested_at', 'geometry_at', 'annotated_at',
                                                'stream_id', 'stream_qa_id', 'created_at')")
        keyed=$(sqlite3 "$1" "SELECT count(*) FROM pragma_table_info('$tab') WHERE name = 'scene_id'")
        if [ "$keyed" = 0 ]; then
            # long-horizon streams: no scene id; their rows in a fixed order
            sqlite3 "$1" "SELECT $cols FROM \"$tab\" t" | LC_ALL=C sort
        elif [ "$tab" = scenes ]; then
            sqlite3 "$1" "SELECT $cols FROM scenes t ORDER BY t.name"
        else
            sqlite3 "$1" "SELECT s.name, $cols FROM \"$tab\" t JOIN scenes s ON s.scene_id = t.scene_id ORDER BY s.name, t.rowid"
        fi
    done | cksum | cut -d' ' -f1
}

if [ "${BUILD_ALONE:-0}" = 1 ]; then
    export SPTT_PROGRESS=0
    for n in "$@"; do
        rm -rf "$t"/raw* "$t"/alone*
        i=1
        while [ $i -le "$n" ]; do
            "$bin/sptt-synth" --out "$t/raw$i" --scenes $((scenes / 2)) --format both --scale "$scale" --seed $i -q &
            i=$((i + 1))
        done
        wait
        t0=$(now_ms)
        "$bin/sptt-build" --db "$t/alone0.db" "$t/raw1" -q || { echo "build_alone: the build failed" >&2; exit 1; }
        alone=$(( $(now_ms) - t0 ))
        t0=$(now_ms)
        i=1
        while [ $i -le "$n" ]; do
            ( s0=$(now_ms); "$bin/sptt-build" --db "$t/alone$i.db" "$t/raw$i" -q; echo $(( $(now_ms) - s0 )) > "$t/alone$i.ms" ) &
            i=$((i + 1))
        done
        wait
        side=$(( $(now_ms) - t0 ))
        slow=$(cat "$t"/alone*.ms | sort -n | tail -n 1)
        awk -v n="$n" -v s="$scenes" -v a="$alone" -v w="$side" -v x="$slow" 'BEGIN {
            printf "build_alone n=%d scenes_each=%d alone=%.2f side_by_side=%.2f slowest=%.2f ceiling=%.0f%%\n",
                n, s, a / 1000, w / 1000, x / 1000, 100 * a / w }'
    done
    exit 0
fi

"$bin/sptt-synth" --out "$t/raw" --scenes $((scenes / 2)) --format both --scale "$scale" --seed 1 -q || { echo "synth failed" >&2; exit 1; }
echo "# $scenes synthetic scenes ($scale), $(du -s -m "$t/raw" | cut -f1) MB; $(getconf _NPROCESSORS_ONLN) cores; one thread per rank"
status=0
base=""
sum0=""
for n in "$@"; do
    rm -rf "$t/d"
    mkdir "$t/d"
    t0=$(now_ms)
    $mpi -np "$n" "$bin/sptt-build" --db "$t/d/dataset.db" "$t/raw" -q > "$t/out" 2>&1
    rc=$?
    wall=$(( $(now_ms) - t0 ))
    good=$(sqlite3 "$t/d/dataset.db" "SELECT count(*) FROM scenes WHERE annotated_geometry = geometry_hash" 2> /dev/null)
    if [ $rc != 0 ] || [ "$good" != "$scenes" ]; then
        echo "build_scaling ranks=$n failed (status $rc, $good of $scenes scenes): $(tail -n 5 "$t/out")" >&2
        status=1
        continue
    fi
    sum=$(checksum "$t/d/dataset.db")
    [ -n "$sum0" ] || sum0=$sum
    [ "$sum" = "$sum0" ] || { echo "build_scaling ranks=$n: dataset differs from the first build's" >&2; status=1; }
    sqlite3 -separator ' ' "$t/d/dataset.db" "SELECT json_extract(summary, '\$.seconds'), json_extract(summary, '\$.stages.ingest.seconds'),
        json_extract(summary, '\$.stages.geometry.seconds'), json_extract(summary, '\$.stages.annotate.seconds')
        FROM runs WHERE tool = 'sptt-build' ORDER BY run_id DESC LIMIT 1" > "$t/sum"
    read -r secs si sg sa < "$t/sum"
    line=$(awk -v n="$n" -v s="$scenes" -v secs="$secs" -v si="$si" -v sg="$sg" -v sa="$sa" -v wall="$wall" -v base="$base" 'BEGIN {
        rate = s * 3600 / secs; tot = si + sg + sa;
        printf "build_scaling ranks=%d scenes=%d seconds=%.2f scenes_per_hour=%.0f speedup=%.2f ingest=%.0f%% geometry=%.0f%% annotate=%.0f%% wall=%.2f",
            n, s, secs, rate, base == "" ? 1 : rate / base, 100 * si / tot, 100 * sg / tot, 100 * sa / tot, wall / 1000 }')
    [ -n "$base" ] || base=$(awk -v s="$scenes" -v secs="$secs" 'BEGIN { printf "%.6f", s * 3600 / secs }')
    echo "$line"
done
exit $status
