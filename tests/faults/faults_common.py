"""faults_common - what the fault-matrix tests share: limits, checks, the run context.
See faults.py for what the matrix asserts."""

import glob
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import (SKIP, STATS, Checks, Profile, Skip, budget, check_present,  # noqa: E402
                    folded_in, report_run, run, shown, start)

FREQ = fptest.FREQ
RUN_TIMEOUT = 45          # seconds of wall time per program run; a hang fails the test
fptest.RUN_TIMEOUT = RUN_TIMEOUT
FIFO_TIMEOUT = 10         # runs that might block on a FIFO: fail sooner
TEST_BUDGET = 55          # seconds for a whole test, all its runs: runs are cut to fit
# How much a SIGKILL or a crash may cost: the raw spill is appended once a second, so the
# samples since the last spill (about one second of wall time, per busy thread) are lost,
# plus what sat in the ring. 1.5 s per busy thread leaves room for a loaded machine.
KILL_LOSS_S = 1.5
WEIGHT_MIN_RATIO = 0.75   # a normally ended profile holds >= this much of CPU x FREQ


# --- checks shared by the tests ---------------------------------------------------------------

def check_ended_like(ck, r, base, what):
    """Same status (or terminating signal) and stdout as the run without the profiler."""
    ck.check(not r.timed_out, f'{what}: finished within its time limit (no hang)',
             f'{r.wall:.1f} s')
    ck.check(r.returncode == base.returncode, f'{what}: same ending as without the profiler',
             f'status {r.returncode} vs {base.returncode} without')
    ck.check(r.stdout == base.stdout, f'{what}: same stdout as without the profiler',
             f'{r.stdout[:300]!r} vs {base.stdout[:300]!r}')


def check_status(ck, r, want, what):
    ck.check(not r.timed_out, f'{what}: finished within the time limit (no hang)',
             f'{r.wall:.1f} s')
    ck.check(r.returncode == want, f'{what}: status {want}', f'got {r.returncode}')


def load(ck, path, label):
    """The profile at path, checked, with its SVG beside it."""
    prof = fptest.load_profile(ck, path, label)
    if prof:
        fptest.check_svg(ck, path[:-len('.folded')] + '.svg')
    return prof


def check_weight_vs_cpu(ck, prof, cpu, label, name=None, ratio=WEIGHT_MIN_RATIO):
    """The profile's weight (or one function's) against CPU seconds x FREQ. cpu is what the
    process had used when its ending began (the profiler's own work at exit, symbolizing and
    writing, is CPU no profile can hold), or what the function burned by design."""
    want = cpu * FREQ
    w = prof.inclusive(name) if name else prof.total
    what = f"{name}'s weight" if name else 'weight'
    ck.check(w >= ratio * want - 30,
             f'{label}: {what} holds >= {100 * ratio:.0f}% of CPU x FREQ',
             f'{w} vs {cpu:.2f} CPU-s x {FREQ} = {want:.0f} ({100 * w / max(want, 1):.0f}%)')


def check_no_raw(ck, d):
    raws = glob.glob(os.path.join(d, '*.raw'))
    ck.check(not raws, 'raw spill removed once the profile is written',
             f'{[os.path.basename(r) for r in raws]}')


def check_summary(ck, r, n=1):
    """n whole summary lines; dropped= is not asserted under hostile conditions (it is
    counted in the RESULT line, for tools/stress.py)."""
    fptest.check_summary(ck, r, n=n, dropped=False)


class Ctx(fptest.Workdir):
    def __init__(self, args):
        super().__init__('faults', args.keep)
        self.lib = os.path.abspath(args.lib)
        self.tool = os.path.abspath(args.tool)
        self.bin = os.path.abspath(args.bin)

    def prog(self, name):
        return os.path.join(self.bin, name)

    @property
    def fixture(self):
        return os.path.join(self.bin, 'libfw_fixture.so')

    def out(self, name='p.%p'):
        return {'FLAMEPROF_OUT': os.path.join(self.tmp, name)}



def mount_tmpfs(ctx, d, opts):
    """Mount a small tmpfs (we run as root in CI); Skip if this machine does not allow it."""
    os.makedirs(d, exist_ok=True)
    r = subprocess.run(['mount', '-t', 'tmpfs', '-o', opts, 'tmpfs', d], capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise Skip(f'cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}): the '
                   f'full-disk / read-only case was NOT tested')
    ctx.cleanups.append(lambda: subprocess.run(['umount', '-l', d], check=False))
