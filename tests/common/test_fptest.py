#!/usr/bin/env python3
"""test_fptest.py - the test library's own checks: what every harness relies on.

The folded reader keeps raw bytes apart and flags bad lines; the summary parser reads the line
core/report.c prints; check_summary fails on dropped samples, a second line, a wrong weight;
run reports status, output, signals and hangs; a Skip is exit 77 and a Skip after a failure is
a failure. Exit 0 when all hold.
"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402

SUMMARY = ('flameprof: pid 42: weight=7 signals=5 threads=2 dropped=0 (weight 0) lost=1 '
           'stacks=3 handler median=4.25us p99=10.23us report=45ms freq=997Hz '
           'source=timer_create(CLOCK_THREAD_CPUTIME_ID) per thread, overrun-weighted; '
           'wrote /t/p.42.folded /t/p.42.svg')


def fake_run(stderr):
    return fptest.Run(['x'], 42, 0, b'', stderr.encode(), 0.0, 0.0, False)


def test_profile(ck, d):
    path = os.path.join(d, 'p.folded')
    with open(path, 'wb') as f:
        f.write(b'_start;main;caf\xc3\xa9 3\n_start;main;jit\xff_[j] 2\nno count\n'
                b'_start;a b;c 2\n\n_start;zero 0\n')
    p = fptest.Profile(path)
    ck.check(p.total == 7 and len(p.stacks) == 3, 'three good stacks, weight 7',
             f'{p.stacks}')
    ck.check([n for n, _ in p.bad_lines] == [3, 6], 'bad lines 3 (no count) and 6 (count 0)',
             f'{p.bad_lines}')
    ck.check(p.inclusive('café') == 3, 'UTF-8 names read as their characters')
    raw = fptest.decode(b'jit\xff_[j]')
    ck.check(p.inclusive(raw) == 2 and raw.encode('utf-8', 'surrogateescape') == b'jit\xff_[j]',
             'a raw byte reads as one reversible surrogate', repr(raw))
    ck.check(p.inclusive('a b') == 2, 'a name with a space stays one frame')
    ck.check(fptest.stack_text(('r',) + ('f',) * 100 + ('leaf',)) == 'r;f x100;leaf',
             'runs are compressed')
    long_stack = tuple(f'frame_number_{i}' for i in range(100))
    text = fptest.stack_text(long_stack, 120)
    ck.check(text.startswith('frame_number_0;...(') and text.endswith('frame_number_99')
             and len(text) < 160, 'a long stack keeps its root and its leaf end', text)


def test_summary(ck):
    s = fptest.parse_summary(SUMMARY)
    want = {'pid': 42, 'weight': 7, 'signals': 5, 'threads': 2, 'dropped': 0,
            'dropped_weight': 0, 'lost': 1, 'stacks': 3, 'median_us': 4.25, 'p99_us': 10.23,
            'report_ms': 45.0, 'freq': 997, 'paths': ['/t/p.42.folded', '/t/p.42.svg'],
            'own_handler': False}
    got = {k: s.get(k) for k in want}
    ck.check(got == want, 'the summary line parsed field by field', f'{got}')
    ck.check(fake_run('noise\n' + SUMMARY + '\n').summaries() == [SUMMARY],
             'Run.summaries finds the line among others')

    class Prof:
        total = 7
    inner = fptest.Checks('inner', quiet=True)
    fptest.check_summary(inner, fake_run(SUMMARY), Prof, ('/t/p.42.folded', '/t/p.42.svg'),
                         min_threads=2)
    ck.check(not inner.failed, 'a good line passes check_summary', f'{inner.failed}')
    for label, stderr, total in (
            ('dropped=1', SUMMARY.replace('dropped=0', 'dropped=1'), 7),
            ('two lines', SUMMARY + '\n' + SUMMARY, 7),
            ('weight differs from the profile', SUMMARY, 8),
            ('no signals', SUMMARY.replace('signals=5', 'signals=0'), 7)):
        Prof.total = total
        inner = fptest.Checks('inner', quiet=True)
        print(f'(expected to fail: {label})')
        fptest.check_summary(inner, fake_run(stderr), Prof)
        ck.check(bool(inner.failed), f'check_summary fails on {label}')


def test_run(ck, d):
    r = fptest.run(['sh', '-c', 'printf "out\\377"; echo err >&2; exit 3'], echo=False)
    ck.check((r.returncode, r.stdout, r.stderr) == (3, fptest.decode(b'out\xff'), 'err\n'),
             'status and output', f'{r.returncode} {r.stdout!r} {r.stderr!r}')
    r = fptest.run(['sh', '-c', 'kill -TERM $$'], echo=False)
    ck.check(r.returncode == -signal.SIGTERM, 'death by a signal is -signo', f'{r.returncode}')
    r = fptest.run(['sleep', '30'], timeout=0.5, echo=False)
    ck.check(r.timed_out and r.returncode == -signal.SIGKILL and r.wall < 10,
             'a hang is killed at its time limit', f'{r.returncode} {r.wall:.1f}s')
    os.environ['FLAMEPROF_FREQ'] = '5'
    r = fptest.run(['sh', '-c', 'echo "[$FLAMEPROF_FREQ][$LD_PRELOAD][$X]"'], env={'X': b'\xff'},
                   echo=False)
    del os.environ['FLAMEPROF_FREQ']
    ck.check(r.out == b'[][][\xff]\n', 'the caller\'s FLAMEPROF_* never leak; bytes values pass',
             repr(r.out))
    r = fptest.run(['cat'], stdin=b'x' * 200000, echo=False)
    ck.check(len(r.out) == 200000, 'stdin is fed whole', f'{len(r.out)}')


def test_run_test(ck):
    def skipping(inner):
        raise fptest.Skip('no such runtime')

    def failing_then_skipping(inner):
        inner.check(False, 'a failed check')
        raise fptest.Skip('no such runtime')

    def crashing(inner):
        raise KeyError('oops')
    for fn, want in ((skipping, fptest.SKIP), (failing_then_skipping, 1), (crashing, 1)):
        inner = fptest.Checks(fn.__name__)
        print(f'(expected: exit {want})')
        rc = fptest.run_test(inner, fn, inner)
        ck.check(rc == want, f'run_test: {fn.__name__} -> {want}', f'{rc}')


def main():
    ck = fptest.Checks('fptest')
    d = fptest.Workdir('fptest')
    rc = fptest.run_test(ck, lambda: (test_profile(ck, d.tmp), test_summary(ck),
                                      test_run(ck, d.tmp), test_run_test(ck)),
                         cleanup=d.cleanup)
    sys.exit(rc)


if __name__ == '__main__':
    main()
