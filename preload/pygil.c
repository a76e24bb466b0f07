/* pygil.c - the GIL bit: checked, counted, kept or not. See pygil.h. */
#include "pygil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "self_peek.h"

enum { THREADS_MAX = 4096 }; /* thread states looked at for the GIL's holder */

static enum { GIL_OFF, GIL_MARK, GIL_ONLY } g_mode;
static bool g_on; /* the handler reads the bit */
static uint64_t g_weight, g_held, g_left_py, g_left_other;

void pygil_init(void)
{
    const char *v = getenv("FLAMEPROF_PYTHON_GIL");
    g_mode = GIL_OFF;
    if (!v || !*v || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
        return;
    if (strcmp(v, "mark") == 0)
        g_mode = GIL_MARK;
    else if (strcmp(v, "only") == 0)
        g_mode = GIL_ONLY;
    else
        fprintf(stderr, "flameprof: FLAMEPROF_PYTHON_GIL='%.32s' is not off, mark or only; "
                        "using off\n", v);
}

/* Is ts one of interp's thread states? */
static bool is_thread_of(const pylayout *l, uint64_t interp, uint64_t ts)
{
    uint64_t t;
    if (!util_self_peek_u64(interp + (uint64_t)l->interp_tstate_head, &t))
        return false;
    for (int i = 0; t && i < THREADS_MAX; i++) {
        if (t == ts)
            return true;
        if (!util_self_peek_u64(t + (uint64_t)l->tstate_next, &t))
            return false;
    }
    return false;
}

int pygil_check(const pyframes_config *c)
{
    const pylayout *l = &c->layout;
    uint64_t interp, gil, holder;
    int32_t locked;
    if (l->gil_locked < 0 || l->gil_holder < 0 ||
        !util_self_peek_u64(c->runtime + (uint64_t)l->runtime_interp_head, &interp) || !interp)
        return -1;
    if (l->runtime_gil >= 0) {
        gil = c->runtime + (uint64_t)l->runtime_gil;
    } else if (!util_self_peek_u64(interp + (uint64_t)l->interp_gil_ptr, &gil) ||
               gil != interp + (uint64_t)l->interp_gil) {
        return -1; /* the main interpreter has a GIL of its own (3.12+) */
    }
    if (!util_self_peek(gil + (uint64_t)l->gil_locked, &locked, sizeof locked) ||
        !util_self_peek_u64(gil + (uint64_t)l->gil_holder, &holder) ||
        (locked != 0 && locked != 1))
        return -1;
    if (holder == 0 || is_thread_of(l, interp, holder))
        return 1;
    return 0;
}

void pygil_on(void)
{
    g_on = true;
}

bool pygil_keep(const ring_sample *s)
{
    bool held = s->flags & RING_GIL_HELD, known = held || (s->flags & RING_GIL_NOT_HELD);
    if (known) {
        g_weight += s->weight;
        g_held += held ? s->weight : 0;
    }
    if (g_mode != GIL_ONLY || !g_on || held)
        return true;
    if (known)
        g_left_py += s->weight;
    else
        g_left_other += s->weight;
    return false;
}

uint16_t pygil_flags(uint16_t flags)
{
    return g_mode == GIL_MARK ? flags : (uint16_t)(flags & ~(RING_GIL_HELD | RING_GIL_NOT_HELD));
}

void pygil_stats(sampler_stats *o)
{
    o->py_weight = g_weight;
    o->py_gil_weight = g_held;
    o->gil_only = g_mode == GIL_ONLY;
    o->gil_left_py = g_left_py;
    o->gil_left_other = g_left_other;
}

void pygil_after_fork_child(void)
{
    g_weight = g_held = g_left_py = g_left_other = 0;
}
