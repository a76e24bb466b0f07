#!/usr/bin/env python3
"""CPU cost of naming Python frames: a stdlib-heavy script (json, re, difflib, statistics,
textwrap, csv, decimal) run bare, under the library with the frame reader (the default),
under the library with no Python names (FLAMEPROF_PYTHON=0), and under the library with
CPython's -X perf trampolines (FLAMEPROF_PYTHON=perf, 3.12+ only).
Paired runs, interleaved; prints the median CPU seconds of each and the ratios.

usage: bench_python.py --build build [--python /usr/bin/python3] [--runs 5]
A benchmark, not a test: its numbers depend on the machine and never fail a build.
"""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

WORKLOAD = r'''
import csv, decimal, difflib, io, json, re, statistics, textwrap
words = [f"w{i % 97}x{i % 13}" for i in range(20000)]
text = " ".join(words)
for _ in range(60):
    doc = json.loads(json.dumps({"k": words[:3000], "n": list(range(3000))}))
    re.findall(r"w(\d+)x(\d+)", text)
    textwrap.fill(text[:20000], 60)
    a, b = words[:1500], words[5:1505]
    list(difflib.unified_diff(a, b, lineterm=""))
    statistics.pstdev([float(i % 101) for i in range(20000)])
    buf = io.StringIO()
    csv.writer(buf).writerows([[w, i] for i, w in enumerate(words[:5000])])
    sum(decimal.Decimal(i) / 7 for i in range(3000))
'''


def cpu_of(argv, env):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default='build')
    ap.add_argument('--python', default='/usr/bin/python3')
    ap.add_argument('--runs', type=int, default=5)
    args = ap.parse_args()
    lib = os.path.abspath(os.path.join(args.build, 'preload', 'libflameprof.so'))
    tmp = tempfile.mkdtemp(prefix='bench-python-')
    script = os.path.join(tmp, 'stdlib_heavy.py')
    with open(script, 'w') as f:
        f.write(WORKLOAD)
    base = {k: v for k, v in os.environ.items()
            if not k.startswith('FLAMEPROF_') and k not in ('LD_PRELOAD', 'PYTHONPERFSUPPORT')}
    out = os.path.join(tmp, 'prof')
    version = subprocess.run([args.python, '-c', 'import sys; print(sys.version_info[1])'],
                             capture_output=True, text=True, check=True).stdout.strip()
    modes = {'bare': dict(base),
             'reader': dict(base, LD_PRELOAD=lib, FLAMEPROF_OUT=out, FLAMEPROF_QUIET='1')}
    modes['native'] = dict(modes['reader'], FLAMEPROF_PYTHON='0')  # the library, no names
    if int(version) >= 12:
        modes['perf'] = dict(modes['reader'], FLAMEPROF_PYTHON='perf')
    cpu = {m: [] for m in modes}
    for _ in range(args.runs):
        for m, env in modes.items():
            cpu[m].append(cpu_of([args.python, script], env))
    med = {m: statistics.median(v) for m, v in cpu.items()}
    print(f'{args.python} (3.{version}), {args.runs} paired runs, median CPU seconds:')
    for m in modes:
        print(f'  {m:7s} {med[m]:.3f}  (runs: {", ".join(f"{x:.2f}" for x in cpu[m])})')
    print(f'  reader / bare = {med["reader"] / med["bare"]:.3f}')
    print(f'  native / bare = {med["native"] / med["bare"]:.3f}  '
          '(the library without Python names)')
    if 'perf' in med:
        print(f'  perf / bare   = {med["perf"] / med["bare"]:.3f}')
        print(f'  reader / perf = {med["reader"] / med["perf"]:.3f}')


if __name__ == '__main__':
    sys.exit(main())
