#!/usr/bin/env python3
"""run_browser.py - the browser suite: generate SVGs with flameprof, then drive them in
headless Chromium with playwright-core (browser_test.js).

Usage: run_browser.py FLAMEPROF NPM_DIR              the SVGs (browser_test.js)
       run_browser.py FLAMEPROF NPM_DIR speedscope   our speedscope JSON in the real
                                                     speedscope app (speedscope_test.js)

Needs the Debian package chromium (or $FLAMEPROF_CHROMIUM), node and npm. playwright-core
(the driver only: it never downloads a browser), and speedscope for its mode, are installed
from npm into NPM_DIR on first use. Without any of these the suite is skipped (exit 77) and
says so loudly.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import fptest  # noqa: E402  the shared test library


def skip(why):
    fptest.skip("%s: the SVGs and the heatmap page were NOT tested in a browser" % why)


def find_chromium():
    for c in (os.environ.get("FLAMEPROF_CHROMIUM"), "/usr/bin/chromium",
              shutil.which("chromium") or "", shutil.which("chromium-browser") or ""):
        if c and os.access(c, os.X_OK):
            return c
    return None


def ensure_npm(npm_dir, packages=("playwright-core",)):
    """The node_modules folder holding the packages, installing them if needed."""
    modules = os.path.join(npm_dir, "node_modules")
    have = lambda: all(os.path.isfile(os.path.join(modules, p, "package.json"))
                       for p in packages)
    if have():
        return modules
    npm = shutil.which("npm")
    if not npm:
        skip("npm not found (it comes with Debian's npm package or nodesource's nodejs)")
    os.makedirs(npm_dir, exist_ok=True)
    # Never download a browser: Debian's chromium is the one under test.
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    try:
        p = subprocess.run([npm, "install", "--prefix", npm_dir, "--no-audit", "--no-fund",
                            "--no-save", "--loglevel=error"] + [p + "@1" for p in packages],
                           capture_output=True, text=True, timeout=300, env=env)
        err = p.stderr.strip()[-400:]
    except subprocess.TimeoutExpired:
        err = "timed out"
    if not have():
        skip("could not install %s from npm (%s)" % (" ".join(packages), err))
    return modules


def browser(npm_dir, packages=("playwright-core",)):
    """(chromium, node, node_modules with the packages) for a browser test, or a loud skip."""
    chromium = find_chromium()
    if not chromium:
        skip("chromium not found (apt-get install chromium)")
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        skip("node not found (apt-get install nodejs)")
    return chromium, node, ensure_npm(npm_dir, packages)


def run_node(tools, script, tmp, timeout):
    """Runs `node SCRIPT TMP CHROMIUM` (a test in this folder); its exit status."""
    chromium, node, modules = tools
    env = dict(os.environ, NODE_PATH=modules)
    try:
        return subprocess.run([node, os.path.join(HERE, script), tmp, chromium],
                              env=env, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        sys.exit("%s did not finish in %d s" % (script, timeout))


def flameprof(exe, args, stdin, out):
    r = fptest.run([exe] + args, stdin=stdin, timeout=60, echo=False)
    if r.returncode != 0:
        sys.exit("flameprof %s failed: %s" % (" ".join(args), r.stderr))
    with open(out, "wb") as f:
        f.write(r.out)


def random_folded(seed):
    """Stacks with recursion (the same names at many depths) and shared prefixes."""
    rnd = random.Random(seed)
    names = ["f%d" % i for i in range(10)]
    counts = {}
    for _ in range(300):
        st = ";".join(rnd.choice(names) for _ in range(rnd.randint(1, 8)))
        counts[st] = counts.get(st, 0) + rnd.randint(1, 40)
    return "".join("%s %d\n" % kv for kv in sorted(counts.items())).encode()


# Frames as the runtimes name them, and the bare names speedscope should show for them.
RUNTIME_FRAMES = {
    "JS:~executeUserEntryPoint node:internal/modules/run_main:155:31_[j]":
        "executeUserEntryPoint",
    "JS:*leaf /app/cpu.js:2:15_[j]": "leaf", "JS:^leaf /app/cpu.js:2:15_[j]": "leaf",
    "py::handle:/srv/app.py_[j]": "handle", "py::leaf_d:/srv/hot.py_[j]": "leaf_d",
    "com.example.Foo.bar(int)_[j]": "com.example.Foo.bar",
    "com.example.Foo.helper(int)_[i]": "com.example.Foo.helper", "do_sin_[i]": "do_sin",
    "page_fault_[k]": "page_fault",
}
RUNTIME_FOLDED = (
    "_start;main;JS:~executeUserEntryPoint node:internal/modules/run_main:155:31_[j];"
    "JS:*leaf /app/cpu.js:2:15_[j] 5\n"
    "_start;main;JS:^leaf /app/cpu.js:2:15_[j] 4\n"
    "_start;main;py::handle:/srv/app.py_[j];py::leaf_d:/srv/hot.py_[j] 3\n"
    "_start;main;com.example.Foo.bar(int)_[j];com.example.Foo.helper(int)_[i];do_sin_[i];"
    "page_fault_[k] 2\n"
    "_start;main;work 7\n")


# Threads kept apart: roots "[name tid]"; speedscope gets one profile per thread.
THREADS_FOLDED = (
    "[main 4242];_start;main;work 6\n"
    "[worker-1 4243];start_thread;run;parse;leaf 5\n"
    "[worker-1 4243];start_thread;run 2\n"
    "[io 4250];start_thread;poll 3\n")


def run_speedscope(exe, npm_dir):
    chromium, node, modules = browser(npm_dir, ("playwright-core", "speedscope"))
    dist = os.path.join(modules, "speedscope", "dist", "release")
    with tempfile.TemporaryDirectory(prefix="fp-speedscope-") as tmp:
        folded = RUNTIME_FOLDED.encode()
        with open(os.path.join(tmp, "rt.folded"), "wb") as f:
            f.write(folded)
        with open(os.path.join(tmp, "bare.json"), "w") as f:
            json.dump(RUNTIME_FRAMES, f)
        flameprof(exe, ["convert", "--format", "speedscope", "--name", "rt"], folded,
                  os.path.join(tmp, "rt.speedscope.json"))
        with open(os.path.join(tmp, "thr.folded"), "w") as f:
            f.write(THREADS_FOLDED)
        flameprof(exe, ["convert", "--threads", "--format", "speedscope", "--name", "thr"],
                  THREADS_FOLDED.encode(), os.path.join(tmp, "thr.speedscope.json"))
        try:
            p = subprocess.run([node, os.path.join(HERE, "speedscope_test.js"), dist, tmp,
                                chromium], env=dict(os.environ, NODE_PATH=modules), timeout=170)
        except subprocess.TimeoutExpired:
            sys.exit("speedscope_test.js did not finish in 170 s")
    sys.exit(p.returncode)


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    exe, npm_dir = sys.argv[1], os.path.abspath(sys.argv[2])
    if sys.argv[3:] == ["speedscope"]:
        run_speedscope(exe, npm_dir)
    tools = browser(npm_dir)

    with tempfile.TemporaryDirectory(prefix="fp-browser-") as tmp:
        small = b"main;a;a;a 10\nmain;a;b 5\nmain;c 5\nother;a 20\n"
        flameprof(exe, ["svg", "--width", "1020"], small, os.path.join(tmp, "small.svg"))
        flameprof(exe, ["svg", "--width", "1020", "--inverted"], small,
                  os.path.join(tmp, "inverted.svg"))
        rnd = random_folded(4)
        with open(os.path.join(tmp, "random.folded"), "wb") as f:
            f.write(rnd)
        flameprof(exe, ["svg", "--minwidth", "0"], rnd, os.path.join(tmp, "random.svg"))
        before = os.path.join(tmp, "before.folded")
        with open(before, "wb") as f:
            f.write(b"main;a 10\nmain;b 10\nmain;gone 20\n")
        flameprof(exe, ["diff", "--width", "1020", before, "-"], b"main;a 30\nmain;b 10\n",
                  os.path.join(tmp, "diff.svg"))
        # A deep graph (150 frames, ~2,450 px tall, taller than the window): it opens
        # where the flames are (issue 18). The deep stack is thin, the wide ones shallow.
        deep = b";".join(b"d%d" % i for i in range(150)) + b" 1\nmain;wide 50\n"
        flameprof(exe, ["svg", "--width", "1020"], deep, os.path.join(tmp, "deep.svg"))
        flameprof(exe, ["svg", "--width", "1020", "--inverted"], deep,
                  os.path.join(tmp, "deep_inv.svg"))
        rc = run_node(tools, "browser_test.js", tmp, 170)
    sys.exit(rc)


if __name__ == "__main__":
    main()
