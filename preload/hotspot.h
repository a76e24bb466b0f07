/* hotspot.h - the Java frames of a HotSpot JVM that are not compiled methods' own:
 * interpreted frames, and methods the JIT inlined. The JVMTI agent (jvm.c) drives it.
 *
 * Interpreted frames. HotSpot's template interpreter keeps every frame's Method* at a
 * fixed slot below the frame pointer (x86-64: one word below frame::
 * interpreter_frame_last_sp_offset, which libjvm exports in gHotSpotVMIntConstants, its
 * table of layout constants; the serviceability agent reads the same). The signal handler
 * writes that word, unchecked, in place of the pc of each frame in the interpreter's code
 * (unwind.h: UNWIND_METHOD_TAG). Nothing ever dereferences it: every loaded class's
 * methods are registered by their Method* (ClassPrepare + GetClassMethods; a jmethodID
 * points at its Method* in HotSpot), a sampled value that is no registered method stays
 * unnamed, and a registered one is named through JVMTI from its jmethodID.
 *
 * Naming runs on JVM threads only (JVMTI refuses threads the JVM does not know): the
 * aggregator marks the methods samples hold (hotspot_note_methods) and the agent's event
 * callbacks (class prepared, method compiled, code generated, VM death) name the marked
 * ones. A method the aggregator marks after VM death stays unnamed ("Interpreter").
 *
 * Inlining. CompiledMethodLoad's compile_info holds JVMTI_CMLR_INLINE_INFO records: for
 * every pc with debug information, the chain of methods inlined there. They go to the
 * jvmframes table (jvmframes.h) with the code's generation, named at once.
 *
 * Only in a HotSpot JVM (libjvm exports gHotSpotVMIntConstants with the constant); in
 * another JVM nothing here is turned on and interpreted frames read "Interpreter". */
#ifndef FLAMEPROF_HOTSPOT_H
#define FLAMEPROF_HOTSPOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

/* Handler: the interpreter's code and method slot; NULL until both are known.
 * Async-signal-safe (one atomic load). */
const unwind_interp *hotspot_interpreter(void);

/* Aggregator: these sample pcs may hold interpreted methods; mark them for naming. */
void hotspot_note_methods(const uint64_t *pcs, size_t n);

#ifdef FLAMEPROF_HAVE_JVMTI
#include <jvmti.h>

/* The agent's method namer (jvm.c): the frame name of method into buf; 0 on failure. */
typedef size_t (*hotspot_namer)(jvmtiEnv *j, jmethodID method, char *buf, size_t cap);

/* Agent start: is this HotSpot, with the layout we know? Then the table is created and
 * published, and true is returned. One "flameprof:" line when the layout is unknown. */
bool hotspot_init(jvmtiEnv *j, hotspot_namer namer);

/* ClassPrepare: register klass's methods. At VMInit (or a late attach): every loaded
 * class's. Both also name what the aggregator has marked meanwhile. */
void hotspot_class_prepared(jvmtiEnv *j, jclass klass);
void hotspot_register_loaded(jvmtiEnv *j);

/* DynamicCodeGenerated: "Interpreter" is the interpreter's code. */
void hotspot_code_generated(jvmtiEnv *j, const char *name, const void *addr, jint size);

/* CompiledMethodLoad, after the code's range is in the JVM code map at generation gen. */
void hotspot_method_loaded(jvmtiEnv *j, const void *code, jint size, const void *compile_info,
                           uint32_t gen);

/* Name every method marked so far (VM death: the last chance). */
void hotspot_name_marked(jvmtiEnv *j);
#endif

#endif
