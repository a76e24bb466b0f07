/* test_pygil.c - the GIL bit's start check on a synthetic interpreter in this process's
 * memory, and what each FLAMEPROF_PYTHON_GIL setting keeps and counts (preload/pygil.c). */
#include "check.h"

#include <stdlib.h>
#include <string.h>

#include "pygil.h"

/* A runtime, an interpreter, two thread states and a GIL, laid out as the offsets say. */
static uint64_t runtime[64], interp[64], ts_a[16], ts_b[16], other[16];
static unsigned char gil[64];

static pyframes_config config(int minor)
{
    pyframes_config c;
    memset(&c, 0, sizeof c);
    c.runtime = (uint64_t)(uintptr_t)runtime;
    c.layout = (pylayout){ .minor = minor, .runtime_interp_head = 8, .interp_tstate_head = 16,
                           .tstate_next = 8, .gil_locked = 16, .gil_holder = 8,
                           .runtime_gil = -1, .interp_gil_ptr = -1, .interp_gil = -1 };
    runtime[1] = (uint64_t)(uintptr_t)interp;
    interp[2] = (uint64_t)(uintptr_t)ts_a;
    ts_a[1] = (uint64_t)(uintptr_t)ts_b;
    ts_b[1] = 0;
    return c;
}

static void set_gil(int32_t locked, const void *holder)
{
    uint64_t h = (uint64_t)(uintptr_t)holder;
    memcpy(gil + 16, &locked, sizeof locked);
    memcpy(gil + 8, &h, sizeof h);
}

static void test_check(void)
{
    /* 3.8-3.11: the GIL in the runtime (here 256 bytes in: runtime[32..]). */
    pyframes_config c = config(11);
    c.layout.runtime_gil = 256;
    unsigned char *rg = (unsigned char *)runtime + 256;
    int32_t one = 1, junk = 5000;
    uint64_t b = (uint64_t)(uintptr_t)ts_b, o = (uint64_t)(uintptr_t)other;
    memcpy(rg + 16, &one, 4), memcpy(rg + 8, &b, 8);
    CHECK(pygil_check(&c) == 1); /* held by a thread of the interpreter */
    memcpy(rg + 8, &o, 8);
    CHECK(pygil_check(&c) == 0); /* by a thread state that has gone: not decidable yet */
    memcpy(rg + 16, &junk, 4);
    CHECK(pygil_check(&c) == -1); /* `locked` reads 5000 (the switch interval): wrong */

    /* 3.12+: the interpreter's ceval.gil (interp[5]) must point at its own _gil (here
     * 256 bytes in: interp[32..]). */
    c = config(12);
    c.layout.interp_gil_ptr = 40;
    c.layout.interp_gil = 256;
    unsigned char *own = (unsigned char *)interp + 256;
    uint64_t a = (uint64_t)(uintptr_t)ts_a, zero = 0;
    memcpy(own + 16, &one, 4), memcpy(own + 8, &a, 8);
    interp[5] = (uint64_t)(uintptr_t)gil; /* a GIL elsewhere: refused */
    set_gil(1, ts_a);
    CHECK(pygil_check(&c) == -1);
    interp[5] = (uint64_t)(uintptr_t)own;
    CHECK(pygil_check(&c) == 1);
    memcpy(own + 16, &zero, 4), memcpy(own + 8, &zero, 8);
    CHECK(pygil_check(&c) == 1); /* free, never held */
    c.layout.gil_locked = -1; /* no GIL offsets (3.13 debug offsets without them) */
    CHECK(pygil_check(&c) == -1);
}

/* Feed the same four samples under one setting; returns how many were kept. */
static int feed(sampler_stats *st)
{
    static ring_sample s[4];
    const uint16_t flags[4] = { RING_PY | RING_GIL_HELD, RING_PY | RING_GIL_NOT_HELD,
                                RING_PY /* no bit read */, 0 /* a native thread */ };
    const uint32_t weight[4] = { 3, 2, 1, 5 };
    int kept = 0;
    pygil_after_fork_child(); /* counts from zero */
    for (int i = 0; i < 4; i++) {
        s[i].flags = flags[i];
        s[i].weight = weight[i];
        kept += pygil_keep(&s[i]);
    }
    pygil_stats(st);
    return kept;
}

static void test_modes(void)
{
    sampler_stats st;
    const uint16_t both = RING_GIL_HELD | RING_GIL_NOT_HELD;
    unsetenv("FLAMEPROF_PYTHON_GIL");
    pygil_init();
    CHECK(feed(&st) == 4 && st.py_weight == 5 && st.py_gil_weight == 3 && !st.gil_only);
    CHECK(pygil_flags(RING_PY | RING_GIL_HELD) == RING_PY); /* off: not kept in stacks */

    setenv("FLAMEPROF_PYTHON_GIL", "mark", 1);
    pygil_init();
    CHECK(feed(&st) == 4 && st.py_weight == 5 && st.py_gil_weight == 3);
    CHECK(pygil_flags(RING_PY | both) == (RING_PY | both));

    setenv("FLAMEPROF_PYTHON_GIL", "only", 1);
    pygil_init();
    CHECK(feed(&st) == 4); /* the bit not read yet: everything kept */
    pygil_on();
    CHECKF(feed(&st) == 1 && st.gil_only && st.gil_left_py == 2 && st.gil_left_other == 6,
           "kept, left out: %llu + %llu", (unsigned long long)st.gil_left_py,
           (unsigned long long)st.gil_left_other);
    CHECK(st.py_weight == 5 && st.py_gil_weight == 3); /* counted all the same */
    CHECK(pygil_flags(RING_PY | RING_GIL_HELD) == RING_PY);

    setenv("FLAMEPROF_PYTHON_GIL", "sometimes", 1); /* one line on stderr, then off */
    pygil_init();
    CHECK(feed(&st) == 4 && !st.gil_only);
}

int main(void)
{
    test_check();
    test_modes();
    return check_status("test_pygil");
}
