"""Workloads for tests/python/python.py. usage: python3.X wl.py MODE TRUTH.json

main     leaf_a/leaf_b/leaf_c round-robin (~1:2:3 of CPU, measured with time.thread_time()),
         then a 100-deep recursion `rec` whose bottom burns in rec_bottom, then json, re and
         zlib called from py_json/py_re/py_zlib (C extension frames between Python frames).
threads  three threading.Thread workers (t_one, t_two, t_three, each named) and one thread
         created by C (pthread_create through ctypes) that calls back into Python (c_cb).
churn    defines, runs and frees function pairs outer_K -> inner_K (exec) for
         $WL_CHURN_SECONDS (default 1) of CPU, ~7000 a second, so code objects are freed and
         their memory reused while sampling.
faults   a forked child that burns in child_work, then daemon threads still burning in
         daemon_work while the interpreter shuts down.
gil      two threads at once: gil_burn burns in pure Python (holding the GIL), gil_hash
         hashes a 4 MB buffer with hashlib.sha256 (which releases the GIL while it hashes),
         for 1 s and 0.5 s of their own CPU (time.thread_time; a 2:1 split, so that a bit
         set at random reads 50%, not the truth's 67%).
spill    burns in spill_work for 2.5 s of CPU, then kills itself (SIGKILL): only the raw
         spill is left.
Prints a fixed text (the harness compares it with a run without the profiler).
"""
import json
import os
import sys
import threading
import time


def burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def leaf_a(n):
    return burn(n)


def leaf_b(n):
    return burn(n)


def leaf_c(n):
    return burn(n)


def rec_bottom(n):
    return burn(n)


def rec(d, n):
    if d == 0:
        return rec_bottom(n)
    return rec(d - 1, n) + 1


def py_json():
    data = [{'k': list(range(50)), 's': 'x' * 40}] * 40
    for _ in range(20):
        json.loads(json.dumps(data))


def cb_repl(m):
    burn(200)
    return 'b'


def py_re():
    import re
    text = 'ab' * 300 + 'c'
    for _ in range(30):
        re.findall(r'(a|b)+c', text)
    re.sub('a', cb_repl, text)  # C (_sre) calling back into Python


def py_zlib():
    import zlib
    zlib.compress(os.urandom(20000) * 10, 9)


def timed(cpu, f, *args):
    t0 = time.thread_time()
    f(*args)
    cpu[f.__name__] = cpu.get(f.__name__, 0.0) + time.thread_time() - t0


def main_mode(truth):
    import random
    cpu = {}
    rnd = random.Random(7)
    # Slices of random length in a shuffled order: nothing periodic for the 4 ms timer
    # ticks to alias with. The timers fire on 250 Hz ticks, so a share is a count of ~250
    # signals a CPU-second: 2.5 s gave sigma ~2 pt on leaf_c (measured over 11 runs: mean
    # diff +0.2, sd 1.9; leaf_a/leaf_b sd 1.6/1.5; no bias), and the 5-point bound failed
    # in ~1 run of 7 across versions. 6 s: sigma ~1.3 pt, 5 pt ~ 3.9 sigma.
    end = time.thread_time() + 6.0
    while time.thread_time() < end:
        order = [(leaf_a, 1), (leaf_b, 2), (leaf_c, 3)]
        rnd.shuffle(order)
        for f, k in order:
            timed(cpu, f, rnd.randint(10000, 30000) * k)
    for _ in range(40):
        rec(100, 20000)
    end = time.thread_time() + 0.6
    while time.thread_time() < end:
        py_json()
        py_re()
        py_zlib()
    truth['functions'] = cpu


def t_one():
    burn(4000000)


def t_two():
    burn(4000000)


def t_three():
    burn(4000000)


def c_cb():
    burn(4000000)
    return 0


def threads_mode(truth):
    import ctypes
    ts = [threading.Thread(target=f, name=f'worker-{f.__name__}') for f in (t_one, t_two, t_three)]
    for t in ts:
        t.start()
    # The main thread works too (its own name, its <module> frame, its tid), not only joins:
    # 0.1 s of its CPU, measured on its clock.
    end = time.thread_time() + 0.1
    while time.thread_time() < end:
        burn(20000)
    libc = ctypes.CDLL(None)
    CB = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p)
    cb = CB(lambda arg: c_cb())
    tid = ctypes.c_ulong()
    rc = libc.pthread_create(ctypes.byref(tid), None, cb, None)
    if rc == 0:
        libc.pthread_join(tid, None)
    for t in ts:
        t.join()
    truth['c_thread'] = rc == 0


# Read at import: os.environ.get is Python code (Mapping.get), which a sample under
# churn_mode would show as a frame that is neither a churn function nor burn.
CHURN_SECONDS = float(os.environ.get('WL_CHURN_SECONDS', '1.0'))


def churn_mode(truth):
    n = 0
    end = time.thread_time() + CHURN_SECONDS
    while time.thread_time() < end or n < 300:
        src = (f'def inner_{n}():\n    return burn(3000)\n'
               f'def outer_{n}():\n    return inner_{n}()\n')
        ns = {'burn': burn}
        exec(compile(src, f'<churn {n}>', 'exec'), ns)
        ns[f'outer_{n}']()
        del ns
        n += 1
    truth['defined'] = n


def child_work():
    burn(4000000)


def daemon_work():
    while True:
        burn(100000)


def faults_mode(truth):
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        child_work()
        sys.exit(0)  # a normal exit: the child writes its profile
    _, status = os.waitpid(pid, 0)
    truth['child_status'] = status
    for _ in range(2):
        threading.Thread(target=daemon_work, daemon=True).start()
    burn(300000)


def gil_burn(cpu):
    end = time.thread_time() + 1.0
    while time.thread_time() < end:
        burn(20000)
    cpu['gil_burn'] = time.thread_time()


def gil_hash(cpu):
    import hashlib
    data = b'x' * (4 << 20)
    end = time.thread_time() + 0.5
    while time.thread_time() < end:
        hashlib.sha256(data).digest()
    cpu['gil_hash'] = time.thread_time()


def gil_mode(truth):
    cpu = {}
    ts = [threading.Thread(target=f, args=(cpu,), name=f.__name__) for f in (gil_burn, gil_hash)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    truth['cpu'] = cpu


def spill_work():
    burn(200000)


def spill_mode(truth):
    import signal
    end = time.thread_time() + 2.5  # the raw spill is written once a second
    while time.thread_time() < end:
        spill_work()
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)  # no profile at exit: only the raw spill


def main():
    mode, truth_path = sys.argv[1], sys.argv[2]
    truth = {'version': sys.version, 'mode': mode}
    {'main': main_mode, 'threads': threads_mode, 'churn': churn_mode,
     'faults': faults_mode, 'spill': spill_mode, 'gil': gil_mode}[mode](truth)
    with open(truth_path, 'w') as f:
        json.dump(truth, f)
    print(f'wl {mode} done')


main()
