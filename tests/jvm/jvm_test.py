#!/usr/bin/env python3
"""Java under libflameprof.so: compiled Java methods by name, stacks whole to the thread root.

The workloads (java/*.java, compiled with javac into a temporary directory at test time)
measure their own CPU time with the thread CPU clock and write it to a truth JSON file; the
profile is checked against it.

  split   JvmSplit: three threads split their CPU 5:3:2 between JvmSplit.alpha, beta and
          gamma. Each method's share of the three methods' weight is within SHARE_TOL_PT of
          its share of their measured CPU; the methods' weight covers most of their CPU; the
          names read `JvmSplit.alpha(long,int)_[j]`; >= ROOTED_MIN of the weight of stacks
          with a JIT frame starts at a thread root (clone3/clone/start_thread/_start).
  churn   JvmChurn: 60 generations of a class, each loaded by its own class loader, run
          for 40 ms of CPU and unloaded; with a small code cache the JVM reuses the freed
          code memory for the next generations' code. A frame named ChurnQQ<g> must name the
          code that was at that address when the sample was taken:
            - consistency: in a stack with two churn frames (applyAsInt calling spinQQ<g>,
              both of one generation), both name the same generation. A final map names each
              address by its last occupant, so a caller and a callee from an old generation
              get names from two different later ones.
            - distribution: the weight per generation follows the CPU each generation used
              (total variation distance <= CHURN_TV_MAX). A final map gives no weight at all
              to generations whose code was freed and reused, and too much to the last ones.
            - coverage: most generations appear.
  env     the JAVA_TOOL_OPTIONS injection: the user's options kept, and the program (and what
          it starts) sees the user's value, not ours; FLAMEPROF_JAVA=0 turns it
          off; a bad FLAMEPROF_JAVA is one "flameprof:" line and the default; a user's
          -XX:-PreserveFramePointer is respected; a library path with a space and a quote (behind a
          symlink) and a relative LD_PRELOAD path work; a program that is not java gets nothing.
  javac   the JDK's javac (its own launcher, not `java`) compiling a generated file of
          TOOL_METHODS methods: >= NAMED_MIN of the Java frames name a method (interpreted
          `_[0]`, compiled `_[j]`, inlined `_[i]`; not `[unknown]` or `Interpreter_[j]`),
          >= NAMED_MIN of the interpreted frames are named, >= ROOTED_MIN of the weight of
          stacks with a Java frame is rooted; javac's own compile methods appear by name.
  jshell  jshell running a recursive fib: the same checks over its profiles (jshell runs the
          snippets in a second JVM it starts), and REPL...fib(int) appears by name.
  embed   jvm_embed (a C program that dlopens libjvm.so and calls JNI_CreateJavaVM itself)
          running JvmEmbed.burn: the agent was injected, burn is named, the inlined
          JvmEmbed.mix(int)_[i] sits right under the compiled JvmEmbed.burn(long)_[j] with
          >= INLINED_MIN of burn's weight, stacks with Java frames are rooted at _start.
  bench   not a test: figures (wall, CPU, exit cost, max RSS) with and without the profiler.

usage: jvm_test.py TEST --lib libflameprof.so --src DIR_OF_JAVA_SOURCES [--agent yes|no]
                   [--embed jvm_embed]
Exit status 0 on success, 1 on a failed assertion, 77 (skip) without java/javac or
without the agent in the library.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
import fptest  # noqa: E402  the shared test library
from fptest import Checks, skip  # noqa: E402

FREQ = fptest.FREQ
SHARE_TOL_PT = 5.0       # percentage points
COVERAGE_MIN = 0.80      # methods' weight / (their CPU x FREQ)
ROOTED_MIN = 0.95        # of the weight of stacks that hold a JIT frame
CHURN_CONSISTENT_MIN = 0.98
CHURN_TV_MAX = 0.25
CHURN_SEEN_MIN = 0.90    # fraction of generations that appear by name
RUN_TIMEOUT = 50         # seconds per JVM run (meson's timeout is 60 per test)
fptest.RUN_TIMEOUT = RUN_TIMEOUT
THREAD_ROOTS = ('clone3', 'clone', 'start_thread', '_start')
TOOL_METHODS = 600       # methods of the file the javac test compiles
NAMED_MIN = 0.90         # of the Java frames (and of the interpreted ones) that name a method
INLINED_MIN = 0.25       # of JvmEmbed.burn's weight in its inlined JvmEmbed.mix
JAVA_METHOD = re.compile(r'^[\w$.]+\.[\w$<>]+\([^ ;]*\)_\[[j0i]\]$')
ANONYMOUS_JAVA = ('[unknown]', 'Interpreter_[j]')
PICKED_UP = 'Picked up JAVA_TOOL_OPTIONS:'
# The code cache is made small so that freed code memory is reused within the run, as it is
# in a long-running server; the churn classes' methods must keep their own frames.
CHURN_JVM_OPTS = ['-XX:ReservedCodeCacheSize=8m', '-XX:CompileCommand=quiet',
                  '-XX:CompileCommand=dontinline,ChurnQQ*::*']
SPLIT_JVM_OPTS = ['-XX:CompileCommand=quiet', '-XX:CompileCommand=dontinline,JvmSplit::*']


class Env(fptest.Workdir):
    """Compiled workloads in a temporary directory, and a way to run java on them."""

    def __init__(self, args):
        self.java = shutil.which('java')
        self.javac = shutil.which('javac')
        if not self.java or not self.javac:
            skip('java and javac are needed for the JVM tests '
                 f'(java: {self.java}, javac: {self.javac}); install openjdk-17-jdk-headless')
        super().__init__('jvm')
        self.lib = os.path.abspath(args.lib)
        self.classes = os.path.join(self.tmp, 'classes')
        srcs = sorted(os.path.join(args.src, f) for f in os.listdir(args.src)
                      if f.endswith('.java'))
        r = fptest.run([self.javac, '-d', self.classes] + srcs, echo=False)
        if r.returncode != 0:
            print(r.stdout + r.stderr)
            sys.exit(1)
        self.runs = 0

    def run(self, main_args, jvm_opts=(), preload=True, env_extra=None, lib=None, cwd=None):
        """Runs java; returns (its fptest.Run, the profile prefix, wall seconds)."""
        cmd = [self.java] + list(jvm_opts) + ['-cp', self.classes] + list(main_args)
        return self.run_cmd(cmd, preload, env_extra, lib, cwd)

    def run_cmd(self, cmd, preload=True, env_extra=None, lib=None, cwd=None):
        """Runs any command the same way (javac, jshell, an embedder)."""
        self.runs += 1
        prefix = os.path.join(self.tmp, f'prof{self.runs}')
        r = fptest.run(cmd, (lib or self.lib) if preload else None,
                       dict(env_extra or {}, FLAMEPROF_OUT=prefix), cwd=cwd or self.tmp)
        return r, prefix, r.wall


def check_run(ck, cp, prefix, what):
    """java exited 0; its profile is there, well-formed, with samples; its summary line is
    whole and agrees with it."""
    ck.check(cp.returncode == 0, f'{what}: java exits 0', f'status {cp.returncode}')
    prof = fptest.load_profile(ck, prefix + '.folded', what)
    fptest.check_summary(ck, cp, prof, (prefix + '.folded', prefix + '.svg'), what=what)
    return prof


def is_jit(frame):
    return frame.endswith('_[j]')


def is_java(frame):
    """A Java frame, named or not: compiled, interpreted, inlined, or code nobody named."""
    return frame.endswith(('_[j]', '_[0]', '_[i]')) or frame == '[unknown]'


def check_rooted(ck, prof, what, pred=is_jit, label='a JIT frame'):
    fptest.check_rooted(ck, prof, lambda fr: any(map(pred, fr)), THREAD_ROOTS, ROOTED_MIN,
                        f'{what}: stacks with {label}')


# ---- split ----

def test_split(env, ck):
    truth_path = os.path.join(env.tmp, 'split.json')
    cp, prefix, _ = env.run(['JvmSplit', truth_path, '3', '1500'], SPLIT_JVM_OPTS)
    prof = check_run(ck, cp, prefix, 'split')
    ck.check(PICKED_UP not in cp.stderr, 'no "Picked up JAVA_TOOL_OPTIONS" line: our options '
             'went into the JVM\'s arguments, its output is as without us', picked_up(cp) or '')
    if not prof or not ck.check(os.path.exists(truth_path), 'truth file written', truth_path):
        return
    truth = json.load(open(truth_path))['cpu_ns']
    names = {m: f'JvmSplit.{m}(long,int)_[j]' for m in truth}
    for m in truth:
        fptest.check_present(ck, prof, names[m], m)
    weights = fptest.check_split(ck, prof, truth, names, SHARE_TOL_PT)
    t_sum = sum(truth.values())
    w_sum = sum(weights.values())
    expect = t_sum / 1e9 * FREQ
    ck.check(w_sum >= COVERAGE_MIN * expect,
             f'the methods\' weight covers >= {100 * COVERAGE_MIN:.0f}% of their CPU x FREQ',
             f'{w_sum} of {expect:.0f} ({100.0 * w_sum / expect:.1f}%)')
    check_rooted(ck, prof, 'split')


# ---- churn ----

GEN_RE = re.compile(r'^ChurnQQ(\d{4})\.(applyAsInt\(int\)|spinQQ(\d{4})\(int\))_\[j\]$')


def frame_gen(frame):
    """The generation a churn frame names, or None. A spin frame names it twice (class and
    method), and both must agree: they come from one JVMTI event."""
    m = GEN_RE.match(frame)
    if not m:
        return None
    if m.group(3) is not None and m.group(3) != m.group(1):
        return -1
    return int(m.group(1))


def test_churn(env, ck):
    gens, slice_ms = 60, 40
    truth_path = os.path.join(env.tmp, 'churn.json')
    cp, prefix, _ = env.run(['JvmChurn', truth_path, str(gens), str(slice_ms)], CHURN_JVM_OPTS)
    prof = check_run(ck, cp, prefix, 'churn')
    ck.check('CodeCache is full' not in cp.stdout + cp.stderr,
             'the code cache never filled up (the JIT kept compiling)')
    if not prof or not ck.check(os.path.exists(truth_path), 'truth file written', truth_path):
        return
    truth = json.load(open(truth_path))['cpu_ns']
    per_gen = [0] * gens
    two_frames = consistent = bad_names = 0
    for fr, c in prof.stacks:
        gs = [g for g in map(frame_gen, fr) if g is not None]
        if not gs:
            continue
        if -1 in gs or any(g >= gens for g in gs):
            bad_names += c
            continue
        per_gen[gs[-1]] += c  # the leaf-most churn frame
        if len(gs) >= 2:
            two_frames += c
            consistent += c if len(set(gs)) == 1 else 0
    named = sum(per_gen)
    print(f'churn weight {named} of {prof.total}; stacks with caller and callee named: '
          f'{two_frames}')
    ck.check(bad_names == 0, 'no churn frame names a generation that never existed',
             f'weight {bad_names}')
    ck.check(two_frames > 0 and consistent >= CHURN_CONSISTENT_MIN * two_frames,
             f'>= {100 * CHURN_CONSISTENT_MIN:.0f}% of stacks with two churn frames name one '
             'generation in both', f'{consistent}/{two_frames}')
    seen = sum(1 for w in per_gen if w > 0)
    ck.check(seen >= CHURN_SEEN_MIN * gens,
             f'>= {100 * CHURN_SEEN_MIN:.0f}% of the generations appear by name',
             f'{seen}/{gens}')
    t_sum = sum(truth)
    tv = 0.5 * sum(abs(w / max(named, 1) - t / t_sum) for w, t in zip(per_gen, truth))
    print('weight per generation: ' + ' '.join(map(str, per_gen)))
    ck.check(tv <= CHURN_TV_MAX,
             f'weight per generation follows its CPU (total variation <= {CHURN_TV_MAX})',
             f'{tv:.3f}')
    check_rooted(ck, prof, 'churn')


# ---- env ----

def picked_up(cp):
    return next((l for l in cp.stderr.splitlines() if l.startswith(PICKED_UP)), None)


def named_hello(prof):
    return prof.weight(lambda fr: 'JvmHello.spin(long)_[j]' in fr)


def agent_arg(cp):
    """The -agentpath: argument the JVM says it was started with (JvmHello prints it)."""
    return next((l[len('agent='):] for l in cp.stdout.splitlines() if l.startswith('agent=')),
                None)


def test_env(env, ck):
    hello = ['JvmHello']

    cp, prefix, _ = env.run(hello, env_extra={'JAVA_TOOL_OPTIONS': '-Dflameprof.test=kept'})
    prof = check_run(ck, cp, prefix, 'user options')
    ck.check('flameprof.test=kept' in cp.stdout, 'the user\'s JAVA_TOOL_OPTIONS still apply',
             cp.stdout.strip())
    ck.check('env=-Dflameprof.test=kept\n' in cp.stdout,
             'the program sees (and passes on) the user\'s JAVA_TOOL_OPTIONS, not ours',
             cp.stdout.strip())
    ck.check(picked_up(cp) == PICKED_UP + ' -Dflameprof.test=kept',
             'the JVM announces the user\'s value only, as without us', picked_up(cp))
    ck.check('fp=true\n' in cp.stdout and agent_arg(cp) == '-agentpath:' + env.lib,
             'the JVM was started with our options (frame pointers, the agent)',
             cp.stdout.strip())
    if prof:
        ck.check(named_hello(prof) > 0, 'JvmHello.spin(long) named', f'weight {named_hello(prof)}')

    cp, prefix, _ = env.run(hello)
    ck.check('env=null\n' in cp.stdout, 'no JAVA_TOOL_OPTIONS of the user: the program sees none',
             cp.stdout.strip())
    ck.check(picked_up(cp) is None and 'NOTE: Picked up' not in cp.stderr,
             'no "Picked up" line from the JVM', cp.stderr[-300:])

    cp, prefix, _ = env.run(hello, env_extra={'FLAMEPROF_JAVA': '0'})
    prof = check_run(ck, cp, prefix, 'FLAMEPROF_JAVA=0')
    ck.check('fp=false\n' in cp.stdout and agent_arg(cp) is None,
             'FLAMEPROF_JAVA=0: the JVM started with its own options only', cp.stdout.strip())
    if prof:
        ck.check(named_hello(prof) == 0, 'FLAMEPROF_JAVA=0: no Java names',
                 f'weight {named_hello(prof)}')

    cp, prefix, _ = env.run(hello, env_extra={'FLAMEPROF_JAVA': 'maybe'})
    prof = check_run(ck, cp, prefix, 'FLAMEPROF_JAVA=maybe')
    warn = [l for l in cp.stderr.splitlines() if 'FLAMEPROF_JAVA' in l]
    ck.check(len(warn) == 1 and warn[0].startswith("flameprof: FLAMEPROF_JAVA='maybe'"),
             'a bad FLAMEPROF_JAVA is one flameprof: line', str(warn))
    ck.check(agent_arg(cp) is not None and prof and named_hello(prof) > 0,
             'a bad FLAMEPROF_JAVA means the default (on)', cp.stdout.strip())

    for var in ('JAVA_TOOL_OPTIONS', 'JDK_JAVA_OPTIONS'):
        cp, prefix, _ = env.run(hello, env_extra={var: '-XX:-PreserveFramePointer'})
        prof = check_run(ck, cp, prefix, f'user frame-pointer choice in {var}')
        ck.check('fp=false\n' in cp.stdout and agent_arg(cp) is not None,
                 f'a user\'s -XX:-PreserveFramePointer ({var}) is kept, the agent still added',
                 cp.stdout.strip())
    cp, prefix, _ = env.run(hello, ['-XX:-PreserveFramePointer'])
    ck.check('fp=false\n' in cp.stdout, 'a user\'s -XX:-PreserveFramePointer on the command '
             'line is kept', cp.stdout.strip())

    # LD_PRELOAD cannot name a path with a space (ld.so splits at spaces), but a symlink
    # can lead to one, and the agent path is the resolved one: it must be quoted.
    spaced = os.path.join(env.tmp, "it's a dir")
    os.makedirs(spaced, exist_ok=True)
    spaced_lib = os.path.join(spaced, 'libflameprof.so')
    shutil.copy(env.lib, spaced_lib)
    link = os.path.join(env.tmp, 'link.so')
    os.symlink(spaced_lib, link)
    cp, prefix, _ = env.run(hello, lib=link)
    prof = check_run(ck, cp, prefix, 'library path with a space')
    if prof:
        ck.check(named_hello(prof) > 0, 'library path with a space: Java names',
                 f'weight {named_hello(prof)}; {agent_arg(cp)}')

    rel = os.path.relpath(env.lib, env.tmp)
    cp, prefix, _ = env.run(hello, lib=rel, cwd=env.tmp)
    prof = check_run(ck, cp, prefix, 'relative LD_PRELOAD')
    ck.check(agent_arg(cp) == '-agentpath:' + env.lib,
             'relative LD_PRELOAD: the agent path is absolute', str(agent_arg(cp)))
    if prof:
        ck.check(named_hello(prof) > 0, 'relative LD_PRELOAD: Java names',
                 f'weight {named_hello(prof)}')

    r = fptest.run(['sh', '-c', 'echo "[$JAVA_TOOL_OPTIONS]"'], env.lib,
                   {'FLAMEPROF_QUIET': '1', 'FLAMEPROF_OUT': os.path.join(env.tmp, 'sh')})
    ck.check(r.stdout.strip() == '[]', 'a program that is not java gets no JAVA_TOOL_OPTIONS',
             r.stdout.strip())


# ---- javac, jshell, embed: JVMs not started by `java` ----

def profiles_of(prefix):
    """Every profile a run left under prefix: PREFIX.folded and PREFIX.PID.folded (a
    process tree, e.g. jshell and the JVM it starts, writes one per process)."""
    base = os.path.basename(prefix)
    return [fptest.Profile(p) for p in fptest.folded_in(os.path.dirname(prefix))
            if re.fullmatch(re.escape(base) + r'(\.\d+)?\.folded', os.path.basename(p))]


def check_java_names(ck, profs, what):
    """Java frames named, interpreted ones too, and stacks with Java frames rooted."""
    occ = {'named': 0, 'anonymous': 0, 'interpreted': 0, 'interp_anon': 0}
    for prof in profs:
        for fr, c in prof.stacks:
            for f in fr:
                if JAVA_METHOD.match(f):
                    occ['named'] += c
                    occ['interpreted'] += c if f.endswith('_[0]') else 0
                elif f in ANONYMOUS_JAVA:
                    occ['anonymous'] += c
                    occ['interp_anon'] += c if f == 'Interpreter_[j]' else 0
    java = occ['named'] + occ['anonymous']
    ck.check(java > 0 and occ['named'] >= NAMED_MIN * java,
             f'{what}: >= {100 * NAMED_MIN:.0f}% of the Java frames name a method',
             f'{fptest.pct(occ["named"], java):.1f}% ({occ})')
    interp = occ['interpreted'] + occ['interp_anon']
    ck.check(occ['interpreted'] > 0 and occ['interpreted'] >= NAMED_MIN * interp,
             f'{what}: >= {100 * NAMED_MIN:.0f}% of the interpreted frames name a method (_[0])',
             f'{occ["interpreted"]} of {interp}')
    for prof in profs:
        if prof.weight(lambda fr: any(map(is_java, fr))):
            check_rooted(ck, prof, f'{what} ({os.path.basename(prof.path)})', is_java,
                         'a Java frame')


def big_java(path, n):
    """A class of n methods that call each other, for javac to chew on."""
    with open(path, 'w') as f:
        f.write('public class Big {\n')
        for i in range(n):
            f.write(f'    static int m{i}(int x) {{ int y = x * {i} + 1; '
                    f'for (int k = 0; k < 3; k++) y ^= (y << 3) + k + m{max(i - 1, 0)}h(y); '
                    f'return y; }}\n')
            f.write(f'    static int m{i}h(int v) {{ return v > {i} ? v - {i} : v + {i}; }}\n')
        f.write(f'    public static void main(String[] a) {{ System.out.println(m{n - 1}(1)); }}\n')
        f.write('}\n')


def test_javac(env, ck):
    src = os.path.join(env.tmp, 'Big.java')
    out = os.path.join(env.tmp, 'big-out')
    big_java(src, TOOL_METHODS)
    cp, prefix, _ = env.run_cmd([env.javac, '-d', out, src])
    prof = check_run(ck, cp, prefix, 'javac')
    ck.check(os.path.exists(os.path.join(out, 'Big.class')), 'javac wrote Big.class')
    ck.check(PICKED_UP not in cp.stderr, 'javac: no "Picked up" line', picked_up(cp) or '')
    if not prof:
        return
    check_java_names(ck, [prof], 'javac')
    w = prof.weight(lambda fr: any(f.startswith('com.sun.tools.javac.main.JavaCompiler.compile(')
                                   for f in fr))
    ck.check(w >= 0.5 * prof.weight(lambda fr: any(map(is_java, fr))),
             'javac: most Java weight under com.sun.tools.javac.main.JavaCompiler.compile(...)',
             f'weight {w}')


def test_jshell(env, ck):
    jshell = shutil.which('jshell')
    if not jshell:
        skip('jshell is needed (openjdk-17-jdk-headless)')
    script = os.path.join(env.tmp, 'fib.jsh')
    with open(script, 'w') as f:
        f.write('long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }\n'
                'System.out.println("fib=" + fib(36));\n/exit\n')
    cp, prefix, _ = env.run_cmd([jshell, '-q', script])
    ck.check(cp.returncode == 0, 'jshell exits 0', f'status {cp.returncode}')
    ck.check('fib=14930352' in cp.stdout, 'jshell printed fib(36)', cp.stdout.strip()[-200:])
    profs = profiles_of(prefix)
    if not ck.check(len(profs) >= 1, 'jshell: profiles written',
                    ' '.join(p.path for p in profs)):
        return
    for prof in profs:
        ck.show(f'jshell {os.path.basename(prof.path)}', prof)
    check_java_names(ck, profs, 'jshell')
    fib = re.compile(r'^REPL\.\$JShell\$\d+\.fib\(int\)_\[[j0i]\]$')
    w = sum(p.weight(lambda fr: any(fib.match(f) for f in fr)) for p in profs)
    ck.check(w > 0, 'jshell: the snippet\'s REPL...fib(int) named', f'weight {w}')


def test_embed(env, ck, embed):
    embed = os.path.abspath(embed) if embed else None
    if not embed or not os.path.exists(embed):
        skip('jvm_embed was not built (no JDK headers at configure time)')
    libjvm = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(env.java))),
                          'lib', 'server', 'libjvm.so')
    if not os.path.exists(libjvm):
        skip(f'no {libjvm}')
    cp, prefix, _ = env.run_cmd([embed, libjvm, env.classes, 'JvmEmbed', '1500'])
    prof = check_run(ck, cp, prefix, 'embed')
    ck.check(re.fullmatch(r'-?\d+\n', cp.stdout) is not None, 'jvm_embed printed burn\'s result',
             cp.stdout.strip())
    ck.check(PICKED_UP not in cp.stderr, 'an embedder (dlopen + dlsym JNI_CreateJavaVM): no '
             '"Picked up" line', picked_up(cp) or '')
    if not prof:
        return
    burn = prof.weight(lambda fr: any(f.startswith('JvmEmbed.burn(long)_[') for f in fr))
    inlined = prof.weight(lambda fr: any(a == 'JvmEmbed.burn(long)_[j]' and
                                         b == 'JvmEmbed.mix(int)_[i]'
                                         for a, b in zip(fr, fr[1:])))
    ck.check(burn > 0, 'JvmEmbed.burn(long) named', f'weight {burn}')
    ck.check(burn > 0 and inlined >= INLINED_MIN * burn,
             f'JvmEmbed.mix(int)_[i] right under JvmEmbed.burn(long)_[j] with >= '
             f'{100 * INLINED_MIN:.0f}% of burn\'s weight', f'{inlined} of {burn}')
    check_rooted(ck, prof, 'embed', is_java, 'a Java frame')


# ---- bench ----

def rss_and_cpu(env, main_args, opts, preload, env_extra=None):
    """One run measured from outside: wall, CPU and peak RSS (wait4), the largest RSS seen
    while the workload ran (/proc, every 20 ms, before its last statement), the time from the
    workload's last statement (end_ms in its truth file) to the process's end, and to the
    profile's last file being written."""
    truth_path = main_args[1]
    prefix = os.path.join(env.tmp, f'bench{env.runs}')
    env.runs += 1
    e = fptest.clean_env(env.lib if preload else None, dict(env_extra or {}, FLAMEPROF_OUT=prefix))
    t0 = time.time()
    p = subprocess.Popen([env.java] + opts + ['-cp', env.classes] + main_args, env=e,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rss = []  # (time, kB)
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open(f'/proc/{p.pid}/status') as f:
                kb = next(int(l.split()[1]) for l in f if l.startswith('VmRSS:'))
            rss.append((time.time(), kb))
        except (OSError, StopIteration):
            pass
        time.sleep(0.02)
    p.returncode = status
    t1 = time.time()
    end_ms = json.load(open(truth_path))['end_ms']
    svg = prefix + '.svg'
    written = os.stat(svg).st_mtime * 1e3 - end_ms if os.path.exists(svg) else float('nan')
    run_rss = max((kb for t, kb in rss if t * 1e3 < end_ms), default=0)
    return {'wall': t1 - t0, 'cpu': ru.ru_utime + ru.ru_stime, 'rss_mb': ru.ru_maxrss / 1024,
            'run_rss_mb': run_rss / 1024, 'exit_ms': t1 * 1e3 - end_ms, 'written_ms': written}


def bench(env):
    """Median of 5 runs of each: JvmSplit (2 threads x 1 s) without the profiler, with it and
    FLAMEPROF_JAVA=0, with it (agent on); and the churn workload likewise."""
    cases = [('none', False, {}), ('profiler, FLAMEPROF_JAVA=0', True, {'FLAMEPROF_JAVA': '0'}),
             ('profiler + agent', True, {})]
    for wl, args, opts in [('split', ['JvmSplit', None, '2', '1000'], SPLIT_JVM_OPTS),
                           ('churn', ['JvmChurn', None, '60', '40'], CHURN_JVM_OPTS)]:
        print(f'== {wl}')
        for label, pre, extra in cases:
            rows = []
            for _ in range(5):
                a = list(args)
                a[1] = os.path.join(env.tmp, 'bench.json')
                rows.append(rss_and_cpu(env, a, opts, pre, extra))
            med = {k: statistics.median(r[k] for r in rows)
                   for k in ('wall', 'cpu', 'rss_mb', 'run_rss_mb', 'exit_ms', 'written_ms')}
            print(f'{label:28s} wall {med["wall"]:5.2f} s  cpu {med["cpu"]:5.2f} s  RSS running '
                  f'{med["run_rss_mb"]:5.1f} MB, peak {med["rss_mb"]:5.1f} MB  end of main -> '
                  f'files written {med["written_ms"]:4.0f} ms, -> exit {med["exit_ms"]:4.0f} ms')
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('test', choices=['split', 'churn', 'env', 'javac', 'jshell', 'embed',
                                     'bench'])
    ap.add_argument('--embed', help='the jvm_embed program (tests/jvm/jvm_embed.c)')
    ap.add_argument('--lib', required=True)
    ap.add_argument('--src', required=True)
    ap.add_argument('--agent', choices=['yes', 'no'], default='yes',
                    help='whether libflameprof.so was built with the JVMTI agent')
    args = ap.parse_args()
    if args.agent == 'no':
        skip('libflameprof.so was built without the JVMTI agent (meson found no JDK headers: '
             'install openjdk-17-jdk-headless and reconfigure)')
    env = Env(args)
    if args.test == 'bench':
        try:
            sys.exit(bench(env))
        finally:
            env.cleanup(False)
    test = {'split': test_split, 'churn': test_churn, 'env': test_env, 'javac': test_javac,
            'jshell': test_jshell,
            'embed': lambda e, c: test_embed(e, c, args.embed)}[args.test]
    ck = Checks('jvm-' + args.test)
    sys.exit(fptest.run_test(ck, test, env, ck, cleanup=env.cleanup))


if __name__ == '__main__':
    main()
