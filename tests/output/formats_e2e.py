#!/usr/bin/env python3
"""formats_e2e.py - FLAMEPROF_FORMAT through the real profiler: a program run with
`flameprof record --format ...` or FLAMEPROF_FORMAT writes exactly the files asked for,
with the same samples in each; a bad name is one warning and is left out.

Usage: formats_e2e.py FLAMEPROF LIBFLAMEPROF BURN     (exit 0: all checks passed)
"""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_cli import pprof_of  # noqa: E402  the protobuf reader of the golden test

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import fptest  # noqa: E402  the shared test library

ck = fptest.Checks("formats_e2e", quiet=True)
check = ck.check


def record(exe, lib, burn, prefix, args=(), env_extra=None):
    return fptest.run([exe, "record", "-o", prefix] + list(args) + ["--", burn],
                      env=dict(env_extra or {}, FLAMEPROF_LIB=lib), timeout=60, echo=False)


def preload_run(lib, cmd, prefix, formats, args=()):
    """A bare LD_PRELOAD run writing prefix.* in formats."""
    return fptest.run([cmd] + list(args), lib=lib,
                      env={"FLAMEPROF_OUT": prefix, "FLAMEPROF_FORMAT": formats},
                      timeout=60, echo=False)


def files(tmp, stem):
    return sorted(f[len(stem):] for f in os.listdir(tmp) if f.startswith(stem + "."))


def build_id(path):
    """The GNU build-id of an ELF file, as readelf -n prints it."""
    p = subprocess.run(["readelf", "-n", path], capture_output=True, text=True)
    m = re.search(r"Build ID: ([0-9a-f]+)", p.stdout)
    return m and m.group(1)


def check_mappings(prof, burn, path):
    """One mapping per module, the program first with its build-id; go tool pprof (when
    there) titles the profile by the program."""
    strs = [v for k, v in prof if k == "string_table"]
    maps = [dict(v) for k, v in prof if k == "mapping"]
    files = [strs[m["filename"]] for m in maps]
    check(files and files[0] == os.path.realpath(burn), "mapping 1 is the program", str(files[:2]))
    check(any("/libc.so" in f for f in files), "libc has a mapping of its own", str(files))
    want = build_id(burn)
    check(want and maps and strs[maps[0].get("build_id", 0)] == want,
          "the program's build-id %s in its mapping" % want)
    check(all(m.get("memory_start", 0) < m.get("memory_limit", 0) for m in maps),
          "every mapping has its address range")
    go = shutil.which("go")
    if not go:
        print("SKIP: go not found: File: line not checked (apt-get install golang-go)")
        return
    top = subprocess.run([go, "tool", "pprof", "-top", path], capture_output=True, text=True,
                         env=dict(os.environ, PPROF_TMPDIR=os.path.dirname(path)),
                         timeout=120).stdout
    check(top.startswith("File: " + os.path.basename(burn) + "\nBuild ID: " + str(want)),
          "go tool pprof -top: File: names the program, with its build-id", top[:120])


NODE_JS = """function leaf(n) {
  let s = 0; for (let i = 0; i < n; i++) s += Math.sqrt(i); return s;
}
const end = process.cpuUsage().user + 400000;
while (process.cpuUsage().user < end) leaf(20000);
"""


def check_node(exe, lib, tmp):
    """node: JS frames as functions with their file and line, File: node, exact round trip."""
    node = shutil.which("node")
    if not node:
        print("SKIP: node not found: JS frames in pprof not checked (apt-get install nodejs)")
        return
    js = os.path.join(tmp, "cpu.js")
    open(js, "w").write(NODE_JS)
    stem = os.path.join(tmp, "node")
    p = preload_run(lib, node, stem, "pprof,folded", [js])
    check(p.returncode == 0, "node, bare preload: %d %s" % (p.returncode, p.stderr[-300:]))
    prof = pprof_of(open(stem + ".pb.gz", "rb").read())
    strs = [v for k, v in prof if k == "string_table"]
    fns = [dict(v) for k, v in prof if k == "function"]
    leaf = [(strs[f.get("filename", 0)], f.get("start_line")) for f in fns
            if strs[f["name"]] == "leaf"]
    check(leaf and all(x == (js, 1) for x in leaf), "JS leaf: bare name, file and line", str(leaf))
    maps = [dict(v) for k, v in prof if k == "mapping"]
    check(maps and os.path.basename(strs[maps[0]["filename"]]) == "node",
          "mapping 1 is node", maps and strs[maps[0]["filename"]])
    back = fptest.run([exe, "convert", "--format", "folded", "--sample-index", "samples",
                       stem + ".pb.gz"], timeout=60, echo=False)
    check(back.out == open(stem + ".folded", "rb").read(), "node: folded -> pprof -> folded exact")

BURN_C = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "burn.c"))
BURN_DECLS = {"burn_step": r"uint64_t burn_step\(", "burn_spin": r"void burn_spin\(",
              "burn_a": r"void burn_a\(", "burn_b": r"void burn_b\(", "main": r"^int main\(",
              "cpu_seconds": r"double cpu_seconds\("}


OPTIONAL_FNS = ("cpu_seconds",)  # too little of the CPU to be sampled in every run


def burn_decl_lines():
    """Where burn.c declares each function: the source text says, not the profiler."""
    text = open(BURN_C).read().splitlines()
    return {fn: next(i + 1 for i, l in enumerate(text) if re.search(rx, l))
            for fn, rx in BURN_DECLS.items()}


def pprof_functions(prof):
    """{name: (filename, start_line)} and the locations as [(name, line), ...] innermost first."""
    strs = [v for k, v in prof if k == "string_table"]
    fns = {dict(v)["id"]: dict(v) for k, v in prof if k == "function"}
    named = {strs[f["name"]]: (strs[f.get("filename", 0)], f.get("start_line", 0))
             for f in fns.values()}
    locs = [[(strs[fns[dict(l)["function_id"]]["name"]], dict(l).get("line", 0))
             for k2, l in v if k2 == "line"] for k, v in prof if k == "location"]
    return named, locs


def go_pprof(go, args, path):
    return subprocess.run([go, "tool", "pprof"] + args + [path], capture_output=True, text=True,
                          env=dict(os.environ, PPROF_TMPDIR=os.path.dirname(path)),
                          timeout=120).stdout


def check_native_sources(exe, lib, burn, tmp, stem, what):
    """stem.pb.gz and stem.speedscope.json name burn.c and each function's declaration
    line (DWARF decl_file/decl_line), the inlined burn_step a Line of burn_spin's Location;
    stem.folded holds names only."""
    want = burn_decl_lines()
    named, locs = pprof_functions(pprof_of(open(stem + ".pb.gz", "rb").read()))
    got = {fn: named.get(fn) for fn in want}
    # cpu_seconds is ~3% of the CPU: ~2 of a run's ~75 signals, none in ~1 run of 10
    # (CONFIG_HZ=250 timers): right where sampled, not required to be.
    check(all(got[fn] == (BURN_C, want[fn]) for fn in want
              if fn not in OPTIONAL_FNS or got[fn] is not None),
          "%s: pprof Function filename/start_line of burn.c's functions" % what,
          "got %r want %r" % (got, want))
    inl = [l for l in locs if [n for n, _ in l] == ["burn_step", "burn_spin"]]
    check(inl and inl[0] == [("burn_step", want["burn_step"]), ("burn_spin", want["burn_spin"])],
          "%s: burn_step inlined: one Location, Lines burn_step then burn_spin with lines" % what,
          str(inl))
    libc = [n for n, (f, _) in named.items() if n == "__libc_start_main"]
    check(libc and not named["_start"][0].endswith("burn.c"), "%s: libc's frames are not burn.c's"
          % what)
    doc = json.load(open(stem + ".speedscope.json"))
    frames = {f["name"]: (f.get("file"), f.get("line")) for f in doc["shared"]["frames"]}
    check(all(frames.get(fn) == (BURN_C, want[fn]) for fn in want
              if fn not in OPTIONAL_FNS or frames.get(fn) is not None),
          "%s: speedscope frames carry file and line" % what,
          str({fn: frames.get(fn) for fn in want}))
    folded = open(stem + ".folded").read()
    check("burn.c" not in folded and "burn_step_[i]" in folded,
          "%s: folded stacks unchanged (names only, the inlined tag kept)" % what)
    return want


def check_native_lines(exe, lib, burn, tmp):
    """Native frames' source positions from DWARF in every path: in the process, from the
    symbol cache, from a raw spill, through record's process tree; the round trips keep them; go tool pprof
    shows them and -list finds the source."""
    cache = {"XDG_CACHE_HOME": os.path.join(tmp, "cache"), "FLAMEPROF_SYMCACHE": "1"}
    runs = []
    for i in range(2):  # the second run's frames come from the disk cache the first wrote
        stem = os.path.join(tmp, "src%d" % i)
        p = fptest.run([burn], lib=lib, env=dict(cache, FLAMEPROF_OUT=stem,
                       FLAMEPROF_FORMAT="pprof,speedscope,folded"), timeout=60, echo=False)
        check(p.returncode == 0, "burn with sources %d: %d %s" % (i, p.returncode, p.stderr))
        runs.append(stem)
    check(any(f.endswith(".sym") for _, _, fs in os.walk(cache["XDG_CACHE_HOME"]) for f in fs),
          "the first run wrote the symbol cache")
    want = check_native_sources(exe, lib, burn, tmp, runs[0], "in process")
    check_native_sources(exe, lib, burn, tmp, runs[1], "from the symbol cache")
    # The raw spill (a killed process's, or kept): `flameprof report` symbolizes it.
    spill = os.path.join(tmp, "spill")
    p = fptest.run([burn], lib=lib, env={"FLAMEPROF_OUT": spill,
                   "FLAMEPROF_FORMAT": "folded,timeline"}, timeout=60, echo=False)
    stem = os.path.join(tmp, "fromraw")
    p = fptest.run([exe, "report", "-q", "-o", stem, "--format", "pprof,speedscope,folded",
                    spill + ".raw"], timeout=60, echo=False)
    check(p.returncode == 0, "report from the raw spill: %d %s" % (p.returncode, p.stderr))
    check_native_sources(exe, lib, burn, tmp, stem, "flameprof report RAW")
    stem = os.path.join(tmp, "rec")
    p = record(exe, lib, burn, stem, ["--format", "pprof,speedscope,folded"])
    check(p.returncode == 0, "record with sources: %d %s" % (p.returncode, p.stderr))
    check_native_sources(exe, lib, burn, tmp, stem, "record (process tree)")

    # Round trips: pprof -> speedscope, speedscope -> pprof, pprof -> pprof keep them;
    # folded -> pprof -> folded stays exact.
    src = runs[0]
    conv = lambda inp, out: fptest.run([exe, "convert", "-o", out, inp], timeout=60, echo=False)
    conv(src + ".pb.gz", os.path.join(tmp, "rt.speedscope.json"))
    conv(src + ".speedscope.json", os.path.join(tmp, "rt.pb.gz"))
    a = json.load(open(src + ".speedscope.json"))["shared"]["frames"]
    b = json.load(open(os.path.join(tmp, "rt.speedscope.json")))["shared"]["frames"]
    check(a == b, "pprof -> speedscope: the same frames, files and lines", "%r\n%r" % (a, b))
    pa = pprof_functions(pprof_of(open(src + ".pb.gz", "rb").read()))
    pb = pprof_functions(pprof_of(open(os.path.join(tmp, "rt.pb.gz"), "rb").read()))
    check(pa[0] == pb[0], "speedscope -> pprof: the same functions, files and lines")
    back = fptest.run([exe, "convert", "--format", "folded", "--sample-index", "samples",
                       src + ".pb.gz"], timeout=60, echo=False)
    check(back.out == open(src + ".folded", "rb").read(), "native: pprof -> folded exact")

    go = shutil.which("go")
    if not go:
        print("SKIP: go not found: go tool pprof's file and line columns not checked")
        return
    path = src + ".pb.gz"
    top = go_pprof(go, ["-top", "-lines"], path)
    for fn in ("burn_step", "burn_spin", "burn_a", "main"):
        line = "%s %s:%d" % (fn, BURN_C, want[fn])
        check(line in top, "go tool pprof -top -lines: %r" % line, top[-800:])
    raw = go_pprof(go, ["-raw"], path)
    check(re.search(r"0x0 burn_step %s:%d s=%d\n\s+burn_spin %s:%d s=%d" % (
        re.escape(BURN_C), want["burn_step"], want["burn_step"], re.escape(BURN_C),
        want["burn_spin"], want["burn_spin"]), raw),
          "go tool pprof -raw: the inlined Location's two lines with file and line", raw[-800:])
    traces = go_pprof(go, ["-traces"], path)
    check(re.search(r"burn_step \(inline\)\n\s+burn_spin\n\s+burn_a\n\s+main\n", traces),
          "go tool pprof -traces: clean names, the inline marked", traces[:600])
    web = os.path.join(tmp, "weblist.html")
    go_pprof(go, ["-weblist", "^burn_spin$", "-output", web], path)
    html = open(web).read() if os.path.exists(web) else ""
    check("burn_spin(double until)" in html and BURN_C in html,
          "go tool pprof -weblist (the web UI's Source view): the source shown", html[-400:])
    lst = go_pprof(go, ["-list", "^burn_spin$"], path)
    check(("ROUTINE ======================== burn_spin in " + BURN_C) in lst and
          re.search(r"\s%d:.*burn_spin\(double until\)" % want["burn_spin"], lst),
          "go tool pprof -list burn_spin: the source found and shown at its line", lst[:600])


def main():
    exe, lib, burn = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="fp-formats-") as tmp:
        p = record(exe, lib, burn, os.path.join(tmp, "all"),
                   ["--format", "svg,pprof,speedscope,folded"])
        check(p.returncode == 0, "record: %d %s" % (p.returncode, p.stderr))
        check(files(tmp, "all") == [".folded", ".pb.gz", ".speedscope.json", ".svg"],
              "all four files: %r" % files(tmp, "all"))
        summary = fptest.parse_summary((p.summaries() or [""])[0])
        check(summary["paths"] == [os.path.join(tmp, "all" + e) for e in
                                   (".folded", ".svg", ".pb.gz", ".speedscope.json")],
              "the summary names every file: %r" % p.stderr)
        weight = summary.get("weight", -1)
        folded = open(os.path.join(tmp, "all.folded")).read()
        ftotal = sum(int(line.rsplit(" ", 1)[1]) for line in folded.splitlines())
        prof = pprof_of(open(os.path.join(tmp, "all.pb.gz"), "rb").read())
        ptotal = sum(dict(s)["value"][0] for k, s in prof if k == "sample")
        period = dict((k, v) for k, v in prof if k == "period").get("period")
        doc = json.load(open(os.path.join(tmp, "all.speedscope.json")))
        stotal = doc["profiles"][0]["endValue"]
        check(weight == ftotal == ptotal == stotal and weight > 0,
              "same samples everywhere: summary %d, folded %d, pprof %d, speedscope %d"
              % (weight, ftotal, ptotal, stotal))
        check(period == 1003009, "pprof period from the profiler's 997 Hz: %r" % period)
        names = {f["name"] for f in doc["shared"]["frames"]}
        strings = {v for k, v in prof if k == "string_table"}
        check({"burn_a", "burn_b", "main"} <= names & strings, "the program's functions in both")
        check(doc["name"] == "flameprof record: fp_test_burn",
              "speedscope names the profile after the command: %r" % doc["name"])
        when = dict((k, v) for k, v in prof if k in ("time_nanos", "duration_nanos"))
        check(0 < time.time() - when.get("time_nanos", 0) / 1e9 < 120 and
              0 < when.get("duration_nanos", 0) < 120e9,
              "pprof time and duration of collection", str(when))

        # Mappings come from the process's own modules: a bare run (record merges a tree's
        # folded stacks, whose processes' modules differ).
        bare = preload_run(lib, burn, os.path.join(tmp, "bare"), "pprof")
        check(bare.returncode == 0, "bare run: %d %s" % (bare.returncode, bare.stderr))
        prof = pprof_of(open(os.path.join(tmp, "bare.pb.gz"), "rb").read())
        check_mappings(prof, burn, os.path.join(tmp, "bare.pb.gz"))
        when = dict((k, v) for k, v in prof if k in ("time_nanos", "duration_nanos"))
        check(0 < time.time() - when.get("time_nanos", 0) / 1e9 < 120 and
              0 < when.get("duration_nanos", 0) < 120e9,
              "bare run: pprof time and duration of collection", str(when))

        check_node(exe, lib, tmp)
        check_native_lines(exe, lib, burn, tmp)

        # The environment variable, with a bad name among good ones.
        p = record(exe, lib, burn, os.path.join(tmp, "env"), env_extra={
            "FLAMEPROF_FORMAT": "pprof, BOGUS"})
        warn = [l for l in p.stderr.splitlines() if "FLAMEPROF_FORMAT" in l]
        check(len(warn) == 1 and "unknown format 'BOGUS'" in warn[0] and warn[0].endswith(
            "using pprof"), "one warning for the bad name: %r" % p.stderr)
        check(files(tmp, "env") == [".pb.gz"], "only pprof written: %r" % files(tmp, "env"))
        gzip.decompress(open(os.path.join(tmp, "env.pb.gz"), "rb").read())

        # The default: folded and SVG.
        p = record(exe, lib, burn, os.path.join(tmp, "dflt"))
        check(files(tmp, "dflt") == [".folded", ".svg"], "default formats: %r" % files(tmp, "dflt"))
        p = record(exe, lib, burn, os.path.join(tmp, "bad"), ["--format", "png"])
        check(p.returncode == 2 and p.stderr.count("flameprof:") == 1 and not files(tmp, "bad"),
              "record --format png: exit 2, one line, nothing run: %r" % p.stderr)
    sys.exit(ck.finish())


if __name__ == "__main__":
    main()
