#!/usr/bin/env python3
"""record_cli.py - `flameprof record` plumbing, with a do-nothing library instead of the
profiler: where the library is looked for, LD_PRELOAD and FLAMEPROF_* for the command, exit
status and signals passed through, one-line errors.

Usage: record_cli.py FLAMEPROF EMPTY_PRELOAD_SO      (exit 0: all checks passed)
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import fptest  # noqa: E402  the shared test library

ck = fptest.Checks("record_cli", quiet=True)
check = ck.check


def run(cmd, env_extra=None):
    """cmd in a clean environment (no FLAMEPROF_*, no LD_PRELOAD) plus env_extra."""
    return fptest.run(cmd, env=env_extra, timeout=30, echo=False)


SHOW = ["sh", "-c", 'printf "%s|%s|%s" "$LD_PRELOAD" "$FLAMEPROF_FREQ" "$FLAMEPROF_OUT"']
TREE = ["sh", "-c", 'printf "%s|%s" "$FLAMEPROF_TREE" "$FLAMEPROF_ROOT"']


def test_environment(exe, lib):
    real = os.path.realpath(lib)
    p = run([exe, "record", "-F", "99", "-o", "/tmp/x.%p", "--"] + SHOW, {"FLAMEPROF_LIB": lib})
    check(p.returncode == 0 and p.stdout == real + "|99|",
          "record sets LD_PRELOAD, FLAMEPROF_FREQ (-o is its own): %r %r" % (p.stdout, p.stderr))
    # The tree's private directory, gone once merged; the command is the root of its tree.
    p = run([exe, "record", "--"] + TREE, {"FLAMEPROF_LIB": lib, "FLAMEPROF_ROOT": "1"})
    tree, _, root = p.stdout.partition("|")
    check(p.returncode == 0 and os.path.basename(tree).startswith("flameprof-tree.") and
          not os.path.exists(tree) and root == "",
          "FLAMEPROF_TREE set, removed after, FLAMEPROF_ROOT not inherited: %r %r"
          % (p.stdout, p.stderr))
    # The user's value is a path ld.so ignores (with a warning): a real library would be
    # preloaded into flameprof itself too, which a sanitizer build cannot take.
    user = os.path.join(os.path.dirname(real), "no-such-user-preload.so")
    p = run([exe, "record"] + SHOW, {"FLAMEPROF_LIB": lib, "LD_PRELOAD": user})
    check(p.stdout == "%s:%s||" % (real, user), "ours goes first, the user's stays: %r" % p.stdout)
    p = run([exe, "record", "sh", "-c", 'echo "$@"', "sh", "-F", "7", "--bogus"], {"FLAMEPROF_LIB": lib})
    check(p.returncode == 0 and p.stdout == "-F 7 --bogus\n",
          "options after the command are the command's: %r %r" % (p.stdout, p.stderr))


def test_lookup(exe, lib, tmp):
    """Without FLAMEPROF_LIB the library is found next to the program, in this order."""
    layouts = [("bld/tools", "bld/preload"), ("flat", "flat"), ("usr/bin", "usr/lib"),
               ("usr2/bin", "usr2/lib/x86_64-linux-gnu")]
    for bindir, libdir in layouts:
        b, l = os.path.join(tmp, bindir), os.path.join(tmp, libdir)
        os.makedirs(b, exist_ok=True)
        os.makedirs(l, exist_ok=True)
        shutil.copy(exe, os.path.join(b, "flameprof"))
        shutil.copy(lib, os.path.join(l, "libflameprof.so"))
        p = run([os.path.join(b, "flameprof"), "record"] + SHOW)
        want = os.path.realpath(os.path.join(l, "libflameprof.so"))
        check(p.returncode == 0 and p.stdout.split("|")[0] == want,
              "%s finds %s: %r %r" % (bindir, libdir, p.stdout, p.stderr))
    # The build tree comes before the same directory.
    shutil.copy(lib, os.path.join(tmp, "bld/tools/libflameprof.so"))
    p = run([os.path.join(tmp, "bld/tools/flameprof"), "record"] + SHOW)
    check(p.stdout.startswith(os.path.realpath(os.path.join(tmp, "bld/preload"))),
          "../preload first: %r" % p.stdout)
    os.makedirs(os.path.join(tmp, "none"))
    shutil.copy(exe, os.path.join(tmp, "none/flameprof"))
    p = run([os.path.join(tmp, "none/flameprof"), "record", "true"])
    check(p.returncode == 127 and p.stderr.count("\n") == 1 and "FLAMEPROF_LIB" in p.stderr,
          "no library: 127 and one line: %d %r" % (p.returncode, p.stderr))


def test_status(exe, lib, tmp):
    env = {"FLAMEPROF_LIB": lib}
    p = run([exe, "record", "sh", "-c", "exit 7"], env)
    check(p.returncode == 7, "exit status passed through (%d)" % p.returncode)
    p = run([exe, "record", "sh", "-c", "kill -TERM $$"], env)
    check(p.returncode == -signal.SIGTERM, "dies of the command's signal (%d)" % p.returncode)
    check(not any(f.startswith("core") for f in os.listdir(".")), "and leaves no core file")
    # kill -INT of the tool alone (perf's `kill -INT $!`) is passed on to the command, which
    # dies of it here, and so does the tool. (^C in a terminal: tests/tree, tree-signals.)
    proc = subprocess.Popen([exe, "record", "sh", "-c", "sleep 1; exit 3"],
                            env=dict(os.environ, **env))
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    rc = proc.wait(timeout=30)
    check(rc == -signal.SIGINT, "SIGINT to the tool alone: passed on, the command and the "
          "tool die of it (%d)" % rc)
    p = run([exe, "record", os.path.join(tmp, "no-such-command")], env)
    check(p.returncode == 127 and p.stderr.startswith("flameprof: ") and p.stderr.count("\n") == 1,
          "missing command: 127, one line (%d %r)" % (p.returncode, p.stderr))
    script = os.path.join(tmp, "not-executable")
    open(script, "w").write("#!/bin/sh\n")
    p = run([exe, "record", script], env)
    check(p.returncode == 126 and "Permission denied" in p.stderr,
          "not executable: 126 (%d %r)" % (p.returncode, p.stderr))
    p = run([exe, "record"], env)
    check(p.returncode == 2 and p.stderr.startswith("flameprof: record: "), "no command: usage, 2")
    for args in (["-F", "abc", "true"], ["-F", "0", "true"], ["-F", "10001", "true"],
                 ["--bogus", "true"], ["-o", "", "true"]):
        p = run([exe, "record"] + args, env)
        check(p.returncode == 2 and p.stderr.startswith("flameprof: record: "),
              "%s: exit 2 with a flameprof: line (%d %r)" % (args, p.returncode, p.stderr))
    # -F takes what FLAMEPROF_FREQ takes: not an out-of-range value the library replaces
    p = run([exe, "record", "-F", "10000", "-o", os.path.join(tmp, "hf"), "true"], env)
    check(p.returncode == 0 and "outside" not in p.stderr, "-F 10000 is taken (%r)" % p.stderr)
    p = run([exe, "record"], {"FLAMEPROF_LIB": os.path.join(tmp, "nope.so")})
    check(p.returncode == 2, "usage errors come before the library lookup")
    p = run([exe, "record", "true"], {"FLAMEPROF_LIB": os.path.join(tmp, "nope.so")})
    check(p.returncode == 127 and "nope.so" in p.stderr, "a wrong FLAMEPROF_LIB is an error")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    exe, lib = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory(prefix="fp-record-cli-") as tmp:
        os.chdir(tmp)
        test_environment(exe, lib)
        test_lookup(exe, lib, tmp)
        test_status(exe, lib, tmp)
    sys.exit(ck.finish())


if __name__ == "__main__":
    main()
