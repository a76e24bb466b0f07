/* jit_jvmmap.h - the JVM's map of compiled code: the one place that holds it.
 *
 * The JVMTI agent (preload/jvm.c) creates it when it starts and fills it from the JVM's
 * compiled-method events; the signal handler stamps each sample with its generation
 * (jit_jvm_gen); the report names code through it (jit_names.c). It lives in the core,
 * not beside the agent, because the report is shared with the flameprof command, which
 * has no agent: there the map is simply never created.
 *
 * Created at most once and never freed (a handler may hold it). Thread-safe: the map
 * has its own lock (jitmap.h); jit_jvm_map and jit_jvm_gen are also async-signal-safe
 * (atomic loads only). */
#ifndef FLAMEPROF_JIT_JVMMAP_H
#define FLAMEPROF_JIT_JVMMAP_H

#include <stdint.h>

#include "jitmap.h"

/* Agent start: create the map and publish it before any event can arrive. A later call
 * returns the map that exists. NULL if out of memory. */
jitmap *jit_jvm_map_create(void);

/* The map; NULL until the agent has created it (and always in a process that is not a
 * JVM). Async-signal-safe. */
jitmap *jit_jvm_map(void);

/* Handler: the JVM code generation now, 0 without a JVM. Async-signal-safe. */
uint32_t jit_jvm_gen(void);

#endif
