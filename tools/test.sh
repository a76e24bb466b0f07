#!/bin/sh
# Set up, build, and run every test: the whole suite in a normal build, then the unit
# tests again under AddressSanitizer + UndefinedBehaviorSanitizer. Ends with one line
# "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
tools/setup-debian.sh || exit 1
rm -rf build-test build-asan build-fuzz
meson setup build-test >/dev/null && ninja -C build-test >/dev/null || exit 1
# known-failing: tests that fail today, kept apart until fixed (see README, Test suites);
# run them with `meson test -C build-test --suite known-failing`. Left out here, said below.
meson test -C build-test --print-errorlogs --num-processes 2 --no-suite known-failing
rc=$?
# The preload is not run under ASan (the sanitizer runtime must come first in the
# process); its parts are, through the unit suites.
meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false >/dev/null &&
    ninja -C build-asan >/dev/null &&
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --print-errorlogs --suite unwind --suite output --suite symbolize --suite core \
        --suite input
rc2=$?
# The parsers of untrusted input under libFuzzer (clang only), 20 s each. Only the fuzz
# targets are built in this tree.
rm -rf build-fuzz
# Every fuzz_* program the build defines (a list here missed a new target once).
CC=clang CXX=clang++ meson setup build-fuzz >/dev/null &&
    fuzzers=$(ninja -C build-fuzz -t targets all | grep -oE '^tests/fuzz/fuzz_[a-z0-9_]+:' |
              tr -d ':' | sort -u) &&
    [ -n "$fuzzers" ] && ninja -C build-fuzz $fuzzers >/dev/null &&
    meson test -C build-fuzz --no-rebuild --print-errorlogs --suite fuzz
rc3=$?
python3 - build-test/meson-logs/testlog.json build-asan/meson-logs/testlog.json \
    build-fuzz/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        for line in open(path):
            r = json.loads(line).get("result")
            if r in ("OK", "EXPECTEDFAIL"): passed += 1
            elif r == "SKIP": skipped += 1
            else: failed += 1
    except FileNotFoundError:
        failed += 1
        print(f"missing {path}")
print("left out: suite known-failing (wall-perf-fork-threads: see README)")
print(f"{passed} passed, {failed} failed, {skipped} skipped")
PY
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ $rc3 -eq 0 ]
