# The set-up every end-to-end script in tests/e2e shares, sourced (POSIX sh) as
#   . "$(dirname "$0")/../e2e_common.sh"
# It lives outside tests/e2e because tests/run.sh runs every script there.
#   $bin   the tools' folder ($SPTT_BIN, default bin) as an absolute path, so scripts may cd;
#   $t     a scratch folder, removed on exit;
#   ok/no  the "ok - ..." / "not ok - ..." lines tests/run.sh counts; no also sets $fail, which a
#          script may return as its status;
#   q      one query on the usual database, $t/d.db.
bin=$(cd "${SPTT_BIN:-bin}" 2>/dev/null && pwd) || bin=${SPTT_BIN:-bin}   # missing: the tools' calls fail
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail=0
ok() { echo "ok - $1"; }
no() { echo "not ok - $1"; fail=1; }
q() { sqlite3 "$t/d.db" "$1"; }

# The first interpreter of $SPTT_PYTHON (default: /usr/bin/python3, then python3 on PATH) that
# imports torch, printed; nothing when none does. Debian's python3-torch lives under
# /usr/bin/python3, while a python3 earlier on PATH (pyenv) may lack it.
torch_python() {
    for p in ${SPTT_PYTHON:-/usr/bin/python3 python3}; do
        if "$p" -c "import torch" >/dev/null 2>&1; then echo "$p"; return 0; fi
    done
    return 1
}

# A small dataset and a model trained on it, for the tools that need a checkpoint:
#   tiny_trained_model SCENES SEED STEPS BATCH VAL_FRACTION
# makes SCENES synthetic ScanNet scenes into $t/d.db (annotated with 8 frames a scene) and trains
# the default tiny model for STEPS steps of the QA stage; $ckpt names the last checkpoint. Fails
# (status 1) when any stage does. sptt-train is an Open MPI program whose start-up allocations
# LeakSanitizer would report, so leaks are checked for the tool under test, not for it.
tiny_trained_model() {
    "$bin/sptt-synth" --out "$t/raw" --scenes "$1" --seed "$2" -q &&
        "$bin/sptt-ingest" scannet "$t/raw/scannet/scans"/* --labels "$t/raw/scannet/scannetv2-labels.combined.tsv" \
            --db "$t/d.db" -q &&
        "$bin/sptt-geometry" --db "$t/d.db" -q && "$bin/sptt-annotate" --db "$t/d.db" --frames 8 -q &&
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        "$bin/sptt-train" --db "$t/d.db" --out "$t/run" --stage qa --steps "$3" --batch "$4" --val-fraction "$5" -q ||
        return 1
    ckpt=$(printf '%s/run/stage2/ckpt-%08d.safetensors' "$t" "$3")
}
