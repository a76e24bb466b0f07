#!/usr/bin/env bash
# bench_input.sh - reading speed (MB/s of CPU time) and peak memory of the readers of
# other tools' profiles, `flameprof convert --format folded FILE`, on ~100 MB inputs made
# here: a .cpuprofile and a speedscope file (tests/input/genjson.py: few distinct stacks),
# a perf script file (tests/input/perf/default.perf repeated) and a large pprof
# (../shared/bench/gen_folded.py --stacks 200000, converted by AFTER).
#
# Usage: tools/bench_input.sh [AFTER] [BEFORE] [RUNS]
#   AFTER   the binary to measure (default: build/tools/flameprof)
#   BEFORE  another build to compare with, e.g. main's (runs interleaved with AFTER's, so
#           both see the same machine load); "-" for none (default)
#   RUNS    timed runs of each (default 5); medians are reported (this VM is noisy)
#   FLAMEGRAPH=DIR  also time DIR/stackcollapse-perf.pl | DIR/flamegraph.pl on the perf
#           file (FlameGraph is not in Debian: github.com/brendangregg/FlameGraph)
#   MB=N    input size (default 100)
#   KINDS="cpuprofile speedscope perf pprof"  the inputs to measure (default all)
#   GEN_FOLDED=PATH  gen_folded.py, for the pprof input (default ../shared/bench/ beside the
#           checkout, as tools/bench_svg.sh)
# Needs /usr/bin/time (Debian package `time`). Not a test: it prints figures, and says
# whether AFTER and BEFORE printed the same profile.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
after=${1:-$root/build/tools/flameprof}
before=${2:--}
runs=${3:-5}
mb=${MB:-100}
kinds=" ${KINDS:-cpuprofile speedscope perf pprof} "
work=${TMPDIR:-/tmp}/flameprof-bench-input.$$
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"

[ -x "$after" ] || { echo "bench_input: $after not built" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench_input: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }

echo "making ~$mb MB inputs in $work ..."
want() { case "$kinds" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
want cpuprofile &&
    python3 "$root/tests/input/genjson.py" cpuprofile "$mb" "$work/big.cpuprofile" > /dev/null
want speedscope &&
    python3 "$root/tests/input/genjson.py" speedscope "$mb" "$work/big.speedscope.json" > /dev/null
want perf && python3 - "$root/tests/input/perf/default.perf" "$work/big.perf" "$mb" <<'PY'
import sys
rec = open(sys.argv[1], 'rb').read()
with open(sys.argv[2], 'wb') as out:
    for _ in range(int(float(sys.argv[3]) * 1e6 / len(rec)) + 1):
        out.write(rec)
PY
gen=${GEN_FOLDED:-$root/../shared/bench/gen_folded.py}
if want pprof && [ -f "$gen" ]; then
    python3 "$gen" --stacks 200000 --seed 1 > "$work/s200k.folded" 2>/dev/null
    "$after" convert --format pprof -o "$work/big.pb.gz" "$work/s200k.folded"
elif want pprof; then
    echo "bench_input: $gen not found: no pprof input (set GEN_FOLDED)" >&2
fi

# One line per run: BIN FILE user sys maxrss_kb
measure() { # label binary file
    /usr/bin/time -f "$1 $3 %U %S %M" -a -o "$work/times" "$2" convert --format folded "$3" \
        > "$work/out.$1.$(basename "$3")"
}
for f in "$work"/big.cpuprofile "$work"/big.speedscope.json "$work"/big.perf "$work"/big.pb.gz; do
    [ -f "$f" ] || continue
    "$after" convert --format folded "$f" > /dev/null # page cache
    for _ in $(seq "$runs"); do
        measure after "$after" "$f"
        [ "$before" = - ] || measure before "$before" "$f"
    done
    if [ "$before" != - ]; then
        if cmp -s "$work/out.after.$(basename "$f")" "$work/out.before.$(basename "$f")"; then
            echo "$(basename "$f"): before and after printed the same profile"
        else
            echo "$(basename "$f"): before and after DIFFER"
        fi
    fi
done
if [ -n "${FLAMEGRAPH:-}" ] && [ -f "$work/big.perf" ]; then
    for _ in $(seq "$runs"); do
        /usr/bin/time -f "flamegraph.pl $work/big.perf %U %S %M" -a -o "$work/times" \
            sh -c "perl '$FLAMEGRAPH/stackcollapse-perf.pl' '$work/big.perf' | perl '$FLAMEGRAPH/flamegraph.pl' > /dev/null"
        /usr/bin/time -f "svg $work/big.perf %U %S %M" -a -o "$work/times" \
            "$after" svg "$work/big.perf" > /dev/null
    done
fi

# Medians of CPU time per (binary, file); MB/s = size / median CPU; the largest RSS.
# (Through /usr/bin/time, the peak RSS of a pipeline is its largest process's.)
awk '{ printf "%s %s %.2f %d\n", $1, $2, $3 + $4, $5 }' "$work/times" | sort -k1,2 -k3n |
    awk -v dir="$work/" '
    function flush() {
        if (n == 0) return
        med = cpu[int((n + 1) / 2)]
        cmd = "stat -c %s " file; cmd | getline size; close(cmd)
        name = file; sub(dir, "", name)
        printf "%-8s %-20s %6.1f MB  %d runs  CPU median %6.2f s  %7.1f MB/s  peak RSS %7.1f MB\n",
               who, name, size / 1e6, n, med, size / 1e6 / (med > 0 ? med : 0.001), rss / 1024
    }
    {
        key = $1 " " $2
        if (key != last) { flush(); n = 0; rss = 0; last = key; who = $1; file = $2 }
        cpu[++n] = $3
        if ($4 > rss) rss = $4
    }
    END { flush() }'
