/* symbolize.c - addresses to names with elfutils; see symbolize.h for the contract.
 *
 * Layout of this file:
 *   small containers (growable arrays, an open-addressing index, a string arena)
 *   demangling (C++ and Rust legacy through __cxa_demangle, found at run time)
 *   debug files on disk (build-id path, .gnu_debuglink with CRC or build-id check)
 *   modules (one Dwfl each, reported from an Elf we open ourselves)
 *   ELF symbol tables (sorted once, binary search)
 *   DWARF inline chains (per-CU sorted function ranges, then a short descent)
 *   the per-address cache and the public functions
 *
 * Nothing here may reach debuginfod: dwfl_standard_find_debuginfo and
 * dwfl_build_id_find_elf dlopen libdebuginfod, which pulls in libcurl and OpenSSL and
 * crashed inside node at exit. Our Dwfl_Callbacks only read files on this machine. */
#include "symbolize.h"

#include <dlfcn.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Inline depth kept per address; deeper chains are cut at their outermost 64 levels. */
#define SYMBOLIZE_MAX_FRAMES 64
/* How far back a lookup walks for a symbol that encloses smaller ones (asm entry points
 * inside a bigger sized symbol). Bounded so a miss in a gap stays O(log n). */
#define SYMBOLIZE_NEST_WALK 16
#define SYMBOLIZE_DEBUG_ROOT "/usr/lib/debug"

static const char symbolize_unknown[] = "[unknown]";

/* ------------------------------------------------------------------ containers */

/* Returns arr grown to hold need elements (updating *cap), or NULL with arr untouched. */
static void *symbolize_reserve(void *arr, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap)
        return arr;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 4 / elsz)
            return NULL;
        n *= 2;
    }
    void *grown = realloc(arr, n * elsz);
    if (grown != NULL)
        *cap = n;
    return grown;
}

static uint32_t symbolize_hash64(uint64_t x)
{
    /* splitmix64 finalizer: cheap and mixes the low page-offset bits of addresses. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (uint32_t)x;
}

static uint32_t symbolize_hash_str(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return symbolize_hash64(h);
}

/* Open-addressing index: maps a 32-bit hash plus a caller equality test to an element
 * index of some caller-owned array. One implementation serves names, modules, CUs and
 * the address cache. */
typedef struct symbolize_slot {
    uint32_t hash;
    uint32_t idx1; /* element index + 1; 0 marks an empty slot */
} symbolize_slot;

typedef struct symbolize_htab {
    symbolize_slot *slots;
    size_t cap, count;
} symbolize_htab;

typedef bool (*symbolize_eq_fn)(const void *ctx, uint32_t idx, const void *key);

static symbolize_slot *symbolize_htab_find(const symbolize_htab *t, uint32_t hash,
                                           symbolize_eq_fn eq, const void *ctx,
                                           const void *key)
{
    if (t->cap == 0)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        symbolize_slot *s = &t->slots[i];
        if (s->idx1 == 0)
            return NULL;
        if (s->hash == hash && eq(ctx, s->idx1 - 1, key))
            return s;
    }
}

static void symbolize_htab_place(symbolize_slot *slots, size_t cap, symbolize_slot in)
{
    size_t mask = cap - 1;
    size_t i = in.hash & mask;
    while (slots[i].idx1 != 0)
        i = (i + 1) & mask;
    slots[i] = in;
}

static bool symbolize_htab_insert(symbolize_htab *t, uint32_t hash, uint32_t idx)
{
    if ((t->count + 1) * 10 > t->cap * 7) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        symbolize_slot *ns = calloc(ncap, sizeof *ns);
        if (ns == NULL)
            return false;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].idx1 != 0)
                symbolize_htab_place(ns, ncap, t->slots[i]);
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    symbolize_htab_place(t->slots, t->cap, (symbolize_slot){ hash, idx + 1 });
    t->count++;
    return true;
}

/* Chunked arena: interned names never move, so callers may keep the pointers. */
typedef struct symbolize_chunk {
    struct symbolize_chunk *next;
    size_t used, cap;
    char data[];
} symbolize_chunk;

static char *symbolize_arena_alloc(symbolize_chunk **head, size_t n)
{
    symbolize_chunk *c = *head;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = *head;
        *head = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static void symbolize_arena_free(symbolize_chunk *c)
{
    while (c != NULL) {
        symbolize_chunk *next = c->next;
        free(c);
        c = next;
    }
}

/* ------------------------------------------------------------------ types */

/* [lo, hi): the first member of everything looked up by address, so that one binary
 * search (symbolize_span_find) serves symbols, functions and inline scopes. */
typedef struct symbolize_span {
    uint64_t lo, hi;
} symbolize_span;

typedef struct symbolize_sym {
    symbolize_span span; /* absolute (biased) addresses */
    const char *raw;     /* points into the Dwfl's string table, valid until dwfl_end */
    const char *name;    /* demangled and interned on first use */
} symbolize_sym;

typedef struct symbolize_fn_range {
    symbolize_span span; /* CU-relative (unbiased) addresses */
    Dwarf_Die die;
} symbolize_fn_range;

/* A function's code scopes (lexical blocks, inlined calls) as a small tree with decoded,
 * sorted ranges: built once per function that is hit, because rescanning its DIEs per
 * address (call sites, variables, ...) is what made lookups slow in big functions. */
typedef struct symbolize_scope_range {
    symbolize_span span;
    uint32_t scope; /* index in symbolize_fn_tree.scopes */
} symbolize_scope_range;

typedef struct symbolize_scope {
    Dwarf_Die die;
    size_t first, count; /* its children's ranges in symbolize_fn_tree.ranges, sorted */
    bool inlined;
} symbolize_scope;

typedef struct symbolize_fn_tree {
    const void *key; /* the subprogram DIE's address in the debug data */
    symbolize_scope *scopes;
    size_t nscopes, scopes_cap;
    symbolize_scope_range *ranges;
    size_t nranges, ranges_cap;
} symbolize_fn_tree;

/* A CU's address range, for modules whose DWARF has no .debug_aranges (clang and other
 * LLVM compilers omit it), where dwfl_module_addrdie in elfutils 0.188 finds no CU. */
typedef struct symbolize_cu_range {
    symbolize_span span; /* unbiased */
    Dwarf_Die cudie;
} symbolize_cu_range;

typedef struct symbolize_cu {
    const void *key; /* the CU DIE's address in the debug data: unique per Dwarf */
    symbolize_fn_range *fns;
    size_t nfns;
} symbolize_cu;

/* Display name for a raw DWARF string, keyed by the string's address: inlined callees
 * (std:: templates in C++) recur under many addresses and demangling costs microseconds. */
typedef struct symbolize_alias {
    const char *raw;
    const char *name;
} symbolize_alias;

enum symbolize_state { SYMBOLIZE_UNLOADED, SYMBOLIZE_READY, SYMBOLIZE_BROKEN };

typedef struct symbolize_module {
    int id;
    char *path;       /* as registered (may be NULL) */
    const char *base; /* basename, used in "base+0xoff" */
    uint64_t bias;
    void *image; /* our copy of an in-memory ELF image (the vDSO) */
    size_t image_size;
    enum symbolize_state state;
    Dwfl *dwfl;
    Dwfl_Module *dmod;
    Elf *main_elf;    /* owned by the Dwfl once find_elf handed it over */
    Elf *pending_elf; /* opened by us, not yet handed to the Dwfl */
    int pending_fd;
    symbolize_sym *syms;
    size_t nsyms;
    symbolize_cu *cus;
    size_t ncus, cus_cap;
    symbolize_htab cu_index;
    symbolize_cu_range *cu_ranges; /* built on the first address dwfl cannot place */
    size_t ncu_ranges;
    bool cu_ranges_built;
    Dwarf_Addr dwbias;
    symbolize_fn_tree *trees;
    size_t ntrees, trees_cap;
    symbolize_htab tree_index;
    symbolize_alias *aliases; /* raw pointers into this module's Dwfl: released with it */
    size_t naliases, aliases_cap;
    symbolize_htab alias_index;
} symbolize_module;

typedef struct symbolize_cached {
    uint64_t pc;
    uint32_t module; /* index in symbolizer.modules: re-registering an id gets a new one */
    uint32_t first;  /* index in symbolizer.frames */
    uint16_t nframes;
    bool is_return;
} symbolize_cached;

struct symbolizer {
    symbolize_module **modules;
    size_t nmodules, modules_cap;
    symbolize_htab module_index; /* id -> latest registration */

    symbolize_chunk *arena;
    const char **names;
    size_t nnames, names_cap;
    symbolize_htab name_index;

    symbolize_cached *cached;
    size_t ncached, cached_cap;
    symbolize_htab cache_index;
    symbolize_frame *frames;
    size_t nframes, frames_cap;
};

/* ------------------------------------------------------------------ interning */

typedef struct symbolize_strkey {
    const char *s;
    size_t len;
} symbolize_strkey;

static bool symbolize_name_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolizer *s = ctx;
    const symbolize_strkey *k = key;
    const char *have = s->names[idx];
    return strncmp(have, k->s, k->len) == 0 && have[k->len] == '\0';
}

/* Returns a stable copy of str[0..len), shared by every caller asking for the same text. */
static const char *symbolize_intern_len(symbolizer *s, const char *str, size_t len)
{
    symbolize_strkey key = { str, len };
    uint32_t h = symbolize_hash_str(str, len);
    symbolize_slot *hit = symbolize_htab_find(&s->name_index, h, symbolize_name_eq, s, &key);
    if (hit != NULL)
        return s->names[hit->idx1 - 1];
    const char **names = symbolize_reserve(s->names, &s->names_cap, s->nnames + 1,
                                           sizeof *names);
    if (names == NULL)
        return NULL;
    s->names = names;
    char *copy = symbolize_arena_alloc(&s->arena, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, str, len);
    copy[len] = '\0';
    if (!symbolize_htab_insert(&s->name_index, h, (uint32_t)s->nnames))
        return copy; /* still valid, just not shared */
    s->names[s->nnames++] = copy;
    return copy;
}

static const char *symbolize_intern(symbolizer *s, const char *str)
{
    return symbolize_intern_len(s, str, strlen(str));
}

/* ------------------------------------------------------------------ demangling */

typedef char *(*symbolize_cxa_demangle_fn)(const char *, char *, size_t *, int *);

static symbolize_cxa_demangle_fn symbolize_cxa_demangle;
static pthread_once_t symbolize_demangle_once = PTHREAD_ONCE_INIT;

/* This is a C library: linking libstdc++ would drag a C++ runtime into every profiled C
 * program. A C++ host already has it loaded (RTLD_NOLOAD finds it for free); otherwise
 * load it once. The handle is never closed: unloading a C++ runtime at exit is unsafe. */
static void symbolize_demangle_init(void)
{
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        h = dlopen("libstdc++.so.6", RTLD_LAZY);
    if (h == NULL)
        return;
    void *sym = dlsym(h, "__cxa_demangle");
    /* ISO C has no object-to-function pointer conversion; POSIX guarantees it works. */
    memcpy(&symbolize_cxa_demangle, &sym, sizeof sym);
}

static bool symbolize_is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Rust legacy symbols demangle to "path::h<16 hex>": the hash only disambiguates crate
 * versions and would split one function into many flame graph frames. */
static bool symbolize_strip_rust_hash(char *d)
{
    size_t n = strlen(d);
    if (n < 19 || memcmp(d + n - 19, "::h", 3) != 0 || !symbolize_is_hex(d + n - 16, 16))
        return false;
    d[n - 19] = '\0';
    return true;
}

/* Writes the UTF-8 encoding of cp at out; returns its length (0 if not encodable). */
static size_t symbolize_utf8(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp < 0x110000) {
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
    }
    return 0;
}

/* Decodes one Rust legacy escape ("$LT$", "$u20$", ...) at in; returns the bytes consumed
 * (0 if in does not start a known escape) and writes the decoded text at out. */
static size_t symbolize_rust_escape(const char *in, char *out, size_t *outlen)
{
    static const struct { const char *esc; char ch; } table[] = {
        { "$SP$", '@' }, { "$BP$", '*' }, { "$RF$", '&' }, { "$LT$", '<' },
        { "$GT$", '>' }, { "$LP$", '(' }, { "$RP$", ')' }, { "$C$", ',' },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t n = strlen(table[i].esc);
        if (strncmp(in, table[i].esc, n) == 0) {
            out[0] = table[i].ch;
            *outlen = 1;
            return n;
        }
    }
    if (in[1] != 'u')
        return 0;
    const char *end = strchr(in + 2, '$');
    if (end == NULL || end == in + 2 || end - (in + 2) > 6 || !symbolize_is_hex(in + 2, (size_t)(end - (in + 2))))
        return 0;
    unsigned long cp = strtoul(in + 2, NULL, 16);
    *outlen = symbolize_utf8(cp, out);
    return *outlen ? (size_t)(end + 1 - in) : 0;
}

/* In place: every escape is at least as long as its decoding, so the text only shrinks. */
static void symbolize_rust_unescape(char *d)
{
    char *w = d;
    bool seg_start = true;
    for (const char *r = d; *r != '\0';) {
        size_t outlen = 0, used;
        if (seg_start && r[0] == '_' && r[1] == '$') {
            r++; /* rustc prefixes '_' to a path segment that starts with '$' */
        } else if (r[0] == '$' && (used = symbolize_rust_escape(r, w, &outlen)) > 0) {
            r += used;
            w += outlen;
        } else if (r[0] == '.' && r[1] == '.') {
            r += 2;
            *w++ = ':';
            *w++ = ':';
            seg_start = true;
            continue;
        } else {
            /* A segment starts right after the second ':' of a "::" separator. */
            seg_start = r[0] == ':' && r[1] != ':';
            *w++ = *r++;
            continue;
        }
        seg_start = false;
    }
    *w = '\0';
}

/* Display form of a raw symbol name, interned. Unmangled and undemanglable names stay. */
/* Go's linker names an assembly function's ABI0 body "pkg.fn.abi0" (Go 1.17+); Go's own
 * tools show it as "pkg.fn". Only names with a package path dot before the suffix. */
static const char *symbolize_go_abi0(symbolizer *s, const char *raw)
{
    size_t n = strlen(raw);
    static const char suffix[] = ".abi0";
    size_t k = sizeof suffix - 1;
    char buf[512];
    if (n <= k || n - k >= sizeof buf || strcmp(raw + n - k, suffix) != 0 ||
        !memchr(raw, '.', n - k))
        return NULL;
    memcpy(buf, raw, n - k);
    buf[n - k] = '\0';
    return symbolize_intern(s, buf);
}

static const char *symbolize_display_name(symbolizer *s, const char *raw)
{
    const char *go = symbolize_go_abi0(s, raw);
    if (go != NULL)
        return go;
    if (raw[0] != '_' || raw[1] != 'Z')
        return symbolize_intern(s, raw);
    pthread_once(&symbolize_demangle_once, symbolize_demangle_init);
    if (symbolize_cxa_demangle == NULL)
        return symbolize_intern(s, raw);
    int status = -1;
    char *d = symbolize_cxa_demangle(raw, NULL, NULL, &status);
    if (d == NULL || status != 0) {
        free(d);
        return symbolize_intern(s, raw);
    }
    if (symbolize_strip_rust_hash(d))
        symbolize_rust_unescape(d);
    const char *name = symbolize_intern(s, d);
    free(d);
    return name;
}

/* ------------------------------------------------------------------ debug files on disk */

/* CRC-32 as used by .gnu_debuglink (reflected polynomial 0xedb88320). Computed here
 * because libdwelf does not export its copy. */
static uint32_t symbolize_crc_table[256];
static pthread_once_t symbolize_crc_once = PTHREAD_ONCE_INIT;

static void symbolize_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
        symbolize_crc_table[i] = c;
    }
}

static uint32_t symbolize_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    pthread_once(&symbolize_crc_once, symbolize_crc_init);
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = symbolize_crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static bool symbolize_file_crc(int fd, uint32_t *out)
{
    unsigned char buf[1 << 14];
    uint32_t crc = 0;
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        crc = symbolize_crc32(crc, buf, (size_t)n);
        off += n;
    }
    *out = crc;
    return true;
}

/* What a debug file must match to be accepted for one module. */
typedef struct symbolize_want {
    const unsigned char *build_id;
    size_t build_id_len;
    bool have_crc; /* candidates named by .gnu_debuglink may be checked by CRC */
    uint32_t crc;
    dev_t main_dev; /* the main file itself is never its own debug file */
    ino_t main_ino;
} symbolize_want;

/* A candidate is judged by build-id when both files carry one (a mismatch is final);
 * otherwise only the .gnu_debuglink CRC over the whole candidate can vouch for it. */
static bool symbolize_candidate_ok(int fd, const symbolize_want *w)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || (st.st_dev == w->main_dev && st.st_ino == w->main_ino))
        return false;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    bool is_elf = e != NULL && elf_kind(e) == ELF_K_ELF;
    const void *id = NULL;
    ssize_t idlen = is_elf ? dwelf_elf_gnu_build_id(e, &id) : -1;
    bool by_id = is_elf && w->build_id_len > 0 && idlen > 0;
    bool ok = by_id && (size_t)idlen == w->build_id_len
              && memcmp(id, w->build_id, w->build_id_len) == 0;
    elf_end(e);
    if (is_elf && !by_id && w->have_crc) {
        uint32_t crc;
        ok = symbolize_file_crc(fd, &crc) && crc == w->crc;
    }
    return ok;
}

/* Opens path for reading only if it is a regular file. O_NONBLOCK: a FIFO planted where a
 * module or debug file was expected must not hang the process at exit. */
static int symbolize_open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens path if it is an acceptable debug file; on success hands dwfl a malloc'd name. */
static int symbolize_try_debug(const char *path, const symbolize_want *w, char **name_out)
{
    int fd = symbolize_open_regular(path);
    if (fd < 0)
        return -1;
    if (!symbolize_candidate_ok(fd, w)) {
        close(fd);
        return -1;
    }
    *name_out = strdup(path);
    return fd;
}

static int symbolize_try_build_id(const symbolize_want *w, char **name_out)
{
    if (w->build_id_len < 2 || w->build_id_len > 64)
        return -1;
    char path[sizeof SYMBOLIZE_DEBUG_ROOT + sizeof "/.build-id/xx/" + 128 + sizeof ".debug"];
    int n = snprintf(path, sizeof path, SYMBOLIZE_DEBUG_ROOT "/.build-id/%02x/",
                     w->build_id[0]);
    for (size_t i = 1; i < w->build_id_len; i++)
        n += snprintf(path + n, sizeof path - (size_t)n, "%02x", w->build_id[i]);
    snprintf(path + n, sizeof path - (size_t)n, ".debug");
    return symbolize_try_debug(path, w, name_out);
}

/* The places gdb and elfutils look for a .gnu_debuglink name, for one directory. */
static int symbolize_try_link_in(const char *dir, const char *link, const symbolize_want *w,
                                 char **name_out)
{
    static const char *const formats[] = { "%s/%s", "%s/.debug/%s",
                                           SYMBOLIZE_DEBUG_ROOT "%s/%s" };
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (i == 2 && dir[0] != '/' && dir[0] != '\0')
            continue; /* the debug tree mirrors absolute directories only */
        int n = snprintf(path, sizeof path, formats[i], dir, link);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        int fd = symbolize_try_debug(path, w, name_out);
        if (fd >= 0)
            return fd;
    }
    return -1;
}

static int symbolize_try_debuglink(const char *file_name, const char *link,
                                   const symbolize_want *w, char **name_out)
{
    /* Both the registered path's directory and its resolved one: loaders report paths
     * through symlinks (/lib -> /usr/lib) that debug trees may not mirror. */
    char *dirs[2] = { strdup(file_name), realpath(file_name, NULL) };
    int fd = -1;
    for (int i = 0; i < 2 && fd < 0; i++) {
        if (dirs[i] == NULL || (i == 1 && dirs[0] != NULL && strcmp(dirs[0], dirs[1]) == 0))
            continue;
        char *slash = strrchr(dirs[i], '/');
        const char *dir = ".";
        if (slash == dirs[i])
            dir = "";
        else if (slash != NULL) {
            *slash = '\0';
            dir = dirs[i];
        }
        fd = symbolize_try_link_in(dir, link, w, name_out);
    }
    free(dirs[0]);
    free(dirs[1]);
    return fd;
}

/* Dwfl find_elf: hands over the Elf that symbolize_module_load opened; never searches. */
static int symbolize_find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
                              Dwarf_Addr base, char **file_name, Elf **elfp)
{
    (void)mod, (void)modname, (void)base;
    symbolize_module *m = *userdata;
    if (m == NULL || m->pending_elf == NULL)
        return -1;
    *elfp = m->pending_elf;
    m->pending_elf = NULL;
    int fd = m->pending_fd;
    m->pending_fd = -1;
    if (m->image == NULL && m->path != NULL)
        *file_name = strdup(m->path); /* lets dwfl name the file; it frees it */
    return fd;
}

/* Dwfl find_debuginfo: disk only. dwfl also calls this for a dwz alternate file
 * (.gnu_debugaltlink, crc 0); we decline that one and libdw then looks on disk itself
 * (/usr/lib/debug/.build-id and the alt path), so the module's own debug file is never
 * mistaken for its alternate. */
static int symbolize_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                                    Dwarf_Addr base, const char *file_name,
                                    const char *debuglink_file, GElf_Word debuglink_crc,
                                    char **debuginfo_file_name)
{
    (void)mod, (void)modname, (void)base;
    symbolize_module *m = *userdata;
    if (m == NULL || m->main_elf == NULL)
        return -1;
    GElf_Word own_crc = 0;
    const char *own_link = dwelf_elf_gnu_debuglink(m->main_elf, &own_crc);
    if (debuglink_file != NULL
        && (own_link == NULL || strcmp(own_link, debuglink_file) != 0 || own_crc != debuglink_crc))
        return -1;
    symbolize_want w = { .have_crc = debuglink_file != NULL, .crc = debuglink_crc };
    const void *id = NULL;
    ssize_t idlen = dwelf_elf_gnu_build_id(m->main_elf, &id);
    if (idlen > 0) {
        w.build_id = id;
        w.build_id_len = (size_t)idlen;
    }
    struct stat st;
    if (file_name != NULL && stat(file_name, &st) == 0) {
        w.main_dev = st.st_dev;
        w.main_ino = st.st_ino;
    }
    int fd = symbolize_try_build_id(&w, debuginfo_file_name);
    if (fd < 0 && debuglink_file != NULL && file_name != NULL)
        fd = symbolize_try_debuglink(file_name, debuglink_file, &w, debuginfo_file_name);
    return fd;
}

static const Dwfl_Callbacks symbolize_callbacks = {
    .find_elf = symbolize_find_elf,
    .find_debuginfo = symbolize_find_debuginfo,
    /* Only reached for ET_REL, which we refuse; set so a surprise cannot call NULL. */
    .section_address = dwfl_offline_section_address,
};

/* ------------------------------------------------------------------ modules */

/* Address range dwfl will compute for this ELF: from the first PT_LOAD's p_vaddr rounded
 * down to its alignment (dwfl's own rule, so its bias comes out equal to ours) to the
 * highest segment end. Only executables and shared objects: ET_REL would need section
 * placement and ET_CORE is not code. */
static bool symbolize_load_range(Elf *e, uint64_t *lo, uint64_t *hi)
{
    GElf_Ehdr eh;
    size_t phnum;
    if (gelf_getehdr(e, &eh) == NULL || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        || elf_getphdrnum(e, &phnum) != 0)
        return false;
    bool seen = false;
    *lo = *hi = 0;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) == NULL)
            return false;
        if (ph.p_type != PT_LOAD)
            continue;
        if (!seen)
            *lo = ph.p_vaddr & -ph.p_align;
        seen = true;
        if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
            return false;
        if (ph.p_vaddr + ph.p_memsz > *hi)
            *hi = ph.p_vaddr + ph.p_memsz;
    }
    return seen && *hi > *lo;
}

static bool symbolize_open_elf(symbolize_module *m)
{
    if (m->image != NULL) {
        m->pending_elf = elf_memory(m->image, m->image_size);
        return m->pending_elf != NULL;
    }
    if (m->path == NULL)
        return false;
    int fd = symbolize_open_regular(m->path);
    if (fd < 0)
        return false;
    m->pending_elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (m->pending_elf == NULL || elf_kind(m->pending_elf) != ELF_K_ELF) {
        elf_end(m->pending_elf);
        m->pending_elf = NULL;
        close(fd);
        return false;
    }
    /* The file is mapped whole (or, if mmap failed, read in now), so the descriptor can go:
     * a host with hundreds of libraries must not run out of descriptors at exit. */
    if (elf_cntl(m->pending_elf, ELF_C_FDREAD) == 0)
        close(fd);
    else
        m->pending_fd = fd;
    return true;
}

/* Releases whatever dwfl never took over (find_elf not reached), then the Dwfl itself. */
static void symbolize_module_close(symbolize_module *m)
{
    if (m->pending_elf != NULL)
        elf_end(m->pending_elf);
    if (m->pending_fd >= 0)
        close(m->pending_fd);
    m->pending_elf = NULL;
    m->pending_fd = -1;
    if (m->dwfl != NULL)
        dwfl_end(m->dwfl);
    m->dwfl = NULL;
    m->dmod = NULL;
    m->main_elf = NULL;
}

/* One Dwfl per module, so modules loaded at the same addresses at different times never
 * shadow each other. The module is reported with dwfl_report_module and our find_elf
 * hands over an Elf we opened (O_CLOEXEC, no transparent decompression), which keeps the
 * ownership of fd and Elf unambiguous on every failure path. */
static bool symbolize_module_report(symbolize_module *m)
{
    uint64_t lo, hi;
    if (!symbolize_open_elf(m) || !symbolize_load_range(m->pending_elf, &lo, &hi)
        || m->bias + lo < m->bias || m->bias + hi < m->bias)
        return false;
    m->main_elf = m->pending_elf;
    m->dwfl = dwfl_begin(&symbolize_callbacks);
    if (m->dwfl == NULL)
        return false;
    dwfl_report_begin(m->dwfl);
    Dwfl_Module *d = dwfl_report_module(m->dwfl, m->base, m->bias + lo, m->bias + hi);
    void **userdata = NULL;
    if (d != NULL && dwfl_module_info(d, &userdata, NULL, NULL, NULL, NULL, NULL, NULL) != NULL)
        *userdata = m;
    if (dwfl_report_end(m->dwfl, NULL, NULL) != 0 || d == NULL || userdata == NULL)
        return false;
    GElf_Addr bias = 0;
    if (dwfl_module_getelf(d, &bias) != m->main_elf || bias != m->bias)
        return false;
    m->dmod = d;
    return true;
}

static void symbolize_symtab_build(symbolize_module *m);

static void symbolize_module_load(symbolize_module *m)
{
    if (!symbolize_module_report(m)) {
        symbolize_module_close(m);
        m->state = SYMBOLIZE_BROKEN;
        return;
    }
    symbolize_symtab_build(m);
    m->state = SYMBOLIZE_READY;
}

/* ------------------------------------------------------------------ ELF symbol tables */

static const symbolize_span *symbolize_span_at(const void *base, size_t stride, size_t i)
{
    return (const symbolize_span *)((const char *)base + i * stride);
}

/* Index of the element (array sorted by span.lo) whose span holds a, or SIZE_MAX. Spans
 * may nest (an asm entry point inside a bigger symbol, a function's hot and cold parts):
 * the latest start wins, and a bounded walk back finds an enclosing span. */
static size_t symbolize_span_find(const void *base, size_t n, size_t stride, uint64_t a)
{
    size_t lo = 0, hi = n; /* first element starting after a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (symbolize_span_at(base, stride, mid)->lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, steps = 0; i > 0 && steps < SYMBOLIZE_NEST_WALK; i--, steps++)
        if (a < symbolize_span_at(base, stride, i - 1)->hi)
            return i - 1;
    return SIZE_MAX;
}

static int symbolize_span_cmp(const void *pa, const void *pb)
{
    const symbolize_span *a = pa, *b = pb;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}

typedef struct symbolize_cand {
    uint64_t start, size;
    uint64_t limit; /* end of the symbol's section, 0 if unknown */
    const char *raw;
    int bind_rank;
} symbolize_cand;

static int symbolize_bind_rank(int bind)
{
    /* Aliases at one address: the exported name is the one users know. */
    switch (bind) {
    case STB_GLOBAL:
        return 3;
    case STB_WEAK:
        return 2;
    default:
        return 1;
    }
}

static size_t symbolize_underscores(const char *s)
{
    size_t n = 0;
    while (s[n] == '_')
        n++;
    return n;
}

/* Sort by address, best alias first: global, sized, fewer leading underscores, shorter,
 * then alphabetical so the choice never depends on symbol table order. */
static int symbolize_cand_cmp(const void *pa, const void *pb)
{
    const symbolize_cand *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->bind_rank != b->bind_rank)
        return b->bind_rank - a->bind_rank;
    if ((a->size != 0) != (b->size != 0))
        return a->size != 0 ? -1 : 1;
    size_t ua = symbolize_underscores(a->raw), ub = symbolize_underscores(b->raw);
    if (ua != ub)
        return ua < ub ? -1 : 1;
    size_t la = strlen(a->raw), lb = strlen(b->raw);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a->raw, b->raw);
}

typedef struct symbolize_sec_memo {
    Elf *elf;
    GElf_Word shndx;
    Dwarf_Addr bias;
    uint64_t end;
} symbolize_sec_memo;

/* End address of the allocated section holding a symbol: the bound for size-0 symbols.
 * Memoized because symbols come grouped by section. */
static uint64_t symbolize_section_end(symbolize_sec_memo *memo, Elf *elf, GElf_Word shndx,
                                      Dwarf_Addr bias)
{
    if (memo->elf == elf && memo->shndx == shndx && memo->bias == bias)
        return memo->end;
    uint64_t end = 0;
    GElf_Shdr sh;
    Elf_Scn *scn = elf != NULL ? elf_getscn(elf, shndx) : NULL;
    if (scn != NULL && gelf_getshdr(scn, &sh) != NULL && (sh.sh_flags & SHF_ALLOC))
        end = sh.sh_addr + sh.sh_size + bias;
    *memo = (symbolize_sec_memo){ elf, shndx, bias, end };
    return end;
}

static bool symbolize_is_function(const GElf_Sym *sym, GElf_Word shndx, const char *name)
{
    int type = GELF_ST_TYPE(sym->st_info);
    return name != NULL && name[0] != '\0' && (type == STT_FUNC || type == STT_GNU_IFUNC)
           && shndx != SHN_UNDEF && shndx != (GElf_Word)-1 && shndx != SHN_ABS;
}

/* All function symbols of .symtab (main or separate debug file), else .dynsym, plus
 * MiniDebugInfo when dwfl found it: dwfl_module_getsymtab picks the best table. */
static symbolize_cand *symbolize_collect(symbolize_module *m, size_t *count)
{
    *count = 0;
    int n = dwfl_module_getsymtab(m->dmod);
    if (n <= 0)
        return NULL;
    symbolize_cand *c = malloc((size_t)n * sizeof *c);
    if (c == NULL)
        return NULL;
    symbolize_sec_memo memo = { 0 };
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf = NULL;
        Dwarf_Addr bias = 0;
        const char *name = dwfl_module_getsym_info(m->dmod, i, &sym, &addr, &shndx, &elf, &bias);
        if (!symbolize_is_function(&sym, shndx, name))
            continue;
        c[(*count)++] = (symbolize_cand){
            .start = addr,
            .size = sym.st_size,
            .limit = symbolize_section_end(&memo, elf, shndx, bias),
            .raw = name,
            .bind_rank = symbolize_bind_rank(GELF_ST_BIND(sym.st_info)),
        };
    }
    return c;
}

/* End of a size-0 symbol: the next symbol, but never past its section or the module. */
static uint64_t symbolize_unsized_end(const symbolize_cand *c, size_t i, size_t n,
                                      uint64_t module_end)
{
    uint64_t end = c[i].limit > c[i].start ? c[i].limit : module_end;
    for (size_t j = i + 1; j < n; j++)
        if (c[j].start > c[i].start) {
            if (c[j].start < end)
                end = c[j].start;
            break;
        }
    return end > c[i].start ? end : c[i].start + 1;
}

static void symbolize_symtab_build(symbolize_module *m)
{
    size_t n;
    symbolize_cand *c = symbolize_collect(m, &n);
    if (c == NULL || n == 0 || (m->syms = malloc(n * sizeof *m->syms)) == NULL) {
        free(c);
        return;
    }
    qsort(c, n, sizeof *c, symbolize_cand_cmp);
    Dwarf_Addr module_end = 0;
    dwfl_module_info(m->dmod, NULL, NULL, &module_end, NULL, NULL, NULL, NULL);
    for (size_t i = 0; i < n;) {
        size_t group = i;
        uint64_t size = 0;
        for (; i < n && c[i].start == c[group].start; i++)
            if (c[i].size > size)
                size = c[i].size; /* an unsized alias must not shrink a sized one */
        uint64_t end = size ? c[group].start + size
                            : symbolize_unsized_end(c, group, n, module_end);
        if (end < c[group].start)
            end = UINT64_MAX;
        m->syms[m->nsyms++] = (symbolize_sym){ { c[group].start, end }, c[group].raw, NULL };
    }
    free(c);
}

static symbolize_sym *symbolize_symtab_lookup(symbolize_module *m, uint64_t a)
{
    size_t i = symbolize_span_find(m->syms, m->nsyms, sizeof *m->syms, a);
    return i != SIZE_MAX ? &m->syms[i] : NULL;
}

/* ------------------------------------------------------------------ DWARF inline chains */

static bool symbolize_cu_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolize_module *m = ctx;
    return m->cus[idx].key == key;
}

static bool symbolize_fn_push(symbolize_fn_range **v, size_t *n, size_t *cap,
                              const symbolize_fn_range *r)
{
    symbolize_fn_range *grown = symbolize_reserve(*v, cap, *n + 1, sizeof **v);
    if (grown == NULL)
        return false;
    *v = grown;
    grown[(*n)++] = *r;
    return true;
}

static bool symbolize_is_scope_holder(int tag)
{
    /* Where compilers may nest out-of-line function definitions. */
    return tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_class_type
           || tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static void symbolize_cu_collect(Dwarf_Die *parent, int depth, symbolize_fn_range **v,
                                 size_t *n, size_t *cap)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0)
        return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_subprogram) {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
                if (hi > lo && !symbolize_fn_push(v, n, cap, &(symbolize_fn_range){ { lo, hi }, child }))
                    return;
        } else if (depth < 8 && symbolize_is_scope_holder(tag)) {
            symbolize_cu_collect(&child, depth + 1, v, n, cap);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

/* The CU's function ranges, sorted, built on first use: dwarf_getscopes rescans every
 * top-level DIE of the CU per address, which is slow for big C++ CUs. */
static symbolize_cu *symbolize_cu_get(symbolize_module *m, Dwarf_Die *cudie)
{
    const void *key = cudie->addr;
    uint32_t h = symbolize_hash64((uint64_t)(uintptr_t)key);
    symbolize_slot *hit = symbolize_htab_find(&m->cu_index, h, symbolize_cu_eq, m, key);
    if (hit != NULL)
        return &m->cus[hit->idx1 - 1];
    symbolize_cu *cus = symbolize_reserve(m->cus, &m->cus_cap, m->ncus + 1, sizeof *cus);
    if (cus == NULL)
        return NULL;
    m->cus = cus;
    symbolize_cu *cu = &cus[m->ncus];
    *cu = (symbolize_cu){ .key = key };
    size_t cap = 0;
    symbolize_cu_collect(cudie, 0, &cu->fns, &cu->nfns, &cap);
    if (cu->nfns > 1)
        qsort(cu->fns, cu->nfns, sizeof *cu->fns, symbolize_span_cmp);
    if (!symbolize_htab_insert(&m->cu_index, h, (uint32_t)m->ncus)) {
        free(cu->fns);
        return NULL;
    }
    return &m->cus[m->ncus++];
}

static bool symbolize_is_code_scope(int tag)
{
    return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block
           || tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

static bool symbolize_tree_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolize_module *m = ctx;
    return m->trees[idx].key == key;
}

/* Appends die's children's ranges (kids) to the tree as one sorted run owned by scope. */
static void symbolize_tree_adopt(symbolize_fn_tree *t, uint32_t scope, symbolize_scope_range *kids,
                                 size_t nkids)
{
    if (nkids == 0)
        return;
    symbolize_scope_range *r = symbolize_reserve(t->ranges, &t->ranges_cap, t->nranges + nkids,
                                                 sizeof *r);
    if (r == NULL)
        return; /* the scope just shows no inlined callees */
    t->ranges = r;
    qsort(kids, nkids, sizeof *kids, symbolize_span_cmp);
    memcpy(&r[t->nranges], kids, nkids * sizeof *kids);
    t->scopes[scope].first = t->nranges;
    t->scopes[scope].count = nkids;
    t->nranges += nkids;
}

/* Adds die and, recursively, the code scopes under it; returns its index or UINT32_MAX.
 * Depth is bounded so corrupt DWARF cannot exhaust the stack. */
static uint32_t symbolize_tree_add(symbolize_fn_tree *t, Dwarf_Die *die, int depth)
{
    symbolize_scope *scopes = symbolize_reserve(t->scopes, &t->scopes_cap, t->nscopes + 1,
                                                sizeof *scopes);
    if (scopes == NULL || t->nscopes >= UINT32_MAX)
        return UINT32_MAX;
    t->scopes = scopes;
    uint32_t self = (uint32_t)t->nscopes++;
    scopes[self] = (symbolize_scope){ *die, 0, 0, dwarf_tag(die) == DW_TAG_inlined_subroutine };
    symbolize_scope_range *kids = NULL;
    size_t nkids = 0, cap = 0;
    Dwarf_Die child;
    if (depth < 256 && dwarf_child(die, &child) == 0) {
        do {
            if (!symbolize_is_code_scope(dwarf_tag(&child)))
                continue;
            uint32_t idx = symbolize_tree_add(t, &child, depth + 1);
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while (idx != UINT32_MAX && (off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
                if (hi <= lo)
                    continue;
                symbolize_scope_range *grown = symbolize_reserve(kids, &cap, nkids + 1, sizeof *kids);
                if (grown == NULL)
                    break;
                kids = grown;
                kids[nkids++] = (symbolize_scope_range){ { lo, hi }, idx };
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    symbolize_tree_adopt(t, self, kids, nkids);
    free(kids);
    return self;
}

static symbolize_fn_tree *symbolize_tree_get(symbolize_module *m, Dwarf_Die *fn)
{
    const void *key = fn->addr;
    uint32_t h = symbolize_hash64((uint64_t)(uintptr_t)key);
    symbolize_slot *hit = symbolize_htab_find(&m->tree_index, h, symbolize_tree_eq, m, key);
    if (hit != NULL)
        return &m->trees[hit->idx1 - 1];
    symbolize_fn_tree *trees = symbolize_reserve(m->trees, &m->trees_cap, m->ntrees + 1,
                                                 sizeof *trees);
    if (trees == NULL)
        return NULL;
    m->trees = trees;
    symbolize_fn_tree *t = &trees[m->ntrees];
    *t = (symbolize_fn_tree){ .key = key };
    if (symbolize_tree_add(t, fn, 0) == UINT32_MAX
        || !symbolize_htab_insert(&m->tree_index, h, (uint32_t)m->ntrees)) {
        free(t->scopes);
        free(t->ranges);
        return NULL;
    }
    return &m->trees[m->ntrees++];
}

static void symbolize_cu_ranges_build(symbolize_module *m)
{
    m->cu_ranges_built = true;
    Dwarf *dw = dwfl_module_getdwarf(m->dmod, &m->dwbias);
    size_t cap = 0;
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    while (dw != NULL && dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
        Dwarf_Addr base, lo, hi;
        ptrdiff_t off = 0;
        while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
            if (hi <= lo)
                continue;
            symbolize_cu_range *grown = symbolize_reserve(m->cu_ranges, &cap, m->ncu_ranges + 1,
                                                          sizeof *grown);
            if (grown == NULL)
                break;
            m->cu_ranges = grown;
            grown[m->ncu_ranges++] = (symbolize_cu_range){ { lo, hi }, cudie };
        }
    }
    if (m->ncu_ranges > 1)
        qsort(m->cu_ranges, m->ncu_ranges, sizeof *m->cu_ranges, symbolize_span_cmp);
}

/* The CU holding address a, through .debug_aranges (dwfl) or else our own CU ranges. */
static bool symbolize_cu_covers(Dwarf_Die *cudie, Dwarf_Addr a)
{
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(cudie, off, &base, &lo, &hi)) > 0)
        if (a >= lo && a < hi)
            return true;
    return false;
}

static Dwarf_Die *symbolize_cu_at(symbolize_module *m, uint64_t a, Dwarf_Addr *bias)
{
    /* .debug_aranges may name the wrong unit: in a cgo-built Go program it gave a C unit
     * (gcc_mmap.c) for Go code. A unit that does not cover a is not taken. */
    Dwarf_Die *cudie = dwfl_module_addrdie(m->dmod, a, bias);
    if (cudie != NULL && symbolize_cu_covers(cudie, a - *bias))
        return cudie;
    if (!m->cu_ranges_built)
        symbolize_cu_ranges_build(m);
    size_t i = symbolize_span_find(m->cu_ranges, m->ncu_ranges, sizeof *m->cu_ranges,
                                   a - m->dwbias);
    if (i == SIZE_MAX)
        return NULL;
    *bias = m->dwbias;
    return &m->cu_ranges[i].cudie;
}

/* DIEs for address a: the containing subprogram, then each inlined_subroutine on the way
 * down, outermost first. Returns how many were written (0 without DWARF). */
static size_t symbolize_dwarf_chain(symbolize_module *m, uint64_t a, Dwarf_Die *out,
                                    size_t cap)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = symbolize_cu_at(m, a, &bias);
    symbolize_cu *cu = cudie != NULL && cap > 0 ? symbolize_cu_get(m, cudie) : NULL;
    if (cu == NULL)
        return 0;
    a -= bias;
    size_t i = symbolize_span_find(cu->fns, cu->nfns, sizeof *cu->fns, a);
    symbolize_fn_tree *t = i != SIZE_MAX ? symbolize_tree_get(m, &cu->fns[i].die) : NULL;
    if (t == NULL)
        return 0;
    size_t n = 0;
    out[n++] = t->scopes[0].die;
    for (uint32_t scope = 0;;) {
        const symbolize_scope *sc = &t->scopes[scope];
        if (sc->count == 0)
            break;
        size_t k = symbolize_span_find(&t->ranges[sc->first], sc->count, sizeof *t->ranges, a);
        /* Children always come after their parent, so this descent ends. */
        if (k == SIZE_MAX || t->ranges[sc->first + k].scope <= scope)
            break;
        scope = t->ranges[sc->first + k].scope;
        if (t->scopes[scope].inlined && n < cap)
            out[n++] = t->scopes[scope].die;
    }
    return n;
}

static bool symbolize_alias_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolize_module *m = ctx;
    return m->aliases[idx].raw == key;
}

static const char *symbolize_display_memo(symbolizer *s, symbolize_module *m, const char *raw)
{
    uint32_t h = symbolize_hash64((uint64_t)(uintptr_t)raw);
    symbolize_slot *hit = symbolize_htab_find(&m->alias_index, h, symbolize_alias_eq, m, raw);
    if (hit != NULL)
        return m->aliases[hit->idx1 - 1].name;
    const char *name = symbolize_display_name(s, raw);
    symbolize_alias *grown = symbolize_reserve(m->aliases, &m->aliases_cap, m->naliases + 1,
                                               sizeof *grown);
    if (name == NULL || grown == NULL)
        return name;
    m->aliases = grown;
    if (symbolize_htab_insert(&m->alias_index, h, (uint32_t)m->naliases))
        grown[m->naliases++] = (symbolize_alias){ raw, name };
    return name;
}

/* Name of a subprogram or inlined call: the linkage name (demangled, fully qualified for
 * C++) through abstract_origin/specification, else the plain name. */
static const char *symbolize_die_name(symbolizer *s, symbolize_module *m, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != NULL
        || dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != NULL)
        name = dwarf_formstring(&attr);
    if (name == NULL && dwarf_attr_integrate(die, DW_AT_name, &attr) != NULL)
        name = dwarf_formstring(&attr);
    return name != NULL && name[0] != '\0' ? symbolize_display_memo(s, m, name) : NULL;
}

/* ------------------------------------------------------------------ resolving */

static const char *symbolize_offset_name(symbolizer *s, const symbolize_module *m, uint64_t pc)
{
    if (pc < m->bias)
        return symbolize_unknown;
    size_t len = strlen(m->base) + sizeof "+0x" + 16;
    char *buf = malloc(len);
    if (buf == NULL)
        return symbolize_unknown;
    snprintf(buf, len, "%s+0x%" PRIx64, m->base, pc - m->bias);
    const char *name = symbolize_intern(s, buf);
    free(buf);
    return name != NULL ? name : symbolize_unknown;
}

static const char *symbolize_sym_name(symbolizer *s, symbolize_sym *sym)
{
    if (sym->name != NULL)
        return sym->name;
    /* .symtab keeps symbol versions ("fsetpos@@GLIBC_2.2.5"); the version is not part of
     * the function's name and would split one function into several frames. */
    const char *at = strchr(sym->raw + 1, '@');
    if (at == NULL) {
        sym->name = symbolize_display_name(s, sym->raw);
        return sym->name;
    }
    char *bare = strndup(sym->raw, (size_t)(at - sym->raw));
    if (bare != NULL)
        sym->name = symbolize_display_name(s, bare);
    free(bare);
    return sym->name;
}

/* All frames for one address, outermost first; at least one. */
static size_t symbolize_resolve(symbolizer *s, symbolize_module *m, uint64_t pc,
                                bool is_return, symbolize_frame *out)
{
    if (m->state == SYMBOLIZE_UNLOADED)
        symbolize_module_load(m);
    if (m->state != SYMBOLIZE_READY) {
        out[0] = (symbolize_frame){ symbolize_offset_name(s, m, pc), false };
        return 1;
    }
    /* A return address points after the call; the call itself may be the last
     * instruction of a function or of an inlined block. */
    uint64_t a = is_return && pc > 0 ? pc - 1 : pc;
    symbolize_sym *sym = symbolize_symtab_lookup(m, a);
    Dwarf_Die chain[SYMBOLIZE_MAX_FRAMES];
    size_t nchain = symbolize_dwarf_chain(m, a, chain, SYMBOLIZE_MAX_FRAMES);
    const char *outer = sym != NULL ? symbolize_sym_name(s, sym) : NULL;
    if (outer == NULL && nchain > 0)
        outer = symbolize_die_name(s, m, &chain[0]);
    if (outer == NULL)
        outer = symbolize_offset_name(s, m, pc);
    size_t n = 0;
    out[n++] = (symbolize_frame){ outer, false };
    for (size_t i = 1; i < nchain; i++) {
        const char *name = symbolize_die_name(s, m, &chain[i]);
        if (name != NULL)
            out[n++] = (symbolize_frame){ name, true };
    }
    return n;
}

/* ------------------------------------------------------------------ cache */

typedef struct symbolize_cache_key {
    uint64_t pc;
    uint32_t module;
    bool is_return;
} symbolize_cache_key;

static bool symbolize_cache_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolizer *s = ctx;
    const symbolize_cache_key *k = key;
    const symbolize_cached *c = &s->cached[idx];
    return c->pc == k->pc && c->module == k->module && c->is_return == k->is_return;
}

static uint32_t symbolize_cache_hash(const symbolize_cache_key *k)
{
    return symbolize_hash64(k->pc ^ ((uint64_t)k->module << 40) ^ ((uint64_t)k->is_return << 63));
}

static const symbolize_cached *symbolize_cache_find(const symbolizer *s,
                                                    const symbolize_cache_key *k)
{
    symbolize_slot *hit = symbolize_htab_find(&s->cache_index, symbolize_cache_hash(k),
                                              symbolize_cache_eq, s, k);
    return hit != NULL ? &s->cached[hit->idx1 - 1] : NULL;
}

/* Remembers frames for k; on allocation failure the result is simply not cached. */
static void symbolize_cache_store(symbolizer *s, const symbolize_cache_key *k,
                                  const symbolize_frame *f, size_t n)
{
    symbolize_cached *cached = symbolize_reserve(s->cached, &s->cached_cap, s->ncached + 1,
                                                 sizeof *cached);
    if (cached == NULL)
        return;
    s->cached = cached;
    symbolize_frame *frames = symbolize_reserve(s->frames, &s->frames_cap, s->nframes + n,
                                                sizeof *frames);
    if (frames == NULL)
        return;
    s->frames = frames;
    if (!symbolize_htab_insert(&s->cache_index, symbolize_cache_hash(k), (uint32_t)s->ncached))
        return;
    memcpy(&frames[s->nframes], f, n * sizeof *f);
    cached[s->ncached++] = (symbolize_cached){ k->pc, k->module, (uint32_t)s->nframes,
                                               (uint16_t)n, k->is_return };
    s->nframes += n;
}

/* ------------------------------------------------------------------ public API */

static bool symbolize_module_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolizer *s = ctx;
    return s->modules[idx]->id == *(const int *)key;
}

static uint32_t symbolize_find_module(const symbolizer *s, int id)
{
    symbolize_slot *hit = symbolize_htab_find(&s->module_index, symbolize_hash64((uint64_t)id),
                                              symbolize_module_eq, s, &id);
    return hit != NULL ? hit->idx1 - 1 : UINT32_MAX;
}

symbolizer *symbolize_new(void)
{
    /* libelf refuses every call until a version is set; harmless to repeat. */
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    return calloc(1, sizeof(symbolizer));
}

/* Everything but the registration itself; names already handed out live in the arena. */
static void symbolize_module_release(symbolize_module *m)
{
    symbolize_module_close(m);
    for (size_t i = 0; i < m->ncus; i++)
        free(m->cus[i].fns);
    free(m->cus);
    free(m->cu_index.slots);
    free(m->cu_ranges);
    for (size_t i = 0; i < m->ntrees; i++) {
        free(m->trees[i].scopes);
        free(m->trees[i].ranges);
    }
    free(m->trees);
    free(m->tree_index.slots);
    free(m->aliases);
    free(m->alias_index.slots);
    free(m->syms);
    free(m->image);
    *m = (symbolize_module){ .id = m->id, .path = m->path, .base = m->base, .bias = m->bias,
                             .state = SYMBOLIZE_BROKEN, .pending_fd = -1 };
}

static void symbolize_module_free(symbolize_module *m)
{
    symbolize_module_release(m);
    free(m->path);
    free(m);
}

void symbolize_free(symbolizer *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nmodules; i++)
        symbolize_module_free(s->modules[i]);
    free(s->modules);
    free(s->module_index.slots);
    symbolize_arena_free(s->arena);
    free(s->names);
    free(s->name_index.slots);
    free(s->cached);
    free(s->cache_index.slots);
    free(s->frames);
    free(s);
}

static symbolize_module *symbolize_module_new(int id, const char *path, uint64_t bias,
                                              const void *image, size_t image_size)
{
    symbolize_module *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    *m = (symbolize_module){ .id = id, .bias = bias, .pending_fd = -1, .base = symbolize_unknown };
    if (path != NULL && (m->path = strdup(path)) == NULL)
        goto fail;
    if (m->path != NULL && m->path[0] != '\0') {
        const char *slash = strrchr(m->path, '/');
        m->base = slash != NULL && slash[1] != '\0' ? slash + 1 : m->path;
    }
    /* Our own copy of an in-memory image: the caller's mapping may be read-only or go
     * away, and libelf is then free to read it whenever dwfl asks. */
    if (image != NULL && image_size > 0) {
        if ((m->image = malloc(image_size)) == NULL)
            goto fail;
        memcpy(m->image, image, image_size);
        m->image_size = image_size;
    } else if (image != NULL) {
        m->state = SYMBOLIZE_BROKEN;
    }
    return m;
fail:
    free(m->path);
    free(m);
    return NULL;
}

int symbolize_add_module(symbolizer *s, int id, const char *path, uint64_t bias,
                         const void *image, size_t image_size)
{
    if (s == NULL || id < 0 || s->nmodules >= UINT32_MAX - 1) {
        errno = EINVAL;
        return -1;
    }
    symbolize_module **mods = symbolize_reserve(s->modules, &s->modules_cap, s->nmodules + 1,
                                                sizeof *mods);
    if (mods == NULL)
        return -1;
    s->modules = mods;
    symbolize_module *m = symbolize_module_new(id, path, bias, image, image_size);
    if (m == NULL)
        return -1;
    uint32_t idx = (uint32_t)s->nmodules;
    uint32_t old = symbolize_find_module(s, id);
    if (old != UINT32_MAX) {
        /* Re-registration wins. Cache entries of the old one stay keyed by its index and
         * are never reached again, so its files and tables can go now. */
        symbolize_slot *slot = symbolize_htab_find(&s->module_index, symbolize_hash64((uint64_t)id),
                                                   symbolize_module_eq, s, &id);
        slot->idx1 = idx + 1;
        symbolize_module_release(s->modules[old]);
    } else if (!symbolize_htab_insert(&s->module_index, symbolize_hash64((uint64_t)id), idx)) {
        symbolize_module_free(m);
        return -1;
    }
    mods[s->nmodules++] = m;
    return 0;
}

size_t symbolize_pc(symbolizer *s, int id, uint64_t pc, bool is_return_address,
                    symbolize_frame *out, size_t max)
{
    if (out == NULL || max == 0)
        return 0;
    uint32_t idx = s != NULL ? symbolize_find_module(s, id) : UINT32_MAX;
    if (idx == UINT32_MAX) {
        out[0] = (symbolize_frame){ symbolize_unknown, false };
        return 1;
    }
    symbolize_cache_key key = { pc, idx, is_return_address };
    const symbolize_cached *hit = symbolize_cache_find(s, &key);
    if (hit != NULL) {
        size_t n = hit->nframes < max ? hit->nframes : max;
        memcpy(out, &s->frames[hit->first], n * sizeof *out);
        return n;
    }
    symbolize_frame frames[SYMBOLIZE_MAX_FRAMES];
    size_t n = symbolize_resolve(s, s->modules[idx], pc, is_return_address, frames);
    symbolize_cache_store(s, &key, frames, n);
    if (n > max)
        n = max;
    memcpy(out, frames, n * sizeof *out);
    return n;
}
