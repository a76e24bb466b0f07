/* python.c - CPython detection, layout checks, memory snapshot, frame names. See python.h. */
#include "python.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "procmaps.h"
#include "config.h"
#include "modules.h"
#include "pyframes.h"
#include "pylayout.h"
#include "pygil.h"
#include "pynames.h"
#include "python_int.h"
#include "sampler.h"
#include "self_peek.h"
#include "test_hook.h"
#include "threads.h"

enum {
    CHECK_POLLS = 300,          /* ticks (10 ms) a live interpreter may fail the checks */
    RANGES_MIN_NS = 10000000,   /* snapshot refresh after misses: at the next tick, */
    RANGES_GAP_NS = 100000000,  /* backing off to every 100 ms while misses go on (pymalloc
                                   unmaps an arena when it empties and maps one again) */
    RANGES_MAX_NS = 1000000000, /* and at least once a second */
    RETIRED = 8,                /* replaced snapshots awaiting a grace period */
    NAME_MAX_LEN = PYFRAMES_STR_MAX,
};

static enum { PY_UNKNOWN, PY_WAITING, PY_ON, PY_OFF } g_state;
static uint32_t g_seen_gen; /* module generation of the last detection attempt */
static pyframes_config g_cfg;
static python_objects g_objs; /* the types the object readers check (python_int.h) */
static int g_failed_polls;
static enum { GIL_WAITING, GIL_ON, GIL_OFF } g_gil; /* the GIL bit's check */
static int g_gil_polls;
static uint64_t g_last_misses, g_last_refresh, g_miss_gap = RANGES_MIN_NS;
static unwind_ranges *g_retired[RETIRED];
static size_t g_retired_len;
static const unwind_ranges *g_published;
static uint64_t g_unnamed;

/* ---- reading the interpreter's memory off the handler: fault-free ---- */

static bool peek(uint64_t addr, void *buf, size_t len)
{
    return util_self_peek(addr, buf, len);
}

static bool peek_u64(uint64_t addr, uint64_t *v)
{
    return util_self_peek_u64(addr, v);
}

/* A str's text as UTF-8 (compact strings: every str CPython makes for code objects), and
 * the hash of the characters read, as the handler hashes them (util/text_hash.h). */
bool python_read_str(uint64_t s, char *out, size_t cap, uint64_t *hash)
{
    const pylayout *l = &g_cfg.layout;
    uint64_t type, len;
    uint32_t state;
    if (!peek_u64(s + 8, &type) || type != g_objs.unicode_type || !peek_u64(s + 16, &len) ||
        !peek(s + (uint64_t)l->str_state, &state, sizeof state))
        return false;
    unsigned kind = (state >> 2) & 7, compact = (state >> 5) & 1, ascii = (state >> 6) & 1;
    if (!compact || (kind != 1 && kind != 2 && kind != 4))
        return false;
    if (len > NAME_MAX_LEN) /* the handler hashed as much: the name shows that much */
        len = NAME_MAX_LEN;
    unsigned char raw[NAME_MAX_LEN * 4];
    uint64_t data = s + (uint64_t)(ascii ? l->str_ascii_data : l->str_compact_data);
    if (!peek(data, raw, len * kind))
        return false;
    *hash = util_text_hash(kind, raw, len * kind);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        uint32_t c = kind == 1 ? raw[i]
                   : kind == 2 ? (uint32_t)(raw[2 * i] | raw[2 * i + 1] << 8)
                               : (uint32_t)(raw[4 * i] | raw[4 * i + 1] << 8 |
                                            raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24);
        if (o + 5 >= cap)
            break;
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xc0 | c >> 6);
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xe0 | c >> 12);
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        } else {
            out[o++] = (char)(0xf0 | c >> 18);
            out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
            out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
            out[o++] = (char)(0x80 | (c & 0x3f));
        }
    }
    out[o] = 0;
    return true;
}

/* ---- the readable-memory snapshot the handler checks its reads against ---- */

/* Anonymous or writable mappings: heaps, arenas, stacks, modules' data. Read-only file
 * mappings hold no Python object, and reading one past its file's end raises SIGBUS. */
static bool keep_mapping(const char *perms, uint64_t inode, const char *path)
{
    if (perms[0] != 'r' || strstr(path, "[vvar") || strstr(path, "[vsyscall]"))
        return false;
    return perms[1] == 'w' || inode == 0;
}

typedef struct ranges_read {
    unwind_ranges *r;
    size_t cap;
    uint64_t heap_lo;
} ranges_read;

static bool add_range(void *ctx, const util_mapping *m)
{
    ranges_read *rr = ctx;
    unwind_ranges *r = rr->r;
    if (!keep_mapping(m->perms, m->inode, m->path))
        return true;
    if (strcmp(m->path, "[heap]") == 0)
        rr->heap_lo = m->lo;
    if (r->len && r->r[r->len - 1].hi == m->lo) {
        r->r[r->len - 1].hi = m->hi;
        return true;
    }
    if (r->len == rr->cap) {
        unwind_ranges *g = realloc(r, sizeof *r + 2 * rr->cap * sizeof r->r[0]);
        if (!g)
            return false;
        rr->r = r = g;
        rr->cap *= 2;
    }
    r->r[r->len].lo = m->lo;
    r->r[r->len++].hi = m->hi;
    return true;
}

static unwind_ranges *read_ranges(uint64_t *heap_lo)
{
    ranges_read rr = { malloc(sizeof(unwind_ranges) + 256 * sizeof rr.r->r[0]), 256, 0 };
    if (!rr.r)
        return NULL;
    rr.r->len = 0;
    if (!util_procmaps_each(add_range, &rr)) {
        free(rr.r);
        return NULL;
    }
    if (rr.heap_lo)
        *heap_lo = rr.heap_lo;
    return rr.r;
}

/* Free the replaced snapshots once no handler can hold one: every handler that started
 * before they were replaced has ended when the sampler is seen idle after it. */
static void free_retired(void)
{
    if (g_retired_len == 0 || !sampler_idle())
        return;
    for (size_t i = 0; i < g_retired_len; i++)
        free(g_retired[i]);
    g_retired_len = 0;
}

static void refresh_ranges(uint64_t now)
{
    free_retired();
    if (g_retired_len == RETIRED)
        return; /* handlers never idle: keep the snapshot we have */
    uint64_t heap_lo = 0;
    unwind_ranges *r = read_ranges(&heap_lo);
    if (!r)
        return;
    pyframes_set_ranges(r, heap_lo);
    if (g_published)
        g_retired[g_retired_len++] = (unwind_ranges *)g_published;
    g_published = r;
    free_retired();
    g_last_refresh = now;
    g_last_misses = pyframes_misses();
}

/* ---- detection and checks ---- */

static void turn_off(const char *why)
{
    g_state = PY_OFF;
    fprintf(stderr, "flameprof: %s; Python functions are not named (native frames only)\n",
            why);
}

static uint64_t sym(const char *name)
{
    return (uint64_t)(uintptr_t)dlsym(RTLD_DEFAULT, name);
}

/* _PyEval_EvalFrameDefault's range, from its symbol's size. */
static bool eval_range(uint64_t *lo, uint64_t *hi)
{
    void *fn = dlsym(RTLD_DEFAULT, "_PyEval_EvalFrameDefault");
    Dl_info info;
    const ElfW(Sym) *s = NULL;
    if (!fn || !dladdr1(fn, &info, (void **)&s, RTLD_DL_SYMENT) || !s || s->st_size == 0)
        return false;
    *lo = (uint64_t)(uintptr_t)fn;
    *hi = *lo + s->st_size;
    return true;
}

/* What python_finalized needs, for the exiting thread while this one may still run. */
static python_code g_exit_code;
static _Atomic(const python_code *) g_exit_info;

static int find_text(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    python_code *c = arg;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uint64_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X) && c->eval_lo >= lo &&
            c->eval_lo < hi) {
            c->text_lo = lo;
            c->text_hi = hi;
            return 1;
        }
    }
    return 0;
}

static void publish_exit_info(void)
{
    g_exit_code = (python_code){ g_cfg.eval_lo, g_cfg.eval_hi, 0, 0,
                                 g_cfg.runtime + (uint64_t)g_cfg.layout.runtime_interp_head };
    dl_iterate_phdr(find_text, &g_exit_code);
    if (g_exit_code.text_lo)
        atomic_store_explicit(&g_exit_info, &g_exit_code, memory_order_release);
}

/* The interpreter's version: 3.11+ export Py_Version (PY_VERSION_HEX, a constant). Older
 * ones have only Py_GetVersion(), which formats into one static buffer on every call: the
 * program's own call (sys.version, at start-up) may be rewriting it as we read, and a read
 * then sees "" or half a version (a CI run read "" on 3.12 before Py_Version was used). Two
 * equal copies in a row are believed. text gets what was read, for the message. */
static bool python_version(int *major, int *minor, char *text, size_t n)
{
    const unsigned long *hex = (const unsigned long *)dlsym(RTLD_DEFAULT, "Py_Version");
    if (hex) {
        *major = (int)(*hex >> 24 & 0xff);
        *minor = (int)(*hex >> 16 & 0xff);
        snprintf(text, n, "%d.%d", *major, *minor);
        return *major == 3;
    }
    const char *(*fn)(void) = (const char *(*)(void))dlsym(RTLD_DEFAULT, "Py_GetVersion");
    char prev[24] = "";
    for (int i = 0; fn && i < 8; i++) {
        char cur[24];
        snprintf(cur, sizeof cur, "%s", fn());
        if (i > 0 && !strcmp(cur, prev) && sscanf(cur, "%d.%d", major, minor) == 2) {
            snprintf(text, n, "%s", cur);
            return *major == 3;
        }
        memcpy(prev, cur, sizeof prev);
    }
    snprintf(text, n, "%s", prev);
    return false;
}

static void detect(void)
{
    uint64_t runtime = sym("_PyRuntime");
    if (!runtime || (!sym("Py_Version") && !sym("Py_GetVersion")))
        return; /* no CPython (yet: an embedding program may load it later) */
    int major = 0, minor = 0;
    char why[160], text[24];
    if (!python_version(&major, &minor, text, sizeof text)) {
        snprintf(why, sizeof why, "CPython '%.20s' not understood", text);
        turn_off(why);
        return;
    }
    pyframes_config c = { .runtime = runtime, .code_type = sym("PyCode_Type") };
    g_objs.unicode_type = sym("PyUnicode_Type");
    g_objs.dict_type = sym("PyDict_Type");
    g_objs.long_type = sym("PyLong_Type");
    g_objs.module_type = sym("PyModule_Type");
    if (minor >= 13) {
        unsigned char img[1024];
        if (!peek(runtime, img, sizeof img) ||
            !pylayout_from_debug_offsets(img, sizeof img, &c.layout, why, sizeof why)) {
            char line[240];
            snprintf(line, sizeof line, "CPython 3.%d: %s", minor, why);
            turn_off(line);
            return;
        }
    } else if (pylayout_for_minor(minor)) {
        c.layout = *pylayout_for_minor(minor);
    } else {
        snprintf(why, sizeof why, "CPython 3.%d: no frame layout for it (3.8 to 3.13 known)",
                 minor);
        turn_off(why);
        return;
    }
    if (!c.code_type || !g_objs.unicode_type || !eval_range(&c.eval_lo, &c.eval_hi)) {
        snprintf(why, sizeof why, "CPython 3.%d: PyCode_Type, PyUnicode_Type or "
                 "_PyEval_EvalFrameDefault not found", minor);
        turn_off(why);
        return;
    }
    g_cfg = c;
    g_state = PY_WAITING;
    pygil_init();
    publish_exit_info();
}

/* The first frame of thread state ts (0 if none). */
static bool first_frame(uint64_t ts, uint64_t *frame)
{
    const pylayout *l = &g_cfg.layout;
    if (!peek_u64(ts + (uint64_t)l->tstate_frame, frame))
        return false;
    if (l->cframe_current >= 0 && *frame)
        return peek_u64(*frame + (uint64_t)l->cframe_current, frame);
    return true;
}

/* 1: the layout reads true on the live interpreter; 0: not yet decidable (not started,
 * no frame yet); -1: it reads false. */
static int check_layout(void)
{
    const pylayout *l = &g_cfg.layout;
    uint64_t interp, ts, frame, code, type, name, hash;
    if (!peek_u64(g_cfg.runtime + (uint64_t)l->runtime_interp_head, &interp))
        return -1;
    if (!interp || !peek_u64(interp + (uint64_t)l->interp_tstate_head, &ts) || !ts)
        return 0;
    uint64_t back, tid;
    if (!peek_u64(ts + (uint64_t)l->tstate_interp, &back) || back != interp ||
        !peek_u64(ts + (uint64_t)l->tstate_thread_id, &tid) || tid == 0)
        return -1;
    if (!first_frame(ts, &frame))
        return -1;
    for (int i = 0; frame && i < 64; i++) { /* past 3.12's entry frames */
        char owner = 0, text[NAME_MAX_LEN + 1];
        if (l->frame_owner >= 0 && !peek(frame + (uint64_t)l->frame_owner, &owner, 1))
            return -1;
        if (owner != PY_OWNED_BY_CSTACK) {
            if (!peek_u64(frame + (uint64_t)l->frame_code, &code) || !peek_u64(code + 8, &type))
                return -1;
            if (type != g_cfg.code_type)
                return -1;
            if (!peek_u64(code + (uint64_t)l->code_name, &name) ||
                !python_read_str(name, text, sizeof text, &hash))
                return -1;
            return 1;
        }
        if (!peek_u64(frame + (uint64_t)l->frame_previous, &frame))
            return -1;
    }
    return 0;
}

/* The GIL bit goes on once its offsets read true (pygil_check), after the frame reader:
 * a holder that has gone (its thread ended) leaves it undecided for a while. */
static void poll_gil(void)
{
    if (g_gil != GIL_WAITING)
        return;
    bool known = g_cfg.layout.gil_locked >= 0;
    if (known && pygil_check(&g_cfg) == 1) {
        g_cfg.gil = true;
        pyframes_configure(&g_cfg);
        pygil_on();
        g_gil = GIL_ON;
    } else if (!known || ++g_gil_polls >= CHECK_POLLS) {
        g_gil = GIL_OFF;
        fprintf(stderr, "flameprof: CPython 3.%d: %s; samples are not marked by it\n",
                g_cfg.layout.minor, known ? "its GIL does not read as this version's layout"
                                          : "its debug offsets do not place the GIL");
    }
}

void python_poll(uint64_t now)
{
    if (g_state == PY_OFF)
        return;
    if (g_state == PY_UNKNOWN) {
        const module_map *m = modules_current();
        uint32_t gen = m ? m->gen : 0;
        if (gen == g_seen_gen && gen != 0)
            return;
        g_seen_gen = gen;
        const char *v = getenv("FLAMEPROF_PYTHON");
        bool on = true;
        char why[96];
        if (v && *v && strcmp(v, "perf") != 0 && config_parse_bool(v, &on, why, sizeof why) &&
            !on) {
            g_state = PY_OFF;
            return;
        }
        if (v && strcmp(v, "perf") == 0) {
            g_state = PY_OFF; /* the -X perf trampolines name the frames instead */
            return;
        }
        detect();
        if (g_state != PY_WAITING)
            return;
    }
    if (g_state == PY_WAITING) {
        int ok = check_layout();
        if (ok == 0 || (ok < 0 && ++g_failed_polls < CHECK_POLLS))
            return;
        if (ok < 0) {
            char why[96];
            snprintf(why, sizeof why, "CPython 3.%d: its memory does not read as this "
                     "version's layout (an unusual build?)", g_cfg.layout.minor);
            turn_off(why);
            return;
        }
        refresh_ranges(now);
        pyframes_configure(&g_cfg);
        g_state = PY_ON;
        return;
    }
    poll_gil();
    /* Finalized (the interpreter deleted): its daemon threads run on in the dead
     * interpreter, CPython 3.10's writing into its freed memory; parked within a tick,
     * they stay still through whatever the program does until its exit (sampler.h). */
    python_code code;
    if (python_finalized(&code)) {
        pyframes_configure(NULL);
        sampler_park_python(code.eval_lo, code.eval_hi, code.text_lo, code.text_hi);
        g_state = PY_OFF;
        return;
    }
    /* New memory (a heap grown, an arena or a frame chunk mapped) is missed until the
     * snapshot has it: a deep recursion's frames lost half their roots with a 200 ms
     * delay. Refresh on the next tick, and back off while the misses keep coming. */
    uint64_t misses = pyframes_misses();
    if (misses != g_last_misses && now - g_last_refresh >= g_miss_gap) {
        refresh_ranges(now);
        g_miss_gap = g_miss_gap * 2 < RANGES_GAP_NS ? g_miss_gap * 2 : RANGES_GAP_NS;
    } else if (now - g_last_refresh >= RANGES_MAX_NS) {
        bool quiet = misses == g_last_misses;
        refresh_ranges(now);
        if (quiet) /* a second without a miss: quick again */
            g_miss_gap = RANGES_MIN_NS;
    }
}

/* ---- names ---- */

typedef struct name_key {
    uint64_t code, ident;
    int32_t firstlineno;
    uint32_t id; /* UINT32_MAX: empty slot */
} name_key;

static name_key *g_names;
static size_t g_names_len, g_names_cap; /* cap: a power of two */

static size_t key_slot(uint64_t code, uint64_t ident, int32_t first)
{
    uint64_t h = (code ^ ident ^ (uint64_t)(uint32_t)first) * 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 20) & (g_names_cap - 1);
}

static bool names_grow(void)
{
    size_t cap = g_names_cap ? g_names_cap * 2 : 4096;
    name_key *n = malloc(cap * sizeof *n), *old = g_names;
    if (!n)
        return false;
    for (size_t i = 0; i < cap; i++)
        n[i].id = UINT32_MAX;
    size_t old_cap = g_names_cap;
    g_names = n;
    g_names_cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].id == UINT32_MAX)
            continue;
        size_t j = key_slot(old[i].code, old[i].ident, old[i].firstlineno);
        while (n[j].id != UINT32_MAX)
            j = (j + 1) & (cap - 1);
        n[j] = old[i];
    }
    free(old);
    return true;
}

/* The name's and filename's text, if they hash to what the handler recorded. */
static bool read_texts(uint64_t name, uint64_t file, const ring_pyframe *f, char *fn,
                       char *path, size_t cap)
{
    uint64_t nh, fh;
    return python_read_str(name, fn, cap, &nh) && python_read_str(file, path, cap, &fh) &&
           pyframes_ident(nh, fh) == f->ident;
}

/* Read the code object now: its name if the text is still the sampled one. The program
 * runs on while this reads (it holds the GIL, not us), so the code object and its strings
 * can be freed and their memory reused at any point between the sample and the last byte
 * read here (a drain thread preempted there read `outer_2119 (<churn 2212>:3)` for a
 * sampled outer_2119 in `<churn 2119>`; a freed object's stale fields read the same twice).
 * Hence no liveness check: the text must hash to what the handler hashed from the live
 * objects, and the first line is the one it read. */
static uint32_t resolve(const ring_pyframe *f)
{
    const pylayout *l = &g_cfg.layout;
    int name_off = l->code_qualname >= 0 ? l->code_qualname : l->code_name;
    uint64_t type, name, file;
    char fn[NAME_MAX_LEN + 1], path[NAME_MAX_LEN + 1], text[2 * NAME_MAX_LEN + 32];
    if (!peek_u64(f->code + 8, &type) || type != g_cfg.code_type ||
        !peek_u64(f->code + (uint64_t)name_off, &name) ||
        !peek_u64(f->code + (uint64_t)l->code_filename, &file))
        return UINT32_MAX;
    if (util_test_name_delay_us()) { /* pause only where a name would have been taken */
        if (!read_texts(name, file, f, fn, path, sizeof fn))
            return UINT32_MAX;
        util_test_name_delay();
    }
    if (!read_texts(name, file, f, fn, path, sizeof fn))
        return UINT32_MAX;
    snprintf(text, sizeof text, "%s (%s:%d)", fn, path, (int)f->firstlineno);
    return pynames_intern(text);
}

static uint32_t name_of(const ring_pyframe *f)
{
    if ((g_names_len + 1) * 2 > g_names_cap && !names_grow())
        return UINT32_MAX;
    size_t j = key_slot(f->code, f->ident, f->firstlineno);
    for (; g_names[j].id != UINT32_MAX; j = (j + 1) & (g_names_cap - 1)) {
        const name_key *k = &g_names[j];
        if (k->code == f->code && k->ident == f->ident && k->firstlineno == f->firstlineno)
            return k->id;
    }
    uint32_t id = resolve(f);
    if (id == UINT32_MAX)
        return id; /* not cached: nothing is known about that address */
    g_names[j] = (name_key){ f->code, f->ident, f->firstlineno, id };
    g_names_len++;
    return id;
}

const ring_sample *python_named(const ring_sample *s)
{
    static ring_sample out;
    if (!(s->flags & RING_PY))
        return s;
    size_t hdr = offsetof(ring_sample, pcs);
    memcpy(&out, s, hdr);
    out.flags = pygil_flags((uint16_t)(out.flags & ~RING_PY));
    for (size_t i = 0; i < s->depth; i++) {
        uint64_t pc = s->pcs[i];
        if (RING_IS_PY_PC(pc)) {
            uint64_t k = pc & 0xffffffffu;
            uint32_t id = k < s->npy ? name_of(&s->py[k]) : UINT32_MAX;
            if (id == UINT32_MAX) {
                g_unnamed++;
                id = pynames_intern("[python: code object gone]");
            }
            pc = PYNAMES_PC(id);
        }
        out.pcs[i] = pc;
    }
    return &out;
}

void python_after_fork_child(void)
{
    g_names = NULL; /* the parent's copy leaks (copy-on-write): it may be mid-update */
    g_names_len = g_names_cap = 0;
    pynames_after_fork_child();
    pygil_after_fork_child();
}

bool python_finalized(python_code *out)
{
    const python_code *c = atomic_load_explicit(&g_exit_info, memory_order_acquire);
    uint64_t interp;
    if (!c || !peek_u64(c->interp_head, &interp) || interp != 0)
        return false;
    *out = *c;
    return true;
}

uint64_t python_unnamed(void)
{
    return g_unnamed;
}

const python_objects *python_objects_on(void)
{
    if (g_state != PY_ON)
        return NULL;
    g_objs.cfg = &g_cfg;
    return &g_objs;
}
