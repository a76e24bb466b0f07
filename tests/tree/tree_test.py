#!/usr/bin/env python3
"""tree_test.py - process trees: a shell script running several programs, profiled by
`flameprof record` (one profile, one root per program, nothing else in the directory) and
by a bare LD_PRELOAD (files named after each program, none for a process too small).

Usage: tree_test.py TEST FLAMEPROF LIBFLAMEPROF BURN
  record      one profile of the tree, roots = the programs, the burner's CPU under its root
  pids        --pids --per-process: a root per process, each process's own profile beside
  killed      a process killed with SIGKILL mid-run: its samples recovered from its raw spill;
              the command itself killed: recovered, or one line why not
  bare        LD_PRELOAD without record: flameprof.PROGRAM.PID.*, descendants under
              FLAMEPROF_MIN_SAMPLES write nothing
  signals     a recording stopped as people stop one: kill -TERM of flameprof (sent on to
              the command, once), timeout(1), ^C in a terminal (the command's only: not twice)
"""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402

BURN_CPU = 0.3   # fp_test_burn's CPU seconds (burn_a 0.2 + burn_b 0.1)
PY_CPU = 0.4     # the Python loop's
# What the script runs; the shell is whichever /bin/sh is.
SCRIPT = """#!/bin/sh
{burn} > /dev/null
python3 -c 'import time
t = time.process_time()
while time.process_time() - t < {py}: sum(i * i for i in range(1000))'
ls / > /dev/null
echo done
"""
PROGRAMS = {'sh', 'dash', 'bash', 'fp_test_burn', 'python3', 'ls'}


def write_script(wd, burn, extra=''):
    path = wd.path('script.sh')
    with open(path, 'w') as f:
        f.write(SCRIPT.format(burn=burn, py=PY_CPU) + extra)
    os.chmod(path, 0o755)
    return path


def fresh_dir(wd, name):
    d = wd.path(name)
    os.makedirs(d)
    return d


def record(ck, wd, exe, lib, args, script, name):
    """Runs `flameprof record ARGS sh SCRIPT` in a fresh directory with a private TMPDIR;
    returns (run, directory)."""
    d, tmp = fresh_dir(wd, name), fresh_dir(wd, name + '-tmp')
    r = fptest.run([exe, 'record'] + args + ['sh', script], env={'FLAMEPROF_LIB': lib,
                                                                   'TMPDIR': tmp}, cwd=d)
    ck.check(r.returncode == 0 and r.stdout == 'done\n', f'{name}: the script ran as without us',
             f'status {r.returncode}, stdout {r.stdout[:80]!r}')
    ck.check(os.listdir(tmp) == [], f'{name}: the tree directory is gone', str(os.listdir(tmp)))
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith('flameprof: record: ')]
    ck.check(len(lines) >= 1 and re.search(r'profiled: weight=\d+ dropped=\d+ lost=\d+ ', lines[0])
             and 'wrote' in lines[0], f'{name}: one summary of the tree, with the samples '
             'every process dropped or lost', lines[0][:200] if lines else r.stderr[:300])
    others = [ln for ln in r.flameprof_lines() if not ln.startswith('flameprof: record: ')]
    ck.check(not others, f'{name}: no per-process lines on the terminal', str(others[:3]))
    return r, d


def burn_checks(ck, prof, root, what):
    w = prof.weight(lambda f: f[0] == root)
    want = BURN_CPU * fptest.FREQ
    ck.check(w >= 0.5 * want, f'{what}: {root} carries the burner\'s CPU',
             f'{w} of ~{want:.0f}')
    inside = prof.weight(lambda f: f[0] == root and ('burn_a' in f or 'burn_b' in f))
    ck.check(inside >= 0.8 * w, f'{what}: under {root}, its own functions',
             f'{inside} of {w} in burn_a/burn_b')


def test_record(ck, wd, exe, lib, burn):
    script = write_script(wd, burn)
    r, d = record(ck, wd, exe, lib, ['-o', 'tree'], script, 'record')
    ck.check(sorted(os.listdir(d)) == ['tree.folded', 'tree.svg'],
             'one profile and nothing else in the directory', str(sorted(os.listdir(d))))
    prof = fptest.load_profile(ck, os.path.join(d, 'tree.folded'), 'tree')
    if not prof:
        return
    roots = prof.roots()
    ck.check(set(roots) <= PROGRAMS, 'every root is a program the script ran', str(roots))
    ck.check({'fp_test_burn', 'python3'} <= set(roots), 'the busy programs are roots',
             str(roots))
    burn_checks(ck, prof, 'fp_test_burn', 'record')
    py = roots.get('python3', 0)
    ck.check(py >= 0.5 * PY_CPU * fptest.FREQ, 'python3 carries its loop',
             f'{py} of ~{PY_CPU * fptest.FREQ:.0f}')


def test_pids(ck, wd, exe, lib, burn):
    script = write_script(wd, burn)
    r, d = record(ck, wd, exe, lib, ['--pids', '--per-process', '--format', 'folded', '-o', 't'],
                  script, 'pids')
    prof = fptest.load_profile(ck, os.path.join(d, 't.folded'), 'pids')
    if not prof:
        return
    roots = prof.roots()
    shape = re.compile(r'^(\S+) \[pid (\d+)\]$')
    bad = [r for r in roots if not shape.match(r) or shape.match(r).group(1) not in PROGRAMS]
    ck.check(not bad, 'roots are "PROGRAM [pid N]"', str(bad or roots))
    burners = [r for r in roots if r.startswith('fp_test_burn [pid ')]
    ck.check(len(burners) == 1, 'the burner is one process', str(roots))
    if burners:
        burn_checks(ck, prof, burners[0], 'pids')
    files = set(os.listdir(d)) - {'t.folded'}
    want = set()
    for root in roots:
        m = shape.match(root)
        if m:
            want.add(f't.{m.group(1)}.{m.group(2)}.folded')
    ck.check(files == want, 'each process\'s own profile beside, nothing else',
             f'{sorted(files)} vs {sorted(want)}')
    for root in roots:
        m = shape.match(root)
        path = os.path.join(d, f't.{m.group(1)}.{m.group(2)}.folded') if m else ''
        if os.path.isfile(path):
            own = fptest.Profile(path)
            ck.check(own.total == roots[root], f'{root}: its own profile holds its weight',
                     f'{own.total} vs {roots[root]}')


def test_killed(ck, wd, exe, lib, burn):
    # A Python loop of 3 s CPU in the background, killed after ~2 s: it never writes its
    # profile, but the spill it left (once a second) is recovered by record.
    extra = """python3 -c 'import time
t = time.process_time()
while time.process_time() - t < 3: sum(i * i for i in range(1000))' &
victim=$!
sleep 2.2
kill -STOP $victim
echo "victim $(cut -d' ' -f14,15 /proc/$victim/stat)"
kill -KILL $victim
wait $victim
echo killed
"""
    script = write_script(wd, burn, extra)
    d, tmp = fresh_dir(wd, 'killed'), fresh_dir(wd, 'killed-tmp')
    r = fptest.run([exe, 'record', '--pids', '-o', 'k', 'sh', script],
                   env={'FLAMEPROF_LIB': lib, 'TMPDIR': tmp}, cwd=d)
    m = re.search(r'^victim (\d+) (\d+)$', r.stdout, re.M)
    ck.check(r.returncode == 0 and m and r.stdout.endswith('killed\n'),
             'the script ran to its end', f'{r.returncode} {r.stdout!r}')
    # CPU it had used when it was stopped (clock ticks); the spill is at most a second old.
    victim_cpu = (int(m.group(1)) + int(m.group(2))) / os.sysconf('SC_CLK_TCK') if m else 0
    rec = [ln for ln in r.stderr.splitlines() if 'recovered from its raw spill' in ln]
    ck.check(len(rec) == 1 and 'python3' in rec[0], 'the killed process is said recovered',
             str(rec))
    prof = fptest.load_profile(ck, os.path.join(d, 'k.folded'), 'killed')
    if not prof:
        return
    pys = {k: v for k, v in prof.roots().items() if k.startswith('python3 [pid ')}
    # two python3 processes: the loop that ended (PY_CPU) and the killed one (~1-2 s kept)
    want = 0.7 * max(0.0, victim_cpu - 1.2) * fptest.FREQ
    big = max(pys.values()) if pys else 0
    ck.check(len(pys) == 2 and big >= max(want, 1),
             'the killed process\'s spilled samples are in the profile',
             f'{pys} (victim used {victim_cpu:.2f} s CPU: want one of >= {want:.0f})')
    ck.check(sorted(os.listdir(d)) == ['k.folded', 'k.svg'], 'nothing else in the directory',
             str(sorted(os.listdir(d))))
    test_killed_command(ck, wd, exe, lib)


def test_killed_command(ck, wd, exe, lib):
    # The command itself killed: record recovers what it spilled and says so once; with
    # nothing spilled, one line says why, and no advice to report a spill record has read.
    burn = ('import os, time\nt = time.process_time()\n'
            'while time.process_time() - t < 1.6: sum(i * i for i in range(1000))\n')
    for name, code, recovered in (('spilled', burn, True), ('early', '', False)):
        d = fresh_dir(wd, 'self-' + name)
        r = fptest.run([exe, 'record', '-o', 'p', sys.executable, '-c',
                        code + 'import os; os.kill(os.getpid(), 9)'],
                       env={'FLAMEPROF_LIB': lib, 'TMPDIR': fresh_dir(wd, 'tmp-' + name)}, cwd=d)
        lines = [ln for ln in r.stderr.splitlines() if ln.startswith('flameprof:')]
        said = [ln for ln in lines if 'no profile' in ln]
        ck.check(r.returncode == -9, f'{name}: record dies of the command\'s SIGKILL',
                 str(r.returncode))
        if recovered:
            ck.check(any('recovered from its raw spill' in ln for ln in lines) and not said and
                     os.path.exists(os.path.join(d, 'p.folded')),
                     'spilled: recovered into p.folded, no "no profile" line', str(lines))
        else:
            ck.check(len(said) == 1 and 'killed by signal 9 before it wrote one or spilled a '
                     'sample' in said[0] and 'flameprof report' not in r.stderr,
                     'early: one line, no advice to report a spill record has read', str(lines))


def test_bare(ck, wd, exe, lib, burn):
    script = write_script(wd, burn)
    d = fresh_dir(wd, 'bare')
    r = fptest.run(['sh', script], lib=lib, cwd=d)
    ck.check(r.returncode == 0 and r.stdout == 'done\n', 'the script ran as without us',
             f'{r.returncode} {r.stdout!r}')
    files = sorted(os.listdir(d))
    shape = re.compile(r'^flameprof\.([A-Za-z0-9._+-]+)\.(\d+)\.(folded|svg)$')
    bad = [f for f in files if not shape.match(f) or shape.match(f).group(1) not in PROGRAMS]
    ck.check(not bad, 'files are flameprof.PROGRAM.PID.*', str(bad or files))
    names = {shape.match(f).group(1) for f in files if shape.match(f)}
    ck.check({'fp_test_burn', 'python3'} <= names, 'the busy programs have their files',
             str(files))
    ck.check('ls' not in names, 'ls (a few ms) left no file', str(files))
    root_pid = None
    for line in r.summaries():
        s = fptest.parse_summary(line)
        pid = s.get('pid')
        if root_pid is None or pid < root_pid:
            root_pid = pid
    small = []
    for line in r.summaries():
        s = fptest.parse_summary(line)
        if s.get('signals', 0) < 10 and s.get('pid') != root_pid:
            small.append(line[:120])
    ck.check(not small, 'no descendant under 10 samples wrote a profile', str(small))
    for f in files:
        m = shape.match(f)
        if m and m.group(3) == 'folded' and m.group(1) == 'fp_test_burn':
            prof = fptest.Profile(os.path.join(d, f))
            ck.check(prof.total >= 0.5 * BURN_CPU * fptest.FREQ, 'the burner\'s own profile',
                     f'{prof.total}')


# The command of the signal tests: burns CPU until a signal it handles (printed, then 0.5 s
# more burning, in which a second copy would be printed too), or for 20 s.
STOPPABLE = r"""
import signal, sys, time
got = []
def on(sig, frame):
    got.append(sig)
    print('got', signal.Signals(sig).name, flush=True)
for name in sys.argv[1:]:
    signal.signal(getattr(signal, name), on)
print('ready', flush=True)
t = time.monotonic()
while not got and time.monotonic() - t < 20:
    sum(i * i for i in range(1000))
end = time.monotonic() + 0.5
while time.monotonic() < end:
    sum(i * i for i in range(1000))
sys.exit(3 if got else 1)
"""


def stopped_profile(ck, d, what):
    prof = fptest.load_profile(ck, os.path.join(d, 's.folded'), what)
    if prof:
        py = prof.roots().get('python3', 0)
        # Some: the command burns for half a second of wall time, of which a loaded machine
        # may give it a tenth.
        ck.check(py >= 10, f'{what}: the command\'s samples are in the profile',
                 f'python3 root {py}')


def signal_kill(ck, wd, exe, lib):
    d = fresh_dir(wd, 'kill')
    p = fptest.start([exe, 'record', '-o', 's', '--', 'python3', '-c', STOPPABLE, 'SIGTERM'],
                     env={'FLAMEPROF_LIB': lib}, cwd=d)
    ready = p.wait_stdout('ready\n', 30)
    time.sleep(0.5)
    p.signal(signal.SIGTERM)  # flameprof's pid only, as `kill $!` does
    r = fptest.report_run(p.finish(30))
    ck.check(ready and r.returncode == 3 and r.stdout.count('got SIGTERM') == 1,
             'kill -TERM flameprof: the command got SIGTERM once and ended its own way',
             f'status {r.returncode}, stdout {r.stdout!r}')
    ck.check(any('profiled: weight=' in ln for ln in r.flameprof_lines()),
             'kill -TERM flameprof: the summary of the tree', str(r.flameprof_lines()[:3]))
    stopped_profile(ck, d, 'kill -TERM')


def signal_timeout(ck, wd, exe, lib):
    tmo = shutil.which('timeout')
    if not tmo:
        return ck.check(False, 'timeout(1) found (coreutils)', '')
    d = fresh_dir(wd, 'timeout')
    # The command keeps SIGTERM's default action: it dies of it, and so does flameprof.
    r = fptest.run([tmo, '2', exe, 'record', '-o', 's', '--', 'python3', '-c', STOPPABLE],
                   env={'FLAMEPROF_LIB': lib}, cwd=d, timeout=40)
    ck.check(r.returncode == 124 and not r.timed_out, 'timeout 2 flameprof record: timed out '
             'as without us (124)', f'status {r.returncode}')
    ck.check(any('profiled: weight=' in ln for ln in r.flameprof_lines()),
             'timeout: the summary of the tree', str(r.flameprof_lines()[:3]))
    stopped_profile(ck, d, 'timeout')


def in_terminal():
    # A session of its own whose controlling terminal is stdin (the pty's slave side).
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def signal_terminal(ck, wd, exe, lib):
    d = fresh_dir(wd, 'tty')
    master, slave = pty.openpty()
    env = fptest.clean_env(env={'FLAMEPROF_LIB': lib})
    p = subprocess.Popen([exe, 'record', '-o', 's', '--', 'python3', '-c', STOPPABLE,
                          'SIGINT'], stdin=slave, stdout=slave, stderr=slave, cwd=d, env=env,
                         preexec_fn=in_terminal, close_fds=True)
    os.close(slave)
    out, sent, end = b'', False, time.monotonic() + fptest.budget(40)
    while time.monotonic() < end:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every holder of the slave side is gone
                break
            if not chunk:
                break
            out += chunk
        if not sent and b'ready' in out:
            time.sleep(0.5)
            os.write(master, b'\x03')  # ^C: the terminal signals its foreground group
            sent = True
    try:
        rc = p.wait(max(1, end - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        rc = p.wait()
    os.close(master)
    text = fptest.decode(out)
    print(text)
    ck.check(sent and rc == 3 and text.count('got SIGINT') == 1,
             '^C in a terminal: the command got SIGINT once (not again from flameprof) and '
             'ended its own way', f'status {rc}, output {text[-300:]!r}')
    stopped_profile(ck, d, '^C')


def test_signals(ck, wd, exe, lib, burn):
    signal_kill(ck, wd, exe, lib)
    signal_timeout(ck, wd, exe, lib)
    signal_terminal(ck, wd, exe, lib)


TESTS = {'signals': test_signals, 'record': test_record, 'pids': test_pids, 'killed': test_killed, 'bare': test_bare}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in TESTS:
        sys.exit(__doc__)
    name, exe, lib, burn = sys.argv[1], *(os.path.abspath(a) for a in sys.argv[2:])
    fptest.set_budget(100)
    ck = fptest.Checks(f'tree-{name}')
    wd = fptest.Workdir(f'tree-{name}')
    sys.exit(fptest.run_test(ck, TESTS[name], ck, wd, exe, lib, burn, cleanup=wd.cleanup))


if __name__ == '__main__':
    main()
