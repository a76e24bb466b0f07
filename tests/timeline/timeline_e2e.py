#!/usr/bin/env python3
"""timeline_e2e.py - the timeline end to end: a native program runs 2 s of phase_a, then
2 s of phase_b, on two threads, and says (measured inside) when each phase ran. Checks:
the raw spill's per-slot weights add up to the whole profile's weight exactly;
`flameprof report --from/--to` over each phase is dominated by that phase's function;
FLAMEPROF_INTERVAL=2 windows are each dominated by their phase; the heatmap page is written
at exit (FLAMEPROF_FORMAT=heatmap) and by `flameprof heatmap`, also from the raw file of a
process still running (a consistent prefix).

Usage: timeline_e2e.py --lib LIB --flameprof EXE --wl WL_PHASES
"""
import argparse
import glob
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
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


def phases(out):
    got = {}
    for line in out.decode().splitlines():
        p = line.split()
        if len(p) == 6 and p[0] == 'phase':
            got[p[1]] = [float(x) for x in p[2:]]
    return got


def test(ck, a):
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
            ck.check(share(prof, 'phase_' + name) >= 95, f'phase {name}\'s range is phase_{name}',
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lib', required=True)
    ap.add_argument('--flameprof', required=True)
    ap.add_argument('--wl', required=True)
    a = ap.parse_args()
    ck = fptest.Checks('timeline-phases')
    sys.exit(fptest.run_test(ck, test, ck, a))


if __name__ == '__main__':
    main()
