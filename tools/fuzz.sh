#!/bin/sh
# Fuzz the parsers of untrusted input (perf maps, folded stacks, the raw spill, .eh_frame, the readers
# of perf script, pprof, cpuprofile and speedscope) for longer
# than the 20 s of the 'fuzz' test suite: builds the libFuzzer targets with clang in
# build-fuzz/ and runs each for SECONDS (default 300), one after the other, from the seeds in
# tests/fuzz/corpus/. Reproducers of anything found are left in
# build-fuzz/tests/fuzz/artifacts/ (each run prints their paths). Exit status 0 when nothing
# was found.
#
# usage: tools/fuzz.sh [SECONDS] [TARGET...]
#   TARGET: perfmap folded rawfile ehframe perfscript pprof cpuprofile speedscope
set -u
cd "$(dirname "$0")/.."
secs=${1:-300}
[ $# -gt 0 ] && shift
targets=${*:-perfmap folded rawfile ehframe perfscript pprof cpuprofile speedscope}
if [ ! -d build-fuzz ]; then
    CC=clang CXX=clang++ meson setup build-fuzz >/dev/null || exit 1
fi
if ! grep -q "clang" build-fuzz/meson-logs/meson-log.txt 2>/dev/null; then
    echo "build-fuzz/ was not set up with clang: remove it and run again" >&2
    exit 1
fi
for t in $targets; do
    ninja -C build-fuzz "tests/fuzz/fuzz_$t" >/dev/null || exit 1
done
rc=0
for t in $targets; do
    python3 tests/fuzz/fuzz_run.py "build-fuzz/tests/fuzz/fuzz_$t" "tests/fuzz/corpus/$t" \
        "$secs" build-fuzz/tests/fuzz/artifacts || rc=1
done
exit $rc
