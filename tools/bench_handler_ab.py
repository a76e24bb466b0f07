#!/usr/bin/env python3
"""A/B of a signal-handler change inside each process (figures, not a test).

Whole-run comparisons of two libraries cannot see a change of a few percent in the handler on
a shared VM: a run's handler median wanders +-10% from one run to the next. Built with
`meson configure -Dhandler_ab=true`, the library runs a change under test in every other
sample of a thread (`if (PHASE_AB_B) new(); else old();` put in by hand, never committed:
unwind/phases.h) and prints the durations of A and B samples apart at exit. Both variants
then see the same program at the same moments. This runs a command N times under such a
library and prints, from the process with the most samples of each run, the ratio B/A of
the medians and of the p99s, and their medians over the runs. With no change in (A/A) the
ratio of medians stays within +-3% a run for CPython or node (1,000+ samples), +-5% for javac
(~350); the p99s' ratio is far noisier (+-20% and worse): take 8 runs or more.

    python3 tools/bench_handler_ab.py --build BUILD [--runs 8] -- CMD [ARGS...]
    e.g. -- python3 -c 'import json; [json.dumps(list(range(999))) for _ in range(5000)]'
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

AB_LINE = re.compile(r'flameprof-ab: pid \d+ A n=(\d+) med=(\d+) p90=\d+ p99=(\d+) '
                     r'B n=(\d+) med=(\d+) p90=\d+ p99=(\d+)')


def one_run(lib, cmd):
    """(A median, A p99, B median, B p99) of the process with the most samples, or None."""
    with tempfile.TemporaryDirectory(prefix='fpab.') as out:
        env = dict(os.environ, LD_PRELOAD=lib, FLAMEPROF_OUT=os.path.join(out, 'p.%p'),
                   FLAMEPROF_QUIET='1')
        r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True, errors='replace')
    best = None
    for m in AB_LINE.finditer(r.stderr):
        an, amed, a99, bn, bmed, b99 = map(int, m.groups())
        if best is None or an + bn > best[0]:
            best = (an + bn, amed, a99, bmed, b99)
    return best[1:] if best else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', required=True, help='a build configured with -Dhandler_ab=true')
    ap.add_argument('--runs', type=int, default=8)
    ap.add_argument('cmd', nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ['--'] else a.cmd
    lib = os.path.abspath(os.path.join(a.build, 'preload', 'libflameprof.so'))
    if not cmd or not os.path.exists(lib):
        ap.error('a command after --, and BUILD/preload/libflameprof.so')
    runs = [r for r in (one_run(lib, cmd) for _ in range(a.runs)) if r]
    if not runs:
        sys.exit('bench_handler_ab: no flameprof-ab line: is BUILD configured with '
                 '-Dhandler_ab=true, and does the command run long enough to be sampled?')
    med = [b / a_ for a_, _, b, _ in runs]
    p99 = [b / a_ for _, a_, _, b in runs]
    print('runs %d: A median %.0f ns, B median %.0f ns' %
          (len(runs), statistics.median(r[0] for r in runs),
           statistics.median(r[2] for r in runs)))
    print('B/A of medians: %.3f  (each run: %s)' %
          (statistics.median(med), ' '.join('%.2f' % x for x in med)))
    print('B/A of p99s:    %.3f  (each run: %s)' %
          (statistics.median(p99), ' '.join('%.2f' % x for x in p99)))


if __name__ == '__main__':
    main()
