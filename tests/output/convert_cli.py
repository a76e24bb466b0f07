#!/usr/bin/env python3
"""convert_cli.py - `flameprof convert` and `flameprof diff` end to end.

Usage: convert_cli.py cli FLAMEPROF [XMLLINT]     golden pprof (decoded here), speedscope,
                                                  diff, options, errors
       convert_cli.py go FLAMEPROF GO             `go tool pprof -top` reads what we write
       convert_cli.py schema FLAMEPROF NPM_DIR    speedscope JSON against speedscope's schema
                                                  (npm package `speedscope`, installed into
                                                  NPM_DIR if missing)

Exit 0: all checks passed; 1: a check failed (each printed); 77: a tool is missing (SKIP,
said loudly).
"""
import glob
import gzip
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import fptest  # noqa: E402  the shared test library

ck = fptest.Checks("convert_cli", quiet=True)
check = ck.check


skip = fptest.skip


def run(exe, args, stdin=b""):
    r = fptest.run([exe] + args, stdin=stdin, timeout=120, echo=False)
    return r.returncode, r.out, r.stderr


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ---- a minimal protobuf reader ---------------------------------------------------------

def varint(b, i):
    v = shift = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if not c & 0x80:
            return v, i


def fields(b):
    """[(number, value)] in wire order; value is an int (varint) or bytes (length-delimited)."""
    out, i = [], 0
    while i < len(b):
        key, i = varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = varint(b, i)
        elif wire == 2:
            n, i = varint(b, i)
            v = b[i:i + n]
            i += n
            if len(v) != n:
                raise ValueError("truncated field %d" % num)
        else:
            raise ValueError("wire type %d of field %d is not one we write" % (wire, num))
        out.append((num, v))
    return out


def packed(b):
    vals, i = [], 0
    while i < len(b):
        v, i = varint(b, i)
        vals.append(v)
    return vals


# profile.proto: which fields are sub-messages, packed numbers or strings.
SCHEMA = {
    "Profile": {1: ("sample_type", "ValueType"), 2: ("sample", "Sample"),
                3: ("mapping", "Mapping"), 4: ("location", "Location"),
                5: ("function", "Function"), 6: ("string_table", "string"),
                9: ("time_nanos", "int"), 10: ("duration_nanos", "int"),
                11: ("period_type", "ValueType"), 12: ("period", "int"), 13: ("comment", "int")},
    "ValueType": {1: ("type", "int"), 2: ("unit", "int")},
    "Sample": {1: ("location_id", "packed"), 2: ("value", "packed"), 3: ("label", "Label")},
    "Label": {1: ("key", "int"), 2: ("str", "int"), 3: ("num", "int")},
    "Mapping": {1: ("id", "int"), 2: ("memory_start", "int"), 3: ("memory_limit", "int"),
                4: ("file_offset", "int"), 5: ("filename", "int"), 6: ("build_id", "int"),
                7: ("has_functions", "int")},
    "Location": {1: ("id", "int"), 2: ("mapping_id", "int"), 4: ("line", "Line")},
    "Line": {1: ("function_id", "int"), 2: ("line", "int"), 3: ("column", "int")},
    "Function": {1: ("id", "int"), 2: ("name", "int"), 3: ("system_name", "int"),
                 4: ("filename", "int"), 5: ("start_line", "int")},
}


def decode(b, msg="Profile"):
    """The message as [(field name, value)] in wire order, sub-messages decoded."""
    out = []
    for num, v in fields(b):
        if num not in SCHEMA[msg]:
            raise ValueError("unexpected field %d in %s" % (num, msg))
        name, kind = SCHEMA[msg][num]
        if kind == "packed":
            v = packed(v)
        elif kind == "string":
            v = v.decode("utf-8")  # must be UTF-8: raises otherwise
        elif kind in SCHEMA:
            v = decode(v, kind)
        elif not isinstance(v, int):
            raise ValueError("%s.%s is not a number" % (msg, name))
        out.append((name, v))
    return out


def pprof_of(data):
    return decode(gzip.decompress(data))


# ---- golden pprof ----------------------------------------------------------------------

GOLDEN_IN = b"main;work;leaf_[i] 3\nmain;idle 1\nother;work 2\nmain;work 4\n"
# Sorted: main;idle, main;work, main;work;leaf_[i], other;work. Locations in order of first
# use: main 1, idle 2, work 3, work+leaf inlined 4 (lines innermost first), other 5.
PERIOD = 10000000  # --freq 100
GOLDEN = (
    [("sample_type", [("type", 1), ("unit", 2)]),
     ("sample_type", [("type", 3), ("unit", 4)])]
    + [("sample", [("location_id", ids), ("value", [n, n * PERIOD])])
       for ids, n in (([2, 1], 1), ([3, 1], 4), ([4, 1], 3), ([3, 5], 2))]
    + [("period_type", [("type", 3), ("unit", 4)]), ("period", PERIOD), ("comment", 6),
       ("mapping", [("id", 1), ("filename", 5), ("has_functions", 1)])]
    + [("location", [("id", i)] + [("line", [("function_id", f)]) for f in fns])
       for i, fns in ((1, [1]), (2, [2]), (3, [3]), (4, [4, 3]), (5, [5]))]
    # name and system_name are one string when the frame is all name (no tag, no location)
    + [("function", [("id", i), ("name", i + 6), ("system_name", i + 6)]) for i in range(1, 6)]
    + [("string_table", s) for s in
       ("", "samples", "count", "cpu", "nanoseconds", "flameprof",
        "flameprof: Function.system_name is the folded frame", "main", "idle", "work", "leaf",
        "other")]
)


def test_pprof_golden(exe, tmp):
    rc, out, err = run(exe, ["convert", "--format", "pprof", "--freq", "100"], GOLDEN_IN)
    check(rc == 0 and err == "", "pprof: exit 0 silently (%d %r)" % (rc, err))
    got = pprof_of(out)
    if got != GOLDEN:
        check(False, "pprof structure differs:\n got  %r\n want %r" % (got, GOLDEN))
    # The default frequency is flameprof's 997 Hz: period 1e9/997 rounded.
    rc, out, _ = run(exe, ["convert", "--format", "pprof"], GOLDEN_IN)
    got = dict((k, v) for k, v in pprof_of(out) if k == "period")
    check(got.get("period") == 1003009, "default period 1003009 ns: %r" % got)
    # Identical input, identical bytes; the file written with -o is the same.
    out2 = run(exe, ["convert", "--format", "pprof"], GOLDEN_IN)[1]
    check(out == out2, "pprof output is deterministic")
    path = write(tmp, "g.folded", GOLDEN_IN)
    rc, so, _ = run(exe, ["convert", "-o", os.path.join(tmp, "g.pb.gz"), path])
    check(rc == 0 and so == b"", "-o writes nothing on stdout")
    check(open(os.path.join(tmp, "g.pb.gz"), "rb").read() == out, "-o FILE.pb.gz: pprof, same bytes")


# Threads kept apart: "[name tid]" roots. The last two stay frames (labels could not give
# them back exactly: a tid with a leading zero, an empty name); a root alone is a sample
# without locations.
THREADS_IN = (b"[main 4242];main;work 5\n[worker-1 4243];start_thread;work;leaf_[i] 3\n"
              b"[worker-1 4243] 2\n[main 4242];main;idle 1\n[t 007];main 4\n[ 12];main 6\n")


def test_pprof_threads(exe, tmp):
    """Thread roots become the labels thread/thread_id, and come back from them."""
    rc, out, err = run(exe, ["convert", "--threads", "--format", "pprof"], THREADS_IN)
    check(rc == 0 and err == "", "pprof of thread roots: exit 0 silently (%d %r)" % (rc, err))
    prof = pprof_of(out)
    strs = [v for k, v in prof if k == "string_table"]
    funcs = {dict(v)["id"]: strs[dict(v)["name"]] for k, v in prof if k == "function"}
    locs = {dict(v)["id"]: [funcs[dict(l)["function_id"]] for k2, l in v if k2 == "line"]
            for k, v in prof if k == "location"}
    got = set()
    for k, v in prof:
        if k != "sample":
            continue
        names = [n for k2, ids in v if k2 == "location_id" for i in ids for n in locs[i]]
        labels = tuple((strs[dict(l)["key"]], strs[dict(l)["str"]] if "str" in dict(l)
                        else dict(l).get("num", 0)) for k2, l in v if k2 == "label")
        got.add((";".join(reversed(names)), labels, dict(v)["value"][0]))
    want = {("main;work", (("thread", "main"), ("thread_id", 4242)), 5),
            ("start_thread;work;leaf", (("thread", "worker-1"), ("thread_id", 4243)), 3),
            ("", (("thread", "worker-1"), ("thread_id", 4243)), 2),
            ("main;idle", (("thread", "main"), ("thread_id", 4242)), 1),
            ("[t 007];main", (), 4), ("[ 12];main", (), 6)}
    check(got == want, "pprof: thread roots as labels thread/thread_id, not frames",
          "got %r" % sorted(got))
    src = write(tmp, "thr.pb.gz", out)
    rc, back, err = run(exe, ["convert", "--threads", "--format", "folded", "--sample-index",
                              "samples", src])
    check(rc == 0 and back == b"".join(sorted(THREADS_IN.splitlines(True))),
          "folded -> pprof -> folded exact with thread roots", (back + err.encode())[:400])
    rc, back, err = run(exe, ["convert", "--threads", "--format", "folded", "--sample-index",
                              "samples", "--tagroot", "thread", src])
    check(rc == 0 and b"[main 4242];thread:main;main;work 5\n" in back,
          "--tagroot: the thread root first, then the tag roots", (back + err.encode())[:400])


def test_pprof_hostile(exe):
    rc, out, err = run(exe, ["convert", "--format", "pprof"], HOSTILE)
    check(rc == 0, "pprof of hostile names: exit 0 (%d %s)" % (rc, err))
    try:
        prof = pprof_of(out)  # strings must decode as UTF-8
    except (ValueError, UnicodeDecodeError, OSError) as e:
        check(False, "pprof of hostile names decodes: %s" % e)
        return
    strings = [v for k, v in prof if k == "string_table"]
    check("bad\ufffd\ufffd" in strings, "invalid UTF-8 becomes U+FFFD: %r" % strings[:20])
    check("inl" in strings and "x" in strings and "inl_[i]" not in strings,
          "inlined frames lose their tag")
    lines = [sum(1 for k, _ in loc if k == "line") for key, loc in prof if key == "location"]
    check(3 in lines, "a frame with two frames inlined into it: one location, three lines")


# ---- speedscope ------------------------------------------------------------------------

HOSTILE = (b"plain;<script>alert(1)</script> 1\n"
           b"quote\";back\\slash;ctl\x01\x1b[31m 2\n"
           b"nul\x00inside;tab\there 3\n"
           b"bad\xff\xfe;over\xc0\xaf;sur\xed\xa0\x80;cut\xe2\x82 4\n"
           b"ok\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5;inl_[i];x_[i] 5\n"
           b";;empty;; 6\n")


def test_speedscope(exe, tmp):
    rc, out, err = run(exe, ["convert", "--format", "speedscope", "--name", "n\u00e9"], HOSTILE)
    check(rc == 0 and err == "", "speedscope: exit 0 silently (%d %r)" % (rc, err))
    try:
        doc = json.loads(out.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        check(False, "speedscope output is UTF-8 JSON: %s" % e)
        return
    prof = doc["profiles"][0]
    frames = [f["name"] for f in doc["shared"]["frames"]]
    check(doc["name"] == "n\u00e9" and prof["name"] == "n\u00e9", "--name names the profile")
    check(len(prof["samples"]) == len(prof["weights"]) == 6, "one sample per line")
    check(prof["endValue"] == sum(prof["weights"]) == 21, "endValue is the total")
    check('quote"' in frames and "back\\slash" in frames, "quotes and backslashes survive")
    check("ctl\x01\x1b[31m" in frames and "tab\there" in frames, "control characters survive")
    check("bad\ufffd\ufffd" in frames and "cut\ufffd\ufffd" in frames, "U+FFFD for non-UTF-8")
    check("ok\u00e9\u20ac\U0001F525" in frames, "UTF-8 kept")
    check(all(0 <= i < len(frames) for s in prof["samples"] for i in s), "indexes in range")
    # Each sample is its stack, root first.
    stacks = sorted(";".join(frames[i] for i in s) for s in prof["samples"])
    check("ok\u00e9\u20ac\U0001F525;inl;x" in stacks, "samples are root-first stacks")
    # Tags are not shown: the name is the function's; the folded frame is kept aside.
    tagged = [f for f in doc["shared"]["frames"] if f["name"] == "inl"]
    check(tagged == [{"name": "inl", "folded": "inl_[i]"}], "inlined: name without tag", str(tagged))
    # -o FILE.json picks speedscope; the name defaults to the input file's.
    path = write(tmp, "in.folded", b"a;b 2\n")
    rc, so, _ = run(exe, ["convert", "-o", os.path.join(tmp, "out.speedscope.json"), path])
    doc = json.load(open(os.path.join(tmp, "out.speedscope.json")))
    check(rc == 0 and doc["name"] == "in.folded", "-o .json: speedscope named after the input")


# ---- options and errors ----------------------------------------------------------------

def test_speedscope_threads(exe, tmp):
    """Threads kept: the merged profile first, then one view per thread, read back merged."""
    rc, out, err = run(exe, ["convert", "--threads", "--format", "speedscope"], THREADS_IN)
    check(rc == 0 and err == "", "speedscope threads: exit 0 silently (%d %r)" % (rc, err))
    doc = json.loads(out)
    frames = [f.get("folded", f["name"]) for f in doc["shared"]["frames"]]
    profs = doc["profiles"]
    # Thread roots: [main 4242], [worker-1 4243], [t 007], [ 12] (the filter's rule).
    check([p["name"] for p in profs] ==
          ["flameprof", " (12)", "main (4242)", "t (007)", "worker-1 (4243)"],
          "N+1 profiles: merged first, then one per thread named 'name (tid)'",
          str([p["name"] for p in profs]))
    check(doc["activeProfileIndex"] == 0 and "flameprofView" not in profs[0],
          "the merged view is the default")

    def stacks(p, root=""):
        return sorted((root + ";".join(frames[i] for i in smp)).rstrip(";") + " %d" % w
                      for smp, w in zip(p["samples"], p["weights"]))
    lines = sorted(THREADS_IN.decode().splitlines())
    check(stacks(profs[0]) == lines and profs[0]["endValue"] == 21, "merged: every stack, total")
    views = []
    for p in profs[1:]:
        name, tid = p["name"].rsplit(" (", 1)
        root = "[%s %s];" % (name, tid[:-1])
        check(p.get("flameprofView") == "thread" and p["endValue"] == sum(p["weights"]),
              "%s: a thread view, endValue its total" % p["name"])
        views += stacks(p, root)
    check(sorted(views) == lines, "the views hold each thread's stacks without the root",
          str(sorted(views)))
    check({p["name"]: p["endValue"] for p in profs[1:]} ==
          {" (12)": 6, "main (4242)": 6, "t (007)": 4, "worker-1 (4243)": 5},
          "each thread's total")
    src = write(tmp, "thr.speedscope.json", out)
    rc, back, err = run(exe, ["convert", "--threads", "--format", "folded", src])
    check(rc == 0 and back == b"".join(sorted(THREADS_IN.splitlines(True))),
          "folded -> speedscope -> folded exact with thread roots", (back + err.encode())[:400])
    rc, out, _ = run(exe, ["convert", "--format", "speedscope"], b"main;a 1\n")
    check(len(json.loads(out)["profiles"]) == 1, "no thread roots: one profile, as before")


SOURCES_IN = json.dumps({
    "shared": {"frames": [{"name": "main", "file": "/s/main.c", "line": 7},
                          {"name": "work", "file": "/s/w.c", "line": 12},
                          {"name": "leaf", "folded": "leaf_[i]", "file": "/s/l.h", "line": 3},
                          {"name": "nofile"}]},
    "profiles": [{"type": "sampled", "unit": "none", "startValue": 0, "endValue": 6,
                  "samples": [[0, 1, 2], [0, 3]], "weights": [4, 2]}]}).encode()


def test_sources(exe, tmp):
    """A speedscope file's frame file/line (another tool's, or ours for native frames) become
    pprof's Function filename/start_line and Line.line, and come back; folded keeps names."""
    src = write(tmp, "src.speedscope.json", SOURCES_IN)
    rc, out, err = run(exe, ["convert", "--format", "pprof", src])
    check(rc == 0 and err == "", "sources: speedscope -> pprof (%d %r)" % (rc, err))
    prof = pprof_of(out)
    strs = [v for k, v in prof if k == "string_table"]
    fns = {dict(v)["id"]: dict(v) for k, v in prof if k == "function"}
    got = {strs[f["name"]]: (strs[f.get("filename", 0)], f.get("start_line", 0))
           for f in fns.values()}
    check(got == {"main": ("/s/main.c", 7), "work": ("/s/w.c", 12), "leaf": ("/s/l.h", 3),
                  "nofile": ("", 0)}, "sources: pprof Functions' files and lines", str(got))
    lines = [[(strs[fns[dict(l)["function_id"]]["name"]], dict(l).get("line", 0))
              for k2, l in v if k2 == "line"] for k, v in prof if k == "location"]
    check([("leaf", 3), ("work", 12)] in lines, "sources: the inlined leaf a Line of work's "
          "Location, each with its line", str(lines))
    pp = write(tmp, "src.pb.gz", out)
    rc, back, err = run(exe, ["convert", "--format", "speedscope", pp])
    frames = json.loads(back)["shared"]["frames"]
    check(sorted(frames, key=lambda f: f["name"]) ==
          sorted(json.loads(SOURCES_IN)["shared"]["frames"], key=lambda f: f["name"]),
          "sources: pprof -> speedscope gives the same frames back", str(frames))
    rc, folded, err = run(exe, ["convert", "--format", "folded", src])
    check(folded == b"main;nofile 2\nmain;work;leaf_[i] 4\n", "sources: folded names only",
          folded)


def test_errors(exe, tmp):
    path = write(tmp, "bad.folded", b"a;b 1\nno count here\na;c 2\na;d x\n\na;e 3\n")
    rc, out, err = run(exe, ["convert", "--format", "speedscope", path])
    lines = err.strip().splitlines()
    check(rc == 0 and len(lines) == 2, "malformed lines: exit 0, one line each: %d %r" % (rc, lines))
    check(any(l.startswith("flameprof: %s:2: " % path) for l in lines), "line 2 named: %r" % lines)
    check(any(l.startswith("flameprof: %s:4: " % path) for l in lines), "line 4 named: %r" % lines)
    check(json.loads(out)["profiles"][0]["endValue"] == 6, "good lines kept")

    for args, what in ((["convert"], "no format"),
                       (["convert", "--format", "png"], "bad format"),
                       (["convert", "-o", os.path.join(tmp, "x.png")], "unknown ending"),
                       (["convert", "--format", "pprof", "--freq", "0"], "bad freq"),
                       (["convert", "--format", "pprof", "--bogus"], "unknown option"),
                       (["convert", "--format", "pprof", "a", "b"], "two inputs"),
                       (["diff", path], "one file"),
                       (["diff", "-", "-"], "stdin twice"),
                       (["diff", "--width", "5", path, path], "bad width")):
        rc, out, err = run(exe, args)
        check(rc == 2 and out == b"", "%s: exit 2, nothing on stdout (rc %d)" % (what, rc))
        check(err.startswith("flameprof: ") and err.count("flameprof:") == 1,
              "%s: one 'flameprof:' line: %r" % (what, err))
    for args in (["convert", "--format", "pprof", os.path.join(tmp, "missing.folded")],
                 ["diff", os.path.join(tmp, "missing.folded"), path]):
        rc, out, err = run(exe, args)
        check(rc == 1 and "missing.folded" in err and err.count("\n") == 1,
              "missing file: exit 1, one line naming it (%d %r)" % (rc, err))
    # A failed write leaves neither a partial file nor a temporary one behind, and keeps
    # the file that was there.
    target = write(tmp, "keep.pb.gz", b"old")
    rc, _, err = run(exe, ["convert", "-o", target, os.path.join(tmp, "missing.folded")])
    check(rc == 1 and open(target, "rb").read() == b"old", "failed convert keeps the old file")
    rc, _, err = run(exe, ["convert", "-o", os.path.join(tmp, "nodir", "x.pb.gz")], b"a 1\n")
    check(rc == 1 and "nodir" in err and err.count("\n") == 1, "unwritable -o: one line (%r)" % err)
    check(not [f for f in os.listdir(tmp) if ".pb.gz." in f], "no temporary files left")
    for args in (["convert", "--help"], ["diff", "--help"], ["help", "convert"], ["--help"]):
        rc, out, _ = run(exe, args)
        check(rc == 0 and out.startswith(b"Usage: flameprof"), "%s prints usage" % args)
    rc, out, _ = run(exe, ["--help"])
    check(b"  diff " in out and b"  convert " in out, "the command list has diff and convert")
    rc, out, _ = run(exe, ["convert", "--format", "folded"], b"b 1\na 2\nb 3\n")
    check(rc == 0 and out == b"a 2\nb 4\n", "--format folded sorts and merges: %r" % out)
    rc, out, err = run(exe, ["convert", "--to", "folded"], b"b 1\na 2\nb 3\n")
    check(rc == 0 and out == b"a 2\nb 4\n", "--to is --format: %d %r %r" % (rc, out, err))
    rc, _, err = run(exe, ["convert", "--to", "png"], b"a 1\n")
    check(rc != 0 and "--format wants" in err, "--to png: the --format error (%r)" % err)


# ---- diff ------------------------------------------------------------------------------

def diff_frames(svg):
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    box = next(g for g in root.iter(ns + "g") if g.get("id") == "frames")
    out = []
    for g in box.findall(ns + "g"):
        title = g.find(ns + "title").text
        out.append(dict(title=title, name=title[:title.rindex(" (")], s=int(g.get("data-s")),
                        n=int(g.get("data-n")), b=int(g.get("data-b")), a=int(g.get("data-a")),
                        y=float(g.find(ns + "rect").get("y")), agg=g.get("class") == "agg"))
    return root, out


def random_counts(seed, names, stacks, depth):
    rnd = random.Random(seed)
    counts = {}
    for _ in range(stacks):
        st = ";".join(rnd.choice(names) for _ in range(rnd.randint(1, depth)))
        counts[st] = counts.get(st, 0) + rnd.randint(1, 50)
    return counts


def test_diff(exe, tmp, xmllint):
    """Every path of either profile is in the graph, with its exact counts from both."""
    names = ["f%d" % i for i in range(12)]
    before = random_counts(1, names, 400, 6)
    after = random_counts(2, names, 400, 6)
    fb = write(tmp, "before.folded", "".join("%s %d\n" % kv for kv in before.items()).encode())
    fa = write(tmp, "after.folded", "".join("%s %d\n" % kv for kv in after.items()).encode())
    rc, svg, err = run(exe, ["diff", "--minwidth", "0", fb, fa])
    check(rc == 0 and err == "", "diff: exit 0 silently (%d %r)" % (rc, err))
    _, fr = diff_frames(svg)

    def inclusive(counts):
        incl = {}
        for st, c in counts.items():
            fs = st.split(";")
            for d in range(1, len(fs) + 1):
                incl[tuple(fs[:d])] = incl.get(tuple(fs[:d]), 0) + c
        return incl
    ib, ia = inclusive(before), inclusive(after)
    # Rebuild each frame's path from the rows (frames of a row are disjoint).
    rows = {}
    for f in fr:
        rows.setdefault(f["y"], []).append(f)
    ys = sorted(rows, reverse=True)
    paths = {}
    for depth, y in enumerate(ys):
        for f in rows[y]:
            if depth == 0:
                paths[id(f)] = ()
                continue
            parent = next(p for p in rows[ys[depth - 1]] if p["s"] <= f["s"] < p["s"] + p["n"])
            paths[id(f)] = paths[id(parent)] + (f["name"],)
    drawn = {paths[id(f)]: f for f in fr if paths[id(f)]}
    check(set(drawn) == set(ib) | set(ia), "every path of both profiles is drawn (%d missing)"
          % len((set(ib) | set(ia)) - set(drawn)))
    bad = [p for p, f in drawn.items() if (f["b"], f["a"]) != (ib.get(p, 0), ia.get(p, 0))]
    check(not bad, "before/after counts of every frame are exact: %r" % bad[:3])
    gone = [p for p in ib if p not in ia]
    check(gone and all(drawn[p]["n"] > 0 for p in gone), "paths only BEFORE has have a width")
    root = next(f for f in fr if not paths[id(f)])
    check((root["b"], root["a"]) == (sum(before.values()), sum(after.values())), "root totals")
    sub = ET.fromstring(svg).find(".//{http://www.w3.org/2000/svg}text[@id='subtitle']")
    check(sub is not None and fb in sub.text and fa in sub.text, "default subtitle names the files")

    # stdin for one side; hostile names stay valid XML.
    rc, svg2, _ = run(exe, ["diff", "--minwidth", "0", fb, "-"], open(fa, "rb").read())
    check(rc == 0 and diff_frames(svg2)[1] == fr, "AFTER from standard input: same frames")
    dest = os.path.join(tmp, "d.svg")
    rc, out, err = run(exe, ["diff", "--minwidth", "0", "-o", dest, fb, fa])
    check(rc == 0 and out == b"" and open(dest, "rb").read() == svg,
          "diff -o FILE: the same SVG there, nothing on stdout (%d %r)" % (rc, err))
    hb = write(tmp, "hb.folded", HOSTILE)
    rc, hsvg, _ = run(exe, ["diff", "--title", "<&>", hb, "-"], HOSTILE.replace(b" 1\n", b" 9\n"))
    try:
        ET.fromstring(hsvg)
    except ET.ParseError as e:
        check(False, "diff of hostile names is XML: %s" % e)
    if xmllint:
        p = subprocess.run([xmllint, "--noout", "-"], input=hsvg, capture_output=True)
        check(p.returncode == 0, "xmllint accepts the diff of hostile names: %r" % p.stderr[:300])


# ---- go tool pprof ---------------------------------------------------------------------

def realistic(seed):
    """Stacks like a real profile: a few hundred functions, inlined frames, recursion."""
    rnd = random.Random(seed)
    funcs = ["pkg%d::func_%d" % (i % 7, i) for i in range(150)]
    counts = {}
    for _ in range(3000):
        depth = rnd.randint(1, 25)
        frames = ["_start", "main"]
        for _ in range(depth):
            f = rnd.choice(funcs[:20]) if rnd.random() < 0.5 else rnd.choice(funcs)
            frames.append(f)
            if rnd.random() < 0.15:  # inlined frames: their own names, only ever inlined
                frames.append("inl_%d_[i]" % rnd.randint(0, 30))
        st = ";".join(frames)
        counts[st] = counts.get(st, 0) + int(1 / (1 - rnd.random()) ** 1.3)
    return counts


def expected_top(counts):
    """flat and cum per function, as pprof counts them: the leaf's self time, and each
    function once per sample whatever its recursion."""
    flat, cum = {}, {}
    for st, c in counts.items():
        names = [f[:-4] if f.endswith("_[i]") else f for f in st.split(";")]
        flat[names[-1]] = flat.get(names[-1], 0) + c
        for n in set(names):
            cum[n] = cum.get(n, 0) + c
    return flat, cum


def test_go(exe, go, tmp):
    counts = realistic(11)
    total = sum(counts.values())
    src = write(tmp, "real.folded", "".join("%s %d\n" % kv for kv in counts.items()).encode())
    pb = os.path.join(tmp, "real.pb.gz")
    rc, _, err = run(exe, ["convert", "-o", pb, "--freq", "1000", src])
    check(rc == 0, "convert: %s" % err)
    env = dict(os.environ, PPROF_TMPDIR=tmp, HOME=os.environ.get("HOME") or tmp,
               GOCACHE=os.path.join(tmp, "gocache"), GOFLAGS="-mod=mod")
    base = [go, "tool", "pprof", "-top", "-nodecount=100000", "-nodefraction=0",
            "-edgefraction=0"]
    p = subprocess.run(base + ["-sample_index=samples", pb], capture_output=True, text=True,
                       env=env, timeout=120)
    check(p.returncode == 0, "go tool pprof -top: exit %d: %s" % (p.returncode, p.stderr[-500:]))
    m = re.search(r"Showing nodes accounting for (\d+), 100% of (\d+) total", p.stdout)
    check(m and int(m.group(2)) == total and int(m.group(1)) == total,
          "pprof total %s == folded total %d" % (m and m.group(2), total))
    check("Dropped" not in p.stdout, "no node dropped")
    flat_want, cum_want = expected_top(counts)
    flat, cum = {}, {}
    for line in p.stdout.splitlines():
        f = re.match(r"\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.*)$", line)
        if f:
            name = f.group(3)
            name = name[:-len(" (inline)")] if name.endswith(" (inline)") else name
            flat[name] = int(f.group(1))
            cum[name] = int(f.group(2))
    check({k: v for k, v in flat.items() if v} == {k: v for k, v in flat_want.items() if v},
          "flat of every function matches")
    check(cum == cum_want, "cum of every function matches (recursion counted once)")
    top_want = sorted(flat_want.items(), key=lambda kv: -kv[1])[:10]
    top_got = sorted(flat.items(), key=lambda kv: -kv[1])[:10]
    check([v for _, v in top_want] == [v for _, v in top_got] and
          {k for k, v in top_want if v > top_want[-1][1]} <= {k for k, _ in top_got},
          "same top functions: %r vs %r" % (top_got[:3], top_want[:3]))
    # The cpu values: count x period (1 ms at 1000 Hz).
    p = subprocess.run(base + ["-sample_index=cpu", "-unit=ms", pb], capture_output=True,
                       text=True, env=env, timeout=120)
    m = re.search(r"of ([\d.]+)ms total", p.stdout)
    check(m and abs(float(m.group(1)) - total) < 0.5, "cpu total %s ms == %d samples x 1 ms"
          % (m and m.group(1), total))
    print("go tool pprof: %d samples, %d functions, totals and every flat/cum match"
          % (total, len(cum)))
    test_go_names(exe, go, tmp, env)
    test_go_threads(exe, go, tmp, env)


def test_go_threads(exe, go, tmp, env):
    """go tool pprof -tags shows the thread labels with their sample counts."""
    pb = os.path.join(tmp, "thr.pb.gz")
    rc, _, err = run(exe, ["convert", "--threads", "-o", pb, write(tmp, "thr.folded", THREADS_IN)])
    check(rc == 0, "convert threads: %s" % err)
    p = subprocess.run([go, "tool", "pprof", "-sample_index=samples", "-tags", pb],
                       capture_output=True, text=True, env=env, timeout=120)
    tags = re.sub(r"\s+", " ", p.stdout)
    check(p.returncode == 0, "go tool pprof -tags: exit %d: %s" % (p.returncode, p.stderr[-300:]))
    # pprof leaves out the sample without locations (worker-1's root alone, 2).
    for want in ("thread: Total 9.0 6.0 (66.67%): main 3.0 (33.33%): worker-1",
                 "thread_id: Total 9.0 6.0 (66.67%): 4242 3.0 (33.33%): 4243"):
        check(want in tags, "-tags: %r" % want, tags[:600])


# Frames as V8's and CPython's perf maps and the JVM agent name them, with their tags.
RUNTIMES = (
    b"_start;main;JS:~executeUserEntryPoint node:internal/modules/run_main:155:31_[j];"
    b"JS:*leaf /app/cpu.js:2:15_[j] 5\n"
    b"_start;main;py::handle:/srv/app.py_[j];py::leaf_d:/srv/hot.py_[j] 3\n"
    b"_start;main;com.example.Foo.bar(int)_[j];com.example.Foo.helper(int)_[i];"
    b"do_sin_[i];page_fault_[k] 2\n")


def test_go_names(exe, go, tmp, env):
    """go tool pprof -top/-raw/-traces show names without tags, file and line columns."""
    src = write(tmp, "rt.folded", RUNTIMES)
    pb = os.path.join(tmp, "rt.pb.gz")
    run(exe, ["convert", "-o", pb, src])

    def pprof(*args):
        return subprocess.run([go, "tool", "pprof", "-sample_index=samples"] + list(args) + [pb],
                              capture_output=True, text=True, env=env, timeout=120).stdout
    top, raw, traces = pprof("-top", "-nodecount=100"), pprof("-raw"), pprof("-traces")
    want = {"executeUserEntryPoint", "leaf", "handle", "leaf_d", "com.example.Foo.bar",
            "com.example.Foo.helper", "do_sin", "page_fault", "main", "_start"}
    got = {re.sub(r" \(inline\)$", "", l.split(None, 5)[5])
           for l in top.splitlines() if re.match(r"\s*\d+\s+[\d.]+%", l)}
    check(got == want, "-top: the functions by their bare names", str(sorted(got)))
    check("_[" not in top + traces,
          "-top and -traces show no folded tag", traces[-300:])
    for line in ("executeUserEntryPoint node:internal/modules/run_main:155 s=155",
                 "leaf /app/cpu.js:2 s=2", "leaf_d /srv/hot.py:0 s=0"):
        check(line in raw, "-raw: function, file:line, start line: %r" % line)
    check(all(n in traces for n in ("executeUserEntryPoint", "leaf_d", "do_sin")),
          "-traces: the stacks by bare names")
    rc, out, _ = run(exe, ["convert", "--format", "folded", "--sample-index", "samples", pb])
    check(out == b"".join(sorted(RUNTIMES.splitlines(True))),
          "folded -> pprof -> folded exact with tags, tiers and locations", out.decode()[:300])


# ---- speedscope's schema ---------------------------------------------------------------

class Schema:
    """The part of JSON Schema (draft 7) that speedscope's file-format-schema.json uses.
    A keyword it does not know fails the test rather than being ignored."""
    KNOWN = {"$ref", "type", "properties", "required", "items", "anyOf", "const", "enum",
             "additionalProperties", "title", "description", "$schema", "definitions"}

    def __init__(self, doc):
        self.doc = doc

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("non-local $ref " + ref)
        node = self.doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def errors(self, value, schema, path="$"):
        unknown = set(schema) - self.KNOWN
        if unknown:
            return ["%s: schema keyword(s) %s not supported by this checker" % (path, unknown)]
        if "$ref" in schema:
            return self.errors(value, self.resolve(schema["$ref"]), path)
        errs = []
        t = schema.get("type")
        types = {"object": dict, "array": list, "string": str, "boolean": bool}
        if t == "number" and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return ["%s: not a number" % path]
        if t == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            return ["%s: not an integer" % path]
        if t in types and not isinstance(value, types[t]):
            return ["%s: not %s" % (path, t)]
        if "const" in schema and value != schema["const"]:
            errs.append("%s: %r is not %r" % (path, value, schema["const"]))
        if "enum" in schema and value not in schema["enum"]:
            errs.append("%s: %r not in %r" % (path, value, schema["enum"]))
        if "anyOf" in schema and all(self.errors(value, s, path) for s in schema["anyOf"]):
            errs.append("%s: matches none of anyOf" % path)
        if isinstance(value, dict):
            for k in schema.get("required", []):
                if k not in value:
                    errs.append("%s: missing %r" % (path, k))
            props = schema.get("properties", {})
            for k, v in value.items():
                if k in props:
                    errs += self.errors(v, props[k], "%s.%s" % (path, k))
                elif schema.get("additionalProperties") is False:
                    errs.append("%s: unexpected %r" % (path, k))
        if isinstance(value, list) and "items" in schema:
            for i, v in enumerate(value):
                errs += self.errors(v, schema["items"], "%s[%d]" % (path, i))
        return errs


def find_schema(npm_dir):
    hits = sorted(glob.glob(os.path.join(npm_dir, "node_modules", "speedscope", "dist", "**",
                                         "file-format-schema.json"), recursive=True))
    return hits[0] if hits else None


def test_schema(exe, npm_dir, tmp):
    path = find_schema(npm_dir)
    if not path:
        npm = shutil.which("npm")
        if not npm:
            skip("npm not found: the speedscope JSON was NOT checked against speedscope's schema")
        os.makedirs(npm_dir, exist_ok=True)
        try:
            p = subprocess.run([npm, "install", "--prefix", npm_dir, "--no-audit", "--no-fund",
                                "--no-save", "--loglevel=error", "speedscope@1"],
                               capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            p = None
        path = find_schema(npm_dir)
        if not path:
            skip("could not install the npm package speedscope (%s): the speedscope JSON was "
                 "NOT checked against its schema" % (p.stderr.strip()[-300:] if p else "timeout"))
    schema = Schema(json.load(open(path)))
    counts = realistic(5)
    inputs = {
        "realistic": "".join("%s %d\n" % kv for kv in counts.items()).encode(),
        "hostile": HOSTILE,
        "empty": b"",
        "one": b"main 1\n",
        "threads": THREADS_IN,  # with --threads: the per-thread views too
    }
    for name, data in inputs.items():
        rc, out, err = run(exe, ["convert", "--threads", "--format", "speedscope"], data)
        check(rc == 0, "%s: exit 0 (%s)" % (name, err))
        doc = json.loads(out)
        errs = schema.errors(doc, schema.doc)
        check(not errs, "%s: speedscope's schema: %s" % (name, errs[:5]))
        prof = doc["profiles"][0]
        check(len(prof["samples"]) == len(prof["weights"]), "%s: samples and weights pair" % name)
    # The checker itself must reject what the schema forbids.
    bad = json.loads(run(exe, ["convert", "--format", "speedscope"], b"a 1\n")[1])
    bad["profiles"][0]["unit"] = "samples"
    check(schema.errors(bad, schema.doc), "the checker rejects unit 'samples'")
    del bad["shared"]
    check(schema.errors(bad, schema.doc), "the checker rejects a missing 'shared'")
    print("speedscope schema: %s, %d files valid" % (os.path.relpath(path, npm_dir), len(inputs)))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("cli", "go", "schema"):
        sys.exit(__doc__)
    mode, exe = sys.argv[1], sys.argv[2]
    ck.name = "convert_cli " + mode
    arg = sys.argv[3] if len(sys.argv) > 3 else ""
    with tempfile.TemporaryDirectory(prefix="fp-convert-") as tmp:
        if mode == "cli":
            test_pprof_golden(exe, tmp)
            test_pprof_hostile(exe)
            test_pprof_threads(exe, tmp)
            test_speedscope(exe, tmp)
            test_speedscope_threads(exe, tmp)
            test_sources(exe, tmp)
            test_errors(exe, tmp)
            test_diff(exe, tmp, arg)
        elif mode == "go":
            if not arg or not shutil.which(arg):
                skip("go not found (apt-get install golang-go): the pprof output was NOT read "
                     "by go tool pprof")
            test_go(exe, arg, tmp)
        else:
            test_schema(exe, arg, tmp)
    sys.exit(ck.finish())


if __name__ == "__main__":
    main()
