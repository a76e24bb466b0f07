/* jvm.h - naming the code a HotSpot JVM (OpenJDK 17) compiles, from inside the JVM.
 *
 * Two halves, both in libflameprof.so:
 *
 * 1. In the preload constructor, before the JVM exists, jvm_setup_env() appends to
 *    JAVA_TOOL_OPTIONS (which libjvm reads when it starts, after our constructor):
 *      -XX:+PreserveFramePointer   compiled Java frames keep rbp as a frame pointer; without
 *                                  it the walk ends at the first compiled frame (compiled
 *                                  code has no CFI, and rbp is a general register there)
 *      -agentpath:<this library>   loads us a second time as a JVMTI agent: the loader
 *                                  returns the already-loaded copy, so the agent and the
 *                                  sampler share one set of globals.
 *    Only in a process whose executable is named "java"; not with FLAMEPROF_JAVA=0. The JVM
 *    announces the variable on stderr ("Picked up JAVA_TOOL_OPTIONS: ...").
 *
 * 2. The agent (Agent_OnLoad, or Agent_OnAttach for a late load) asks for compiled-method
 *    events: every CompiledMethodLoad and DynamicCodeGenerated adds the code's range and
 *    name to the JVM code map, which the core holds (jit_jvmmap.h), every
 *    CompiledMethodUnload kills the entry (a new jitmap generation), and at VMInit
 *    GenerateEvents replays the code that existed before the events were on. Names read "com.example.Foo.bar(int,java.lang.String[])"; the JVM's own
 *    code keeps the JVM's name ("Interpreter", "StubRoutines (1)").
 *
 * The callbacks run on JVM threads (the compiler and service threads), never in a signal
 * handler; the jitmap has its own lock. Nothing here installs a signal handler or calls
 * JNI. A JVMTI error costs one "flameprof:" line and the names, never the program.
 *
 * Built without the agent (jvm_setup_env does nothing) when the JDK headers are missing. */
#ifndef FLAMEPROF_JVM_H
#define FLAMEPROF_JVM_H

#include <stdbool.h>
#include <stddef.h>

/* Constructor, before any thread: the JAVA_TOOL_OPTIONS injection. */
void jvm_setup_env(void);

/* Exposed for tests. The frame name of a Java method from its JVMTI class signature
 * ("Lcom/example/Foo;"), name ("bar") and method signature ("(I[Ljava/lang/String;)V"):
 * "com.example.Foo.bar(int,java.lang.String[])". Always NUL-terminated; cut to cap - 1
 * bytes. Control characters and ';' (the folded format's separator) become '?'. Returns
 * the length written. */
size_t jvm_format_method(char *dst, size_t cap, const char *class_sig, const char *name,
                         const char *sig);

/* Exposed for tests. The new JAVA_TOOL_OPTIONS value: old (may be NULL) with the frame
 * pointer flag (unless old mentions PreserveFramePointer, the user's choice) and
 * -agentpath:lib (unless already there; quoted if lib has white space) appended. Returns
 * false if nothing needs adding or lib cannot be quoted or dst is too small. */
bool jvm_tool_options(const char *old, const char *lib, char *dst, size_t cap);

#endif
