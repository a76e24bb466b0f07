"""faults_hosts - the fault matrix: hostile hosts (thread and dlopen churn, EINTR, the
program's own SIGPROF, allocators, deep and small stacks, sigaltstacks)."""

import os
import re
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults_common import *  # noqa: F401,F403  limits, checks, Ctx, fptest names

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
        # Not a share of AT_MINSIGSTKSZ: on a CPU with AMX it counts 8 KB of tile state
        # that the kernel saves only for a thread that asked for AMX (11952 here, where a
        # frame takes ~3.5 KB). Without SA_ONSTACK the sigaltstack would stay untouched.
        ck.check(own >= 1024, 'our SIGPROF handler ran on the sigaltstack (SA_ONSTACK)',
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
