/* rbnames.c - CRuby 3.1's layout and the names of its frames. See rbnames.h. */
#include "rbnames.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "procmaps.h"
#include "config.h"
#include "frame_name.h"
#include "rbframes.h"
#include "rtframe.h"
#include "rtnames.h"
#include "test_hook.h"

/* CRuby 3.1 (x86-64) layouts: vm_core.h, iseq.h, method.h, include/ruby/internal/core. */
static const rbframes_layout layout_31 = {
    .ec_vm_stack = 0, .ec_vm_stack_size = 8, .ec_cfp = 16,
    .cfp_size = 64, .cfp_pc = 0, .cfp_iseq = 16, .cfp_ep = 32,
    .iseq_body = 16, .body_pathobj = 64, .body_label = 80, .body_lineno = 88,
    .me_called_id = 24,
};
enum {
    T_MASK = RB_T_MASK, T_IMEMO = RB_T_IMEMO,
    IMEMO_SVAR = 2, IMEMO_MENT = 6, IMEMO_ISEQ = RB_IMEMO_ISEQ,
    SVAR_CREF_OR_ME = 8, /* a method that set $~ keeps its entry inside its svar */
    ISEQ_BODY = 16,                  /* rb_iseq_t.body */
    BODY_SIZE = 4, BODY_ENCODED = 8, /* iseq_size, iseq_encoded */
    BODY_PATHOBJ = 64, BODY_LABEL = 80, BODY_LINENO = 88, BODY_READ = 96,
    ME_OWNER = 32,
    T_CLASS = 0x02, T_MODULE = 0x03, FL_SINGLETON = 1 << 12,
    CLASS_EXT = 24, EXT_IV_TBL = 8,  /* RClass.ptr, rb_classext_t.iv_tbl */
    ST_START = 4, ST_BOUND = 5, ST_ENTRIES = 6, ST_MAX_SCAN = 64, /* st_table, in words */
    NAME_MAX_LEN = RBFRAMES_STR_MAX + 1,
};

enum state { RB_ABSENT, RB_WAITING, RB_ON, RB_OFF };
static _Atomic int g_state = RB_ABSENT; /* enum state; RB_ABSENT again at VM end */
static bool g_quiet;
static rbframes_cfg g_cfg;
static uint64_t g_main_ec_slot; /* where the main thread's ruby_current_ec lives */
static uint64_t (*g_id2str)(uint64_t id);
static void *const *g_single_ractor; /* ruby_single_main_ractor: NULL once Ractors run */
static unsigned g_wait_ticks;
/* Reads of the main thread's frames that did not check out. The thread runs while they are
 * read, so a frame half pushed reads wrong now and then (the generated-methods workload:
 * about one run in ten gave up on its first tick); a layout that is not this Ruby's reads
 * wrong every time. */
static unsigned g_bad_reads;
#define RB_BAD_READS_MAX 20
static struct timespec g_ranges_at;
static uint64_t g_classpath_id; /* the ID of a class's "__classpath__" ivar; 0: unknown */

/* Reads len bytes at addr of our own memory; false (never a fault) where it is not mapped. */
static bool peek(uint64_t addr, void *dst, size_t len)
{
    struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)addr, len };
    return addr && process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static bool peek64(uint64_t addr, uint64_t *v)
{
    return peek(addr, v, 8);
}

static void say_off(const char *why)
{
    g_state = RB_OFF;
    rbframes_disable();
    if (!g_quiet)
        fprintf(stderr, "flameprof: ruby: %s; Ruby frames are not named (the VM's C functions "
                        "are)\n", why);
}

/* ---- mappings, for the handler's checks ---- */

/* Appends [lo, hi) to *rs (merged with an adjacent last range). */
static void ranges_add(unwind_ranges **rs, size_t *cap, unsigned long lo, unsigned long hi)
{
    size_t len = *rs ? (*rs)->len : 0;
    if (len && (*rs)->r[len - 1].hi == lo) {
        (*rs)->r[len - 1].hi = hi;
        return;
    }
    if (len + 1 > *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        unwind_ranges *n = realloc(*rs, sizeof **rs + ncap * sizeof n->r[0]);
        if (!n)
            return;
        *rs = n;
        *cap = ncap;
    }
    (*rs)->r[len].lo = lo;
    (*rs)->r[len].hi = hi;
    (*rs)->len = len + 1;
}

/* The writable mappings, and the other readable ones but the kernel's (frozen Strings
 * keep their bytes in libruby's read-only data). */
typedef struct maps_read {
    unwind_ranges *rw, *ro;
    size_t rw_cap, ro_cap;
} maps_read;

static bool add_readable(void *ctx, const util_mapping *m)
{
    maps_read *mr = ctx;
    if (m->perms[0] != 'r')
        return true;
    if (m->perms[1] == 'w')
        ranges_add(&mr->rw, &mr->rw_cap, m->lo, m->hi);
    else if (!strstr(m->path, "[vvar") && !strstr(m->path, "[vsyscall]"))
        ranges_add(&mr->ro, &mr->ro_cap, m->lo, m->hi);
    return true;
}

static void read_maps(unwind_ranges **rw, unwind_ranges **ro)
{
    maps_read mr = { NULL, NULL, 0, 0 };
    util_procmaps_each(add_readable, &mr);
    *rw = mr.rw;
    *ro = mr.ro;
}

static void publish_ranges(void)
{
    unwind_ranges *rw, *ro;
    read_maps(&rw, &ro);
    if (rw)
        rbframes_set_ranges(rw, ro);
    else
        free(ro);
    clock_gettime(CLOCK_MONOTONIC, &g_ranges_at);
}

/* ---- Ruby objects, read safely ---- */

static bool is_imemo(uint64_t obj, unsigned type)
{
    uint64_t flags;
    return peek64(obj, &flags) && (flags & T_MASK) == T_IMEMO && ((flags >> 12) & 15) == type;
}

/* A String's bytes, cut to cap - 1 (and RBFRAMES_STR_MAX), NUL-terminated; *hash (if
 * not NULL): the text hash of the bytes read, as the handler takes it. */
static bool read_string(uint64_t str, char *dst, size_t cap, uint64_t *hash)
{
    uint64_t h[4], len, ptr; /* flags, klass, then len and ptr, or the embedded bytes */
    if (!peek(str, h, sizeof h) || !rbframes_string_span(str, h, &ptr, &len))
        return false;
    if (len >= cap)
        len = cap - 1;
    if (len && !peek(ptr, dst, len))
        return false;
    dst[len] = 0;
    if (hash)
        *hash = util_text_hash(1, dst, len);
    return true;
}

/* pathobj: a String, or an Array [path, realpath]. */
static bool read_path(uint64_t pathobj, char *dst, size_t cap, uint64_t *hash)
{
    uint64_t h[5], at;
    bool indirect;
    if (!peek(pathobj, h, sizeof h) || !rbframes_path_string(pathobj, h, &at, &indirect) ||
        (indirect && !peek64(at, &at)))
        return false;
    return read_string(at, dst, cap, hash);
}

/* ---- class names: the "__classpath__" String in the class's ivar table ---- */

/* The value of key in a class's iv_tbl (an st_table), scanning at most ST_MAX_SCAN
 * entries; with key 0, the first entry whose value is the String want (to learn the key). */
static uint64_t class_ivar(uint64_t klass, uint64_t key, const char *want, uint64_t *found)
{
    uint64_t flags, ext, tbl, st[7], ent[ST_MAX_SCAN * 3];
    if (!peek64(klass, &flags) || ((flags & T_MASK) != T_CLASS && (flags & T_MASK) != T_MODULE) ||
        (flags & FL_SINGLETON) || !peek64(klass + CLASS_EXT, &ext) ||
        !peek64(ext + EXT_IV_TBL, &tbl) || !peek(tbl, st, sizeof st))
        return 0;
    uint64_t n = st[ST_BOUND] - st[ST_START];
    if (st[ST_BOUND] < st[ST_START] || n > ST_MAX_SCAN ||
        !peek(st[ST_ENTRIES] + 24 * st[ST_START], ent, 24 * n))
        return 0;
    for (uint64_t i = 0; i < n; i++) { /* entries: hash, key, record */
        char s[64];
        if (key && ent[3 * i + 1] == key)
            return ent[3 * i + 2];
        if (!key && read_string(ent[3 * i + 2], s, sizeof s, NULL) && strcmp(s, want) == 0) {
            *found = ent[3 * i + 1];
            return ent[3 * i + 2];
        }
    }
    return 0;
}

static struct class_entry { uint64_t klass; char name[128]; bool ok; } class_cache[1024];

/* "Foo::Bar", or NULL (anonymous, singleton, not a class, unknown layout). */
static const char *class_name(uint64_t klass)
{
    if (!g_classpath_id || !klass)
        return NULL;
    struct class_entry *e = &class_cache[(klass >> 3) % 1024];
    if (e->klass != klass) {
        uint64_t path = class_ivar(klass, g_classpath_id, NULL, NULL);
        e->klass = klass;
        e->ok = path && read_string(path, e->name, sizeof e->name, NULL);
    }
    return e->ok ? e->name : NULL;
}

/* The class a method entry belongs to, by name. */
static const char *owner_name(uint64_t me)
{
    uint64_t owner;
    if (me && is_imemo(me, IMEMO_SVAR) && !peek64(me + SVAR_CREF_OR_ME, &me))
        return NULL;
    return me && is_imemo(me, IMEMO_MENT) && peek64(me + ME_OWNER, &owner) ? class_name(owner)
                                                                           : NULL;
}

/* "Foo#bar" for "bar", "block in Foo#bar" for "block in bar" (Ruby 3.4's spelling). */
static void qualify(char *label, size_t cap, const char *cls)
{
    char out[NAME_MAX_LEN];
    char *in = strncmp(label, "block ", 6) == 0 ? strstr(label, " in ") : NULL;
    if (!cls || label[0] == '<')
        return;
    if (in)
        snprintf(out, sizeof out, "%.*s in %s#%s", (int)(in - label), label, cls, in + 4);
    else
        snprintf(out, sizeof out, "%s#%s", cls, label);
    snprintf(label, cap, "%s", out);
}

/* ---- names, cached by object while it stays the same object ---- */

enum { CACHE = 4096 };
static struct iseq_entry { uint64_t iseq, ident, me; uint32_t id; } iseq_cache[CACHE];
static struct cfunc_entry { uint64_t me, mid; uint32_t id; } cfunc_cache[CACHE];

static uint32_t intern_name(const char *label, const char *path, long line)
{
    char raw[NAME_MAX_LEN * 2 + 32], name[sizeof raw];
    int n = path && line > 0 ? snprintf(raw, sizeof raw, "%s (%s:%ld)_[r]", label, path, line)
          : path ? snprintf(raw, sizeof raw, "%s (%s)_[r]", label, path)
                 : snprintf(raw, sizeof raw, "%s_[r]", label);
    if (n < 0)
        return UINT32_MAX;
    size_t len = (size_t)n < sizeof raw ? (size_t)n : sizeof raw - 1;
    for (size_t i = 0; i < len; i++)
        name[i] = util_frame_char((unsigned char)raw[i]);
    return rtnames_intern(name, len);
}

/* The label, path and first line of the iseq body b, if they are the text the handler
 * identified (ident). */
static bool read_texts(const uint64_t *b, uint64_t ident, char *label, char *path, size_t cap)
{
    uint64_t lh, ph;
    return read_string(b[BODY_LABEL / 8], label, cap, &lh) &&
           read_path(b[BODY_PATHOBJ / 8], path, cap, &ph) &&
           rbframes_ident(lh, ph, b[BODY_LINENO / 8]) == ident;
}

/* The name of the iseq the handler saw running with identity ident. The program runs on
 * while this reads (nothing stops it), so the iseq, its body and their Strings can be
 * freed and their memory reused between the sample and any byte read here (a freed
 * object's stale fields even still check out): the checks that it is an iseq holding the
 * sampled pc only save reading texts that cannot match; the name is kept only if its text
 * hashes to what the handler hashed from the live objects. */
static uint32_t iseq_name(uint64_t iseq, uint64_t pc, uint64_t me, uint64_t ident)
{
    struct iseq_entry *e = &iseq_cache[(iseq >> 3) % CACHE];
    if (e->iseq == iseq && e->ident == ident && e->me == me)
        return e->id; /* the same text: the same name */
    uint64_t body, b[BODY_READ / 8];
    if (!is_imemo(iseq, IMEMO_ISEQ) || !peek64(iseq + ISEQ_BODY, &body) ||
        !peek(body, b, sizeof b))
        return UINT32_MAX;
    uint64_t lo = b[BODY_ENCODED / 8], hi = lo + 8 * (b[BODY_SIZE / 8] >> 32);
    if (pc < lo || pc > hi) /* not this iseq's code: freed and reused since the sample */
        return UINT32_MAX;
    char label[NAME_MAX_LEN], path[NAME_MAX_LEN];
    if (util_test_name_delay_us()) { /* pause only where a name would have been taken */
        if (!read_texts(b, ident, label, path, sizeof label))
            return UINT32_MAX;
        util_test_name_delay();
    }
    if (!read_texts(b, ident, label, path, sizeof label))
        return UINT32_MAX;
    qualify(label, sizeof label, owner_name(me));
    uint64_t line = b[BODY_LINENO / 8];
    uint32_t id = intern_name(label, path, (line & 1) ? (long)((int64_t)line >> 1) : 0);
    *e = (struct iseq_entry){ iseq, ident, me, id };
    return id;
}

/* A C function frame's name: the ID the handler read from its method entry (mid), the
 * class from the entry now. */
static uint32_t cfunc_name(uint64_t me, uint64_t mid)
{
    uint64_t str;
    struct cfunc_entry *e = &cfunc_cache[(me >> 3) % CACHE];
    if (e->me == me && e->mid == mid)
        return e->id;
    /* rb_id2str only reads the symbol table, lock-free while one Ractor runs. */
    char label[NAME_MAX_LEN];
    if (!g_id2str || !*g_single_ractor || !(str = g_id2str(mid)) ||
        !read_string(str, label, sizeof label, NULL))
        return UINT32_MAX;
    qualify(label, sizeof label, owner_name(me));
    uint32_t id = intern_name(label, NULL, 0);
    *e = (struct cfunc_entry){ me, mid, id };
    return id;
}

size_t rbnames_resolve(uint64_t *pcs, size_t depth)
{
    static uint32_t unknown = UINT32_MAX;
    if (unknown == UINT32_MAX)
        unknown = rtnames_intern("[ruby]_[r]", 10);
    size_t w = 0;
    for (size_t r = 0; r < depth; r++) {
        uint64_t v = pcs[r];
        if (!rtframe_is(v) || rtframe_kind_of(v) == RTFRAME_NAME) {
            pcs[w++] = v;
            continue;
        }
        uint32_t id = UINT32_MAX;
        if (rtframe_kind_of(v) == RTFRAME_RB_ISEQ && r + 1 < depth &&
            rtframe_kind_of(pcs[r + 1]) == RTFRAME_RB_PC) {
            bool has_me = r + 2 < depth && rtframe_kind_of(pcs[r + 2]) == RTFRAME_RB_ME;
            uint64_t me = has_me ? rtframe_value(pcs[r + 2]) : 0;
            size_t t = r + (has_me ? 3 : 2); /* the identity, unless the handler had none */
            bool has_text = t < depth && rtframe_kind_of(pcs[t]) == RTFRAME_RB_TEXT;
            if (has_text)
                id = iseq_name(rtframe_value(v), rtframe_value(pcs[r + 1]), me,
                               rtframe_value(pcs[t]));
            r = has_text ? t : t - 1;
        } else if (rtframe_kind_of(v) == RTFRAME_RB_CFUNC && r + 1 < depth &&
                   rtframe_kind_of(pcs[r + 1]) == RTFRAME_RB_MID) {
            id = cfunc_name(rtframe_value(v), rtframe_value(pcs[r + 1]));
            r++;
        } /* else a C function whose ID the handler could not read: unnamed */
        pcs[w++] = rtframe_word(RTFRAME_NAME, id == UINT32_MAX ? unknown : id);
    }
    return w;
}

/* ---- start ---- */

static bool find_vm_exec(uint64_t *lo, uint64_t *hi)
{
    void *f = dlsym(RTLD_DEFAULT, "rb_vm_exec");
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (!f || !dladdr1(f, &info, (void **)&sym, RTLD_DL_SYMENT) || !sym || !sym->st_size)
        return false;
    *lo = (uint64_t)(uintptr_t)f;
    *hi = *lo + sym->st_size;
    return true;
}

/* fork: the child's aggregator is a new thread; the parent's may have been halfway
 * through a cache entry. */
static void clear_caches(void)
{
    memset(iseq_cache, 0, sizeof iseq_cache);
    memset(cfunc_cache, 0, sizeof cfunc_cache);
    memset(class_cache, 0, sizeof class_cache);
    rbframes_after_fork_child();
}

void rbnames_init(bool quiet)
{
    g_quiet = quiet;
    const char *ver = dlsym(RTLD_DEFAULT, "ruby_version");
    void *ec_slot = dlsym(RTLD_DEFAULT, "ruby_current_ec");
    if (!ver || !ec_slot)
        return; /* not Ruby (or Ruby 2.x, whose ec is no TLS) */
    const char *env = getenv("FLAMEPROF_RUBY");
    bool on = true;
    char bad[96];
    if (env && *env && !config_parse_bool(env, &on, bad, sizeof bad))
        fprintf(stderr, "flameprof: FLAMEPROF_RUBY='%.32s' %s; using 1\n", env, bad);
    if (env && *env && !on)
        return; /* the VM's C functions only, as without this reader */
    char v[16];
    memcpy(v, ver, sizeof v - 1);
    v[sizeof v - 1] = 0;
    if (strncmp(v, "3.1.", 4) != 0) {
        char why[96];
        snprintf(why, sizeof why, "version '%.15s' has no layout table here (known: 3.1)", v);
        say_off(why);
        return;
    }
    uint64_t probe = 0x5ca1ab1e, got = 0;
    g_id2str = (uint64_t(*)(uint64_t))dlsym(RTLD_DEFAULT, "rb_id2str");
    g_single_ractor = dlsym(RTLD_DEFAULT, "ruby_single_main_ractor");
    if (!find_vm_exec(&g_cfg.vm_exec_lo, &g_cfg.vm_exec_hi) || !g_single_ractor) {
        say_off("libruby 3.1 without rb_vm_exec or ruby_single_main_ractor");
        return;
    }
    if (!peek((uint64_t)(uintptr_t)&probe, &got, sizeof got) || got != probe) {
        say_off("process_vm_readv on ourselves is refused");
        return;
    }
    g_cfg.lay = layout_31;
    g_cfg.tls_off = (int64_t)((uint64_t)(uintptr_t)ec_slot - rbframes_thread_pointer());
    g_main_ec_slot = (uint64_t)(uintptr_t)ec_slot;
    pthread_atfork(NULL, NULL, clear_caches);
    g_state = RB_WAITING;
}

/* The layout, checked on the main thread's own frames: the root frame is the VM's dummy
 * frame and every bytecode frame's iseq is an iseq labelled by a String. Returns 1 (good),
 * 0 (not yet: no bytecode frame), -1 (this is not the layout). */
static int check_main_thread(void)
{
    const rbframes_layout *l = &g_cfg.lay;
    uint64_t ec, stk, words, cfp, ep, flags;
    if (!peek64(g_main_ec_slot, &ec) || !ec)
        return 0;
    if (!peek64(ec + l->ec_vm_stack, &stk) || !peek64(ec + l->ec_vm_stack_size, &words) ||
        !peek64(ec + l->ec_cfp, &cfp) || !stk || !words || words > (1u << 27))
        return 0;
    uint64_t end = stk + 8 * words;
    if (cfp < stk || cfp >= end || (end - cfp) % l->cfp_size)
        return -1;
    if (!peek64(end - l->cfp_size + l->cfp_ep, &ep) || !peek64(ep, &flags) ||
        (flags & RB_FRAME_MAGIC_MASK) != RB_FRAME_MAGIC_DUMMY)
        return -1;
    int iseqs = 0;
    for (unsigned n = 0; cfp < end - l->cfp_size && n < 10000; cfp += l->cfp_size, n++) {
        uint64_t iseq, body, label;
        char s[64];
        if (!peek64(cfp + l->cfp_ep, &ep) || !peek64(ep, &flags))
            return -1;
        if (flags & RB_FRAME_FLAG_CFRAME)
            continue;
        if (!peek64(cfp + l->cfp_iseq, &iseq) || !is_imemo(iseq, IMEMO_ISEQ) ||
            !peek64(iseq + ISEQ_BODY, &body) || !peek64(body + BODY_LABEL, &label) ||
            !read_string(label, s, sizeof s, NULL))
            return -1;
        iseqs++;
    }
    return iseqs > 0;
}

void rbnames_poll(void)
{
    if (g_state == RB_WAITING) {
        int ok = check_main_thread();
        if (ok > 0) {
            uint64_t *object = dlsym(RTLD_DEFAULT, "rb_cObject");
            if (object && !class_ivar(*object, 0, "Object", &g_classpath_id))
                g_classpath_id = 0; /* names without their class */
            publish_ranges();
            rbframes_enable(&g_cfg);
            g_state = RB_ON;
        } else if ((ok < 0 && ++g_bad_reads >= RB_BAD_READS_MAX) || ++g_wait_ticks > 3000) {
            say_off(ok < 0 ? "the main thread's frames do not read as CRuby 3.1's"
                           : "no Ruby frame on the main thread in 30 s");
        }
        return;
    }
    if (g_state != RB_ON || !rbframes_ranges_stale())
        return;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - g_ranges_at.tv_sec) * 1000000000L + (now.tv_nsec - g_ranges_at.tv_nsec) >
        20 * 1000000L)
        publish_ranges(); /* at most 50 times a second */
}

void rbnames_vm_ending(void)
{
    if (g_state == RB_ON || g_state == RB_WAITING)
        g_state = RB_ABSENT;
    rbframes_disable();
}
