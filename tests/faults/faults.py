#!/usr/bin/env python3
"""The fault matrix of issue 5: libflameprof.so must never hurt the host and never lose the
profile. Each test runs one of the fw_* programs (see their sources) with and without
LD_PRELOAD=libflameprof.so and checks that

  - the program ends as it does without the profiler (exit status or terminating signal,
    stdout), within a time bound (a hang is a failure, never a stuck CI job);
  - the profile is written, with the functions the program burned CPU in; or, when the
    process is killed or crashes, the raw spill survives and `flameprof report` turns it into
    a profile that holds all but the last spill interval (see KILL_LOSS_S);
  - bad input (configuration, output paths, perf maps, ELF files) produces one clear
    `flameprof:` line and a sane fallback, never a crash or a hang.

usage: faults.py TEST --lib libflameprof.so --tool flameprof --bin DIR [--keep]
       faults.py list        (the tests, as NAME:PRIORITY for meson.build)
DIR holds the fw_* programs and libfw_fixture.so. Exit status 0 when every assertion holds,
1 otherwise, 77 when the test cannot run here (it says why, loudly). Every failed assertion is
printed with its numbers. The last line is machine-readable for tools/stress.py:
  RESULT test=NAME status=PASS|FAIL|SKIP hangs=N dropped=N lost=N runs=N
"""

import argparse
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import (SKIP, STATS, Checks, Profile, Skip, budget, check_present,  # noqa: E402
                    folded_in, report_run, run, shown, start)

FREQ = fptest.FREQ
RUN_TIMEOUT = 45          # seconds of wall time per program run; a hang fails the test
fptest.RUN_TIMEOUT = RUN_TIMEOUT
FIFO_TIMEOUT = 10         # runs that might block on a FIFO: fail sooner
TEST_BUDGET = 55          # seconds for a whole test, all its runs: runs are cut to fit
# How much a SIGKILL or a crash may cost: the raw spill is appended once a second, so the
# samples since the last spill (about one second of wall time, per busy thread) are lost,
# plus what sat in the ring. 1.5 s per busy thread leaves room for a loaded machine.
KILL_LOSS_S = 1.5
WEIGHT_MIN_RATIO = 0.75   # a normally ended profile holds >= this much of CPU x FREQ


# --- checks shared by the tests ---------------------------------------------------------------

def check_ended_like(ck, r, base, what):
    """Same status (or terminating signal) and stdout as the run without the profiler."""
    ck.check(not r.timed_out, f'{what}: finished within its time limit (no hang)',
             f'{r.wall:.1f} s')
    ck.check(r.returncode == base.returncode, f'{what}: same ending as without the profiler',
             f'status {r.returncode} vs {base.returncode} without')
    ck.check(r.stdout == base.stdout, f'{what}: same stdout as without the profiler',
             f'{r.stdout[:300]!r} vs {base.stdout[:300]!r}')


def check_status(ck, r, want, what):
    ck.check(not r.timed_out, f'{what}: finished within the time limit (no hang)',
             f'{r.wall:.1f} s')
    ck.check(r.returncode == want, f'{what}: status {want}', f'got {r.returncode}')


def load(ck, path, label):
    """The profile at path, checked, with its SVG beside it."""
    prof = fptest.load_profile(ck, path, label)
    if prof:
        fptest.check_svg(ck, path[:-len('.folded')] + '.svg')
    return prof


def check_weight_vs_cpu(ck, prof, cpu, label, name=None, ratio=WEIGHT_MIN_RATIO):
    """The profile's weight (or one function's) against CPU seconds x FREQ. cpu is what the
    process had used when its ending began (the profiler's own work at exit, symbolizing and
    writing, is CPU no profile can hold), or what the function burned by design."""
    want = cpu * FREQ
    w = prof.inclusive(name) if name else prof.total
    what = f"{name}'s weight" if name else 'weight'
    ck.check(w >= ratio * want - 30,
             f'{label}: {what} holds >= {100 * ratio:.0f}% of CPU x FREQ',
             f'{w} vs {cpu:.2f} CPU-s x {FREQ} = {want:.0f} ({100 * w / max(want, 1):.0f}%)')


def check_no_raw(ck, d):
    raws = glob.glob(os.path.join(d, '*.raw'))
    ck.check(not raws, 'raw spill removed once the profile is written',
             f'{[os.path.basename(r) for r in raws]}')


def check_summary(ck, r, n=1):
    """n whole summary lines; dropped= is not asserted under hostile conditions (it is
    counted in the RESULT line, for tools/stress.py)."""
    fptest.check_summary(ck, r, n=n, dropped=False)


class Ctx(fptest.Workdir):
    def __init__(self, args):
        super().__init__('faults', args.keep)
        self.lib = os.path.abspath(args.lib)
        self.tool = os.path.abspath(args.tool)
        self.bin = os.path.abspath(args.bin)

    def prog(self, name):
        return os.path.join(self.bin, name)

    @property
    def fixture(self):
        return os.path.join(self.bin, 'libfw_fixture.so')

    def out(self, name='p.%p'):
        return {'FLAMEPROF_OUT': os.path.join(self.tmp, name)}



def mount_tmpfs(ctx, d, opts):
    """Mount a small tmpfs (we run as root in CI); Skip if this machine does not allow it."""
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', opts, 'tmpfs', d], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise Skip(f'cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}): the '
                   f'full-disk / read-only case was NOT tested')
    ctx.cleanups.append(lambda: subprocess.run(['umount', '-l', d], check=False))


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


# A parent and a forked child, each spinning: Ruby's timer thread and our aggregator run
# while the main thread forks (the child's first module walk used to wait forever on the
# loader lock our aggregator held at the fork).
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


# --- hostile hosts ----------------------------------------------------------------------------

def test_churn(ctx, ck):
    n = 3000
    argv = [ctx.prog('fw_host'), 'churn', str(n)]
    base = run(argv)
    ck.check(base.returncode == 0, 'churn exits 0 without the profiler', f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, f'{n} threads created and joined')
    ck.check(not any('could not get a CPU timer' in ln for ln in r.notes()),
             'every thread got its CPU timer (no leaked timers exhausting RLIMIT_SIGPENDING)',
             f'{r.notes()}')
    s = r.summaries()
    m = re.search(r'\bthreads=(\d+)', s[0]) if s else None
    ck.check(m is not None and int(m.group(1)) >= n + 1, f'summary counts >= {n + 1} threads',
             f'{s[:1]}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'churn')
    if prof:
        check_present(ck, prof, 'churn_burn', 'churn')
    check_no_raw(ck, ctx.tmp)


def test_dlchurn(ctx, ck):
    """dlopen/dlclose in 4 threads at 997 Hz: no deadlock (time bound), the library's
    function named although every copy is closed before the profile is written."""
    for k in range(4):
        shutil.copy(ctx.fixture, os.path.join(ctx.tmp, f'fix{k}.so'))
    r = run([ctx.prog('fw_host'), 'dlchurn', ctx.tmp, '3'], ctx.lib, ctx.out())
    check_status(ck, r, 0, 'dlchurn')
    ck.check(r.stdout == 'dlchurn: done\n', 'dlchurn: every dlopen/dlsym/dlclose worked',
             repr(r.stdout))
    m = re.search(r'fixture_cpu=([\d.]+) cycles=(\d+)', r.stderr)
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'dlchurn')
    if prof and m:
        cpu, cycles = float(m.group(1)), int(m.group(2))
        w = check_present(ck, prof, 'fixture_burn', "dlclose'd library")
        ck.check(w >= 0.7 * cpu * FREQ,
                 "fixture_burn's weight holds >= 70% of the CPU measured in it",
                 f'weight {w} vs {cpu:.2f} CPU-s x {FREQ} = {cpu * FREQ:.0f} '
                 f'({100 * w / max(cpu * FREQ, 1):.0f}%), {cycles} dlopen/dlclose cycles')
        unnamed = prof.weight(lambda fr: any(f.startswith('fix') and '.so+0x' in f for f in fr))
        print(f'       weight in fixN.so+0x... frames (not named): {unnamed}')
    check_no_raw(ck, ctx.tmp)


RESTARTABLE = ('read', 'accept', 'futex_wait', 'sem_wait')
NEVER_RESTARTED = ('futex_wait_timeout', 'poll', 'nanosleep')


def parse_eintr(r):
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r'eintr (\S+) calls=(\d+) eintr=(\d+)', r.stdout)}


def test_eintr(ctx, ck):
    """Blocking calls under SA_RESTART. Per-thread CPU-time timers only fire while their
    thread runs, so the profiler's signals rarely meet a blocked call; the storms show what
    happens when a signal does: with SA_RESTART the kernel restarts read, accept, futex and
    sem_wait, and interrupts the others regardless (man 7 signal)."""
    secs = '1'
    runs = {
        'no profiler': run([ctx.prog('fw_host'), 'eintr', secs]),
        'profiler': run([ctx.prog('fw_host'), 'eintr', secs], ctx.lib, ctx.out()),
        'storm, no SA_RESTART': run([ctx.prog('fw_host'), 'eintr', secs, 'storm']),
        'storm, SA_RESTART': run([ctx.prog('fw_host'), 'eintr', secs, 'storm-restart']),
    }
    table = {k: parse_eintr(r) for k, r in runs.items()}
    for k, r in runs.items():
        check_status(ck, r, 0, f'eintr ({k})')
    names = list(table['no profiler']) or list(RESTARTABLE + NEVER_RESTARTED)
    print(f'\nEINTR returns / calls, per blocking call ({secs} s each):')
    print(f'{"call":24s}' + ''.join(f'{k:>24s}' for k in runs))
    for n in names:
        print(f'{n:24s}' + ''.join(
            f'{"%d / %d" % table[k].get(n, (0, 0))[::-1]:>24s}' for k in runs))
    print()
    for n in RESTARTABLE:
        calls, eintr = table['profiler'].get(n, (0, 0))
        ck.check(calls > 0 and eintr == 0, f'{n}: never EINTR under the profiler (SA_RESTART)',
                 f'{eintr} of {calls}')
        calls, eintr = table['storm, no SA_RESTART'].get(n, (0, 0))
        ck.check(eintr > 0, f'{n}: the count sees EINTR when a handler lacks SA_RESTART '
                 '(the check above can fail)', f'{eintr} of {calls}')
        calls, eintr = table['storm, SA_RESTART'].get(n, (0, 0))
        ck.check(eintr == 0, f'{n}: restarted under SA_RESTART', f'{eintr} of {calls}')
    for n in NEVER_RESTARTED:
        calls, eintr = table['storm, SA_RESTART'].get(n, (0, 0))
        print(f'       {n}: the kernel interrupts it even under SA_RESTART: {eintr} EINTR of '
              f'{calls} calls in the storm; {table["profiler"].get(n, (0, 0))[1]} under the '
              'profiler')
    check_present(ck, load(ck, os.path.join(ctx.tmp, f'p.{runs["profiler"].pid}.folded'),
                       'eintr'), 'eintr_burn', 'eintr')


def test_ownprof(ctx, ck, how):
    argv = [ctx.prog('fw_host'), 'ownprof', how]
    base = run(argv)
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, f'own SIGPROF handler via {how}')
    counts = []
    for x in (base, r):
        m = re.search(r'calls=(\d+)', x.stderr)
        counts.append(int(m.group(1)) if m else 0)
    print(f'       own handler calls: {counts[0]} without the profiler, {counts[1]} with it')
    ck.check(counts[1] > 0, "the program's SIGPROF handler still runs", f'{counts[1]} calls')
    ck.check(counts[1] >= counts[0] // 2,
             "it gets at least half the signals it gets without the profiler",
             f'{counts[1]} vs {counts[0]}')
    s = r.summaries()
    ck.check(bool(s) and 'its own SIGPROF handler' in s[0],
             'the summary says the program has its own SIGPROF handler', f'{s[:1]}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'ownprof')
    if prof:
        check_present(ck, prof, 'own_burn', 'ownprof')
        check_weight_vs_cpu(ck, prof, 0.5, 'ownprof', 'own_burn')  # 0.5 s by design


def test_ownprof_flags(ctx, ck):
    """The program's SIGPROF handler keeps the semantics its flags asked for: its sa_mask,
    SA_NODEFER, SA_RESETHAND (then the default action: the process dies of SIGPROF)."""
    argv = [ctx.prog('fw_host'), 'ownprof', 'flags']
    base = run(argv)
    ck.check(base.returncode == -signal.SIGPROF, 'without the profiler the second SIGPROF kills',
             f'status {base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, 'own SIGPROF handler with SA_RESETHAND|SA_NODEFER and a mask')
    want = 'handler: SIGUSR1 blocked, SIGPROF not blocked, disposition reset to default\n'
    ck.check(r.stdout == want, 'the handler ran once, with its mask, unblocked, then reset',
             repr(r.stdout))
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'ownprof flags')
    if prof:
        check_present(ck, prof, 'own_burn', 'ownprof flags (profile written before dying)')


def test_blockprof(ctx, ck, mode):
    argv = [ctx.prog('fw_host'), mode]
    base = run(argv)
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, mode)
    if mode == 'blockprof':
        prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
        if prof:
            check_present(ck, prof, 'main_burn', mode)
            check_present(ck, prof, 'unblocked_burn', mode)
            print(f'       blocked_burn weight {prof.inclusive("blocked_burn")} (SIGPROF blocked '
                  'there: the pending signal is taken when the thread unblocks)')
    else:
        files = folded_in(ctx.tmp)
        print(f'       SIGPROF blocked everywhere: profiles {files}, notes {r.notes()}')
        ck.check(files or any('no samples' in ln for ln in r.notes()),
                 'either a profile or the "no samples" line', f'{r.notes()}')
    check_no_raw(ck, ctx.tmp)


def test_alloc(ctx, ck):
    """The handler never allocates or locks: the program's malloc/free/pthread_mutex_lock
    abort if called while SIGPROF is blocked but SIGTERM is not (inside a SIGPROF handler)."""
    r = run([ctx.prog('fw_alloc'), 'normal'], ctx.lib, ctx.out())
    check_status(ck, r, 0, 'malloc-heavy program under the profiler')
    ck.check('inside a SIGPROF handler' not in r.stderr,
             'no allocation or lock inside the SIGPROF handler',
             next((ln for ln in r.stderr.splitlines() if 'inside' in ln), ''))
    m = re.search(r'(\d+) checks, (\d+) of them from outside', r.stderr)
    ck.check(m is not None and int(m.group(2)) > 0,
             "the interposers saw calls from libraries too (the profiler's included)",
             m.group(0) if m else r.stderr[-200:])
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'fw_alloc')
    if prof:
        w = prof.weight(lambda fr: any(f in ('malloc', 'free', 'calloc', 'realloc',
                                             '_int_malloc', '_int_free') for f in fr))
        ck.check(w > 0, 'samples were taken inside the allocator (the handler did interrupt it)',
                 f'weight {w} of {prof.total}')
        w = prof.weight(lambda fr: any(f.startswith('pthread_mutex') or f.startswith(
            'pthread_rwlock') or f.startswith('__pthread_mutex') for f in fr))
        print(f'       weight inside lock functions: {w}')
    c = run([ctx.prog('fw_alloc'), 'control'], ctx.lib, ctx.out('control.%p'))
    ck.check(c.returncode == -signal.SIGABRT and 'malloc called inside a SIGPROF handler'
             in c.stderr, "control: a SIGPROF handler that mallocs is caught (the check works)",
             f'status {c.returncode}, {c.stderr.strip().splitlines()[:1]}')


def test_deep(ctx, ck):
    n = 100000
    argv = [ctx.prog('fw_host'), 'deep', str(n)]
    r = run(argv, ctx.lib, ctx.out())
    check_status(ck, r, 0, f'{n}-deep recursion')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'deep')
    if not prof:
        return
    tot = prof.inclusive('deep_bottom')
    cut = prof.weight(lambda fr: 'deep_bottom' in fr and fr[0] == '[truncated]')
    ck.check(tot > 0 and cut >= 0.95 * tot, 'the bottom of the recursion: [truncated] root',
             f'{cut} of {tot}')
    depth = max(len(fr) for fr, _ in prof.stacks)
    ck.check(depth <= 1100, 'the walk is capped', f'deepest stack {depth} frames')
    s = r.summaries()
    m = re.search(r'p99=([\d.]+)us', s[0]) if s else None
    print(f'       handler p99 {m.group(1) if m else "?"} us with {n}-frame stacks')


def test_smallstack(ctx, ck):
    argv = [ctx.prog('fw_host'), 'smallstack']
    base = run(argv)
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, '64 KB thread stack, nearly exhausted')
    m = re.search(r'AT_MINSIGSTKSZ=(\d+); stack left for signals (\d+) bytes; deepest signal '
                  r'frame reached (\d+)', r.stderr)
    if ck.check(m is not None, 'fw_host reported the signal frames\' depth', r.stderr[-300:]):
        minsig, left, deepest = map(int, m.groups())
        print(f'       the kernel needs AT_MINSIGSTKSZ={minsig} bytes for a signal frame; the '
              f'signal frames + handler reached {deepest} bytes below sp '
              f'({deepest - minsig:+d} beyond AT_MINSIGSTKSZ) with {left} bytes left')
        ck.check(0 < deepest <= left, 'the handler ran in the last bytes of the stack and fit',
                 f'{deepest} of {left}')
        ck.check(deepest - minsig <= 1024,
                 "the handler's own stack use is small: <= 1 KB beyond the kernel's frame",
                 f'{deepest - minsig} bytes beyond AT_MINSIGSTKSZ')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'smallstack')
    if prof:
        check_present(ck, prof, 'small_burn', 'smallstack')
        check_present(ck, prof, 'tight_burn', 'smallstack')


def test_altstack_small(ctx, ck):
    """Threads whose signals run on small sigaltstacks (as every Go thread's do): our handler
    runs there (SA_ONSTACK), also nested under the program's own handler, and fits."""
    argv = [ctx.prog('fw_host'), 'altstack-small']
    base = run(argv)
    ck.check(base.returncode == 0, 'altstack-small exits 0 without the profiler',
             f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, 'altstack-small')
    m = re.search(r'AT_MINSIGSTKSZ=(\d+); sigaltstack (\d+) bytes; deepest use: (\d+) bytes '
                  r'\(burning on the thread stack\), (\d+) bytes \(in handlers on the '
                  r'sigaltstack\); guard below (\w+)', r.stderr)
    if ck.check(m is not None, 'fw_host reported its sigaltstacks\' use', r.stderr[-300:]):
        minsig, size, own, nested = map(int, m.groups()[:4])
        print(f'       sigaltstack {size} bytes; SIGPROF alone used {own} bytes '
              f'({own - minsig:+d} beyond AT_MINSIGSTKSZ={minsig}); nested under the program\'s '
              f'handler {nested} bytes')
        ck.check(own > minsig // 2, 'our SIGPROF handler ran on the sigaltstack (SA_ONSTACK)',
                 f'{own} bytes of it used while the thread burned on its own stack')
        ck.check(own - minsig <= 1024, "the handler's own stack use is small: <= 1 KB beyond "
                 "the kernel's frame (no lazy binding in it: BIND_NOW)", f'{own - minsig} bytes')
        ck.check(m.group(5) == 'intact' and nested <= size,
                 'nothing written below the sigaltstack', f'guard {m.group(5)}, {nested} of {size}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), 'altstack-small')
    if prof:
        check_present(ck, prof, 'alt_small_burn', 'altstack-small')
        check_present(ck, prof, 'alt_small_handler_burn', 'SIGPROF while on the sigaltstack')


def test_altstack(ctx, ck, mode, arg=None):
    argv = [ctx.prog('fw_host'), mode] + ([arg] if arg else [])
    base = run(argv)
    ck.check(base.returncode == 0, f'{mode} exits 0 without the profiler', f'{base.returncode}')
    r = run(argv, ctx.lib, ctx.out())
    check_ended_like(ck, r, base, mode)
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    if prof and mode == 'altstack':
        check_present(ck, prof, 'alt_main_burn', mode)
        w = check_present(ck, prof, 'alt_handler_burn', 'handler on the alternate stack')
        # The walk stops at the signal frame (__restore_rt): samples in the handler are not
        # rooted at _start. And a SIGPROF delivered together with the SIGUSR1 lands on the
        # handler's first instruction, carrying the weight of the code it interrupted.
        odd = prof.weight(lambda fr: fr[0] not in ('_start', 'clone3', 'clone'))
        entry = prof.weight(lambda fr: fr[-1] == 'on_usr1')
        print(f'       alt_handler_burn weight {w}; weight not rooted at _start/clone3: {odd} of '
              f'{prof.total}; with on_usr1 as the leaf (its first instruction): {entry}')
    elif prof:
        check_present(ck, prof, 'overflow_frame_burn', mode)
    check_no_raw(ck, ctx.tmp)


# --- bad input --------------------------------------------------------------------------------

HUGE = 'x' * 100000   # one environment string may hold at most 128 KiB


def env_cases(var):
    """(value, bad?) pairs for one variable; bad values must get exactly one line."""
    common = [('garbage', True), ('-1', True), (HUGE, True), ('\x01\x1b[31m\u00e9', True)]
    if var == 'FLAMEPROF_FREQ':
        return common + [('', True), ('0', True), ('10001', True),
                         ('99999999999999999999999', True), (' 100', True), ('100Hz', True),
                         ('0x100', True), ('10000', False)]
    if var == 'FLAMEPROF_OUT':
        return [('', True), ('x' * 5000, True), ('dir/', True), ('a\x01b', True)]
    if var == 'FLAMEPROF_BENCH':
        return common + [('', True)]
    if var == 'FLAMEPROF_FORMAT':
        return common + [('', False), ('folded,nonsense', True), ('svg, folded', False)]
    if var == 'FLAMEPROF_STOP_WAIT':
        return common + [('', True), ('3601', True), ('1.5', True), ('0', False), ('30', False)]
    # Booleans: an empty value means "unset", which is no error.
    return common + [('', False), ('2', True), ('yes', False)]


def java_agent_built(lib):
    with open(lib, 'rb') as f:
        return b'FLAMEPROF_JAVA' in f.read()


def test_env(ctx, ck, var):
    """Bad values: same status and stdout, exactly one flameprof: line naming the variable."""
    prog = ctx.prog('fw_end')
    # FLAMEPROF_NODE/PYTHON/JAVA are read only by node, python3.12+ and java: run the same
    # program under those names.
    alias = {'FLAMEPROF_NODE': 'node', 'FLAMEPROF_PYTHON': 'python3.12',
             'FLAMEPROF_JAVA': 'java'}.get(var)
    if var == 'FLAMEPROF_JAVA' and not java_agent_built(ctx.lib):
        raise Skip('libflameprof.so was built without the JVMTI agent: FLAMEPROF_JAVA is never '
                   'read, so its bad values were NOT tested')
    if alias:
        d = os.path.join(ctx.tmp, 'alias')
        os.makedirs(d, exist_ok=True)
        shutil.copy(prog, os.path.join(d, alias))
        prog = os.path.join(d, alias)
    # Just long enough to be sampled where the profile's place is checked.
    argv = [prog, 'plain', '0.2' if var == 'FLAMEPROF_OUT' else '0.05']
    base = run(argv)
    ck.check(base.returncode == 7, 'plain exits 7 without the profiler', f'{base.returncode}')
    for value, bad in env_cases(var):
        cwd = tempfile.mkdtemp(dir=ctx.tmp)
        env = {var: value}
        if var != 'FLAMEPROF_OUT':
            env.update(ctx.out('p.%p'))
        r = run(argv, ctx.lib, env, cwd=cwd)
        what = f'{var}={shown(value, 30)}'
        check_ended_like(ck, r, base, what)
        notes = [ln for ln in r.notes() if 'no samples' not in ln]
        naming = [ln for ln in notes if var in ln]
        if bad:
            ck.check(len(notes) == 1 and len(naming) == 1,
                     f'{what}: exactly one flameprof: line, naming {var}', f'{notes}')
            ck.check(all(len(ln) < 400 for ln in notes), f'{what}: the line is short',
                     f'{[len(ln) for ln in notes]}')
        else:
            ck.check(not notes, f'{what}: accepted silently', f'{notes}')
        if var == 'FLAMEPROF_OUT':
            ck.check(os.path.isfile(os.path.join(cwd, f'flameprof.{r.pid}.folded')),
                     f'{what}: the default prefix is used (in the working directory)',
                     f'{os.listdir(cwd)}')


def fallback_cleanup(ctx, base):
    def clean():
        for f in glob.glob(f'/tmp/{base}*'):
            os.unlink(f)
    ctx.cleanups.append(clean)


def check_fallback(ck, r, base, what):
    """The profile went to /tmp/<base>..., and stderr said so in one line per problem."""
    s = r.summaries()
    written = re.findall(r'wrote (\S+) (\S+)$', s[0]) if s else []
    ck.check(bool(written) and all(p.startswith('/tmp/' + base) for p in written[0]),
             f'{what}: the profile went to /tmp/{base}...', f'{s[:1]}')
    for p in (written[0] if written else []):
        ck.check(os.path.isfile(p), f'{what}: {p} exists')
    notes = r.notes()
    ck.check(len(notes) == 1 and '/tmp/' in notes[0],
             f'{what}: one flameprof: line says where the profile went instead', f'{notes}')


def test_out_dir(ctx, ck, kind):
    """A prefix in a missing, read-only or unwritable directory: fall back to /tmp, say so."""
    base = f'flameprof-fault-{os.getpid()}-{kind}'
    fallback_cleanup(ctx, base)
    if kind == 'missing':
        prefix = f'/nonexistent/flameprof-dir/{base}'
    elif kind == 'proc':
        prefix = f'/proc/self/{base}'
    elif kind == 'readonly':
        d = os.path.join(ctx.tmp, 'ro')
        mount_tmpfs(ctx, d, 'ro,size=64k')
        prefix = os.path.join(d, base)
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': prefix})
    check_ended_like(ck, r, ref, f'FLAMEPROF_OUT={prefix}')
    check_fallback(ck, r, base, kind)
    ck.check(not glob.glob(f'/tmp/{base}*.raw'), 'no raw spill left in /tmp')


def test_out_toolong(ctx, ck):
    """A file name longer than NAME_MAX: nowhere to write; say so, keep the status."""
    prefix = os.path.join(ctx.tmp, 'n' * 300)
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': prefix})
    check_ended_like(ck, r, ref, 'a 300-byte file name')
    notes = r.notes()
    ck.check(notes and all('File name too long' in ln or 'not written' in ln for ln in notes),
             'stderr says the profile could not be written there, and why', f'{notes}')
    # The library may fall back to /tmp/flameprof.PID.*: then the files must be there.
    promised = [m.group(1) for ln in notes
                for m in [re.search(r'the profile is in (\S+)\.\* instead', ln)] if m]
    ck.check(all(os.path.isfile(p + '.folded') for p in promised),
             'no line promises a fallback that was not written', f'{notes}')
    for p in promised:
        for f in glob.glob(p + '.*'):
            os.unlink(f)
    ck.check(len(notes) <= 2, 'no more than one line per file', f'{len(notes)} lines')


def test_out_existing(ctx, ck, kind):
    """PREFIX.folded exists (a file, a symlink to a victim, a dangling symlink): nothing of
    anyone else's is changed, the profile goes to PREFIX.<pid>.*."""
    prefix = os.path.join(ctx.tmp, 'prof')
    victim = os.path.join(ctx.tmp, 'victim')
    dangling = os.path.join(ctx.tmp, 'dangling-target')
    with open(victim, 'w') as f:
        f.write('victim\n')
    if kind == 'file':
        for ext in ('.folded', '.svg', '.raw'):
            with open(prefix + ext, 'w') as f:
                f.write('precious\n')
    else:
        os.symlink(victim, prefix + '.folded')
        os.symlink(dangling, prefix + '.svg')
        os.symlink(victim, prefix + '.raw')
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': prefix})
    check_ended_like(ck, r, ref, f'existing {kind} at the destination')
    if kind == 'file':
        for ext in ('.folded', '.svg', '.raw'):
            ck.check(open(prefix + ext).read() == 'precious\n', f'prof{ext} not clobbered')
    else:
        ck.check(open(victim).read() == 'victim\n', 'the symlinks\' victim is unchanged')
        ck.check(not os.path.lexists(dangling), 'a dangling symlink was not followed',
                 f'{dangling} exists: {os.path.lexists(dangling)}')
        for ext in ('.folded', '.svg', '.raw'):
            ck.check(os.path.islink(prefix + ext), f'prof{ext} is still the same symlink')
    mine = f'{prefix}.{r.pid}.folded'
    prof = load(ck, mine, f'prof.{r.pid}.folded')
    s = r.summaries()
    ck.check(bool(s) and mine in s[0], 'the summary names the file actually written', f'{s[:1]}')
    if prof:
        check_present(ck, prof, 'plain_burn', 'plain')
    ck.check(not glob.glob(os.path.join(ctx.tmp, f'prof.{r.pid}*.raw')), 'raw spill removed')


def test_full_disk(ctx, ck):
    d = os.path.join(ctx.tmp, 'full')
    mount_tmpfs(ctx, d, 'size=64k')
    try:
        with open(os.path.join(d, 'filler'), 'wb') as f:
            while True:
                f.write(b'\0' * 4096)
                f.flush()
    except OSError as e:
        print(f'       filled {d}: {e}')
    base = f'flameprof-fault-{os.getpid()}-full'
    fallback_cleanup(ctx, base)
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': os.path.join(d, base)})
    check_ended_like(ck, r, ref, 'full disk')
    notes = r.notes()
    ck.check(any('No space left on device' in ln for ln in notes),
             'stderr reports the full disk (ENOSPC)', f'{notes}')
    check_fallback(ck, r, base, 'full disk')
    left = [f for f in os.listdir(d) if f != 'filler']
    ck.check(not left, 'no temporary or partial files left on the full disk', f'{left}')


def test_perfmap(ctx, ck, mode):
    argv = [ctx.prog('fw_jit'), mode] + (['1000000'] if mode == 'huge' else [])
    r = run(argv, ctx.lib, ctx.out())
    if mode == 'other-owner' and r.returncode == 3:
        raise Skip('giving a file to another user needs root: ' + r.stdout.strip())
    check_status(ck, r, 0, f'perf map {mode}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    if not prof:
        return
    names = prof.frame_names()
    if mode == 'other-owner':
        ck.check(any('owned by another user' in ln for ln in r.notes()),
                 'stderr: map ignored, owned by another user', f'{r.notes()}')
        ck.check(not any('fault_other_owner_fn' in n for n in names),
                 "the other user's names are not used", f'{sorted(names)[:10]}')
    elif mode == 'truncated':
        check_present(ck, prof, 'fault_jit_whole_[j]', 'complete line')
        ck.check(not any('fault_jit_tr' in n and 'whole' not in n for n in names),
                 'the line cut mid-name names nothing', f'{[n for n in names if "jit" in n]}')
        check_present(ck, prof, 'run_jit_2', 'caller of the unnamed code')
    elif mode == 'cut-first':
        check_present(ck, prof, 'run_jit_1', 'caller of the unnamed code')
    elif mode == 'huge':
        check_present(ck, prof, 'fault_jit_huge_[j]', 'the entry after 1M others')
        small = run([ctx.prog('fw_jit'), 'huge', '0'], ctx.lib, ctx.out('small.%p'))
        check_status(ck, small, 0, 'perf map with one entry')

        def own(x):
            m = re.search(r'map_write_cpu=([\d.]+)', x.stderr)
            return x.cpu - (float(m.group(1)) if m else 0)
        extra = own(r) - own(small)
        print(f'       CPU beyond writing the map: {own(r):.2f} s with 1M lines, {own(small):.2f} s '
              f'with 1 line: {extra:+.2f} s for reading 1M lines')
        ck.check(extra < 2.0, 'a 1M-line perf map costs < 2 s of extra CPU', f'{extra:.2f} s')


def test_elf(ctx, ck, mode, debug=False):
    """The library was unloaded and its file (or its debug file) replaced by junk before the
    profile is symbolized: no crash, no hang; the frame gets a fallback name."""
    lib = os.path.join(ctx.tmp, 'copy.so')
    target = lib
    if debug:
        objcopy = shutil.which('objcopy')
        if not objcopy:
            raise Skip('objcopy not found: corrupt debug files were NOT tested')
        target = os.path.join(ctx.tmp, 'copy.debug')
        subprocess.run([objcopy, '--only-keep-debug', ctx.fixture, target], check=True)
        subprocess.run([objcopy, '--strip-debug', '--add-gnu-debuglink=' + target,
                        ctx.fixture, lib], check=True)
    else:
        shutil.copy(ctx.fixture, lib)
    argv = [ctx.prog('fw_elf'), mode, lib, target]
    r = run(argv, ctx.lib, ctx.out(), timeout=FIFO_TIMEOUT)
    what = f'{"debug file" if debug else "library"} replaced: {mode}'
    ck.check(not r.timed_out, f'{what}: no hang at exit', f'{r.wall:.1f} s')
    check_status(ck, r, 0, what)
    ck.check(r.stdout == f'fw_elf {mode}: done\n', 'stdout unchanged', repr(r.stdout))
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    if prof:
        check_present(ck, prof, 'elf_main_burn', 'the program itself')
        frames = sorted(f for f in prof.frame_names() if 'copy.so' in f or 'fixture' in f)
        w = prof.weight(lambda fr: any('copy.so' in f or f == 'fixture_burn' for f in fr))
        print(f'       the library\'s frames now read: {frames[:6]} (weight {w})')
        ck.check(w > 0, "the library's samples are kept, under some name", f'weight {w}')


# --- the table --------------------------------------------------------------------------------

TESTS = {
    'signal-term': lambda c, k: test_signal(c, k, signal.SIGTERM),
    'signal-int': lambda c, k: test_signal(c, k, signal.SIGINT),
    'signal-hup': lambda c, k: test_signal(c, k, signal.SIGHUP),
    'signal-term-reset-default': lambda c, k: test_signal(c, k, signal.SIGTERM, 'reset-default'),
    'signal-quit': lambda c, k: test_signal(c, k, signal.SIGQUIT),
    'signal-term-no-wait': lambda c, k: test_no_wait(c, k, signal.SIGTERM),
    'signal-term-pid1': lambda c, k: test_pid1(c, k, signal.SIGTERM),
    # The program's own handler ends the process by the default action in the end: node's
    # SA_RESETHAND handler that raises again, a reset to SIG_DFL then kill(), a System V
    # one-shot handler (strict ISO C signal()).
    'handler-resethand-term': lambda c, k: test_signal(c, k, signal.SIGTERM, 'resethand'),
    'handler-resethand-int': lambda c, k: test_signal(c, k, signal.SIGINT, 'resethand'),
    'handler-reraise-hup': lambda c, k: test_signal(c, k, signal.SIGHUP, 'reraise'),
    'handler-sysv-term': lambda c, k: test_signal(c, k, signal.SIGTERM, 'sysv'),
    'handler-exit': lambda c, k: test_handler(c, k, 'handler-exit'),
    'handler-_exit': lambda c, k: test_handler(c, k, 'handler-_exit'),
    'sigkill': lambda c, k: test_kill(c, k, 1),
    'sigkill-2threads': lambda c, k: test_kill(c, k, 2),
    'crash-segv': lambda c, k: test_crash(c, k, 'segv'),
    'crash-abort': lambda c, k: test_crash(c, k, 'abort'),
    'crash-handler-_exit': lambda c, k: test_exit_call(c, k, 'segv-handler', 9),
    '_exit': lambda c, k: test_exit_call(c, k, '_exit'),
    '_Exit': lambda c, k: test_exit_call(c, k, '_Exit'),
    'exec-fail': test_exec_fail,
    'fork': test_fork,
    'fork-ruby': test_fork_ruby,
    'posix-spawn': lambda c, k: test_spawn(c, k, 'spawn'),
    'vfork-exec': lambda c, k: test_spawn(c, k, 'vfork'),
    'daemon': test_daemon,
    'thread-churn': test_churn,
    'dlopen-churn': test_dlchurn,
    'eintr': test_eintr,
    'own-sigprof-sigaction': lambda c, k: test_ownprof(c, k, 'sigaction'),
    'own-sigprof-signal': lambda c, k: test_ownprof(c, k, 'signal'),
    'own-sigprof-ctor': lambda c, k: test_ownprof(c, k, 'ctor'),
    'block-sigprof': lambda c, k: test_blockprof(c, k, 'blockprof'),
    'block-sigprof-all': lambda c, k: test_blockprof(c, k, 'blockprof-all'),
    'malloc-in-handler': test_alloc,
    'deep-recursion': test_deep,
    'small-stack': test_smallstack,
    'altstack': lambda c, k: test_altstack(c, k, 'altstack'),
    'altstack-overflow': lambda c, k: test_altstack(c, k, 'altstack-overflow', '300'),
    'altstack-small': test_altstack_small,
    'own-sigprof-flags': test_ownprof_flags,
    'out-missing-dir': lambda c, k: test_out_dir(c, k, 'missing'),
    'out-proc-dir': lambda c, k: test_out_dir(c, k, 'proc'),
    'out-readonly-dir': lambda c, k: test_out_dir(c, k, 'readonly'),
    'out-name-too-long': test_out_toolong,
    'out-existing-file': lambda c, k: test_out_existing(c, k, 'file'),
    'out-symlink': lambda c, k: test_out_existing(c, k, 'symlink'),
    'out-full-disk': test_full_disk,
}
for _how in ('execvpe', 'execle', 'execlp', 'fexecve'):
    TESTS['exec-' + _how] = lambda c, k, how=_how: test_exec(c, k, how)
for _var in ('FREQ', 'OUT', 'QUIET', 'BENCH', 'FORMAT', 'NODE', 'PYTHON', 'JAVA',
             'STOP_WAIT'):
    TESTS['env-' + _var.lower()] = lambda c, k, v='FLAMEPROF_' + _var: test_env(c, k, v)
for _mode in ('other-owner', 'truncated', 'cut-first', 'huge'):
    TESTS['perfmap-' + _mode] = lambda c, k, m=_mode: test_perfmap(c, k, m)
for _mode in ('gone', 'empty', 'header', 'half', 'garbage', 'elfjunk', 'dir', 'fifo'):
    TESTS['elf-' + _mode] = lambda c, k, m=_mode: test_elf(c, k, m)
for _mode in ('half', 'garbage', 'fifo'):
    TESTS['elf-debug-' + _mode] = lambda c, k, m=_mode: test_elf(c, k, m, debug=True)


# Started first, so that a 2-core run packs well: the longest tests and those that wait.
SLOW = ('sigkill-2threads', 'sigkill', 'crash-segv', 'crash-abort', 'eintr', 'malloc-in-handler',
        'elf-fifo', 'elf-debug-fifo', 'dlopen-churn', 'env-freq')


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('test', choices=sorted(TESTS) + ['list'])
    ap.add_argument('--lib', help='libflameprof.so')
    ap.add_argument('--tool', help='the flameprof command')
    ap.add_argument('--bin', help='the folder with the fw_* programs')
    ap.add_argument('--keep', action='store_true', help='keep the temporary files')
    args = ap.parse_args()
    if args.test == 'list':  # for meson.build: NAME:PRIORITY
        print('\n'.join(f'{t}:{10 if t in SLOW else 0}' for t in sorted(TESTS)))
        return 0
    for what, path in (('library', args.lib), ('tool', args.tool), ('bin', args.bin)):
        if not path or not os.path.exists(path):
            print(f'FAIL: {what} not found: {path}')
            return 1
    ctx = Ctx(args)
    ck = Checks(args.test)
    fptest.set_budget(TEST_BUDGET)
    rc = fptest.run_test(ck, TESTS[args.test], ctx, ck, cleanup=ctx.cleanup)
    status = {0: 'PASS', SKIP: 'SKIP'}.get(rc, 'FAIL')
    print(f'RESULT test={args.test} status={status} hangs={STATS["hangs"]} '
          f'dropped={STATS["dropped"]} lost={STATS["lost"]} runs={STATS["runs"]}')
    return rc


if __name__ == '__main__':
    sys.exit(main())
