"""Python workload for tests/jit/jit.py. usage: python3.12 hot.py TRUTH.json

Runs leaf_a/leaf_b/leaf_c in short slices, round-robin in a shuffled order (~1:2:3), then a
100-deep recursion `rec` with the work in `rec_bottom`. CPU time of each part is measured
with time.thread_time() (this thread's CPU clock) and written to TRUTH.json, with whether
CPython's perf trampoline was active (it must be, without -X perf: the profiler sets
PYTHONPERFSUPPORT=1).
"""
import json
import os
import random
import sys
import time


def leaf_a(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def leaf_b(n):
    s = 1.0
    for i in range(n):
        s = (s * 1.0000001 + i) % 1e9
    return s


def leaf_c(n):
    s = 0
    for i in range(n):
        s += (i ^ (i >> 3)) & 0xff
    return s


def rec_bottom(n):
    s = 0
    for i in range(n):
        s += i % 7
    return s


def rec(d, n):
    if d == 0:
        return rec_bottom(n)
    return rec(d - 1, n) + 1


def slice_iterations(f, target_s, cpu):
    """Iterations for a slice of target_s; the time spent finding out is f's too."""
    it = 1000
    while True:
        t0 = time.thread_time()
        f(it)
        d = time.thread_time() - t0
        cpu[f.__name__] += d
        if d > 0.02:
            return max(1, int(it * target_s / d))
        it *= 2


def main():
    truth_path = sys.argv[1]
    fns = [leaf_a, leaf_b, leaf_c]
    mult = [1, 2, 3]
    cpu = {f.__name__: 0.0 for f in fns}
    n = [slice_iterations(f, 0.003, cpu) * m for f, m in zip(fns, mult)]
    order = [0, 1, 2]
    start = time.thread_time()
    while time.thread_time() - start < 1.8:
        random.shuffle(order)
        for k in order:
            t0 = time.thread_time()
            fns[k](n[k])
            cpu[fns[k].__name__] += time.thread_time() - t0
    depth = 100
    t0 = time.thread_time()
    calls = 0
    while time.thread_time() - t0 < 0.7:
        rec(depth, 20000)
        calls += 1
    cpu['rec'] = time.thread_time() - t0
    truth = {
        'pid': os.getpid(),
        'functions': cpu,
        'depth': depth,
        'calls': calls,
        'trampoline_active': sys.is_stack_trampoline_active(),
        'xoptions': dict(sys._xoptions),
        'PYTHONPERFSUPPORT': os.environ.get('PYTHONPERFSUPPORT'),
        'version': sys.version,
    }
    with open(truth_path, 'w') as f:
        json.dump(truth, f)


if __name__ == '__main__':
    main()
