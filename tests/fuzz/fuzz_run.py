#!/usr/bin/env python3
"""Run one libFuzzer target for a bounded time, from the committed seed corpus.

usage: fuzz_run.py TARGET SEEDS SECONDS ARTIFACTS [-- EXTRA libFuzzer options]

New inputs go to a temporary corpus (the committed seeds are never written to); a crash,
leak or timeout leaves its reproducer in ARTIFACTS/<target>-crash-... (printed), and the
exit status is the fuzzer's: 0 when nothing was found.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    args = sys.argv[1:]
    extra = []
    if '--' in args:
        i = args.index('--')
        args, extra = args[:i], args[i + 1:]
    if len(args) != 4:
        print(__doc__)
        return 2
    target, seeds, seconds, artifacts = args
    name = os.path.basename(target)
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f'{name}-corpus-')
    try:
        # libFuzzer exits 77 on a crash by default: meson's SKIP. A crash must fail.
        cmd = [target, f'-max_total_time={int(seconds)}', '-timeout=10', '-rss_limit_mb=2048',
               '-error_exitcode=1',
               '-print_final_stats=1', f'-artifact_prefix={os.path.join(artifacts, name)}-'] + \
              extra + [work, seeds]
        print('$ ' + ' '.join(cmd), flush=True)
        env = dict(os.environ)
        env.setdefault('UBSAN_OPTIONS', 'halt_on_error=1:print_stacktrace=1')
        r = subprocess.run(cmd, env=env)
        found = sorted(f for f in os.listdir(artifacts) if f.startswith(name + '-'))
        if r.returncode != 0:
            print(f'FAIL {name}: the fuzzer stopped with status {r.returncode}; reproducers: '
                  f'{[os.path.join(artifacts, f) for f in found]}')
        else:
            print(f'PASS {name}: {seconds} s, nothing found '
                  f'({len(os.listdir(work))} new corpus inputs)')
        return r.returncode
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
