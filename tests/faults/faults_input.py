"""faults_input - the fault matrix: bad input (environment, output paths, full disk, perf
maps, ELF files)."""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults_common import *  # noqa: F401,F403  limits, checks, Ctx, fptest names

# --- bad input --------------------------------------------------------------------------------

HUGE = 'x' * 100000   # one environment string may hold at most 128 KiB


def env_cases(var):
    """(value, bad?) pairs for one variable; bad values must get exactly one line."""
    common = [('garbage', True), ('-1', True), (HUGE, True), ('\x01\x1b[31m\u00e9', True)]
    if var == 'FLAMEPROF_FREQ':
        return common + [('', True), ('0', True), ('10001', True),
                         ('99999999999999999999999', True), (' 100', True), ('100Hz', True),
                         ('0x100', True), ('10000', False)]
    if var == 'FLAMEPROF_OUT':
        return [('', True), ('x' * 5000, True), ('dir/', True), ('a\x01b', True)]
    if var == 'FLAMEPROF_BENCH':
        return common + [('', True)]
    if var == 'FLAMEPROF_FORMAT':
        return common + [('', False), ('folded,nonsense', True), ('svg, folded', False)]
    if var == 'FLAMEPROF_STOP_WAIT':
        return common + [('', True), ('3601', True), ('1.5', True), ('0', False), ('30', False)]
    # Booleans: an empty value means "unset", which is no error.
    return common + [('', False), ('2', True), ('yes', False)]


def java_agent_built(lib):
    with open(lib, 'rb') as f:
        return b'FLAMEPROF_JAVA' in f.read()


def test_env(ctx, ck, var):
    """Bad values: same status and stdout, exactly one flameprof: line naming the variable."""
    prog = ctx.prog('fw_end')
    # FLAMEPROF_NODE/PYTHON/JAVA are read only by node, python3.12+ and java: run the same
    # program under those names.
    alias = {'FLAMEPROF_NODE': 'node', 'FLAMEPROF_PYTHON': 'python3.12',
             'FLAMEPROF_JAVA': 'java'}.get(var)
    if var == 'FLAMEPROF_JAVA' and not java_agent_built(ctx.lib):
        raise Skip('libflameprof.so was built without the JVMTI agent: FLAMEPROF_JAVA is never '
                   'read, so its bad values were NOT tested')
    if alias:
        d = os.path.join(ctx.tmp, 'alias')
        os.makedirs(d, exist_ok=True)
        shutil.copy(prog, os.path.join(d, alias))
        prog = os.path.join(d, alias)
    # Just long enough to be sampled where the profile's place is checked.
    argv = [prog, 'plain', '0.2' if var == 'FLAMEPROF_OUT' else '0.05']
    base = run(argv)
    ck.check(base.returncode == 7, 'plain exits 7 without the profiler', f'{base.returncode}')
    for value, bad in env_cases(var):
        cwd = tempfile.mkdtemp(dir=ctx.tmp)
        env = {var: value}
        if var != 'FLAMEPROF_OUT':
            env.update(ctx.out('p.%p'))
        r = run(argv, ctx.lib, env, cwd=cwd)
        what = f'{var}={shown(value, 30)}'
        check_ended_like(ck, r, base, what)
        notes = [ln for ln in r.notes() if 'no samples' not in ln]
        naming = [ln for ln in notes if var in ln]
        if bad:
            ck.check(len(notes) == 1 and len(naming) == 1,
                     f'{what}: exactly one flameprof: line, naming {var}', f'{notes}')
            ck.check(all(len(ln) < 400 for ln in notes), f'{what}: the line is short',
                     f'{[len(ln) for ln in notes]}')
        else:
            ck.check(not notes, f'{what}: accepted silently', f'{notes}')
        if var == 'FLAMEPROF_OUT':
            ck.check(os.path.isfile(os.path.join(cwd, f'flameprof.fw_end.{r.pid}.folded')),
                     f'{what}: the default prefix is used (in the working directory)',
                     f'{os.listdir(cwd)}')


def fallback_cleanup(ctx, base):
    def clean():
        for f in glob.glob(f'/tmp/{base}*'):
            os.unlink(f)
    ctx.cleanups.append(clean)


def check_fallback(ck, r, base, what):
    """The profile went to /tmp/<base>..., and stderr said so in one line per problem."""
    s = r.summaries()
    written = re.findall(r'wrote (\S+) (\S+)$', s[0]) if s else []
    ck.check(bool(written) and all(p.startswith('/tmp/' + base) for p in written[0]),
             f'{what}: the profile went to /tmp/{base}...', f'{s[:1]}')
    for p in (written[0] if written else []):
        ck.check(os.path.isfile(p), f'{what}: {p} exists')
    notes = r.notes()
    ck.check(len(notes) == 1 and '/tmp/' in notes[0],
             f'{what}: one flameprof: line says where the profile went instead', f'{notes}')


def test_out_dir(ctx, ck, kind):
    """A prefix in a missing, read-only or unwritable directory: fall back to /tmp, say so."""
    base = f'flameprof-fault-{os.getpid()}-{kind}'
    fallback_cleanup(ctx, base)
    if kind == 'missing':
        prefix = f'/nonexistent/flameprof-dir/{base}'
    elif kind == 'proc':
        prefix = f'/proc/self/{base}'
    elif kind == 'readonly':
        d = os.path.join(ctx.tmp, 'ro')
        mount_tmpfs(ctx, d, 'ro,size=64k')
        prefix = os.path.join(d, base)
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': prefix})
    check_ended_like(ck, r, ref, f'FLAMEPROF_OUT={prefix}')
    check_fallback(ck, r, base, kind)
    ck.check(not glob.glob(f'/tmp/{base}*.raw'), 'no raw spill left in /tmp')


def test_out_toolong(ctx, ck):
    """A file name longer than NAME_MAX: nowhere to write; say so, keep the status."""
    prefix = os.path.join(ctx.tmp, 'n' * 300)
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': prefix})
    check_ended_like(ck, r, ref, 'a 300-byte file name')
    notes = r.notes()
    ck.check(notes and all('File name too long' in ln or 'not written' in ln for ln in notes),
             'stderr says the profile could not be written there, and why', f'{notes}')
    # The library may fall back to /tmp/flameprof.PID.*: then the files must be there.
    promised = [m.group(1) for ln in notes
                for m in [re.search(r'the profile is in (\S+)\.\* instead', ln)] if m]
    ck.check(all(os.path.isfile(p + '.folded') for p in promised),
             'no line promises a fallback that was not written', f'{notes}')
    for p in promised:
        for f in glob.glob(p + '.*'):
            os.unlink(f)
    ck.check(len(notes) <= 2, 'no more than one line per file', f'{len(notes)} lines')


def test_out_existing(ctx, ck, kind):
    """PREFIX.folded exists (a file, a symlink to a victim, a dangling symlink): nothing of
    anyone else's is changed, the profile goes to PREFIX.<pid>.*."""
    prefix = os.path.join(ctx.tmp, 'prof')
    victim = os.path.join(ctx.tmp, 'victim')
    dangling = os.path.join(ctx.tmp, 'dangling-target')
    with open(victim, 'w') as f:
        f.write('victim\n')
    if kind == 'file':
        for ext in ('.folded', '.svg', '.raw'):
            with open(prefix + ext, 'w') as f:
                f.write('precious\n')
    else:
        os.symlink(victim, prefix + '.folded')
        os.symlink(dangling, prefix + '.svg')
        os.symlink(victim, prefix + '.raw')
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': prefix})
    check_ended_like(ck, r, ref, f'existing {kind} at the destination')
    if kind == 'file':
        for ext in ('.folded', '.svg', '.raw'):
            ck.check(open(prefix + ext).read() == 'precious\n', f'prof{ext} not clobbered')
    else:
        ck.check(open(victim).read() == 'victim\n', 'the symlinks\' victim is unchanged')
        ck.check(not os.path.lexists(dangling), 'a dangling symlink was not followed',
                 f'{dangling} exists: {os.path.lexists(dangling)}')
        for ext in ('.folded', '.svg', '.raw'):
            ck.check(os.path.islink(prefix + ext), f'prof{ext} is still the same symlink')
    mine = f'{prefix}.{r.pid}.folded'
    prof = load(ck, mine, f'prof.{r.pid}.folded')
    s = r.summaries()
    ck.check(bool(s) and mine in s[0], 'the summary names the file actually written', f'{s[:1]}')
    if prof:
        check_present(ck, prof, 'plain_burn', 'plain')
    ck.check(not glob.glob(os.path.join(ctx.tmp, f'prof.{r.pid}*.raw')), 'raw spill removed')


def test_full_disk(ctx, ck):
    d = os.path.join(ctx.tmp, 'full')
    mount_tmpfs(ctx, d, 'size=64k')
    try:
        with open(os.path.join(d, 'filler'), 'wb') as f:
            while True:
                f.write(b'\0' * 4096)
                f.flush()
    except OSError as e:
        print(f'       filled {d}: {e}')
    base = f'flameprof-fault-{os.getpid()}-full'
    fallback_cleanup(ctx, base)
    argv = [ctx.prog('fw_end'), 'plain']
    ref = run(argv)
    r = run(argv, ctx.lib, {'FLAMEPROF_OUT': os.path.join(d, base)})
    check_ended_like(ck, r, ref, 'full disk')
    notes = r.notes()
    ck.check(any('No space left on device' in ln for ln in notes),
             'stderr reports the full disk (ENOSPC)', f'{notes}')
    check_fallback(ck, r, base, 'full disk')
    left = [f for f in os.listdir(d) if f != 'filler']
    ck.check(not left, 'no temporary or partial files left on the full disk', f'{left}')


def test_perfmap(ctx, ck, mode):
    argv = [ctx.prog('fw_jit'), mode] + (['1000000'] if mode == 'huge' else [])
    r = run(argv, ctx.lib, ctx.out())
    if mode == 'other-owner' and r.returncode == 3:
        raise Skip('giving a file to another user needs root: ' + r.stdout.strip())
    check_status(ck, r, 0, f'perf map {mode}')
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    if not prof:
        return
    names = prof.frame_names()
    if mode == 'other-owner':
        ck.check(any('owned by another user' in ln for ln in r.notes()),
                 'stderr: map ignored, owned by another user', f'{r.notes()}')
        ck.check(not any('fault_other_owner_fn' in n for n in names),
                 "the other user's names are not used", f'{sorted(names)[:10]}')
    elif mode == 'truncated':
        check_present(ck, prof, 'fault_jit_whole_[j]', 'complete line')
        ck.check(not any('fault_jit_tr' in n and 'whole' not in n for n in names),
                 'the line cut mid-name names nothing', f'{[n for n in names if "jit" in n]}')
        check_present(ck, prof, 'run_jit_2', 'caller of the unnamed code')
    elif mode == 'cut-first':
        check_present(ck, prof, 'run_jit_1', 'caller of the unnamed code')
    elif mode == 'huge':
        check_present(ck, prof, 'fault_jit_huge_[j]', 'the entry after 1M others')
        small = run([ctx.prog('fw_jit'), 'huge', '0'], ctx.lib, ctx.out('small.%p'))
        check_status(ck, small, 0, 'perf map with one entry')

        def own(x):
            m = re.search(r'map_write_cpu=([\d.]+)', x.stderr)
            return x.cpu - (float(m.group(1)) if m else 0)
        extra = own(r) - own(small)
        print(f'       CPU beyond writing the map: {own(r):.2f} s with 1M lines, {own(small):.2f} s '
              f'with 1 line: {extra:+.2f} s for reading 1M lines')
        ck.check(extra < 2.0, 'a 1M-line perf map costs < 2 s of extra CPU', f'{extra:.2f} s')


def test_elf(ctx, ck, mode, debug=False):
    """The library was unloaded and its file (or its debug file) replaced by junk before the
    profile is symbolized: no crash, no hang; the frame gets a fallback name."""
    lib = os.path.join(ctx.tmp, 'copy.so')
    target = lib
    if debug:
        objcopy = shutil.which('objcopy')
        if not objcopy:
            raise Skip('objcopy not found: corrupt debug files were NOT tested')
        target = os.path.join(ctx.tmp, 'copy.debug')
        subprocess.run([objcopy, '--only-keep-debug', ctx.fixture, target], check=True)
        subprocess.run([objcopy, '--strip-debug', '--add-gnu-debuglink=' + target,
                        ctx.fixture, lib], check=True)
    else:
        shutil.copy(ctx.fixture, lib)
    argv = [ctx.prog('fw_elf'), mode, lib, target]
    r = run(argv, ctx.lib, ctx.out(), timeout=FIFO_TIMEOUT)
    what = f'{"debug file" if debug else "library"} replaced: {mode}'
    ck.check(not r.timed_out, f'{what}: no hang at exit', f'{r.wall:.1f} s')
    check_status(ck, r, 0, what)
    ck.check(r.stdout == f'fw_elf {mode}: done\n', 'stdout unchanged', repr(r.stdout))
    prof = load(ck, os.path.join(ctx.tmp, f'p.{r.pid}.folded'), mode)
    if prof:
        check_present(ck, prof, 'elf_main_burn', 'the program itself')
        frames = sorted(f for f in prof.frame_names() if 'copy.so' in f or 'fixture' in f)
        w = prof.weight(lambda fr: any('copy.so' in f or f == 'fixture_burn' for f in fr))
        print(f'       the library\'s frames now read: {frames[:6]} (weight {w})')
        ck.check(w > 0, "the library's samples are kept, under some name", f'weight {w}')
