/* test_unwind.c - the in-handler walker against a known stack.
 *
 * Built -O2 without frame pointers: a 40-deep recursion through a noinline function and a
 * libc call (qsort) are interrupted by a CPU-time timer; the handler walks with
 * unwind_walk and the test asserts the whole chain: leaf in the comparator, qsort's frames,
 * 40 frames of recurse(), main, and the end of the stack at _start. Then a frame whose CFA
 * is based on rbx (a stack realigner, as glibc's lazy-binding resolver), below a leaf whose
 * CFI never mentions rbx: rbx is callee-saved, so the leaf leaves it as it was and the walk
 * goes on through the realigner. It also prints the median walk cost (a figure, not an
 * assertion). Every sample is walked again through the CFI memo (cold, then warm): the
 * frames must be the same; the sample kept is also copied (stackcopy.h) and its copy walked
 * after the recursion has returned, when the live stack holds other frames: the same
 * frames again. */
#include <dlfcn.h>
#include <fcntl.h>
#include <elfutils/libdwelf.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "check.h"
#include "modules.h"
#include "stackcopy.h"
#include "unwind.h"
#include "walk_test.h"

enum { DEPTH = 40, MAX = 256 };

static uint64_t g_stack_hi;
static uint64_t g_pcs[MAX];
static atomic_int g_have;
static unwind_result g_res;
static uint64_t g_cost_ns[4096];
static atomic_uint g_ncost;
static volatile unsigned g_sink; /* unsigned: it wraps, by design */
static uint32_t g_copy; /* the kept sample's stack, copied (stackcopy.h) */
static uint64_t g_capture_lo, g_capture_hi; /* capture only a sample interrupted here (0: any) */
static cfi_memo *g_memo;
static atomic_uint g_memo_walks, g_memo_diffs, g_last_walks, g_last_diffs, g_last_reused;

static bool same_walk(const unwind_result *a, const uint64_t *pa, const unwind_result *b,
                      const uint64_t *pb)
{
    return a->depth == b->depth && a->outside == b->outside && a->truncated == b->truncated &&
           memcmp(pa, pb, a->depth * sizeof *pa) == 0;
}

static void on_prof(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    unwind_regs r = unwind_regs_of(ucv);
    uint64_t pcs[MAX];
    uint64_t t0 = walk_test_now_ns();
    unwind_ctx ctx = { modules_current(), NULL, NULL, NULL, NULL, NULL, 0 };
    unwind_result res = unwind_walk(&ctx, r, g_stack_hi, pcs, MAX);
    uint64_t t1 = walk_test_now_ns();
    uint64_t memo_pcs[MAX];
    ctx.memo = g_memo;
    for (int pass = 0; pass < 2; pass++) { /* filling the memo, then answered by it */
        unwind_result mr = unwind_walk(&ctx, r, g_stack_hi, memo_pcs, MAX);
        atomic_fetch_add(&g_memo_walks, 1);
        if (!same_walk(&res, pcs, &mr, memo_pcs))
            atomic_fetch_add(&g_memo_diffs, 1);
    }
    /* With the previous signal's walk recorded: the same frames, above the leaf mostly
     * taken from the record. */
    static unwind_last last;
    ctx.memo = NULL;
    ctx.last = &last;
    unwind_result lr = unwind_walk(&ctx, r, g_stack_hi, memo_pcs, MAX);
    atomic_fetch_add(&g_last_walks, 1);
    atomic_fetch_add(&g_last_reused, lr.reused);
    if (!same_walk(&res, pcs, &lr, memo_pcs))
        atomic_fetch_add(&g_last_diffs, 1);
    unsigned i = atomic_fetch_add(&g_ncost, 1);
    if (i < 4096)
        g_cost_ns[i] = t1 - t0;
    bool wanted = !g_capture_hi || (r.pc >= g_capture_lo && r.pc < g_capture_hi);
    if (wanted && !atomic_load(&g_have)) {
        memcpy(g_pcs, pcs, sizeof pcs);
        g_res = res;
        if (!g_copy)
            g_copy = stackcopy_take(r, g_stack_hi, 0);
        atomic_store(&g_have, 1);
    }
}

__attribute__((noinline)) int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    for (int i = 0; i < 50; i++)
        g_sink += (unsigned)i; /* make the comparator where the time goes */
    return (x > y) - (x < y);
}

__attribute__((noinline)) void leaf_work(void)
{
    int v[256];
    while (atomic_load(&g_ncost) < 300) {
        for (int i = 0; i < 256; i++)
            v[i] = (i * 7919) % 256;
        qsort(v, 256, sizeof v[0], cmp_int);
    }
}

__attribute__((noinline)) int recurse(int n)
{
    if (n == 0)
        leaf_work();
    else
        recurse(n - 1);
    g_sink++; /* not a tail call */
    return n;
}

/* rbx_realign(fn): saves rbx, points it at the frame, aligns rsp to 64 bytes and calls fn;
 * its CFA is rbx + 16 (glibc's _dl_runtime_resolve does the same). */
void rbx_realign(void (*fn)(void));
__asm__(".text\n"
        ".globl rbx_realign\n"
        ".type rbx_realign, @function\n"
        "rbx_realign:\n"
        "  .cfi_startproc\n"
        "  push %rbx\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  .cfi_offset %rbx, -16\n"
        "  mov %rsp, %rbx\n"
        "  .cfi_def_cfa_register %rbx\n"
        "  and $-64, %rsp\n"
        "  call *%rdi\n"
        "  mov %rbx, %rsp\n"
        "  .cfi_def_cfa_register %rsp\n"
        "  pop %rbx\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  .cfi_restore %rbx\n"
        "  ret\n"
        "  .cfi_endproc\n"
        ".size rbx_realign, .-rbx_realign\n");

/* A leaf that never touches rbx (nothing callee-saved in it): its CFI says nothing of rbx. */
__attribute__((noinline)) void rbx_leaf(void)
{
    while (!atomic_load(&g_have))
        g_sink++;
}

__attribute__((noinline)) void rbx_case(void)
{
    rbx_realign(rbx_leaf);
    g_sink++; /* not a tail call */
}

typedef struct fn_range {
    const char *name;
    uint64_t lo, hi;
} fn_range;

static fn_range range_of(const char *name)
{
    fn_range r = { name, 0, 0 };
    void *p = dlsym(RTLD_DEFAULT, name);
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (p && dladdr1(p, &info, (void **)&sym, RTLD_DL_SYMENT) && sym) {
        r.lo = (uint64_t)(uintptr_t)p;
        r.hi = r.lo + sym->st_size;
    }
    return r;
}

static int in_range(const fn_range *r, uint64_t pc)
{
    return pc > r->lo && pc <= r->hi; /* return addresses: after the call, up to the end */
}


/* The paged lookup must agree with a plain scan of the rows, everywhere. */
static void check_cfi_lookup(void)
{
    const module_map *m = modules_current();
    size_t checked = 0, mismatches = 0;
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; m && i < m->len; i++) {
        const cfi_table *t = module_cfi(m->r[i].mod);
        if (!t)
            continue;
        uint64_t span = t->pc[t->len - 1] + 8192;
        for (int k = 0; k < 20000; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint64_t addr = t->base + x % span - (k % 7 == 0 ? 64 : 0);
            size_t want = SIZE_MAX;
            for (size_t r = 0; r < t->len && addr >= t->base && t->pc[r] <= addr - t->base; r++)
                want = r;
            cfi_row got, w = want != SIZE_MAX ? cfi_row_at(t, want) : (cfi_row){ 0 };
            bool found = cfi_lookup(t, addr, &got);
            mismatches += found != (want != SIZE_MAX)
                          || (found && memcmp(&got, &w, sizeof got) != 0);
            checked++;
        }
    }
    CHECKF(checked > 0 && mismatches == 0, "%zu of %zu cfi lookups disagree with a scan",
           mismatches, checked);
}

/* Every loaded object's build-id as read from memory (what the registry keys the CFI
 * cache by) is the one its file carries (elfutils' reading). */
typedef struct id_check {
    size_t files, with_id, wrong;
} id_check;

static int check_one_build_id(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    id_check *c = arg;
    const char *path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf *e = fd >= 0 ? elf_begin(fd, ELF_C_READ_MMAP, NULL) : NULL;
    const void *want = NULL;
    ssize_t wlen = e ? dwelf_elf_gnu_build_id(e, &want) : -1;
    unsigned char got[MODULE_BUILD_ID_MAX];
    size_t glen = modules_image_build_id(info, got, sizeof got);
    if (e) {
        c->files++;
        c->with_id += wlen > 0;
        if (wlen > 0 ? (size_t)wlen != glen || memcmp(want, got, glen) != 0 : glen != 0)
            c->wrong++;
        elf_end(e);
    }
    if (fd >= 0)
        close(fd);
    return 0;
}

static void check_build_ids(void)
{
    id_check c = { 0, 0, 0 };
    elf_version(EV_CURRENT);
    dl_iterate_phdr(check_one_build_id, &c);
    CHECKF(c.files >= 3 && c.with_id >= 2 && c.wrong == 0,
           "build-ids from memory: %zu of %zu files (%zu with one) disagree with elfutils",
           c.wrong, c.files, c.with_id);
}

/* Pages of the memo's 2 MB (cfi_memo.c: one huge page) the kernel holds. */
static size_t memo_resident(const cfi_memo *m)
{
    enum { BYTES = 2 << 20 };
    long page = sysconf(_SC_PAGESIZE);
    unsigned char vec[BYTES / 4096];
    if (page != 4096 || mincore((void *)m, BYTES, vec) != 0)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < sizeof vec; i++)
        n += vec[i] & 1;
    return n;
}

/* The memo answers only the address and generation it was given, with the row it was
 * given; an entry taken over by another address no longer answers the first. It is
 * mapped untouched and faulted in whole by cfi_memo_populate, so a handler never takes
 * the fault (~180 us for its huge page). */
static void check_cfi_memo(void)
{
    cfi_memo *m = cfi_memo_new();
    CHECKF(m != NULL, "a memo is mapped");
    if (!m)
        return;
    size_t before = memo_resident(m);
    cfi_memo_populate(m);
    size_t after = memo_resident(m);
    CHECKF(before == 0 && after == 512, "memo pages resident: %zu when mapped, %zu of 512 "
           "once populated", before, after);
    cfi_row row = { 0x120, 16, -16, CFI_FP_SAME, CFI_CFA_RSP, 0 }, got;
    CHECKF(!cfi_memo_get(m, 0x401000, 3, &got), "an empty memo answers nothing");
    cfi_memo_put(m, 0x401000, 3, &row);
    CHECKF(cfi_memo_get(m, 0x401000, 3, &got) && memcmp(&got, &row, sizeof row) == 0,
           "a memoized row comes back whole");
    CHECKF(!cfi_memo_get(m, 0x401000, 4, &got), "another module-map generation misses");
    CHECKF(!cfi_memo_get(m, 0x401001, 3, &got), "another address misses");
    size_t displaced = 0, wrong = 0;
    for (uint64_t a = 0x500000; a < 0x500000 + 300000; a += 3) { /* fill past its size */
        cfi_row r2 = row;
        r2.cfa_off = (int32_t)(a & 0xffff);
        cfi_memo_put(m, a, 3, &r2);
    }
    for (uint64_t a = 0x500000; a < 0x500000 + 300000; a += 3) {
        if (!cfi_memo_get(m, a, 3, &got))
            displaced++;
        else if (got.cfa_off != (int32_t)(a & 0xffff))
            wrong++;
    }
    CHECKF(wrong == 0 && displaced > 0 && displaced < 100000,
           "a full memo: %zu rows displaced, %zu wrong", displaced, wrong);
    cfi_memo_free(m);
}

/* Interpreter frames on a made-up frame-pointer stack: a frame whose pc is in the
 * interpreter's code and whose method slot (fp - 24) holds a plausible pointer is written
 * as UNWIND_METHOD_TAG | that pointer; a slot not set up yet (misaligned) or a frame
 * outside the interpreter keeps its pc. */
static void check_interpreter_frames(void)
{
    static uint64_t st[64];
    const uint64_t interp_lo = 0x40000000, m_a = 0x7f0000001000, m_c = 0x7f0000002040,
                   ra_d = 0x50000000;
    unwind_interp in = { interp_lo, interp_lo + 0x10000, -24 };
    uint64_t fp_a = (uint64_t)(uintptr_t)&st[8], fp_b = (uint64_t)(uintptr_t)&st[20],
             fp_c = (uint64_t)(uintptr_t)&st[32], fp_d = (uint64_t)(uintptr_t)&st[44];
    memset(st, 0, sizeof st);
    st[5] = m_a, st[8] = fp_b, st[9] = interp_lo + 0x200;   /* frame A -> B */
    st[17] = 0x1235, st[20] = fp_c, st[21] = interp_lo + 0x300; /* B (slot not set) -> C */
    st[29] = m_c, st[32] = fp_d, st[33] = ra_d;                /* C -> D (not interpreted) */
    unwind_regs r = { interp_lo + 0x10, (uint64_t)(uintptr_t)&st[0], fp_a, 0 };
    unwind_ctx ctx = { NULL, NULL, &in, NULL, NULL, NULL, 0 };
    uint64_t pcs[8];
    unwind_result res = unwind_walk(&ctx, r, (uint64_t)(uintptr_t)&st[64], pcs, 8);
    CHECKF(res.depth == 4 && res.methods == 2, "interpreter walk: depth %zu, methods %zu",
           res.depth, res.methods);
    CHECKF(res.depth == 4 && pcs[0] == (UNWIND_METHOD_TAG | m_a) &&
               pcs[1] == interp_lo + 0x200 && pcs[2] == (UNWIND_METHOD_TAG | m_c) &&
               pcs[3] == ra_d,
           "interpreter frames: %#lx %#lx %#lx %#lx", (unsigned long)pcs[0],
           (unsigned long)pcs[1], (unsigned long)pcs[2], (unsigned long)pcs[3]);
    /* With the previous walk recorded, a method changed in an interpreter frame above is
     * read anew, not copied from the record. */
    static unwind_last last;
    ctx.last = &last;
    unwind_walk(&ctx, r, (uint64_t)(uintptr_t)&st[64], pcs, 8);
    res = unwind_walk(&ctx, r, (uint64_t)(uintptr_t)&st[64], pcs, 8);
    CHECKF(res.reused == 3 && res.methods == 2 && pcs[2] == (UNWIND_METHOD_TAG | m_c),
           "interpreter frames from the record: reused %zu, methods %zu", res.reused,
           res.methods);
    st[29] = m_c + 64;
    res = unwind_walk(&ctx, r, (uint64_t)(uintptr_t)&st[64], pcs, 8);
    CHECKF(res.reused == 3 && res.methods == 2 && pcs[2] == (UNWIND_METHOD_TAG | (m_c + 64)),
           "a changed method is read anew: reused %zu, pcs[2] %#lx", res.reused,
           (unsigned long)pcs[2]);
    ctx.last = NULL;
    /* The slot below the stack's start is never read: the method stays unknown. */
    r.sp = (uint64_t)(uintptr_t)&st[6];
    res = unwind_walk(&ctx, r, (uint64_t)(uintptr_t)&st[64], pcs, 8);
    CHECKF(res.depth >= 1 && pcs[0] == interp_lo + 0x10, "a slot outside the stack: pc kept");
}

/* The previous walk (lastwalk.h) on a made-up frame-pointer stack A -> B -> C -> D -> E: a
 * walk from the same registers takes everything above its leaf from the record; a walk
 * from another leaf takes what lies above the first frame they share; a return address
 * changed above that frame (D called from another site) fails the check, and the walk
 * reads the new one; another stack end is another stack. */
static void check_lastwalk(void)
{
    static uint64_t st[64];
    static unwind_last last;
    const uint64_t pc_a = 0x40001000, pc_a2 = 0x40001100, ra_b = 0x40002000,
                   ra_c = 0x40003000, ra_d = 0x40004000, ra_d2 = 0x40004800, ra_e = 0x40005000;
    uint64_t *fp_a = &st[8], *fp_b = &st[16], *fp_c = &st[24], *fp_d = &st[32];
    memset(st, 0, sizeof st);
    st[8] = (uint64_t)(uintptr_t)fp_b, st[9] = ra_b;
    st[16] = (uint64_t)(uintptr_t)fp_c, st[17] = ra_c;
    st[24] = (uint64_t)(uintptr_t)fp_d, st[25] = ra_d;
    st[32] = 0, st[33] = ra_e; /* E: the chain ends */
    uint64_t end = (uint64_t)(uintptr_t)&st[64];
    unwind_regs r = { pc_a, (uint64_t)(uintptr_t)&st[0], (uint64_t)(uintptr_t)fp_a, 0 };
    unwind_ctx ctx = { NULL, NULL, NULL, NULL, NULL, &last, 0 };
    uint64_t pcs[8];
    unwind_result res = unwind_walk(&ctx, r, end, pcs, 8);
    CHECKF(res.depth == 5 && res.reused == 0 && pcs[4] == ra_e,
           "lastwalk: first walk whole (depth %zu, reused %zu)", res.depth, res.reused);
    res = unwind_walk(&ctx, r, end, pcs, 8);
    CHECKF(res.depth == 5 && res.reused == 4 && pcs[0] == pc_a && pcs[1] == ra_b &&
               pcs[3] == ra_d && pcs[4] == ra_e,
           "lastwalk: the same stack again: depth %zu, reused %zu", res.depth, res.reused);
    r.pc = pc_a2, r.sp = (uint64_t)(uintptr_t)&st[2];
    res = unwind_walk(&ctx, r, end, pcs, 8);
    CHECKF(res.depth == 5 && res.reused == 3 && pcs[0] == pc_a2 && pcs[2] == ra_c,
           "lastwalk: another leaf: depth %zu, reused %zu", res.depth, res.reused);
    st[25] = ra_d2;
    res = unwind_walk(&ctx, r, end, pcs, 8);
    CHECKF(res.depth == 5 && res.reused == 0 && pcs[3] == ra_d2,
           "lastwalk: a changed return address is read anew: reused %zu, pcs[3] %#lx",
           res.reused, (unsigned long)pcs[3]);
    res = unwind_walk(&ctx, r, end, pcs, 3);
    CHECKF(res.depth == 3 && res.truncated && res.reused == 2,
           "lastwalk: a reused tail stops at max: depth %zu, reused %zu", res.depth,
           res.reused);
    res = unwind_walk(&ctx, r, end, pcs, 8);
    CHECKF(res.depth == 5 && res.reused == 0, "lastwalk: after a cut walk, a whole one");
    res = unwind_walk(&ctx, r, end - 8, pcs, 8);
    CHECKF(res.depth == 5 && res.reused == 0, "lastwalk: another stack end, no reuse");
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void dump(void)
{
    for (size_t i = 0; i < g_res.depth; i++) {
        Dl_info info;
        const char *name = dladdr((void *)(uintptr_t)(g_pcs[i] - (i ? 1 : 0)), &info) && info.dli_sname ? info.dli_sname : "?";
        fprintf(stderr, "  #%zu %#lx %s\n", i, (unsigned long)g_pcs[i], name);
    }
}

/* The kept sample's copied stack, walked now that the recursion has returned and the live
 * stack below main holds other frames: the walk reads the copy, and finds the same frames. */
static void check_copy_walk(void)
{
    CHECKF(g_copy != 0, "the kept sample's stack was copied");
    if (!g_copy)
        return;
    static uint64_t other[64]; /* a stack of another thread, as far as the slots know */
    unwind_regs o = { 0, (uint64_t)(uintptr_t)other, 0, 0 };
    uint64_t o_end = o.sp + sizeof other;
    uint32_t more = 0;
    while (more < STACKCOPY_SLOTS && stackcopy_take(o, o_end, 0) != 0)
        more++;
    CHECKF(more == STACKCOPY_SLOTS - 1, "%u more slots, then none free", more);
    uint64_t pcs[MAX];
    unwind_ctx ctx = { modules_current(), NULL, NULL, NULL, g_memo, NULL, 0 };
    unwind_result r = stackcopy_walk(g_copy, &ctx, pcs, MAX);
    CHECKF(same_walk(&g_res, g_pcs, &r, pcs), "the copy's walk: %zu frames, the live walk's %zu",
           r.depth, g_res.depth);
    stackcopy_reset();
    CHECKF(stackcopy_take(o, o_end, 0) != 0, "slots free after reset");
    stackcopy_reset();
    /* Copies that never get further than the handler's walk (a JIT without frame
     * pointers, not a library) pause the copies for a second. */
    for (int i = 0; i < STACKCOPY_USELESS - 1; i++)
        stackcopy_judge(false, 1000);
    stackcopy_judge(true, 1000);
    for (int i = 0; i < STACKCOPY_USELESS - 1; i++)
        stackcopy_judge(false, 1000);
    uint32_t c = stackcopy_take(o, o_end, 2000);
    CHECKF(c != 0, "one that helped in between: no pause");
    stackcopy_release(c);
    stackcopy_judge(false, 1000);
    CHECKF(stackcopy_take(o, o_end, 2000) == 0, "paused after %d useless in a row",
           STACKCOPY_USELESS);
    c = stackcopy_take(o, o_end, 1000 + STACKCOPY_PAUSE_NS);
    CHECKF(c != 0, "a second later, copies again");
    stackcopy_reset();
    g_copy = 0;
}

int main(void)
{
    g_stack_hi = walk_test_stack_end();
    uint64_t t0 = walk_test_now_ns();
    modules_refresh();
    printf("unwind: module tables for %zu modules built in %.1f ms\n",
           modules_current() ? modules_current()->len : 0, (walk_test_now_ns() - t0) / 1e6);
    CHECKF(modules_current() && modules_current()->len > 2, "module map has the exe and libc");
    check_cfi_lookup();
    check_interpreter_frames();
    check_lastwalk();
    check_cfi_memo();
    check_build_ids();
    g_memo = cfi_memo_new();

    walk_test_sigprof(on_prof, 1);
    recurse(DEPTH);
    walk_test_sigprof(NULL, 0);

    /* Take a sample whose leaf is in the comparator, as most are. */
    fn_range cmp = range_of("cmp_int"), leaf = range_of("leaf_work"),
             rec = range_of("recurse"), mainf = range_of("main"), start = range_of("_start");
    CHECKF(cmp.hi && leaf.hi && rec.hi && mainf.hi && start.hi, "test symbols found (-rdynamic)");
    CHECKF(atomic_load(&g_have), "a sample was taken");
    CHECKF(atomic_load(&g_last_walks) > 1 && atomic_load(&g_last_diffs) == 0 &&
               atomic_load(&g_last_reused) > 0,
           "walks with the previous one recorded: %u of %u differ from a whole walk, %u "
           "frames reused", atomic_load(&g_last_diffs), atomic_load(&g_last_walks),
           atomic_load(&g_last_reused));
    size_t i = 0, n = g_res.depth;
    while (i < n && !in_range(&leaf, g_pcs[i]))
        i++;
    CHECKF(i < n, "leaf_work reached from the interrupted pc");
    i++;
    size_t recs = 0;
    while (i < n && in_range(&rec, g_pcs[i]))
        recs++, i++;
    CHECKF(recs == DEPTH + 1, "recurse() frames: %zu, want %d", recs, DEPTH + 1);
    CHECKF(i < n && in_range(&mainf, g_pcs[i]), "main follows the recursion");
    CHECKF(n > 0 && in_range(&start, g_pcs[n - 1]), "the walk ends in _start");
    CHECKF(!g_res.truncated, "not truncated");
    CHECKF(atomic_load(&g_memo_walks) > 0 && atomic_load(&g_memo_diffs) == 0,
           "%u of %u walks through the memo differ from the plain walk",
           atomic_load(&g_memo_diffs), atomic_load(&g_memo_walks));
    check_copy_walk();
    if (check_failures)
        dump();

    /* Through a frame whose CFA is rbx-based, below a leaf that leaves rbx alone. */
    fn_range rleaf = range_of("rbx_leaf"), real = range_of("rbx_realign"),
             rcase = range_of("rbx_case");
    CHECKF(rleaf.hi && real.lo && rcase.hi, "rbx test symbols found");
    g_capture_lo = rleaf.lo, g_capture_hi = rleaf.hi;
    atomic_store(&g_have, 0);
    walk_test_sigprof(on_prof, 1);
    rbx_case();
    walk_test_sigprof(NULL, 0);
    n = g_res.depth;
    bool through = n >= 4 && g_pcs[1] > real.lo && g_pcs[1] < real.lo + 64 &&
                   in_range(&rcase, g_pcs[2]) && in_range(&mainf, g_pcs[3]) &&
                   in_range(&start, g_pcs[n - 1]);
    CHECKF(through, "leaf, rbx_realign, rbx_case, main ... _start: the rbx-based CFA followed "
                    "(depth %zu)", n);
    if (!through)
        dump();

    unsigned nc = atomic_load(&g_ncost);
    nc = nc > 4096 ? 4096 : nc;
    qsort(g_cost_ns, nc, sizeof g_cost_ns[0], cmp_u64);
    printf("unwind: %u walks of ~%zu frames: median %.2f us, p99 %.2f us\n", nc, g_res.depth,
           g_cost_ns[nc / 2] / 1000.0, g_cost_ns[nc * 99 / 100] / 1000.0);
    return check_status("test_unwind");
}
