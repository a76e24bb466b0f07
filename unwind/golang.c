/* golang.c - Go's goroutine stacks and stack switches, decoded from the runtime's own code. */
#include "golang.h"

#include "foreign_load.h"
#include "gopclntab.h"

#include <fcntl.h>
#include <gelf.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Go's default limit on a goroutine stack is 1 GB (runtime/debug.SetMaxStack). */
enum { MAX_GO_STACK = 1 << 30 };

static golang_layout layout;
static util_gopclntab pcln_table; /* layout.pcln's, when the executable's table reads well */
static bool layout_ok; /* written once before any timer exists; read-only after */
static bool is_go_program, uses_libc, detected;

/* ---- decoding (at start) ---- */

typedef struct code {
    const uint8_t *p;
    size_t len, at; /* a cursor */
} code;

/* Moves the cursor to the next occurrence of the bytes; false if there is none. */
static bool skip_to(code *c, const uint8_t *pat, size_t n)
{
    for (size_t i = c->at; i + n <= c->len; i++) {
        if (memcmp(c->p + i, pat, n) == 0) {
            c->at = i;
            return true;
        }
    }
    return false;
}

static bool skip_past(code *c, const uint8_t *pat, size_t n)
{
    if (!skip_to(c, pat, n))
        return false;
    c->at += n;
    return true;
}

/* The bytes at the cursor are pat followed by a disp8 (disp32 if wide); reads it. */
static bool next_is(code *c, const uint8_t *pat, size_t n, bool wide, int64_t *disp)
{
    size_t d = wide ? 4 : 1;
    if (c->at + n + d > c->len || memcmp(c->p + c->at, pat, n) != 0)
        return false;
    if (wide) {
        int32_t v;
        memcpy(&v, c->p + c->at + n, 4);
        *disp = v;
    } else {
        *disp = (int8_t)c->p[c->at + n];
    }
    c->at += n + d;
    return true;
}

/* The bytes at the cursor are exactly pat. */
static bool next_bytes(code *c, const uint8_t *pat, size_t n)
{
    if (c->at + n > c->len || memcmp(c->p + c->at, pat, n) != 0)
        return false;
    c->at += n;
    return true;
}

/* `mov $imm32,%rcx` at the cursor: how a position-independent program names g's TLS slot
 * (then reached as %fs:(%rcx)); *rcx gets the value. */
static bool next_mov_rcx(code *c, int64_t *rcx)
{
    static const uint8_t mov_rcx[] = { 0x48, 0xc7, 0xc1 };
    return next_is(c, mov_rcx, sizeof mov_rcx, true, rcx);
}

/* A 64-bit load (op 0x8b) or store (0x89) between register reg and g's TLS slot, at the
 * cursor: `op %fs:disp32` in an executable, `[mov $tls,%rcx;] op %fs:(%rcx)` in a
 * position-independent one (the mov may have come before: *rcx holds its value, else
 * INT64_MIN). The slot's offset from %fs into *tls. */
static bool next_tls(code *c, uint8_t op, uint8_t reg, int64_t *tls, int64_t *rcx)
{
    const uint8_t abs[] = { 0x64, 0x48, op, (uint8_t)(0x04 | reg << 3), 0x25 },
                  rel[] = { 0x64, 0x48, op, (uint8_t)(0x01 | reg << 3) };
    if (next_is(c, abs, sizeof abs, true, tls))
        return true;
    code t = *c;
    int64_t r = *rcx;
    next_mov_rcx(&t, &r);
    if (r == INT64_MIN || !next_bytes(&t, rel, sizeof rel))
        return false;
    *c = t;
    *tls = *rcx = r;
    return true;
}

/* runtime.asmcgocall: g from %fs (its TLS offset), then, after `call *%rax` into C, the way
 * back: mov G(%rsp),%rdi (the goroutine); mov H(%rdi),%rsi (its stack.hi); sub D(%rsp),%rsi
 * (minus the depth it had). */
static bool decode_asmcgocall(code c, uint64_t addr, golang_layout *o)
{
    static const uint8_t call_rax[] = { 0xff, 0xd0 }, ld_g[] = { 0x48, 0x8b, 0x7c, 0x24 },
                         ld_hi[] = { 0x48, 0x8b, 0x77 },
                         sub_depth[] = { 0x48, 0x2b, 0x74, 0x24 };
    int64_t tls = 0, g, hi, depth, rcx = INT64_MIN;
    bool found = false;
    for (size_t at = c.at; at < c.len && !found; at++) { /* the first load of g into %rdi */
        code t = c;
        t.at = at;
        found = next_tls(&t, 0x8b, 7, &tls, &rcx);
        if (found)
            c = t;
    }
    if (!found || !skip_past(&c, call_rax, sizeof call_rax))
        return false;
    uint64_t ret = addr + c.at;
    int64_t again;
    next_mov_rcx(&c, &again); /* a position-independent program names the slot again */
    if (!next_is(&c, ld_g, sizeof ld_g, false, &g) ||
        !next_is(&c, ld_hi, sizeof ld_hi, false, &hi) ||
        !next_is(&c, sub_depth, sizeof sub_depth, false, &depth) || tls >= 0 || g < 0 ||
        hi <= 0 || depth < 0)
        return false;
    o->tls_g = (int32_t)tls;
    o->cgo_ret = ret;
    o->cgo_g_slot = (uint32_t)g;
    o->g_stack_hi = (uint32_t)hi;
    o->cgo_depth_slot = (uint32_t)depth;
    return true;
}

/* runtime.systemstack, after `call *%rdi` (the function, on g0): the way back to the
 * goroutine: g from %fs; mov M(%rax),%rbx (g.m); mov C(%rbx),%rax (m.curg); store it in
 * %fs; mov S(%rax),%rsp (curg.sched.sp); ... ret. */
static bool decode_systemstack(code c, uint64_t addr, golang_layout *o)
{
    static const uint8_t call_rdi[] = { 0xff, 0xd7 }, ld_m[] = { 0x48, 0x8b, 0x58 },
                         ld_curg[] = { 0x48, 0x8b, 0x83 }, ld_sp[] = { 0x48, 0x8b, 0x60 };
    int64_t tls, m, curg, tls2, sp, rcx = INT64_MIN;
    if (!skip_past(&c, call_rdi, sizeof call_rdi))
        return false;
    uint64_t ret = addr + c.at;
    if (!next_tls(&c, 0x8b, 0, &tls, &rcx) ||
        !next_is(&c, ld_m, sizeof ld_m, false, &m) ||
        !next_is(&c, ld_curg, sizeof ld_curg, true, &curg) ||
        !next_tls(&c, 0x89, 0, &tls2, &rcx) ||
        !next_is(&c, ld_sp, sizeof ld_sp, false, &sp) || tls != o->tls_g || tls2 != tls ||
        m <= 0 || curg <= 0 || sp <= 0)
        return false;
    o->sys_ret = ret;
    o->g_m = (uint32_t)m;
    o->m_curg = (uint32_t)curg;
    o->g_sched_sp = (uint32_t)sp;
    return true;
}

/* runtime.exit (ABI0): mov 8(%rsp),%edi; mov $231,%eax (exit_group); syscall; ret. */
static bool is_exit(code c)
{
    static const uint8_t want[] = { 0x8b, 0x7c, 0x24, 0x08, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05, 0xc3 };
    return c.len == sizeof want && memcmp(c.p, want, sizeof want) == 0;
}

static int first_module(struct dl_phdr_info *info, size_t size, void *bias)
{
    (void)size;
    *(uint64_t *)bias = info->dlpi_addr;
    return 1; /* the executable comes first */
}

/* Is [addr, addr + size) inside one of the executable's loaded segments? */
typedef struct span_check {
    uint64_t lo, hi;
    bool in;
} span_check;

static int in_first_load(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    span_check *c = arg;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && c->lo >= lo && c->hi <= lo + ph->p_memsz)
            c->in = true;
    }
    return 1; /* the executable comes first */
}

/* Go's table where no section names it (a position-independent program: in .data.rel.ro)
 * looked for in the executable's loaded segments that are not code. */
static int scan_first_load(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    util_gopclntab *t = arg;
    for (size_t i = 0; i < info->dlpi_phnum && !t->base; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && !(ph->p_flags & PF_X) && ph->p_filesz > 0)
            util_gopclntab_scan(t, (const void *)(uintptr_t)(info->dlpi_addr + ph->p_vaddr),
                                ph->p_filesz, 0);
    }
    return 1; /* the executable comes first */
}

static bool in_loaded_image(uint64_t addr, uint64_t size)
{
    span_check c = { addr, addr + size, false };
    if (c.hi < c.lo)
        return false;
    dl_iterate_phdr(in_first_load, &c);
    return c.in;
}

/* A symbol's code as mapped in this process; the .abi0 name first (Go 1.17+ calls the
 * plain name's ABI wrapper that). */
static bool find_code(Elf *elf, Elf_Scn *symtab, uint64_t bias, const char *name, code *out,
                      uint64_t *addr)
{
    GElf_Shdr sh;
    Elf_Data *d = elf_getdata(symtab, NULL);
    if (!d || !gelf_getshdr(symtab, &sh) || sh.sh_entsize == 0)
        return false;
    char abi0[64];
    snprintf(abi0, sizeof abi0, "%s.abi0", name);
    const char *names[] = { abi0, name };
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym s;
            const char *n;
            if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
                !(n = elf_strptr(elf, sh.sh_link, s.st_name)) || strcmp(n, names[k]) != 0 ||
                s.st_size == 0 || s.st_size > 4096)
                continue;
            *addr = bias + s.st_value;
            *out = (code){ (const uint8_t *)(uintptr_t)*addr, s.st_size, 0 };
            return true;
        }
    }
    return false;
}

/* The runtime functions golang_detect reads, found in Go's own table in one pass where
 * .symtab is gone. */
static const char *const runtime_fns[] = { "runtime.exit", "runtime.asyncPreempt",
                                           "runtime.asmcgocall", "runtime.systemstack" };
enum { RUNTIME_FNS = sizeof runtime_fns / sizeof *runtime_fns };
static uint64_t runtime_fn_addr[RUNTIME_FNS], runtime_fn_size[RUNTIME_FNS];

/* A function's code as mapped in this process: by .symtab (NULL: none), else by Go's own
 * table (runtime_fns only), less the linker's padding (int3) up to the next function. */
static bool code_of(Elf *elf, Elf_Scn *symtab, uint64_t bias, const char *name, code *out,
                    uint64_t *addr)
{
    if (symtab)
        return find_code(elf, symtab, bias, name, out, addr);
    size_t k = 0;
    while (k < RUNTIME_FNS && strcmp(runtime_fns[k], name) != 0)
        k++;
    if (k == RUNTIME_FNS)
        return false;
    uint64_t size = runtime_fn_size[k];
    *addr = runtime_fn_addr[k];
    if (size == 0 || size > 4096 || !in_loaded_image(*addr, size))
        return false;
    const uint8_t *p = (const uint8_t *)(uintptr_t)*addr;
    while (size > 0 && p[size - 1] == 0xcc)
        size--;
    *out = (code){ p, size, 0 };
    return true;
}

/* A data symbol's extent as mapped in this process (0 size: none). */
static bool find_object(Elf *elf, Elf_Scn *symtab, uint64_t bias, const char *name,
                        uint64_t *addr, uint64_t *size)
{
    GElf_Shdr sh;
    Elf_Data *d = elf_getdata(symtab, NULL);
    if (!d || !gelf_getshdr(symtab, &sh) || sh.sh_entsize == 0)
        return false;
    for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
        GElf_Sym s;
        const char *n;
        if (gelf_getsym(d, (int)i, &s) && GELF_ST_TYPE(s.st_info) == STT_OBJECT &&
            s.st_size > 0 && (n = elf_strptr(elf, sh.sh_link, s.st_name)) &&
            strcmp(n, name) == 0) {
            *addr = bias + s.st_value;
            *size = s.st_size;
            return in_loaded_image(*addr, *size);
        }
    }
    return false;
}

/* Go's linker writes these sections, and only Go's. */
static const char *const go_sections[] = { ".gopclntab", ".go.buildinfo", ".note.go.buildid" };
enum { GO_SECTIONS = sizeof go_sections / sizeof *go_sections };

static bool is_go_section(const char *name)
{
    for (size_t i = 0; i < GO_SECTIONS; i++)
        if (!strcmp(name, go_sections[i]))
            return true;
    return false;
}

/* Whether elf is a Go program; its .symtab into *symtab (NULL if it has none); its
 * .gopclntab's header into *pcln if pcln is not NULL (sh_size 0: none). */
static bool scan_sections(Elf *elf, Elf_Scn **symtab, GElf_Shdr *pcln)
{
    size_t shstr;
    bool go = false;
    *symtab = NULL;
    if (pcln)
        memset(pcln, 0, sizeof *pcln);
    if (elf_getshdrstrndx(elf, &shstr) != 0)
        return false;
    for (Elf_Scn *s = NULL; (s = elf_nextscn(elf, s));) {
        GElf_Shdr sh;
        const char *n;
        if (!gelf_getshdr(s, &sh) || !(n = elf_strptr(elf, shstr, sh.sh_name)))
            continue;
        go = go || is_go_section(n);
        if (sh.sh_type == SHT_SYMTAB)
            *symtab = s;
        if (pcln && !strcmp(n, ".gopclntab") && (sh.sh_flags & SHF_ALLOC))
            *pcln = sh;
    }
    return go;
}

bool golang_elf_uses_libc(Elf *elf)
{
    for (Elf_Scn *s = NULL; elf && (s = elf_nextscn(elf, s));) {
        GElf_Shdr sh;
        Elf_Data *d;
        if (!gelf_getshdr(s, &sh) || sh.sh_type != SHT_DYNAMIC || sh.sh_entsize == 0 ||
            !(d = elf_getdata(s, NULL)))
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Dyn dyn;
            if (gelf_getdyn(d, (int)i, &dyn) && dyn.d_tag == DT_NEEDED)
                return true;
        }
    }
    return false;
}

bool golang_elf_is_go(Elf *elf)
{
    Elf_Scn *symtab;
    return elf && scan_sections(elf, &symtab, NULL);
}

/* Could the ELF file fd name a Go section? Its section-name table is read with three small
 * reads; a file whose names hold none of them is no Go program (scan_sections reads the
 * same table), and every other process is spared libelf's mapping and parsing of its
 * executable (~40 us of each start). Anything unusual answers true: the full scan decides. */
static bool might_be_go(int fd)
{
    Elf64_Ehdr eh;
    Elf64_Shdr sh;
    if (pread(fd, &eh, sizeof eh, 0) != (ssize_t)sizeof eh ||
        memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
        eh.e_shentsize != sizeof sh || eh.e_shstrndx == SHN_UNDEF ||
        eh.e_shstrndx >= SHN_LORESERVE || eh.e_shstrndx >= eh.e_shnum ||
        pread(fd, &sh, sizeof sh, (off_t)(eh.e_shoff + (uint64_t)eh.e_shstrndx * sizeof sh)) !=
            (ssize_t)sizeof sh ||
        sh.sh_size == 0 || sh.sh_size > (1u << 20))
        return true;
    char *names = malloc(sh.sh_size);
    if (!names)
        return true;
    bool maybe = pread(fd, names, sh.sh_size, (off_t)sh.sh_offset) != (ssize_t)sh.sh_size;
    for (size_t i = 0; !maybe && i < GO_SECTIONS; i++)
        maybe = memmem(names, sh.sh_size, go_sections[i], strlen(go_sections[i])) != NULL;
    free(names);
    return maybe;
}

void golang_detect(void)
{
    if (detected)
        return;
    detected = true;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (!might_be_go(fd)) {
        close(fd);
        return;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    Elf_Scn *symtab = NULL;
    uint64_t bias = 0, addr;
    code c;
    golang_layout o;
    memset(&o, 0, sizeof o);
    GElf_Shdr pcln;
    is_go_program = elf && scan_sections(elf, &symtab, &pcln);
    uses_libc = is_go_program && golang_elf_uses_libc(elf);
    if (is_go_program && uses_libc) {
        dl_iterate_phdr(first_module, &bias);
        /* Go's own table (in memory) names the runtime's functions where .symtab is gone
         * (a stripped program: Debian's, or built with -ldflags=-s). */
        if (!(pcln.sh_size && in_loaded_image(bias + pcln.sh_addr, pcln.sh_size) &&
              util_gopclntab_init(&pcln_table, (const void *)(uintptr_t)(bias + pcln.sh_addr),
                                  pcln.sh_size, 0)))
            dl_iterate_phdr(scan_first_load, &pcln_table);
        if (pcln_table.base && in_loaded_image(pcln_table.text, 1)) {
            uint64_t at, size;
            if (symtab && find_object(elf, symtab, bias, "runtime.findfunctab", &at, &size))
                util_gopclntab_set_buckets(&pcln_table, (const void *)(uintptr_t)at, size);
            if (!symtab)
                util_gopclntab_find_names(&pcln_table, runtime_fns, RUNTIME_FNS,
                                          runtime_fn_addr, runtime_fn_size);
            o.pcln = &pcln_table;
        }
        if (code_of(elf, symtab, bias, "runtime.exit", &c, &addr) && is_exit(c))
            o.exit_fn = addr;
        if (code_of(elf, symtab, bias, "runtime.asyncPreempt", &c, &addr))
            o.preempt_fn = addr;
        if (code_of(elf, symtab, bias, "runtime.asmcgocall", &c, &addr) &&
            decode_asmcgocall(c, addr, &o)) {
            if (!code_of(elf, symtab, bias, "runtime.systemstack", &c, &addr) ||
                !decode_systemstack(c, addr, &o))
                o.sys_ret = 0;
            layout_ok = true;
        }
        layout = o;
    }
    if (elf)
        elf_end(elf);
    close(fd);
}

bool golang_is_go(void)
{
    return is_go_program;
}

bool golang_without_libc(void)
{
    return is_go_program && !uses_libc;
}

uint64_t golang_exit_fn(void)
{
    return layout.exit_fn;
}

/* ---- in the handler ---- */

const golang_layout *golang_current(void)
{
    return layout_ok ? &layout : NULL;
}

/* A pointer to a Go runtime object: Go's heap is in the lower half, words aligned. */
static bool plausible(uint64_t p)
{
    return p >= 4096 && p < (1ull << 47) && !(p & 7);
}

static uint64_t load(uint64_t addr)
{
    return util_foreign_load(addr);
}

/* The running g of this thread (0 on threads Go does not know). */
static uint64_t current_g(const golang_layout *go)
{
    uint64_t tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    return load(tp + (uint64_t)(int64_t)go->tls_g);
}

static bool g_stack(const golang_layout *go, uint64_t g, uint64_t *lo, uint64_t *hi)
{
    if (!plausible(g))
        return false;
    *lo = load(g);
    *hi = load(g + go->g_stack_hi);
    return *lo < *hi && *hi - *lo <= MAX_GO_STACK;
}

bool golang_stack_bounds(const golang_layout *go, uint64_t sp, uint64_t *lo, uint64_t *hi)
{
    uint64_t l, h;
    if (!go || !g_stack(go, current_g(go), &l, &h) || sp < l || sp >= h)
        return false;
    *lo = l;
    *hi = h;
    return true;
}

/* Continue at the return address saved at new_sp on the stack [lo, hi). */
static bool resume_at(uint64_t new_sp, uint64_t lo, uint64_t hi, uint64_t *pc, uint64_t *sp,
                      uint64_t *olo, uint64_t *ohi)
{
    if (new_sp < lo || new_sp > hi - 16 || (new_sp & 7))
        return false;
    *pc = load(new_sp);
    *sp = new_sp + 8;
    *olo = lo;
    *ohi = hi;
    return true;
}

bool golang_cross(const golang_layout *go, uint64_t *pc, uint64_t *sp, uint64_t *lo,
                  uint64_t *hi, bool *exact)
{
    uint64_t glo, ghi;
    if (!go || !*pc)
        return false;
    if (*pc == go->preempt_fn) {
        if (*sp < *lo || *sp > *hi - 16 || (*sp & 7))
            return false;
        *pc = load(*sp);
        *sp += 8;
        *exact = true;
        return true;
    }
    if (*pc == go->cgo_ret) {
        uint64_t gs = *sp + go->cgo_g_slot, ds = *sp + go->cgo_depth_slot;
        if (gs < *lo || gs > *hi - 8 || ds < *lo || ds > *hi - 8)
            return false;
        uint64_t g = load(gs), depth = load(ds);
        if (!g_stack(go, g, &glo, &ghi) || depth > ghi - glo)
            return false;
        return resume_at(ghi - depth, glo, ghi, pc, sp, lo, hi);
    }
    if (*pc == go->sys_ret) {
        uint64_t g0 = current_g(go), m, curg;
        if (!plausible(g0) || !plausible(m = load(g0 + go->g_m)) ||
            !g_stack(go, curg = load(m + go->m_curg), &glo, &ghi))
            return false;
        return resume_at(load(curg + go->g_sched_sp), glo, ghi, pc, sp, lo, hi);
    }
    return false;
}
