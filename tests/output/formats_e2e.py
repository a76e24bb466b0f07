#!/usr/bin/env python3
"""formats_e2e.py - FLAMEPROF_FORMAT through the real profiler: a program run with
`flameprof record --format ...` or FLAMEPROF_FORMAT writes exactly the files asked for,
with the same samples in each; a bad name is one warning and is left out.

Usage: formats_e2e.py FLAMEPROF LIBFLAMEPROF BURN     (exit 0: all checks passed)
"""
import gzip
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from convert_cli import pprof_of  # noqa: E402  the protobuf reader of the golden test

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import fptest  # noqa: E402  the shared test library

ck = fptest.Checks("formats_e2e", quiet=True)
check = ck.check


def record(exe, lib, burn, prefix, args=(), env_extra=None):
    return fptest.run([exe, "record", "-o", prefix] + list(args) + ["--", burn],
                      env=dict(env_extra or {}, FLAMEPROF_LIB=lib), timeout=60, echo=False)


def files(tmp, stem):
    return sorted(f[len(stem):] for f in os.listdir(tmp) if f.startswith(stem + "."))


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
