/* jit_names.c - names of JIT and remapped code at the end of a profile (see
 * jit_names.h). */
#include "jit_names.h"

#include <stdio.h>

#include "jit_execmem.h"
#include "jit_jvmmap.h"
#include "jit_perfmap.h"
#include "modules.h"

typedef struct twin_ctx {
    symbolizer *sym;
    char *buf;
    size_t cap;
} twin_ctx;

/* jit_execmem_twins callback: name the loader's copy of the code, if a module holds it. */
static bool name_twin(void *ctx, uint64_t twin)
{
    twin_ctx *t = ctx;
    const unwind_module *mod = module_map_find(modules_current(), twin);
    symbolize_frame fr;
    if (!mod || symbolize_pc(t->sym, mod->id, twin, false, &fr, 1) != 1)
        return false;
    snprintf(t->buf, t->cap, "%s", fr.name);
    return true;
}

bool jit_name(symbolizer *sym, uint64_t pc, uint32_t pm_gen, uint32_t jvm_gen, char *buf,
              size_t cap, bool *is_jit)
{
    *is_jit = true;
    /* Copies under the lock: a JVM still running (exit() from native code) may add code
     * while we name. */
    jitmap *jvm = jit_jvm_map();
    if (jvm && jitmap_lookup_copy(jvm, pc, jvm_gen, buf, cap))
        return true;
    if (jit_perfmap_name(pc, pm_gen, buf, cap))
        return true;
    if (jit_perfmap_is_foreign())
        return false; /* our own mappings say nothing about a dead process's */
    if (jit_execmem_empty())
        jit_execmem_refresh();
    *is_jit = false; /* code from a file, however it was mapped */
    twin_ctx t = { sym, buf, cap };
    return jit_execmem_twins(pc, name_twin, &t);
}
