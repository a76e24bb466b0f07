#!/usr/bin/env python3
"""run_browser.py - the browser suite: generate SVGs with flameprof, then drive them in
headless Chromium with playwright-core (browser_test.js).

Usage: run_browser.py FLAMEPROF NPM_DIR

Needs the Debian package chromium (or $FLAMEPROF_CHROMIUM), node and npm. playwright-core
(the driver only: it never downloads a browser) is installed from npm into NPM_DIR on first
use. Without any of these the suite is skipped (exit 77) and says so loudly.
"""
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


def ensure_playwright(npm_dir):
    """The node_modules folder holding playwright-core, installing it if needed."""
    modules = os.path.join(npm_dir, "node_modules")
    if os.path.isfile(os.path.join(modules, "playwright-core", "package.json")):
        return modules
    npm = shutil.which("npm")
    if not npm:
        skip("npm not found (it comes with Debian's npm package or nodesource's nodejs)")
    os.makedirs(npm_dir, exist_ok=True)
    # Never download a browser: Debian's chromium is the one under test.
    env = dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1")
    try:
        p = subprocess.run([npm, "install", "--prefix", npm_dir, "--no-audit", "--no-fund",
                            "--no-save", "--loglevel=error", "playwright-core@1"],
                           capture_output=True, text=True, timeout=300, env=env)
        err = p.stderr.strip()[-400:]
    except subprocess.TimeoutExpired:
        err = "timed out"
    if not os.path.isfile(os.path.join(modules, "playwright-core", "package.json")):
        skip("could not install playwright-core from npm (%s)" % err)
    return modules


def browser(npm_dir):
    """(chromium, node, node_modules) for a browser test, or a loud skip."""
    chromium = find_chromium()
    if not chromium:
        skip("chromium not found (apt-get install chromium)")
    node = shutil.which("node") or shutil.which("nodejs")
    if not node:
        skip("node not found (apt-get install nodejs)")
    return chromium, node, ensure_playwright(npm_dir)


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


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, npm_dir = sys.argv[1], os.path.abspath(sys.argv[2])
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
        rc = run_node(tools, "browser_test.js", tmp, 170)
    sys.exit(rc)


if __name__ == "__main__":
    main()
