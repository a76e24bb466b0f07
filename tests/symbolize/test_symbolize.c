/* test_symbolize.c - unit tests for symbolize/: exact names for a fixture library loaded
 * with dlopen (static function, inline chains, C++ and Rust demangling), its stripped
 * copies with separate debug files, broken and corrupted files, the vDSO from memory, the
 * cache and return-address handling, the disk cache (test_symbolize_disk.c).
 *
 * usage: test_symbolize LIB STRIPPED DEBUG NOID_LIB NOID_STRIPPED NOID_DEBUG MINI NOARANGES
 * (meson passes the fixtures built by objcopy; see meson.build). Exits 0 when all pass. */
#include "symbolize.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <inttypes.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "symtest.h"

struct symtest_cfg cfg;

static fixture fixture_load(const char *path)
{
    fixture f = { .path = path, .handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) };
    if (f.handle == NULL) {
        fprintf(stderr, "FATAL: dlopen %s: %s\n", path, dlerror());
        exit(2);
    }
    struct link_map *lm = NULL;
    if (dlinfo(f.handle, RTLD_DI_LINKMAP, &lm) != 0 || lm == NULL) {
        fprintf(stderr, "FATAL: dlinfo %s\n", path);
        exit(2);
    }
    f.bias = lm->l_addr;
    return f;
}

uint64_t fixture_sym(const fixture *f, const char *name)
{
    void *p = dlsym(f->handle, name);
    if (p == NULL) {
        fprintf(stderr, "FATAL: %s has no %s\n", f->path, name);
        exit(2);
    }
    return (uint64_t)(uintptr_t)p;
}

uint64_t fixture_static_addr(const fixture *f)
{
    uintptr_t (*get)(void);
    void *p = dlsym(f->handle, "symfix_static_addr");
    memcpy(&get, &p, sizeof p);
    return get();
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "base+0x<pc - bias>", the form the symbolizer must give for addresses it cannot name. */
static const char *offset_name(const char *path, uint64_t bias, uint64_t pc)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s+0x%" PRIx64, base_name(path), pc - bias);
    return buf;
}

/* Resolves and checks the exact frame list; want is NULL-terminated, inlined from index 1. */
void expect_frames(symbolizer *s, int id, uint64_t pc, bool ret, size_t max,
                   const char *what, ...)
{
    const char *want[16];
    size_t nwant = 0;
    va_list ap;
    va_start(ap, what);
    for (const char *w; nwant < 16 && (w = va_arg(ap, const char *)) != NULL;)
        want[nwant++] = w;
    va_end(ap);
    symbolize_frame got[16];
    size_t n = symbolize_pc(s, id, pc, ret, got, max);
    CHECKF(n == nwant, "%s: %zu frames, want %zu (first: %s)", what, n, nwant,
          n ? got[0].name : "-");
    for (size_t i = 0; i < n && i < nwant; i++) {
        CHECKF(got[i].name != NULL && strcmp(got[i].name, want[i]) == 0,
              "%s: frame %zu is \"%s\", want \"%s\"", what, i, got[i].name, want[i]);
        CHECKF(got[i].inlined == (i > 0), "%s: frame %zu inlined=%d", what, i, got[i].inlined);
    }
}

const char *name_of(symbolizer *s, int id, uint64_t pc, bool ret)
{
    symbolize_frame f[16];
    size_t n = symbolize_pc(s, id, pc, ret, f, 16);
    return n ? f[0].name : NULL;
}

/* ------------------------------------------------------------------ files */

char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "FATAL: open %s\n", path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "FATAL: read %s\n", path);
        exit(2);
    }
    fclose(f);
    *size = (size_t)len;
    return buf;
}

/* Replaces rather than rewrites: a file libelf still maps must never shrink under it. */
void write_file(const char *path, const void *data, size_t size)
{
    unlink(path);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0) {
        fprintf(stderr, "FATAL: write %s\n", path);
        exit(2);
    }
}

void copy_file(const char *from, const char *to)
{
    size_t size;
    char *data = read_file(from, &size);
    write_file(to, data, size);
    free(data);
}

const char *tmp_path(const char *rel)
{
    static char bufs[8][512];
    static int next;
    char *buf = bufs[next++ % 8];
    snprintf(buf, sizeof bufs[0], "%s/%s", cfg.tmpdir, rel);
    return buf;
}

void remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char child[1024];
        snprintf(child, sizeof child, "%s/%s", path, e->d_name);
        remove_tree(child);
    }
    closedir(d);
    rmdir(path);
}

/* ------------------------------------------------------------------ tests */

static int count_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static void test_full_library(const fixture *f)
{
    int fds = count_fds();
    symbolizer *s = symbolize_new();
    CHECKF(symbolize_add_module(s, 1, f->path, f->bias, NULL, 0) == 0, "add_module");
    uint64_t outer = fixture_sym(f, "symfix_outer");
    expect_frames(s, 1, fixture_static_addr(f), false, 16, "static function",
                  "symfix_static_leaf", NULL);
    /* At these entries the first instruction already belongs to an inlined body, so only
     * the outermost frame is checked here; test_inline checks whole chains. */
    expect_frames(s, 1, outer, false, 1, "exported function", "symfix_outer", NULL);
    expect_frames(s, 1, fixture_sym(f, "_ZN2ns5Klass6methodEi"), false, 1, "C++ method",
                  "ns::Klass::method(int)", NULL);
    expect_frames(s, 1, fixture_sym(f, "_ZN4core3fmt5write17h0123456789abcdefE"), false, 16,
                  "Rust legacy", "core::fmt::write", NULL);
    expect_frames(s, 1,
                  fixture_sym(f, "_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt.."
                                 "Display$GT$3fmt17hfedcba9876543210E"),
                  false, 16, "Rust legacy impl", "<alloc::string::String as core::fmt::Display>::fmt",
                  NULL);
    /* Symbols and DWARF are in the file itself, which is mapped: no descriptor stays open. */
    CHECKF(count_fds() == fds, "%d descriptors open after loading, %d before", count_fds(), fds);
    symbolize_free(s);
}

/* Aliases at one address, equally ranked (global, sized): the name with fewer leading
 * underscores, then the shorter, whatever the table order. And names still right after the
 * module file's pages were given back (filepages.h: every 64 lookups): 200 lookups first. */
static void test_aliases_and_dropped_pages(const fixture *f)
{
    symbolizer *s = symbolize_new();
    CHECKF(symbolize_add_module(s, 1, f->path, f->bias, NULL, 0) == 0, "add_module");
    uint64_t outer = fixture_sym(f, "symfix_outer");
    symbolize_frame fr[16];
    for (uint64_t k = 1; k <= 200; k++) /* any names: only the page drops matter here */
        symbolize_pc(s, 1, outer + k, false, fr, 16);
    expect_frames(s, 1, fixture_sym(f, "symfix_alias_target"), false, 16,
                  "aliases at one address", "symfix_al", NULL);
    expect_frames(s, 1, fixture_sym(f, "_ZN2ns5Klass6methodEi"), false, 1,
                  "C++ method after the pages were dropped", "ns::Klass::method(int)", NULL);
    expect_frames(s, 1, fixture_static_addr(f), false, 16,
                  "static function after the pages were dropped", "symfix_static_leaf", NULL);
    symbolize_free(s);
}

static void test_inline(const fixture *f, const char *path, const char *what)
{
    int (*outer)(int);
    int (*cpp_run)(int);
    void *p = dlsym(f->handle, "symfix_outer"), *q = dlsym(f->handle, "symfix_cpp_run");
    memcpy(&outer, &p, sizeof p);
    memcpy(&cpp_run, &q, sizeof q);
    outer(3);
    cpp_run(4);
    uintptr_t *pc1 = dlsym(f->handle, "symfix_inline_pc");
    uintptr_t *pc2 = dlsym(f->handle, "symfix_inline2_pc");
    uintptr_t *pc3 = dlsym(f->handle, "symfix_cpp_inline_pc");
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 3, path, f->bias, NULL, 0);
    fprintf(stderr, "# %s\n", what);
    expect_frames(s, 3, *pc1, false, 16, "inline depth 1", "symfix_outer", "symfix_inlined_helper",
                  NULL);
    expect_frames(s, 3, *pc2, false, 16, "inline depth 2", "symfix_outer",
                  "symfix_inlined_helper", "symfix_inner_helper", NULL);
    expect_frames(s, 3, *pc2, false, 2, "inline capped at 2", "symfix_outer",
                  "symfix_inlined_helper", NULL);
    expect_frames(s, 3, *pc2, false, 1, "inline capped at 1", "symfix_outer", NULL);
    expect_frames(s, 3, *pc3, false, 16, "C++ inline", "ns::Klass::method(int)",
                  "ns::Klass::helper(int)", NULL);
    symbolize_free(s);
}

/* The line of path whose text holds needle (1-based), 0 if none. */
static unsigned line_holding(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    char buf[512];
    unsigned n = 0, found = 0;
    while (f && !found && fgets(buf, sizeof buf, f))
        if (++n && strstr(buf, needle))
            found = n;
    if (f)
        fclose(f);
    return found;
}

/* Each frame of the depth-2 inline chain names fixture.c (absolute, clean) and the line
 * where its function is declared, as the source text says; the disk-cache path keeps
 * them (formats_e2e.py checks that end to end). */
static void test_sources(const fixture *f, const char *path)
{
    uintptr_t *pc2 = dlsym(f->handle, "symfix_inline2_pc");
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 3, path, f->bias, NULL, 0);
    symbolize_frame got[16];
    size_t n = symbolize_pc(s, 3, *pc2, false, got, 16);
    static const char *const decl[] = { "int symfix_outer(int x)",
                                        "int symfix_inlined_helper(int x)",
                                        "int symfix_inner_helper(int x)" };
    CHECKF(n == 3, "sources: %zu frames, want 3", n);
    for (size_t i = 0; i < n && i < 3; i++) {
        const char *file = got[i].file ? got[i].file : "";
        const char *tail = strstr(file, "/tests/symbolize/fixture.c");
        CHECKF(file[0] == '/' && tail && !tail[26] && !strstr(file, "/../") &&
                   !strstr(file, "/./"), "sources: frame %zu file %s", i, file);
        unsigned want = file[0] ? line_holding(file, decl[i]) : 0;
        CHECKF(want > 0 && got[i].line == want, "sources: frame %zu (%s) line %u, want %u", i,
               got[i].name, got[i].line, want);
    }
    symbolize_free(s);
}

static void test_stripped(const fixture *f, const fixture *noid)
{
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, cfg.stripped, f->bias, NULL, 0);
    symbolize_add_module(s, 2, cfg.noid_stripped, noid->bias, NULL, 0);
    expect_frames(s, 1, fixture_static_addr(f), false, 16, "stripped + debuglink (build-id)",
                  "symfix_static_leaf", NULL);
    expect_frames(s, 2, fixture_static_addr(noid), false, 16, "stripped + debuglink (CRC)",
                  "symfix_static_leaf", NULL);
    symbolize_add_module(s, 3, cfg.mini, f->bias, NULL, 0);
    expect_frames(s, 3, fixture_static_addr(f), false, 16, "MiniDebugInfo", "symfix_static_leaf",
                  NULL);
    symbolize_free(s);
    test_inline(f, cfg.stripped, "inline through the separate debug file");
}

/* The same stripped file, its debug file placed in DIR/.debug/ as gdb and elfutils accept. */
static void test_debug_subdir(const fixture *f)
{
    mkdir(tmp_path("sub"), 0700);
    mkdir(tmp_path("sub/.debug"), 0700);
    copy_file(cfg.stripped, tmp_path("sub/libsymfix_stripped.so"));
    copy_file(cfg.debug, tmp_path("sub/.debug/libsymfix.so.debug"));
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, tmp_path("sub/libsymfix_stripped.so"), f->bias, NULL, 0);
    expect_frames(s, 1, fixture_static_addr(f), false, 16, "debug file in .debug/",
                  "symfix_static_leaf", NULL);
    symbolize_free(s);
}

/* A debug file with the right name but from another build must be refused: by build-id
 * when both have one, by CRC otherwise. Exported names still come from .dynsym. */
static void test_debug_mismatch(const fixture *f, const fixture *noid)
{
    mkdir(tmp_path("bad"), 0700);
    copy_file(cfg.stripped, tmp_path("bad/libsymfix_stripped.so"));
    copy_file(cfg.noid_debug, tmp_path("bad/libsymfix.so.debug"));
    copy_file(cfg.noid_stripped, tmp_path("bad/libsymfix_noid_stripped.so"));
    copy_file(cfg.debug, tmp_path("bad/libsymfix_noid.so.debug"));
    symbolizer *s = symbolize_new();
    const char *p1 = tmp_path("bad/libsymfix_stripped.so");
    const char *p2 = tmp_path("bad/libsymfix_noid_stripped.so");
    symbolize_add_module(s, 1, p1, f->bias, NULL, 0);
    symbolize_add_module(s, 2, p2, noid->bias, NULL, 0);
    uint64_t st1 = fixture_static_addr(f), st2 = fixture_static_addr(noid);
    expect_frames(s, 1, st1, false, 16, "wrong build-id refused", offset_name(p1, f->bias, st1),
                  NULL);
    expect_frames(s, 2, st2, false, 16, "wrong CRC refused", offset_name(p2, noid->bias, st2),
                  NULL);
    expect_frames(s, 1, fixture_sym(f, "symfix_outer"), false, 16, ".dynsym still used",
                  "symfix_outer", NULL);
    symbolize_free(s);
}

/* A stripped copy with no debug file anywhere: a static function is named by the start of
 * its FDE from any address inside it (one frame, not one per address); .dynsym still wins
 * for exported functions. */
static void test_fde_names(const fixture *f)
{
    mkdir(tmp_path("nodebug"), 0700);
    copy_file(cfg.stripped, tmp_path("nodebug/libsymfix_stripped.so"));
    const char *p = tmp_path("nodebug/libsymfix_stripped.so");
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, p, f->bias, NULL, 0);
    uint64_t st = fixture_static_addr(f);
    char want[512];
    snprintf(want, sizeof want, "%s", offset_name(p, f->bias, st));
    for (uint64_t d = 0; d < 3; d++)
        expect_frames(s, 1, st + d, false, 16, "FDE start names a static function", want, NULL);
    expect_frames(s, 1, st + 2, true, 16, "FDE start, return address", want, NULL);
    expect_frames(s, 1, fixture_sym(f, "symfix_outer"), false, 16, ".dynsym before FDEs",
                  "symfix_outer", NULL);
    const char *example = NULL;
    CHECKF(symbolize_unnamed_modules(s, &example) == 1 && example != NULL
              && strcmp(example, "libsymfix_stripped.so") == 0,
          "the stripped module is counted as one debuginfod could name (%s)",
          example ? example : "none");
    symbolize_free(s);
}

static void expect_offset_or(symbolizer *s, int id, const char *path, uint64_t bias,
                             uint64_t pc, const char *real, const char *what)
{
    const char *got = name_of(s, id, pc, false);
    char want[512];
    snprintf(want, sizeof want, "%s", offset_name(path, bias, pc));
    CHECKF(got != NULL && (strcmp(got, want) == 0 || (real && strcmp(got, real) == 0)),
          "%s: got \"%s\", want \"%s\"%s%s", what, got, want, real ? " or " : "", real ? real : "");
}

static void test_broken_files(const fixture *f)
{
    size_t size;
    char *lib = read_file(cfg.lib, &size);
    char garbage[8192];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (char)(i * 2654435761u >> 13);
    write_file(tmp_path("garbage.so"), garbage, sizeof garbage);
    write_file(tmp_path("empty.so"), "", 0);
    write_file(tmp_path("header.so"), lib, 64);
    write_file(tmp_path("trunc3k.so"), lib, 3000);
    write_file(tmp_path("trunchalf.so"), lib, size / 2);
    mkdir(tmp_path("adir.so"), 0700);
    const char *exact[] = { "garbage.so", "empty.so", "header.so", "adir.so", "missing.so" };
    const char *maybe[] = { "trunc3k.so", "trunchalf.so" };
    uint64_t pcs[] = { fixture_static_addr(f), fixture_sym(f, "symfix_outer") };
    symbolizer *s = symbolize_new();
    for (int i = 0; i < 5; i++)
        symbolize_add_module(s, 10 + i, tmp_path(exact[i]), f->bias, NULL, 0);
    for (int i = 0; i < 2; i++)
        symbolize_add_module(s, 20 + i, tmp_path(maybe[i]), f->bias, NULL, 0);
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 5; i++)
            expect_offset_or(s, 10 + i, exact[i], f->bias, pcs[k], NULL, exact[i]);
        for (int i = 0; i < 2; i++)
            expect_offset_or(s, 20 + i, maybe[i], f->bias, pcs[k],
                             k ? "symfix_outer" : "symfix_static_leaf", maybe[i]);
    }
    symbolize_free(s);
    free(lib);
}

uint64_t xorshift(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Corrupted copies of the fixture: any name is fine, crashing or leaking is not. Half
 * the runs hit the ELF and section headers, where a bad count or offset does most harm. */
/* Random bytes changed in a copy of path (the -g library; the stripped one, whose code is
 * named from .eh_frame, .eh_frame_hdr and the PLT): every lookup still answers. */
static void test_corrupt_files(const fixture *f, const char *path)
{
    size_t size;
    char *lib = read_file(path, &size);
    char *copy = malloc(size);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    uint64_t pcs[] = { fixture_static_addr(f), fixture_sym(f, "symfix_outer"),
                       fixture_sym(f, "_ZN2ns5Klass6methodEi") };
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)lib;
    for (int iter = 0; iter < 300; iter++) {
        memcpy(copy, lib, size);
        for (int k = 0; k < 8; k++) {
            uint64_t r = xorshift(&rng);
            size_t at = iter % 2 ? r % size
                                 : (k % 2 ? r % 64 : eh->e_shoff + r % (size - eh->e_shoff));
            copy[at] = (char)(xorshift(&rng) & 0xff);
        }
        write_file(tmp_path("fuzz.so"), copy, size);
        symbolizer *s = symbolize_new();
        symbolize_add_module(s, 1, tmp_path("fuzz.so"), f->bias, NULL, 0);
        for (int k = 0; k < 3; k++)
            for (int ret = 0; ret < 2; ret++)
                CHECKF(name_of(s, 1, pcs[k] + (uint64_t)ret, ret) != NULL, "corrupt file %d", iter);
        symbolize_free(s);
    }
    free(copy);
    free(lib);
}

/* The vDSO's size is not in the auxv: it is the extent of what its headers describe. */
static size_t vdso_size(const ElfW(Ehdr) *eh)
{
    size_t end = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
    const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_offset + ph[i].p_filesz > end)
            end = ph[i].p_offset + ph[i].p_filesz;
    return end;
}

static int vdso_bias_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    uint64_t *out = arg;
    const char *base = (const char *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
    if ((const char *)info->dlpi_phdr >= base && (const char *)info->dlpi_phdr < base + 4096) {
        *out = info->dlpi_addr;
        return 1;
    }
    return 0;
}

static void test_vdso(void)
{
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
    void *h = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
    uint64_t fn = h ? (uint64_t)(uintptr_t)dlsym(h, "__vdso_clock_gettime") : 0;
    uint64_t bias = 0;
    if (eh == NULL || fn == 0 || dl_iterate_phdr(vdso_bias_cb, &bias) == 0) {
        fprintf(stderr, "# no vDSO here: skipped\n");
        return;
    }
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 5, "[vdso]", bias, eh, vdso_size(eh));
    const char *got = name_of(s, 5, fn, false);
    CHECKF(got && (strcmp(got, "__vdso_clock_gettime") == 0 || strcmp(got, "clock_gettime") == 0),
          "vDSO clock_gettime resolved as \"%s\"", got);
    const char *mid = name_of(s, 5, fn + 4, false);
    CHECKF(mid == got, "vDSO: inside the function \"%s\"", mid);
    symbolize_free(s);
    if (h)
        dlclose(h);
}

static void test_cache_and_return(const fixture *f)
{
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, f->path, f->bias, NULL, 0);
    uint64_t st = fixture_static_addr(f);
    symbolize_frame a[4], b[4];
    size_t na = symbolize_pc(s, 1, st + 2, false, a, 4);
    size_t nb = symbolize_pc(s, 1, st + 2, false, b, 4);
    CHECKF(na == 1 && nb == 1 && a[0].name == b[0].name, "cache: same pointer for same pc");
    CHECKF(name_of(s, 1, st + 3, false) == a[0].name, "interning: same pointer within function");
    /* pc-1 for return addresses: the byte before a function's entry is not in it. */
    CHECKF(strcmp(name_of(s, 1, st, false), "symfix_static_leaf") == 0, "pc at entry");
    CHECKF(strcmp(name_of(s, 1, st + 1, true), "symfix_static_leaf") == 0, "return to entry+1");
    const char *before = name_of(s, 1, st, true);
    CHECKF(before && strcmp(before, "symfix_static_leaf") != 0,
          "return address at entry looks at the previous byte, got \"%s\"", before);
    CHECKF(name_of(s, 1, st, false) != before, "cache keeps is_return apart");
    expect_frames(s, 99, st, false, 4, "unknown module id", "[unknown]", NULL);
    CHECKF(symbolize_pc(s, 1, st, false, a, 0) == 0, "max 0 writes nothing");
    /* Re-registering an id replaces the module and is not served from the old cache. */
    symbolize_add_module(s, 7, tmp_path("missing.so"), f->bias, NULL, 0);
    expect_frames(s, 7, st, false, 4, "before re-register", offset_name("missing.so", f->bias, st),
                  NULL);
    symbolize_add_module(s, 7, f->path, f->bias, NULL, 0);
    expect_frames(s, 7, st, false, 4, "after re-register", "symfix_static_leaf", NULL);
    CHECKF(symbolize_add_module(s, -1, f->path, 0, NULL, 0) == -1, "negative id refused");
    symbolize_free(s);
}

static int libc_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    if (strstr(info->dlpi_name, "/libc.so") == NULL)
        return 0;
    symbolize_add_module(arg, 1, info->dlpi_name, info->dlpi_addr, NULL, 0);
    return 1;
}

static void test_libc(void)
{
    symbolizer *s = symbolize_new();
    if (dl_iterate_phdr(libc_cb, s) == 0) {
        fprintf(stderr, "# libc not found: skipped\n");
        symbolize_free(s);
        return;
    }
    char *(*fn)(const char *) = getenv;
    uint64_t pc;
    memcpy(&pc, &fn, sizeof pc);
    const char *got = name_of(s, 1, pc + 1, false);
    CHECKF(got && strcmp(got, "getenv") == 0, "libc getenv resolved as \"%s\"", got);
    symbolize_free(s);
}

/* The whole point of our own find_debuginfo: libdebuginfod must never be loaded. */
static void test_no_debuginfod(void)
{
    void *h = dlopen("libdebuginfod.so.1", RTLD_LAZY | RTLD_NOLOAD);
    CHECKF(h == NULL, "libdebuginfod was loaded");
    if (h)
        dlclose(h);
    size_t size;
    char *maps = read_file("/proc/self/maps", &size);
    maps[size] = '\0';
    CHECKF(strstr(maps, "libdebuginfod") == NULL, "libdebuginfod is mapped");
    free(maps);
}

int main(int argc, char **argv)
{
    if (argc != 9) {
        fprintf(stderr, "usage: %s LIB STRIPPED DEBUG NOID_LIB NOID_STRIPPED NOID_DEBUG MINI "
                        "NOARANGES\n", argv[0]);
        return 2;
    }
    cfg.lib = argv[1], cfg.stripped = argv[2], cfg.debug = argv[3];
    cfg.noid_lib = argv[4], cfg.noid_stripped = argv[5], cfg.noid_debug = argv[6];
    cfg.mini = argv[7], cfg.noaranges = argv[8];
    /* If anything did reach debuginfod, it would try this (unroutable) server. */
    setenv("DEBUGINFOD_URLS", "http://127.0.0.1:9/", 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(cfg.tmpdir, sizeof cfg.tmpdir, "%s/symtest.XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (mkdtemp(cfg.tmpdir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    fprintf(stderr, "# libstdc++ loaded before the tests: %s\n",
            dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD) ? "yes" : "no");
    /* The disk cache (diskcache.h) lives in the temp dir, never in the user's. */
    setenv("XDG_CACHE_HOME", tmp_path("xdg"), 1);
    fixture full = fixture_load(cfg.lib), noid = fixture_load(cfg.noid_lib);
    test_full_library(&full);
    test_aliases_and_dropped_pages(&full);
    test_inline(&full, cfg.lib, "inline in the -g library");
    test_inline(&full, cfg.noaranges, "inline without .debug_aranges");
    test_sources(&full, cfg.lib);
    test_sources(&full, cfg.stripped); /* DWARF from the separate debug file */
    test_stripped(&full, &noid);
    test_debug_subdir(&full);
    test_debug_mismatch(&full, &noid);
    test_fde_names(&full);
    test_broken_files(&full);
    test_corrupt_files(&full, cfg.lib);
    test_corrupt_files(&full, cfg.stripped);
    test_vdso();
    test_cache_and_return(&full);
    check_failures += test_disk_cache_all(&full);
    test_libc();
    test_no_debuginfod();
    remove_tree(cfg.tmpdir);
    dlclose(full.handle);
    dlclose(noid.handle);
    return check_status("test_symbolize");
}
