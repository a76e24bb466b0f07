/* jvm.h - naming the code a HotSpot JVM (OpenJDK 17) runs, from inside the JVM.
 *
 * The JVM loads this library as its JVMTI agent because jvm_options.h told it to. The agent
 * (Agent_OnLoad, or Agent_OnAttach for a late load) asks for compiled-method events: every
 * CompiledMethodLoad and DynamicCodeGenerated adds the code's range and name to the JVM code
 * map, which the core holds (jit_jvmmap.h), every CompiledMethodUnload kills the entry (a
 * new jitmap generation), and at VMInit GenerateEvents replays the code that existed before
 * the events were on. Names read "com.example.Foo.bar(int,java.lang.String[])"; the JVM's
 * own code keeps the JVM's name ("Interpreter", "StubRoutines (1)"). The agent also drives
 * hotspot.h (interpreted frames by their Method*, inlined methods): ClassPrepare, VMInit,
 * VMDeath, and the compile_info of CompiledMethodLoad.
 *
 * The callbacks run on JVM threads (the compiler, service and class-loading threads),
 * never in a signal handler; the jitmap has its own lock. Nothing here installs a signal
 * handler or calls JNI. A JVMTI error costs one "flameprof:" line and the names, never the program.
 *
 * Built without the agent when the JDK headers are missing. */
#ifndef FLAMEPROF_JVM_H
#define FLAMEPROF_JVM_H

#include <stdbool.h>
#include <stddef.h>

/* Exposed for tests. The frame name of a Java method from its JVMTI class signature
 * ("Lcom/example/Foo;"), name ("bar") and method signature ("(I[Ljava/lang/String;)V"):
 * "com.example.Foo.bar(int,java.lang.String[])". Always NUL-terminated; cut to cap - 1
 * bytes. Bytes follow util/frame_name.h's rule: ';' (the folded format's separator)
 * becomes ':', control characters '?'. Returns the length written. */
size_t jvm_format_method(char *dst, size_t cap, const char *class_sig, const char *name,
                         const char *sig);

#endif
