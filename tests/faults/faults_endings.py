"""faults_endings - the fault matrix: how a process ends (signals, handlers, kill, crash,
_exit, exec, fork, daemons)."""

import os
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults_common import *  # noqa: F401,F403  limits, checks, Ctx, fptest names

# --- endings ----------------------------------------------------------------------------------

def test_signal(ctx, ck, sig, mode='wait-signal'):
    """The process dies of the signal, by the default disposition or by the program's own
    handler that ends in it (mode, see fw_end.c): the profile is written first."""
    argv = [ctx.prog('fw_end'), mode]
    base_p = start(argv)
    base_p.wait_stdout('ready\n')
    base_p.signal(sig)
    base = report_run(base_p.finish())
    ck.check(base.returncode == -sig, f'without the profiler, {mode} dies of signal {sig}',
             f'status {base.returncode}')
    if mode not in ('wait-signal', 'reset-default'):
        ck.check(base.stdout.endswith('ready\ncleanup\n'),
                 f"without the profiler, {mode}'s own handler ran", repr(base.stdout[-60:]))
    p = start(argv, ctx.lib, ctx.out())
    ck.check(p.wait_stdout('ready\n'), 'the program got going under the profiler')
    time.sleep(0.2)
    cpu = p.cpu_now()
    p.signal(sig)
    r = report_run(p.finish())
    check_ended_like(ck, r, base, f'{mode} + signal {sig}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), f'{signal.Signals(sig).name}')
    check_summary(ck, r)
    if prof:
        check_present(ck, prof, 'end_burn', 'main thread')
        check_present(ck, prof, 'end_thread_burn', 'second thread')
        check_weight_vs_cpu(ck, prof, cpu, 'profile')
    check_no_raw(ck, ctx.tmp)


def test_no_wait(ctx, ck, sig):
    """FLAMEPROF_STOP_WAIT=0: the signal ends the process at once, without the profile; one
    line says where the raw spill is and which command makes the profile, and that command
    works."""
    argv = [ctx.prog('fw_end'), 'wait-signal']
    base_p = start(argv)
    base_p.wait_stdout('ready\n')
    base_p.signal(sig)
    base = report_run(base_p.finish())
    p = start(argv, ctx.lib, {**ctx.out(), 'FLAMEPROF_STOP_WAIT': '0'})
    ck.check(p.wait_stdout('ready\n'), 'the program got going under the profiler')
    while p.cpu_now() < 2.5 and not p.poll():  # 1 s of spills at least
        time.sleep(0.05)
    p.signal(sig)
    r = report_run(p.finish())
    check_ended_like(ck, r, base, f'signal {sig}, no wait')
    raw = os.path.join(ctx.tmp, f'p.{r.pid}.raw')
    want = (f'flameprof: pid {r.pid}: the process ended by signal {sig} before its profile was '
            f'written; the samples are in {raw}: `flameprof report {raw}` turns them into the '
            f'profile')
    ck.check(r.notes() == [want], 'one line: where the raw spill is, and the command',
             f'{r.notes()}')
    ck.check(not r.summaries(), 'no summary line (no profile written)', f'{r.summaries()}')
    prof = report_raw(ctx, ck, r, 'no wait', 2)
    if prof:
        check_present(ck, prof, 'end_burn', 'no wait')


def test_pid1(ctx, ck, sig):
    """As a pid namespace's init (a container's pid 1), a signal left at SIG_DFL is dropped
    by the kernel: the program goes on, with the profiler too (no profile, no death)."""
    runs = []
    for lib in (None, ctx.lib):
        p = start([ctx.prog('fw_end'), 'pid1'], lib, ctx.out() if lib else None)
        ready = p.wait_stdout('ready\n')
        m = re.search(rb'pid1: (\d+)', bytes(p.err))
        if not ready or not m:
            p.signal(signal.SIGKILL)
            r = report_run(p.finish())
            if r.returncode == SKIP and lib is None:
                raise Skip('no new pid namespace here (needs root): pid 1 NOT tested')
            ck.check(False, 'fw_end runs as pid 1', f'status {r.returncode}')
            return
        inner = int(m.group(1))
        os.kill(inner, sig)
        time.sleep(1.0)
        ck.check(not p.poll(), f'pid 1 lives on after signal {sig} '
                 f'({"with" if lib else "without"} the profiler)')
        try:
            os.kill(inner, signal.SIGKILL)
        except ProcessLookupError:
            pass  # it died of the signal: reported above
        runs.append(report_run(p.finish()))
    base, r = runs
    check_ended_like(ck, r, base, f'pid 1 + signal {sig}, then SIGKILL')
    ck.check(not folded_in(ctx.tmp), 'no profile written (the process never ended by the signal)',
             f'{folded_in(ctx.tmp)}')


def test_handler(ctx, ck, mode):
    """The program's own SIGTERM handler wins; the profile is written when it exits."""
    argv = [ctx.prog('fw_end'), mode]
    runs = []
    for lib in (None, ctx.lib):
        p = start(argv, lib, ctx.out() if lib else None)
        ck.check(p.wait_stdout('ready\n'), f'{mode} got going')
        time.sleep(0.2)
        cpu = p.cpu_now()
        p.signal(signal.SIGTERM)
        runs.append(report_run(p.finish()))
    base, r = runs
    ck.check(base.returncode == 3, f'{mode} exits 3 without the profiler', f'{base.returncode}')
    check_ended_like(ck, r, base, mode)
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    check_summary(ck, r)
    if prof:
        check_present(ck, prof, 'end_burn', mode)
        check_weight_vs_cpu(ck, prof, cpu, mode)
    check_no_raw(ck, ctx.tmp)


def run_on_tty(argv, env, limit=30):
    """(status, what the terminal showed) of argv run with a pty as its controlling terminal,
    stdin, stdout and stderr."""
    import fcntl
    import pty
    import subprocess
    import termios
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                         env={**os.environ, **env}, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
    os.close(slave)
    out, end = b'', time.monotonic() + limit
    while time.monotonic() < end:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the last holder of the slave side is gone
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    try:
        return p.wait(timeout=max(1, end - time.monotonic())), out.decode(errors='replace')
    except subprocess.TimeoutExpired:
        p.kill()
        return None, out.decode(errors='replace')


def test_closed_stderr(ctx, ck):
    """coreutils' sha256sum fcloses stdout and stderr at exit (close_stdout), before our
    destructor: on a terminal, the summary line still reaches it (/dev/tty reopened at the
    end); the program's output and status are unchanged, on a terminal and on pipes."""
    tool = shutil.which('sha256sum')
    if not tool:
        raise fptest.Skip('no sha256sum')
    data = os.path.join(ctx.tmp, 'data')
    with open(data, 'wb') as f:
        f.write(os.urandom(1 << 20) * 96)
    base_rc, base_out = run_on_tty([tool, data], {})
    ck.check(base_rc == 0 and data in base_out, 'without the profiler, sha256sum prints its hash',
             f'{base_rc} {base_out!r}')
    env = {'LD_PRELOAD': ctx.lib, **ctx.out()}
    rc, out = run_on_tty([tool, data], env)
    lines = out.replace('\r', '').split('\n')
    ck.check(rc == 0, 'sha256sum exits 0 under the profiler, on a terminal', f'{rc}')
    ck.check(base_out.replace('\r', '').split('\n')[0] in lines,
             'the same hash line on the terminal', repr(out[:300]))
    summary = [ln for ln in lines if ln.startswith('flameprof: pid ') and ' weight=' in ln]
    ck.check(len(summary) == 1, 'the summary line reaches the terminal although the program '
             'closed stderr', repr(out[-400:]))
    m = re.search(r'pid (\d+):', summary[0]) if summary else None
    if m:
        load(ck, os.path.join(ctx.tmp, f'p.{m.group(1)}.folded'), 'closed-stderr')
    base = run([tool, data])
    r = run([tool, data], ctx.lib, ctx.out('q.%p'))
    ck.check(r.returncode == base.returncode == 0 and r.stdout == base.stdout,
             'on pipes: the same status and output', f'{r.returncode} {r.stdout!r}')


def report_raw(ctx, ck, r, label, threads):
    """After SIGKILL or a crash: the raw spill is there and `flameprof report` makes a profile
    that lost at most KILL_LOSS_S of CPU per busy thread."""
    raw = os.path.join(ctx.tmp, f'p.{r.pid}.raw')
    if not ck.check(os.path.isfile(raw), f'{label}: raw spill survives', raw):
        return None
    rep = run([ctx.tool, 'report', raw])
    check_status(ck, rep, 0, 'flameprof report')
    ck.check('did not end cleanly' in rep.stderr, 'report says the run did not end cleanly',
             f'{rep.summaries()}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), f'{label} (from the raw spill)')
    if not prof:
        return None
    lo = (r.cpu - KILL_LOSS_S * threads) * FREQ
    hi = r.cpu * FREQ * 1.05 + 50
    ck.check(prof.total >= lo,
             f'{label}: at most {KILL_LOSS_S} s of CPU per busy thread lost '
             f'(weight >= (CPU - {KILL_LOSS_S} x {threads}) x FREQ)',
             f'weight {prof.total}, CPU {r.cpu:.2f} s -> bound {lo:.0f}; lost '
             f'{r.cpu - prof.total / FREQ:.2f} CPU-s')
    ck.check(prof.total <= hi, f'{label}: weight not above CPU x FREQ (+5%)',
             f'weight {prof.total} vs {hi:.0f}')
    return prof


def test_kill(ctx, ck, threads):
    """SIGKILL (the OOM killer's signal): nothing runs in the process, the raw spill must do."""
    argv = [ctx.prog('fw_end'), 'burn-forever', str(threads)]
    p = start(argv, ctx.lib, ctx.out())
    ck.check(p.wait_stdout('ready\n'), 'burn-forever got going')
    target = 2.5 if threads == 1 else 2.0 * threads
    end = time.monotonic() + budget(RUN_TIMEOUT)
    while p.cpu_now() < target and time.monotonic() < end and not p.poll():
        time.sleep(0.02)
    p.signal(signal.SIGKILL)
    r = report_run(p.finish())
    check_status(ck, r, -signal.SIGKILL, 'killed')
    prof = report_raw(ctx, ck, r, 'SIGKILL', threads)
    if prof:
        check_present(ck, prof, 'end_burn', 'SIGKILL')
        if threads > 1:
            check_present(ck, prof, 'end_thread_burn', 'SIGKILL')


def test_kill_idle(ctx, ck):
    """SIGKILL before the first sample (an idle `sleep`): its raw spill holds no sample, and
    `flameprof report` of it says so and writes nothing, as the library does at exit (no
    empty SVG and folded file passing for a profile)."""
    p = start(['sleep', '30'], ctx.lib, ctx.out())
    time.sleep(0.3)
    p.signal(signal.SIGKILL)
    r = report_run(p.finish())
    check_status(ck, r, -signal.SIGKILL, 'killed')
    raw = os.path.join(ctx.tmp, f'p.{r.pid}.raw')
    if not ck.check(os.path.exists(raw), 'the raw spill exists', raw):
        return
    rep = run([ctx.tool, 'report', '-o', os.path.join(ctx.tmp, 'again'), raw])
    ck.check(rep.returncode == 1 and 'holds no samples' in rep.stderr and
             'nothing written' in rep.stderr, 'report: no samples, nothing written (status 1)',
             f'{rep.returncode} {rep.stderr[-300:]!r}')
    left = [f for f in os.listdir(ctx.tmp) if f.startswith('again')]
    ck.check(not left, 'no profile files written', f'{left}')


def test_crash(ctx, ck, mode):
    sig = {'segv': signal.SIGSEGV, 'abort': signal.SIGABRT}[mode]
    base = run([ctx.prog('fw_end'), mode, '0.05'])
    ck.check(base.returncode == -sig, f'without the profiler, {mode} dies of signal {sig}',
             f'{base.returncode}')
    r = run([ctx.prog('fw_end'), mode, '2.0'], ctx.lib, ctx.out())
    check_ended_like(ck, r, base, mode)
    prof = report_raw(ctx, ck, r, mode, 1)
    if prof:
        check_present(ck, prof, 'end_burn', mode)


def test_exit_call(ctx, ck, mode, want=5):
    argv = [ctx.prog('fw_end'), mode]
    base = run(argv)
    ck.check(base.returncode == want, f'{mode} exits {want} without the profiler',
             f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, mode)
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    check_summary(ck, r)
    if prof:
        name = 'exit_burn' if want == 5 else 'end_burn'
        check_present(ck, prof, name, mode)
        check_weight_vs_cpu(ck, prof, 0.3, mode, name)  # fw_end burns 0.3 s in it
    check_no_raw(ck, ctx.tmp)


def profiles_with(ck, d, name):
    """The profiles in d whose stacks contain name."""
    out = []
    for f in folded_in(d):
        p = Profile(f)
        if p.inclusive(name) > 0:
            out.append(p)
    return out


def check_separate(ck, d, names, expect_files, extra_ok=0):
    """Each name in exactly one profile, and no two names in the same one. extra_ok: how
    many more profiles may exist (an intermediate process of a double fork lives a moment,
    and a scheduler tick in its fork() gives it a sample, and so a profile, of its own)."""
    files = folded_in(d)
    ck.check(expect_files <= len(files) <= expect_files + extra_ok,
             f'{expect_files}{f"..{expect_files + extra_ok}" if extra_ok else ""} profiles written',
             f'{[os.path.basename(f) for f in files]}')
    owners = {}
    for name in names:
        ps = profiles_with(ck, d, name)
        ck.check(len(ps) == 1, f'{name!r} in exactly one profile',
                 f'in {[os.path.basename(p.path) for p in ps]}')
        owners[name] = ps[0].path if len(ps) == 1 else None
        for p in ps:
            ck.show(os.path.basename(p.path), p)
    paths = [o for o in owners.values() if o]
    ck.check(len(set(paths)) == len(paths), 'each in a profile of its own',
             f'{ {k: os.path.basename(v) if v else None for k, v in owners.items()} }')
    return owners


def test_exec(ctx, ck, how):
    argv = [ctx.prog('fw_end'), 'exec', how]
    base = run(argv)
    ck.check(base.returncode == 0 and 'after exec' in base.stdout,
             f'exec via {how} works without the profiler', f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, f'exec via {how}')
    check_summary(ck, r, 2)
    check_separate(ck, ctx.tmp, ['pre_exec_burn', 'post_exec_burn'], 2)
    check_no_raw(ck, ctx.tmp)


def test_exec_shim(ctx, ck):
    """A wrapper that works a little and then execs the program (a pyenv shim, a launcher
    script): the program's profile takes the name asked for (FLAMEPROF_OUT without %p), and
    the wrapper's few samples (under FLAMEPROF_MIN_SAMPLES) write nothing of their own."""
    # ~10 ms of dash here: 2-3 samples. 20,000 rounds took 45 ms on a slower CPU, 11
    # samples, over FLAMEPROF_MIN_SAMPLES (10): the wrapper wrote a profile in 1 run of 4.
    script = ('i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; exec "$0" _exit')
    argv = ['sh', '-c', script, ctx.prog('fw_end')]
    base = run(argv)
    ck.check(base.returncode == 5, 'the shim execs fw_end, which exits 5', f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out('p'))
    check_ended_like(ck, r, base, 'exec from a shim')
    check_summary(ck, r, 1)
    files = sorted(f for f in os.listdir(ctx.tmp) if f.startswith('p'))
    ck.check(files == ['p.folded', 'p.svg'], 'one profile, under the name asked for', f'{files}')
    prof = load(ck, os.path.join(ctx.tmp, 'p.folded'), 'exec from a shim')
    if prof:
        check_present(ck, prof, 'exit_burn', 'the exec\'d program')


def test_chdir(ctx, ck):
    """Outputs named relative to where the program started, whatever directory it ends in:
    a shell whose subshell cd's and exits (pyenv's scripts: each left its spill,
    flameprof.bash.PID.raw, behind in the starting directory), then cd's itself and burns.
    FLAMEPROF_OUT relative, as the default is."""
    os.makedirs(os.path.join(ctx.tmp, 'a'), exist_ok=True)
    os.makedirs(os.path.join(ctx.tmp, 'b'), exist_ok=True)
    script = ('(cd a; i=0; while [ $i -lt 100 ]; do i=$((i+1)); done); cd b; '
              'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; echo done')
    r = run(['sh', '-c', script], ctx.lib, {'FLAMEPROF_OUT': 'p'}, cwd=ctx.tmp)
    ck.check(r.returncode == 0 and 'done' in r.stdout, 'the script runs to its end',
             f'{r.returncode}')
    check_summary(ck, r, 1)
    left = {d: sorted(os.listdir(os.path.join(ctx.tmp, d))) for d in ('.', 'a', 'b')}
    ck.check(left['.'] == ['a', 'b', 'p.folded', 'p.svg'], 'the profile is where the '
             'program started, and nothing else (no spill of the subshell)', f'{left["."]}')
    ck.check(left['a'] == [] and left['b'] == [], 'nothing where it went', f'{left}')


def test_exec_fail(ctx, ck):
    """A failed exec is not an ending: the work after it belongs in a profile too."""
    argv = [ctx.prog('fw_end'), 'exec-fail']
    base = run(argv)
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, 'exec-fail')
    pre = profiles_with(ck, ctx.tmp, 'pre_exec_burn')
    post = profiles_with(ck, ctx.tmp, 'after_failed_exec_burn')
    for p in folded_in(ctx.tmp):
        ck.show(os.path.basename(p), Profile(p))
    ck.check(len(pre) == 1, 'the work before the failed exec is profiled',
             f'{[os.path.basename(p.path) for p in pre]}')
    ck.check(len(post) == 1, 'the work after the failed exec is profiled (not lost)',
             f'profiles with after_failed_exec_burn: {[os.path.basename(p.path) for p in post]}'
             f'; summaries: {r.summaries()}')
    check_no_raw(ck, ctx.tmp)


def test_fork(ctx, ck):
    argv = [ctx.prog('fw_end'), 'fork']
    base = run(argv)
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, 'fork, child _exits')
    check_summary(ck, r, 2)
    check_separate(ck, ctx.tmp, ['parent_burn', 'child_burn'], 2)
    check_no_raw(ck, ctx.tmp)


def test_fork_storm(ctx, ck, env=None):
    """Forks from threads while others hold the loader, malloc and stdio locks, in a tight
    loop, nested, followed by exec, and daemon-style children that close every descriptor
    and count on /dev/null coming back as 0 (fw_fork.c). Every child ends by itself with
    status 0, as without the profiler; a hang prints every stuck process's stacks. env: the
    mode (wall: the ticker thread) or source (perf: an event descriptor a thread)."""
    argv = [ctx.prog('fw_fork'), 'storm', ctx.fixture]
    base = run(argv, timeout=20)
    ck.check(base.returncode == 0 and not base.timed_out, 'without the profiler, every child '
             'ends with status 0', f'status {base.returncode}: {base.stdout[-300:]!r}')
    r = run(argv, ctx.lib, {**ctx.out(), **(env or {})}, timeout=30, stacks=True)
    check_ended_like(ck, r, base, 'fork storm')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'the storm')
    if prof:
        check_present(ck, prof, 'storm_burn', "the parent's own work")


# A parent and a forked child, each spinning: Ruby's timer thread and our aggregator run
# while the main thread forks (the child's first module walk used to wait forever on the
# loader lock our aggregator held at the fork: 2 runs in 30 hung).
RUBY_FORK = ('def spin(s) = (t = Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID); '
             'x = 0; x += 1 while Process.clock_gettime(Process::CLOCK_THREAD_CPUTIME_ID) - t < s)\n'
             'pid = fork { spin(0.2) }\nspin(0.2)\nProcess.wait(pid)\n'
             'puts "child=#{$?.exitstatus}"\n')


def test_fork_ruby(ctx, ck, runs=10):
    ruby = shutil.which('ruby')
    if not ruby:
        raise Skip('ruby not found: forks of a Ruby program were NOT tested')
    argv = [ruby, '--disable-gems', '-e', RUBY_FORK]
    hung = 0
    for _ in range(runs):
        r = run(argv, ctx.lib, ctx.out(), timeout=20, echo=False)
        hung += r.timed_out or r.stdout != 'child=0\n'
    ck.check(hung == 0, f'{runs} runs of a forking Ruby program end normally', f'{hung} did not')


def test_spawn(ctx, ck, mode):
    argv = [ctx.prog('fw_end'), mode]
    base = run(argv)
    ck.check(base.returncode == 0, f'{mode} exits 0 without the profiler', f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, mode)
    check_summary(ck, r, 2)
    check_separate(ck, ctx.tmp, ['parent_burn', 'spawned_burn'], 2)
    check_no_raw(ck, ctx.tmp)


def test_daemon(ctx, ck):
    """Double fork + setsid; the daemon closes every descriptor and opens its own log, which
    gets the lowest free number: nothing of the profiler's may land in it."""
    base_dir = os.path.join(ctx.tmp, 'base')
    os.makedirs(base_dir)
    base = run([ctx.prog('fw_end'), 'daemon', base_dir])
    r = run([ctx.prog('fw_end'), 'daemon', ctx.tmp], ctx.lib, ctx.out())
    check_ended_like(ck, r, base, 'daemonizing parent')
    log = os.path.join(ctx.tmp, 'daemon.log')
    err = os.path.join(ctx.tmp, 'daemon.err')
    # The grandchild outlives its parent: wait for its summary line (bounded).
    end = time.monotonic() + budget(RUN_TIMEOUT)
    text = ''
    while time.monotonic() < end:
        text = open(err, errors='replace').read() if os.path.exists(err) else ''
        if 'weight=' in text or 'nothing written' in text:
            break
        time.sleep(0.05)
    ck.check('weight=' in text, 'the daemon wrote its profile (summary in its stderr)',
             repr(text[-300:]))
    time.sleep(0.1)
    lines = open(log, errors='replace').read().splitlines() if os.path.exists(log) else []
    ck.check(lines[:1] == ['daemon: started'] and lines[-1:] == ['daemon: done'],
             "the daemon's log is whole", f'{lines[:3]} ... {lines[-2:]}')
    alien = [ln for ln in lines if not ln.startswith('daemon: ')]
    ck.check(not alien, "nothing but the daemon's own lines in the daemon's log (the "
             "profiler must not write to a descriptor number the program reused)",
             f'{len(alien)} alien lines, first: {alien[:3]!r}')
    check_separate(ck, ctx.tmp, ['parent_burn', 'daemon_burn'], 2, extra_ok=1)
    check_no_raw(ck, ctx.tmp)
