#!/usr/bin/env python3
"""svg_cli.py - the `flameprof svg` command end to end.

Usage: svg_cli.py cli FLAMEPROF          options, errors, stdin, geometry invariants
       svg_cli.py xml FLAMEPROF XMLLINT   xmllint accepts SVGs of hostile input (77: skip)

Prints each failed expectation; exits 1 if any failed.
"""
import bisect
import os
import random
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import fptest  # noqa: E402  the shared test library

NS = "{http://www.w3.org/2000/svg}"
XPAD = 10
ck = fptest.Checks("svg_cli", quiet=True)
check = ck.check


def run(exe, args, stdin=b""):
    r = fptest.run([exe] + args, stdin=stdin, timeout=60, echo=False)
    return r.returncode, r.out, r.stderr


def frames(svg_bytes):
    """(title, s, n, x, y, w, agg) for every frame, from a real XML parse."""
    root = ET.fromstring(svg_bytes)
    box = next(g for g in root.iter(NS + "g") if g.get("id") == "frames")
    out = []
    for g in box.findall(NS + "g"):
        r = g.find(NS + "rect")
        out.append(dict(title=g.find(NS + "title").text, s=int(g.get("data-s")),
                        n=int(g.get("data-n")), x=float(r.get("x")), y=float(r.get("y")),
                        w=float(r.get("width")), agg=g.get("class") == "agg"))
    return root, out


def name_of(f):
    return f["title"][:f["title"].rindex(" (")]


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_small_file(exe, tmp):
    path = write(tmp, "small.folded", b"main;work 30\nmain;idle 10\nother 60\n")
    rc, out, err = run(exe, ["svg", "--title=Small", "--width", "1020", path])
    check(rc == 0 and err == "", "small file renders silently (rc %d, %r)" % (rc, err))
    root, fr = frames(out)
    check(root.get("width") == "1020", "--width sets the width")
    by = {name_of(f): f for f in fr}
    check(set(by) == {"all", "main", "work", "idle", "other"}, "frames %s" % sorted(by))
    # 100 samples on 1000 px: 10 px per sample, children in name order from the parent's x.
    check((by["main"]["x"], by["main"]["w"]) == (10, 400), "main geometry %r" % by["main"])
    check((by["idle"]["x"], by["idle"]["w"]) == (10, 100), "idle geometry %r" % by["idle"])
    check((by["work"]["x"], by["work"]["w"]) == (110, 300), "work geometry %r" % by["work"])
    check((by["other"]["x"], by["other"]["w"]) == (410, 600), "other geometry %r" % by["other"])
    title = next(t for t in root.iter(NS + "text") if t.get("id") == "title")
    check(title.text == "Small", "--title=T form")
    # Same bytes from stdin, and on every run.
    rc2, out2, _ = run(exe, ["svg", "--title", "Small", "--width=1020"], open(path, "rb").read())
    check(rc2 == 0 and out2 == out, "stdin and file give identical SVGs")


def test_malformed(exe, tmp):
    path = write(tmp, "bad.folded", b"a;b 1\nno count here\na;c 2\na;d x\n\na;e 3\n")
    rc, out, err = run(exe, ["svg", path])
    check(rc == 0, "malformed lines do not fail the command (rc %d)" % rc)
    lines = err.strip().splitlines()
    check(len(lines) == 2, "one stderr line per malformed line: %r" % lines)
    check(any(l.startswith("flameprof: %s:2: " % path) for l in lines), "line 2 reported: %r" % lines)
    check(any(l.startswith("flameprof: %s:4: " % path) for l in lines), "line 4 reported: %r" % lines)
    try:
        _, fr = frames(out)
        a = next(f for f in fr if name_of(f) == "a")
        check(a["n"] == 6, "good lines kept (a has %d samples)" % a["n"])
    except ET.ParseError as e:
        check(False, "output of a file with malformed lines is XML: %s" % e)


def test_options_and_errors(exe, tmp):
    path = write(tmp, "opts.folded", b"a;b;c 1\nx;b;c 2\n")
    rc, out, _ = run(exe, ["svg", "--reverse", "--inverted", "--hash", "--colors", "java",
                           "--countname", "bytes", "--subtitle", "sub", "--minwidth", "1%", path])
    check(rc == 0, "all options accepted")
    root, fr = frames(out)
    by = {name_of(f): f for f in fr}
    check(by.get("c", {}).get("n") == 3, "--reverse merges from the leaf")
    check(by["all"]["y"] < by["c"]["y"], "--inverted puts the root on top")
    check(" bytes, " in by["c"]["title"], "--countname in titles")
    for args, what in ((["svg", "--bogus"], "unknown option"), (["svg", "--width", "x"], "bad width"),
                       (["svg", "--colors", "perl"], "bad palette"), (["frob"], "unknown command"),
                       (["svg", "--minwidth", "-1"], "negative minwidth")):
        rc, out, err = run(exe, args)
        check(rc == 2 and out == b"", "%s: exit 2, nothing on stdout (rc %d)" % (what, rc))
        check(err.startswith("flameprof: ") and err.count("flameprof:") == 1,
              "%s: one 'flameprof:' line: %r" % (what, err))
    rc, out, err = run(exe, ["svg", os.path.join(tmp, "missing.folded")])
    check(rc == 1 and "missing.folded" in err, "missing file: exit 1 and named (%d %r)" % (rc, err))
    # -o FILE (as convert, record and report take it): the same bytes as standard output.
    src = write(tmp, "o.folded", b"main;a 3\nmain;b 1\n")
    _, want, _ = run(exe, ["svg", src])
    dest = os.path.join(tmp, "o.svg")
    rc, out, err = run(exe, ["svg", "-o", dest, src])
    check(rc == 0 and out == b"" and err == "" and open(dest, "rb").read() == want,
          "svg -o FILE writes the graph there, nothing on stdout (%d %r)" % (rc, err))
    rc, out, err = run(exe, ["svg", "--output", os.path.join(tmp, "nodir", "x.svg"), src])
    check(rc == 1 and "nodir" in err and err.count("\n") == 1, "unwritable -o: one line (%r)" % err)
    for args in (["--help"], ["svg", "--help"], ["record", "--help"]):
        rc, out, _ = run(exe, args)
        check(rc == 0 and out.startswith(b"Usage: flameprof"), "%s prints usage" % args)


def test_big_file(exe, tmp):
    """Files over 8 MB take the huge-page heap path (tools/flameprof.c, heap_for): the SVG
    must be the same bytes as from a pipe, which never does."""
    rnd = random.Random(3)
    names = ["mod_%d_function_name" % i for i in range(300)]
    lines = []
    for i in range(20000):
        lines.append("%s;leaf%d %d\n" % (";".join(rnd.choice(names) for _ in range(20)), i,
                                          rnd.randint(1, 100)))
    data = "".join(lines).encode()
    check(len(data) > (8 << 20), "big input is over 8 MB (%d)" % len(data))
    path = write(tmp, "big.folded", data)
    rc1, from_file, _ = run(exe, ["svg", path])
    rc2, from_pipe, _ = run(exe, ["svg"], data)
    check(rc1 == 0 and rc2 == 0 and from_file == from_pipe, "big file: same SVG as from a pipe")


def random_profile(seed, names, stacks, depth):
    rnd = random.Random(seed)
    counts = {}
    for _ in range(stacks):
        stack = ";".join(rnd.choice(names) for _ in range(rnd.randint(1, depth)))
        stack = stack.rstrip(" ")  # as the parser reads "STACK  COUNT"
        if stack:
            counts[stack] = counts.get(stack, 0) + int(1 / (1 - rnd.random()) ** 1.5)
    return counts


def test_invariants(exe, tmp):
    """Random profiles: every sample is accounted for at every level, whatever merging.
    The second one is made of names that are byte prefixes of each other ("a", "a.b",
    "a(", "a:") and of empty frames, which sort around the ';' separator."""
    big = random_profile(7, ["f%d" % i for i in range(40)] + ["g.cold", "g", "g(int)"], 3000, 12)
    tricky = ["a", "a.b", "a:", "a ", "ab", "a(", "a!", "b", "a.b.c", "a.", "", "x"]
    check_profile(exe, big, ((1200, "0.1"), (1200, "5"), (600, "0")))
    for seed in range(5):
        check_profile(exe, random_profile(seed, tricky, 300, 6), ((1200, "0"), (1200, "2")))


def check_profile(exe, counts, settings):
    text = "".join("%s %d\n" % kv for kv in counts.items()).encode()
    total = sum(counts.values())
    # Inclusive count of every path, and the samples below every path, in the true tree.
    incl, kids = {}, {}
    for stack, c in counts.items():
        fr = stack.split(";")
        for d in range(1, len(fr) + 1):
            incl[tuple(fr[:d])] = incl.get(tuple(fr[:d]), 0) + c
            kids[tuple(fr[:d - 1])] = kids.get(tuple(fr[:d - 1]), 0) + c
    for width, minwidth in settings:
        rc, out, _ = run(exe, ["svg", "--width", str(width), "--minwidth", minwidth],
                         text)
        _, fr = frames(out)
        scale = (width - 2 * XPAD) / total
        rows = {}
        for f in fr:
            check(abs(f["x"] - (XPAD + f["s"] * scale)) < 0.006, "x from the count: %r" % f)
            check(abs(f["w"] - f["n"] * scale) < 0.006, "width from the count: %r" % f)
            rows.setdefault(f["y"], []).append(f)
        # Rebuild the drawn tree by containment (frames of a row are disjoint, so the
        # parent is the last one of the row above starting at or before the child).
        ys = sorted(rows, reverse=True)
        for y in ys:
            rows[y].sort(key=lambda f: f["s"])
        path_of, below_sum = {}, {}
        for depth, y in enumerate(ys):
            starts = [p["s"] for p in rows[ys[depth - 1]]] if depth else []
            for f in rows[y]:
                if depth == 0:
                    path_of[id(f)] = ()
                    check(f["n"] == total, "root holds every sample")
                    continue
                i = bisect.bisect_right(starts, f["s"]) - 1
                p = rows[ys[depth - 1]][i] if i >= 0 else None
                ok = p is not None and f["s"] + f["n"] <= p["s"] + p["n"] and not p["agg"]
                check(ok, "one real parent: %r" % f)
                if not ok:
                    continue
                below_sum[id(p)] = below_sum.get(id(p), 0) + f["n"]
                if not f["agg"]:
                    path_of[id(f)] = path_of[id(p)] + (name_of(f),)
                    check(incl.get(path_of[id(f)]) == f["n"], "count of %r" % (path_of[id(f)],))
        # Under every drawn frame that has drawn children, the children add up exactly to
        # the true children's samples: merged or not, nothing is lost.
        for y in ys:
            for p in rows[y]:
                if id(p) in below_sum:
                    want = kids.get(path_of[id(p)], 0)
                    check(below_sum[id(p)] == want, "children of %r add up (%d != %d)"
                          % (path_of[id(p)], below_sum[id(p)], want))
        if minwidth == "0":
            check(not any(f["agg"] for f in fr), "minwidth 0 merges nothing")
            check(len(fr) == len(incl) + 1, "minwidth 0 draws every frame")


HOSTILE = (b"plain;<script>alert(1)</script> 1\n"
           b"amp&;lt<;gt>;quot\";apos' 2\n"
           b"ctl\x01\x02\x1b[31m;tab\there;del\x7f 3\n"
           b"nul\x00inside;x 4\n"
           b"bad\xff\xfe;over\xc0\xaf;sur\xed\xa0\x80;cut\xe2\x82 5\n"
           b"nonchar\xef\xbf\xbe\xef\xbf\xbf;c1\xc2\x80\xc2\x9f 6\n"
           b";;empty;; 7\n"
           b"]]>;<![CDATA[;--> 8\n"
           b"ok\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\xa5 9\n"
           + b"long" + b"x" * 100000 + b" 10\n")


def test_xml(exe, xmllint, tmp):
    cases = {
        "hostile": (["svg", "--minwidth", "0"], HOSTILE),
        "hostile-reverse-inverted": (["svg", "--reverse", "--inverted"], HOSTILE),
        "hostile-title": (["svg", "--title", "<&>\"'\x01", "--subtitle", "]]>", "--countname",
                           "<c>"], HOSTILE),
        "empty": (["svg"], b""),
        "only-garbage": (["svg"], b"\xff\xfe\n\x00\x00\nno count\n"),
    }
    for name, (args, data) in cases.items():
        rc, out, err = run(exe, args, data)
        check(rc == 0, "%s: exit 0 (rc %d, %s)" % (name, rc, err))
        path = write(tmp, name + ".svg", out)
        p = subprocess.run([xmllint, "--noout", path], capture_output=True)
        check(p.returncode == 0, "%s: xmllint --noout: %s" % (name, p.stderr.decode(errors="replace")))
        try:
            ET.fromstring(out)
        except ET.ParseError as e:
            check(False, "%s: ElementTree: %s" % (name, e))


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("cli", "xml"):
        sys.exit(__doc__)
    mode, exe = sys.argv[1], sys.argv[2]
    ck.name = "svg_cli " + mode
    with tempfile.TemporaryDirectory(prefix="fp-svg-cli-") as tmp:
        if mode == "cli":
            test_small_file(exe, tmp)
            test_malformed(exe, tmp)
            test_options_and_errors(exe, tmp)
            test_invariants(exe, tmp)
            test_big_file(exe, tmp)
        else:
            xmllint = sys.argv[3] if len(sys.argv) > 3 else ""
            if not xmllint:
                fptest.skip("xmllint not found (apt-get install libxml2-utils); the SVGs of "
                            "hostile input were NOT validated")
            test_xml(exe, xmllint, tmp)
    sys.exit(ck.finish())


if __name__ == "__main__":
    main()
