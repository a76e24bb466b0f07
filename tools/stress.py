#!/usr/bin/env python3
"""Run the fault-matrix workloads (tests/faults) again and again and report, per workload,
how many runs survived, how many hung, and how many samples were dropped or lost.

usage: tools/stress.py [--build DIR] [-n N] [-j JOBS] [PATTERN...]

Each run is one `tests/faults/faults.py TEST` (which itself runs the program with and
without the profiler and checks the ending, the output and the profile). A run survived when
every check held; it hung when a program had to be killed at its time limit (or faults.py
itself overran); dropped= and lost= are summed from the profiler's summary lines (samples
the ring had no room for, samples the aggregator could not store). PATTERNs select tests by
shell-style name (default: all, see `tests/faults/faults.py list`). Writes the table to
stdout, and each failed run's first failed check below it. Exit status 0 when every run of
every workload survived.
"""
import argparse
import collections
import concurrent.futures
import fnmatch
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FAULTS = os.path.join(ROOT, 'tests', 'faults', 'faults.py')
RUN_LIMIT = 600  # seconds for one faults.py run: its own runs are bounded well below this


def tests_available():
    out = subprocess.run([sys.executable, FAULTS, 'list'], capture_output=True, text=True,
                         check=True).stdout
    return [ln.split(':')[0] for ln in out.split()]


def one_run(build, test):
    cmd = [sys.executable, FAULTS, test, '--lib',
           os.path.join(build, 'preload', 'libflameprof.so'), '--tool',
           os.path.join(build, 'tools', 'flameprof'), '--bin',
           os.path.join(build, 'tests', 'faults')]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, errors='replace',
                           timeout=RUN_LIMIT)
        out, overran = p.stdout, False
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors='replace') if isinstance(e.stdout, bytes) else (e.stdout or '')
        overran = True
    wall = time.monotonic() - t0
    m = re.search(r'^RESULT test=\S+ status=(\w+) hangs=(\d+) dropped=(\d+) lost=(\d+) runs=(\d+)',
                  out, re.M)
    status = m.group(1) if m else 'FAIL'
    first = next((ln[7:] for ln in out.splitlines() if ln.startswith('FAILED ')), '')
    if overran:
        status, first = 'FAIL', f'faults.py overran {RUN_LIMIT} s'
    elif not m:
        first = first or (out.strip().splitlines() or ['no output'])[-1]
    return {
        'test': test, 'status': status, 'wall': wall, 'first': first,
        'hangs': (int(m.group(2)) if m else 0) + overran,
        'dropped': int(m.group(3)) if m else 0, 'lost': int(m.group(4)) if m else 0,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'),
                    help='meson build directory (default: build)')
    ap.add_argument('-n', type=int, default=50, help='runs per workload (default 50)')
    ap.add_argument('-j', type=int, default=os.cpu_count() or 2,
                    help='runs at once (default: the number of CPUs)')
    ap.add_argument('patterns', nargs='*', help='tests to run (shell patterns)')
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if not os.path.isfile(os.path.join(build, 'preload', 'libflameprof.so')):
        print(f'no libflameprof.so in {build}: build first (meson setup / ninja)')
        return 2
    tests = [t for t in tests_available()
             if not args.patterns or any(fnmatch.fnmatch(t, p) for p in args.patterns)]
    if not tests:
        print('no test matches')
        return 2
    # Interleaved (a, b, c, a, b, c, ...): a slow workload does not hold the others back,
    # and a bad moment of the machine does not fall on one workload only.
    jobs = [t for _ in range(args.n) for t in tests]
    results = collections.defaultdict(list)
    t0 = time.monotonic()
    print(f'{len(tests)} workloads x {args.n} runs, {args.j} at a time, build {build}',
          flush=True)
    with concurrent.futures.ThreadPoolExecutor(args.j) as pool:
        futures = [pool.submit(one_run, build, t) for t in jobs]
        for i, f in enumerate(concurrent.futures.as_completed(futures), 1):
            r = f.result()
            results[r['test']].append(r)
            if r['status'] == 'FAIL':
                print(f'  [{i}/{len(jobs)}] {r["test"]}: FAIL: {r["first"][:160]}', flush=True)
            elif i % 50 == 0:
                print(f'  [{i}/{len(jobs)}] {time.monotonic() - t0:.0f} s', flush=True)
    print(f'\n{"workload":28s} {"survived":>10s} {"skipped":>8s} {"hangs":>6s} {"dropped":>8s} '
          f'{"lost":>6s} {"median s":>9s}')
    all_ok = True
    for t in tests:
        rs = results[t]
        ok = sum(r['status'] == 'PASS' for r in rs)
        skip = sum(r['status'] == 'SKIP' for r in rs)
        ran = len(rs) - skip
        all_ok &= ok == ran
        print(f'{t:28s} {f"{ok}/{ran}":>10s} {skip:8d} {sum(r["hangs"] for r in rs):6d} '
              f'{sum(r["dropped"] for r in rs):8d} {sum(r["lost"] for r in rs):6d} '
              f'{statistics.median(r["wall"] for r in rs):9.1f}')
    total = sum(len(v) for v in results.values())
    print(f'\n{total} runs in {time.monotonic() - t0:.0f} s')
    # Grouped by the failed check, temporary paths and pids left out.
    def reason(r):
        why = re.sub(r'/tmp/flameprof-faults-\w+', 'TMP', r['first'])
        return re.sub(r'\b\d{3,}\b', 'N', why)[:160]
    reasons = collections.Counter((t, reason(r)) for t in tests for r in results[t]
                                  if r['status'] == 'FAIL')
    if reasons:
        print('\nWhy runs failed (first failed check, how many runs):')
        for (t, why), n in sorted(reasons.items()):
            print(f'  {t}: {n}x {why}')
    return 0 if all_ok else 1


if __name__ == '__main__':
    sys.exit(main())
