/* jvmframes.h - the Java frames a HotSpot JVM's code holds besides its compiled methods'
 * own: the method each interpreter frame runs, and the methods the JIT inlined into
 * compiled code. Filled by the JVMTI agent (preload/jvm.c) on JVM threads, read by the
 * aggregator thread and the report.
 *
 * Methods are keyed by the JVM's own Method* (what an interpreter frame holds, and what a
 * jmethodID points to in HotSpot). A Method* the signal handler read off a stack is only
 * ever compared against the keys here, never dereferenced: a value that is no method the
 * agent registered names nothing. Names are filled in lazily: the aggregator marks the
 * methods samples hold (jvmframes_want), and the agent, on a JVM thread where JVMTI may be
 * called, takes the wanted ones and names them (jvmframes_take_wanted, jvmframes_set_name).
 *
 * Inlining comes from JVMTI CompiledMethodLoad's inline records: for each pc of the
 * compiled code that has debug information, the methods inlined there. A pc between two
 * such pcs is in the scope of the next one (a return address is exactly one).
 *
 * Memory grows with the methods loaded and the code the JIT ever compiled (as the JVM
 * code map's names do): a long-running service pays for its code churn.
 *
 * Thread-safe (one internal mutex); nothing here is async-signal-safe. */
#ifndef FLAMEPROF_JVMFRAMES_H
#define FLAMEPROF_JVMFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jvmframes jvmframes;

jvmframes *jvmframes_new(void);
void jvmframes_free(jvmframes *f);

/* The process's table, for the report (set once by the agent; NULL without a JVM). */
void jvmframes_publish(jvmframes *f);
jvmframes *jvmframes_published(void);

/* ---- methods ---- */

/* Register a live method and its jmethodID (opaque here). A method already registered
 * with another id is a new method at a reused address: it loses its old name. */
void jvmframes_add_method(jvmframes *f, uint64_t method, uint64_t id);

/* Aggregator: a sample holds method. A registered method without a name is queued for
 * naming once. Returns false if method is not registered (not a method we know). */
bool jvmframes_want(jvmframes *f, uint64_t method);

/* Agent: up to max queued methods and their ids, oldest first; 0 when none. */
size_t jvmframes_take_wanted(jvmframes *f, uint64_t *methods, uint64_t *ids, size_t max);

/* Agent: is a method registered and not yet named? (its id in *id) */
bool jvmframes_needs_name(jvmframes *f, uint64_t method, uint64_t *id);

/* Agent: method's name (copied; cut at 1023 bytes). */
void jvmframes_set_name(jvmframes *f, uint64_t method, const char *name, size_t len);

/* Report: method's name into buf[0..cap); false if it has none. */
bool jvmframes_name(jvmframes *f, uint64_t method, char *buf, size_t cap);

/* ---- inlining ---- */

/* One pc with debug information in compiled code: the methods inlined at it, outermost
 * first (the compiled method itself left out); n == 0 where nothing is inlined. */
typedef struct jvmframes_scope {
    uint64_t pc;
    const uint64_t *methods;
    size_t n;
} jvmframes_scope;

/* Agent: compiled code [start, start+size) loaded in JVM code generation gen, with its
 * scopes (any order). Returns 0, or -1 when memory is short (the code then has none). */
int jvmframes_add_code(jvmframes *f, uint64_t start, uint64_t size, uint32_t gen,
                       const jvmframes_scope *scopes, size_t n);

/* Report: the methods inlined at pc (a sample's code generation gen), outermost first,
 * into out[0..max); returns how many (0: none, or no compiled code known there). Of the
 * loads that cover pc, the newest as of gen is used (the oldest if all came later). */
size_t jvmframes_inlined(jvmframes *f, uint64_t pc, uint32_t gen, uint64_t *out, size_t max);

#endif
