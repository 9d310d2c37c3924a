# Sourced, not run: the SIGKILL-and-resume check that tests/e2e/train_run.sh runs on the CPU and
# tests/cuda/device_check.sh on the GPU, and the loss column both compare.
#
# The caller defines  sptt_train OUT [ARGS...]: one sptt-train run writing OUT/metrics.jsonl, by
# exec, so that a background call's $! is sptt-train itself (the SIGKILL must reach the trainer,
# not a shell around it); kill_resume calls it in the foreground only inside a subshell.
#
# kill_resume DIR: a reference run into DIR/ref, then three runs into DIR/k, each killed with
# SIGKILL once it has written a varying number of loss rows (6, 11, 2) and run again with
# --resume. One "# trial" line each. Sets KR_REF (the reference run's status) and KR_FAILS (the
# trials whose resumed run failed or whose loss sequence is not the reference's, to the letter).

# The loss column of metrics.jsonl as text, one step per line: stage, step, loss.
losses() { grep '"loss"' "$1" | sed 's/.*"stage":\([0-9]*\),"step":\([0-9]*\),"loss":\([^,]*\),.*/\1 \2 \3/'; }

kill_resume() {
    (sptt_train "$1/ref") 2> "$1/err"; KR_REF=$?
    [ $KR_REF = 0 ] || echo "# reference run: $KR_REF $(cat "$1/err")"
    KR_FAILS=0
    for trial in 1 2 3; do
        rm -rf "$1/k"
        sptt_train "$1/k" 2>/dev/null &
        pid=$!
        want=$(( (trial * 5) % 14 + 1 ))
        i=0
        while [ $i -lt 1200 ] && [ "$(grep -c '"loss"' "$1/k/metrics.jsonl" 2>/dev/null || echo 0)" -lt $want ] && kill -0 $pid 2>/dev/null; do
            sleep 0.05; i=$((i + 1))
        done
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        got=$(grep -c '"loss"' "$1/k/metrics.jsonl" 2>/dev/null)
        (sptt_train "$1/k" --resume) 2> "$1/err"; rc=$?
        if [ $rc != 0 ] || [ "$(losses "$1/k/metrics.jsonl")" != "$(losses "$1/ref/metrics.jsonl")" ]; then
            KR_FAILS=$((KR_FAILS + 1))
            echo "# trial $trial (killed after ${got:-0} loss rows): $rc $(cat "$1/err")"
        else
            echo "# trial $trial: killed after ${got:-0} of $(losses "$1/ref/metrics.jsonl" | wc -l) loss rows, resumed: equal"
        fi
    done
}
