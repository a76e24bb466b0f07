#!/usr/bin/env python3
"""Services stopped the way services are stopped (issue 9): a node, a Python and a Java HTTP
service on loopback, under load from this harness, stopped by SIGTERM (what systemd, docker
and Kubernetes send) or SIGINT (Ctrl-C), and a Java service that ends itself with
System.exit or Runtime.halt. The services are in services/; each request computes work().

Each test runs the service twice, without and with LD_PRELOAD=libflameprof.so, and checks:
  - the ending is the same: exit status or terminating signal, stdout, the last line of
    stderr (CPython's `KeyboardInterrupt`), and the one without the profiler is the one the
    runtime is known for (node and CPython die of the signal, the JVM exits 128+signal after
    its shutdown hooks, System.exit(3) runs them, halt(4) does not);
  - the profile is written: folded stacks with the service's work() frame by name (node,
    CPython 3.12: JIT names; Debian's CPython 3.11 has no perf trampolines: its eval loop),
    the SVG, one summary line, weight >= WEIGHT_MIN_RATIO of the CPU used until the stop;
  - nothing is left behind: no raw spill, no V8 isolate log in the working directory, no
    /tmp/perf-PID.map (both exist only because the profiler asked for them), no
    `flameprof:` line saying the profile could not be written.
Signals are sent to the service's pid with default dispositions in the child (fptest resets
SIGINT, which a shell leaves ignored in background jobs).

usage: services.py TEST --lib libflameprof.so --src DIR_OF_SERVICES [--keep]
       services.py list
Exit status 0 pass, 1 fail, 77 skip (the runtime is not installed here: loud).
"""

import argparse
import glob
import os
import re
import shutil
import signal
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402

CPU_LOAD = 0.5           # CPU seconds the profiled service spends under load before the stop
BASE_REQUESTS = 2        # requests before the stop without the profiler (only the ending counts)
LOAD_WALL_MAX = 25       # seconds of load at most: a loaded CI machine gets less CPU
READY_TIMEOUT = 30       # seconds for a service (a JVM on a busy machine) to listen
WEIGHT_MIN_RATIO = 0.5   # profile weight / (CPU until the stop x FREQ): the whole run is there
TEST_BUDGET = 80         # seconds for a whole test (meson's timeout is 100)


class Service:
    def __init__(self, name, argv, work, env=None):
        self.name, self.argv, self.work, self.env = name, argv, work, env or {}


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def get(port, path, timeout=15):
    with urllib.request.urlopen(f'http://127.0.0.1:{port}{path}', timeout=timeout) as r:
        return r.read()


def serve(ck, svc, lib, env, cwd, stop, cpu_load, requests_max):
    """Starts the service, loads it until it used cpu_load CPU seconds more than it took to
    start (or for requests_max requests, or LOAD_WALL_MAX), then stops it (a signal, or a
    request path). Returns the Run and the CPU seconds used until the stop."""
    port = free_port()
    p = fptest.start(svc.argv(port), lib, {**svc.env, **env}, cwd)
    label = 'with the profiler' if lib else 'without the profiler'
    if not ck.check(p.wait_stdout('listening\n', READY_TIMEOUT), f'{svc.name} listens ({label})'):
        p.signal(signal.SIGKILL)
        return fptest.report_run(p.finish()), 0.0
    n, end = 0, time.monotonic() + LOAD_WALL_MAX
    cpu_target = p.cpu_now() + (cpu_load or 0)
    while n < requests_max and time.monotonic() < end and \
            (cpu_load is None or p.cpu_now() < cpu_target):
        try:
            get(port, '/')
            n += 1
        except OSError as e:
            ck.check(False, f'{svc.name} answers request {n + 1} ({label})', repr(e))
            break
    cpu = p.cpu_now()
    print(f'  {n} requests, {cpu:.2f} CPU-s, then {stop}')
    if isinstance(stop, str):
        try:
            get(port, stop, timeout=10)  # the service ends while answering: no answer
        except OSError:
            pass
    else:
        p.signal(stop)
    return fptest.report_run(p.finish()), cpu


def stderr_tail(r):
    """The program's own last stderr line: the profiler's lines and the JVM's `Picked up
    JAVA_TOOL_OPTIONS` (printed because the profiler set it) left out."""
    own = [ln for ln in r.stderr.splitlines()
           if ln and not ln.startswith('flameprof:') and not ln.startswith('Picked up ')]
    return own[-1] if own else ''


def test_stop(ck, wd, args, svc, stop, want, want_stdout):
    what = f'{svc.name} stopped by {stop if isinstance(stop, str) else stop.name}'
    cwd = wd.path('cwd')
    os.makedirs(cwd)
    base, _ = serve(ck, svc, None, {}, cwd, stop, None, BASE_REQUESTS)
    ck.check(base.returncode == want, f'without the profiler, {what} ends with status {want}',
             f'{base.returncode}')
    ck.check(base.stdout == want_stdout, f"without the profiler, {what}: the runtime's stdout",
             repr(base.stdout))
    out = wd.path('p.%p')
    r, cpu = serve(ck, svc, args.lib, {'FLAMEPROF_OUT': out}, cwd, stop, CPU_LOAD, 10 ** 6)
    ck.check(not r.timed_out, f'{what}: ended within its time limit', f'{r.wall:.1f} s')
    ck.check(r.returncode == base.returncode, f'{what}: same ending as without the profiler',
             f'status {r.returncode} vs {base.returncode}')
    ck.check(r.stdout == base.stdout, f'{what}: same stdout as without the profiler',
             f'{r.stdout!r} vs {base.stdout!r}')
    ck.check(stderr_tail(r) == stderr_tail(base),
             f'{what}: same last stderr line as without the profiler',
             f'{stderr_tail(r)!r} vs {stderr_tail(base)!r}')
    folded, svg = wd.path(f'p.{r.pid}.folded'), wd.path(f'p.{r.pid}.svg')
    prof = fptest.load_profile(ck, folded, what)
    fptest.check_svg(ck, svg)
    fptest.check_summary(ck, r, prof, paths=(folded, svg), dropped=False, what=what)
    lost = [ln for ln in r.notes() if 'before its profile was written' in ln]
    ck.check(not lost, f'{what}: no line saying the profile could not be written', f'{lost}')
    if prof:
        fptest.check_present(ck, prof, svc.work, f'{what}: work()')
        ck.check(prof.total >= WEIGHT_MIN_RATIO * cpu * fptest.FREQ,
                 f'{what}: weight >= {WEIGHT_MIN_RATIO:.0%} of the CPU until the stop x FREQ',
                 f'{prof.total} vs {cpu:.2f} CPU-s x {fptest.FREQ}')
    left = glob.glob(wd.path('*.raw')) + glob.glob(os.path.join(cwd, 'isolate-*-v8.log'))
    left += [m for m in (f'/tmp/perf-{r.pid}.map',) if os.path.exists(m)]
    ck.check(not left, f'{what}: no raw spill, V8 log or perf map left behind', f'{left}')


# --- the services ------------------------------------------------------------------------------

def need(prog):
    path = shutil.which(prog)
    if not path:
        raise fptest.Skip(f'{prog} is not installed: services stopped by signals NOT tested '
                          f'for it')
    return path


def node_service(args, wd):
    node = fptest.find_node()
    js = os.path.join(args.src, 'server.js')
    return Service('node', lambda port: [node, js, port],
                   re.compile(r'JS:[~^+*]?work .*server\.js:\d+:\d+_\[j\]'))


def python_service(args, wd, version):
    if version == 'debian':
        exe = '/usr/bin/python3'
        if not os.path.exists(exe):
            raise fptest.Skip("Debian's /usr/bin/python3 is not installed")
    else:
        exe = fptest.find_python(version)
    # The in-process frame reader names Python functions on every CPython 3.8+.
    work = re.compile(r'work \(.*service\.py:\d+\)_\[p\]')
    py = os.path.join(args.src, 'service.py')
    return Service(f'python ({version})', lambda port: [exe, py, port], work)


def java_service(args, wd):
    java, javac = need('java'), need('javac')
    classes = wd.path('classes')
    r = fptest.run([javac, '-d', classes, os.path.join(args.src, 'StopService.java')])
    if r.returncode != 0:
        raise fptest.Skip(f'javac failed ({r.returncode}): {r.stderr[-300:]}')
    return Service('java', lambda port: [java, '-cp', classes, 'StopService', port],
                   re.compile(r'StopService\.work\(int\).*'))


SIG = {'term': signal.SIGTERM, 'int': signal.SIGINT}
TESTS = {}
for _s, _sig in SIG.items():
    TESTS[f'stop-node-{_s}'] = lambda a, w, c, sig=_sig: test_stop(
        c, w, a, node_service(a, w), sig, -sig, 'listening\n')
    for _v in ('debian', '3.12'):
        TESTS[f'stop-python-{_v}-{_s}'] = lambda a, w, c, sig=_sig, v=_v: test_stop(
            c, w, a, python_service(a, w, v), sig, -sig, 'listening\n')
    TESTS[f'stop-java-{_s}'] = lambda a, w, c, sig=_sig: test_stop(
        c, w, a, java_service(a, w), sig, 128 + sig, 'listening\nshutdown hook ran\n')
TESTS['stop-java-exit'] = lambda a, w, c: test_stop(
    c, w, a, java_service(a, w), '/exit', 3, 'listening\nshutdown hook ran\n')
TESTS['stop-java-halt'] = lambda a, w, c: test_stop(
    c, w, a, java_service(a, w), '/halt', 4, 'listening\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('test', choices=sorted(TESTS) + ['list'])
    ap.add_argument('--lib', help='libflameprof.so')
    ap.add_argument('--src', help='the folder with the services')
    ap.add_argument('--keep', action='store_true', help='keep the temporary files')
    args = ap.parse_args()
    if args.test == 'list':
        print('\n'.join(sorted(TESTS)))
        return 0
    args.lib, args.src = os.path.abspath(args.lib), os.path.abspath(args.src)
    fptest.set_budget(TEST_BUDGET)
    ck = fptest.Checks(args.test)
    wd = fptest.Workdir('services', args.keep)
    return fptest.run_test(ck, TESTS[args.test], args, wd, ck, cleanup=wd.cleanup)


if __name__ == '__main__':
    sys.exit(main())
