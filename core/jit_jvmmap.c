/* jit_jvmmap.c - the JVM code map's one holder (see jit_jvmmap.h). */
#include "jit_jvmmap.h"

#include <stdatomic.h>

static _Atomic(jitmap *) g_jvm;

jitmap *jit_jvm_map_create(void)
{
    jitmap *m = jit_jvm_map();
    if (m)
        return m;
    jitmap *fresh = jitmap_new();
    if (!fresh)
        return NULL;
    /* Two agents starting at once (never seen; the agent guards against it) keep one map. */
    if (atomic_compare_exchange_strong(&g_jvm, &m, fresh))
        return fresh;
    jitmap_free(fresh);
    return m;
}

jitmap *jit_jvm_map(void)
{
    return atomic_load_explicit(&g_jvm, memory_order_acquire);
}

uint32_t jit_jvm_gen(void)
{
    jitmap *m = jit_jvm_map();
    return m ? jitmap_current_gen(m) : 0;
}
