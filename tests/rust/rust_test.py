#!/usr/bin/env python3
"""Rust programs under libflameprof.so (issue 18): names as Rust users read them.

  manglings   rsburn.rs (two threads: worker -> burn_a -> spin and
              worker -> burn_b -> <Square as Area>::area -> spin) built with rustc twice,
              with Rust's v0 mangling (`_R...`) and with the legacy one (`_ZN...17h<hash>E`;
              newer rustc needs -Z unstable-options for it, RUSTC_BOOTSTRAP=1 allows that),
              each run under the library. Each binary holds the mangling asked for (nm);
              no frame is left mangled, none carries a legacy hash or a v0 crate
              disambiguator ("std[e28293b1aa0f68bd]"); the program's named functions read the
              same in both profiles, in the same stacks. (Closures and generic
              instantiations legitimately differ: v0 says `{closure#0}` and the generic
              arguments, legacy `{{closure}}` without them, as rustfilt prints them too.)

usage: rust_test.py manglings --lib L [--rustc RUSTC]
Exit status 0 pass, 1 fail, 77 skip (no rustc: loud).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import Checks, Profile, Skip, run  # noqa: E402

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'rsburn.rs')
AREA = '<rsburn::Square as rsburn::Area>::area'
NAMED = ('rsburn::worker', 'rsburn::burn_a', 'rsburn::burn_b', AREA, 'rsburn::spin')
PATHS = (('rsburn::worker', 'rsburn::burn_a', 'rsburn::spin'),
         ('rsburn::worker', 'rsburn::burn_b', AREA, 'rsburn::spin'))
MIN_SHARE = 0.05   # a projected path counts when it holds this share of the named weight
MANGLED = re.compile(r'^(_R[A-Z_]|_ZN|_D\d)|17h[0-9a-f]{16}E|::h[0-9a-f]{16}$|\[[0-9a-f]{16}\]')


def build(ctx, rustc, mangling):
    out = ctx.path('rsburn_' + mangling)
    base = [rustc, '-O', '-C', 'force-frame-pointers=yes', '-o', out, SRC]
    argv = base + ['-C', 'symbol-mangling-version=' + mangling]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0 and 'unstable-options' in r.stderr:
        env = dict(os.environ, RUSTC_BOOTSTRAP='1')
        r = subprocess.run(argv + ['-Z', 'unstable-options'], capture_output=True, text=True,
                           env=env)
    if r.returncode != 0:
        raise RuntimeError(f'{" ".join(argv)} failed:\n{r.stderr}')
    return out


def own_symbols(path):
    """The binary's symbols of the rsburn crate, as nm lists them (mangled)."""
    r = subprocess.run(['nm', path], capture_output=True, text=True, check=True)
    return [ln.split()[-1] for ln in r.stdout.splitlines() if 'rsburn' in ln]


def projected(prof):
    """{path of NAMED frames: share of the weight of stacks holding any}."""
    out, total = {}, 0
    for frames, c in prof.stacks:
        path = tuple(f for f in frames if f in NAMED)
        if path:
            out[path] = out.get(path, 0) + c
            total += c
    return {p: c / total for p, c in out.items()} if total else {}


def test_manglings(ctx, ck):
    rustc = ctx.a.rustc or shutil.which('rustc')
    if not rustc:
        raise Skip('no rustc (Debian: apt-get install rustc)')
    if not shutil.which('nm'):
        raise Skip('no nm (binutils)')
    shown = {}
    for mangling, prefix in (('v0', '_R'), ('legacy', '_ZN')):
        exe = build(ctx, rustc, mangling)
        syms = own_symbols(exe)
        ck.check(syms and all(s.startswith(prefix) for s in syms if re.match(r'_[RZ]', s)),
                 f'{mangling}: the program\'s symbols are {prefix}... ({len(syms)})',
                 ', '.join(syms[:3]))
        out = ctx.path('prof_' + mangling)
        r = run([exe, '150'], ctx.a.lib, {'FLAMEPROF_FREQ': '997', 'FLAMEPROF_OUT': out})
        ck.check(r.returncode == 0 and 'rsburn ' in r.stdout, f'{mangling}: program ran as without us',
                 f'status {r.returncode}')
        prof = fptest.load_profile(ck, out + '.folded', mangling)
        if prof is None:
            continue
        ck.show(mangling, prof)
        frames = {f for fs, _ in prof.stacks for f in fs}
        raw = sorted(f for f in frames if MANGLED.search(f))
        ck.check(not raw, f'{mangling}: no frame mangled or carrying a hash/disambiguator',
                 f'{len(raw)}: {raw[:3]}')
        shown[mangling] = {p: s for p, s in projected(prof).items() if s >= MIN_SHARE}
        for path in PATHS:
            ck.check(shown[mangling].get(path, 0) >= MIN_SHARE,
                     f'{mangling}: stack {";".join(path)}',
                     f'{shown[mangling].get(path, 0):.0%} of the named weight')
    if len(shown) == 2:
        ck.check(set(shown['v0']) == set(shown['legacy']),
                 'named functions read the same, in the same stacks, in both builds',
                 f'v0 {sorted(shown["v0"])} legacy {sorted(shown["legacy"])}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('test', choices=['manglings'])
    ap.add_argument('--lib', required=True)
    ap.add_argument('--rustc')
    ap.add_argument('--keep', action='store_true')
    a = ap.parse_args()
    ctx = fptest.Workdir('rust', a.keep)
    ctx.a = a
    ck = Checks('rust-' + a.test)
    return fptest.run_test(ck, test_manglings, ctx, ck, cleanup=ctx.cleanup)


if __name__ == '__main__':
    sys.exit(main())
