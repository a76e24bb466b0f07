/* hotspot.c - interpreted and inlined Java frames in HotSpot (see hotspot.h).
 *
 * Constraints: everything but hotspot_interpreter and hotspot_note_methods runs in JVMTI
 * callbacks on JVM threads. The only memory of the JVM read here besides what JVMTI hands
 * over: libjvm's exported layout tables (static data of a loaded library) and the Method*
 * slot a jmethodID points to (JNI method blocks, never freed by HotSpot). */
#include "hotspot.h"

#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jvmframes.h"
#include "foreign_load.h"

/* Set once by hotspot_init (agent), read by the aggregator; never freed. The JVMTI callbacks
 * run after hotspot_init on the thread that ran it or through the JVM's own handoffs. */
static _Atomic(jvmframes *) g_frames;
static _Atomic(const unwind_interp *) g_interp; /* published once, never freed */

static jvmframes *table(void)
{
    return atomic_load_explicit(&g_frames, memory_order_acquire);
}

const unwind_interp *hotspot_interpreter(void)
{
    return atomic_load_explicit(&g_interp, memory_order_acquire);
}

void hotspot_note_methods(const uint64_t *pcs, size_t n)
{
    jvmframes *f = table();
    for (size_t i = 0; f && i < n; i++)
        if (pcs[i] & UNWIND_METHOD_TAG)
            jvmframes_want(f, pcs[i] & ~UNWIND_METHOD_TAG);
}

#ifdef FLAMEPROF_HAVE_JVMTI

#include <jvmticmlr.h>

enum { NAME_CAP = 1024, MAX_CONSTANTS = 100000, BATCH = 64 };

static hotspot_namer g_namer;
static int64_t g_method_off; /* the Method* slot relative to the frame pointer; 0: unknown */

/* An exported uint64_t of libjvm (the tables' strides and field offsets), or 0. */
static uint64_t u64_symbol(void *h, const char *name)
{
    const uint64_t *p = dlsym(h, name);
    return p ? *p : 0;
}

/* frame::interpreter_frame_last_sp_offset from gHotSpotVMIntConstants, in words. */
static bool last_sp_offset(void *h, int32_t *out)
{
    const char *const *table = dlsym(h, "gHotSpotVMIntConstants");
    uint64_t stride = u64_symbol(h, "gHotSpotVMIntConstantEntryArrayStride"),
             name_off = u64_symbol(h, "gHotSpotVMIntConstantEntryNameOffset"),
             value_off = u64_symbol(h, "gHotSpotVMIntConstantEntryValueOffset");
    if (!table || !*table || stride == 0 || name_off + 8 > stride || value_off + 4 > stride)
        return false;
    const char *e = *table;
    for (int i = 0; i < MAX_CONSTANTS; i++, e += stride) {
        const char *name;
        memcpy(&name, e + name_off, sizeof name);
        if (!name)
            return false;
        if (strcmp(name, "frame::interpreter_frame_last_sp_offset") == 0) {
            memcpy(out, e + value_off, sizeof *out);
            return true;
        }
    }
    return false;
}

/* libjvm: the library that holds the JVMTI functions we were handed. */
static bool read_layout(jvmtiEnv *j)
{
    Dl_info info;
    if (!dladdr((void *)(*j)->GetMethodName, &info) || !info.dli_fname)
        return false;
    void *h = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
    if (!h)
        return false;
    int32_t last_sp = 0;
    bool ok = dlsym(h, "gHotSpotVMStructs") && last_sp_offset(h, &last_sp);
    dlclose(h);
    /* The Method* slot is the word below last_sp (x86-64's frame_x86.hpp, and the
     * serviceability agent's X86Frame); a value far from -2 is a layout we do not know. */
    if (!ok || last_sp > -1 || last_sp < -16)
        return false;
    g_method_off = (int64_t)(last_sp - 1) * 8;
    return true;
}

bool hotspot_init(jvmtiEnv *j, hotspot_namer namer)
{
    if (!read_layout(j)) {
        fprintf(stderr, "flameprof: this JVM exports no HotSpot frame layout we know; "
                        "interpreted Java frames will read \"Interpreter\"\n");
        return false;
    }
    jvmframes *f = jvmframes_new();
    if (!f)
        return false;
    g_namer = namer;
    atomic_store_explicit(&g_frames, f, memory_order_release);
    jvmframes_publish(f);
    return true;
}

/* The Method* a jmethodID stands for (HotSpot: a pointer to a slot holding it). */
static uint64_t method_of(jmethodID id)
{
    return id ? util_foreign_load((uint64_t)(uintptr_t)id) : 0;
}

static void name_method(jvmtiEnv *j, uint64_t method, uint64_t id)
{
    /* Unloaded or redefined since it was registered: the slot moved on; no JVMTI call. */
    if (method_of((jmethodID)(uintptr_t)id) != method)
        return;
    char name[NAME_CAP];
    size_t n = g_namer(j, (jmethodID)(uintptr_t)id, name, sizeof name);
    if (n)
        jvmframes_set_name(table(), method, name, n);
}

void hotspot_name_marked(jvmtiEnv *j)
{
    if (!table())
        return;
    uint64_t methods[BATCH], ids[BATCH];
    size_t n;
    while ((n = jvmframes_take_wanted(table(), methods, ids, BATCH)) > 0)
        for (size_t i = 0; i < n; i++)
            name_method(j, methods[i], ids[i]);
}

void hotspot_class_prepared(jvmtiEnv *j, jclass klass)
{
    if (!table())
        return;
    jint n = 0;
    jmethodID *ms = NULL;
    if ((*j)->GetClassMethods(j, klass, &n, &ms) == JVMTI_ERROR_NONE) {
        for (jint i = 0; i < n; i++)
            jvmframes_add_method(table(), method_of(ms[i]), (uint64_t)(uintptr_t)ms[i]);
        (*j)->Deallocate(j, (unsigned char *)ms);
    }
    hotspot_name_marked(j);
}

void hotspot_register_loaded(jvmtiEnv *j)
{
    if (!table())
        return;
    jint n = 0;
    jclass *classes = NULL;
    if ((*j)->GetLoadedClasses(j, &n, &classes) != JVMTI_ERROR_NONE)
        return;
    for (jint i = 0; i < n; i++) {
        jint status = 0;
        if ((*j)->GetClassStatus(j, classes[i], &status) == JVMTI_ERROR_NONE &&
            (status & JVMTI_CLASS_STATUS_PREPARED) &&
            !(status & (JVMTI_CLASS_STATUS_ARRAY | JVMTI_CLASS_STATUS_PRIMITIVE)))
            hotspot_class_prepared(j, classes[i]);
    }
    (*j)->Deallocate(j, (unsigned char *)classes);
}

void hotspot_code_generated(jvmtiEnv *j, const char *name, const void *addr, jint size)
{
    if (!table() || !name || strcmp(name, "Interpreter") != 0 || !addr || size <= 0 ||
        hotspot_interpreter())
        goto out;
    unwind_interp *in = malloc(sizeof *in);
    if (in) {
        *in = (unwind_interp){ (uint64_t)(uintptr_t)addr, (uint64_t)(uintptr_t)addr +
                               (uint64_t)size, g_method_off };
        atomic_store_explicit(&g_interp, in, memory_order_release);
    }
out:
    hotspot_name_marked(j);
}

/* Register and name (once) the method behind a jmethodID of an inline record. */
static uint64_t known_method(jvmtiEnv *j, jmethodID id)
{
    uint64_t m = method_of(id), have;
    if (!m)
        return 0;
    jvmframes_add_method(table(), m, (uint64_t)(uintptr_t)id);
    if (jvmframes_needs_name(table(), m, &have))
        name_method(j, m, have);
    return m;
}

static void add_inline_record(jvmtiEnv *j, const void *code, jint size,
                              const jvmtiCompiledMethodLoadInlineRecord *r, uint32_t gen)
{
    if (r->numpcs <= 0 || !r->pcinfo)
        return;
    size_t frames = 0;
    for (jint i = 0; i < r->numpcs; i++)
        frames += r->pcinfo[i].numstackframes > 1 ? (size_t)r->pcinfo[i].numstackframes - 1 : 0;
    jvmframes_scope *scopes = calloc((size_t)r->numpcs, sizeof *scopes);
    uint64_t *methods = calloc(frames ? frames : 1, sizeof *methods);
    if (scopes && methods) {
        size_t used = 0;
        for (jint i = 0; i < r->numpcs; i++) {
            const PCStackInfo *p = &r->pcinfo[i];
            scopes[i].pc = (uint64_t)(uintptr_t)p->pc;
            scopes[i].methods = methods + used;
            /* methods[0] is the innermost; the last one is the compiled method itself. */
            for (jint k = p->numstackframes - 2; k >= 0 && p->methods; k--)
                methods[used + scopes[i].n++] = known_method(j, p->methods[k]);
            used += scopes[i].n;
        }
        jvmframes_add_code(table(), (uint64_t)(uintptr_t)code, (uint64_t)size, gen, scopes,
                           (size_t)r->numpcs);
    }
    free(scopes);
    free(methods);
}

void hotspot_method_loaded(jvmtiEnv *j, const void *code, jint size, const void *compile_info,
                           uint32_t gen)
{
    if (!table())
        return;
    for (const jvmtiCompiledMethodLoadRecordHeader *h = compile_info; h; h = h->next)
        if (h->kind == JVMTI_CMLR_INLINE_INFO && code && size > 0)
            add_inline_record(j, code, size, (const jvmtiCompiledMethodLoadInlineRecord *)h,
                              gen);
    hotspot_name_marked(j);
}

#endif
