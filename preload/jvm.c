/* jvm.c - Java method names and the JVMTI agent (see jvm.h).
 *
 * Constraints: the agent's callbacks run on JVM threads while the JVM holds its own locks
 * (the service thread delivers the compiled-method events); they must only call JVMTI
 * functions that are legal in any phase from any thread (GetMethodName & co.), never JNI,
 * and never block for long. No signal handler here, and nothing here is called from ours.
 * The map the agent fills is held by the core (jit_jvmmap.h): the handler reads its
 * generation there (jit_jvm_gen), the report its names (jit_names.c). */
#include "jvm.h"

#include "frame_name.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* ---- names ---- */

typedef struct name_buf {
    char *s;
    size_t len, cap; /* cap includes the terminating NUL */
} name_buf;

static void put(name_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n && b->len + 1 < b->cap; i++)
        b->s[b->len++] = util_frame_char((unsigned char)s[i]);
    b->s[b->len] = 0;
}

static void puts_(name_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A class name in internal form ("com/example/Foo", up to end) as the source spells it.
 * A hidden class (a lambda's, "Main$$Lambda$14.0x0000000800c03000") loses the ".0x..."
 * address the JVM appends: it changes from run to run and would keep two profiles of one
 * program from merging or diffing. */
static void put_class(name_buf *b, const char *s, const char *end)
{
    const char *dot = end;
    while (dot > s && dot[-1] != '.' && dot[-1] != '/')
        dot--;
    if (dot > s && dot[-1] == '.' && end - dot > 2 && dot[0] == '0' && dot[1] == 'x' &&
        strspn(dot + 2, "0123456789abcdefABCDEF") >= (size_t)(end - dot - 2))
        end = dot - 1;
    for (; s < end; s++)
        put(b, *s == '/' ? "." : s, 1);
}

/* One field descriptor at *p ("I", "[J", "Ljava/lang/String;"): writes its source form
 * and advances *p past it. Returns false on a malformed descriptor. */
static bool put_type(name_buf *b, const char **p)
{
    static const struct {
        char code;
        const char *name;
    } prim[] = { { 'B', "byte" },  { 'C', "char" }, { 'D', "double" },
                 { 'F', "float" }, { 'I', "int" },  { 'J', "long" },
                 { 'S', "short" }, { 'Z', "boolean" }, { 'V', "void" } };
    const char *s = *p;
    unsigned dims = 0;
    while (*s == '[')
        dims++, s++;
    if (*s == 'L') {
        const char *semi = strchr(s, ';');
        if (!semi)
            return false;
        put_class(b, s + 1, semi);
        s = semi + 1;
    } else {
        size_t i = 0;
        while (i < sizeof prim / sizeof *prim && prim[i].code != *s)
            i++;
        if (i == sizeof prim / sizeof *prim)
            return false;
        puts_(b, prim[i].name);
        s++;
    }
    while (dims--)
        puts_(b, "[]");
    *p = s;
    return true;
}

size_t jvm_format_method(char *dst, size_t cap, const char *class_sig, const char *name,
                         const char *sig)
{
    if (cap == 0)
        return 0;
    name_buf b = { dst, 0, cap };
    dst[0] = 0;
    if (class_sig && *class_sig) {
        const char *p = class_sig;
        /* Not a descriptor (an agent-invented name): keep it as it is. */
        if (!put_type(&b, &p) || *p)
            b.len = 0, puts_(&b, class_sig);
        puts_(&b, ".");
    }
    puts_(&b, name && *name ? name : "?");
    if (!sig || sig[0] != '(')
        return b.len;
    /* The parameter list, as in java.lang.reflect.Method.toString: no spaces. The return
     * type is left out: overloads differ by parameters only. */
    size_t mark = b.len;
    const char *p = sig + 1;
    puts_(&b, "(");
    for (bool first = true; *p && *p != ')'; first = false) {
        if (!first)
            puts_(&b, ",");
        if (!put_type(&b, &p)) {
            b.len = mark; /* malformed: drop the list rather than print half of it */
            b.s[b.len] = 0;
            return b.len;
        }
    }
    puts_(&b, ")");
    return b.len;
}

#ifdef FLAMEPROF_HAVE_JVMTI

#include <jvmti.h>

#include "hotspot.h"
#include "jit_jvmmap.h"
#include "jvm_options.h"

/* ---- the agent ---- */

enum { NAME_CAP = 1024 };

static atomic_bool g_started;  /* Agent_OnLoad/OnAttach ran (a second one is a no-op) */
static atomic_bool g_warned;   /* one line about failing callbacks, not one per event */
static _Atomic uint64_t g_stamp; /* event order, for the map's generation marks */

static void warn_jvmti(jvmtiEnv *j, jvmtiError err, const char *what)
{
    if (atomic_exchange(&g_warned, true))
        return;
    char *ename = NULL;
    if (!j || (*j)->GetErrorName(j, err, &ename) != JVMTI_ERROR_NONE)
        ename = NULL;
    fprintf(stderr, "flameprof: JVMTI %s failed (%s); some Java methods will not be named\n",
            what, ename ? ename : "unknown error");
    if (ename)
        (*j)->Deallocate(j, (unsigned char *)ename);
}

static void dealloc(jvmtiEnv *j, char *p)
{
    if (p)
        (*j)->Deallocate(j, (unsigned char *)p);
}

static size_t method_name(jvmtiEnv *j, jmethodID method, char *buf, size_t cap)
{
    jclass klass = NULL;
    char *csig = NULL, *name = NULL, *sig = NULL;
    jvmtiError err = (*j)->GetMethodDeclaringClass(j, method, &klass);
    if (err == JVMTI_ERROR_NONE)
        err = (*j)->GetClassSignature(j, klass, &csig, NULL);
    if (err == JVMTI_ERROR_NONE)
        err = (*j)->GetMethodName(j, method, &name, &sig, NULL);
    size_t n = 0;
    if (err == JVMTI_ERROR_NONE)
        n = jvm_format_method(buf, cap, csig, name, sig);
    else
        warn_jvmti(j, err, "GetMethodName");
    dealloc(j, csig);
    dealloc(j, name);
    dealloc(j, sig);
    return n;
}

static void add(const void *addr, jint size, const char *name, size_t len)
{
    jitmap *m = jit_jvm_map();
    if (!m || !addr || size <= 0)
        return;
    jitmap_add(m, (uint64_t)(uintptr_t)addr, (uint64_t)size, name, len,
               atomic_fetch_add(&g_stamp, 1) + 1);
}

static void JNICALL on_method_load(jvmtiEnv *j, jmethodID method, jint code_size,
                                   const void *code_addr, jint map_length,
                                   const jvmtiAddrLocationMap *map, const void *compile_info)
{
    (void)map_length, (void)map;
    char name[NAME_CAP];
    size_t n = method_name(j, method, name, sizeof name);
    if (n == 0)
        n = (size_t)snprintf(name, sizeof name, "[unknown Java method]");
    add(code_addr, code_size, name, n);
    jitmap *m = jit_jvm_map();
    if (m)
        hotspot_method_loaded(j, code_addr, code_size, compile_info, jitmap_current_gen(m));
}

static void JNICALL on_method_unload(jvmtiEnv *j, jmethodID method, const void *code_addr)
{
    (void)j, (void)method;
    jitmap *m = jit_jvm_map();
    /* The JVM reports the unload before it reuses the memory: samples from here on see
     * the code as dead. -1 (never reported) is fine: then nothing names it anyway. */
    if (m && code_addr)
        jitmap_kill(m, (uint64_t)(uintptr_t)code_addr);
}

static void JNICALL on_dynamic_code(jvmtiEnv *j, const char *name, const void *address,
                                    jint length)
{
    char clean[NAME_CAP];
    name_buf b = { clean, 0, sizeof clean };
    clean[0] = 0;
    puts_(&b, name && *name ? name : "[unknown JVM code]");
    add(address, length, clean, b.len);
    hotspot_code_generated(j, name, address, length);
}

/* Replay what exists already: the interpreter and stubs are generated before VMInit, and
 * methods may have been compiled before our events were on. A duplicate of a live entry
 * only starts a generation. */
static void generate_existing(jvmtiEnv *j)
{
    jvmtiError err = (*j)->GenerateEvents(j, JVMTI_EVENT_DYNAMIC_CODE_GENERATED);
    if (err != JVMTI_ERROR_NONE)
        warn_jvmti(j, err, "GenerateEvents(DynamicCodeGenerated)");
    err = (*j)->GenerateEvents(j, JVMTI_EVENT_COMPILED_METHOD_LOAD);
    if (err != JVMTI_ERROR_NONE)
        warn_jvmti(j, err, "GenerateEvents(CompiledMethodLoad)");
}

static void JNICALL on_vm_init(jvmtiEnv *j, JNIEnv *jni, jthread thread)
{
    (void)jni, (void)thread;
    hotspot_register_loaded(j);
    generate_existing(j);
}

static void JNICALL on_class_prepare(jvmtiEnv *j, JNIEnv *jni, jthread thread, jclass klass)
{
    (void)jni, (void)thread;
    hotspot_class_prepared(j, klass);
}

static void JNICALL on_vm_death(jvmtiEnv *j, JNIEnv *jni)
{
    (void)jni;
    hotspot_name_marked(j);
}

/* Setup errors: one line, and the JVM runs on without names (JNI_OK: refusing would make
 * the JVM exit, and profiling the program is still worth something). */
static jint setup_failed(jvmtiEnv *j, jvmtiError err, const char *what)
{
    char *ename = NULL;
    if (!j || (*j)->GetErrorName(j, err, &ename) != JVMTI_ERROR_NONE)
        ename = NULL;
    fprintf(stderr, "flameprof: JVMTI %s failed (%s); Java methods will not be named\n",
            what, ename ? ename : "unknown error");
    if (ename)
        (*j)->Deallocate(j, (unsigned char *)ename);
    return JNI_OK;
}

static jint agent_start(JavaVM *vm, bool live)
{
    if (atomic_exchange(&g_started, true))
        return JNI_OK;
    if (!live)
        jvm_options_restore_env();
    jvmtiEnv *j = NULL;
    if ((*vm)->GetEnv(vm, (void **)&j, JVMTI_VERSION_1_2) != JNI_OK || !j) {
        fprintf(stderr, "flameprof: this JVM offers no JVMTI 1.2; Java methods will not "
                        "be named\n");
        return JNI_OK;
    }
    jvmtiCapabilities caps;
    memset(&caps, 0, sizeof caps);
    caps.can_generate_compiled_method_load_events = 1;
    jvmtiError err = (*j)->AddCapabilities(j, &caps);
    if (err != JVMTI_ERROR_NONE)
        return setup_failed(j, err, "AddCapabilities(can_generate_compiled_method_load_events)");

    /* Published before any event can arrive; never freed (the handler may hold it). */
    if (!jit_jvm_map_create()) {
        fprintf(stderr, "flameprof: out of memory for the JVM code map; Java methods will "
                        "not be named\n");
        return JNI_OK;
    }
    hotspot_init(j, method_name); /* interpreted and inlined frames, in HotSpot */

    jvmtiEventCallbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.VMInit = on_vm_init;
    cb.VMDeath = on_vm_death;
    cb.ClassPrepare = on_class_prepare;
    cb.CompiledMethodLoad = on_method_load;
    cb.CompiledMethodUnload = on_method_unload;
    cb.DynamicCodeGenerated = on_dynamic_code;
    err = (*j)->SetEventCallbacks(j, &cb, (jint)sizeof cb);
    if (err != JVMTI_ERROR_NONE)
        return setup_failed(j, err, "SetEventCallbacks");
    static const jvmtiEvent events[] = { JVMTI_EVENT_COMPILED_METHOD_LOAD,
                                         JVMTI_EVENT_COMPILED_METHOD_UNLOAD,
                                         JVMTI_EVENT_DYNAMIC_CODE_GENERATED,
                                         JVMTI_EVENT_VM_INIT,
                                         JVMTI_EVENT_VM_DEATH,
                                         JVMTI_EVENT_CLASS_PREPARE };
    for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
        if (live && events[i] == JVMTI_EVENT_VM_INIT)
            continue;
        err = (*j)->SetEventNotificationMode(j, JVMTI_ENABLE, events[i], NULL);
        if (err != JVMTI_ERROR_NONE)
            return setup_failed(j, err, "SetEventNotificationMode");
    }
    if (live) {
        hotspot_register_loaded(j);
        generate_existing(j);
    }
    return JNI_OK;
}

/* -agentpath: at JVM start (what jvm_options.h arranges). */
JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
    (void)options, (void)reserved;
    return agent_start(vm, false);
}

/* A late load (jcmd PID JVMTI.agent_load ...): the same, replaying what exists now.
 * Compiled frames have no frame pointer unless the JVM was started with
 * -XX:+PreserveFramePointer, so stacks through them stay short. */
JNIEXPORT jint JNICALL Agent_OnAttach(JavaVM *vm, char *options, void *reserved)
{
    (void)options, (void)reserved;
    return agent_start(vm, true);
}

#endif /* FLAMEPROF_HAVE_JVMTI */
