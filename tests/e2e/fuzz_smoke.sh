#!/bin/sh
# Smoke run of make fuzz, so the harnesses keep building: the clang build, the seed corpora and
# every harness for 2 s over its corpus, all in a fresh temporary build folder (a developer's
# build-fuzz/ and its grown corpora are left alone). 30 to 45 s on two cores, clang build included.
. "$(dirname "$0")/../e2e_common.sh"

if ! command -v clang > /dev/null 2>&1; then
    echo "# SKIP fuzz smoke: clang is not installed (make deps installs it)"
    exit 0
fi
harnesses=$(ls tests/fuzz/fuzz_*.c | sed 's|tests/fuzz/fuzz_||; s|\.c$||')
start=$(date +%s)
# A make started from a script is not part of the caller's jobserver: clear what it passed down.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -j2 --no-print-directory fuzz FUZZ_B="$t/bf" FUZZ_SECONDS=2 \
    FUZZ_TOOLS="$bin" > "$t/log" 2>&1
rc=$?
end=$(date +%s)
cat "$t/log"
[ $rc = 0 ] && ok "make fuzz FUZZ_SECONDS=2 succeeds ($((end - start)) s)" || no "make fuzz FUZZ_SECONDS=2 (status $rc)"
for h in $harnesses; do
    [ -x "$t/bf/fuzz_$h" ] && ok "fuzz_$h builds" || no "fuzz_$h builds"
    [ -n "$(ls "$t/bf/corpus/$h" 2>/dev/null)" ] && ok "corpus of $h seeded" || no "corpus of $h seeded"
    line=$(grep "^fuzz_$h: " "$t/log")
    case $line in
        *": ok, "*) ok "fuzz_$h runs over its corpus: ${line#*: ok, }" ;;
        *) no "fuzz_$h runs over its corpus: ${line:-no report}" ;;
    esac
done
exit $fail
