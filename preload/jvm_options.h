/* jvm_options.h - telling a HotSpot JVM, started in this process, to load us as its agent.
 *
 * The JVM needs two options from us: -XX:+PreserveFramePointer (compiled Java frames keep
 * rbp as a frame pointer; compiled code has no CFI, and without it the walk ends at the first
 * compiled frame) and -agentpath:<this library> (loads us a second time as a JVMTI agent:
 * the loader hands the JVM the copy already mapped, so agent and sampler share globals).
 *
 * They go where the program cannot see them: into the JavaVMInitArgs of JNI_CreateJavaVM,
 * put before the program's own options (a -XX:-PreserveFramePointer of the user's, later,
 * wins). Every JDK launcher (java, javac, jshell, jar, a jpackage'd application: libjli) and
 * every embedder that dlopens libjvm finds JNI_CreateJavaVM with dlsym(handle, name), and the
 * library's dlsym (a stub that jumps to glibc's with the caller's return address, so
 * RTLD_NEXT and namespaces stay the caller's) hands it ours, which adds the options and
 * calls the JVM's. Nothing is printed, the environment is untouched: the program, its
 * `ps` line and what it starts see what they would without us.
 *
 * A program linked against libjvm.so itself calls JNI_CreateJavaVM directly: for it alone,
 * the options go into JAVA_TOOL_OPTIONS in the constructor (the JVM then prints "Picked up
 * JAVA_TOOL_OPTIONS: ..."), and the user's value is put back once the agent has started.
 * Not with FLAMEPROF_JAVA=0. Built without JDK headers: nothing happens.
 *
 * Thread safety: jvm_options_setup runs in the constructor (one thread); the dlsym hook and
 * the JNI_CreateJavaVM wrapper may run on any thread, never in a signal handler. */
#ifndef FLAMEPROF_JVM_OPTIONS_H
#define FLAMEPROF_JVM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

/* Constructor: FLAMEPROF_JAVA, our own path, and JAVA_TOOL_OPTIONS if libjvm is linked. */
void jvm_options_setup(void);

/* The dlsym stub, before glibc's dlsym(handle, name): the function to jump to with the same
 * arguments: glibc's dlsym, or one that returns our JNI_CreateJavaVM wrapper. */
typedef void *(*jvm_dlsym_fn)(void *, const char *);
jvm_dlsym_fn jvm_options_dlsym(void *handle, const char *name);

/* At Agent_OnLoad: the JVM has read JAVA_TOOL_OPTIONS; the user's value is put back. */
void jvm_options_restore_env(void);

/* Exposed for tests: does path (a file name or path) name libjvm.so or libjli.so? */
bool jvm_is_jvm_library(const char *path);

/* Exposed for tests. The new JAVA_TOOL_OPTIONS value: old (may be NULL) with the frame
 * pointer flag (unless old mentions PreserveFramePointer, the user's choice) and
 * -agentpath:lib (unless already there; quoted if lib has white space) appended. Returns
 * false if nothing needs adding or lib cannot be quoted or dst is too small. */
bool jvm_tool_options(const char *old, const char *lib, char *dst, size_t cap);

#endif
