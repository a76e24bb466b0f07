#!/usr/bin/env python3
"""node_phases.py - the timeline of a node HTTP service: 2 s of GET /a (handleA), then 2 s
of GET /b (handleB), from a client here; then `flameprof heatmap` on the raw spill while the
service runs, and SIGKILL. `flameprof report --from/--to` over each phase (the client's wall
times, turned into the profile's seconds with the raw file's O record) must be dominated by
that phase's handler, and the per-slot weights must add up to the whole spill's weight.
Skipped (77), loudly, without node.

Usage: node_phases.py --lib LIB --flameprof EXE
"""
import argparse
import os
import re
import shutil
import signal
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
import fptest  # noqa: E402
import timeline_e2e  # noqa: E402  timeline_weights


def drive(port, path, seconds):
    """GET path in a loop for seconds; (wall start, wall end, requests)."""
    start, n = time.time(), 0
    while time.time() < start + seconds:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}{path}', timeout=10) as r:
            r.read()
        n += 1
    return start, time.time(), n


def share(prof, name):
    w = prof.weight(lambda frames: any(name in f for f in frames))
    return 100.0 * w / prof.total if prof.total else 0.0


def test(ck, a):
    node = shutil.which('node') or shutil.which('nodejs')
    if not node:
        raise fptest.Skip('node not found: the node service timeline was NOT tested')
    wd = fptest.Workdir('timeline-node')
    stem = wd.path('svc')
    p = fptest.start([node, os.path.join(HERE, 'wl_http.js')], lib=os.path.abspath(a.lib),
                     env={'FLAMEPROF_OUT': stem}, cwd=wd.tmp)  # V8's isolate log lands there
    wd.cleanups.append(lambda: p.signal(signal.SIGKILL))
    wd.cleanups.append(lambda: os.path.exists(f'/tmp/perf-{p.pid}.map') and
                       os.unlink(f'/tmp/perf-{p.pid}.map'))
    if not ck.check(p.wait_stdout('port ', 30), 'the service listens'):
        return
    port = int(re.search(rb'port (\d+)', bytes(p.out)).group(1))
    drive(port, '/', 0.5)  # warm up: V8 compiles the handlers
    ph = {'A': drive(port, '/a', 2.0), 'B': drive(port, '/b', 2.0)}
    time.sleep(1.3)  # one more spill
    # the service's own spill: PREFIX.raw, or PREFIX.PID.raw if another process under the
    # library (a launcher) took that name first
    raw = next((f for f in (f'{stem}.{p.pid}.raw', stem + '.raw') if os.path.exists(f)),
               stem + '.raw')
    hr = fptest.run([a.flameprof, 'heatmap', '-q', '-o', wd.path('live'), raw])
    ck.check(hr.returncode == 0 and os.path.getsize(wd.path('live.heatmap.html')) > 10000,
             'flameprof heatmap while the service runs', hr.stderr[-300:])
    p.signal(signal.SIGKILL)
    p.finish(30)
    w, t, n, start = timeline_e2e.timeline_weights(raw)
    ck.check(start is not None and t == w > 0, 'per-slot weights add up to the whole spill',
             f'T {t}, W {w}, {n} slots')
    if start is None:
        return
    for name, other in (('A', 'B'), ('B', 'A')):
        lo, hi, reqs = ph[name]
        out = wd.path('range_' + name)
        rr = fptest.run([a.flameprof, 'report', '-q', '-o', out, '--format', 'folded',
                         '--from', '%.2f' % (lo - start + 0.2), '--to', '%.2f' % (hi - start - 0.2),
                         raw])
        ck.check(rr.returncode == 0, f'report --from/--to over phase {name}', rr.stderr[-300:])
        prof = fptest.load_profile(ck, out + '.folded', f'phase {name} ({reqs} requests)')
        if prof:
            mine, theirs = share(prof, 'handle' + name), share(prof, 'handle' + other)
            ck.check(mine >= 50 and theirs <= 3, f'phase {name} is handle{name}\'s',
                     f'{mine:.1f}% handle{name}, {theirs:.1f}% handle{other}')
    wd.cleanup(bool(ck.failed))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lib', required=True)
    ap.add_argument('--flameprof', required=True)
    a = ap.parse_args()
    ck = fptest.Checks('timeline-node')
    sys.exit(fptest.run_test(ck, test, ck, a))


if __name__ == '__main__':
    main()
