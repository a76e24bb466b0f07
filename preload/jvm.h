/* jvm.h - naming the code a HotSpot JVM (OpenJDK 17) runs, from inside the JVM.
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
 *    In every process that starts a JVM, whatever its executable is called: one that links
 *    libjli.so (java, javac, jshell, jar, jlink: every JDK launcher) or libjvm.so is seen
 *    in the constructor; one that loads either later with dlopen (a jpackage'd launcher
 *    loads libjli, an embedder libjvm before JNI_CreateJavaVM) just before that dlopen,
 *    through our dlopen interposer. Not with FLAMEPROF_JAVA=0. The JVM announces the
 *    variable on stderr ("Picked up JAVA_TOOL_OPTIONS: ..."); once it has read it (at
 *    Agent_OnLoad) the user's own value is put back, so that the programs the JVM starts
 *    do not inherit ours.
 *
 * 2. The agent (Agent_OnLoad, or Agent_OnAttach for a late load) asks for compiled-method
 *    events: every CompiledMethodLoad and DynamicCodeGenerated adds the code's range and
 *    name to the JVM code map, which the core holds (jit_jvmmap.h), every
 *    CompiledMethodUnload kills the entry (a new jitmap generation), and at VMInit
 *    GenerateEvents replays the code that existed before the events were on. Names read
 *    "com.example.Foo.bar(int,java.lang.String[])"; the JVM's own code keeps the JVM's name
 *    ("Interpreter", "StubRoutines (1)"). The agent also drives hotspot.h (interpreted
 *    frames by their Method*, inlined methods): ClassPrepare, VMInit, VMDeath, and the
 *    compile_info of CompiledMethodLoad.
 *
 * The callbacks run on JVM threads (the compiler, service and class-loading threads),
 * never in a signal handler; the jitmap has its own lock. Nothing here installs a signal
 * handler or calls JNI. A JVMTI error costs one "flameprof:" line and the names, never the program.
 *
 * Built without the agent (jvm_setup_env does nothing) when the JDK headers are missing. */
#ifndef FLAMEPROF_JVM_H
#define FLAMEPROF_JVM_H

#include <stdbool.h>
#include <stddef.h>

/* Constructor, before any thread: the JAVA_TOOL_OPTIONS injection if a JVM library is
 * loaded already, and what a later dlopen needs to do it. */
void jvm_setup_env(void);

/* The dlopen interposer, before the real dlopen(file): a JVM library is about to load.
 * Not async-signal-safe (setenv); thread-safe as far as setenv is. */
void jvm_before_dlopen(const char *file);

/* Exposed for tests: does path (a file name or path) name libjvm.so or libjli.so? */
bool jvm_is_jvm_library(const char *path);

/* Exposed for tests. The frame name of a Java method from its JVMTI class signature
 * ("Lcom/example/Foo;"), name ("bar") and method signature ("(I[Ljava/lang/String;)V"):
 * "com.example.Foo.bar(int,java.lang.String[])". Always NUL-terminated; cut to cap - 1
 * bytes. Bytes follow util/frame_name.h's rule: ';' (the folded format's separator)
 * becomes ':', control characters '?'. Returns the length written. */
size_t jvm_format_method(char *dst, size_t cap, const char *class_sig, const char *name,
                         const char *sig);

/* Exposed for tests. The new JAVA_TOOL_OPTIONS value: old (may be NULL) with the frame
 * pointer flag (unless old mentions PreserveFramePointer, the user's choice) and
 * -agentpath:lib (unless already there; quoted if lib has white space) appended. Returns
 * false if nothing needs adding or lib cannot be quoted or dst is too small. */
bool jvm_tool_options(const char *old, const char *lib, char *dst, size_t cap);

#endif
