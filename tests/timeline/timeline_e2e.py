#!/usr/bin/env python3
"""timeline_e2e.py - the timeline end to end, on programs driven through phases of work.

Test `phases`: a native program (wl_phases) runs 2 s of phase_a, then 2 s of phase_b, on two threads, and says (measured inside) when each phase ran. Checks:
the raw spill's per-slot weights add up to the whole profile's weight exactly;
`flameprof report --from/--to` over each phase is dominated by that phase's function;
FLAMEPROF_INTERVAL=2 windows are each dominated by their phase; the heatmap page is written
at exit (FLAMEPROF_FORMAT=heatmap) and by `flameprof heatmap`, also from the raw file of a
process still running (a consistent prefix).

Test `node`: a node HTTP service (wl_http.js) gets 2 s of GET /a (handleA), then 2 s of
GET /b (handleB), from a client here; `flameprof heatmap` runs on its raw spill while it
serves; then SIGKILL, and `report --from/--to` over each phase (the client's wall times, in
the profile's seconds through the raw file's O record) must be that phase's handler's, and
the slots must add up to the spill's weight. Skipped (77), loudly, without node.

Test `vdso`: a program spending its time in the vDSO (clock_gettime) keeps its raw spill;
`flameprof report` of it, in another process, names the vDSO's frames as the program's own
exit report did (the vDSO image died with the program: the same kernel's, the report's own,
is read when the build-ids agree).

Usage: timeline_e2e.py phases|node|vdso --lib LIB --flameprof EXE [--wl WL_PHASES]
"""
import argparse
import glob
import os
import re
import shutil
import signal
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'common'))
import fptest  # noqa: E402


def timeline_weights(raw):
    """(whole weight from W records, sum of T records' weights, number of T records, when
    slot 0 began (unix seconds, the O record))."""
    w = t = n = 0
    start = None
    with open(raw) as f:
        for line in f:
            if not line.endswith('\n'):
                break
            p = line.split()
            if p[0] == 'O':
                start = int(p[1], 16) / 1e9
            elif p[0] == 'W':
                w += int(p[2], 16)
            elif p[0] == 'T':
                n += 1
                t += sum(int(x, 16) for x in p[4::2])
    return w, t, n, start


def share(prof, name):
    return 100.0 * prof.inclusive(name) / prof.total if prof.total else 0.0


def share_in(prof, text):
    """The share of the stacks with a frame containing text (JIT names carry more)."""
    w = prof.weight(lambda frames: any(text in f for f in frames))
    return 100.0 * w / prof.total if prof.total else 0.0


def phases(out):
    got = {}
    for line in out.decode().splitlines():
        p = line.split()
        if len(p) == 6 and p[0] == 'phase':
            got[p[1]] = [float(x) for x in p[2:]]
    return got


def test_phases(ck, a):
    """The native program (wl_phases) through its two phases."""
    wd = fptest.Workdir('timeline')
    stem = wd.path('ph')
    env = {'FLAMEPROF_OUT': stem, 'FLAMEPROF_FORMAT': 'folded,heatmap,timeline',
           'FLAMEPROF_INTERVAL': '2'}
    r = fptest.run([a.wl, '2', '2'], lib=a.lib, env=env)
    ck.check(r.returncode == 0, 'workload ran', f'status {r.returncode}')
    ph = phases(r.out)
    ck.check(set(ph) == {'a', 'b'}, 'the workload measured its phases', str(ph))
    whole = fptest.load_profile(ck, stem + '.folded', 'whole run')
    raw = stem + '.raw'
    if not ck.check(os.path.isfile(raw), 'FLAMEPROF_FORMAT=timeline kept the raw file', raw):
        return
    w, t, n, start = timeline_weights(raw)
    ck.check(start is not None, 'the raw file says when the timeline began (O record)')
    if start is None:
        return
    # where the phases ran, in seconds since the profile's slot 0
    for name in ph:
        lo, hi, cpu, wall = ph[name]
        ph[name] = (wall - start, wall - start + hi - lo, cpu)
    ck.check(40 <= n <= 4.2 * 50, 'the timeline has at most one slot record per 20 ms',
             f'{n} T records')
    ck.check(t == w == whole.total, 'per-slot weights add up to the whole profile',
             f'T {t}, W {w}, folded {whole.total}')
    ck.check(os.path.getsize(stem + '.heatmap.html') > 10000, 'heatmap page written at exit')
    # report --from/--to over each phase, 0.3 s inside its measured bounds
    for name, other in (('a', 'b'), ('b', 'a')):
        lo, hi, cpu = ph[name]
        out = wd.path('full_' + name)
        rr = fptest.run([a.flameprof, 'report', '-q', '-o', out, '--format', 'folded',
                         '--from', '%.3f' % lo, '--to', '%.3f' % hi, raw])
        prof = fptest.load_profile(ck, out + '.folded', f'phase {name} whole range')
        if prof and whole:
            got, want = prof.inclusive('phase_' + name), whole.inclusive('phase_' + name)
            ck.check(got >= 0.97 * want, f'phase {name}\'s measured time range holds its samples',
                     f'{got} of the whole run\'s {want} (its CPU: {cpu:.3f} s x 997 = '
                     f'{997 * cpu:.0f})')
        out = wd.path('range_' + name)
        rr = fptest.run([a.flameprof, 'report', '-q', '-o', out, '--format', 'folded',
                         '--from', '%.2f' % (lo + 0.3), '--to', '%.2f' % (hi - 0.3), raw])
        ck.check(rr.returncode == 0, f'report --from/--to over phase {name}', rr.stderr[-300:])
        prof = fptest.load_profile(ck, out + '.folded', f'phase {name} range')
        if prof:
            # the rest is the loop's clock reads (run_phase;clock_gettime), never the other phase
            ck.check(share(prof, 'phase_' + name) >= 85 and share(prof, 'phase_' + other) <= 1,
                     f'phase {name}\'s range is phase_{name}',
                     '%.1f%% phase_%s, %.1f%% phase_%s' % (share(prof, 'phase_' + name), name,
                                                          share(prof, 'phase_' + other), other))
    # FLAMEPROF_INTERVAL=2: windows from 0 s and 2 s (and the rest at exit)
    for start, name in ((0, 'a'), (2, 'b')):
        path = f'{stem}.from-{start}s.folded'
        prof = fptest.load_profile(ck, path, f'window from {start}s')
        if prof:
            ck.check(share(prof, 'phase_' + name) >= 80,
                     f'window from {start}s is dominated by phase_{name}',
                     '%.1f%%' % share(prof, 'phase_' + name))
    wins = glob.glob(stem + '.from-*s.folded')
    total = sum(fptest.Profile(p).total for p in wins)
    ck.check(total == whole.total, 'the windows add up to the whole profile',
             f'{len(wins)} windows, {total} vs {whole.total}')
    # flameprof heatmap while the process still runs
    stem2 = wd.path('live')
    p = fptest.start([a.wl, '1.5', '1'], lib=a.lib, env={'FLAMEPROF_OUT': stem2})
    time.sleep(2.2)
    hr = fptest.run([a.flameprof, 'heatmap', '-q', '-o', wd.path('live_map'), stem2 + '.raw'])
    p.finish(30)
    ck.check(hr.returncode == 0 and os.path.getsize(wd.path('live_map.heatmap.html')) > 10000,
             'flameprof heatmap on the raw file of a running process', hr.stderr[-300:])
    wd.cleanup(bool(ck.failed))


def drive(port, path, seconds):
    """GET path in a loop for seconds; (wall start, wall end, requests)."""
    start, n = time.time(), 0
    while time.time() < start + seconds:
        with urllib.request.urlopen(f'http://127.0.0.1:{port}{path}', timeout=10) as r:
            r.read()
        n += 1
    return start, time.time(), n


def test_node(ck, a):
    """The node HTTP service (wl_http.js) through its two request phases."""
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
    w, t, n, start = timeline_weights(raw)
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
            mine, theirs = share_in(prof, 'handle' + name), share_in(prof, 'handle' + other)
            ck.check(mine >= 50 and theirs <= 3, f'phase {name} is handle{name}\'s',
                     f'{mine:.1f}% handle{name}, {theirs:.1f}% handle{other}')
    wd.cleanup(bool(ck.failed))


VDSO_C = r"""
#include <stdio.h>
#include <time.h>
int main(void)
{
    struct timespec t, t0;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    double s = 0;
    do {
        for (int i = 0; i < 100000; i++) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            s += t.tv_nsec;
        }
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 < 0.4);
    printf("%f\n", s);
    return 0;
}
"""


def test_vdso(ck, a, wd):
    src, exe, prefix = wd.path('vd.c'), wd.path('vd'), wd.path('vd')
    with open(src, 'w') as f:
        f.write(VDSO_C)
    cc = shutil.which('cc') or shutil.which('gcc')
    if not cc or fptest.run([cc, '-O2', src, '-o', exe]).returncode != 0:
        raise fptest.Skip('no C compiler: the vDSO names of a raw spill were NOT tested')
    r = fptest.run([exe], lib=a.lib, env={'FLAMEPROF_OUT': prefix,
                                          'FLAMEPROF_FORMAT': 'folded,timeline'})
    ck.check(r.returncode == 0, 'the program exits 0', str(r.returncode))
    own = fptest.load_profile(ck, prefix + '.folded', 'exit report')
    rep = fptest.run([a.flameprof, 'report', '-o', wd.path('again'), prefix + '.raw'])
    ck.check(rep.returncode == 0, 'flameprof report of the raw spill', rep.stderr[-300:])
    again = fptest.load_profile(ck, wd.path('again.folded'), 'report of the raw spill')
    if not own or not again:
        return
    def vdso(p):
        return p.weight(lambda fr: any(f.startswith('__vdso_') for f in fr))
    unnamed = again.weight(lambda fr: any(f.startswith('[vdso]+') for f in fr))
    ck.check(vdso(own) >= 0.3 * own.total, 'the exit report names the vDSO\'s frames',
             f'{vdso(own)} of {own.total}')
    ck.check(unnamed == 0 and vdso(again) == vdso(own),
             'the raw spill\'s report names them the same', f'__vdso_*: {vdso(again)} vs '
             f'{vdso(own)}; [vdso]+0x...: {unnamed}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('test', choices=['phases', 'node', 'vdso'])
    ap.add_argument('--lib', required=True)
    ap.add_argument('--flameprof', required=True)
    ap.add_argument('--wl', help='wl_phases (the phases test)')
    a = ap.parse_args()
    ck = fptest.Checks('timeline-' + a.test)
    if a.test == 'vdso':
        wd = fptest.Workdir('timeline-vdso')
        sys.exit(fptest.run_test(ck, test_vdso, ck, a, wd, cleanup=wd.cleanup))
    sys.exit(fptest.run_test(ck, test_phases if a.test == 'phases' else test_node, ck, a))


if __name__ == '__main__':
    main()
