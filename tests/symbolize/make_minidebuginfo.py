#!/usr/bin/env python3
"""Make a stripped copy of a shared library carrying MiniDebugInfo (.gnu_debugdata).

usage: make_minidebuginfo.py OBJCOPY NM INPUT OUTPUT

MiniDebugInfo (as Fedora ships it) is an xz-compressed ELF holding a .symtab with the
function symbols that .dynsym lacks, i.e. static functions. The symbolize tests use it to
check that such names still resolve when the library has no other symbol table."""
import lzma
import os
import subprocess
import sys
import tempfile


def defined_names(nm, path, dynamic, types=None):
    args = [nm, '--format=posix', '--defined-only'] + (['-D'] if dynamic else []) + [path]
    names = set()
    for line in subprocess.run(args, check=True, capture_output=True, text=True).stdout.splitlines():
        fields = line.split()
        if len(fields) >= 2 and (types is None or fields[1] in types):
            names.add(fields[0])
    return names


def main():
    objcopy, nm, src, dst = sys.argv[1:5]
    keep = defined_names(nm, src, False, {'T', 't'}) - defined_names(nm, src, True)
    with tempfile.TemporaryDirectory() as tmp:
        keep_file = os.path.join(tmp, 'keep')
        debug = os.path.join(tmp, 'debug')
        mini = os.path.join(tmp, 'mini')
        with open(keep_file, 'w') as f:
            f.write(''.join(name + '\n' for name in sorted(keep)))
        subprocess.run([objcopy, '--only-keep-debug', src, debug], check=True)
        subprocess.run([objcopy, '-S', '--remove-section', '.gdb_index', '--remove-section',
                        '.comment', '--keep-symbols=' + keep_file, debug, mini], check=True)
        with open(mini, 'rb') as f:
            packed = lzma.compress(f.read(), format=lzma.FORMAT_XZ)
        with open(mini + '.xz', 'wb') as f:
            f.write(packed)
        subprocess.run([objcopy, '--strip-all', '--add-section', '.gnu_debugdata=' + mini + '.xz',
                        src, dst], check=True)


if __name__ == '__main__':
    main()
