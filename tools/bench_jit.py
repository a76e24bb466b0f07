#!/usr/bin/env python3
"""What libflameprof.so costs a node process at exit, and in memory.

usage: python3 tools/bench_jit.py [--build build] [--runs 5] [--node PATH] [--apps short,split]

Each app runs in three configurations, --runs times each, interleaved:
  plain     node APP
  flags     node --perf-basic-prof --interpreted-frames-native-stack APP (what the library adds
            to NODE_OPTIONS, without the library: the runtime's own share of the cost)
  preload   LD_PRELOAD=libflameprof.so node APP

Figures (medians):
  exit gap   from the app's last JavaScript (a process.on('exit') listener, loaded with -r,
             prints process.hrtime.bigint(), i.e. CLOCK_MONOTONIC) to the moment the parent
             reaps the child (time.monotonic_ns() after wait4). Covers node's teardown, the
             library's destructor and the kernel's exit. The library's exit cost is
             gap(preload) - gap(flags).
  destructor from the library's first act at exit (the main thread's first timer_delete after
             the app's last JavaScript wrote its stamp: the destructor stops every timer first)
             to the last link() that puts an output file in place, from `strace -f -ttt -e
             trace=timer_delete,link,linkat,renameat2,write` (only the tracee gets LD_PRELOAD).
             strace stops the process at every syscall (seccomp-bpf filtering is not available
             here), but the destructor makes only ~150 syscalls: close to the real figure.
  exit CPU   the process's CPU time (wait4) minus its CPU time at that last JavaScript
             (process.cpuUsage()): the same span in CPU time, which a loaded machine does not
             stretch.
  start CPU  the process's CPU time when the app's first JavaScript runs (-r module loaded):
             what start-up costs, the library's constructor included.
  max RSS    ru_maxrss of the child from wait4; RSS added = preload - plain (and - flags).
  wall       start to reap.
Targets: exit cost <= 300 ms, RSS added <= 16 MB.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, 'tests', 'common'))
import fptest  # noqa: E402  the test library: the clean environment
FLAGS = ['--perf-basic-prof', '--interpreted-frames-native-stack']

SHORT_APP = r'''
function hot(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s; }
let s = 0;
const t = process.cpuUsage();
while (process.cpuUsage(t).user < 500000) s += hot(100000);
if (s < 0) console.log(s);
'''
STAMP = r'''
const atLoad = process.cpuUsage();
process.on('exit', () => {
  const u = process.cpuUsage();
  require('fs').writeSync(2, 'BENCH_LAST_JS ' + process.hrtime.bigint() + ' ' +
                          (u.user + u.system) + ' ' + (atLoad.user + atLoad.system) + '\n');
});
'''


def run_once(argv, env, cwd):
    t0 = time.monotonic_ns()
    p = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.monotonic_ns()
    p.returncode = os.waitstatus_to_exitcode(status)
    text = err.decode(errors='replace')
    m = re.search(r'BENCH_LAST_JS (\d+) (\d+) (\d+)', text)
    if p.returncode != 0 or not m:
        sys.exit(f'bench_jit: {" ".join(argv)} failed (status {p.returncode}):\n{text[-2000:]}')
    cpu_ms = (ru.ru_utime + ru.ru_stime) * 1e3
    return {'wall_ms': (t1 - t0) / 1e6, 'gap_ms': (t1 - int(m.group(1))) / 1e6,
            'exit_cpu_ms': cpu_ms - int(m.group(2)) / 1e3, 'cpu_ms': cpu_ms,
            'start_cpu_ms': int(m.group(3)) / 1e3,
            'rss_kb': ru.ru_maxrss, 'pid': p.pid, 'stderr': text}


def strace_destructor(node, lib, app_argv, cwd):
    """ms from the library's first act at exit (the main thread's first timer_delete after the
    app's last JavaScript wrote its stamp) to its last link(), via strace."""
    trace = os.path.join(cwd, 'strace.txt')
    argv = ['strace', '-f', '-ttt', '-s', '64', '-o', trace,
            '-e', 'trace=timer_delete,link,linkat,renameat2,write',
            '-E', f'LD_PRELOAD={lib}', '-E', f'FLAMEPROF_OUT={cwd}/st.%p',
            node, *app_argv]
    p = subprocess.run(argv, env=fptest.clean_env(), cwd=cwd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=300)
    rows = []
    try:
        with open(trace) as f:
            first = f.readline()
            if first.split(' ', 1)[0].isdigit():  # node's pid: remove the perf map it left
                try:
                    os.unlink(f'/tmp/perf-{first.split(" ", 1)[0]}.map')
                except OSError:
                    pass
            f.seek(0)
            for line in f:
                m = re.match(r'(\d+) ([\d.]+) (timer_delete|link|linkat|renameat2|write)\((.*)',
                             line)
                if m:
                    rows.append((int(m.group(1)), float(m.group(2)), m.group(3), m.group(4)))
    except OSError:
        return None
    if p.returncode != 0 or not rows:
        return None
    main_pid = rows[0][0]
    main = [(t, s, rest) for pid, t, s, rest in rows if pid == main_pid]
    last_js = [i for i, (_, s, rest) in enumerate(main)
               if s == 'write' and 'BENCH_LAST_JS' in rest]
    if not last_js:
        return None
    start = next((t for t, s, _ in main[last_js[-1]:] if s == 'timer_delete'), None)
    links = [t for t, s, _ in main[last_js[-1]:] if s in ('link', 'linkat', 'renameat2')]
    if start is None or not links:
        return None
    return (links[-1] - start) * 1e3


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--build', default='build')
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--node', default=shutil.which('node'))
    ap.add_argument('--apps', default='short,split',
                    help='comma list of: short (0.5 CPU-s loop), split and churn '
                         '(tests/jit/wl_node.js, ~2.5 CPU-s)')
    args = ap.parse_args()
    lib = os.path.abspath(os.path.join(args.build, 'preload', 'libflameprof.so'))
    if not os.path.isfile(lib):
        sys.exit(f'bench_jit: {lib} not found (build first)')
    if not args.node:
        sys.exit('bench_jit: node not found')
    tmp = tempfile.mkdtemp(prefix='flameprof-bench-jit-')
    try:
        short = os.path.join(tmp, 'short.js')
        stamp = os.path.join(tmp, 'stamp.js')
        with open(short, 'w') as f:
            f.write(SHORT_APP)
        with open(stamp, 'w') as f:
            f.write(STAMP)
        wl = os.path.join(ROOT, 'tests', 'jit', 'wl_node.js')
        apps = {
            'short': [short],
            'split': [wl, 'split', os.path.join(tmp, 'truth.json')],
            'churn': ['--expose-gc', wl, 'churn', os.path.join(tmp, 'truth.json')],
        }
        print(f'node {subprocess.run([args.node, "--version"], capture_output=True, text=True).stdout.strip()}'
              f' ({args.node}), library {lib}, {args.runs} runs each, '
              f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs')
        for name in args.apps.split(','):
            app = apps[name]
            base = [args.node, '-r', stamp]
            configs = {
                'plain': (base + app, fptest.clean_env()),
                'flags': (base + FLAGS + app, fptest.clean_env()),
                'preload': (base + app, dict(fptest.clean_env(), LD_PRELOAD=lib,
                                             FLAMEPROF_OUT=os.path.join(tmp, 'prof.%p'),
                                             FLAMEPROF_QUIET='1')),
            }
            res = {c: [] for c in configs}
            for _ in range(args.runs):
                for c, (argv, env) in configs.items():
                    r = run_once(argv, env, tmp)
                    res[c].append(r)
                    try:
                        os.unlink(f'/tmp/perf-{r["pid"]}.map')
                    except OSError:
                        pass
            dtor = []
            for _ in range(max(1, args.runs // 2)):  # a trace it cannot read is skipped
                d = strace_destructor(args.node, lib, ['-r', stamp] + app, tmp)
                if d is not None:
                    dtor.append(d)
            print(f'\napp {name}: {" ".join(os.path.basename(a) for a in app)}')
            print(f'  {"config":8s} {"wall ms":>9s} {"CPU ms":>8s} {"start CPU ms":>13s} '
                  f'{"exit gap ms":>12s} {"exit CPU ms":>12s} {"max RSS MB":>11s}')
            for c in configs:
                print(f'  {c:8s} {med(res[c], "wall_ms"):9.0f} {med(res[c], "cpu_ms"):8.0f} '
                      f'{med(res[c], "start_cpu_ms"):13.0f} '
                      f'{med(res[c], "gap_ms"):12.1f} {med(res[c], "exit_cpu_ms"):12.1f} '
                      f'{med(res[c], "rss_kb") / 1024:11.1f}')
            cost = med(res['preload'], 'gap_ms') - med(res['flags'], 'gap_ms')
            cost_plain = med(res['preload'], 'gap_ms') - med(res['plain'], 'gap_ms')
            rss = (med(res['preload'], 'rss_kb') - med(res['plain'], 'rss_kb')) / 1024
            rss_f = (med(res['preload'], 'rss_kb') - med(res['flags'], 'rss_kb')) / 1024
            cpu_cost = med(res['preload'], 'exit_cpu_ms') - med(res['flags'], 'exit_cpu_ms')
            print(f'  exit cost of the library: {cost:.0f} ms wall (vs flags), {cost_plain:.0f} ms '
                  f'(vs plain), {cpu_cost:.0f} ms CPU (vs flags); target <= 300 ms')
            if dtor:
                print(f'  destructor under strace (timer_delete burst -> last link): median '
                      f'{statistics.median(dtor):.0f} ms, runs {[round(d) for d in dtor]}')
            print(f'  RSS added: {rss:.1f} MB (vs plain), {rss_f:.1f} MB (vs flags); '
                  f'target <= 16 MB')
            print(f'  exit gaps (ms): ' + '; '.join(
                f'{c} {[round(r["gap_ms"]) for r in res[c]]}' for c in configs))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
