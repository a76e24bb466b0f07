#!/usr/bin/env python3
"""JIT tests of libflameprof.so: node and CPython under LD_PRELOAD, and perf maps that must
not be trusted. Python 3 standard library only.

The library turns on what the runtimes need by itself (NODE_OPTIONS gets --perf-basic-prof
--interpreted-frames-native-stack; CPython >= 3.12 gets PYTHONPERFSUPPORT=1), follows
/tmp/perf-PID.map during the run and names each JIT frame by the entries that existed when the
sample was taken, tagged `_[j]`: `JS:*leafA /path/wl_node.js:23:15_[j]` (~ interpreted,
^ baseline, * optimized), `py::leaf_a:/path/hot.py_[j]`.

The workloads measure their own CPU time per function (wl_node.js: process.cpuUsage();
hot.py: time.thread_time()) and write it to a truth JSON file; the checks compare the profile
with it. A function's weight is inclusive: the counts of the stacks that hold its frame.

Tests (each prints every assertion with its numbers; exit 0 pass, 1 fail, 77 skipped):
  node-split        leafA/leafB/leafC shares within 5 pt of truth; names; JIT stacks rooted
  node-deep         a 300-deep JS recursion is whole under its hot bottom function
  node-churn        96 generated functions, freed in batches so their code addresses are
                    reused: each frame is named as of its sample (checked against the batch
                    driver frame above it and against per-batch / per-function CPU shares);
                    the final perf map is used to count the reuse, and to show that naming from
                    it would fail these checks (else SKIP: the test would prove nothing)
  node-worker       a worker_threads Worker's function, rooted at clone3/clone;start_thread
  python-3.12 / python-3.13          FLAMEPROF_PYTHON=perf (the trampolines; the default is
                                     the frame reader, tests/python): split, names, roots,
                                     100-deep recursion, without -X perf
  python-3.12-optout / -3.13-optout  FLAMEPROF_PYTHON=0: no py:: frames, no _[p] frames
  hostile-symlink / -fifo / -other-owner / -lines   untrusted /tmp/perf-PID.map (hostile_map.c)
  reuse             one code address reused by 6 functions in turn, each named by a line
                    appended to the map just before it runs (reuse_map.c): under phase_<i>
                    the leaf is reuse_fn_<i> (named as of the sample, not by the final map)

A runtime that cannot be found is a SKIP (exit 77, with a `SKIP:` line), never a pass.
--sabotage turns one expectation of the test into a wrong one: the test must then fail (it
shows that the test can fail).

usage: jit.py TEST --lib libflameprof.so [--node PATH] [--python PATH] [--hostile PATH]
                 [--reuse PATH]
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import Checks, Skip, check_present, check_svg, pct, read_json, run  # noqa: E402

FREQ = fptest.FREQ
fptest.RUN_TIMEOUT = 50      # seconds per run; meson's timeout is 60
SHARE_TOLERANCE_PT = 5.0     # percentage points, function share of weight vs of CPU
ROOTED_MIN = 0.95            # fraction of JIT-stack weight rooted at a thread's start
WHOLE_MIN = 0.95             # fraction of a deep function's weight with the whole recursion
THREAD_ROOTS = ('clone3', 'clone', 'start_thread')
JS_TIER = r'JS:[~^+*]?'      # V8 tiers: ~ interpreter, ^ Sparkplug, + Maglev, * TurboFan


# --- running ------------------------------------------------------------------------------------

def remove_perf_map(pid):
    """The runtimes leave /tmp/perf-PID.map behind; ours are removed once read."""
    try:
        os.unlink(f'/tmp/perf-{pid}.map')
    except OSError:
        pass


class Ctx(fptest.Workdir):
    def __init__(self, args):
        super().__init__('jit', args.keep)
        self.lib = os.path.abspath(args.lib)
        self.args = args
        self.here = os.path.dirname(os.path.abspath(__file__))
        self.sabotage = args.sabotage

    def out(self):
        return {'FLAMEPROF_OUT': os.path.join(self.tmp, 'prof.%p')}

    def files(self, r):
        """The folded and SVG paths of run r."""
        return (os.path.join(self.tmp, f'prof.{r.pid}.folded'),
                os.path.join(self.tmp, f'prof.{r.pid}.svg'))


def load_profile(ck, ctx, r, label):
    """Run r's profile, checked; its summary line checked against it."""
    folded, svg = ctx.files(r)
    prof = fptest.load_profile(ck, folded, label)
    fptest.check_summary(ck, r, prof, (folded, svg))
    return prof


def check_names(ck, prof, exact):
    """Each function appears under its exact expected frame name (any tier for JS)."""
    for what, pattern in exact.items():
        check_present(ck, prof, pattern, what)


def check_split(ck, prof, truth_cpu, patterns):
    fptest.check_split(ck, prof, truth_cpu, patterns, SHARE_TOLERANCE_PT)


def check_jit_rooted(ck, prof, is_jit, roots=('_start',) + THREAD_ROOTS, what='JIT'):
    fptest.check_rooted(ck, prof, lambda fr: any(is_jit(f) for f in fr), roots, ROOTED_MIN,
                        f'stacks with a {what} frame')


# --- node ---------------------------------------------------------------------------------------

def node_run(ctx, ck, mode, extra=(), keep_map=False):
    node = fptest.find_node(ctx.args.node)
    wl = os.path.join(ctx.here, 'wl_node.js')
    truth_path = os.path.join(ctx.tmp, f'truth-{mode}.json')
    env = ctx.out()
    if keep_map:
        # The library removes the perf map it turned on itself; asked for by the user (here,
        # in NODE_OPTIONS), the map is the user's and stays, for the test to read.
        env = dict(env, NODE_OPTIONS='--perf-basic-prof')
    # cwd: V8 with --perf-basic-prof leaves an isolate-*-v8.log in the working directory.
    r = run([node, *extra, wl, mode, truth_path], ctx.lib, env, cwd=ctx.tmp)
    ck.check(r.returncode == 0, f'node wl_node.js {mode} exits 0', f'status {r.returncode}')
    prof = load_profile(ck, ctx, r, f'node {mode}')
    truth = read_json(ck, truth_path)
    return r, prof, truth, wl


def js(name, wl):
    return re.compile(JS_TIER + re.escape(name) + ' ' + re.escape(wl) + r':\d+:\d+_\[j\]')


def test_node_split(ctx, ck):
    r, prof, truth, wl = node_run(ctx, ck, 'split')
    remove_perf_map(r.pid)
    if not prof or not truth:
        return
    funcs = ('leafA', 'leafB', 'leafC')
    pats = {n: js(n, wl) for n in funcs}
    check_names(ck, prof, {f'{n} (JS, with its file:line:col and _[j])': p
                           for n, p in pats.items()})
    cpu = dict(truth['functions'])
    if ctx.sabotage:  # claim leafA did leafC's work and vice versa
        cpu['leafA'], cpu['leafC'] = cpu['leafC'], cpu['leafA']
    check_split(ck, prof, cpu, pats)
    check_jit_rooted(ck, prof, lambda f: f.endswith('_[j]'))
    check_svg(ck, ctx.files(r)[1])


def test_node_deep(ctx, ck):
    r, prof, truth, wl = node_run(ctx, ck, 'deep')
    remove_perf_map(r.pid)
    if not prof or not truth:
        return
    depth = truth['depth'] + (50 if ctx.sabotage else 0)
    bottom, rec = js('bottom', wl), js('rec', wl)
    check_names(ck, prof, {'bottom': bottom, 'rec': rec})
    runs = {}

    def whole(fr):
        i = next(k for k, f in enumerate(fr) if bottom.fullmatch(f))
        j = i
        while j > 0 and rec.fullmatch(fr[j - 1]):
            j -= 1
        runs[i - j] = runs.get(i - j, 0)
        return i - j >= depth and fr[0] == '_start'

    has_bottom = lambda fr: any(bottom.fullmatch(f) for f in fr)
    tot = prof.weight(has_bottom)
    good = prof.weight(lambda fr: has_bottom(fr) and whole(fr))
    ck.check(tot > 0 and good >= WHOLE_MIN * tot,
             f'recursion whole: >= {depth} consecutive `rec` frames right above `bottom`, '
             f'rooted at _start, for >= {100 * WHOLE_MIN:.0f}% of the weight of bottom',
             f'{pct(good, tot):.2f}% ({good}/{tot}); run lengths seen: {sorted(runs)[:8]}')
    check_jit_rooted(ck, prof, lambda f: f.endswith('_[j]'))


CHURN = re.compile(JS_TIER[:-len('[~^+*]?')] + r'([~^+*]?)(churn_\d+) ')
BATCH = re.compile(JS_TIER + r'(batch_\d+) ')
REUSE_MIN = 0.20         # the final map must misname at least this share of churn weight
BATCH_OK_MIN = 0.95      # churn weight whose batch frame is the function's own batch
BATCH_TV_MAX = 0.10      # total variation distance of per-batch shares, profile vs truth
FUNC_TV_MAX = 0.25       # the same per function (noisier: ~8 signals per function)


def perf_map_entries(pid, exec_maps):
    """Entries of the final perf map that lie in executable memory, in file order."""
    ex = sorted((int(a, 16), int(b, 16)) for a, b in exec_maps)
    out = []
    with open(f'/tmp/perf-{pid}.map', 'rb') as f:
        for line in fptest.decode(f.read()).split('\n'):
            p = line.rstrip('\n').split(' ', 2)
            try:
                start, size = int(p[0], 16), int(p[1], 16)
            except (ValueError, IndexError):
                continue
            if len(p) == 3 and any(lo <= start and start + size <= hi for lo, hi in ex):
                out.append((start, start + size, p[2]))
    return out


def final_map_reuse(entries):
    """For each churn function's code entry, the bytes that a later entry of another name
    covers (what a profiler naming frames from the final map would misname), and the name of
    the last such entry. Returns {(tier, function): [(size, covered, last_name)]}."""
    pages = {}
    for i, (s, e, _) in enumerate(entries):
        for pg in range(s >> 12, ((e - 1) >> 12) + 1):
            pages.setdefault(pg, []).append(i)
    res = {}
    for i, (s, e, name) in enumerate(entries):
        m = CHURN.match(name)
        if not m:
            continue
        later = set()
        for pg in range(s >> 12, ((e - 1) >> 12) + 1):
            for j in pages[pg]:
                o = entries[j]
                if j > i and o[0] < e and s < o[1] and o[2] != name:
                    later.add(j)
        covered, cur = 0, None
        for a, b in sorted((max(entries[j][0], s), min(entries[j][1], e)) for j in later):
            if cur and a <= cur[1]:
                cur[1] = max(cur[1], b)
            else:
                covered += cur[1] - cur[0] if cur else 0
                cur = [a, b]
        covered += cur[1] - cur[0] if cur else 0
        last = entries[max(later)][2] if later else None
        res.setdefault((m.group(1), m.group(2)), []).append((e - s, covered, last))
    return res


def churn_leaves(prof):
    """Weight by the deepest churn frame of each stack: {(tier, fn): w}, and per stack the
    (fn, batch frame) pairs with their weight."""
    leaves, pairs = {}, []
    for fr, c in prof.stacks:
        hits = [CHURN.match(f) for f in fr]
        hits = [m for m in hits if m]
        if not hits:
            continue
        m = hits[-1]
        key = (m.group(1), m.group(2))
        leaves[key] = leaves.get(key, 0) + c
        batches = [BATCH.match(f).group(1) for f in fr if BATCH.match(f)]
        pairs.append((m.group(2), batches[-1] if batches else None, c))
    return leaves, pairs


def churn_checks(ck, label, leaves, pairs, truth, strict=True):
    """Returns (batch_ok_fraction, batch_tv, func_tv); asserts them when strict."""
    funcs = truth['functions']
    total = sum(leaves.values())
    known = sum(c for fn, _, c in pairs if fn in funcs)
    right_batch = sum(c for fn, b, c in pairs if fn in funcs and b == f'batch_{funcs[fn]["batch"]}')
    tcpu = sum(v['cpu_us'] for v in funcs.values())
    fw = {}
    for (_, fn), w in leaves.items():
        fw[fn] = fw.get(fn, 0) + w
    func_tv = 0.5 * sum(abs(fw.get(fn, 0) / total - v['cpu_us'] / tcpu) for fn, v in funcs.items()) \
        + 0.5 * sum(w / total for fn, w in fw.items() if fn not in funcs)
    bt, bw = {}, {}
    for fn, v in funcs.items():
        bt[v['batch']] = bt.get(v['batch'], 0) + v['cpu_us'] / tcpu
        bw[v['batch']] = bw.get(v['batch'], 0) + fw.get(fn, 0) / total
    batch_tv = 0.5 * sum(abs(bt[b] - bw.get(b, 0)) for b in bt)
    print(f'       [{label}] per batch, truth % / profile %: ' + ' '.join(
        f'{b}:{100 * bt[b]:.1f}/{100 * bw.get(b, 0):.1f}' for b in sorted(bt)))
    if strict:
        ck.check(total > 0 and known >= 0.9 * total,
                 '>= 90% of the churn-leaf weight is named by a function that ran (truth)',
                 f'{pct(known, total):.2f}% ({known:.0f}/{total:.0f})')
        ck.check(total > 0 and right_batch >= BATCH_OK_MIN * total,
                 f'>= {100 * BATCH_OK_MIN:.0f}% of the churn-leaf weight sits under the driver '
                 'of the batch that function ran in (named as of the sample)',
                 f'{pct(right_batch, total):.2f}% ({right_batch:.0f}/{total:.0f})')
        ck.check(batch_tv <= BATCH_TV_MAX,
                 f'per-batch shares of weight vs CPU: total variation <= {BATCH_TV_MAX}',
                 f'{batch_tv:.3f}')
        ck.check(func_tv <= FUNC_TV_MAX,
                 f'per-function shares of weight vs CPU: total variation <= {FUNC_TV_MAX}',
                 f'{func_tv:.3f} over {len(funcs)} functions')
    return right_batch / total if total else 0.0, batch_tv, func_tv


def test_node_churn(ctx, ck):
    r, prof, truth, wl = node_run(ctx, ck, 'churn', extra=['--expose-gc'], keep_map=True)
    try:
        if not prof or not truth:
            return
        if not ck.check(os.path.isfile(f'/tmp/perf-{r.pid}.map'), 'node wrote its perf map',
                        f'/tmp/perf-{r.pid}.map'):
            return
        entries = perf_map_entries(r.pid, truth['exec_maps'])
    finally:
        remove_perf_map(r.pid)
    funcs = truth['functions']
    n_exp = truth['batches'] * truth['per_batch']
    ck.check(len(funcs) == n_exp, f'the workload ran {n_exp} churn functions', f'{len(funcs)}')
    leaves, pairs = churn_leaves(prof)
    total = sum(leaves.values())
    tiers = {}
    for (t, _), w in leaves.items():
        tiers[t or 'other'] = tiers.get(t or 'other', 0) + w
    print(f'       churn-leaf weight {total} of {prof.total}; by tier: {tiers}; '
          f'{len({fn for _, fn in leaves})} functions seen')

    # How much reuse happened: entries of churn code later covered by other code.
    reuse = final_map_reuse(entries)
    n_entries = sum(len(v) for v in reuse.values())
    n_reused = sum(1 for v in reuse.values() for x in v if x[1] > 0)
    # One instance, with the time windows the workload logged (ms from the first function).
    t_zero = min(v['start_ms'] for v in funcs.values())
    example = next(((fn, CHURN.match(x[2]).group(2)) for (_, fn), v in sorted(
        reuse.items(), key=lambda kv: int(kv[0][1].split('_')[1]))
        for x in v if x[2] and CHURN.match(x[2])), None)
    if example and all(fn in funcs for fn in example):
        a, b = funcs[example[0]], funcs[example[1]]
        print(f'       e.g. code of {example[0]} (batch {a["batch"]}, hot '
              f'{a["start_ms"] - t_zero:.0f}-{a["end_ms"] - t_zero:.0f} ms) was later reused by '
              f'{example[1]} (batch {b["batch"]}, hot {b["start_ms"] - t_zero:.0f}-'
              f'{b["end_ms"] - t_zero:.0f} ms)')
    # A profiler naming frames from the final map (an estimate: the reused part of each
    # entry's weight goes to the last code written over any of it).
    final = {}
    moved = 0.0
    for key, w in leaves.items():
        v = reuse.get(key)
        frac = sum(x[1] for x in v) / sum(x[0] for x in v) if v else 0.0
        final[key] = final.get(key, 0) + w * (1 - frac)
        moved += w * frac
        for size, covered, last in v or []:
            m = CHURN.match(last) if last else None
            share = w * covered / sum(x[0] for x in v)
            dest = (m.group(1), m.group(2)) if m else ('', 'other_code')
            final[dest] = final.get(dest, 0) + share
    mis = moved / total if total else 0.0
    print(f'       reuse: {n_reused} of {n_entries} churn code entries in the final map were '
          f'later overwritten by other code; naming from the final map would misname '
          f'{100 * mis:.1f}% of the churn-leaf weight')
    # Under final-map naming the batch drivers (alive to the end, never overwritten) keep
    # their names: the batch above each frame stays the function's own.
    fin_pairs = []
    for (t, fn), w in leaves.items():
        v = reuse.get((t, fn)) or []
        tot_size = sum(x[0] for x in v) or 1
        batch_of = f'batch_{funcs[fn]["batch"]}' if fn in funcs else None
        fin_pairs.append((fn, batch_of, w * (1 - sum(x[1] for x in v) / tot_size)))
        for size, covered, last in v:
            m = CHURN.match(last) if last else None
            fin_pairs.append((m.group(2) if m else 'other_code', batch_of, w * covered / tot_size))
    sim = churn_checks(ck, 'final-map naming, simulated', final, fin_pairs, truth, strict=False)
    would_fail = sim[0] < BATCH_OK_MIN or sim[1] > BATCH_TV_MAX or sim[2] > FUNC_TV_MAX
    print(f'       final-map naming would give: right batch {100 * sim[0]:.1f}%, batch TV '
          f'{sim[1]:.3f}, function TV {sim[2]:.3f} -> {"caught" if would_fail else "NOT caught"}')
    if mis < REUSE_MIN or not would_fail:
        raise Skip(f'code addresses were not reused enough to tell per-sample naming from '
                   f'final-map naming ({100 * mis:.1f}% of churn weight would be misnamed, '
                   f'need {100 * REUSE_MIN:.0f}%; would be caught: {would_fail})')
    if ctx.sabotage:  # judge the simulated final-map profile instead of the real one
        churn_checks(ck, 'SABOTAGE: final-map naming', final, fin_pairs, truth)
    else:
        churn_checks(ck, 'profile', leaves, pairs, truth)
    check_jit_rooted(ck, prof, lambda f: f.endswith('_[j]'))


def test_node_worker(ctx, ck):
    r, prof, truth, wl = node_run(ctx, ck, 'worker')
    remove_perf_map(r.pid)
    if not prof or not truth:
        return
    ck.check(truth.get('worker_exit') == 0, 'the worker exited 0', f'{truth.get("worker_exit")}')
    wb, mb = js('workerBurn', wl), js('mainBurn', wl)
    check_names(ck, prof, {'workerBurn': wb, 'mainBurn': mb})
    thread_roots = ('_start',) if ctx.sabotage else ('clone3', 'clone')
    has_w = lambda fr: any(wb.fullmatch(f) for f in fr)
    tot = prof.weight(has_w)
    good = prof.weight(lambda fr: has_w(fr) and fr[0] in thread_roots and len(fr) > 1
                       and fr[1] == 'start_thread')
    roots = sorted({fr[:2] for fr, _ in prof.stacks if has_w(fr)})[:4]
    ck.check(tot > 0 and good >= ROOTED_MIN * tot,
             f'workerBurn rooted at {"/".join(thread_roots)};start_thread (a worker thread)',
             f'{pct(good, tot):.2f}% of its weight {tot}; roots {roots}')
    has_m = lambda fr: any(mb.fullmatch(f) for f in fr)
    mt = prof.weight(has_m)
    mg = prof.weight(lambda fr: has_m(fr) and fr[0] == '_start')
    ck.check(mt > 0 and mg >= ROOTED_MIN * mt, 'mainBurn rooted at _start (main thread)',
             f'{pct(mg, mt):.2f}% of its weight {mt}')
    # While the worker burns the main thread idles: the process's CPU then is the worker's.
    expect = truth['functions']['workerBurn'] / 1e6 * FREQ
    ck.check(abs(tot - expect) <= 0.25 * expect,
             'weight of workerBurn ~ CPU while it ran x FREQ, within 25%',
             f'weight {tot} vs {expect:.0f} ({pct(tot - expect, expect):+.1f}%)')


# --- python -------------------------------------------------------------------------------------

def python_run(ctx, ck, version, env_extra):
    py = fptest.find_python(version, ctx.args.python)
    wl = os.path.join(ctx.here, 'hot.py')
    truth_path = os.path.join(ctx.tmp, 'truth.json')
    env = ctx.out()
    env.update(env_extra)
    r = run([py, wl, truth_path], ctx.lib, env, cwd=ctx.tmp)   # no -X perf
    remove_perf_map(r.pid)
    ck.check(r.returncode == 0, f'{os.path.basename(py)} hot.py exits 0', f'status {r.returncode}')
    prof = load_profile(ck, ctx, r, f'python{version} hot.py')
    truth = read_json(ck, truth_path)
    return r, prof, truth, wl


def test_python(ctx, ck, version):
    r, prof, truth, wl = python_run(ctx, ck, version, {'FLAMEPROF_PYTHON': 'perf'})
    if not prof or not truth:
        return
    print(f'       {truth["version"].split()[0]}, PYTHONPERFSUPPORT={truth["PYTHONPERFSUPPORT"]}, '
          f'-X options {truth["xoptions"]}')
    ck.check(truth['trampoline_active'] and 'perf' not in truth['xoptions'],
             'perf trampoline active without -X perf (FLAMEPROF_PYTHON=perf: the profiler set '
             'PYTHONPERFSUPPORT=1)',
             f'active={truth["trampoline_active"]}, -X {truth["xoptions"]}, '
             f'PYTHONPERFSUPPORT={truth["PYTHONPERFSUPPORT"]}')
    funcs = ('leaf_a', 'leaf_b', 'leaf_c')
    pats = {n: re.compile(re.escape(f'py::{n}:{wl}_[j]')) for n in funcs}
    check_names(ck, prof, {f'{n} (py::NAME:PATH_[j])': p for n, p in pats.items()})
    cpu = dict(truth['functions'])
    if ctx.sabotage:
        cpu['leaf_a'], cpu['leaf_c'] = cpu['leaf_c'], cpu['leaf_a']
    check_split(ck, prof, cpu, pats)
    check_jit_rooted(ck, prof, lambda f: f.startswith('py::'), roots=('_start',), what='py::')
    depth = truth['depth'] + (50 if ctx.sabotage else 0)
    bottom = f'py::rec_bottom:{wl}_[j]'
    rec = f'py::rec:{wl}_[j]'
    counts = {}

    def whole(fr):
        n = sum(1 for f in fr if f == rec)
        counts[n] = counts.get(n, 0)
        return n >= depth and fr[0] == '_start'

    tot = prof.weight(lambda fr: bottom in fr)
    good = prof.weight(lambda fr: bottom in fr and whole(fr))
    ck.check(tot > 0 and good >= WHOLE_MIN * tot,
             f'recursion whole: >= {depth} `py::rec` frames in the stacks of rec_bottom, rooted '
             f'at _start, for >= {100 * WHOLE_MIN:.0f}% of its weight',
             f'{pct(good, tot):.2f}% ({good}/{tot}); rec frame counts seen: {sorted(counts)[:8]}')
    check_svg(ck, ctx.files(r)[1])


def test_python_optout(ctx, ck, version):
    r, prof, truth, wl = python_run(ctx, ck, version, {'FLAMEPROF_PYTHON': '0'})
    if not prof or not truth:
        return
    ck.check(not truth['trampoline_active'] and truth['PYTHONPERFSUPPORT'] is None,
             'FLAMEPROF_PYTHON=0: no PYTHONPERFSUPPORT, trampoline inactive',
             f'active={truth["trampoline_active"]}, PYTHONPERFSUPPORT={truth["PYTHONPERFSUPPORT"]}')
    py = prof.weight(lambda fr: any(f.startswith('py::') for f in fr))
    if ctx.sabotage:
        ck.check(py > 0, 'SABOTAGE: py:: frames expected', f'weight {py}')
    else:
        ck.check(py == 0, 'FLAMEPROF_PYTHON=0: no py:: frames',
                 f'weight {py}; {sorted(f for f in prof.frame_names() if f.startswith("py::"))[:5]}')
    named = prof.weight(lambda fr: any(f.endswith('_[p]') for f in fr))
    ck.check(named == 0, 'FLAMEPROF_PYTHON=0: no frame reader either (no _[p] frames)',
             f'weight {named}')
    ev = prof.weight(lambda fr: any(f.startswith('_PyEval_EvalFrameDefault') for f in fr))
    ck.check(ev >= 0.5 * prof.total, 'the interpreter is still profiled (_PyEval_EvalFrameDefault)',
             f'{pct(ev, prof.total):.1f}% of weight')


# --- untrusted perf maps ------------------------------------------------------------------------

HOSTILE_NAMES = ('HOSTILE_DECOY', 'HOSTILE_OTHER_OWNER', 'NOT_HEX', 'ZERO_SIZE', 'WRAPS_AROUND',
                 'NUL_IN', 'NOT_EXEC', 'STRADDLES', 'STALE_', 'CRLF_LINE', 'TRUNCATED_LAST',
                 'AAAAAAAA', 'garbage')


def test_hostile(ctx, ck, mode):
    prog = ctx.args.hostile
    if not prog or not os.path.isfile(prog):
        raise Skip(f'hostile_map program not built: {prog}')
    argv = [os.path.abspath(prog), mode, ctx.tmp]
    base = run(argv)
    if mode == 'other-owner' and base.returncode == 3:
        raise Skip('other-owner needs root to give a file to another user: ' + base.stdout.strip())
    r = run(argv, ctx.lib, ctx.out())
    map_path = f'/tmp/perf-{r.pid}.map'
    left = os.path.lexists(map_path)
    if left:
        os.unlink(map_path)
    ck.check(not left, f'{map_path} removed at the end', '' if not left else 'it was left')
    ck.check(base.returncode == 0 and r.returncode == 0,
             'hostile_map exits 0 with and without the profiler',
             f'{r.returncode} (without: {base.returncode})')
    result = lambda out: [ln for ln in out.splitlines() if ln.startswith('result=')]
    ck.check(result(r.stdout) == result(base.stdout) == ['result=ok'],
             'the program computes the same result under the profiler',
             f'{result(r.stdout)} vs {result(base.stdout)}')
    prof = load_profile(ck, ctx, r, f'hostile_map {mode}')
    check_svg(ck, ctx.files(r)[1])
    if not prof:
        return
    ignored = {'symlink': 'it is a symlink', 'fifo': 'not a regular file',
               'other-owner': 'owned by another user'}
    fn1, fn2 = 'jit_loop_fn_[j]', fptest.decode(b'jit:injected?name\xff_[j]')
    if mode in ignored:
        want = f'flameprof: ignoring {map_path}: {ignored[mode]}'
        lines = [ln for ln in r.flameprof_lines() if 'weight=' not in ln]
        ck.check(lines == [want], 'stderr says the map was ignored, once',
                 f'{lines} (want {want!r})')
        expect = {'run_jit_1': fn1 if ctx.sabotage else '[unknown]', 'run_jit_2': '[unknown]'}
    else:
        lines = [ln for ln in r.flameprof_lines() if 'weight=' not in ln]
        ck.check(not any('ignoring' in ln for ln in lines), 'a junk map of ours is not refused',
                 f'{lines}')
        expect = {'run_jit_1': fn1, 'run_jit_2': 'HOSTILE_DECOY' if ctx.sabotage else fn2}
    for caller, leaf in expect.items():
        tot = prof.weight(lambda fr: caller in fr)
        good = prof.weight(lambda fr: caller in fr and fr[-1] == leaf and fr[-2] == caller
                           and fr[0] == '_start' and 'main' in fr)
        leaves = {}
        for fr, c in prof.stacks:
            if caller in fr:
                leaves[fr[-1]] = leaves.get(fr[-1], 0) + c
        ck.check(tot > 0 and good >= 0.95 * tot,
                 f'code called by {caller} is the leaf {leaf!r}, right under it, rooted at '
                 '_start...main', f'{pct(good, tot):.2f}% of {tot}; leaves {leaves}')
    names = prof.frame_names()
    bad = sorted(f for f in names for h in HOSTILE_NAMES if h in f)
    ck.check(not bad, 'no name from an ignored map or a bad line appears', f'{bad[:5]}')
    raw = prof.raw
    if mode == 'hostile':
        # The `;` and TAB of the hostile name must not split or break the line.
        inj = [fr for fr, _ in prof.stacks if any('injected' in f for f in fr)]
        ck.check(inj and all(fr[-1] == fn2 and sum('injected' in f for f in fr) == 1 for fr in inj),
                 "a name with ';' and a TAB stays one frame (`;` -> `:`, TAB -> `?`)",
                 f'{[fptest.stack_text(fr, 120) for fr in inj[:3]]}')
        ck.check(b'\t' not in raw, 'no TAB in the folded file', '')


def test_reuse(ctx, ck):
    prog = ctx.args.reuse
    if not prog or not os.path.isfile(prog):
        raise Skip(f'reuse_map program not built: {prog}')
    r = run([os.path.abspath(prog)], ctx.lib, ctx.out())
    ck.check(r.returncode == 0 and 'result=ok' in r.stdout, 'reuse_map exits 0, result=ok',
             f'status {r.returncode}, {r.stdout.strip()!r}')
    prof = load_profile(ck, ctx, r, 'reuse_map')
    if not prof:
        return
    phases = 6
    for i in range(phases):
        caller = f'phase_{i}'
        # Sabotage: the name the final map gives the address, for every phase.
        leaf = f'reuse_fn_{phases - 1 if ctx.sabotage else i}_[j]'
        # The stacks under phase_<i> that hold a JIT frame (the rest are its loop's own
        # clock reads): that frame must be reuse_fn_<i>.
        jit = lambda fr: caller in fr and any(f.endswith('_[j]') for f in fr)
        tot = prof.weight(jit)
        good = prof.weight(lambda fr: jit(fr) and fr[-1] == leaf)
        leaves = {}
        for fr, c in prof.stacks:
            if jit(fr):
                leaves[fr[-1]] = leaves.get(fr[-1], 0) + c
        ck.check(tot >= 50 and good >= 0.97 * tot,
                 f'>= 97% of the JIT samples under {caller} (>= 50) are named {leaf}',
                 f'{pct(good, tot):.2f}% of {tot}; JIT leaves {leaves}')


def main():
    tests = {
        'node-split': test_node_split,
        'node-deep': test_node_deep,
        'node-churn': test_node_churn,
        'node-worker': test_node_worker,
    }
    for v in ('3.12', '3.13'):
        tests[f'python-{v}'] = lambda ctx, ck, v=v: test_python(ctx, ck, v)
        tests[f'python-{v}-optout'] = lambda ctx, ck, v=v: test_python_optout(ctx, ck, v)
    for m in ('symlink', 'fifo', 'other-owner'):
        tests[f'hostile-{m}'] = lambda ctx, ck, m=m: test_hostile(ctx, ck, m)
    tests['hostile-lines'] = lambda ctx, ck: test_hostile(ctx, ck, 'hostile')
    tests['reuse'] = test_reuse
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('test', choices=sorted(tests))
    ap.add_argument('--lib', required=True, help='path of libflameprof.so')
    ap.add_argument('--node', help='node found at configure time (or "none")')
    ap.add_argument('--python', help='python3.X found at configure time (or "none")')
    ap.add_argument('--hostile', help='the hostile_map program')
    ap.add_argument('--reuse', help='the reuse_map program')
    ap.add_argument('--keep', action='store_true', help='keep the temporary files')
    ap.add_argument('--sabotage', action='store_true',
                    help='assert a wrong expectation: the test must fail')
    args = ap.parse_args()
    if not os.path.isfile(args.lib):
        print(f'FAIL: library not found: {args.lib}')
        return 1
    ctx = Ctx(args)
    ck = Checks(args.test + (' (sabotaged)' if args.sabotage else ''))
    return fptest.run_test(ck, tests[args.test], ctx, ck, cleanup=ctx.cleanup)


if __name__ == '__main__':
    sys.exit(main())
