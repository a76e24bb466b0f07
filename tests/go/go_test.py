#!/usr/bin/env python3
"""Go programs under libflameprof.so (issue 16): never crash them, name their functions,
never be silent about the ones that cannot be profiled.

  split             gosplit (cgo; 3 goroutines, each locked to its thread, split their CPU
                    2:1 between main.burnA and main.burnB and call C's cburn through cgo,
                    measuring each with the thread's CPU clock) run RUNS times at 997 Hz:
                    every run ends as without us; over all runs burnA:burnB is within
                    SPLIT_TOLERANCE_PT of the measured split; their stacks start at
                    runtime.goexit (the root of every goroutine); cburn's stacks cross from
                    the system stack back to the goroutine (rooted at runtime.goexit too);
                    burnA and burnB (frameless leaves) right under their caller main.worker;
                    the inlined main.mix shows as main.mix_[i] under main.burnA.
  own-pprof         the same program writing its own runtime/pprof CPU profile while we
                    sample: both profiles right (Go's read with `go tool pprof -top`), Go's
                    signals passed to Go and ours not (its sample count matches its 100 Hz).
  exit-status       os.Exit(3) through Go's runtime.exit: status kept, profile written.
  systemstack       the same program while a goroutine allocates: the runtime's work on the
                    system stack (runtime.systemstack) is rooted at runtime.goexit too.
  asm-frames        the same program hashing (-hash: crypto/sha256, whose assembly uses rbp
                    as a scratch register): its samples rooted, under main.hashB.
  stripped          the same program stripped (-ldflags='-s -w'): exit intercepted, stacks
                    whole and crossing cgo, functions named, all by Go's own table.
  stripped-pie      the same, built -buildmode=pie (the table in .data.rel.ro).
  nocgo-pie         a Go program built without cgo but dynamically linked (-buildmode=pie):
                    Go's threads never run libc code, so the library must stand aside: one
                    line, no crash, no hang, the program's status and output kept.
  record-static-go  `flameprof record` on a static Go program (CGO_ENABLED=0),
  record-static-c   ... a static C program (gcc -static),
  record-setuid     ... a set-user-ID program (needs root: it is made owned by nobody),
  record-launcher   ... a launcher that removes LD_PRELOAD (env -u LD_PRELOAD):
                    one clear `flameprof:` line each, the program's status and output kept.

usage: go_test.py TEST --lib L --tool T --static-c P --dyn-c P
                  [--go GO --gosplit P --gostatic P --gopie P --gosplit-stripped P
                   --gosplit-pie-stripped P]
Exit status 0 pass, 1 fail, 77 skip (no `go`: loud).
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import Checks, Profile, Skip, check_present, check_rooted, pct, run  # noqa: E402

RUNS = 20                 # split: runs of the program
CPU_PER_WORKER_S = 0.25   # split: CPU seconds each of the 3 goroutines burns per run
SPLIT_TOLERANCE_PT = 5.0  # burnA's share of burnA + burnB, profile vs measured, over all runs
ONE_RUN_TOLERANCE_SD = 3.5   # own-pprof, one run: within 3.5 standard deviations of the
                             # sampling noise its sample count allows (and at least 10 pt)
ROOTED_MIN = 0.95         # share of a function's weight in stacks rooted at GO_ROOTS
GO_ROOTS = ('runtime.goexit', 'runtime.main')
GO_PPROF_HZ = 100         # runtime/pprof's rate


class Ctx(fptest.Workdir):
    def __init__(self, args):
        super().__init__('go', args.keep)
        self.a = args

    def need_go(self):
        if not self.a.go or not self.a.gosplit:
            raise Skip('`go` not found (Debian: apt-get install golang-go): Go programs untested')


def truth_of(r):
    for line in r.stdout.splitlines():
        if line.startswith('{'):
            return json.loads(line)
    return None


def ab_share(prof):
    a = prof.inclusive('main.burnA')
    b = prof.inclusive('main.burnB')
    return a, b


def check_stacks(ck, prof, what):
    for fn in ('main.burnA', 'main.burnB'):
        check_rooted(ck, prof, lambda fr, f=fn: f in fr, GO_ROOTS, ROOTED_MIN, f'{fn} ({what})')
        # Both are frameless leaves: frame pointers skipped their caller (Go's frame-size
        # tables do not: util/gopclntab.h).
        tot = prof.weight(lambda fr, f=fn: f in fr)
        under = prof.weight(lambda fr, f=fn: f in fr and fr.index(f) > 0 and
                            fr[fr.index(f) - 1] == 'main.worker')
        ck.check(tot > 0 and under >= ROOTED_MIN * tot,
                 f'>= {100 * ROOTED_MIN:.0f}% of {fn} right under main.worker, its caller ({what})',
                 f'{under} of {tot}')
    check_present(ck, prof, 'main.mix_[i]', f'inlined main.mix under main.burnA ({what})')
    inl = prof.weight(lambda fr: 'main.mix_[i]' in fr)
    under = prof.weight(lambda fr: 'main.mix_[i]' in fr and
                        fr.index('main.mix_[i]') > 0 and fr[fr.index('main.mix_[i]') - 1] ==
                        'main.burnA')
    ck.check(inl > 0 and under == inl, 'main.mix_[i] always sits right under main.burnA',
             f'{under} of {inl}')
    check_present(ck, prof, 'cburn', f'C called through cgo ({what})')
    check_rooted(ck, prof, lambda fr: 'cburn' in fr, GO_ROOTS, 0.90,
                 f'cburn, crossing from the system stack to the goroutine ({what})')


def test_split(ctx, ck):
    ctx.need_go()
    fptest.set_budget(280)
    total = Profile.__new__(Profile)
    total.path, total.raw, total.stacks, total.bad_lines = 'all runs', b'', [], []
    ta = tb = 0
    for i in range(RUNS):
        out = ctx.path(f'run{i}')
        argv = [ctx.a.gosplit, '-cpu', str(CPU_PER_WORKER_S)]
        r = run(argv, ctx.a.lib, {'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': out}, echo=i == 0)
        t = truth_of(r)
        ok = ck.check(r.returncode == 0 and t is not None and not r.timed_out,
                      f'run {i + 1}: exit 0 and its measurement printed',
                      f'status {r.returncode}; stderr {r.stderr[-400:]!r}')
        if not ok or not os.path.isfile(out + '.folded'):
            ck.check(False, f'run {i + 1}: profile written', out + '.folded')
            continue
        p = Profile(out + '.folded')
        total.stacks += p.stacks
        ta += t['burnA_ns']
        tb += t['burnB_ns']
    total.total = sum(c for _, c in total.stacks)
    ck.show('all runs', total)
    a, b = ab_share(total)
    sp, st = pct(a, a + b), pct(ta, ta + tb)
    ck.check(a + b > 0 and abs(sp - st) <= SPLIT_TOLERANCE_PT,
             f'burnA share of burnA+burnB within {SPLIT_TOLERANCE_PT:g} pt of the measured '
             f'split over {RUNS} runs',
             f'profile {sp:.2f}% ({a}/{a + b}) vs measured {st:.2f}% (diff {sp - st:+.2f} pt)')
    check_stacks(ck, total, f'{RUNS} runs')


def go_pprof_top(ctx, ck, path):
    """{function: (flat_s, cum_s)} and the total seconds of Go's own profile."""
    env = dict(os.environ, GOFLAGS='-buildvcs=false', GOCACHE=ctx.path('gocache'),
               GOPATH=ctx.path('gopath'), GOTOOLCHAIN='local', GOENV='off')
    env.pop('LD_PRELOAD', None)
    r = subprocess.run([ctx.a.go, 'tool', 'pprof', '-top', '-nodecount=100', ctx.a.gosplit,
                        path], capture_output=True, text=True, env=env, timeout=120)
    print('\n'.join('  go tool pprof: ' + ln for ln in r.stdout.splitlines()[:16]))
    ck.check(r.returncode == 0, 'go tool pprof -top reads Go\'s own profile', r.stderr[-300:])
    unit = {'ns': 1e-9, 'us': 1e-6, 'µs': 1e-6, 'ms': 1e-3, 's': 1.0}
    m = re.search(r'Total samples = ([\d.]+)(ns|us|µs|ms|s)\b', r.stdout)
    total = float(m.group(1)) * unit[m.group(2)] if m else 0.0
    rows = {}
    for ln in r.stdout.splitlines():
        f = re.match(r'\s*([\d.]+)(ns|us|µs|ms|s)?\s+[\d.]+%\s+[\d.]+%\s+([\d.]+)(ns|us|µs|ms|s)?'
                     r'\s+[\d.]+%\s+(\S+)', ln)
        if f:
            rows[f.group(5)] = (float(f.group(1)) * unit.get(f.group(2) or 's', 0),
                                float(f.group(3)) * unit.get(f.group(4) or 's', 0))
    return rows, total


def tolerance_pt(p, n):
    """3.5 binomial standard deviations of a share p measured from n samples, >= 10 pt."""
    return max(10.0, ONE_RUN_TOLERANCE_SD * 100.0 * (p * (1 - p) / max(n, 1)) ** 0.5)


def test_own_pprof(ctx, ck):
    ctx.need_go()
    gp, out = ctx.path('go.pprof'), ctx.path('ours')
    r = run([ctx.a.gosplit, '-cpu', '0.5', '-cpuprofile', gp], ctx.a.lib,
            {'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': out})
    t = truth_of(r)
    ck.check(r.returncode == 0 and t is not None, 'exit 0 with Go\'s profiler running too',
             f'status {r.returncode}')
    summ = r.summaries()
    ck.check(len(summ) == 1 and 'own SIGPROF handler' in summ[0],
             'our summary says the program\'s own SIGPROF handler got its signals', str(summ))
    if t is None or not os.path.isfile(out + '.folded'):
        ck.check(False, 'our profile written', out + '.folded')
        return
    st = pct(t['burnA_ns'], t['burnA_ns'] + t['burnB_ns'])
    prof = Profile(out + '.folded')
    ck.show('ours', prof)
    a, b = ab_share(prof)
    signals = fptest.parse_summary(summ[0]).get('signals', 0) if summ else 0
    tol = tolerance_pt(st / 100, signals)
    ck.check(a + b > 0 and abs(pct(a, a + b) - st) <= tol,
             f'ours: burnA share within {tol:.1f} pt of measured ({signals} signals)',
             f'{pct(a, a + b):.2f}% vs {st:.2f}%')
    check_rooted(ck, prof, lambda fr: 'main.burnA' in fr or 'main.burnB' in fr, GO_ROOTS,
                 ROOTED_MIN, 'burnA/burnB (ours, beside Go\'s profiler)')
    rows, total = go_pprof_top(ctx, ck, gp)
    ga, gb = rows.get('main.burnA', (0, 0))[1], rows.get('main.burnB', (0, 0))[1]
    tol = tolerance_pt(st / 100, round((ga + gb) * GO_PPROF_HZ))
    ck.check(ga + gb > 0 and abs(pct(ga, ga + gb) - st) <= tol,
             f'Go\'s own profile: burnA share (cum) within {tol:.1f} pt of measured '
             f'({round((ga + gb) * GO_PPROF_HZ)} samples)',
             f'{pct(ga, ga + gb):.2f}% ({ga:.3f} s / {ga + gb:.3f} s) vs {st:.2f}%')
    # Go counts each of its own signals as 10 ms: had ours (up to 250 a second a thread)
    # reached it, it would count several times the CPU the program used.
    cpu = r.cpu
    ck.check(0.4 * cpu <= total <= 1.3 * cpu,
             'Go\'s own profile holds about the CPU the program used (only its own signals)',
             f'{total:.3f} s sampled by Go for {cpu:.3f} s of CPU')


def test_exit_status(ctx, ck):
    ctx.need_go()
    out = ctx.path('p')
    r = run([ctx.a.gosplit, '-cpu', '0.05', '-exit', '3'], ctx.a.lib,
            {'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': out})
    base = run([ctx.a.gosplit, '-cpu', '0.05', '-exit', '3'])
    ck.check(r.returncode == base.returncode == 3, 'os.Exit(3) keeps its status',
             f'{r.returncode} (without us {base.returncode})')
    ck.check(os.path.isfile(out + '.folded') and len(r.summaries()) == 1,
             'the profile is written although Go leaves by exit_group', str(r.notes()))
    if os.path.isfile(out + '.folded'):
        prof = Profile(out + '.folded')
        ck.show('exit', prof)
        check_present(ck, prof, 'main.burnA', 'exit-status')


def gosplit_profile(ctx, ck, flag, what):
    """gosplit -cpu 0.6 FLAG at 997 Hz: its profile (None, said, if it has none)."""
    ctx.need_go()
    out = ctx.path('p')
    r = run([ctx.a.gosplit, '-cpu', '0.6', flag], ctx.a.lib,
            {'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': out})
    ck.check(r.returncode == 0, 'exit 0', f'status {r.returncode}')
    if not os.path.isfile(out + '.folded'):
        ck.check(False, 'profile written', out + '.folded')
        return None
    prof = Profile(out + '.folded')
    ck.show(what, prof)
    return prof


def test_systemstack(ctx, ck):
    prof = gosplit_profile(ctx, ck, '-alloc', 'systemstack')
    if not prof:
        return
    check_present(ck, prof, 'main.allocate', 'the allocating goroutine')
    check_rooted(ck, prof, lambda fr: 'runtime.systemstack' in fr, GO_ROOTS, 0.90,
                 'stacks through runtime.systemstack (crossing back to the goroutine)')


def test_asm_frames(ctx, ck):
    """crypto/sha256's assembly clobbers rbp (Go 1.19): its samples were one frame each under
    frame pointers; Go's own frame-size tables (util/gopclntab.h) carry the walk out."""
    prof = gosplit_profile(ctx, ck, '-hash', 'asm-frames')
    if not prof:
        return
    check_present(ck, prof, 'crypto/sha256.block', 'SHA-256 assembly')
    check_rooted(ck, prof, lambda fr: 'crypto/sha256.block' in fr, GO_ROOTS, 0.95,
                 'stacks through crypto/sha256.block')
    inside = prof.weight(lambda fr: 'crypto/sha256.block' in fr)
    under = prof.weight(lambda fr: 'crypto/sha256.block' in fr and 'main.hashB' in fr and
                        'main.worker' in fr)
    ck.check(inside > 0 and under >= 0.95 * inside,
             '>= 95% of crypto/sha256.block under main.hashB and main.worker',
             f'{under} of {inside}')


def test_stripped(ctx, ck, prog=None):
    """gosplit stripped of .symtab and DWARF (-ldflags='-s -w', as Debian strips): its exit
    still intercepted, its stacks still crossing cgo, its functions named, by Go's own
    table (.gopclntab)."""
    ctx.need_go()
    prog = prog or ctx.a.gosplit_stripped
    base = os.path.basename(prog)
    out = ctx.path('p')
    r = run([prog, '-cpu', '0.6'], ctx.a.lib,
            {'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': out})
    ck.check(r.returncode == 0 and truth_of(r) is not None, 'exit 0, its measurement printed',
             f'status {r.returncode}')
    ck.check(len(r.summaries()) == 1 and 'cannot be intercepted' not in r.stderr and
             'raw spill' not in r.stderr, 'its exit intercepted: the profile written at exit',
             r.stderr[-400:])
    if not os.path.isfile(out + '.folded'):
        ck.check(False, 'profile written', out + '.folded')
        return
    prof = Profile(out + '.folded')
    ck.show('stripped', prof)
    for fn in ('main.burnA', 'main.burnB'):
        check_rooted(ck, prof, lambda fr, f=fn: f in fr, GO_ROOTS, ROOTED_MIN, f'{fn} (stripped)')
        tot = prof.weight(lambda fr, f=fn: f in fr)
        under = prof.weight(lambda fr, f=fn: f in fr and fr.index(f) > 0 and
                            fr[fr.index(f) - 1] == 'main.worker')
        ck.check(tot > 0 and under >= ROOTED_MIN * tot, f'{fn} right under main.worker',
                 f'{under} of {tot}')
    # cburn is C, stripped too: named by its FDE's start ("gosplit_stripped+0x..."), as any
    # stripped C function; the stacks through its cgo wrapper must still reach the root.
    check_rooted(ck, prof, lambda fr: any(f.startswith('_cgo_') for f in fr), GO_ROOTS, 0.90,
                 'C called through cgo, crossing back to the goroutine (stripped)')

    def go_part(fr):
        return fr[:next((i for i, f in enumerate(fr) if f.startswith('_cgo_')), len(fr))]
    unnamed = prof.weight(lambda fr: any(f.startswith(base + '+0x') for f in go_part(fr)))
    ck.check(unnamed <= 0.01 * prof.total, f'its Go code named (not "{base}+0x...")',
             f'weight {unnamed} of {prof.total} with an offset frame above any C')


def test_stripped_pie(ctx, ck):
    """The same, position-independent: Go's table found in .data.rel.ro (no section of its
    own), g's TLS slot reached through %rcx."""
    test_stripped(ctx, ck, ctx.a.gosplit_pie_stripped)


def test_nocgo_pie(ctx, ck):
    ctx.need_go()
    base = run([ctx.a.gopie, '4'])
    r = run([ctx.a.gopie, '4'], ctx.a.lib, {'FLAMEPROF_OUT': ctx.path('p')}, timeout=30)
    ck.check(not r.timed_out, 'no hang', f'{r.wall:.1f} s')
    check_one_line(ck, r, base, ('without cgo', 'pprof'), 'Go without cgo, dynamically linked')
    r = record(ctx, ck, [ctx.a.gopie, '4'])
    check_one_line(ck, r, base, ('without cgo',), 'the same under flameprof record')


def record(ctx, ck, argv, env=None):
    cmd = [ctx.a.tool, 'record', '-o', ctx.path('rec'), '--'] + argv
    return run(cmd, None, env)


def check_one_line(ck, r, base, words, what):
    lines = r.flameprof_lines()
    ck.check(r.returncode == base.returncode, f'{what}: the program\'s status is kept',
             f'{r.returncode} vs {base.returncode} without flameprof')
    ck.check(r.stdout == base.stdout, f'{what}: its output is kept', repr(r.stdout[:200]))
    ck.check(len(lines) == 1 and all(w in lines[0] for w in words),
             f'{what}: exactly one flameprof line, saying {words}', repr(lines))


def test_record_static_go(ctx, ck):
    ctx.need_go()
    base = run([ctx.a.gostatic, '4'])
    r = record(ctx, ck, [ctx.a.gostatic, '4'])
    check_one_line(ck, r, base, ('statically linked Go program', 'pprof', 'flameprof svg'),
                   'static Go')


def test_record_static_c(ctx, ck):
    base = run([ctx.a.static_c, '5'])
    r = record(ctx, ck, [ctx.a.static_c, '5'])
    check_one_line(ck, r, base, ('statically linked',), 'static C')


def test_record_setuid(ctx, ck):
    if os.geteuid() != 0:
        raise Skip('making a program set-user-ID to another user needs root')
    prog = ctx.path('suid_burn')
    shutil.copy(ctx.a.dyn_c, prog)
    os.chmod(ctx.tmp, 0o755)
    os.chown(prog, 65534, -1)  # nobody
    os.chmod(prog, 0o4755)
    base = run([prog, '6'])
    r = record(ctx, ck, [prog, '6'])
    check_one_line(ck, r, base, ('set-user-ID', 'LD_PRELOAD'), 'setuid')


def test_record_launcher(ctx, ck):
    env_prog = shutil.which('env')
    base = run([env_prog, '-u', 'LD_PRELOAD', ctx.a.dyn_c, '7'])
    r = record(ctx, ck, [env_prog, '-u', 'LD_PRELOAD', ctx.a.dyn_c, '7'])
    check_one_line(ck, r, base, ('no profile', 'LD_PRELOAD'), 'launcher dropping LD_PRELOAD')


TESTS = {
    'split': test_split,
    'own-pprof': test_own_pprof,
    'exit-status': test_exit_status,
    'nocgo-pie': test_nocgo_pie,
    'systemstack': test_systemstack,
    'asm-frames': test_asm_frames,
    'stripped': test_stripped,
    'stripped-pie': test_stripped_pie,
    'record-static-go': test_record_static_go,
    'record-static-c': test_record_static_c,
    'record-setuid': test_record_setuid,
    'record-launcher': test_record_launcher,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('test', choices=sorted(TESTS))
    for opt in ('lib', 'tool', 'static-c', 'dyn-c', 'go', 'gosplit', 'gostatic', 'gopie',
                'gosplit-stripped', 'gosplit-pie-stripped'):
        ap.add_argument('--' + opt)
    ap.add_argument('--keep', action='store_true')
    args = ap.parse_args()
    ctx = Ctx(args)
    ck = Checks('go-' + args.test)
    return fptest.run_test(ck, TESTS[args.test], ctx, ck, cleanup=ctx.cleanup)


if __name__ == '__main__':
    sys.exit(main())
