/* test_pyframes.c - the CPython splice and 3.13's debug offsets, on synthetic input. */
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pyframes.h"
#include "pylayout.h"

enum { EVAL_LO = 0x1000, EVAL_HI = 0x2000 };

static void configure(void)
{
    pyframes_config c;
    memset(&c, 0, sizeof c);
    c.layout = *pylayout_for_minor(11);
    c.eval_lo = EVAL_LO;
    c.eval_hi = EVAL_HI;
    pyframes_configure(&c);
}

/* pcs[off..] holds the native walk; py leaf first with entry flags as given. */
static size_t splice(uint64_t *pcs, const uint64_t *native, size_t n, const uint32_t *flags,
                     size_t npy)
{
    ring_pyframe py[8];
    memset(py, 0, sizeof py);
    for (size_t k = 0; k < npy; k++)
        py[k].flags = flags[k];
    memcpy(pcs + npy, native, n * sizeof *native);
    return pyframes_splice(pcs, npy, n, 64, py, npy);
}

static void test_groups(void)
{
    /* A C call (leaf), the eval call running A, a C frame, the eval call running B and C
     * (3.11+: C is that call's entry frame), main. */
    const uint64_t native[] = { 0x5000, 0x1500, 0x6000, 0x1600, 0x7000 };
    const uint32_t flags[] = { RING_PY_ENTRY, 0, RING_PY_ENTRY };
    const uint64_t want[] = { 0x5000, RING_PY_PC(0), 0x6000, RING_PY_PC(1), RING_PY_PC(2),
                              0x7000 };
    uint64_t pcs[64];
    size_t n = splice(pcs, native, 5, flags, 3);
    CHECKF(n == 6, "depth %zu", n);
    for (size_t i = 0; i < 6 && i < n; i++)
        CHECKF(pcs[i] == want[i], "pcs[%zu] = %#llx, want %#llx", i,
               (unsigned long long)pcs[i], (unsigned long long)want[i]);
}

static void test_walk_cut_short(void)
{
    /* One eval frame found for two calls: the second call's frames go at the root end. */
    const uint64_t native[] = { 0x1fff, 0x7000 };
    const uint32_t flags[] = { RING_PY_ENTRY, RING_PY_ENTRY };
    const uint64_t want[] = { RING_PY_PC(0), 0x7000, RING_PY_PC(1) };
    uint64_t pcs[64];
    size_t n = splice(pcs, native, 2, flags, 2);
    CHECKF(n == 3, "depth %zu", n);
    for (size_t i = 0; i < 3 && i < n; i++)
        CHECK(pcs[i] == want[i]);
}

static void test_return_address_past_end(void)
{
    /* A return address equal to eval_hi (a call as the function's last instruction) is
     * still inside it; the interrupted pc (pcs[0]) is taken as it is. */
    const uint64_t native[] = { EVAL_HI, EVAL_HI };
    const uint32_t flags[] = { RING_PY_ENTRY };
    uint64_t pcs[64];
    size_t n = splice(pcs, native, 2, flags, 1);
    CHECK(n == 2 && pcs[0] == EVAL_HI && pcs[1] == RING_PY_PC(0));
}

static void put(unsigned char *img, size_t off, uint64_t v)
{
    memcpy(img + off, &v, 8);
}

static void test_debug_offsets(void)
{
    unsigned char img[1024];
    memset(img, 0, sizeof img);
    memcpy(img, "xdebugpy", 8);
    put(img, 8, 0x030d00f0);             /* 3.13.0 final */
    put(img, 24, 2000), put(img, 32, 608), put(img, 40, 632); /* runtime state */
    size_t is = 48, ts = 48 + 13 * 8, fr = ts + 9 * 8, co = fr + 6 * 8;
    put(img, is, 9000), put(img, is + 24, 7344), put(img, is + 40, 7656);
    put(img, ts, 400), put(img, ts + 16, 8), put(img, ts + 24, 16), put(img, ts + 32, 72),
        put(img, ts + 40, 152);
    put(img, fr, 80), put(img, fr + 8, 8), put(img, fr + 16, 0), put(img, fr + 24, 56),
        put(img, fr + 40, 70);
    put(img, co, 220), put(img, co + 8, 112), put(img, co + 16, 120), put(img, co + 24, 128),
        put(img, co + 40, 68), put(img, co + 72, 200);
    pylayout l;
    char why[128];
    CHECKF(pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why), "%s", why);
    CHECK(l.minor == 13 && l.runtime_interp_head == 632 && l.runtime_finalizing == 608);
    CHECK(l.interp_tstate_head == 7344 && l.tstate_next == 8 && l.tstate_interp == 16);
    CHECK(l.interp_modules == 7656);
    CHECK(l.tstate_frame == 72 && l.tstate_thread_id == 152 && l.cframe_current == -1);
    CHECK(l.frame_previous == 8 && l.frame_code == 0 && l.frame_instr == 56 &&
          l.frame_owner == 70);
    CHECK(l.code_filename == 112 && l.code_name == 120 && l.code_qualname == 128 &&
          l.code_firstlineno == 68 && l.code_code == 200);

    CHECK(l.gil_locked == -1); /* no GIL offsets given: no GIL bit */
    put(img, is + 64, 16), put(img, is + 72, 7752), put(img, is + 88, 7752 + 16),
        put(img, is + 96, 7752 + 8); /* ceval.gil, _gil, _gil.locked, _gil.last_holder */
    CHECK(pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why));
    CHECK(l.interp_gil_ptr == 16 && l.interp_gil == 7752 && l.gil_locked == 16 &&
          l.gil_holder == 8 && l.runtime_gil == -1);
    put(img, is + 96, 7752 - 8); /* the holder before the GIL: not its field */
    CHECK(pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why) &&
          l.gil_locked == -1 && l.code_code == 200);
    put(img, is + 96, 7752 + 8);

    put(img, is + 40, 9000); /* modules past the interpreter's size: no threads' names */
    CHECK(pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why) &&
          l.interp_modules == -1 && l.interp_tstate_head == 7344);
    put(img, is + 40, 7656);

    put(img, co + 72, 400); /* past the code object's size: refused */
    CHECK(!pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why));
    put(img, co + 72, 200);
    put(img, 8, 0x030e00f0); /* 3.14: not this reader's */
    CHECK(!pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why));
    put(img, 8, 0x030d00f0);
    img[0] = 'X';
    CHECK(!pylayout_from_debug_offsets(img, sizeof img, &l, why, sizeof why));
}

static void test_tables(void)
{
    CHECK(pylayout_for_minor(7) == NULL && pylayout_for_minor(13) == NULL);
    for (int m = 8; m <= 12; m++)
        CHECKF(pylayout_for_minor(m) && pylayout_for_minor(m)->minor == m, "3.%d", m);
    for (int m = 8; m <= 12; m++) { /* the GIL: in the runtime before 3.12, else per interp */
        const pylayout *l = pylayout_for_minor(m);
        CHECKF(l->gil_locked > 0 && l->gil_holder > 0 &&
               (m < 12 ? l->runtime_gil > 0 && l->interp_gil_ptr < 0
                       : l->runtime_gil < 0 && l->interp_gil_ptr > 0 && l->interp_gil > 0),
               "3.%d's GIL offsets", m);
    }
}

/* A fake interpreter in our own memory: runtime -> interpreter -> this thread's state ->
 * a frame whose code pointer is NULL (a frame being set up). The reader must stop there
 * and read nothing at small addresses: an empty entry of its pages-read list once matched
 * page 0, and a read of NULL + 8 crashed the program (Python 3.12's churn, in CI); a NULL
 * code pointer in the first frame passed for a recursion of the "no frame before". */
static void test_null_code(void)
{
    enum { OBJ = 8192 }; /* words: wider than any layout offset used here */
    uint64_t *mem = calloc(4 * OBJ, sizeof *mem);
    CHECK(mem != NULL);
    if (!mem)
        return;
    const pylayout *l = pylayout_for_minor(10);
    uint64_t *rt = mem, *interp = mem + OBJ, *ts = mem + 2 * OBJ, *frame = mem + 3 * OBJ;
#define AT(obj, off) ((obj)[(off) / 8])
    AT(rt, l->runtime_finalizing) = 0;
    AT(rt, l->runtime_interp_head) = (uint64_t)(uintptr_t)interp;
    AT(interp, l->interp_tstate_head) = (uint64_t)(uintptr_t)ts;
    AT(ts, l->tstate_thread_id) = (uint64_t)pthread_self();
    AT(ts, l->tstate_interp) = (uint64_t)(uintptr_t)interp;
    AT(ts, l->tstate_frame) = (uint64_t)(uintptr_t)frame;
    AT(frame, l->frame_code) = 0;
#undef AT
    pyframes_config c;
    memset(&c, 0, sizeof c);
    c.layout = *l;
    c.runtime = (uint64_t)(uintptr_t)rt;
    c.code_type = 0x5000;
    pyframes_configure(&c);
    static unwind_ranges *r;
    r = malloc(sizeof *r + sizeof r->r[0]);
    r->len = 1;
    r->r[0].lo = (uint64_t)(uintptr_t)mem;
    r->r[0].hi = r->r[0].lo + 4 * OBJ * sizeof *mem;
    pyframes_set_ranges(r, 0);
    ring_pyframe py[4];
    pyframes_gil gil;
    CHECKF(pyframes_read(py, 4, &gil) == 0, "a NULL code pointer: no frame");
    frame[l->frame_code / 8] = 0x10; /* garbage: its fields lie in page 0 */
    CHECKF(pyframes_read(py, 4, &gil) == 0, "a code pointer into page 0: no frame");
    pyframes_set_ranges(NULL, 0);
    pyframes_configure(NULL);
    free(r);
    free(mem);
}

int main(void)
{
    ring_pyframe py[4];
    pyframes_gil gil = PYFRAMES_GIL_HELD;
    CHECK(pyframes_read(py, 4, &gil) == 0); /* not configured: nothing read */
    CHECK(gil == PYFRAMES_GIL_UNKNOWN);
    configure();
    CHECK(pyframes_read(py, 4, &gil) == 0); /* no readable-memory snapshot yet: nothing read */
    test_groups();
    test_walk_cut_short();
    test_return_address_past_end();
    test_debug_offsets();
    test_tables();
    test_null_code();
    return check_status("test_pyframes");
}
