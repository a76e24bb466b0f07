#!/usr/bin/env python3
"""Whole-process overhead of libflameprof on short and real programs (figures, not a test).

Each target runs in every mode, interleaved and rotated (A B C, B C A, ...), and is reported
as medians of CPU (user+sys of the process and everything it waited for, from wait4), wall
and peak RSS, each as a ratio against the same program without the library. The machine is
shared: the load average is printed with the figures.

Targets (a missing runtime is skipped, loudly):
  small      a native program of ~0.3 s CPU (snprintf/sqrt in libc): exit report and start-up
  true       /bin/true: start-up alone (it never gets a sample)
  loop200    a shell running 200 short processes, half /bin/true, half getting samples
  node       node on a JSON/regex script
  node0      node -e 0: node's start-up (its 4e5-row unwind table) and exit
  python0    PYTHON -c pass (--python: Debian's python3 by default, not the first python3 on
             PATH, which may be a shim running ~25 short processes: pyenv's)
  chromium   chromium --headless --dump-dom of a page running JavaScript for 2 s, sandbox
             off (CPU: the browser and the children it waited for)
  chromiumshot  the same page, --screenshot instead of --dump-dom
  rawclone   tests/clone's workload: 1,000 children made by a raw clone system call, each
             exec'ing /bin/true without the library (what a zygote's parent pays; issue 17's
             loop), from BUILD/tests/clone/test_clone
  rawclone100  the same, 100 children that load the library themselves (exec inherits it)
  tsc        node running TypeScript's compiler: `node tsc.js --noEmit typescript.d.ts` (the
             typescript package: --typescript DIR, else npm installs it into the work dir)
  javac      javac on a generated Java file of ~400 lines (200 methods)
  python     Debian's python3 on a stdlib-heavy script (bench_python.py's workload)
  make       `make -B -j2` compiling this project's core/ and output/ sources (30 files, gcc
             -O2 -c): a build, ~100 short processes (driver, cc1, as), the library inherited
             by all of them, as a user preloading it into a build would have it
Modes:
  none       without the library
  warm       the library, caches warm ($XDG_CACHE_HOME/flameprof: unwind tables and
             symbols, filled before the first pair)
  cold       the library, FLAMEPROF_SYMCACHE=0 (every process builds its unwind tables and
             opens the DWARF it needs)
  record     `flameprof record CMD`: one profile for the whole tree (what a user profiling
             a build runs; the library comes from the command)
  perf       `perf record -F 997 -g` (root only), for reference
  bwarm,bcold  warm and cold with the library of --baseline BUILD (e.g. main's build): the
             before/after of a change in one interleaved run
  flags      no library, but the flags it gives node (NODE_OPTIONS=--perf-basic-prof
             --interpreted-frames-native-stack): V8's own share of the cost
With the library, the handler's median and p99 (the summary line of the process with the
most samples) are printed too, as medians over the runs.

RSS: the peak (wait4's maxrss, which also catches the exit report's brief peak) and, from
VmRSS polled every 20 ms, "over run": the largest RSS added at any point of the run, each
run's curve compared with the run without the library of its pair at the same fraction of
its CPU time (5% steps: CPU time, unlike wall time, is the program's progress whatever the
load), and "end": the last VmRSS polled before the process was gone. "Over run" is an upper
bound: two runs grow their heaps at slightly different points, and the largest difference
catches those steps (node/tsc with V8's flags alone: +5.6 MB peak, +8 to +17 MB over run).

Figures are medians over the pairs of each mode's ratio to the run without the library
just before or after it (pairs are interleaved, so a load spike hits both sides).

    python3 tools/bench_overhead.py --build build [--pairs 5] [--targets small,true,loop200]
        [--baseline ../main/build] [--modes none,warm,cold,bwarm,bcold]
    python3 tools/bench_overhead.py --targets tsc,javac,python --modes none,flags,warm,bwarm \
        --baseline ../main/build
"""
import argparse
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "common"))
import fptest  # noqa: E402  clean environment, the summary line's parser
from bench_python import WORKLOAD as PYTHON_WORKLOAD  # noqa: E402

SMALL_C = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000000;
    double s = 0;
    char buf[64];
    for (long i = 0; i < n; i++) {
        snprintf(buf, sizeof buf, "%ld", i);
        s += strlen(buf) + sqrt((double)i);
    }
    printf("%f\n", s);
    return 0;
}
"""

NODE_JS = r"""
let o = [];
for (let i = 0; i < 200000; i++) o.push({id: i, name: 'item' + i, tags: ['a', 'b', String(i % 7)]});
let t = 0;
for (let k = 0; k < 6; k++) {
  const s = JSON.stringify(o);
  t += JSON.parse(s).length + (s.match(/item1\d+/g) || []).length;
}
console.log(t);
"""


_runs = [0]

CHROMIUM_PAGE = """<html><body><h1 id=t>start</h1><script>
function leaf(n) { let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i) * Math.sin(i); return s; }
function busy(ms) { const end = Date.now() + ms; let s = 0; while (Date.now() < end) s += leaf(10000); return s; }
document.getElementById('t').textContent = 'done ' + (busy(2000) > 0);
</script></body></html>
"""


def java_source(methods=200):
    """A compilation unit of about 2 lines a method: generics, lambdas, string switch."""
    out = ["import java.util.*;", "import java.util.function.*;", "public class Big {"]
    for i in range(methods):
        out.append(f"  static <T extends Comparable<T>> List<T> m{i}(List<T> xs, Function<T, T> f) "
                   f"{{ List<T> r = new ArrayList<>(); for (T x : xs) {{ switch (String.valueOf(x)) "
                   f"{{ case \"a{i}\": r.add(f.apply(x)); break; default: r.add(x); }} }} "
                   f"r.sort(Comparator.naturalOrder()); return r; }}")
    out.append("  public static void main(String[] a) { System.out.println(m0(List.of(\"x\"), s -> s)); }")
    out.append("}")
    return "\n".join(out) + "\n"


def typescript_dir(a, work):
    """The typescript package: --typescript, else installed with npm into the work dir."""
    if a.typescript:
        return a.typescript
    if not shutil.which("npm"):
        return None
    r = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix",
                        work, "typescript@5"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    d = os.path.join(work, "node_modules", "typescript")
    return d if r.returncode == 0 and os.path.isdir(d) else None


def poll_rss(pid, out, stop):
    """VmRSS (MB) of pid every 20 ms, as (CPU seconds it has used, MB), until it is gone."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fd = os.open(f"/proc/{pid}/status", os.O_RDONLY)
        sfd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
    except OSError:
        return
    try:
        while not stop.is_set():
            try:
                text = os.pread(fd, 4096, 0).decode(errors="replace")
                stat = os.pread(sfd, 4096, 0).decode(errors="replace")
            except OSError:
                break
            kb = [int(ln.split()[1]) for ln in text.splitlines() if ln.startswith("VmRSS:")]
            if not kb:  # a zombie: the memory is gone
                break
            f = stat.rpartition(")")[2].split()  # utime, stime: fields 14, 15
            out.append(((int(f[11]) + int(f[12])) / tick, kb[0] / 1024.0))
            stop.wait(0.02)
    finally:
        os.close(fd)
        os.close(sfd)


def rss_at(curve, frac):
    """The polled RSS at fraction frac of the run's CPU time (the last poll before it)."""
    if not curve:
        return 0.0
    t = curve[-1][0] * frac
    best = curve[0][1]
    for ts, mb in curve:
        if ts > t:
            break
        best = mb
    return best


def run(cmd, env, cwd):
    _runs[0] += 1  # "{n}" in an argument: a fresh name every run (Chromium's profile dir)
    cmd = [c.replace("{n}", str(_runs[0])) for c in cmd]
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    curve, stop = [], threading.Event()
    poller = threading.Thread(target=poll_rss, args=(p.pid, curve, stop), daemon=True)
    poller.start()
    err = p.stderr.read().decode(errors="replace")
    stop.set()  # stderr closed: the process is exiting; the poller sees it end
    poller.join()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.stderr.close()
    if "--perf-basic-prof" in env.get("NODE_OPTIONS", ""):  # mode flags: the map V8 left
        try:
            os.unlink(f"/tmp/perf-{p.pid}.map")
        except OSError:
            pass
    if status != 0 and not (cmd[-1].endswith("typescript.d.ts") and os.WEXITSTATUS(status) == 2):
        # (tsc exits 2 on typescript.d.ts without --lib: type errors, the same in every mode)
        sys.exit(f"bench: {cmd} failed ({status}): {err[-2000:]}")
    return ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss / 1024.0, err, curve


def summaries(err):
    return [fptest.parse_summary(ln) for ln in err.splitlines() if fptest.is_summary(ln)]


def make_file(work):
    """A Makefile compiling this project's core/ and output/ sources into work/objs."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    srcs = sorted(glob.glob(os.path.join(root, "core", "*.c")) +
                  glob.glob(os.path.join(root, "output", "*.c")))
    objs = os.path.join(work, "objs")
    os.makedirs(objs, exist_ok=True)
    incs = " ".join(f"-I{os.path.join(root, d)}" for d in
                    ("core", "output", "util", "unwind", "symbolize", "input"))
    rules = [f"all: {' '.join(os.path.join(objs, os.path.basename(c)[:-2] + '.o') for c in srcs)}"]
    for c in srcs:
        o = os.path.join(objs, os.path.basename(c)[:-2] + ".o")
        rules.append(f"{o}: {c}\n\tcc -O2 -std=c11 -D_GNU_SOURCE {incs} -c {c} -o {o}")
    mk = os.path.join(work, "Makefile.bench")
    with open(mk, "w") as f:
        f.write("\n".join(rules) + "\n")
    return mk


def targets(a, work):
    small = os.path.join(work, "small")
    src = small + ".c"
    with open(src, "w") as f:
        f.write(SMALL_C)
    subprocess.run(["cc", "-O2", "-o", small, src, "-lm"], check=True)
    # "small 40000": ~4 ms of CPU, a few samples, like one short compiler pass.
    loop = f"for i in $(seq 100); do /bin/true; {small} 40000 >/dev/null; done"
    t = {
        "small": [small, "3000000"],
        "true": ["/bin/true"],
        "loop200": ["/bin/sh", "-c", loop],
    }
    if shutil.which("node"):
        js = os.path.join(work, "w.js")
        with open(js, "w") as f:
            f.write(NODE_JS)
        t["node"] = ["node", js]
        t["node0"] = ["node", "-e", "0"]
        ts = typescript_dir(a, work) if "tsc" in a.targets else None
        if ts:
            dts = os.path.join(work, "typescript.d.ts")
            shutil.copy(os.path.join(ts, "lib", "typescript.d.ts"), dts)
            t["tsc"] = ["node", os.path.join(ts, "lib", "tsc.js"), "--noEmit", dts]
        elif "tsc" in a.targets:
            print("bench: SKIP tsc: no typescript package (--typescript DIR, or npm)")
    else:
        print("bench: SKIP node, tsc: no node on PATH")
    if shutil.which("javac"):
        src = os.path.join(work, "Big.java")
        with open(src, "w") as f:
            f.write(java_source())
        os.makedirs(os.path.join(work, "classes"), exist_ok=True)
        t["javac"] = ["javac", "-d", os.path.join(work, "classes"), src]
    elif "javac" in a.targets:
        print("bench: SKIP javac: no javac on PATH")
    if os.path.exists(a.python):
        py = os.path.join(work, "stdlib.py")
        with open(py, "w") as f:
            f.write(PYTHON_WORKLOAD)
        t["python"] = [a.python, py]
    elif "python" in a.targets:
        print(f"bench: SKIP python: no {a.python}")
    t["python0"] = [a.python, "-c", "pass"]
    if shutil.which("make") and shutil.which("cc"):
        t["make"] = ["make", "-B", "-j2", "-s", "-f", make_file(work)]
    clone = os.path.join(a.build, "tests", "clone", "test_clone")
    if os.access(clone, os.X_OK):
        t["rawclone"] = [os.path.abspath(clone), "execbare", "1000"]
        t["rawclone100"] = [os.path.abspath(clone), "exec", "100"]
    elif any(x.startswith("rawclone") for x in a.targets):
        print(f"bench: SKIP rawclone: no {clone} (ninja -C {a.build})")
    if shutil.which("chromium"):
        page = os.path.join(work, "page.html")
        with open(page, "w") as f:
            f.write(CHROMIUM_PAGE)
        t["chromium"] = ["chromium", "--headless", "--disable-gpu", "--no-first-run",
                         "--no-sandbox", f"--user-data-dir={work}/chromium-{{n}}",
                         "--dump-dom", page]
        t["chromiumshot"] = t["chromium"][:-2] + [f"--screenshot={work}/shot-{{n}}.png", page]
    elif "chromium" in a.targets:
        print("bench: SKIP chromium: not installed")
    return {k: v for k, v in t.items() if k in a.targets}


def modes(a, lib, work):
    base = fptest.clean_env(env={"XDG_CACHE_HOME": os.path.join(work, "cache"),
                                 "HOME": work})
    prof = dict(base, LD_PRELOAD=lib, FLAMEPROF_OUT=os.path.join(work, "out", "p.%p"))
    m = {"none": (base, None), "warm": (prof, None),
         "cold": (dict(prof, FLAMEPROF_SYMCACHE="0"), None)}
    if a.baseline:
        blib = os.path.abspath(os.path.join(a.baseline, "preload", "libflameprof.so"))
        bprof = dict(prof, LD_PRELOAD=blib, XDG_CACHE_HOME=os.path.join(work, "bcache"))
        m["bwarm"] = (bprof, None)
        m["bcold"] = (dict(bprof, FLAMEPROF_SYMCACHE="0"), None)
    m["flags"] = (dict(base, NODE_OPTIONS="--perf-basic-prof --interpreted-frames-native-stack"),
                  None)
    tool = os.path.abspath(os.path.join(a.build, "tools", "flameprof"))
    m["record"] = (dict(base, FLAMEPROF_QUIET="1"),
                   [tool, "record", "-o", os.path.join(work, "out", "rec"), "--"])
    if os.geteuid() == 0 and shutil.which("perf") and "perf" in a.modes:
        m["perf"] = (base, ["perf", "record", "-q", "-F", "997", "-g", "-o",
                            os.path.join(work, "perf.data"), "--"])
    return {k: v for k, v in m.items() if k in a.modes or k == "none"}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--targets", default="small,true,loop200,node")
    ap.add_argument("--modes", default="none,warm,cold,perf,bwarm,bcold")
    ap.add_argument("--baseline", help="another build's library for the bwarm/bcold modes")
    ap.add_argument("--typescript", help="the typescript package's directory (for tsc)")
    ap.add_argument("--python", default="/usr/bin/python3", help="the python of 'python' and 'python0'")
    a = ap.parse_args()
    a.targets, a.modes = a.targets.split(","), a.modes.split(",")
    lib = os.path.abspath(os.path.join(a.build, "preload", "libflameprof.so"))
    with tempfile.TemporaryDirectory() as work:
        os.mkdir(os.path.join(work, "out"))
        tg, md = targets(a, work), modes(a, lib, work)
        print(f"load average before: {os.getloadavg()[0]:.1f}; pairs={a.pairs}; "
              f"{os.cpu_count()} CPUs")
        for name, cmd in tg.items():
            for m in ("warm", "bwarm"):  # fills the caches of the warm modes
                if m in md:
                    run(cmd, md[m][0], work)
            res = {m: [] for m in md}
            rep = {m: [] for m in md}
            cost = {m: [] for m in md}
            curves = {m: [] for m in md}
            order = list(md)
            for i in range(a.pairs):
                for m in order[i % len(order):] + order[:i % len(order)]:
                    env, pre = md[m]
                    cpu, wall, rss, err, curve = run((pre or []) + cmd, env, work)
                    res[m].append((cpu, wall, rss))
                    curves[m].append(curve)
                    sums = summaries(err)
                    rep[m] += [s["report_ms"] for s in sums if "report_ms" in s]
                    main_proc = max(sums, key=lambda s: s.get("weight", 0), default=None)
                    if main_proc and "median_us" in main_proc:
                        cost[m].append((main_proc["median_us"], main_proc.get("p99_us", 0)))
                    shutil.rmtree(os.path.join(work, "out"))
                    os.mkdir(os.path.join(work, "out"))
            med = {m: [statistics.median(x[k] for x in v) for k in range(3)]
                   for m, v in res.items()}
            n0 = med["none"]
            print(f"{name}: {' '.join(cmd)[:90]}")
            for m, (cpu, wall, rss) in med.items():
                # The ratio of each run to the run without the library of the same pair.
                r = [statistics.median(x[k] / max(y[k], 1e-6)
                                       for x, y in zip(res[m], res["none"])) for k in (0, 1)]
                extra = ""
                if rep[m]:
                    extra = (f"  report median {statistics.median(rep[m]):.0f} ms over "
                             f"{len(rep[m])} summaries")
                if m != "none" and all(curves[m]) and all(curves["none"]):
                    added = [max(rss_at(c, f / 20) - rss_at(c0, f / 20) for f in range(21))
                             for c, c0 in zip(curves[m], curves["none"])]
                    end = [c[-1][1] - c0[-1][1] for c, c0 in zip(curves[m], curves["none"])]
                    extra += (f"  RSS added over run +{statistics.median(added):.1f} MB, end "
                              f"+{statistics.median(end):.1f}")
                if cost[m]:
                    extra += (f"  handler median {statistics.median(c[0] for c in cost[m]):.2f}"
                              f" us p99 {statistics.median(c[1] for c in cost[m]):.2f} us")
                print(f"  {m:5s} CPU {cpu * 1000:8.1f} ms x{r[0]:.3f} (+{(cpu - n0[0]) * 1000:.1f} ms)"
                      f"  wall {wall * 1000:8.1f} ms x{r[1]:.3f}  RSS {rss:.0f} MB "
                      f"(+{rss - n0[2]:.1f}){extra}")
        print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
