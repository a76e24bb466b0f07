#!/usr/bin/env python3
"""live.py - live services: `flameprof dump PID` on a running native service, thread names
and --threads, filters on a real profile.

  live.py --flameprof EXE --lib LIB --wl WL_LIVE TEST

Tests:
  dump-phases      wl_live burns phase_a for 2 s then phase_b for 2 s (wall time measured in
                   the process): `dump -d 1` during phase b is dominated by phase_b; `dump`
                   after both holds both, no more than the exit profile; the control socket
                   exists while the process runs and leaves no file behind
  dump-no-library  a process without the library: one clear line, status 1; no process:
                   one clear line, status 1
  dump-other-user  (as root) `nobody` cannot dump a root process: one line, status 1; the
                   host goes on and its own profile is whole
  threads          three named threads (pthread_setname_np, prctl, /proc comm) with CPU
                   shares 1:2:3: `svg --threads`-style roots `[name tid]` in FLAMEPROF_THREADS
                   profiles and `dump --threads`, per-thread shares as measured, merged by
                   default
"""

import argparse
import os
import pwd
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402

A = None  # the parsed arguments


def control_sockets(pid):
    """Abstract unix socket names of the form @flameprof.PID now listening (/proc/net/unix)."""
    with open('/proc/net/unix') as f:
        return [ln.split()[-1] for ln in f if ln.rstrip().endswith(f'@flameprof.{pid}')]


def dump(args, cwd, user=None):
    argv = [A.flameprof, 'dump'] + [str(a) for a in args]
    if user:
        pw = pwd.getpwnam(user)
        argv = ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups'] + argv
    return fptest.run(argv, cwd=cwd, timeout=30)


def share(prof, name):
    return fptest.pct(prof.inclusive(name), prof.total)


def test_dump_phases(ck, wd):
    p = fptest.start([A.wl, 'phases', '2', '2'], lib=A.lib, cwd=wd.tmp)
    try:
        ck.check(p.wait_stdout('phase b', 10), 'the service reached phase b')
        time.sleep(0.3)
        ck.check(len(control_sockets(p.pid)) == 1, 'the control socket is listening',
                 str(control_sockets(p.pid)))
        r = dump(['-d', '1', '-o', 'window', p.pid], wd.tmp)
        ck.check(r.returncode == 0, 'dump -d 1 succeeded', r.stderr.strip()[-300:])
        win = fptest.load_profile(ck, wd.path('window.folded'), 'dump -d 1 in phase b')
        if win:
            b = share(win, 'phase_b')
            ck.check(b >= 90, 'dump -d 1 in phase b: phase_b dominates', f'{b:.1f}%')
            ck.check(win.inclusive('phase_a') == 0, 'no phase_a sample in the window',
                     str(win.inclusive('phase_a')))
            ck.check(os.path.isfile(wd.path('window.svg')), 'the SVG is written too')
        ck.check(p.wait_stdout('done', 10), 'the service finished both phases')
        r = dump([p.pid, '-o', 'so-far', '--format', 'folded'], wd.tmp)
        ck.check(r.returncode == 0, 'dump (so far) succeeded', r.stderr.strip()[-300:])
        so_far = fptest.load_profile(ck, wd.path('so-far.folded'), 'dump so far')
        ck.check(not os.path.exists(wd.path('so-far.svg')), '--format folded: no SVG')
    finally:
        p.signal(signal.SIGTERM)
        run = fptest.report_run(p.finish(30))
    whole = fptest.load_profile(ck, wd.path(f'flameprof.wl_live.{run.pid}.folded'), 'exit profile')
    if so_far and whole:
        a, b = share(so_far, 'phase_a'), share(so_far, 'phase_b')
        ck.check(30 <= a <= 70 and 30 <= b <= 70, 'dump so far holds both phases',
                 f'phase_a {a:.1f}%, phase_b {b:.1f}%')
        ck.check(so_far.total <= whole.total, 'the dump is no more than the whole run',
                 f'{so_far.total} <= {whole.total}')
        ck.check(so_far.total >= 0.9 * whole.total, 'the dump after both phases is nearly all',
                 f'{so_far.total} of {whole.total}')
    ck.check(control_sockets(run.pid) == [], 'no control socket after the process ended')
    left = sorted(os.listdir(wd.tmp))
    want = sorted(['window.folded', 'window.svg', 'so-far.folded',
                   f'flameprof.wl_live.{run.pid}.folded', f'flameprof.wl_live.{run.pid}.svg'])
    ck.check(left == want, 'no file left behind but the profiles', str(left))


def dump_only(ck, wd, pid, name, want, other):
    """dump pid; its profile is all `want` (90%), none of `other`."""
    r = dump(['-q', '-o', name, '--format', 'folded', pid], wd.tmp)
    ck.check(r.returncode == 0, f'dump {name}', r.stderr.strip()[-200:])
    prof = fptest.load_profile(ck, wd.path(f'{name}.folded'), name)
    if prof:
        ck.check(share(prof, want) >= 90 and prof.inclusive(other) == 0,
                 f'{name}: its own samples only ({want}, no {other})',
                 f'{want} {share(prof, want):.1f}%, {other} {prof.inclusive(other)}')


def test_dump_fork_exec(ck, wd):
    p = fptest.start([A.wl, 'fork', '3'], lib=A.lib, cwd=wd.tmp)
    try:
        ck.check(p.wait_stdout('child ', 10) and p.wait_stdout('parent ', 10), 'forked')
        time.sleep(1.2)
        ids = dict(ln.split() for ln in p.out.decode().splitlines() if ' ' in ln)
        child, parent = int(ids['child']), int(ids['parent'])
        ck.check(control_sockets(child) and control_sockets(parent),
                 'the child listens under its own pid, the parent still under its own')
        dump_only(ck, wd, child, 'child', 'phase_b', 'phase_a')
        dump_only(ck, wd, parent, 'parent', 'phase_a', 'phase_b')
        ck.check(p.wait_stdout('done', 10), 'the child ended, the parent went on')
        ck.check(control_sockets(child) == [], 'the ended child left no socket')
    finally:
        p.signal(signal.SIGTERM)
        fptest.report_run(p.finish(30))
    p = fptest.start([A.wl, 'exec', '1'], lib=A.lib, cwd=wd.tmp)
    try:
        ck.check(p.wait_stdout('phase b', 15), 'the exec\'d image runs')
        time.sleep(1.2)
        ck.check(len(control_sockets(p.pid)) == 1, 'after exec: one socket, the new image\'s',
                 str(control_sockets(p.pid)))
        dump_only(ck, wd, p.pid, 'after-exec', 'phase_b', 'phase_a')
    finally:
        p.signal(signal.SIGTERM)
        fptest.report_run(p.finish(30))


def test_dump_no_library(ck, wd):
    p = fptest.start([A.wl, 'idle', '20'], cwd=wd.tmp)
    try:
        time.sleep(0.2)
        r = dump([p.pid], wd.tmp)
    finally:
        p.signal(signal.SIGTERM)
        p.finish(10)
    lines = r.stderr.strip().splitlines()
    ck.check(r.returncode == 1, 'dump of a process without the library fails', str(r.returncode))
    ck.check(len(lines) == 1 and 'not running with libflameprof' in lines[0],
             'one clear line', str(lines))
    r = dump([p.pid], wd.tmp)  # reaped: no such process now
    lines = r.stderr.strip().splitlines()
    ck.check(r.returncode == 1 and len(lines) == 1 and 'no process' in lines[0],
             'dump of no process: one clear line, status 1', str(lines))
    ck.check(os.listdir(wd.tmp) == [], 'nothing written', str(os.listdir(wd.tmp)))


def test_dump_other_user(ck, wd):
    if os.geteuid() != 0:
        raise fptest.Skip('needs root to run the dump as another user (nobody)')
    if not shutil.which('setpriv'):
        raise fptest.Skip('setpriv (util-linux) is missing')
    os.chmod(wd.tmp, 0o777)  # nobody may write there: only the channel may refuse
    p = fptest.start([A.wl, 'phases', '1', '1'], lib=A.lib, cwd=wd.tmp)
    try:
        ck.check(p.wait_stdout('phase b', 10), 'the service runs')
        time.sleep(0.2)
        r = dump([p.pid, '-o', 'stolen'], wd.tmp, user='nobody')
        lines = r.stderr.strip().splitlines()
        ck.check(r.returncode == 1, 'nobody cannot dump a root process', str(r.returncode))
        ck.check(len(lines) == 1 and 'another user' in lines[0], 'one clear line', str(lines))
        ck.check(not os.path.exists(wd.path('stolen.folded')), 'nothing written for nobody')
        r = dump([p.pid, '-o', 'mine', '-q'], wd.tmp)
        ck.check(r.returncode == 0 and os.path.isfile(wd.path('mine.folded')),
                 'root (the same user) can', r.stderr.strip()[-200:])
        ck.check(p.wait_stdout('done', 10), 'the host went on')
    finally:
        p.signal(signal.SIGTERM)
        run = fptest.report_run(p.finish(30))
    whole = fptest.load_profile(ck, wd.path(f'flameprof.wl_live.{run.pid}.folded'), 'exit profile')
    if whole:
        ck.check(whole.inclusive('phase_b') > 0, 'the host profile is whole')


def thread_roots(prof):
    """{root frame: weight} for the stacks rooted at a "[name tid]" frame."""
    return {r: w for r, w in prof.roots().items() if re.fullmatch(r'\[.* [0-9]+\]', r)}


def test_threads(ck, wd):
    p = fptest.start([A.wl, 'threads', '2'], lib=A.lib, cwd=wd.tmp,
                     env={'FLAMEPROF_THREADS': '1'})
    try:
        ck.check(p.wait_stdout('thread worker-c', 20), 'the three threads ran')
        r = dump(['--threads', '-q', '-o', 'dump-threads', '--format', 'folded', p.pid], wd.tmp)
        ck.check(r.returncode == 0, 'dump --threads', r.stderr.strip()[-200:])
        r = dump(['-q', '-o', 'dump-merged', '--format', 'folded', p.pid], wd.tmp)
        ck.check(r.returncode == 0, 'dump (merged)', r.stderr.strip()[-200:])
    finally:
        p.signal(signal.SIGTERM)
        run = fptest.report_run(p.finish(30))
    truth = {}
    for ln in run.stdout.splitlines():
        f = ln.split()
        if len(f) == 4 and f[0] == 'thread':
            truth[f'[{f[1]} {f[2]}]'] = float(f[3])
    ck.check(len(truth) == 3, 'three threads measured', str(truth))
    whole = fptest.load_profile(ck, wd.path(f'flameprof.wl_live.{run.pid}.folded'), 'FLAMEPROF_THREADS=1')
    if not whole or len(truth) != 3:
        return
    roots = thread_roots(whole)
    ck.check(sum(roots.values()) == whole.total, 'every stack has a thread root',
             f'{sum(roots.values())} of {whole.total}')
    for name in truth:
        ck.check(name in roots, f'a root {name}', str(sorted(roots)))
    cpu_total = sum(truth.values())
    got_total = sum(roots.get(n, 0) for n in truth)
    for name, cpu in truth.items():
        want, got = 100 * cpu / cpu_total, fptest.pct(roots.get(name, 0), got_total)
        ck.check(abs(got - want) <= 5, f'{name} share as measured (5 pt)',
                 f'{got:.1f}% vs {want:.1f}%')
        under = whole.weight(lambda fr, n=name: fr[0] == n and 'work' in fr)
        ck.check(under >= 0.95 * roots.get(name, 0), f'{name} holds its thread function work',
                 f'{under} of {roots.get(name, 0)}')
    kept = fptest.Profile(wd.path('dump-threads.folded'))
    merged = fptest.Profile(wd.path('dump-merged.folded'))
    ck.check(set(thread_roots(kept)) >= set(truth), 'dump --threads: the same roots',
             str(sorted(thread_roots(kept))))
    ck.check(thread_roots(merged) == {} and merged.total == kept.total,
             'dump without --threads: merged, same total', f'{merged.total} vs {kept.total}')
    for args, want in ((['--threads'], True), ([], False)):
        r = fptest.run([A.flameprof, 'svg'] + args + [whole.path], echo=False)
        ck.check(('[worker-b ' in r.stdout) == want,
                 f'svg {" ".join(args) or "(default)"}: thread roots {"kept" if want else "merged"}')
    p = fptest.start([A.wl, 'threads', '0.5'], lib=A.lib, cwd=wd.tmp)
    ck.check(p.wait_stdout('thread worker-c', 20), 'a run without FLAMEPROF_THREADS')
    p.signal(signal.SIGTERM)
    run = fptest.report_run(p.finish(30))
    plain = fptest.load_profile(ck, wd.path(f'flameprof.wl_live.{run.pid}.folded'), 'default')
    if plain:
        ck.check(thread_roots(plain) == {}, 'threads merged by default',
                 str(sorted(thread_roots(plain))))


NOISE = r'^(uv_|node::|v8::|Builtins_|Builtin:|BytecodeHandler:|\[unknown\])'


def test_filters_node(ck, wd):
    node = shutil.which('node')
    if not node:
        raise fptest.Skip('node is not installed')
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'wl_node.js')
    r = fptest.run([node, script, '3'], lib=A.lib, cwd=wd.tmp, timeout=60)
    ck.check(r.returncode == 0, 'the node service ran', str(r.returncode))
    raw = fptest.load_profile(ck, wd.path(f'flameprof.node.{r.pid}.folded'), 'node, unfiltered')
    if not raw:
        return
    noisy = lambda fr: any(re.search(NOISE, f) for f in fr)  # noqa: E731
    ck.check(raw.weight(noisy) > 0.2 * raw.total, 'the unfiltered profile is noisy (20%)',
             f'{raw.weight(noisy)} of {raw.total}')
    out = wd.path('clean.folded')
    args = ['--strip-runtime-prefixes', '--hide', NOISE]
    c = fptest.run([A.flameprof, 'convert', '-f', 'folded', '-o', out] + args + [raw.path])
    ck.check(c.returncode == 0, 'convert --hide --strip-runtime-prefixes', c.stderr[-200:])
    clean = fptest.Profile(out)
    ck.show('node, filtered', clean)
    ck.check(clean.total == raw.total, '--hide loses no sample', f'{clean.total} vs {raw.total}')
    left = sorted({f for f in clean.frame_names() if re.search(NOISE, f)})
    ck.check(not left, 'no runtime frame is left', str(left[:5]))
    prefixed = sorted({f for f in clean.frame_names() if re.match(r'(JS|LazyCompile):', f)})
    ck.check(not prefixed, 'no JS:* prefix is left', str(prefixed[:5]))
    handle = lambda fr: any(f.startswith('handleRequest ') for f in fr)  # noqa: E731
    was = raw.weight(lambda fr: any(re.match(r'JS:.handleRequest ', f) for f in fr))
    ck.check(was > 0 and clean.weight(handle) == was, 'handleRequest keeps its samples, '
             'named without its prefix', f'{clean.weight(handle)} vs {was}')
    svg = fptest.run([A.flameprof, 'svg'] + args + [raw.path], echo=False)
    ck.check('filtered: hide' in svg.stdout and f'{raw.total} of {raw.total} samples shown'
             in svg.stdout, 'the SVG says what was filtered')
    foc = wd.path('focus.folded')
    fptest.run([A.flameprof, 'convert', '-f', 'folded', '-o', foc, '--strip-runtime-prefixes',
                '--focus', '^handleRequest ', raw.path])
    focus = fptest.Profile(foc)
    ck.check(focus.total == was and all(handle(fr) for fr, _ in focus.stacks),
             '--focus keeps exactly the stacks through handleRequest', f'{focus.total} vs {was}')
    exc = wd.path('exclude.folded')
    fptest.run([A.flameprof, 'convert', '-f', 'folded', '-o', exc, '--strip-runtime-prefixes',
                '--exclude', '^handleRequest ', raw.path])
    ck.check(fptest.Profile(exc).total == raw.total - was, '--exclude drops exactly those',
             f'{fptest.Profile(exc).total} vs {raw.total - was}')


TESTS = {
    'dump-fork-exec': test_dump_fork_exec,
    'filters-node': test_filters_node,
    'threads': test_threads,
    'dump-phases': test_dump_phases,
    'dump-no-library': test_dump_no_library,
    'dump-other-user': test_dump_other_user,
}


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument('--flameprof', required=True)
    ap.add_argument('--lib', required=True)
    ap.add_argument('--wl', required=True)
    ap.add_argument('test', choices=sorted(TESTS))
    A = ap.parse_args()
    A.flameprof, A.lib, A.wl = (os.path.abspath(x) for x in (A.flameprof, A.lib, A.wl))
    fptest.set_budget(100)
    ck = fptest.Checks(A.test)
    wd = fptest.Workdir('live')
    return fptest.run_test(ck, TESTS[A.test], ck, wd, cleanup=wd.cleanup)


if __name__ == '__main__':
    sys.exit(main())
