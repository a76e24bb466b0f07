#!/usr/bin/env python3
"""`--short-names` (issue 18) against c++filt: every C++ function of libstdc++'s dynamic
symbol table (nm -D), demangled in full by c++filt, is given to `flameprof convert
--short-names` as a frame; its short form must be c++filt -p's output (no parameters, no
return type) with the template arguments and ABI tags ("[abi:cxx11]") stripped (nesting
kept, "operator<" and lambdas' "{lambda(int)#1}" intact). Special names (vtable for, typeinfo for, transaction clone for,
guard variable for ...), which c++filt -p leaves whole, and conversions to member pointers
("operator void (A::*)()") are left out. Then a table of exact
cases: operators, lambdas, anonymous namespaces, Rust qualified paths, and names that are no
C++ (Go, JavaScript, C) that must stay as they are.

usage: shortname_cxxfilt.py FLAMEPROF   (exit 0 pass, 1 fail, 77 skip: no nm/c++filt)
"""

import html
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402
from fptest import Checks, Skip  # noqa: E402

LIBS = ('/usr/lib/x86_64-linux-gnu/libstdc++.so.6', '/usr/lib/aarch64-linux-gnu/libstdc++.so.6')
MIN_NAMES = 1000
TABLE = [
    ('Foo::operator()(int) const', 'Foo::operator()'),
    ('bool operator< <int>(A const&, A const&)', 'operator<'),
    ('A::operator<<(int)', 'A::operator<<'),
    ('A::operator->() const', 'A::operator->'),
    ('A::operator new(unsigned long)', 'A::operator new'),
    ('f()::{lambda(int)#1}::operator()(int) const', 'f::{lambda(int)#1}::operator()'),
    ('(anonymous namespace)::g(std::vector<int, std::allocator<int> >&)',
     '(anonymous namespace)::g'),
    ('void ns::h<std::pair<int, int> >(std::pair<int, int>)', 'ns::h'),
    ('std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >'
     '::_M_create(unsigned long&, unsigned long)', 'std::__cxx11::basic_string::_M_create'),
    ('node::CreateEnvironment(node::IsolateData*, v8::Local<v8::Context>, '
     'std::vector<std::__cxx11::basic_string<char> > const&)', 'node::CreateEnvironment'),
    ('foo(int) [clone .cold]', 'foo'),
    ('<alloc::boxed::Box<dyn core::ops::function::FnOnce<()>> as '
     'core::ops::function::FnOnce<()>>::call_once',
     '<alloc::boxed::Box as core::ops::function::FnOnce>::call_once'),
    ('<std::sys::thread::unix::Thread>::new::thread_start',
     '<std::sys::thread::unix::Thread>::new::thread_start'),
    ('std::rt::lang_start::{{closure}}', 'std::rt::lang_start::{{closure}}'),
    ('main.(*T).Run', 'main.(*T).Run'),
    ('processTicks (node:internal/process/task_queues:95:5)',
     'processTicks (node:internal/process/task_queues:95:5)'),
    ('main', 'main'),
    ('call_once_[i]', 'call_once_[i]'),
]
SPECIAL = ('vtable for ', 'typeinfo for ', 'typeinfo name for ', 'VTT for ', 'guard variable for ',
           'transaction clone for ', 'thunk to ', 'construction vtable for ',
           'TLS init function for ', 'TLS wrapper function for ', 'reference temporary ')


def strip_templates(s):
    """c++filt -p output without template arguments: <...> groups at any nesting depth, but
    not an operator's own '<' and nothing inside {lambda...}."""
    out, depth, brace, i = [], 0, 0, 0
    while i < len(s):
        if depth == 0 and brace == 0 and s.startswith('operator', i):
            j = i + 8
            if s.startswith('()', j):
                j += 2
            k = j
            while j < len(s) and s[j] in '<>=!+-*/%^&|~,' and \
                    (s[j] != '<' or (j - k < 2 and s[k:j] in ('', '<'))):
                j += 1
            out.append(s[i:j])
            i = j
            continue
        ch = s[i]
        if ch == '{':
            brace += 1
        elif ch == '}':
            brace -= 1
        if brace == 0 and ch == '<':
            depth += 1
        elif brace == 0 and ch == '>' and depth > 0:
            depth -= 1
        elif depth == 0:
            out.append(ch)
        i += 1
    return re.sub(r'\[abi:[^]]*\]', '', ''.join(out)).strip()


def convert(tool, ctx, names):
    src, dst = ctx.path('in.folded'), ctx.path('out.folded')
    with open(src, 'w') as f:
        for k, n in enumerate(names):
            f.write(f'n{k:06d};{n} 1\n')
    r = fptest.run([tool, 'convert', '--short-names', '-f', 'folded', '-o', dst, src],
                   echo=False)
    if r.returncode != 0:
        raise RuntimeError(f'convert failed: {r.stderr}')
    got = {}
    with open(dst) as f:
        for line in f:
            stack = line.rsplit(' ', 1)[0]
            key, name = stack.split(';', 1)
            got[int(key[1:])] = name
    return [got.get(k) for k in range(len(names))]


def test(tool, ctx, ck):
    lib = next((p for p in LIBS if os.path.exists(p)), None)
    if not lib or not shutil.which('nm') or not shutil.which('c++filt'):
        raise Skip('needs libstdc++.so.6, nm and c++filt (binutils)')
    nm = subprocess.run(['nm', '-D', '--defined-only', lib], capture_output=True, text=True,
                        check=True).stdout
    syms = sorted({ln.split()[-1].split('@')[0] for ln in nm.splitlines()
                   if ln.split() and ln.split()[-1].startswith('_Z')})
    full = subprocess.run(['c++filt'], input='\n'.join(syms), capture_output=True, text=True,
                          check=True).stdout.splitlines()
    nop = subprocess.run(['c++filt', '-p'], input='\n'.join(syms), capture_output=True,
                         text=True, check=True).stdout.splitlines()
    pairs = [(f, strip_templates(p)) for f, p, s in zip(full, nop, syms)
             if f != s and '(' in f and not any(x in f for x in SPECIAL)
             and 'operator void (' not in f]  # conversion to a member pointer: c++filt's own
    ck.check(len(pairs) >= MIN_NAMES, f'C++ functions from {lib}', f'{len(pairs)}')
    got = convert(tool, ctx, [f for f, _ in pairs])
    bad = [(f, want, g) for (f, want), g in zip(pairs, got) if g != want]
    ck.check(not bad, 'short form = c++filt -p without template arguments, for all',
             f'{len(bad)} differ: ' + '; '.join(f'{f!r} -> {g!r}, want {w!r}'
                                                for f, w, g in bad[:5]))
    got = convert(tool, ctx, [f for f, _ in TABLE])
    for (f, want), g in zip(TABLE, got):
        ck.check(g == want, f'{f!r} -> {want!r}', f'got {g!r}')
    test_svg_labels(tool, ctx, ck)


def test_svg_labels(tool, ctx, ck):
    """The SVG labels a frame with the short form, its tooltip keeps the full name;
    --full-labels labels it in full."""
    full = TABLE[9][0]
    src = ctx.path('one.folded')
    with open(src, 'w') as f:
        f.write(f'main;{full} 5\n')
    for opts, label in (([], TABLE[9][1]), (['--full-labels'], full)):
        r = fptest.run([tool, 'svg', '--width', '100000'] + opts + [src], echo=False)
        svg = html.unescape(r.stdout)
        ck.check(f'<title>{full} (5 samples' in svg, f'svg {opts}: tooltip holds the full name')
        ck.check(f'>{label}</text>' in svg, f'svg {opts}: label {label!r}')


def main():
    ctx = fptest.Workdir('shortname')
    ck = Checks('output-shortname-cxxfilt')
    return fptest.run_test(ck, test, sys.argv[1], ctx, ck, cleanup=ctx.cleanup)


if __name__ == '__main__':
    sys.exit(main())
