#!/usr/bin/env python3
"""Overhead benchmark for libflameprof (a figure, not a test).

Runs the bench workload (a ~30-frame stack, -O2, no frame pointers) in one session, in
rotation: without the profiler, with the profiler's timers and an empty handler
(FLAMEPROF_BENCH=empty-handler: the floor any signal-based profiler pays), and with the
full profiler. Reports median CPU seconds of each, the overheads as ratios, and the
handler's own cost per sample from the profiler's counters (exit summary).

    python3 tools/bench.py --build build [--runs 5] [--iters 1000] [--threads 1] [--freq 997]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "common"))
import fptest  # noqa: E402  the test library: clean environment, the summary line's parser


def run(cmd, env):
    with tempfile.TemporaryDirectory() as d:
        env = dict(env)
        if "LD_PRELOAD" in env:
            env["FLAMEPROF_OUT"] = os.path.join(d, "bench")
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, ru = os.wait4(p.pid, 0)
        err = p.stderr.read().decode(errors="replace")
        p.stderr.close()
        if status != 0:
            sys.exit(f"bench: {cmd} failed ({status}): {err}")
        return ru.ru_utime + ru.ru_stime, err


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--iters", type=int, default=1000, help="millions of work iterations")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--freq", type=int, default=997)
    a = ap.parse_args()
    lib = os.path.abspath(os.path.join(a.build, "preload", "libflameprof.so"))
    wl = os.path.abspath(os.path.join(a.build, "tools", "flameprof-bench-workload"))
    cmd = [wl, str(a.iters), str(a.threads)]
    base = fptest.clean_env()
    modes = {
        "none": base,
        "empty-handler": dict(base, LD_PRELOAD=lib, FLAMEPROF_FREQ=str(a.freq), FLAMEPROF_BENCH="empty-handler"),
        "flameprof": dict(base, LD_PRELOAD=lib, FLAMEPROF_FREQ=str(a.freq)),
    }
    cpu = {m: [] for m in modes}
    med, p99, weights, report = [], [], [], []
    for i in range(a.runs):
        order = list(modes)[i % 3:] + list(modes)[:i % 3]  # rotate: no mode always goes first
        for m in order:
            t, err = run(cmd, modes[m])
            cpu[m].append(t)
            if m == "flameprof":
                lines = [ln for ln in err.splitlines() if fptest.is_summary(ln)]
                s = fptest.parse_summary(lines[0]) if lines else {}
                if not all(k in s for k in ("weight", "median_us", "p99_us", "report_ms")):
                    sys.exit(f"bench: no summary line in: {err}")
                weights.append(s["weight"])
                med.append(s["median_us"])
                p99.append(s["p99_us"])
                report.append(s["report_ms"] / 1000.0)
    m = {k: statistics.median(v) for k, v in cpu.items()}
    print(f"workload: {' '.join(cmd)}  runs={a.runs} freq={a.freq}Hz")
    for k in modes:
        print(f"  {k:14s} CPU median {m[k]:.3f} s   (runs: {', '.join(f'{x:.3f}' for x in cpu[k])})")
    print(f"  empty-handler / none : {m['empty-handler'] / m['none']:.4f}  (+{100 * (m['empty-handler'] / m['none'] - 1):.2f}%)")
    print(f"  flameprof / none     : {m['flameprof'] / m['none']:.4f}  (+{100 * (m['flameprof'] / m['none'] - 1):.2f}%)")
    print(f"  flameprof - empty    : {100 * (m['flameprof'] - m['empty-handler']) / m['none']:+.2f} percentage points of CPU")
    rep = statistics.median(report)
    print(f"  of which the exit-time report (symbolize + write, once per run): {rep:.3f} s")
    print(f"  flameprof - empty, while sampling (report excluded): "
          f"{100 * (m['flameprof'] - rep - m['empty-handler']) / m['none']:+.2f} percentage points")
    print(f"  handler cost per sample: median {statistics.median(med):.2f} us, p99 {statistics.median(p99):.2f} us (medians over runs)")
    print(f"  weighted samples per CPU-s: {statistics.median(weights) / m['flameprof']:.0f} (freq {a.freq})")


if __name__ == "__main__":
    main()
