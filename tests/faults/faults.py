#!/usr/bin/env python3
"""The fault matrix of issue 5: libflameprof.so must never hurt the host and never lose the
profile. Each test runs one of the fw_* programs (see their sources) with and without
LD_PRELOAD=libflameprof.so and checks that

  - the program ends as it does without the profiler (exit status or terminating signal,
    stdout), within a time bound (a hang is a failure, never a stuck CI job);
  - the profile is written, with the functions the program burned CPU in; or, when the
    process is killed or crashes, the raw spill survives and `flameprof report` turns it into
    a profile that holds all but the last spill interval (see KILL_LOSS_S);
  - bad input (configuration, output paths, perf maps, ELF files) produces one clear
    `flameprof:` line and a sane fallback, never a crash or a hang.

usage: faults.py TEST --lib libflameprof.so --tool flameprof --bin DIR [--keep]
       faults.py list        (the tests, as NAME:PRIORITY for meson.build)
DIR holds the fw_* programs and libfw_fixture.so. Exit status 0 when every assertion holds,
1 otherwise, 77 when the test cannot run here (it says why, loudly). Every failed assertion is
printed with its numbers. The last line is machine-readable for tools/stress.py:
  RESULT test=NAME status=PASS|FAIL|SKIP hangs=N dropped=N lost=N runs=N
"""

import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faults_common import *  # noqa: F401,F403  limits, checks, Ctx, fptest names
from faults_endings import *  # noqa: F401,F403
from faults_hosts import *  # noqa: F401,F403
from faults_input import *  # noqa: F401,F403


# --- the table --------------------------------------------------------------------------------

TESTS = {
    'signal-term': lambda c, k: test_signal(c, k, signal.SIGTERM),
    'signal-int': lambda c, k: test_signal(c, k, signal.SIGINT),
    'signal-hup': lambda c, k: test_signal(c, k, signal.SIGHUP),
    'signal-term-reset-default': lambda c, k: test_signal(c, k, signal.SIGTERM, 'reset-default'),
    'signal-quit': lambda c, k: test_signal(c, k, signal.SIGQUIT),
    'signal-term-no-wait': lambda c, k: test_no_wait(c, k, signal.SIGTERM),
    'signal-term-pid1': lambda c, k: test_pid1(c, k, signal.SIGTERM),
    # The program's own handler ends the process by the default action in the end: node's
    # SA_RESETHAND handler that raises again, a reset to SIG_DFL then kill(), a System V
    # one-shot handler (strict ISO C signal()).
    'handler-resethand-term': lambda c, k: test_signal(c, k, signal.SIGTERM, 'resethand'),
    'handler-resethand-int': lambda c, k: test_signal(c, k, signal.SIGINT, 'resethand'),
    'handler-reraise-hup': lambda c, k: test_signal(c, k, signal.SIGHUP, 'reraise'),
    'handler-sysv-term': lambda c, k: test_signal(c, k, signal.SIGTERM, 'sysv'),
    'handler-exit': lambda c, k: test_handler(c, k, 'handler-exit'),
    'handler-_exit': lambda c, k: test_handler(c, k, 'handler-_exit'),
    'sigkill': lambda c, k: test_kill(c, k, 1),
    'sigkill-2threads': lambda c, k: test_kill(c, k, 2),
    'sigkill-idle': test_kill_idle,
    'crash-segv': lambda c, k: test_crash(c, k, 'segv'),
    'crash-abort': lambda c, k: test_crash(c, k, 'abort'),
    'crash-handler-_exit': lambda c, k: test_exit_call(c, k, 'segv-handler', 9),
    '_exit': lambda c, k: test_exit_call(c, k, '_exit'),
    '_Exit': lambda c, k: test_exit_call(c, k, '_Exit'),
    '_exit-two-threads': lambda c, k: test_exit_call(c, k, '_exit-two'),
    'closed-stderr': test_closed_stderr,
    'exec-fail': test_exec_fail,
    'exec-shim': test_exec_shim,
    'chdir': test_chdir,
    'fork': test_fork,
    'fork-storm': test_fork_storm,
    'fork-storm-wall': lambda c, k: test_fork_storm(c, k, {'FLAMEPROF_MODE': 'wall'}),
    'fork-storm-perf': lambda c, k: test_fork_storm(c, k, {'FLAMEPROF_SOURCE': 'perf'}),
    'fork-ruby': test_fork_ruby,
    'posix-spawn': lambda c, k: test_spawn(c, k, 'spawn'),
    'vfork-exec': lambda c, k: test_spawn(c, k, 'vfork'),
    'vfork-signal': lambda c, k: test_spawn(c, k, 'vfork-signal'),
    'daemon': test_daemon,
    'thread-churn': test_churn,
    'dlopen-churn': test_dlchurn,
    'eintr': test_eintr,
    'own-sigprof-sigaction': lambda c, k: test_ownprof(c, k, 'sigaction'),
    'own-sigprof-signal': lambda c, k: test_ownprof(c, k, 'signal'),
    'own-sigprof-ctor': lambda c, k: test_ownprof(c, k, 'ctor'),
    'block-sigprof': lambda c, k: test_blockprof(c, k, 'blockprof'),
    'block-sigprof-all': lambda c, k: test_blockprof(c, k, 'blockprof-all'),
    'malloc-in-handler': test_alloc,
    'deep-recursion': test_deep,
    'small-stack': test_smallstack,
    'altstack': lambda c, k: test_altstack(c, k, 'altstack'),
    'altstack-overflow': lambda c, k: test_altstack(c, k, 'altstack-overflow', '300'),
    'altstack-small': test_altstack_small,
    'own-sigprof-flags': test_ownprof_flags,
    'out-missing-dir': lambda c, k: test_out_dir(c, k, 'missing'),
    'out-proc-dir': lambda c, k: test_out_dir(c, k, 'proc'),
    'out-readonly-dir': lambda c, k: test_out_dir(c, k, 'readonly'),
    'out-name-too-long': test_out_toolong,
    'out-existing-file': lambda c, k: test_out_existing(c, k, 'file'),
    'out-symlink': lambda c, k: test_out_existing(c, k, 'symlink'),
    'out-full-disk': test_full_disk,
}
for _how in ('execvpe', 'execle', 'execlp', 'fexecve'):
    TESTS['exec-' + _how] = lambda c, k, how=_how: test_exec(c, k, how)
for _var in ('FREQ', 'OUT', 'QUIET', 'BENCH', 'FORMAT', 'NODE', 'PYTHON', 'JAVA',
             'STOP_WAIT'):
    TESTS['env-' + _var.lower()] = lambda c, k, v='FLAMEPROF_' + _var: test_env(c, k, v)
for _mode in ('other-owner', 'truncated', 'cut-first', 'huge'):
    TESTS['perfmap-' + _mode] = lambda c, k, m=_mode: test_perfmap(c, k, m)
for _mode in ('gone', 'empty', 'header', 'half', 'garbage', 'elfjunk', 'dir', 'fifo'):
    TESTS['elf-' + _mode] = lambda c, k, m=_mode: test_elf(c, k, m)
for _mode in ('half', 'garbage', 'fifo'):
    TESTS['elf-debug-' + _mode] = lambda c, k, m=_mode: test_elf(c, k, m, debug=True)


# Started first, so that a 2-core run packs well: the longest tests and those that wait.
SLOW = ('sigkill-2threads', 'sigkill', 'crash-segv', 'crash-abort', 'eintr', 'malloc-in-handler',
        'elf-fifo', 'elf-debug-fifo', 'dlopen-churn', 'env-freq')


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('test', choices=sorted(TESTS) + ['list'])
    ap.add_argument('--lib', help='libflameprof.so')
    ap.add_argument('--tool', help='the flameprof command')
    ap.add_argument('--bin', help='the folder with the fw_* programs')
    ap.add_argument('--keep', action='store_true', help='keep the temporary files')
    args = ap.parse_args()
    if args.test == 'list':  # for meson.build: NAME:PRIORITY
        print('\n'.join(f'{t}:{10 if t in SLOW else 0}' for t in sorted(TESTS)))
        return 0
    for what, path in (('library', args.lib), ('tool', args.tool), ('bin', args.bin)):
        if not path or not os.path.exists(path):
            print(f'FAIL: {what} not found: {path}')
            return 1
    ctx = Ctx(args)
    ck = Checks(args.test)
    fptest.set_budget(TEST_BUDGET)
    rc = fptest.run_test(ck, TESTS[args.test], ctx, ck, cleanup=ctx.cleanup)
    status = {0: 'PASS', SKIP: 'SKIP'}.get(rc, 'FAIL')
    print(f'RESULT test={args.test} status={status} hangs={STATS["hangs"]} '
          f'dropped={STATS["dropped"]} lost={STATS["lost"]} runs={STATS["runs"]}')
    return rc


if __name__ == '__main__':
    sys.exit(main())
