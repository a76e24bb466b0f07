#!/usr/bin/env python3
"""End-to-end tests of libflameprof.so: run a workload under LD_PRELOAD, check its profile.

Each workload (wl_*.c) measures the CPU time it spends in each known function with
CLOCK_THREAD_CPUTIME_ID and writes it to a truth JSON file, with the process's CPU time from
getrusage. This script checks the folded profile against that truth.

A function's weight in a folded profile is the sum of the counts of the stacks that contain its
frame anywhere, each stack counted once (inclusive weight). The workloads measure each function
around its call, callees included, which is the same quantity.

Shares are taken of the program's CPU: what the program's own threads used from main's entry
on (program_cpu_s in the truth). The process's CPU (getrusage) also holds the loader's and the
profiler's start-up before main and any helper thread of the profiler: overhead that no profile
attributes to the program's functions, and that would make shares measure the profiler's
start-up cost rather than its accuracy. The total weight is checked against both: the process's
CPU (within 5%) on the long workloads, the program's CPU everywhere.

usage: e2e.py TEST --lib libflameprof.so --wl WORKLOAD... --fixture libwl_fixture.so
       e2e.py check-folded --folded F --truth T --kind mix|deep [--freq N]
           (checks any folded file, e.g. one made from perf, against a truth file)
Exit status 0 when every assertion holds, 1 otherwise; every failed assertion is printed with
its numbers, followed by the top stacks of the profiles involved.
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import (Checks, Profile, check_format, check_present, check_summary,  # noqa: E402
                    check_svg, folded_in, load_profile, parse_summary, pct, read_json, run)

DEFAULT_FREQ = fptest.FREQ
fptest.RUN_TIMEOUT = 100     # seconds per workload run
SHARE_TOLERANCE_PT = 1.0      # percentage points, function share of weight vs of CPU
TOTAL_TOLERANCE = 0.05        # relative, total weight vs CPU seconds x FREQ
ROOTED_MIN = 0.99             # fraction of weight in stacks with a proper root
WHOLE_MIN = 0.99              # fraction of a deep function's weight with the whole chain
LIBRARY_FRAMES_MAX = 0.001    # fraction of weight in stacks showing the profiler's own frames
MIX_THREAD_FUNCS = ('work_1x', 'work_2x', 'work_3x')
THREAD_ROOTS = ('clone3', 'clone')


# --- profile checks (shared by the library tests and check-folded) -----------------------------

def check_total(ck, prof, truth, freq, process=True):
    """Total weight against CPU seconds x FREQ: the program's CPU, and with process=True the
    whole process's CPU from getrusage as well (see the top of this file)."""
    outside = truth['process_cpu_s'] - truth['program_cpu_s']
    print(f'       process CPU {truth["process_cpu_s"]:.3f} s, program CPU '
          f'{truth["program_cpu_s"]:.3f} s, outside the program\'s threads {1e3 * outside:.0f} ms '
          f'(before main: {1e3 * truth["pre_main_cpu_s"]:.0f} ms)')
    bases = [('program', truth['program_cpu_s'])]
    if process:
        bases.append(('process (getrusage)', truth['process_cpu_s']))
    for label, cpu_s in bases:
        expect = cpu_s * freq
        err = (prof.total - expect) / expect if expect else 1.0
        ck.check(abs(err) <= TOTAL_TOLERANCE,
                 f'total weight ~ {label} CPU x FREQ within {100 * TOTAL_TOLERANCE:.0f}%',
                 f'weight {prof.total}, CPU {cpu_s:.3f} s x {freq} Hz = {expect:.0f}, '
                 f'off by {100 * err:+.2f}%')


def check_shares(ck, prof, truth, names=None):
    """Each function's share of the weight against its share of the program's CPU time."""
    cpu = truth['program_cpu_s']
    funcs = truth['functions']
    rows = []
    for name in names or funcs:
        t = funcs[name]
        w = prof.inclusive(name)
        rows.append((name, t, w, pct(t, cpu), pct(w, prof.total)))
    print(f'{"function":34s} {"truth s":>8s} {"truth %":>8s} {"weight":>7s} {"prof %":>7s} {"diff":>6s}')
    for name, t, w, st, sp in rows:
        print(f'{name:34s} {t:8.3f} {st:8.2f} {w:7d} {sp:7.2f} {sp - st:+6.2f}')
    for name, t, w, st, sp in rows:
        ck.check(abs(sp - st) <= SHARE_TOLERANCE_PT,
                 f'share of {name!r} within {SHARE_TOLERANCE_PT} pt of truth',
                 f'profile {sp:.2f}% (weight {w}/{prof.total}) vs truth {st:.2f}% '
                 f'({t:.3f}/{cpu:.3f} CPU-s), diff {sp - st:+.2f} pt')


def check_rooted(ck, prof, main_funcs=(), thread_funcs=()):
    def proper(frames):
        return frames[0] == '_start' or (
            frames[0] in THREAD_ROOTS and len(frames) > 1 and frames[1] == 'start_thread')

    w = prof.weight(proper)
    roots = {}
    for frames, c in prof.stacks:
        roots[frames[0]] = roots.get(frames[0], 0) + c
    top_roots = sorted(roots.items(), key=lambda kv: -kv[1])[:6]
    ck.check(w >= ROOTED_MIN * prof.total,
             f'>= {100 * ROOTED_MIN:.0f}% of weight rooted at _start or clone3/clone;start_thread',
             f'{pct(w, prof.total):.2f}% ({w}/{prof.total}); roots by weight: {top_roots}')
    for name in main_funcs:
        tot = prof.inclusive(name)
        good = prof.weight(lambda fr: name in fr and fr[0] == '_start' and 'main' in fr
                           and fr.index('main') <= fr.index(name))
        # A function of a few ms (calibrate) can fall between scheduler ticks on a loaded
        # machine and get no sample at all: its weight is checked elsewhere, not here.
        ck.check(good >= ROOTED_MIN * tot,
                 f'main-thread function {name!r} rooted at _start ... main',
                 f'{pct(good, tot):.2f}% of its weight {tot}')
    for name in thread_funcs:
        tot = prof.inclusive(name)
        good = prof.weight(lambda fr: name in fr and fr[0] in THREAD_ROOTS and len(fr) > 1
                           and fr[1] == 'start_thread')
        ck.check(tot > 0 and good >= ROOTED_MIN * tot,
                 f'thread function {name!r} rooted at clone3/clone;start_thread',
                 f'{pct(good, tot):.2f}% of its weight {tot}')


def check_chain(ck, prof, leaf, chain, min_run=None, what=''):
    """Stacks containing `leaf` must carry `chain` right above it: either the exact sequence
    `chain` (ending just before leaf) or, with min_run, at least min_run repeats of chain[0]."""
    tot = prof.inclusive(leaf)

    def whole(fr):
        i = fr.index(leaf)
        if min_run is not None:
            j = i
            while j > 0 and fr[j - 1] == chain[0]:
                j -= 1
            return i - j >= min_run and 'main' in fr[:j]
        return i >= len(chain) and tuple(fr[i - len(chain):i]) == tuple(chain)

    good = prof.weight(lambda fr: leaf in fr and whole(fr))
    ck.check(tot > 0 and good >= WHOLE_MIN * tot, what,
             f'{pct(good, tot):.2f}% of the weight of {leaf!r} ({good}/{tot}) is whole')


def check_no_library_frames(ck, prof, lib):
    """The profiler's own functions (and the signal return trampoline) must not show up."""
    own = library_functions(lib) | {'__restore_rt'}
    w = prof.weight(lambda fr: any(f in own for f in fr))
    seen = sorted({f for fr, _ in prof.stacks for f in fr if f in own})[:10]
    ck.check(w <= LIBRARY_FRAMES_MAX * prof.total,
             f'profiler frames removed (<= {100 * LIBRARY_FRAMES_MAX:.1f}% of weight)',
             f'{pct(w, prof.total):.3f}% ({w}); frames seen: {seen}')


def library_functions(lib):
    """Names of functions defined in the library, less those it interposes on libc (an
    `execve` frame is the program's, whoever implements it)."""
    def names(args):
        try:
            out = subprocess.run(['nm', '--defined-only'] + args, capture_output=True,
                                 text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            return set()
        return {ln.split()[2] for ln in out.splitlines()
                if len(ln.split()) == 3 and ln.split()[1] in 'tTiW'}
    own = names([lib]) or names(['-D', lib])
    libc = names(['-D', '/lib/x86_64-linux-gnu/libc.so.6'])
    crt = {'_init', '_fini', 'frame_dummy', '__do_global_dtors_aux', 'deregister_tm_clones',
           'register_tm_clones'}  # in every ELF file, the program's too
    return {n.split('@')[0] for n in own} - {n.split('@')[0] for n in libc} - crt


def check_function_weight(ck, prof, name, cpu_s, freq, tolerance=TOTAL_TOLERANCE, slack=None):
    """A function's absolute weight against its CPU seconds x FREQ (for small runs where a
    share would say little); `slack` samples absorb the tick granularity of a short run:
    CPU timers fire on 250 Hz scheduler ticks, and on a busy machine a short function can
    run between ticks, so allow three ticks' worth."""
    if slack is None:
        slack = max(10, round(3 * freq / 250))
    w = prof.inclusive(name)
    expect = cpu_s * freq
    ck.check(abs(w - expect) <= tolerance * expect + slack,
             f'weight of {name!r} ~ its CPU x FREQ within {100 * tolerance:.0f}% (+{slack})',
             f'weight {w}, CPU {cpu_s:.3f} s x {freq} = {expect:.0f}, '
             f'off by {pct(w - expect, expect):+.2f}%')


# --- the tests ---------------------------------------------------------------------------------

class Ctx(fptest.Workdir):
    def __init__(self, args):
        super().__init__('e2e', args.keep)
        self.lib = os.path.abspath(args.lib) if args.lib else None
        self.wl = {os.path.basename(p): os.path.abspath(p) for p in args.wl or []}
        self.fixture = os.path.abspath(args.fixture) if args.fixture else None


def mix_checks(ck, prof, truth, lib=None):
    funcs = truth['functions']
    check_shares(ck, prof, truth)
    check_present(ck, prof, 'static_work', 'static function')
    check_present(ck, prof, 'fixture_work', "function in a dlopen'ed library")
    check_present(ck, prof, 'geo::Square::area(int) const', 'demangled C++ method')
    check_present(ck, prof, 'hot_inline_[i]', 'inlined function')
    check_chain(ck, prof, 'hot_inline_[i]', ['inline_parent'],
                what='inlined hot_inline_[i] sits right under its caller inline_parent')
    check_chain(ck, prof, 'recurse_bottom', ['recurse'],
                min_run=truth['ints']['recursion_depth'],
                what=f'recursion whole: >= {truth["ints"]["recursion_depth"]} consecutive '
                     '`recurse` frames below main')
    check_chain(ck, prof, 'aligned_leaf', ['main', 'aligned_frame'],
                what='unwound through a stack-realigning frame: main;aligned_frame;aligned_leaf')
    main_funcs = [f for f in funcs if f not in MIX_THREAD_FUNCS]
    check_rooted(ck, prof, main_funcs=main_funcs, thread_funcs=MIX_THREAD_FUNCS)
    if lib:
        check_no_library_frames(ck, prof, lib)


def deep_checks(ck, prof, truth, lib=None):
    check_shares(ck, prof, truth)
    depth = truth['ints']['depth']
    chain = ['main'] + [f'deep_{i:02d}' for i in range(1, depth)]
    check_chain(ck, prof, f'deep_{depth:02d}', chain,
                what=f'{depth}-frame chain whole: main;deep_01;...;deep_{depth:02d}')
    check_rooted(ck, prof, main_funcs=list(truth['functions']))
    if lib:
        check_no_library_frames(ck, prof, lib)


def test_mix(ctx, ck, freq=None):
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    env = {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')}
    if freq:
        env['FLAMEPROF_FREQ'] = str(freq)
    r = run([ctx.wl['wl_mix'], ctx.fixture, '--truth', truth_path], ctx.lib, env)
    ck.check(r.returncode == 0, 'wl_mix exits 0', f'status {r.returncode}')
    folded = os.path.join(ctx.tmp, f'prof.{r.pid}.folded')
    svg = os.path.join(ctx.tmp, f'prof.{r.pid}.svg')
    prof = load_profile(ck, folded, 'wl_mix')
    check_svg(ck, svg)
    check_summary(ck, r, prof, (folded, svg), min_threads=4)
    truth = read_json(ck, truth_path)
    if not prof or not truth:
        return
    check_total(ck, prof, truth, freq or DEFAULT_FREQ)
    mix_checks(ck, prof, truth, ctx.lib)


def test_dlopen_hot(ctx, ck):
    """Five copies of the fixture, each dlopen'ed and burned at once: no sample in them may
    lack its callers (but one, for a starved drain thread), though the first ones come
    before the drain thread knows the module."""
    import shutil
    copies = []
    for i in range(5):
        copies.append(os.path.join(ctx.tmp, f'libfixture{i}.so'))
        shutil.copyfile(ctx.fixture, copies[-1])
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    env = {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')}
    r = run([ctx.wl['wl_dlopen']] + copies + ['--truth', truth_path], ctx.lib, env)
    ck.check(r.returncode == 0, 'wl_dlopen exits 0', f'status {r.returncode}')
    prof = load_profile(ck, os.path.join(ctx.tmp, f'prof.{r.pid}.folded'), 'wl_dlopen')
    truth = read_json(ck, truth_path)
    if not prof or not truth:
        return
    check_function_weight(ck, prof, 'fixture_work', truth['functions']['fixture_work'],
                          DEFAULT_FREQ)
    tot = prof.inclusive('fixture_work')
    whole = prof.weight(lambda fr: fr[-1] == 'fixture_work' and
                        list(fr[:5]) == ['_start', '__libc_start_main', '__libc_start_call_main',
                                   'main', 'fixture_work'])
    # One sample (~4 at 997 Hz nominal, 250 Hz real) may go if the drain thread is starved
    # past the copies (4) it can hold; without the copies each library loses its first
    # samples: 28-36 of ~300 measured.
    ck.check(tot > 0 and tot - whole <= 4,
             "every sample in the dlopen'ed libraries is _start;...;main;fixture_work",
             f'{whole} of weight {tot}; the others: '
             f'{[(";".join(fr), c) for fr, c in prof.stacks if "fixture_work" in fr and fr[0] != "_start"][:4]}')


def wakeups(pid):
    """Voluntary context switches of the process's threads but the main one: the drain
    thread's sleeps (wl_idle has no thread of its own)."""
    n = 0
    for tid in os.listdir(f'/proc/{pid}/task'):
        if int(tid) == pid:
            continue
        try:
            with open(f'/proc/{pid}/task/{tid}/status') as f:
                n += int(re.search(r'^voluntary_ctxt_switches:\s*(\d+)', f.read(), re.M)[1])
        except (OSError, TypeError):
            pass
    return n


def test_idle_doze(ctx, ck):
    """Between two bursts, 2 s asleep: the drain thread dozes (10 wake-ups a second, not
    100), and the second burst, whose first sample wakes it, is profiled whole."""
    import time
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    env = {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')}
    p = fptest.start([ctx.wl['wl_idle'], '--truth', truth_path], ctx.lib, env)
    rate = None
    if p.wait_stdout('idle\n'):
        time.sleep(0.5)  # the doze begins after 100 ms without a sample
        w0, t0 = wakeups(p.pid), time.monotonic()
        time.sleep(1.0)
        rate = (wakeups(p.pid) - w0) / (time.monotonic() - t0)
    r = fptest.report_run(p.finish())
    ck.check(r.returncode == 0, 'wl_idle exits 0', f'status {r.returncode}')
    # A tick every 10 ms was ~100 a second; a doze's every 100 ms is ~10.
    ck.check(rate is not None and rate <= 25, 'an idle process: <= 25 drain-thread wake-ups '
             'a second', f'{rate}')
    prof = load_profile(ck, os.path.join(ctx.tmp, f'prof.{r.pid}.folded'), 'wl_idle')
    truth = read_json(ck, truth_path)
    if not prof or not truth:
        return
    for fn in ('before_burn', 'after_burn'):
        check_function_weight(ck, prof, fn, truth['functions'][fn], DEFAULT_FREQ)
    tot = prof.inclusive('after_burn')
    rooted = prof.weight(lambda fr: fr[-1] == 'after_burn' and fr[0] == '_start')
    ck.check(tot > 0 and rooted == tot, 'after the doze: every after_burn sample rooted',
             f'{rooted} of {tot}')


def test_deep(ctx, ck):
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    env = {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')}
    r = run([ctx.wl['wl_deep'], '--truth', truth_path], ctx.lib, env)
    ck.check(r.returncode == 0, 'wl_deep exits 0', f'status {r.returncode}')
    folded = os.path.join(ctx.tmp, f'prof.{r.pid}.folded')
    svg = os.path.join(ctx.tmp, f'prof.{r.pid}.svg')
    prof = load_profile(ck, folded, 'wl_deep')
    check_svg(ck, svg)
    check_summary(ck, r, prof, (folded, svg))
    truth = read_json(ck, truth_path)
    if not prof or not truth:
        return
    check_total(ck, prof, truth, DEFAULT_FREQ)
    deep_checks(ck, prof, truth, ctx.lib)


def test_truncated(ctx, ck):
    """A 5000-deep recursion: the leaf end must be kept and the cut marked `[truncated]`."""
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    env = {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')}
    r = run([ctx.wl['wl_deep'], 'abyss', '--truth', truth_path], ctx.lib, env)
    ck.check(r.returncode == 0, 'wl_deep abyss exits 0', f'status {r.returncode}')
    folded = os.path.join(ctx.tmp, f'prof.{r.pid}.folded')
    prof = load_profile(ck, folded, 'wl_deep abyss')
    check_summary(ck, r, prof, (folded, os.path.join(ctx.tmp, f'prof.{r.pid}.svg')))
    truth = read_json(ck, truth_path)
    if not prof or not truth:
        return
    check_total(ck, prof, truth, DEFAULT_FREQ, process=False)
    # 'abyss' is in every stack of the recursion, cut or not. It holds ~99% of the CPU, so its
    # share would mostly measure the ~10 ms outside it: check its weight instead.
    check_function_weight(ck, prof, 'abyss', truth['functions']['abyss'], DEFAULT_FREQ)
    tot = prof.inclusive('abyss_bottom')
    depth = truth['ints']['depth']

    def cut_well(fr):
        # Leaf end intact: abyss_bottom is the leaf with only abyss frames above it up to the
        # cut. Either the whole chain is there (from _start) or the root frame marks the cut.
        if fr[-1] != 'abyss_bottom':
            return False
        body = fr[1:-1]
        if fr[0] == '[truncated]':
            return len(body) > 0 and all(f == 'abyss' for f in body)
        return fr[0] == '_start' and body.count('abyss') >= depth

    good = prof.weight(lambda fr: 'abyss_bottom' in fr and cut_well(fr))
    ck.check(tot > 0 and good >= WHOLE_MIN * tot,
             'deep stacks cut at the root end: [truncated];abyss;...;abyss;abyss_bottom',
             f'{pct(good, tot):.2f}% of the weight of abyss_bottom ({good}/{tot})')
    cut = prof.weight(lambda fr: fr[0] == '[truncated]')
    print(f'       {pct(cut, prof.total):.1f}% of the weight is in [truncated] stacks; depths: '
          f'{sorted({len(fr) for fr, _ in prof.stacks if fr[0] == "[truncated]"})[:5]}')
    check_no_library_frames(ck, prof, ctx.lib)


def test_fork(ctx, ck, pid_pattern):
    """Parent and child each get their own profile, without each other's samples."""
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    out = os.path.join(ctx.tmp, 'prof.%p' if pid_pattern else 'prof')
    r = run([ctx.wl['wl_fork'], '--truth', truth_path], ctx.lib, {'FLAMEPROF_OUT': out})
    ck.check(r.returncode == 0, 'wl_fork exits 0', f'status {r.returncode}')
    truth = read_json(ck, truth_path)
    ctruth = read_json(ck, truth_path + '.child')
    if not truth or not ctruth:
        return
    files = folded_in(ctx.tmp)
    svgs = sorted(f for f in os.listdir(ctx.tmp) if f.endswith('.svg'))
    ck.check(len(files) == 2, 'two folded profiles, one per process',
             f'{[os.path.basename(f) for f in files]}')
    ck.check(len(svgs) == 2, 'two SVGs, one per process', f'{svgs}')
    check_summary(ck, r, n=2)  # one per process
    profs = [Profile(f) for f in files]
    for p in profs:
        ck.show(os.path.basename(p.path), p)
        check_format(ck, p)
    child = [p for p in profs if p.inclusive('child_work') > 0]
    parent = [p for p in profs if p.inclusive('parent_work') > 0]
    ck.check(len(child) == 1 and len(parent) == 1 and child[0] is not parent[0],
             'child_work and parent_work are each in exactly one profile, not the same one',
             f'child_work in {[os.path.basename(p.path) for p in child]}, '
             f'parent_work in {[os.path.basename(p.path) for p in parent]}')
    if pid_pattern:
        for who, pid in (('parent', truth['pid']), ('child', truth['ints']['child_pid'])):
            ck.check(os.path.join(ctx.tmp, f'prof.{pid}.folded') in files,
                     f'%p expands to the {who} pid', f'prof.{pid}.folded in '
                     f'{[os.path.basename(f) for f in files]}')
        ck.check(truth['pid'] == r.pid, 'truth pid is the process started', f'{truth["pid"]}')
    if len(child) == 1:
        check_function_weight(ck, child[0], 'child_work',
                              ctruth['functions']['child_work'], DEFAULT_FREQ)
    if len(parent) == 1:
        # All of the parent's work, from before and after the fork, in the parent's profile.
        check_function_weight(ck, parent[0], 'parent_work',
                              truth['functions']['parent_work'], DEFAULT_FREQ)


def test_exec(ctx, ck, how):
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    prog = 'true' if how == 'execvp' else '/bin/true'   # execvp searches PATH
    r = run([ctx.wl['wl_exec'], how, prog, '--truth', truth_path], ctx.lib,
            {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')})
    ck.check(r.returncode == 0, f'wl_exec {how} {prog} exits with true\'s status 0',
             f'status {r.returncode}')
    ck.check(r.stdout == f'wl_exec: exec {prog} via {how}\n', 'stdout unchanged',
             repr(r.stdout))
    truth = read_json(ck, truth_path)
    if not truth:
        return
    files = folded_in(ctx.tmp)
    profs = [Profile(f) for f in files]
    pre = [p for p in profs if p.inclusive('pre_exec_work') > 0]
    for p in profs:
        ck.show(os.path.basename(p.path), p)
    ck.check(len(pre) == 1, "the pre-exec image's profile is written, with pre_exec_work",
             f'folded files: {[os.path.basename(f) for f in files]}, with pre_exec_work: '
             f'{[os.path.basename(p.path) for p in pre]}')
    ck.check(any(parse_summary(s).get('dropped') == 0 for s in r.summaries()),
             'a summary line with dropped=0', f'{r.summaries()}')
    if len(pre) == 1:
        check_format(ck, pre[0])
        check_function_weight(ck, pre[0], 'pre_exec_work',
                              truth['functions']['pre_exec_work'], DEFAULT_FREQ)
        svg = pre[0].path[:-len('.folded')] + '.svg'
        check_svg(ck, svg)


EXIT_STATUS = {'return': 5, 'exit': 6, 'thread-exit': 7}


def test_exit(ctx, ck, mode):
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    r = run([ctx.wl['wl_exit'], mode, '--truth', truth_path], ctx.lib,
            {'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')})
    ck.check(r.returncode == EXIT_STATUS[mode], f'wl_exit {mode} keeps its exit status',
             f'{r.returncode}, expected {EXIT_STATUS[mode]}')
    ck.check(r.stdout == f'wl_exit: mode={mode}\n', 'stdout unchanged', repr(r.stdout))
    folded = os.path.join(ctx.tmp, f'prof.{r.pid}.folded')
    svg = os.path.join(ctx.tmp, f'prof.{r.pid}.svg')
    prof = load_profile(ck, folded, f'wl_exit {mode}')
    check_svg(ck, svg)
    check_summary(ck, r, prof, (folded, svg), min_threads=2 if mode == 'thread-exit' else 1)
    truth = read_json(ck, truth_path)
    if not prof or not truth:
        return
    for name, cpu in truth['functions'].items():
        check_function_weight(ck, prof, name, cpu, DEFAULT_FREQ)
    if mode != 'thread-exit':
        # With another thread still burning at exit, the program's CPU is not known here.
        check_total(ck, prof, truth, DEFAULT_FREQ, process=False)


def test_quiet(ctx, ck):
    """FLAMEPROF_QUIET=1 silences stderr; FLAMEPROF_OUT unset writes flameprof.PROGRAM.PID.*
    in cwd."""
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    r = run([ctx.wl['wl_exit'], 'return', '--truth', truth_path], ctx.lib,
            {'FLAMEPROF_QUIET': '1'}, cwd=ctx.tmp)
    ck.check(r.returncode == 5, 'wl_exit return keeps its exit status', f'{r.returncode}')
    ck.check(not r.flameprof_lines(), 'no flameprof: line on stderr with FLAMEPROF_QUIET=1',
             f'{r.flameprof_lines()}')
    folded = os.path.join(ctx.tmp, f'flameprof.wl_exit.{r.pid}.folded')
    prof = load_profile(ck, folded, 'default output name')
    check_svg(ck, os.path.join(ctx.tmp, f'flameprof.wl_exit.{r.pid}.svg'))
    truth = read_json(ck, truth_path)
    if prof and truth:
        check_function_weight(ck, prof, 'main_burn', truth['functions']['main_burn'],
                              DEFAULT_FREQ)


BAD_FREQ = {'abc': 'abc', 'negative': '-5', 'zero': '0', 'huge': '99999999999', 'empty': ''}


def test_bad_freq(ctx, ck, value):
    """A bad FLAMEPROF_FREQ must not change what the program does, and must be reported once."""
    argv = [ctx.wl['wl_exit'], 'return']
    base = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_FREQ': value,
                            'FLAMEPROF_OUT': os.path.join(ctx.tmp, 'prof.%p')})
    ck.check(base.returncode == 5, 'wl_exit return exits 5 without the profiler',
             f'{base.returncode}')
    ck.check(r.returncode == base.returncode, 'exit status unchanged under the profiler',
             f'{r.returncode} vs {base.returncode} without')
    ck.check(r.stdout == base.stdout, 'stdout unchanged', f'{r.stdout!r} vs {base.stdout!r}')
    warnings = [ln for ln in r.flameprof_lines() if 'weight=' not in ln]
    if value:
        named = re.compile(r'(?<![\w.+-])' + re.escape(value) + r'(?![\w.])')
        naming = [ln for ln in warnings if named.search(ln)]
    else:
        naming = [ln for ln in warnings if 'FLAMEPROF_FREQ' in ln]
    ck.check(len(warnings) == 1 and len(naming) == 1,
             f'exactly one flameprof: line (besides the summary) naming FLAMEPROF_FREQ={value!r}',
             f'{warnings}')
    print(f'       (summary: {r.summaries()})')


def test_check_folded(args):
    """Checks a folded file made by another profiler (perf) against a truth file."""
    ck = Checks(f'check-folded {args.folded}')
    prof = Profile(args.folded)
    ck.show(args.folded, prof)
    check_format(ck, prof)
    with open(args.truth) as f:
        truth = json.load(f)
    check_total(ck, prof, truth, args.freq)
    if args.kind == 'mix':
        mix_checks(ck, prof, truth)
    else:
        deep_checks(ck, prof, truth)
    return ck.finish()


TESTS = {
    'mix-shares': lambda ctx, ck: test_mix(ctx, ck),
    'mix-freq-499': lambda ctx, ck: test_mix(ctx, ck, freq=499),
    'dlopen-hot': test_dlopen_hot,
    'idle-doze': test_idle_doze,
    'deep-stack': test_deep,
    'deep-truncated': test_truncated,
    'fork': lambda ctx, ck: test_fork(ctx, ck, pid_pattern=False),
    'fork-pid-pattern': lambda ctx, ck: test_fork(ctx, ck, pid_pattern=True),
    'quiet-default-out': test_quiet,
}
for _how in ('execve', 'execv', 'execvp', 'execl'):
    TESTS['exec-' + _how] = lambda ctx, ck, how=_how: test_exec(ctx, ck, how)
for _mode in ('return', 'exit'):
    TESTS['exit-' + _mode] = lambda ctx, ck, mode=_mode: test_exit(ctx, ck, mode)
TESTS['exit-thread'] = lambda ctx, ck: test_exit(ctx, ck, 'thread-exit')
for _name, _value in BAD_FREQ.items():
    TESTS['freq-' + _name] = lambda ctx, ck, value=_value: test_bad_freq(ctx, ck, value)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('test', choices=sorted(TESTS) + ['check-folded'])
    ap.add_argument('--lib', help='path of libflameprof.so')
    ap.add_argument('--wl', action='append', help='a workload executable (repeat)')
    ap.add_argument('--fixture', help="the library wl_mix dlopens")
    ap.add_argument('--keep', action='store_true', help='keep the temporary files')
    ap.add_argument('--folded', help='check-folded: the folded file')
    ap.add_argument('--truth', help='check-folded: the truth file')
    ap.add_argument('--kind', choices=['mix', 'deep'], help='check-folded: which workload')
    ap.add_argument('--freq', type=int, default=DEFAULT_FREQ, help='check-folded: sample rate')
    args = ap.parse_args()
    if args.test == 'check-folded':
        return test_check_folded(args)
    if not args.lib or not os.path.isfile(args.lib):
        print(f'FAIL: library not found: {args.lib}')
        return 1
    ctx = Ctx(args)
    ck = Checks(args.test)
    return fptest.run_test(ck, TESTS[args.test], ctx, ck, cleanup=ctx.cleanup)


if __name__ == '__main__':
    sys.exit(main())
