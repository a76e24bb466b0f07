#!/usr/bin/env python3
"""Stripped binaries: code no symbol covers is named per function, and debuginfod names it.

  fixture   libstripfix.so (-O2 -g, built by meson) and a program calling it, both stripped
            here with objcopy as Debian strips its packages. Under the library: every frame
            in the stripped library is an FDE start (readelf's list), and the frames map one
            to one onto the functions of the unstripped build's .symtab (by address), with
            the 2:1 CPU split the program measured; the stripped program's stacks are rooted
            at `_start`; the PLT stub it calls in a loop is `stripfix_tiny@plt`. With
            DEBUGINFOD_URLS set, the process says `flameprof report RAW` names them and keeps
            RAW; that command, against elfutils' own debuginfod on 127.0.0.1 serving the
            library's separate debug file, names fx_alpha and fx_beta with the same weights.
            Once the library on disk is replaced by another build (another build-id), the
            report names its code by offset and says so, or, with debuginfod serving the
            original file, fetches it and names fx_alpha again.
  sqlite3   Debian's own sqlite3 (stripped, with a stripped libsqlite3) on a query-heavy
            script: libsqlite3's frames are .dynsym names or FDE starts, and far fewer than
            the distinct addresses sampled in it (from the raw spill, kept because
            DEBUGINFOD_URLS is set).

usage: stripped.py fixture|sqlite3 --lib libflameprof.so --flameprof FLAMEPROF
                   [--fixlib libstripfix.so --fixprog stripfix_main]
Exit 0 pass, 1 fail, 77 skip (a tool or Debian's sqlite3 missing).
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import Checks, Skip, Workdir, load_profile, run  # noqa: E402

SPLIT_TOLERANCE_PT = 10     # alpha:beta share vs the program's own measure (~250 samples)
GROUPING_MAX_RATIO = 0.6    # distinct libsqlite3 frames / distinct addresses sampled in it
SQLITE_LIB = '/usr/lib/x86_64-linux-gnu/libsqlite3.so.0'

SQL = """CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM cnt WHERE x<300000)
  INSERT INTO t SELECT x, hex(randomblob(8)), x*1.5 FROM cnt;
CREATE INDEX tb ON t(b);
SELECT count(*), sum(length(b)) FROM t WHERE b LIKE '%AB%';
SELECT substr(b,1,2) AS k, count(*) FROM t GROUP BY k ORDER BY 2 DESC LIMIT 3;
SELECT count(*) FROM t t1 JOIN t t2 ON t2.a = t1.a + 1 WHERE t1.c > 100;
SELECT avg(c), max(b) FROM t WHERE a % 7 = 3;
CREATE TABLE u AS SELECT a, b || c AS d FROM t ORDER BY b DESC;
SELECT count(DISTINCT substr(d, 3, 4)) FROM u;
"""


def need(tool):
    path = shutil.which(tool)
    if path is None:
        raise Skip(f'{tool} not installed (tools/setup-debian.sh installs it)')
    return path


def fde_starts(path):
    """Start addresses of the FDEs of path's .eh_frame, as readelf lists them."""
    out = subprocess.run(['readelf', '--debug-dump=frames', path], capture_output=True,
                         text=True, check=True).stdout
    return {int(m.group(1), 16) for m in re.finditer(r' FDE cie=\S+ pc=([0-9a-f]+)\.\.', out)}


def functions(path):
    """{address: name} of the function symbols of path's .symtab."""
    out = subprocess.run(['readelf', '-sW', path], capture_output=True, text=True,
                         check=True).stdout
    fns, in_symtab = {}, False
    for line in out.splitlines():
        if line.startswith('Symbol table'):
            in_symtab = "'.symtab'" in line
        f = line.split()
        if in_symtab and len(f) >= 8 and f[3] == 'FUNC' and f[6] != 'UND':
            fns[int(f[1], 16)] = f[7]
    return fns


def build_id(path):
    out = subprocess.run(['readelf', '-n', path], capture_output=True, text=True).stdout
    m = re.search(r'Build ID: ([0-9a-f]+)', out)
    return m.group(1) if m else None


def offset_frames(prof, base):
    """{offset: weight} of the frames named `base+0xOFFSET`."""
    pat = re.compile(re.escape(base) + r'\+0x([0-9a-f]+)')
    out = {}
    for frames, c in prof.stacks:
        for off in {int(m.group(1), 16) for f in frames for m in [pat.fullmatch(f)] if m}:
            out[off] = out.get(off, 0) + c
    return out


def raw_addresses(raw, path_part):
    """Distinct sampled addresses (leaf pcs and return addresses) inside the modules whose
    path holds path_part, from a raw spill (core/rawfile.h)."""
    ranges, pcs = [], set()
    with open(raw) as f:
        for line in f:
            w = line.split()
            if w and w[0] == 'M' and len(w) >= 6 and path_part in w[5]:
                ranges.append((int(w[2], 16), int(w[3], 16)))
            elif w and w[0] == 'S' and len(w) >= 8:  # version 1
                pcs.update(int(x, 16) for x in w[8:])
            elif w and w[0] == 'K' and len(w) >= 7:  # version 2: K id gen pm jvm flags depth pc...
                pcs.update(int(x, 16) for x in w[7:])
    return {p for p in pcs if any(lo <= p < hi for lo, hi in ranges)}


class Debuginfod:
    """elfutils' debuginfod serving the files under a directory, on a free loopback port."""

    def __init__(self, wd, served, wait_for):
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            self.port = s.getsockname()[1]
        self.url = f'http://127.0.0.1:{self.port}'
        self.log = open(wd.path('debuginfod.log'), 'wb')
        argv = [need('debuginfod'), '-F', '-p', str(self.port), '-d', wd.path('debuginfod.db'),
                '-t', '0', '-g', '0', '-c', '1', served]
        print(f'$ {" ".join(argv)}')
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        wd.cleanups.append(self.stop)
        self.ready = self._wait(f'{self.url}/buildid/{wait_for}/debuginfo')

    def _wait(self, url, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end and self.p.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return True
            except OSError:
                pass
            time.sleep(0.3)
        return False

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()


def strip_fixture(wd, args):
    """Stripped copies of the library (same name, own directory) and the program; the
    library's debug file and a copy of the stripped library in a directory of their own,
    for debuginfod."""
    objcopy = need('objcopy')
    for d in ('lib', 'debug'):
        os.mkdir(wd.path(d))
    lib = wd.path('lib', os.path.basename(args.fixlib))
    subprocess.run([objcopy, '--only-keep-debug', args.fixlib,
                    wd.path('debug', 'libstripfix.so.debug')], check=True)
    subprocess.run([objcopy, '--strip-all', args.fixlib, lib], check=True)
    shutil.copy(lib, wd.path('debug', 'libstripfix.so'))
    prog = wd.path('stripfix_main')
    subprocess.run([objcopy, '--strip-all', args.fixprog, prog], check=True)
    return lib, prog


def test_fixture(ck, wd, args):
    need('readelf')
    lib, prog = strip_fixture(wd, args)
    bid = build_id(lib)
    if not ck.check(bid is not None, 'the fixture library has a build-id', lib):
        return
    server = Debuginfod(wd, wd.path('debug'), bid)
    if not ck.check(server.ready, 'debuginfod serves the debug file', server.url):
        server.log.flush()
        with open(wd.path('debuginfod.log'), errors='replace') as f:
            print(''.join(f.readlines()[-20:]))
    env = {'LD_LIBRARY_PATH': wd.path('lib'), 'FLAMEPROF_OUT': wd.path('run'),
           'DEBUGINFOD_URLS': server.url, 'DEBUGINFOD_CACHE_PATH': wd.path('cache')}
    r = run([prog], lib=args.lib, env=env)
    ck.check(r.returncode == 0, 'the stripped program ran', f'status {r.returncode}')
    truth = [float(x) for x in r.stdout.split()[:3]]
    prof = load_profile(ck, wd.path('run.folded'), 'stripped run')
    if prof is None or len(truth) != 3:
        return

    # Every frame in the stripped library is an FDE start, one per .symtab function.
    base = os.path.basename(lib)
    frames = offset_frames(prof, base)
    starts, fns = fde_starts(lib), functions(args.fixlib)
    stray = {hex(o) for o in frames if o not in starts}
    ck.check(frames and not stray, f'every {base} frame is an FDE start',
             f'{len(frames)} frames, not FDE starts: {sorted(stray)}')
    named = {o: fns.get(o) for o in frames}
    ck.check(all(named.values()) and len(set(named.values())) == len(named),
             'the frames map one to one onto the unstripped build\'s functions',
             ', '.join(f'{hex(o)}={n}' for o, n in sorted(named.items())))
    by_name = {n: w for o, w in frames.items() for n in [named[o]] if n}
    a, b = by_name.get('fx_alpha', 0), by_name.get('fx_beta', 0)
    if ck.check(a > 0 and b > 0, 'fx_alpha and fx_beta sampled', f'{a}, {b}'):
        share, want = 100 * a / (a + b), 100 * truth[0] / (truth[0] + truth[1])
        ck.check(abs(share - want) <= SPLIT_TOLERANCE_PT, 'fx_alpha share as measured',
                 f'{share:.1f}% of fx_alpha+fx_beta, measured {want:.1f}%')
    roots = prof.roots()
    ck.check(roots.get('_start', 0) >= 0.9 * prof.total, 'the stripped program is rooted '
             'at _start', f'{roots}')
    fptest.check_present(ck, prof, 'stripfix_tiny@plt', 'the PLT stub called in a loop')
    ck.check(not any(n in prof.frame_names() for n in ('fx_alpha', 'fx_beta')),
             'no symbol was found inside the profiled process (no network there)')

    # The process kept its raw spill and said how to name the rest.
    hint = [ln for ln in r.notes() if 'flameprof report' in ln and 'debuginfod' in ln]
    raw = wd.path('run.raw')
    ck.check(hint and os.path.isfile(raw), 'the raw spill is kept for debuginfod, and said',
             f'{r.notes()}')
    if not os.path.isfile(raw):
        return
    rep = run([args.flameprof, 'report', '-o', wd.path('named'), raw], env=env)
    ck.check(rep.returncode == 0, 'flameprof report ran', f'status {rep.returncode}')
    ck.check(any('debug files for 1 of' in ln for ln in rep.notes()),
             'flameprof report says what debuginfod gave', f'{rep.notes()}')
    named_prof = load_profile(ck, wd.path('named.folded'), 'named by debuginfod')
    if named_prof is None:
        return
    for fn in ('fx_alpha', 'fx_beta'):
        w = named_prof.inclusive(fn)
        ck.check(w == by_name.get(fn), f'{fn} named from debuginfod, same weight',
                 f'{w} vs {by_name.get(fn)} by FDE start')
    left = offset_frames(named_prof, base)
    ck.check(not left, f'no {base}+0x frame left once named', f'{left}')
    test_changed_file(ck, wd, args, lib, bid, raw, env, by_name)


def test_changed_file(ck, wd, args, lib, bid, raw, env, by_name):
    """The library on disk replaced by another build after the run: its code is never named
    from the wrong file; debuginfod gives back the original."""
    with open(raw) as f:
        ck.check(any(ln.split()[:1] == ['B'] and ln.split()[-1] == bid for ln in f),
                 'the raw spill records the library\'s build-id', bid)
    with open(lib, 'rb') as f:
        data = bytearray(f.read())
    at = data.find(bytes.fromhex(bid))
    if not ck.check(at >= 0, 'build-id found in the library file'):
        return
    data[at] ^= 0xff
    os.unlink(lib)  # a package upgrade replaces the file
    with open(lib, 'wb') as f:
        f.write(data)
    base = os.path.basename(lib)
    plain = {k: v for k, v in env.items() if k != 'DEBUGINFOD_URLS'}
    rep = run([args.flameprof, 'report', '-o', wd.path('changed'), raw], env=plain)
    ck.check(any('changed since profiled' in ln and base in ln for ln in rep.notes()),
             'flameprof report says the library changed', f'{rep.notes()}')
    changed = fptest.Profile(wd.path('changed.folded'))
    ck.check(not ({'fx_alpha', 'fx_beta'} & changed.frame_names())
             and offset_frames(changed, base), 'the changed library is named by offset only')
    rep = run([args.flameprof, 'report', '-o', wd.path('fetched'), raw], env=env)
    fetched = load_profile(ck, wd.path('fetched.folded'), 'original fetched by build-id')
    if fetched is not None:
        w = fetched.inclusive('fx_alpha')
        ck.check(w == by_name.get('fx_alpha'), 'debuginfod gave the original library back',
                 f'fx_alpha {w} vs {by_name.get("fx_alpha")}; {rep.notes()}')


def test_sqlite3(ck, wd, args):
    sqlite3 = need('sqlite3')
    need('readelf')
    if not os.path.isfile(SQLITE_LIB):
        raise Skip(f'{SQLITE_LIB} missing (Debian package libsqlite3-0)')
    env = {'FLAMEPROF_OUT': wd.path('sq'), 'DEBUGINFOD_URLS': 'http://127.0.0.1:9/'}
    r = run([sqlite3, ':memory:'], lib=args.lib, env=env, stdin=SQL.encode())
    ck.check(r.returncode == 0, 'sqlite3 ran the script', f'status {r.returncode}')
    prof = load_profile(ck, wd.path('sq.folded'), 'sqlite3')
    raw = wd.path('sq.raw')
    if prof is None or not ck.check(os.path.isfile(raw), 'raw spill kept (DEBUGINFOD_URLS)'):
        return
    base = os.path.basename(SQLITE_LIB)
    by_fde = offset_frames(prof, base)
    stray = {hex(o) for o in by_fde if o not in fde_starts(SQLITE_LIB)}
    ck.check(by_fde and not stray, f'{base} frames without a symbol are FDE starts',
             f'{len(by_fde)} frames, not FDE starts: {sorted(stray)[:10]}')
    # Frames of libsqlite3: its .dynsym names (by the addresses the raw spill holds, named
    # by `flameprof report` the same way) plus its FDE-start names.
    exported = {f for fr, _ in prof.stacks for f in fr
                if f.startswith('sqlite3') and '+0x' not in f}
    addrs = raw_addresses(raw, 'libsqlite3')
    n_frames = len(by_fde) + len(exported)
    print(f'libsqlite3: {len(addrs)} distinct addresses sampled, {n_frames} distinct frames '
          f'({len(by_fde)} by FDE start, {len(exported)} exported names)')
    ck.check(len(addrs) > 0 and n_frames <= GROUPING_MAX_RATIO * len(addrs),
             'libsqlite3 frames grouped by function',
             f'{n_frames} frames for {len(addrs)} addresses (at most '
             f'{GROUPING_MAX_RATIO:.0%})')
    roots = prof.roots()
    ck.check(roots.get('_start', 0) >= 0.9 * prof.total, 'sqlite3 is rooted at _start',
             f'{roots}')


TESTS = {'fixture': test_fixture, 'sqlite3': test_sqlite3}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('test', choices=sorted(TESTS))
    ap.add_argument('--lib', required=True)
    ap.add_argument('--flameprof', required=True)
    ap.add_argument('--fixlib')
    ap.add_argument('--fixprog')
    args = ap.parse_args()
    ck = Checks(f'stripped-{args.test}')
    wd = Workdir('stripped')
    fptest.set_budget(240)
    return fptest.run_test(ck, TESTS[args.test], ck, wd, args, cleanup=wd.cleanup)


if __name__ == '__main__':
    sys.exit(main())
