"""fptest - the one test library of flameprof's Python harnesses (Python 3 standard library).

Every harness (tests/e2e, tests/jit, tests/faults, tests/jvm, tests/output, tests/browser, any
new one) imports it, from the folder beside it:

    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
    import fptest

What it holds, one of each:
  Checks         collects assertions (`ok     ...` / `FAILED ...` lines), so one run reports
                 every failure with its numbers; finish() prints the top stacks of the
                 profiles involved and returns the exit status.
  Profile        a folded-stacks file. Decoding rule: UTF-8 with surrogateescape. The
                 profiler writes frame names as it got them (output/folded.c replaces only
                 `;` and control bytes): UTF-8 where the name was UTF-8 (C++, JS, Java, Python
                 names) and whatever bytes a perf map held otherwise. UTF-8 names read as
                 their characters; any other byte reads as one lone surrogate (0xff ->
                 '\\udcff'), distinct and reversible, never a U+FFFD that would merge two
                 different names: a test names one as fptest.decode(b'...\\xff...'). Output
                 of programs is read the same way.
  run / start    runs a program (optionally under LD_PRELOAD) with a clean environment, a time
                 limit (a hang is killed and reported, never a stuck CI job), default signal
                 dispositions and no core files; returns a Run with status, output, CPU, wall.
  parse_summary  the profiler's exit line (`flameprof: pid N: weight=... ; wrote PATHS`);
  check_summary  its assertions (count, fields, dropped=0, weight = folded total, paths).
  Skip / skip    a test that cannot run here exits 77, with a loud SKIP banner: never a pass.
  run_test       runs one test function: Skip, a crash in the checks, finish, cleanup.
  Workdir        a test's temporary directory, kept when the test fails.
  checks on profiles: load_profile (written, well-formed, with samples), check_svg,
                 check_present (a frame, with its near misses when missing), check_split
                 (CPU shares among functions), check_rooted (stacks start at a thread root).
  find_node / find_python   a runtime's ELF executable (never pyenv's shell-script shims,
                 which would load the profiler into bash too), or Skip.
"""

import glob
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import xml.etree.ElementTree as ET

FREQ = 997                 # the profiler's default sampling rate
SKIP = 77                  # meson's exit status for a skipped test
RUN_TIMEOUT = 60           # seconds per program run unless a harness or call says otherwise
TOP_STACKS = 20            # stacks of each profile printed when a test fails
STACK_TEXT_MAX = 300       # characters of one stack printed (root kept, then the leaf end)
# Variables that change what the profiler or a runtime does: never inherited from the caller.
# DEBUGINFOD_URLS makes a process keep its raw spill for `flameprof report` (and the command
# go to the network): a test that wants it sets it.
RUNTIME_ENV = ('LD_PRELOAD', 'NODE_OPTIONS', 'PYTHONPERFSUPPORT', 'JAVA_TOOL_OPTIONS',
               'DEBUGINFOD_URLS')

# Names may hold lone surrogates (see above): print them escaped instead of dying on them.
for _stream in (sys.stdout, sys.stderr):
    if hasattr(_stream, 'reconfigure'):
        _stream.reconfigure(errors='backslashreplace')


def decode(data):
    """Bytes the profiler or a program wrote, as text (the module's one decoding rule)."""
    return data.decode('utf-8', 'surrogateescape')


def pct(x, total):
    return 100.0 * x / total if total else 0.0


# --- profiles ---------------------------------------------------------------------------------

def compress(frames):
    """A stack root-first, runs of one frame shown as `name xN`."""
    out = []
    i = 0
    while i < len(frames):
        j = i
        while j < len(frames) and frames[j] == frames[i]:
            j += 1
        out.append(frames[i] if j - i == 1 else f'{frames[i]} x{j - i}')
        i = j
    return ';'.join(out)


def stack_text(frames, limit=STACK_TEXT_MAX):
    """A stack for a human: compressed; when too long, the root and as much of the leaf end
    as fits (the leaf end is what tells stacks apart; runtimes' C++ names are long)."""
    text = compress(frames)
    if len(text) <= limit:
        return text
    for k in range(len(frames) - 1, 0, -1):
        tail = compress(frames[-k:])
        if len(tail) <= limit or k == 1:
            return f'{frames[0]};...({len(frames) - 1 - k} more);{tail[-limit:]}'
    return text[-limit:]


class Profile:
    """A folded-stacks file: lines `root;...;leaf COUNT`, read by the decoding rule above.
    Lines that are not `stack count` (count > 0) are kept in bad_lines, not in stacks."""

    def __init__(self, path):
        self.path = path
        with open(path, 'rb') as f:
            self.raw = f.read()
        self.stacks = []
        self.bad_lines = []
        for n, line in enumerate(decode(self.raw).split('\n'), 1):
            if not line:
                continue
            stack, _, count = line.rpartition(' ')
            if not stack or not count.isdigit() or int(count) <= 0:
                self.bad_lines.append((n, line[:200]))
                continue
            self.stacks.append((tuple(stack.split(';')), int(count)))
        self.total = sum(c for _, c in self.stacks)

    def weight(self, pred):
        """Summed counts of the stacks for which pred(frames) holds."""
        return sum(c for frames, c in self.stacks if pred(frames))

    def inclusive(self, name):
        """A function's weight: the stacks holding its frame anywhere, each counted once."""
        return self.weight(lambda frames: name in frames)

    def top(self, n):
        return sorted(self.stacks, key=lambda s: -s[1])[:n]

    def frame_names(self):
        return {f for frames, _ in self.stacks for f in frames}

    def roots(self, pred=lambda frames: True):
        """{root frame: weight} over the stacks for which pred holds."""
        out = {}
        for frames, c in self.stacks:
            if pred(frames):
                out[frames[0]] = out.get(frames[0], 0) + c
        return out


def folded_in(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith('.folded'))


# --- assertions -------------------------------------------------------------------------------

class Skip(Exception):
    """Raised by a test that cannot run here (a runtime or a tool missing); run_test makes
    it exit 77 when nothing failed before it."""


def skip_banner(why):
    line = '*' * 78
    print(f'{line}\nSKIP: {why}\n{line}', flush=True)
    print(f'SKIP: {why}', file=sys.stderr, flush=True)


def skip(why):
    """The whole test cannot run here: say so loudly, exit 77 (never a pass)."""
    skip_banner(why)
    sys.exit(SKIP)


class Checks:
    """Collects assertion results so one run reports every failure, not just the first.
    quiet: print only the failures (for harnesses that make thousands of checks)."""

    def __init__(self, name, quiet=False):
        self.name = name
        self.quiet = quiet
        self.failed = []
        self.passed = 0
        self.profiles = []  # (label, Profile) printed on failure

    def check(self, ok, what, detail=''):
        line = f'{what}: {detail}' if detail else what
        if not ok or not self.quiet:
            print(('ok     ' if ok else 'FAILED ') + line, flush=not ok)
        if ok:
            self.passed += 1
        else:
            self.failed.append(line)
        return ok

    def show(self, label, prof):
        """Print prof's top stacks if the test fails."""
        if prof is not None and not any(p is prof for _, p in self.profiles):
            self.profiles.append((label, prof))

    def finish(self):
        if not self.failed:
            print(f'PASS {self.name} ({self.passed} checks)')
            return 0
        print(f'\nFAIL {self.name}: {len(self.failed)} assertion(s) failed:')
        for f in self.failed:
            print('  - ' + f)
        for label, prof in self.profiles:
            print(f'\nTop {TOP_STACKS} stacks of {label} (total weight {prof.total}):')
            for frames, count in prof.top(TOP_STACKS):
                print(f'  {count:7d} {pct(count, prof.total):5.1f}%  {stack_text(frames)}')
        return 1


def run_test(ck, fn, *args, cleanup=None):
    """Runs fn(*args) and returns the exit status: 0 pass, 1 fail, 77 skipped. A Skip after a
    failed check is a failure (what did run failed); an exception in the checks is a failure
    with its traceback. cleanup(failed) runs last."""
    rc = None
    try:
        fn(*args)
    except Skip as e:
        skip_banner(f'{ck.name}: {e}')
        if not ck.failed:
            rc = SKIP
        else:
            ck.check(False, 'the test ran to its end', f'skipped after a failure: {e}')
    except Exception as e:  # noqa: BLE001 - a crash in the checks is a failure
        traceback.print_exc()
        ck.check(False, 'test ran to completion', repr(e))
    if rc is None:
        rc = ck.finish()
    if cleanup:
        cleanup(rc not in (0, SKIP))
    return rc


def check_format(ck, prof):
    ck.check(not prof.bad_lines, f'folded lines are `stack count` ({prof.path})',
             f'{len(prof.bad_lines)} bad, first: {prof.bad_lines[:3]}' if prof.bad_lines
             else f'{len(prof.stacks)} stacks')
    ck.check(prof.total > 0, 'profile has samples', f'total weight {prof.total}')


def load_profile(ck, path, label):
    """The folded file at path, checked well-formed and with samples; None if missing."""
    if not ck.check(os.path.isfile(path), f'folded profile written ({label})', path):
        return None
    prof = Profile(path)
    ck.show(label, prof)
    check_format(ck, prof)
    return prof


def check_svg(ck, svg):
    """The SVG exists, parses as XML and has an <svg> root."""
    if not ck.check(os.path.isfile(svg), 'SVG written', svg):
        return
    try:
        root = ET.parse(svg).getroot()
        ck.check(root.tag.split('}')[-1] == 'svg', 'SVG is well-formed XML with an <svg> root',
                 root.tag)
    except ET.ParseError as e:
        ck.check(False, 'SVG is well-formed XML', f'{svg}: {e}')


def read_json(ck, path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        ck.check(False, f'truth file {path} readable', str(e))
        return None


def _matcher(name):
    if isinstance(name, re.Pattern):
        return lambda f: name.fullmatch(f) is not None, f'/{name.pattern}/'
    return lambda f: f == name, repr(name)


def check_present(ck, prof, name, what, present=True, key=None):
    """A frame (an exact name, or a compiled regex matching a whole name) is in the profile
    (or, present=False, is not). A missing one gets the frames holding `key` printed (default:
    the bare function name of `name`, or the first word of `what` for a regex): they tell a
    wrong name format from a missing frame. Returns the frames' inclusive weight."""
    match, shown = _matcher(name)
    w = prof.weight(lambda fr: any(match(f) for f in fr)) if prof else 0
    if not present:
        ck.check(w == 0, f'{what}: frame {shown} absent', f'weight {w}')
        return w
    if not ck.check(w > 0, f'{what}: frame {shown} present', f'weight {w}') and prof:
        if key is None:
            key = what.split()[0] if isinstance(name, re.Pattern) else \
                name.split('(')[0].split('::')[-1].replace('_[i]', '')
        near = sorted(f for f in prof.frame_names() if key.lower() in f.lower())[:10]
        print(f'       frames resembling {key!r}: {near}')
    return w


def check_split(ck, prof, truth_cpu, names, tolerance_pt):
    """Shares among the named functions: each one's weight (stacks holding a frame that
    matches it: an exact name or a compiled regex) against its measured CPU, both as shares
    of the functions' sums. Each must be present and within tolerance_pt points."""
    w = {}
    for n, name in names.items():
        match, _ = _matcher(name)
        w[n] = prof.weight(lambda fr, m=match: any(m(f) for f in fr))
    tw, tt = sum(w.values()), sum(truth_cpu[n] for n in names)
    print(f'{"function":12s} {"truth CPU":>10s} {"truth %":>8s} {"weight":>7s} {"prof %":>7s} '
          f'{"diff":>6s}')
    for n in names:
        st, sp = pct(truth_cpu[n], tt), pct(w[n], tw)
        print(f'{n:12s} {truth_cpu[n]:10.4g} {st:8.2f} {w[n]:7d} {sp:7.2f} {sp - st:+6.2f}')
    for n in names:
        st, sp = pct(truth_cpu[n], tt), pct(w[n], tw)
        ck.check(w[n] > 0 and abs(sp - st) <= tolerance_pt,
                 f'share of {n} within {tolerance_pt:g} pt of its CPU share',
                 f'profile {sp:.2f}% (weight {w[n]}/{tw}) vs truth {st:.2f}%, '
                 f'diff {sp - st:+.2f} pt')
    return w


def check_rooted(ck, prof, select, roots, min_share, what):
    """Of the weight of the stacks select(frames) picks, >= min_share starts at one of roots."""
    tot = prof.weight(select)
    good = prof.weight(lambda fr: select(fr) and fr[0] in roots)
    by_root = sorted(prof.roots(select).items(), key=lambda kv: -kv[1])[:5]
    ck.check(tot > 0 and good >= min_share * tot,
             f'>= {100 * min_share:.0f}% of the weight of {what} rooted at {"/".join(roots)}',
             f'{pct(good, tot):.2f}% ({good}/{tot}); roots: {by_root}')


# --- the profiler's summary line --------------------------------------------------------------

_SUMMARY_FIELDS = [
    ('pid', r'\bpid (\d+):', int), ('weight', r'\bweight=(\d+)', int),
    ('signals', r'\bsignals=(\d+)', int), ('threads', r'\bthreads=(\d+)', int),
    ('dropped', r'\bdropped=(\d+)', int),
    ('dropped_weight', r'\bdropped=\d+ \(weight (\d+)\)', int),
    ('lost', r'\blost=(\d+)', int), ('stacks', r'\bstacks=(\d+)', int),
    ('median_us', r'\bmedian=([\d.]+)us', float), ('p99_us', r'\bp99=([\d.]+)us', float),
    ('report_ms', r'\breport=([\d.]+)ms', float), ('freq', r'\bfreq=(\d+)Hz', int),
    ('source', r'\bsource=([^\s;]+)', str),
]


def is_summary(line):
    return line.startswith('flameprof:') and ' weight=' in line


def parse_summary(line):
    """The fields of a summary line that are there, by name (see _SUMMARY_FIELDS), with
    `paths`: the files after `; wrote`, and `own_handler`: whether it says the program has
    its own SIGPROF handler."""
    out = {}
    for key, pattern, kind in _SUMMARY_FIELDS:
        m = re.search(pattern, line)
        if m:
            out[key] = kind(m.group(1))
    m = re.search(r'; wrote (.*)$', line)
    out['paths'] = m.group(1).split() if m else []
    out['own_handler'] = 'its own SIGPROF handler' in line
    return out


def check_summary(ck, r, prof=None, paths=(), n=1, min_threads=1, dropped=True, what=''):
    """n summary lines on r's stderr, each with weight=, signals= (> 0), threads= (>=
    min_threads) and dropped= (0, unless dropped=False: a test of hostile conditions); with
    n == 1, its weight equals prof's total and it names every path of paths. `what` prefixes
    the assertions (a test with several runs). Returns the parsed line (n == 1) or lines."""
    w = f'{what}: ' if what else ''
    lines = r.summaries()
    if not ck.check(len(lines) == n, f'{w}{n} `flameprof: ... weight=` summary line(s) on stderr',
                    f'{len(lines)} found: {lines[:3]}'):
        return None
    parsed = [parse_summary(ln) for ln in lines]
    for line, s in zip(lines, parsed):
        ck.check(all(k in s for k in ('weight', 'signals', 'threads', 'dropped')),
                 f'{w}summary has weight=, signals=, threads=, dropped=', line)
        ck.check(s.get('signals', 0) > 0, f'{w}summary counts signals', line)
        ck.check(s.get('threads', 0) >= min_threads,
                 f'{w}summary counts >= {min_threads} threads', line)
        if dropped:
            ck.check(s.get('dropped') == 0, f'{w}summary says dropped=0', line)
    if n != 1:
        return parsed
    s = parsed[0]
    if prof:
        ck.check(s.get('weight') == prof.total, f'{w}summary weight= equals the folded total',
                 f'summary {s.get("weight")} vs folded {prof.total}')
    for path in paths:
        ck.check(path in s['paths'], f'{w}summary names {os.path.basename(path)}', lines[0])
    return s


# --- running programs -------------------------------------------------------------------------

_deadline = [None]                                 # set_budget(): the whole test's end
STATS = {'runs': 0, 'hangs': 0, 'dropped': 0, 'lost': 0}


def set_budget(seconds):
    """Every run from now on is cut to end within `seconds` (a whole test's time bound)."""
    _deadline[0] = time.monotonic() + seconds


def budget(timeout):
    """A run's time limit: its own, but never past the test's deadline."""
    if _deadline[0] is None:
        return timeout
    return max(1.0, min(timeout, _deadline[0] - time.monotonic()))


def clean_env(lib=None, env=None):
    """The caller's environment without FLAMEPROF_* and RUNTIME_ENV; LD_PRELOAD=lib if lib;
    then env's entries (str, or bytes for values that are not text)."""
    full = {k: v for k, v in os.environ.items()
            if not k.startswith('FLAMEPROF_') and k not in RUNTIME_ENV}
    if lib:
        full['LD_PRELOAD'] = lib
    for k, v in (env or {}).items():
        full[k] = os.fsdecode(v) if isinstance(v, bytes) else v
    return full


def shown(v, limit=60):
    r = repr(v)
    return r if len(r) <= limit else f'{r[:limit]}... ({len(v)} bytes)'


def _child_setup():
    # The parent (meson, a shell in the background) may have left SIGINT or SIGHUP ignored,
    # which exec keeps: every program starts with the default dispositions here. No core
    # files from crash tests (core_pattern may be a plain file name in the cwd).
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Run:
    """A finished run. returncode as subprocess reports it (negative: killed by that signal);
    out/err the bytes, stdout/stderr the text (decode()); cpu and maxrss_kb (its peak
    resident memory) from wait4."""

    def __init__(self, argv, pid, returncode, out, err, cpu, wall, timed_out, maxrss_kb=0):
        self.argv, self.pid, self.returncode = argv, pid, returncode
        self.out, self.err = out, err
        self.stdout, self.stderr = decode(out), decode(err)
        self.cpu, self.wall, self.timed_out = cpu, wall, timed_out
        self.maxrss_kb = maxrss_kb

    def flameprof_lines(self):
        return [ln for ln in self.stderr.splitlines() if ln.startswith('flameprof:')]

    def summaries(self):
        return [ln for ln in self.flameprof_lines() if is_summary(ln)]

    def notes(self):
        """flameprof: lines other than the exit summary."""
        return [ln for ln in self.flameprof_lines() if not is_summary(ln)]


class Proc:
    """A running program whose output is collected as it comes (so a test can wait for a
    line, then signal it) and whose CPU time is known at the end (wait4). It runs in a
    session of its own, so a hang can be killed with all its children."""

    def __init__(self, argv, env, cwd, stdin=None):
        self.argv = argv
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, env=env, cwd=cwd,
                                  stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  preexec_fn=_child_setup, start_new_session=True)
        self.pid = self.p.pid
        self.out, self.err = bytearray(), bytearray()
        self.threads = [threading.Thread(target=self._read, args=(self.p.stdout, self.out),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.p.stderr, self.err),
                                         daemon=True)]
        if stdin is not None:
            self.threads.append(threading.Thread(target=self._write, args=(self.p.stdin, stdin),
                                                 daemon=True))
        for t in self.threads:
            t.start()
        self.status = None
        self.rusage = None

    @staticmethod
    def _read(pipe, buf):
        while True:
            chunk = pipe.read1(65536)
            if not chunk:
                return
            buf.extend(chunk)

    @staticmethod
    def _write(pipe, data):
        try:
            pipe.write(data)
        except OSError:  # the program did not read it all: its business
            pass
        finally:
            try:
                pipe.close()
            except OSError:
                pass

    def poll(self):
        if self.status is None:
            pid, st, ru = os.wait4(self.pid, os.WNOHANG)
            if pid:
                self.status, self.rusage = st, ru
        return self.status is not None

    def wait_stdout(self, text, timeout=None):
        end = time.monotonic() + budget(timeout or RUN_TIMEOUT)
        while time.monotonic() < end:
            if text.encode() in self.out:
                return True
            if self.poll():
                return text.encode() in self.out
            time.sleep(0.01)
        return False

    def cpu_now(self):
        """CPU seconds used so far, from /proc (the process is still running)."""
        try:
            with open(f'/proc/{self.pid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')
        except (OSError, IndexError, ValueError):
            return 0.0

    def signal(self, sig):
        if not self.poll():
            os.kill(self.pid, sig)

    def finish(self, timeout=None):
        end = time.monotonic() + budget(timeout or RUN_TIMEOUT)
        timed_out = False
        while not self.poll():
            if time.monotonic() > end:
                timed_out = True
                try:
                    os.killpg(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                _, self.status, self.rusage = os.wait4(self.pid, 0)
                break
            time.sleep(0.005)
        wall = time.monotonic() - self.t0
        for t in self.threads:
            t.join(5)  # a child that outlives us may hold the pipes: do not wait for it
        st = self.status
        rc = -os.WTERMSIG(st) if os.WIFSIGNALED(st) else os.WEXITSTATUS(st)
        self.p.returncode = rc  # reaped here: Popen must not wait for it again
        cpu = self.rusage.ru_utime + self.rusage.ru_stime
        return Run(self.argv, self.pid, rc, bytes(self.out), bytes(self.err), cpu, wall,
                   timed_out, self.rusage.ru_maxrss)


def start(argv, lib=None, env=None, cwd=None, stdin=None, echo=True):
    """Starts argv (with LD_PRELOAD=lib if lib) in clean_env(lib, env); see Proc."""
    argv = [str(a) for a in argv]
    if echo:
        desc = ' '.join(f'{k}={shown(v)}' for k, v in sorted((env or {}).items()))
        print(f'$ {"LD_PRELOAD=" + lib + " " if lib else ""}{desc + " " if desc else ""}'
              f'{" ".join(argv)}', flush=True)
    return Proc(argv, clean_env(lib, env), cwd, stdin)


def report_run(r, echo=True):
    """Prints what a run did (status, times, the start of its output) and counts it in STATS:
    runs, hangs, and dropped= / lost= from its summary lines."""
    if echo:
        print(f'  -> status {r.returncode}, {r.cpu:.2f} s CPU, {r.wall:.2f} s wall'
              f'{" (TIMED OUT: killed)" if r.timed_out else ""}')
        for ln in r.stdout.splitlines()[:8]:
            print(f'  stdout: {ln[:300]}')
        for ln in r.stderr.splitlines()[:20]:
            print(f'  stderr: {ln[:300]}')
    elif r.timed_out:
        print(f'TIMED OUT after {r.wall:.0f} s (killed): {" ".join(r.argv)}')
    STATS['runs'] += 1
    STATS['hangs'] += r.timed_out
    for line in r.summaries():
        s = parse_summary(line)
        STATS['dropped'] += s.get('dropped', 0)
        STATS['lost'] += s.get('lost', 0)
    return r


def run(argv, lib=None, env=None, cwd=None, timeout=None, stdin=None, echo=True):
    """Runs argv to its end (or its time limit: RUN_TIMEOUT, cut by set_budget) and returns
    its Run. stdin: bytes to feed it (default: /dev/null). echo=False prints nothing but a
    hang (for harnesses that run a tool hundreds of times)."""
    return report_run(start(argv, lib, env, cwd, stdin, echo).finish(timeout), echo)


# --- runtimes ---------------------------------------------------------------------------------

def is_elf(path):
    try:
        with open(path, 'rb') as f:
            return f.read(4) == b'\x7fELF'
    except OSError:
        return False


def real_executable(path):
    """The ELF binary behind `path`: pyenv's shims are shell scripts, which would load the
    profiler into bash as well and hide the interpreter's name from it."""
    if is_elf(path):
        return os.path.realpath(path)
    try:
        out = subprocess.run([path, '-c', 'import sys; print(sys.executable)'],
                             capture_output=True, text=True, timeout=30,
                             env={k: v for k, v in os.environ.items() if k != 'LD_PRELOAD'})
        exe = out.stdout.strip()
        return os.path.realpath(exe) if out.returncode == 0 and is_elf(exe) else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def find_node(given=None):
    """node: the given path (e.g. meson's; 'none' for none), then PATH."""
    for cand in [given, shutil.which('node'), shutil.which('nodejs')]:
        if cand and cand != 'none' and is_elf(cand):
            return os.path.realpath(cand)
    raise Skip('node not found (looked for the meson-found node and `node`/`nodejs` in PATH)')


def find_python(version, given=None):
    """python3.X: the given path, PATH, then pyenv's versions (searched at test time: the
    build may predate the install)."""
    cands = [given, shutil.which(f'python{version}')]
    cands += sorted(glob.glob(f'/root/.pyenv/versions/{version}*/bin/python{version}'))
    cands += sorted(glob.glob(os.path.expanduser(
        f'~/.pyenv/versions/{version}*/bin/python{version}')))
    for cand in cands:
        if not cand or cand == 'none' or not os.path.exists(cand):
            continue
        exe = real_executable(cand)
        if exe and os.path.basename(exe).startswith(f'python{version}'):
            return exe
    raise Skip(f'python{version} not found (meson, PATH, /root/.pyenv/versions/{version}*)')


# --- a test's files ---------------------------------------------------------------------------

class Workdir:
    """A test's temporary directory, removed at the end unless the test failed or keep is
    set; cleanups (functions) run first, last added first."""

    def __init__(self, suite, keep=False):
        self.tmp = tempfile.mkdtemp(prefix=f'flameprof-{suite}-')
        self.keep = keep
        self.cleanups = []

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def cleanup(self, failed):
        for fn in reversed(self.cleanups):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - cleaning up must not hide the result
                print(f'cleanup: {e!r}')
        if failed or self.keep:
            print(f'(files kept in {self.tmp})')
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
