#!/usr/bin/env python3
"""chromium_test.py - Debian's Chromium under the library, as users run it (issue 17).

Usage: chromium_test.py TEST FLAMEPROF LIBFLAMEPROF
  nosandbox   --no-sandbox: a --dump-dom of a page that runs JavaScript for ~2 s and a
              headless screenshot, without and with the library: same status, same DOM, the
              screenshot made; under `flameprof record`, one profile with the browser, GPU
              and renderer processes as roots and the page's functions named in a renderer
  sandbox     the sandbox on, as a user who is not root (created here when run as root):
              same status and DOM; the summary says why the renderers are not profiled; a
              headless screenshot without and with a bare LD_PRELOAD, both made

Chromium missing, or a sandbox that cannot start here even without the library: SKIP (77).
Wall times are printed as benchmark figures, never asserted (shared vCPUs).
"""
import os
import pwd
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402

CHROMIUM = shutil.which('chromium')
TEST_USER = 'flameprof-test'
PAGE = """<html><body><h1 id=t>start</h1><script>
function fpLeafWork(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) * Math.sin(i); return s; }
function fpBusyLoop(ms) { const end = Date.now() + ms; let s = 0; while (Date.now() < end) s += fpLeafWork(10000); return s; }
document.getElementById('t').textContent = 'done ' + (fpBusyLoop(2000) > 0);
</script></body></html>
"""
JS_FLAGS = '--js-flags=--perf-basic-prof --interpreted-frames-native-stack'
TIMEOUT = 120


_runs = [0]


def base_args(home, sandbox):
    # A user-data-dir of its own for every run: Chromium hands its command line to a running
    # instance of the same directory (a straggler of the run before) and exits 0 at once.
    _runs[0] += 1
    return [CHROMIUM, '--headless', '--disable-gpu', '--no-first-run',
            f'--user-data-dir={home}/profile{_runs[0]}'] + ([] if sandbox else ['--no-sandbox'])


def same_run(ck, what, off, on, page_out=True):
    ck.check(on.returncode == off.returncode == 0 and not on.timed_out,
             f'{what}: same exit status as without the library',
             f'{off.returncode} without, {on.returncode} with')
    if page_out:
        ck.check('done true' in off.stdout and on.stdout == off.stdout,
                 f'{what}: the same DOM, after the page\'s JavaScript ran',
                 f'{len(off.stdout)} vs {len(on.stdout)} bytes')
    print(f'benchmark: {what}: {off.wall:.2f} s without, {on.wall:.2f} s with the library '
          f'(x{on.wall / max(off.wall, 0.01):.2f})')


def tree_summary(r):
    return [ln for ln in r.stderr.splitlines() if ln.startswith('flameprof: record: ')]


def test_nosandbox(ck, wd, exe, lib):
    page = wd.path('page.html')
    open(page, 'w').write(PAGE)
    env = {'HOME': wd.tmp}
    dom = base_args(wd.tmp, False) + [JS_FLAGS, '--dump-dom', page]
    off = fptest.run(dom, env=env, cwd=wd.tmp, timeout=TIMEOUT)
    if off.returncode != 0:
        raise fptest.Skip(f'chromium --dump-dom fails without the library ({off.returncode})')
    out = wd.path('rec')
    os.makedirs(out)
    on = fptest.run([exe, 'record', '--pids', '-o', 'tree', '--'] + dom,
                    env=dict(env, FLAMEPROF_LIB=lib),
                    cwd=out, timeout=TIMEOUT)
    same_run(ck, '--dump-dom', off, on)
    summary = tree_summary(on)
    ck.check(summary and 'wrote' in summary[0], 'one summary of the browser\'s tree',
             summary[0][:300] if summary else on.stderr[-300:])
    prof = fptest.load_profile(ck, os.path.join(out, 'tree.folded'), 'chromium tree')
    if prof:
        roots = prof.roots()
        for root in roots:  # V8's perf maps (--perf-basic-prof) are the test's litter
            pid = root.rpartition(' [pid ')[2].rstrip(']')
            if pid.isdigit():
                wd.cleanups.append(lambda p=pid: os.path.exists(f'/tmp/perf-{p}.map') and
                                   os.unlink(f'/tmp/perf-{p}.map'))
        kinds = {r.rsplit(' [pid ', 1)[0] for r in roots}
        for kind in ('chromium', 'chromium --type=renderer', 'chromium --type=gpu-process'):
            ck.check(kind in kinds, f'a root for {kind} (one per process with --pids)',
                     str(roots))
        # The page's renderer: the one with the most of the page's JS. Its loop runs 2 s of
        # wall time, so its CPU share (not its sample count) is what a loaded machine keeps.
        def js_in(root):
            return prof.weight(lambda f: f[0] == root and
                               any('fpLeafWork' in x or 'fpBusyLoop' in x for x in f))
        renderers = [r for r in roots if r.startswith('chromium --type=renderer [pid ')]
        page_root = max(renderers, key=js_in, default=None)
        js = js_in(page_root) if page_root else 0
        ck.check(js >= 20 and js >= 0.3 * roots[page_root],
                 'the page\'s JS functions named in its renderer, most of its samples',
                 f'{js} of {roots.get(page_root, 0)} under fpBusyLoop/fpLeafWork ({page_root})')
    # The screenshot, the issue's own command: a bare LD_PRELOAD.
    screenshots(ck, wd.tmp, base_args(wd.tmp, False), page, lib, env)


def screenshots(ck, home, args, page, lib, env, user=None):
    """A headless screenshot of page without and with a bare LD_PRELOAD (as user, with the
    sandbox on, if given): same status, both made."""
    what = '--screenshot' + (' (sandbox on)' if user else '')
    shots = {}
    for label, use in (('without', None), ('with', lib)):
        d = os.path.join(home, 'shot-' + label)
        os.makedirs(d)
        if user and os.geteuid() == 0:
            os.chown(d, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        png = os.path.join(d, 'shot.png')
        quiet = dict(env, FLAMEPROF_QUIET='1')
        argv = args + [f'--screenshot={png}', '--window-size=640,480', page]
        if user and os.geteuid() == 0:  # the library in Chromium, not in runuser
            argv = as_user(user, argv, dict(quiet, **({'LD_PRELOAD': use} if use else {})))
            use = None
        r = fptest.run(argv, lib=use, env=quiet, cwd=d, timeout=TIMEOUT)
        data = open(png, 'rb').read() if os.path.isfile(png) else b''
        shots[label] = (r, data)
    (r0, d0), (r1, d1) = shots['without'], shots['with']
    same_run(ck, what, r0, r1, page_out=False)
    tails = [[ln for ln in r.stderr.splitlines() if 'dbus' not in ln][-2:] for r in (r0, r1)]
    ck.check(d0.startswith(b'\x89PNG') and d1.startswith(b'\x89PNG'), f'{what}: the screenshot is made',
             f'{len(d0)} and {len(d1)} bytes; stderr ends {tails}')


def test_user():
    """A user who is not root, created when needed; None if none can be had."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(TEST_USER)
    except KeyError:
        r = subprocess.run(['useradd', '--system', '--no-create-home', '--shell',
                            '/usr/sbin/nologin', TEST_USER], capture_output=True, text=True)
        if r.returncode != 0:
            return None
    return TEST_USER


def as_user(user, argv, env):
    if os.geteuid() != 0:
        return argv
    sets = [f'{k}={v}' for k, v in env.items()]
    return ['runuser', '-u', user, '--', 'env'] + sets + argv


def test_sandbox(ck, wd, exe, lib):
    user = test_user()
    if not user or (os.geteuid() == 0 and not shutil.which('runuser')):
        raise fptest.Skip('no user other than root to run Chromium\'s sandbox as')
    # Everything the user touches: readable copies of the tool and library, its own home.
    os.chmod(wd.tmp, 0o755)
    bindir = wd.path('bin')
    os.makedirs(bindir)
    for f in (exe, lib):
        shutil.copy(f, bindir)
    exe, lib = os.path.join(bindir, 'flameprof'), os.path.join(bindir, os.path.basename(lib))
    home = wd.path('home')
    os.makedirs(home)
    page = os.path.join(home, 'page.html')
    open(page, 'w').write(PAGE)
    if os.geteuid() == 0:
        uid, gid = pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid
        for root, dirs, files in os.walk(home):
            for p in [root] + [os.path.join(root, x) for x in files]:
                os.chown(p, uid, gid)
    env = {'HOME': home}
    dom = base_args(home, True) + ['--dump-dom', page]
    off = fptest.run(as_user(user, dom, env), env=env, cwd=home, timeout=TIMEOUT)
    if off.returncode != 0 or 'done true' not in off.stdout:
        raise fptest.Skip(f'Chromium\'s sandbox does not start here even without the library '
                          f'(status {off.returncode}: user namespaces?)')
    on = fptest.run(as_user(user, [exe, 'record', '-o', 'tree', '--'] + dom, env),
                    env=env, cwd=home, timeout=TIMEOUT)
    same_run(ck, 'sandboxed --dump-dom', off, on)
    summary = tree_summary(on)
    ck.check(summary and 'wrote' in summary[0], 'one summary of the browser\'s tree',
             summary[0][:300] if summary else on.stderr[-300:])
    why = [ln for ln in summary if 'not profiled' in ln and 'sandbox' in ln]
    ck.check(why, 'a summary line says why the sandboxed processes are not profiled',
             str(summary[1:4]))
    prof = fptest.load_profile(ck, os.path.join(home, 'tree.folded'), 'sandboxed tree')
    if prof:
        ck.check(prof.roots().get('chromium', 0) > 0, 'the browser process is profiled',
                 str(prof.roots()))
    screenshots(ck, home, base_args(home, True), page, lib, env, user=user)


TESTS = {'nosandbox': test_nosandbox, 'sandbox': test_sandbox}


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in TESTS:
        sys.exit(__doc__)
    name, exe, lib = sys.argv[1], os.path.abspath(sys.argv[2]), os.path.abspath(sys.argv[3])
    if not CHROMIUM:
        fptest.skip('chromium not found (tools/setup-debian.sh installs it): Chromium was NOT '
                    'tested')
    fptest.set_budget(400)
    ck = fptest.Checks(f'chromium-{name}')
    wd = fptest.Workdir(f'chromium-{name}')
    sys.exit(fptest.run_test(ck, TESTS[name], ck, wd, exe, lib, cleanup=wd.cleanup))


if __name__ == '__main__':
    main()
