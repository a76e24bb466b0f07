#!/usr/bin/env python3
"""Wall mode's and the perf source's cost (issue 14; figures, not a test).

Each case runs its arms interleaved and rotated (A B C, B C A, ...), --pairs times; printed are
the medians of the process's CPU seconds (user+sys, all threads) and each arm's ratio to the
program without the library. The machine is shared: the load average is printed too.

  jvm    an idle JVM: 50 threads parked in Thread.sleep for --seconds (java missing: skipped)
         arms: none, cpu (the library's default: CPU mode, 997 Hz), wall (FLAMEPROF_MODE=wall,
         97 Hz): wall against cpu is the mode's own cost, the rest is the library's
  node   a busy node HTTP server (node 20): a client process keeps 8 keep-alive requests in
         flight for --seconds; CPU of the server per request served (node missing: skipped)
         arms: none, cpu, wall (node's perf-map flags, which the library adds, are in both)
  native wl_alternate 0.5 (4 threads x 0.5 s of CPU: a 2 CPU-second native program) at 997 Hz
         arms: none, timer (FLAMEPROF_SOURCE=timer), perf (FLAMEPROF_SOURCE=perf)

    python3 tools/bench_wall.py --build build [--pairs 5] [--cases jvm,node,native]
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "common"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fptest  # noqa: E402  the test library: clean environment
from bench import run as run_wait  # noqa: E402  (CPU seconds, stderr) of one run

JAVA = r'''public class Idle50 { public static void main(String[] a) throws Exception {
  long ms = Long.parseLong(a[0]); Thread[] t = new Thread[50];
  for (int i = 0; i < 50; i++) { t[i] = new Thread(() -> { try { Thread.sleep(ms); }
    catch (InterruptedException e) { throw new RuntimeException(e); } }); t[i].start(); }
  for (Thread x : t) x.join(); System.out.println("ok"); } }
'''

SERVER = r'''const http = require('http');
const srv = http.createServer((req, res) => {
  let s = 0; for (let i = 0; i < 20000; i++) s += Math.sqrt(i) * (i % 7);
  const body = JSON.stringify({ url: req.url, s, items: Array.from({ length: 20 }, (_, i) => i) });
  res.writeHead(200, { 'content-type': 'application/json' }); res.end(body);
});
srv.listen(0, '127.0.0.1', () => console.log(srv.address().port));
process.on('SIGTERM', () => srv.close(() => process.exit(0)));
'''

CLIENT = r'''const http = require('http');
const [port, secs] = [Number(process.argv[2]), Number(process.argv[3])];
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const end = Date.now() + secs * 1000; let n = 0;
function one() {
  if (Date.now() > end) { if (--live === 0) { console.log(n); agent.destroy(); } return; }
  http.get({ host: '127.0.0.1', port, path: '/x', agent }, (res) => {
    res.resume(); res.on('end', () => { n++; one(); }); });
}
let live = 8; for (let i = 0; i < 8; i++) one();
'''


def cpu_of_pid(pid):
    """utime + stime of a live process, all threads (seconds)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def arm_env(lib, work, arm):
    env = fptest.clean_env()
    if arm == "none":
        return env
    env.update(LD_PRELOAD=lib, FLAMEPROF_OUT=os.path.join(work, "p.%p"), FLAMEPROF_QUIET="1")
    if arm == "wall":
        env["FLAMEPROF_MODE"] = "wall"
    elif arm != "cpu":
        env.update(FLAMEPROF_SOURCE=arm, FLAMEPROF_FREQ="997")
    return env


def case_jvm(a, lib, work):
    if not shutil.which("java"):
        print("SKIP jvm: no java")
        return None
    src = os.path.join(work, "Idle50.java")
    with open(src, "w") as f:
        f.write(JAVA)
    ms = str(int(a.seconds * 1000))
    return ["none", "cpu", "wall"], lambda arm: run_wait(["java", src, ms], arm_env(lib, work, arm))[0]


def case_node(a, lib, work):
    if not shutil.which("node"):
        print("SKIP node: no node")
        return None
    srv, cli = os.path.join(work, "server.js"), os.path.join(work, "client.js")
    for path, text in ((srv, SERVER), (cli, CLIENT)):
        with open(path, "w") as f:
            f.write(text)

    def one(arm):
        p = subprocess.Popen(["node", srv], env=arm_env(lib, work, arm), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True)
        port = p.stdout.readline().strip()
        c = subprocess.run(["node", cli, port, str(a.seconds)], env=fptest.clean_env(),
                           capture_output=True, text=True, check=True)
        served = int(c.stdout.strip())
        cpu = cpu_of_pid(p.pid)
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=60)
        return cpu / max(1, served) * 1e6  # CPU microseconds a request
    return ["none", "cpu", "wall"], one


def case_native(a, lib, work):
    exe = os.path.join(a.build, "tests", "wall", "wl_alternate")
    return ["none", "timer", "perf"], lambda arm: run_wait([exe, "0.5"],
                                                          arm_env(lib, work, arm))[0]


CASES = {"jvm": (case_jvm, "CPU s"), "node": (case_node, "CPU us/request"),
         "native": (case_native, "CPU s")}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--cases", default="jvm,node,native")
    a = ap.parse_args()
    lib = os.path.abspath(os.path.join(a.build, "preload", "libflameprof.so"))
    for name in a.cases.split(","):
        make, unit = CASES[name]
        with tempfile.TemporaryDirectory() as work:
            made = make(a, lib, work)
            if not made:
                continue
            arms, measure = made
            got = {arm: [] for arm in arms}
            for i in range(a.pairs):
                order = arms[i % len(arms):] + arms[:i % len(arms)]
                for arm in order:
                    got[arm].append(measure(arm))
            base = statistics.median(got["none"])
            load = open("/proc/loadavg").read().split()[0]
            line = ", ".join(f"{arm} {statistics.median(v):.3f} (x{statistics.median(v) / base:.3f}"
                             f"; pairs x{min(x / y for x, y in zip(v, got['none'])):.2f}-"
                             f"{max(x / y for x, y in zip(v, got['none'])):.2f})"
                             for arm, v in got.items())
            print(f"{name} [{unit}, median of {a.pairs}, load {load}]: {line}", flush=True)


if __name__ == "__main__":
    main()
