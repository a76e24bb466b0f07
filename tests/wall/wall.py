#!/usr/bin/env python3
"""Wall-clock mode and the perf_event CPU source (issue 14).

  waits-wall         wl_waits under FLAMEPROF_MODE=wall (997 Hz): in each worker thread, the
                     split between its CPU work and its wait (sleep, pipe, mutex, condition
                     variable, socket) within 3 points of what the thread measured; CPU work
                     (its own, and inside system calls: zero_reads) >= 90% on CPU; each wait
                     [off-cpu] at least as much as the kernel says it was blocked (schedstat,
                     up to 90%); SVG/pprof/speedscope say wall.
  waits-cpu          the same program in CPU mode: the waits get (almost) nothing, as before.
  alternate-perf     wl_alternate (fa/fb alternating every 0.23/0.61 ms of CPU) with
                     FLAMEPROF_SOURCE=perf at 4999 Hz (~20,000 samples: the binomial noise of
                     fa's share is 0.3 point): within 1 point of the truth; the
                     timer source's figure is printed beside it (not asserted: it is the tick).
  perf-fork-threads  perf source in a program that forks and has 300 threads: same output,
                     every thread sampled, fds capped (timers beyond), the child profiled.
  short-threads      100 threads of 10 ms each under wall mode (97 Hz): their wall periods
                     within 25% of their lives (they are armed as they start, not at a scan).
  runtimes           node, a JVM and CPython under wall mode: same output and status; strace
                     counts the system calls our signals interrupted (figures printed).
"""
import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402

WORKERS = ('sleep', 'pipe', 'mutex', 'cond', 'socket')


def truth_of(stdout):
    out = {}
    for line in stdout.splitlines():
        k, _, v = line.partition(' ')
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def run_waits(ck, a, wd, mode):
    prefix = wd.path(mode)
    env = {'FLAMEPROF_MODE': mode, 'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': prefix,
           'FLAMEPROF_FORMAT': 'folded,svg,pprof,speedscope,heatmap,timeline'}
    r = fptest.run([a.waits, '3'], lib=a.lib, env=env)
    ck.check(r.returncode == 0, f'{mode}: wl_waits exits 0', str(r.returncode))
    prof = fptest.load_profile(ck, prefix + '.folded', mode)
    if prof:
        ck.show(mode, prof)
        # 997 Hz on every thread: on a loaded machine the background thread can fall behind
        # and samples are dropped (counted): a few, not enough to move a share.
        fptest.check_summary(ck, r, prof, dropped=mode != 'wall')
        line = r.summaries()[0] if r.summaries() else ''
        m = re.search(r'dropped=\d+ \(weight (\d+)\)', line)
        lost = int(m.group(1)) if m else -1
        ck.check(0 <= lost <= prof.total / 100, f'{mode}: dropped weight <= 1% of the total',
                 f'{lost} of {prof.total}')
        ck.check(f'mode={mode}' in line, f'{mode}: summary says mode={mode}', line[:200])
    return r, prof, truth_of(r.stdout)


def test_waits_wall(ck, a, wd):
    r, prof, truth = run_waits(ck, a, wd, 'wall')
    if not prof:
        return
    print(f'nanosleep calls interrupted by our signals: {truth.get("eintr_nanosleep")}')
    schedstat = truth.get('schedstat') == 1
    if not schedstat:
        fptest.skip_banner('no /proc/thread-self/schedstat: the off-CPU bound is not checked')
    for w in WORKERS:
        th, burn, wait = f'thread_{w}', f'burn_{w}', f'wait_{w}'
        total = prof.inclusive(th)
        if not ck.check(total > 0, f'{th} sampled', str(total)):
            continue
        got = 100.0 * prof.inclusive(wait) / total
        want = 100.0 * truth[wait] / truth[th]
        ck.check(abs(got - want) <= 3.0, f'{wait}: share of {th} within 3 points',
                 f'profile {got:.1f}% vs measured {want:.1f}%')
        on_burn = prof.weight(lambda f, n=burn: n in f and f[-1] != '[off-cpu]')
        if prof.inclusive(burn) >= 50:
            share = 100.0 * on_burn / prof.inclusive(burn)
            ck.check(share >= 90, f'{burn}: >= 90% on CPU', f'{share:.1f}%')
        # A wait of fewer than 300 periods (10% of the thread: a load average past 30 here,
        # where the waits shrink into run-queue time) holds too few signals to resolve it.
        if prof.inclusive(wait) < 300 or not schedstat:
            continue
        # The kernel's split of the wait (wl_waits.c): blocked, or queued for a CPU. Off CPU is
        # blocked time plus the queue after a wake-up inside the call (README, "Wall-clock
        # mode"): at least the blocked share, which our own signals only lower (each wakes
        # the thread, which then queues for a CPU to take it).
        off_wait = prof.weight(lambda f, n=wait: n in f and f[-1] == '[off-cpu]')
        off = 100.0 * off_wait / prof.inclusive(wait)
        queued = 100.0 * truth[f'queued_{wait}'] / truth[wait]
        blocked = 100.0 - queued - 100.0 * truth[f'cpu_{wait}'] / truth[wait]
        print(f'FIGURES {wait}: [off-cpu] {off:.1f}% of its samples; the kernel: blocked '
              f'{blocked:.1f}%, queued for a CPU {queued:.1f}%')
        # Below 20% blocked (a load average past 25 here) the wait's few delivered signals
        # (each merges the periods the thread then queues) cannot resolve the share.
        if blocked >= 20:
            ck.check(off >= min(90.0, blocked) - 3.0,
                     f'{wait}: [off-cpu] >= min(90%, blocked share) - 3 points',
                     f'{off:.1f}% vs blocked {blocked:.1f}%')
    zero = prof.inclusive('zero_reads')
    if ck.check(zero >= 50, 'zero_reads (CPU work inside system calls) sampled', str(zero)):
        on = 100.0 * prof.weight(lambda f: 'zero_reads' in f and f[-1] != '[off-cpu]') / zero
        ck.check(on >= 90, 'zero_reads: >= 90% on CPU', f'{on:.1f}%')
    check_labels(ck, a, wd, 'wall', 'Wall-clock Flame Graph (flameprof)', 'wall-clock')


def check_labels(ck, a, wd, stem, svg_title, label):
    """Every output of run `stem` says its mode and source: the SVG title, pprof's sample type
    and comment, speedscope's profile name, the heatmap's title; and so does the profile
    `flameprof report` makes from the kept raw spill (its P record)."""
    svg = open(wd.path(stem + '.svg'), encoding='utf-8', errors='replace').read()
    ck.check(f'>{svg_title}<' in svg, f'{stem}: SVG title {svg_title!r}')
    pb = gzip.decompress(open(wd.path(stem + '.pb.gz'), 'rb').read())
    kind = b'wall' if label == 'wall-clock' else b'cpu'
    ck.check(bytes([len(kind)]) + kind in pb, f'{stem}: pprof sample type {kind.decode()}')
    comment = f'flameprof mode: {label}'.encode()
    ck.check(bytes([len(comment)]) + comment in pb, f'{stem}: pprof comment {comment.decode()!r}')
    ss = json.load(open(wd.path(stem + '.speedscope.json')))
    name = ss['profiles'][0]['name']
    ck.check(name.endswith(' ' + label), f'{stem}: speedscope profile name says {label!r}', name)
    heat = open(wd.path(stem + '.heatmap.html'), encoding='utf-8', errors='replace').read()
    ck.check(f'{label}</title>' in heat, f'{stem}: heatmap title says {label!r}')
    raw = wd.path(stem + '.raw')
    if not ck.check(os.path.exists(raw), f'{stem}: raw spill kept', raw):
        return
    out = wd.path(stem + '.again')
    r = fptest.run([a.tool, 'report', '-o', out, '--format', 'svg', raw])
    ck.check(r.returncode == 0, f'{stem}: flameprof report of the raw spill', r.stderr[-300:])
    if os.path.exists(out + '.svg'):
        svg = open(out + '.svg', encoding='utf-8', errors='replace').read()
        ck.check(f'>{svg_title}<' in svg, f'{stem}: the raw spill\'s report is titled {svg_title!r}')


def test_waits_cpu(ck, a, wd):
    r, prof, truth = run_waits(ck, a, wd, 'cpu')
    if not prof:
        return
    for w in WORKERS:
        th, burn = f'thread_{w}', f'burn_{w}'
        total = prof.inclusive(th)
        if ck.check(total > 0, f'{th} sampled', str(total)):
            share = 100.0 * prof.inclusive(burn) / total
            # The rest is the wait's own CPU time (the system call, the wake-up): 5-6% here.
            ck.check(share >= 90, f'cpu mode: {burn} >= 90% of {th}', f'{share:.1f}%')
    ck.check(not any('[off-cpu]' in f for f, _ in prof.stacks), 'cpu mode has no [off-cpu]')
    check_labels(ck, a, wd, 'cpu', 'CPU Flame Graph (flameprof, timer)', 'cpu, timer')


def share_fa(ck, a, wd, source):
    prefix = wd.path(source)
    r = fptest.run([a.alternate, '1.0'], lib=a.lib,
                   env={'FLAMEPROF_SOURCE': source, 'FLAMEPROF_OUT': prefix,
                        'FLAMEPROF_FREQ': '4999'})
    ck.check(r.returncode == 0, f'{source}: wl_alternate exits 0', str(r.returncode))
    prof = fptest.load_profile(ck, prefix + '.folded', source)
    if not prof:
        return None, None, r
    ck.show(source, prof)
    fptest.check_summary(ck, r, prof)
    fa, fb = prof.inclusive('fa'), prof.inclusive('fb')
    return 100.0 * fa / max(1, fa + fb), truth_of(r.stdout).get('share_fa'), r


def test_alternate_perf(ck, a, wd):
    got_t, want_t, _ = share_fa(ck, a, wd, 'timer')
    got_p, want_p, r = share_fa(ck, a, wd, 'perf')
    if got_p is None:
        return
    line = r.summaries()[0] if r.summaries() else ''
    if 'perf_event_open refused' in r.stderr:
        raise fptest.Skip('perf_event_open refused here: ' + r.notes()[0])
    ck.check('source=perf_event task-clock' in line, 'summary says source=perf_event', line[:300])
    title = 'CPU Flame Graph (flameprof, perf task-clock)'
    svg = open(wd.path('perf.svg'), encoding='utf-8', errors='replace').read()
    ck.check(f'>{title}<' in svg, f'perf: SVG title {title!r}')
    print(f'FIGURES: timer source fa {got_t:.2f}% vs truth {want_t:.2f}% '
          f'({abs(got_t - want_t):.2f} points off); perf source fa {got_p:.2f}% vs truth '
          f'{want_p:.2f}% ({abs(got_p - want_p):.2f} points off)')
    ck.check(abs(got_p - want_p) <= 1.0, 'perf source: fa within 1 point of the truth',
             f'{got_p:.2f}% vs {want_p:.2f}%')


def test_perf_fork_threads(ck, a, wd):
    src = wd.path('many.c')
    with open(src, 'w') as f:
        f.write(r'''
#include <pthread.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static volatile double sink;
static void burn(double s) { struct timespec t0, t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  double x = 1; do { for (int i = 0; i < 1000; i++) x = x * 1.0000001 + .5;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t); } while ((t.tv_sec - t0.tv_sec) +
  (t.tv_nsec - t0.tv_nsec) / 1e9 < s); sink = x; }
static pthread_barrier_t all_up, may_end;
static void *worker(void *p) { (void)p; burn(0.004); pthread_barrier_wait(&all_up);
  pthread_barrier_wait(&may_end); return NULL; }
int main(void) {
  pthread_t t[300];
  pthread_barrier_init(&all_up, NULL, 301); pthread_barrier_init(&may_end, NULL, 301);
  for (int i = 0; i < 300; i++) pthread_create(&t[i], NULL, worker, NULL);
  pthread_barrier_wait(&all_up); /* 301 threads alive: past the fd cap */
  pid_t c = fork();
  if (c == 0) { burn(0.3); puts("child done"); return 3; }
  int st; waitpid(c, &st, 0);
  pthread_barrier_wait(&may_end);
  for (int i = 0; i < 300; i++) pthread_join(t[i], NULL);
  burn(0.2);
  printf("child status %d\n", WEXITSTATUS(st));
  return 0; }
''')
    exe = wd.path('many')
    subprocess.run(['cc', '-O2', '-pthread', src, '-o', exe], check=True)
    r = fptest.run([exe], lib=a.lib, env={'FLAMEPROF_SOURCE': 'perf',
                                          'FLAMEPROF_OUT': wd.path('many.%p')})
    ck.check(r.returncode == 0, 'exits 0', str(r.returncode))
    ck.check(r.stdout == 'child done\nchild status 3\n', 'same output', repr(r.stdout))
    # 301 threads burning at once on this machine's two CPUs starve the drain thread now
    # and then: the ring fills and samples are dropped, counted and reported (what the
    # summary's dropped= is for, and not this test's subject: a hostile condition, as in
    # the faults suite). Failed once in ~40 runs asserting dropped=0 (dropped=20).
    sums = fptest.check_summary(ck, r, n=2, min_threads=1, dropped=False)
    if sums:
        ck.check(max(s['threads'] for s in sums) >= 300, 'every thread got a source',
                 str([s['threads'] for s in sums]))
        print(f"FIGURES: dropped {[s['dropped'] for s in sums]} of signals "
              f"{[s['signals'] for s in sums]}")
    text = ' '.join(r.summaries())
    ck.check('timer_create beyond the fd cap' in text, 'fd cap reached: timers beyond it',
             text[:400])


def test_short_threads(ck, a, wd):
    src = wd.path('short.c')
    with open(src, 'w') as f:
        f.write(r'''
#include <pthread.h>
#include <stdio.h>
#include <time.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9; }
static double lives;
__attribute__((noinline)) static void *short_life(void *p) { (void)p; double t0 = now();
  struct timespec ts = { 0, 10000000 }; while (nanosleep(&ts, &ts)) ;
  lives += now() - t0; return NULL; }
int main(void) { for (int i = 0; i < 100; i++) { pthread_t t;
  pthread_create(&t, NULL, short_life, NULL); pthread_join(t, NULL); }
  printf("lives %.6f\n", lives); return 0; }
''')
    exe = wd.path('short')
    subprocess.run(['cc', '-O2', '-pthread', src, '-o', exe], check=True)
    prefix = wd.path('short')
    r = fptest.run([exe], lib=a.lib, env={'FLAMEPROF_MODE': 'wall', 'FLAMEPROF_OUT': prefix})
    ck.check(r.returncode == 0, 'exits 0', str(r.returncode))
    prof = fptest.load_profile(ck, prefix + '.folded', 'short')
    if not prof:
        return
    fptest.check_summary(ck, r, prof, min_threads=101)
    # Each thread lives 10 ms, a scan of /proc/self/task comes every 82 ms: only threads
    # armed as they start (ticker_add_self) are sampled. 97 Hz x their summed lives, within
    # 25% (each thread's first period starts at one of 16 phases).
    want = 97 * truth_of(r.stdout)['lives']
    got = prof.inclusive('short_life')
    ck.check(abs(got - want) <= 0.25 * want, '100 threads of 10 ms: their wall periods',
             f'{got} vs {want:.0f}')


RUNTIMES = {
    'c': None,
    'node': (['node', '-e', 'const t=Date.now(); let n=0; const iv=setInterval(()=>{n++;'
              'if(Date.now()-t>1500){clearInterval(iv); console.log("node ok", n>10)}},5);'
              'require("child_process").execFileSync("sleep",["0.2"]);'
              'setTimeout(()=>{},300)'], 'node ok true\n'),
    'python3': (['python3', '-c', 'import time,threading,socket,select\n'
                 'a,b=socket.socketpair()\n'
                 'def w():\n time.sleep(0.5); b.send(b"x")\n'
                 'threading.Thread(target=w).start()\n'
                 'select.select([a],[],[],5); print("py ok", a.recv(1))\n'
                 'time.sleep(0.5)\n'], "py ok b'x'\n"),
}


def java_prog(wd):
    src = wd.path('Idle.java')
    with open(src, 'w') as f:
        f.write('public class Idle { public static void main(String[] a) throws Exception {'
                ' Thread[] t = new Thread[20]; for (int i = 0; i < 20; i++) {'
                ' t[i] = new Thread(() -> { try { Thread.sleep(1000); } catch (Exception e)'
                ' { throw new RuntimeException(e); } }); t[i].start(); }'
                ' long s = 0; for (int i = 0; i < 50_000_000; i++) s += i % 7;'
                ' for (Thread x : t) x.join(); System.out.println("java ok " + (s > 0)); } }\n')
    return src


def eintr_counts(trace):
    """{'call:ERESTART...' or 'call:EINTR': count} from an strace -f log (calls that return
    at once, and `<... call resumed>` halves)."""
    counts = {}
    pat = re.compile(r'(?:<\.\.\. )?(\w+)(?:\(| resumed>).*= (?:\? (ERESTART\w+)|-1 (EINTR))')
    for line in open(trace, errors='replace'):
        m = pat.search(line)
        if m:
            key = f'{m.group(1)}:{m.group(2) or m.group(3)}'
            counts[key] = counts.get(key, 0) + 1
    return counts


def test_runtimes(ck, a, wd):
    strace = shutil.which('strace')
    cases = []
    if shutil.which('node'):
        cases.append(('node',) + RUNTIMES['node'])
    if shutil.which('python3'):
        cases.append(('python3',) + RUNTIMES['python3'])
    if shutil.which('java'):
        cases.append(('java', ['java', java_prog(wd)], 'java ok true\n'))
    if len(cases) < 3:
        raise fptest.Skip(f'node, python3 and java wanted; have {[c[0] for c in cases]}')
    for name, argv, want in cases:
        prefix = wd.path(name)
        env = {'FLAMEPROF_MODE': 'wall', 'FLAMEPROF_OUT': prefix}
        r = fptest.run(argv, lib=a.lib, env=env, timeout=120)
        ck.check(r.returncode == 0 and r.stdout == want, f'{name}: same output and status',
                 f'{r.returncode} {r.stdout!r}')
        errors = [ln for ln in r.stderr.splitlines() if 'rror' in ln or 'xception' in ln]
        ck.check(not errors, f'{name}: no errors on stderr', str(errors[:3]))
        fptest.check_summary(ck, r, what=name, n=len(r.summaries()) or 1,
                             dropped=name != 'java')
        if strace:
            trace = wd.path(name + '.strace')
            # The library in the traced program only (strace -E), not in strace: wall mode's
            # signals end a bare pause() (as any handled signal does), and strace's own
            # PTRACE_SEIZE probe waits in a child with one pause().
            sets = [f'{k}={v}' for k, v in dict(env, LD_PRELOAD=a.lib).items()]
            r2 = fptest.run([strace, '-f', '-qq', '-o', trace,
                             '-e', 'trace=!rt_sigprocmask,rt_sigreturn,rt_tgsigqueueinfo'] +
                            [x for kv in sets for x in ('-E', kv)] + argv, timeout=120)
            ck.check(r2.returncode == 0 and r2.stdout == want, f'{name} under strace: same',
                     f'{r2.returncode} {r2.stdout!r}')
            print(f'FIGURES {name}: interrupted system calls: {eintr_counts(trace)}')


TESTS = {'waits-wall': test_waits_wall, 'waits-cpu': test_waits_cpu,
         'alternate-perf': test_alternate_perf, 'short-threads': test_short_threads, 'perf-fork-threads': test_perf_fork_threads,
         'runtimes': test_runtimes}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('test', choices=sorted(TESTS))
    p.add_argument('--lib', required=True)
    p.add_argument('--waits', required=True)
    p.add_argument('--alternate', required=True)
    p.add_argument('--tool', required=True)
    a = p.parse_args()
    fptest.set_budget(170)
    ck = fptest.Checks(a.test)
    wd = fptest.Workdir('wall')
    return fptest.run_test(ck, TESTS[a.test], ck, a, wd, cleanup=wd.cleanup)


if __name__ == '__main__':
    sys.exit(main())
