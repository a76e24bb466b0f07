#!/usr/bin/env python3
"""run_heatmap.py - the heatmap page in headless Chromium (heatmap_test.js): a real run
through two phases (wl_phases under the library, FLAMEPROF_FORMAT=heatmap), the same run's
range written by `flameprof report --from/--to` to compare a selection with, and an hour of
synthetic timeline (heatmap_gen) for the load time.

Usage: run_heatmap.py FLAMEPROF LIB WL_PHASES HEATMAP_GEN NPM_DIR
Skips (exit 77), loudly, without chromium, node or npm (run_browser.browser).
"""
import json
import math
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import fptest  # noqa: E402
import run_browser  # noqa: E402  find_chromium, ensure_playwright


def must(r, what):
    if r.returncode != 0:
        sys.exit("%s failed (%s): %s" % (what, r.returncode, r.stderr[-500:]))


def end_slot(raw):
    end = 0
    with open(raw) as f:
        for line in f:
            if line.startswith("T ") and line.endswith("\n"):
                end = max(end, int(line.split()[1], 16) + 1)
    return end


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    exe, lib, wl, gen, npm_dir = sys.argv[1:5] + [os.path.abspath(sys.argv[5])]
    tools = run_browser.browser(npm_dir)
    with tempfile.TemporaryDirectory(prefix="fp-heatmap-") as tmp:
        stem = os.path.join(tmp, "run")
        must(fptest.run([wl, "1.5", "2"], lib=lib, env={
            "FLAMEPROF_OUT": stem, "FLAMEPROF_FORMAT": "heatmap,timeline,folded"}), "wl_phases")
        # the selection the page is asked for: slots 25..74, i.e. [0.5 s, 1.5 s)
        must(fptest.run([exe, "report", "-q", "--format", "folded", "-o", stem + ".range",
                         "--from", "0.5", "--to", "1.5", stem + ".raw"]), "report --from/--to")
        must(fptest.run([gen, os.path.join(tmp, "hour.html"), "3600"]), "heatmap_gen")
        end = end_slot(stem + ".raw")
        with open(os.path.join(tmp, "expect.json"), "w") as f:
            json.dump({"columns": math.ceil(end / 50), "range": [25, 74],
                       "hour_columns": 3600}, f)
        rc = run_browser.run_node(tools, "heatmap_test.js", tmp, 200)
    sys.exit(rc)


if __name__ == "__main__":
    main()
