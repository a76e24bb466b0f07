/* pythreads.c - Python threads' names: threading._active, read off the handler. See
 * python.h (python_thread_names).
 *
 * Before 3.14 a threading.Thread's name never reaches the kernel (comm reads "python3.11").
 * The names are read where the threading module keeps them: sys.modules (the interpreter's
 * modules dict) -> "threading" -> its _active dict (ident -> Thread) -> each Thread's
 * instance attributes "_name" (str) and "_native_id" (int: the kernel tid). Every read is
 * process_vm_readv's (a freed or moved object fails the read) and every object's type is
 * checked before it is used, so a layout this reader does not know, or memory the program
 * changed meanwhile, gives no name (comm stays), never a fault. Layouts: PyTypeObject,
 * PyDictObject and PyModuleObject keep these fields at the same offsets in 3.8 to 3.13;
 * dict keys, instance attributes and ints changed (each version's headers, the offsets
 * checked on each version by tests/python's threads test). */

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "python.h"
#include "python_int.h"
#include "self_peek.h"
#include "threads.h"

enum {
    TP_BASICSIZE = 32, TP_FLAGS = 168, TP_DICTOFFSET = 288, /* PyTypeObject */
    TPF_INLINE_VALUES = 1 << 2, TPF_MANAGED_DICT = 1 << 4,  /* 3.13; 3.11+ */
    MODULE_DICT = 16,                                        /* PyModuleObject.md_dict */
    DICT_KEYS = 32, DICT_VALUES = 40,                        /* PyDictObject */
    DICT_MAX = 4096,          /* entries read in one dict */
    DICT_CHUNK = 32,          /* entries read at once */
    NAMES_GAP_NS = 100000000, /* a scan within 100 ms of a new thread's first sample, */
    NAMES_MAX_NS = 1000000000, /* else every second (renames): each costs ~50 reads a thread */
    TID_MAX = 1 << 22,        /* the kernel's PID_MAX_LIMIT */
};

static const python_objects *g_py; /* the interpreter read now (python_objects_on) */

/* PyHeapTypeObject.ht_cached_keys: the keys a split instance dict shares (3.11+). */
static int cached_keys_offset(void)
{
    return g_py->cfg->layout.minor == 11 ? 872 : 880;
}

/* Is s the str want (ASCII)? One read. */
static bool str_is(uint64_t s, const char *want)
{
    const pylayout *l = &g_py->cfg->layout;
    size_t n = strlen(want), need = (size_t)l->str_ascii_data + n;
    unsigned char buf[128];
    uint64_t type, len;
    uint32_t state;
    if (need > sizeof buf || !util_self_peek(s, buf, need))
        return false;
    memcpy(&type, buf + 8, 8);
    memcpy(&len, buf + 16, 8);
    memcpy(&state, buf + l->str_state, 4);
    return type == g_py->unicode_type && len == n && (state >> 5 & 1) && (state >> 6 & 1) &&
           memcmp(buf + l->str_ascii_data, want, n) == 0;
}

/* Visit a dict's keys and values until fn returns true (then true). values: a split
 * table's values array (0: the values are in the entries). */
static bool keys_scan(uint64_t keys, uint64_t values,
                      bool (*fn)(uint64_t key, uint64_t value, void *ctx), void *ctx)
{
    int minor = g_py->cfg->layout.minor;
    uint64_t entries, n, esize = 3, key_at = 1; /* in words: {hash, key, value} */
    if (minor <= 10) { /* dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, indices */
        uint64_t size;
        if (!util_self_peek_u64(keys + 8, &size) || !util_self_peek_u64(keys + 32, &n) || size < 8 ||
            (size & (size - 1)) || size > (1u << 26))
            return false;
        uint64_t width = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
        entries = keys + 40 + size * width;
    } else { /* dk_refcnt, log2_size, log2_index_bytes, kind, ..., dk_nentries @24 */
        unsigned char hdr[3];
        if (!util_self_peek(keys + 8, hdr, sizeof hdr) || !util_self_peek_u64(keys + 24, &n) || hdr[1] > 30)
            return false;
        entries = keys + 32 + (1ull << hdr[1]);
        if (hdr[2] != 0) { /* unicode or split keys: {key, value} */
            esize = 2;
            key_at = 0;
        }
    }
    if (n > DICT_MAX)
        return false;
    uint64_t vals = values ? values + (minor >= 13 ? 8 : 0) : 0; /* 3.13: a 4-byte header */
    for (uint64_t i = 0; i < n; i += DICT_CHUNK) {
        uint64_t e[DICT_CHUNK * 3], v[DICT_CHUNK];
        uint64_t k = n - i < DICT_CHUNK ? n - i : DICT_CHUNK;
        if (!util_self_peek(entries + i * esize * 8, e, k * esize * 8) ||
            (vals && !util_self_peek(vals + i * 8, v, k * 8)))
            return false;
        for (uint64_t j = 0; j < k; j++) {
            uint64_t key = e[j * esize + key_at], value = vals ? v[j] : e[j * esize + key_at + 1];
            if (key && value && fn(key, value, ctx))
                return true;
        }
    }
    return false;
}

typedef struct key_want {
    const char *want;
    uint64_t value;
} key_want;

static bool key_is(uint64_t key, uint64_t value, void *ctx)
{
    key_want *w = ctx;
    if (!str_is(key, w->want))
        return false;
    w->value = value;
    return true;
}

static bool keys_get(uint64_t keys, uint64_t values, const char *want, uint64_t *value)
{
    key_want w = { want, 0 };
    if (!keys || !keys_scan(keys, values, key_is, &w))
        return false;
    *value = w.value;
    return true;
}

/* The dict object d, checked, as its keys and split values. */
static bool dict_parts(uint64_t d, uint64_t *keys, uint64_t *values)
{
    uint64_t h[6]; /* refcnt, type, ma_used, version tag, ma_keys, ma_values */
    if (!d || !util_self_peek(d, h, sizeof h) || h[1] != g_py->dict_type || !h[4])
        return false;
    *keys = h[4];
    *values = h[5];
    return true;
}

static bool dict_get(uint64_t d, const char *want, uint64_t *value)
{
    uint64_t keys, values;
    return dict_parts(d, &keys, &values) && keys_get(keys, values, want, value);
}

/* An instance attribute of obj, from its __dict__ wherever the version keeps it. */
static bool attr_get(uint64_t obj, const char *want, uint64_t *value)
{
    int minor = g_py->cfg->layout.minor;
    uint64_t type, flags, basicsize, dictoff, d, keys, values;
    if (!util_self_peek_u64(obj + 8, &type) || !util_self_peek_u64(type + TP_FLAGS, &flags) ||
        !util_self_peek_u64(type + TP_DICTOFFSET, &dictoff) || !util_self_peek_u64(type + TP_BASICSIZE, &basicsize))
        return false;
    if (minor < 11 || !(flags & TPF_MANAGED_DICT)) /* the dict pointer inside the object */
        return (int64_t)dictoff > 0 && dictoff < 4096 && util_self_peek_u64(obj + dictoff, &d) &&
               dict_get(d, want, value);
    uint64_t cached = type + (uint64_t)cached_keys_offset();
    if (minor == 11) { /* the dict 3 words before the object, else the values 4 before */
        if (!util_self_peek_u64(obj - 24, &d))
            return false;
        if (d)
            return dict_get(d, want, value);
        return util_self_peek_u64(obj - 32, &values) && values && util_self_peek_u64(cached, &keys) &&
               keys_get(keys, values, want, value);
    }
    if (minor == 12) { /* 3 words before: a dict, or the values' address - 1 (odd) */
        if (!util_self_peek_u64(obj - 24, &d) || !d)
            return false;
        if (!(d & 1))
            return dict_get(d, want, value);
        return util_self_peek_u64(cached, &keys) && keys_get(keys, d + 1, want, value);
    }
    if (flags & TPF_INLINE_VALUES) { /* 3.13: values after the object, while valid */
        unsigned char valid;
        values = obj + basicsize;
        if (basicsize < 16 || basicsize > 4096 || !util_self_peek(values + 3, &valid, 1))
            return false;
        if (valid)
            return util_self_peek_u64(cached, &keys) && keys_get(keys, values, want, value);
    }
    return util_self_peek_u64(obj - 24, &d) && dict_get(d, want, value);
}

/* A small positive int (one 30-bit digit). */
static bool small_int(uint64_t o, uint64_t *v)
{
    unsigned char b[28];
    uint64_t type, size;
    uint32_t digit;
    if (!util_self_peek(o, b, sizeof b))
        return false;
    memcpy(&type, b + 8, 8);
    memcpy(&size, b + 16, 8); /* ob_size; 3.12+: lv_tag, ndigits << 3 | sign (0: positive) */
    memcpy(&digit, b + 24, 4);
    if (type != g_py->long_type || size != (g_py->cfg->layout.minor >= 12 ? 8u : 1u) ||
        digit >= (1u << 30))
        return false;
    *v = digit;
    return true;
}

static bool name_thread(uint64_t ident, uint64_t thread, void *ctx)
{
    (void)ident;
    int *left = ctx;
    uint64_t name, id, tid, hash;
    char text[THREADS_NAME_MAX];
    if (attr_get(thread, "_name", &name) && python_read_str(name, text, sizeof text, &hash) &&
        text[0] && attr_get(thread, "_native_id", &id) && small_int(id, &tid) && tid &&
        tid < TID_MAX)
        threads_set_runtime((uint32_t)tid, text);
    return --*left <= 0;
}

void python_thread_names(uint64_t now)
{
    static uint64_t last;
    static size_t known;
    g_py = python_objects_on();
    if (!g_py)
        return;
    if (now != UINT64_MAX && last &&
        (now - last < NAMES_GAP_NS || (threads_count() == known && now - last < NAMES_MAX_NS)))
        return;
    last = now;
    known = threads_count();
    const pylayout *l = &g_py->cfg->layout;
    uint64_t interp, modules, threading, type, dict, active, keys, values;
    if (l->interp_modules <= 0 ||
        !util_self_peek_u64(g_py->cfg->runtime + (uint64_t)l->runtime_interp_head, &interp) || !interp ||
        !util_self_peek_u64(interp + (uint64_t)l->interp_modules, &modules) ||
        !dict_get(modules, "threading", &threading) || !util_self_peek_u64(threading + 8, &type) ||
        type != g_py->module_type || !util_self_peek_u64(threading + MODULE_DICT, &dict) ||
        !dict_get(dict, "_active", &active) || !dict_parts(active, &keys, &values))
        return;
    int left = DICT_MAX;
    keys_scan(keys, values, name_thread, &left);
}
