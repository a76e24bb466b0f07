#!/usr/bin/env bash
# bench_svg.sh - CPU time, peak memory and output size of `flameprof svg` on the standard
# renderer benchmark input (../shared/bench/gen_folded.py --stacks 50000 --seed 1, 23 MB).
#
# Usage: tools/bench_svg.sh [FLAMEPROF] [RUNS]
#   FLAMEPROF  the binary to measure (default: build/tools/flameprof)
#   RUNS       timed runs (default 10); this VM is noisy, so min and median are reported
# Not a test: it prints figures and never fails on them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/tools/flameprof}
runs=${2:-10}
gen=$root/../shared/bench/gen_folded.py
work=${TMPDIR:-/tmp}/flameprof-bench.$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

[ -x "$bin" ] || { echo "bench_svg: $bin not built (ninja -C build tools/flameprof)" >&2; exit 1; }
[ -f "$gen" ] || { echo "bench_svg: $gen not found" >&2; exit 1; }
python3 "$gen" --stacks 50000 --seed 1 > "$work/s50k.folded" 2>/dev/null

# One warm-up run puts the input in the page cache, as it is after any generator.
"$bin" svg "$work/s50k.folded" > "$work/out.svg"
for _ in $(seq "$runs"); do
    /usr/bin/time -f '%U %S %M' -a -o "$work/times" "$bin" svg "$work/s50k.folded" > /dev/null
done
# Portable awk (mawk has no asort): sort the CPU figures first.
awk '{ printf "%.2f %d\n", $1 + $2, $3 }' "$work/times" | sort -n > "$work/cpu"
awk -v svg="$(stat -c %s "$work/out.svg")" -v input="$(stat -c %s "$work/s50k.folded")" '
    { cpu[NR] = $1; if ($2 > rss) rss = $2 }
    END {
        printf "input %.1f MB, %d runs: CPU (user+sys) min %.2f s, median %.2f s, max %.2f s\n",
               input / 1e6, NR, cpu[1], cpu[int((NR + 1) / 2)], cpu[NR]
        printf "max RSS %.1f MB, SVG %.2f MB\n", rss / 1024, svg / 1e6
    }' "$work/cpu"
