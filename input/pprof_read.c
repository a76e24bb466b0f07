/* pprof_read.c - profile.proto decoded by hand. See pprof_read.h.
 *
 * The wire format as output/pprof.c writes it: a field is a varint key (number << 3 | wire
 * type), then a varint (type 0), 8 or 4 bytes (types 1, 5), or a varint length and that
 * many bytes (type 2: strings, sub-messages, packed repeated numbers). Repeated numbers
 * may come packed or one by one. Fields come in any order: Go writes the samples before
 * the tables they refer to, so a first pass reads the tables and a second the samples. */
#include "pprof_read.h"

#include "array.h"
#include "frame_name.h"
#include "varint.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PPROF_MAX_BYTES (1ul << 31) /* decompressed; a bigger "profile" is an attack */

enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_COMMENT = 13,
    PROFILE_DEFAULT_SAMPLE_TYPE = 14,
    VALUE_TYPE_TYPE = 1,
    SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
    LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3, LABEL_NUM_UNIT = 4,
    MAPPING_ID = 1, MAPPING_START = 2, MAPPING_OFFSET = 4, MAPPING_FILENAME = 5,
    LOCATION_ID = 1, LOCATION_MAPPING_ID = 2, LOCATION_ADDRESS = 3, LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1,
    FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
    FUNCTION_START_LINE = 5,
};
enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* ---- wire reading ---- */

typedef struct pbr {
    const unsigned char *p, *end;
    bool bad;
} pbr;

static uint64_t rd_varint(pbr *r)
{
    uint64_t v;
    if (!varint_read(&r->p, r->end, &v))
        r->bad = true;
    return v;
}

typedef struct pb_field {
    uint32_t num;
    int wire;
    uint64_t v;   /* WIRE_VARINT */
    pbr sub;      /* WIRE_LEN: the bytes */
    size_t at;    /* offset of the key, for messages */
} pb_field;

/* The next field of r. Returns false at the end or on malformed data (r->bad). */
static bool rd_field(pbr *r, const unsigned char *base, pb_field *f)
{
    if (r->bad || r->p >= r->end)
        return false;
    f->at = (size_t)(r->p - base);
    uint64_t key = rd_varint(r);
    f->num = (uint32_t)(key >> 3);
    f->wire = (int)(key & 7);
    if (r->bad || f->num == 0 || key >> 32) {
        r->bad = true;
        return false;
    }
    size_t skip = 0;
    switch (f->wire) {
    case WIRE_VARINT:
        f->v = rd_varint(r);
        return !r->bad;
    case WIRE_I64:
        skip = 8;
        break;
    case WIRE_I32:
        skip = 4;
        break;
    case WIRE_LEN:
        skip = (size_t)rd_varint(r);
        break;
    default: /* groups: not in profile.proto */
        r->bad = true;
        return false;
    }
    if (r->bad || skip > (size_t)(r->end - r->p)) {
        r->bad = true;
        return false;
    }
    f->sub = (pbr){ r->p, r->p + skip, false };
    r->p += skip;
    return true;
}

/* A repeated number field, packed or not: calls add for each value. Returns -1 on
 * malformed data or when add fails. */
typedef int (*u64_fn)(void *ctx, uint64_t v);

static int each_u64(pb_field *f, u64_fn add, void *ctx)
{
    if (f->wire == WIRE_VARINT)
        return add(ctx, f->v);
    if (f->wire != WIRE_LEN)
        return -1;
    pbr r = f->sub;
    while (r.p < r.end) {
        uint64_t v = rd_varint(&r);
        if (r.bad || add(ctx, v) < 0)
            return -1;
    }
    return 0;
}

/* ---- growable arrays ---- */

#define VEC(T) struct { T *a; size_t len, cap; }
typedef VEC(char) cvec;
typedef VEC(uint64_t) u64vec;

#define VEC_PUSH(v, x) \
    (!UTIL_RESERVE((v).a, (v).cap, (v).len + 1) ? -1 : ((v).a[(v).len++] = (x), 0))

typedef struct str_span {
    const char *s;
    size_t n;
} str_span;

typedef struct pp_function {
    uint64_t id, name, system_name, filename, start_line;
    bool sourced; /* its file was passed to the sink's on_source */
} pp_function;

typedef struct pp_mapping {
    uint64_t id, start, offset, filename;
} pp_mapping;

typedef struct pp_location {
    uint64_t id, mapping_id, address;
    size_t lines, nlines; /* function ids in line_fns[lines .. lines + nlines) */
    char *text;           /* its frames, root first, ';'-joined; made when first used */
    size_t text_len;
} pp_location;

typedef struct pp_state {
    const input_sink *sink;
    const pprof_read_opts *o;
    const unsigned char *base;
    VEC(str_span) strs;
    u64vec types; /* sample_type[i].type, string indexes */
    uint64_t default_type;
    VEC(pp_function) fns;
    VEC(pp_mapping) maps;
    VEC(pp_location) locs;
    u64vec line_fns;
    u64vec comments;      /* Profile.comment: string indexes */
    bool system_is_folded; /* UTIL_PPROF_SYSTEM_NAME_COMMENT is among them: flameprof's */
    size_t value_index;
    /* per sample */
    u64vec sample_locs, sample_values;
    cvec stack;
    long bad;
    bool warned_negative, warned_ref;
} pp_state;

static int push_u64(void *ctx, uint64_t v)
{
    u64vec *vec = ctx;
    return VEC_PUSH(*vec, v);
}

/* ---- pass 1: the tables ---- */

/* The varint fields numbered below n of a message, into v[number] (0 where absent). */
static bool read_varints(pp_state *st, pbr r, uint64_t *v, size_t n)
{
    memset(v, 0, n * sizeof(*v));
    pb_field f;
    while (rd_field(&r, st->base, &f))
        if (f.wire == WIRE_VARINT && f.num < n)
            v[f.num] = f.v;
    return !r.bad;
}

static int read_function(pp_state *st, pbr r)
{
    uint64_t v[FUNCTION_START_LINE + 1];
    if (!read_varints(st, r, v, FUNCTION_START_LINE + 1))
        return -1;
    pp_function fn = { v[FUNCTION_ID], v[FUNCTION_NAME], v[FUNCTION_SYSTEM_NAME],
                       v[FUNCTION_FILENAME], v[FUNCTION_START_LINE], false };
    return VEC_PUSH(st->fns, fn);
}

static int read_mapping(pp_state *st, pbr r)
{
    uint64_t v[MAPPING_FILENAME + 1];
    if (!read_varints(st, r, v, MAPPING_FILENAME + 1))
        return -1;
    pp_mapping m = { v[MAPPING_ID], v[MAPPING_START], v[MAPPING_OFFSET], v[MAPPING_FILENAME] };
    return VEC_PUSH(st->maps, m);
}

static int read_location(pp_state *st, pbr r)
{
    pp_location loc = { 0, 0, 0, st->line_fns.len, 0, NULL, 0 };
    pb_field f;
    while (rd_field(&r, st->base, &f)) {
        if (f.num == LOCATION_LINE && f.wire == WIRE_LEN) {
            uint64_t fn = 0;
            pb_field g;
            while (rd_field(&f.sub, st->base, &g))
                if (g.num == LINE_FUNCTION_ID && g.wire == WIRE_VARINT)
                    fn = g.v;
            if (f.sub.bad || VEC_PUSH(st->line_fns, fn) < 0)
                return -1;
            loc.nlines++;
        } else if (f.wire == WIRE_VARINT) {
            if (f.num == LOCATION_ID)
                loc.id = f.v;
            else if (f.num == LOCATION_MAPPING_ID)
                loc.mapping_id = f.v;
            else if (f.num == LOCATION_ADDRESS)
                loc.address = f.v;
        }
    }
    return r.bad ? -1 : VEC_PUSH(st->locs, loc);
}

static str_span str_at(pp_state *st, uint64_t i);

static int read_tables(pp_state *st, pbr r)
{
    pb_field f;
    while (rd_field(&r, st->base, &f)) {
        int rc = 0;
        if (f.num == PROFILE_STRING_TABLE && f.wire == WIRE_LEN) {
            str_span s = { (const char *)f.sub.p, (size_t)(f.sub.end - f.sub.p) };
            rc = VEC_PUSH(st->strs, s);
        } else if (f.num == PROFILE_SAMPLE_TYPE && f.wire == WIRE_LEN) {
            uint64_t type = 0;
            pb_field g;
            while (rd_field(&f.sub, st->base, &g))
                if (g.num == VALUE_TYPE_TYPE && g.wire == WIRE_VARINT)
                    type = g.v;
            rc = f.sub.bad ? -1 : VEC_PUSH(st->types, type);
        } else if (f.num == PROFILE_COMMENT && f.wire == WIRE_VARINT) {
            rc = VEC_PUSH(st->comments, f.v);
        } else if (f.num == PROFILE_DEFAULT_SAMPLE_TYPE && f.wire == WIRE_VARINT) {
            st->default_type = f.v;
        } else if (f.num == PROFILE_FUNCTION && f.wire == WIRE_LEN) {
            rc = read_function(st, f.sub);
        } else if (f.num == PROFILE_MAPPING && f.wire == WIRE_LEN) {
            rc = read_mapping(st, f.sub);
        } else if (f.num == PROFILE_LOCATION && f.wire == WIRE_LEN) {
            rc = read_location(st, f.sub);
        }
        if (rc < 0) {
            input_error(st->sink, 0, "pprof: malformed field %" PRIu32 " at byte %zu", f.num,
                        f.at);
            return -1;
        }
    }
    if (r.bad) {
        input_error(st->sink, 0, "pprof: malformed protobuf at byte %zu",
                    (size_t)(r.p - st->base));
        return -1;
    }
    static const char marker[] = UTIL_PPROF_SYSTEM_NAME_COMMENT;
    for (size_t i = 0; i < st->comments.len; i++) {
        str_span c = str_at(st, st->comments.a[i]);
        st->system_is_folded |= c.n == sizeof marker - 1 && memcmp(c.s, marker, c.n) == 0;
    }
    return 0;
}

/* ---- lookups ---- */

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; /* id is the first field */
    return x < y ? -1 : x > y;
}

static void *find_id(void *a, size_t n, size_t size, uint64_t id)
{
    if (id == 0 || n == 0)
        return NULL;
    /* Writers number ids 1..n (Go, flameprof): then the sorted table is indexed by them. */
    char *dense = id <= n ? (char *)a + (id - 1) * size : NULL;
    if (dense && *(uint64_t *)dense == id)
        return dense;
    return bsearch(&id, a, n, size, cmp_id);
}

static str_span str_at(pp_state *st, uint64_t i)
{
    if (i < st->strs.len)
        return st->strs.a[i];
    if (!st->warned_ref)
        input_error(st->sink, 0, "pprof: string index %" PRIu64 " past the string table", i);
    st->warned_ref = true;
    return (str_span){ "", 0 };
}

/* Appends a frame name made safe for a folded line. */
static int put_name(cvec *out, str_span s)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.s[i];
        if (VEC_PUSH(*out, util_frame_char(c)) < 0)
            return -1;
    }
    return 0;
}

static int put_bytes(cvec *out, const char *s, size_t n)
{
    if (n == 0)
        return 0; /* out->a may still be NULL: no pointer arithmetic on it */
    if (!UTIL_RESERVE(out->a, out->cap, out->len + n))
        return -1;
    memcpy(out->a + out->len, s, n);
    out->len += n;
    return 0;
}

static int put_str(cvec *out, const char *s)
{
    for (; *s; s++)
        if (VEC_PUSH(*out, *s) < 0)
            return -1;
    return 0;
}

static int put_function(pp_state *st, cvec *out, uint64_t fn_id)
{
    pp_function *fn = find_id(st->fns.a, st->fns.len, sizeof(*fn), fn_id);
    if (!fn)
        return put_str(out, "[unknown]");
    /* flameprof's own files keep the folded frame (tags, JIT tier, location) there. */
    str_span name = str_at(st, st->system_is_folded ? fn->system_name : fn->name);
    if (name.n == 0)
        name = str_at(st, st->system_is_folded ? fn->name : fn->system_name);
    size_t at = out->len;
    if (put_name(out, name) < 0) /* may be empty: folded -> pprof -> folded keeps it */
        return -1;
    /* Its file, once, for the formats that hold it (a native frame's DWARF position). */
    str_span file = fn->filename ? str_at(st, fn->filename) : (str_span){ "", 0 };
    if (fn->sourced || !file.n || !st->sink->on_source || out->len == at)
        return 0;
    fn->sourced = true;
    unsigned line = fn->start_line <= UINT32_MAX ? (unsigned)fn->start_line : 0;
    return st->sink->on_source(st->sink->ctx, out->a + at, out->len - at, file.s, file.n,
                               line);
}

/* The location's frames, outermost first, the functions inlined into it tagged _[i]. */
static int location_text(pp_state *st, pp_location *loc)
{
    cvec t = { NULL, 0, 0 };
    int rc = 0;
    if (loc->nlines == 0) {
        pp_mapping *m = find_id(st->maps.a, st->maps.len, sizeof(*m), loc->mapping_id);
        char addr[40];
        str_span file = m ? str_at(st, m->filename) : (str_span){ "", 0 };
        const char *slash = file.n ? memrchr(file.s, '/', file.n) : NULL;
        if (slash)
            file = (str_span){ slash + 1, file.n - (size_t)(slash + 1 - file.s) };
        if (file.n && loc->address >= m->start) {
            snprintf(addr, sizeof(addr), "+0x%" PRIx64, loc->address - m->start + m->offset);
            rc = put_name(&t, file) < 0 || put_str(&t, addr) < 0 ? -1 : 0;
        } else {
            snprintf(addr, sizeof(addr), "0x%" PRIx64, loc->address);
            rc = put_str(&t, addr);
        }
    }
    for (size_t i = loc->nlines; rc == 0 && i-- > 0;) { /* lines are innermost first */
        bool inlined = i + 1 < loc->nlines;
        if ((inlined && VEC_PUSH(t, ';') < 0) ||
            put_function(st, &t, st->line_fns.a[loc->lines + i]) < 0 ||
            (inlined && put_str(&t, "_[i]") < 0))
            rc = -1;
    }
    if (rc < 0) {
        free(t.a);
        return -1;
    }
    loc->text = t.a ? t.a : calloc(1, 1);
    loc->text_len = t.len;
    return loc->text ? 0 : -1;
}

/* ---- pass 2: the samples ---- */

typedef struct pp_label {
    uint64_t key, str, num_unit;
    int64_t num;
} pp_label;

typedef VEC(pp_label) label_vec;

/* Which value is the weight: --sample-index as go tool pprof takes it. */
static int choose_value(pp_state *st)
{
    size_t n = st->types.len;
    const char *want = st->o->sample_index;
    st->value_index = n ? n - 1 : 0;
    if (!want || !*want) {
        if (!st->default_type)
            return 0;
        want = NULL;
    }
    if (want && want[strspn(want, "0123456789")] == '\0') {
        unsigned long i = strtoul(want, NULL, 10);
        if (i < n || (n == 0 && i == 0)) {
            st->value_index = i;
            return 0;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            str_span t = str_at(st, st->types.a[i]);
            bool match = want ? strlen(want) == t.n && memcmp(want, t.s, t.n) == 0
                              : st->types.a[i] == st->default_type;
            if (match) {
                st->value_index = i;
                return 0;
            }
        }
        if (!want)
            return 0; /* a default_sample_type that names no type: the last, as pprof does */
    }
    char list[256] = "";
    for (size_t i = 0, k = 0; i < n && k + 1 < sizeof(list); i++) {
        str_span t = str_at(st, st->types.a[i]);
        int w = snprintf(list + k, sizeof(list) - k, "%s%zu=%.*s", i ? ", " : "", i,
                         (int)(t.n > 40 ? 40 : t.n), t.s);
        k = w < 0 ? sizeof(list) : k + (size_t)w;
    }
    input_error(st->sink, 0, "pprof: no sample type '%s' (the profile has: %s)", want,
                n ? list : "none");
    return -1;
}

/* The label of key name, or NULL. */
static const pp_label *find_label(pp_state *st, const label_vec *labels, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < labels->len; i++) {
        str_span key = str_at(st, labels->a[i].key);
        if (key.n == n && memcmp(key.s, name, n) == 0)
            return &labels->a[i];
    }
    return NULL;
}

/* The labels "thread" (a name) and "thread_id" (a number), as output/pprof.c writes a
 * thread root "[name tid]", give the root back. */
static int put_thread_root(pp_state *st, const label_vec *labels)
{
    const pp_label *name = find_label(st, labels, "thread");
    const pp_label *tid = find_label(st, labels, "thread_id");
    if (!name || !name->str || !tid || tid->str || tid->num < 0)
        return 0;
    char num[32];
    snprintf(num, sizeof(num), " %" PRId64 "];", tid->num);
    if (VEC_PUSH(st->stack, '[') < 0 || put_name(&st->stack, str_at(st, name->str)) < 0 ||
        put_str(&st->stack, num) < 0)
        return -1;
    return 0;
}

static int put_tagroots(pp_state *st, const label_vec *labels)
{
    const char *k = st->o->tagroot;
    while (k && *k) {
        size_t kn = strcspn(k, ",");
        for (size_t i = 0; i < labels->len; i++) {
            const pp_label *l = &labels->a[i];
            str_span key = str_at(st, l->key);
            if (key.n != kn || memcmp(key.s, k, kn) != 0)
                continue;
            if (put_name(&st->stack, key) < 0 || VEC_PUSH(st->stack, ':') < 0)
                return -1;
            if (l->str) {
                if (put_name(&st->stack, str_at(st, l->str)) < 0)
                    return -1;
            } else {
                char num[32];
                snprintf(num, sizeof(num), "%" PRId64, l->num);
                str_span unit = str_at(st, l->num_unit);
                if (put_str(&st->stack, num) < 0 || (unit.n && put_name(&st->stack, unit) < 0))
                    return -1;
            }
            if (VEC_PUSH(st->stack, ';') < 0)
                return -1;
            break;
        }
        k += kn + (k[kn] == ',');
    }
    return 0;
}

static int read_label(pp_state *st, pbr r, label_vec *labels)
{
    uint64_t v[LABEL_NUM_UNIT + 1];
    if (!read_varints(st, r, v, LABEL_NUM_UNIT + 1))
        return -1;
    pp_label l = { v[LABEL_KEY], v[LABEL_STR], v[LABEL_NUM_UNIT], (int64_t)v[LABEL_NUM] };
    return VEC_PUSH(*labels, l);
}

static int read_sample_emit(pp_state *st, int64_t value)
{
    input_sample smp = { st->stack.a, st->stack.len, (uint64_t)value, INPUT_NO_TIME };
    return st->sink->on_sample(st->sink->ctx, &smp);
}

/* Returns 0, 1 if the sample was skipped as malformed, -1 to stop. */
static int read_sample(pp_state *st, pbr r, size_t at, label_vec *labels)
{
    st->sample_locs.len = st->sample_values.len = labels->len = 0;
    pb_field f;
    while (rd_field(&r, st->base, &f)) {
        int rc = 0;
        if (f.num == SAMPLE_LOCATION_ID)
            rc = each_u64(&f, push_u64, &st->sample_locs);
        else if (f.num == SAMPLE_VALUE)
            rc = each_u64(&f, push_u64, &st->sample_values);
        else if (f.num == SAMPLE_LABEL && f.wire == WIRE_LEN)
            rc = read_label(st, f.sub, labels);
        if (rc < 0)
            r.bad = true;
    }
    if (r.bad || st->sample_values.len <= st->value_index) {
        input_error(st->sink, 0, "pprof: sample at byte %zu: %s; skipped", at,
                    r.bad ? "malformed" : "too few values");
        return 1;
    }
    int64_t value = (int64_t)st->sample_values.a[st->value_index];
    if (value <= 0) {
        if (value < 0 && !st->warned_negative)
            input_error(st->sink, 0, "pprof: negative values (a delta profile?) skipped");
        st->warned_negative |= value < 0;
        return 0;
    }
    st->stack.len = 0;
    if (put_thread_root(st, labels) < 0 || put_tagroots(st, labels) < 0)
        return -1;
    for (size_t i = st->sample_locs.len; i-- > 0;) {
        pp_location *loc = find_id(st->locs.a, st->locs.len, sizeof(*loc), st->sample_locs.a[i]);
        if (!loc) {
            input_error(st->sink, 0, "pprof: sample at byte %zu: no location %" PRIu64
                        "; skipped", at, st->sample_locs.a[i]);
            return 1;
        }
        if (!loc->text && location_text(st, loc) < 0)
            return -1;
        if (put_bytes(&st->stack, loc->text, loc->text_len) < 0)
            return -1;
        if (i > 0 && VEC_PUSH(st->stack, ';') < 0)
            return -1;
    }
    if (st->stack.len && st->stack.a[st->stack.len - 1] == ';')
        st->stack.len--; /* tag roots of a sample without locations */
    if (st->stack.len == 0 && put_str(&st->stack, "[no stack]") < 0)
        return -1;
    return read_sample_emit(st, value);
}

static int read_samples(pp_state *st, pbr r)
{
    label_vec labels = { NULL, 0, 0 };
    pb_field f;
    int rc = 0;
    while (rc >= 0 && rd_field(&r, st->base, &f)) {
        if (f.num == PROFILE_SAMPLE && f.wire == WIRE_LEN) {
            rc = read_sample(st, f.sub, f.at, &labels);
            st->bad += rc > 0;
        }
    }
    free(labels.a);
    return rc < 0 ? -1 : 0;
}

/* The whole (decompressed) input in memory. */
static unsigned char *slurp(input_stream *in, const input_sink *sink, size_t *len)
{
    size_t cap = 1 << 20, n = 0;
    unsigned char *b = malloc(cap);
    for (;;) {
        if (!b) {
            input_error(sink, 0, "pprof: out of memory");
            return NULL;
        }
        ssize_t got = input_stream_read(in, b + n, cap - n);
        if (got < 0) {
            input_error(sink, 0, "%s", input_stream_error(in));
            free(b);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
        if (n == cap) {
            if (cap >= PPROF_MAX_BYTES) {
                input_error(sink, 0, "pprof: more than 2 GB; not a profile this reads");
                free(b);
                return NULL;
            }
            unsigned char *b2 = realloc(b, cap * 2);
            if (!b2)
                free(b);
            b = b2;
            cap *= 2;
        }
    }
    *len = n;
    return b;
}

static void sort_by_id(void *a, size_t n, size_t size)
{
    if (n > 1) /* qsort wants a non-NULL array even for none */
        qsort(a, n, size, cmp_id);
}

static int sort_tables(pp_state *st)
{
    sort_by_id(st->fns.a, st->fns.len, sizeof(*st->fns.a));
    sort_by_id(st->maps.a, st->maps.len, sizeof(*st->maps.a));
    sort_by_id(st->locs.a, st->locs.len, sizeof(*st->locs.a));
    return 0;
}

long pprof_read(input_stream *in, const pprof_read_opts *o, const input_sink *sink)
{
    size_t len;
    unsigned char *data = slurp(in, sink, &len);
    if (!data)
        return -1;
    pp_state st;
    memset(&st, 0, sizeof(st));
    st.sink = sink;
    st.o = o;
    st.base = data;
    pbr all = { data, data + len, false };
    int rc = read_tables(&st, all);
    if (rc == 0 && (st.strs.len == 0 || st.strs.a[0].n != 0)) {
        input_error(sink, 0, "pprof: not a pprof profile (no string table starting with \"\")");
        rc = -1;
    }
    if (rc == 0)
        rc = sort_tables(&st);
    if (rc == 0)
        rc = choose_value(&st);
    if (rc == 0)
        rc = read_samples(&st, all);
    for (size_t i = 0; i < st.locs.len; i++)
        free(st.locs.a[i].text);
    free(st.strs.a);
    free(st.types.a);
    free(st.fns.a);
    free(st.maps.a);
    free(st.locs.a);
    free(st.line_fns.a);
    free(st.comments.a);
    free(st.sample_locs.a);
    free(st.sample_values.a);
    free(st.stack.a);
    free(data);
    return rc < 0 ? -1 : st.bad;
}
