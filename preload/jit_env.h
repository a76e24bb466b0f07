/* jit_env.h - the flags JIT runtimes need to write a perf map, set in the profiled
 * process's environment, and the files they leave removed again at exit.
 *
 * node needs --perf-basic-prof (its perf map) and --interpreted-frames-native-stack (real
 * frames for interpreted JavaScript) in NODE_OPTIONS; CPython >= 3.12 needs
 * PYTHONPERFSUPPORT=1. Both read their environment after our constructor has run. The
 * JVM's flags are jvm.h's.
 *
 * Threads: jit_setup_env in the constructor, before any thread of ours and before the
 * runtime starts (it calls setenv); jit_cleanup once, at the end of the profile. Neither
 * is for a signal handler. */
#ifndef FLAMEPROF_JIT_ENV_H
#define FLAMEPROF_JIT_ENV_H

/* In the constructor, before the runtime reads its environment: turn on what node
 * (--perf-basic-prof --interpreted-frames-native-stack in NODE_OPTIONS) and CPython >= 3.12
 * (PYTHONPERFSUPPORT=1) need, unless FLAMEPROF_NODE=0 / FLAMEPROF_PYTHON=0. */
void jit_setup_env(void);

/* At the end of the profile: remove the perf map (and V8's isolate logs) if they exist only
 * because we turned them on. */
void jit_cleanup(void);

#endif
