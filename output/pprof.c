/* pprof.c - hand-encoded profile.proto, gzip'ed with zlib. See pprof.h.
 *
 * protobuf wire format, all this needs of it: a field is a varint key (number << 3 | wire
 * type) then a varint (type 0) or a varint length and that many bytes (type 2: strings,
 * sub-messages, packed repeated numbers). Fields may come in any order and repeated ones
 * may be spread out, so samples are encoded and compressed as they are read, and the
 * tables they refer to (locations, functions, strings) follow at the end. */
#include "pprof.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "array.h"
#include "frame_source.h"
#include "intern.h"
#include "thread_root.h"
#include "utf8.h"

/* profile.proto field numbers. */
enum {
    PROFILE_SAMPLE_TYPE = 1, PROFILE_SAMPLE = 2, PROFILE_MAPPING = 3, PROFILE_LOCATION = 4,
    PROFILE_FUNCTION = 5, PROFILE_STRING_TABLE = 6, PROFILE_PERIOD_TYPE = 11,
    PROFILE_TIME_NANOS = 9, PROFILE_DURATION_NANOS = 10, PROFILE_PERIOD = 12,
    PROFILE_COMMENT = 13,
    VALUE_TYPE_TYPE = 1, VALUE_TYPE_UNIT = 2,
    SAMPLE_LOCATION_ID = 1, SAMPLE_VALUE = 2, SAMPLE_LABEL = 3,
    LABEL_KEY = 1, LABEL_STR = 2, LABEL_NUM = 3,
    MAPPING_ID = 1, MAPPING_START = 2, MAPPING_LIMIT = 3, MAPPING_OFFSET = 4,
    MAPPING_FILENAME = 5, MAPPING_BUILD_ID = 6, MAPPING_HAS_FUNCTIONS = 7,
    LOCATION_ID = 1, LOCATION_LINE = 4,
    LINE_FUNCTION_ID = 1, LINE_LINE = 2, LINE_COLUMN = 3,
    FUNCTION_ID = 1, FUNCTION_NAME = 2, FUNCTION_SYSTEM_NAME = 3, FUNCTION_FILENAME = 4,
    FUNCTION_START_LINE = 5,
};
enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* Strings known before any frame: their indexes are fixed. */
enum { STR_EMPTY, STR_SAMPLES, STR_COUNT, STR_CPU, STR_NANOSECONDS, STR_MAPPING, STR_COMMENT,
       STR_FIXED };
static const char *const fixed_strings[STR_FIXED] = { "", "samples", "count", "cpu",
                                                       "nanoseconds", "flameprof",
                                                       PPROF_SYSTEM_NAME_COMMENT };

/* ---- a growable byte buffer ---- */

typedef struct pb {
    unsigned char *b;
    size_t len, cap;
    bool oom;
} pb;

static bool pb_room(pb *p, size_t n)
{
    if (!p->oom && !UTIL_RESERVE(p->b, p->cap, p->len + n))
        p->oom = true;
    return !p->oom;
}

static void pb_mem(pb *p, const void *s, size_t n)
{
    if (n && pb_room(p, n)) {
        memcpy(p->b + p->len, s, n);
        p->len += n;
    }
}

static void pb_varint(pb *p, uint64_t v)
{
    unsigned char tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_mem(p, tmp, n);
}

static void pb_key(pb *p, unsigned field, unsigned wire)
{
    pb_varint(p, (uint64_t)field << 3 | wire);
}

/* A number field; zero is the default and is left out, as protobuf encoders do. */
static void pb_uint(pb *p, unsigned field, uint64_t v)
{
    if (v) {
        pb_key(p, field, WIRE_VARINT);
        pb_varint(p, v);
    }
}

static void pb_bytes(pb *p, unsigned field, const void *s, size_t n)
{
    pb_key(p, field, WIRE_LEN);
    pb_varint(p, n);
    pb_mem(p, s, n);
}

/* A sub-message (or packed numbers) built in sub, then cleared for the next one. */
static void pb_sub(pb *p, unsigned field, pb *sub)
{
    pb_bytes(p, field, sub->b, sub->len);
    p->oom |= sub->oom;
    sub->len = 0;
}

/* ---- gzip output ---- */

typedef struct gz {
    z_stream z;
    FILE *f;
    bool err;
} gz;

/* Compresses p's bytes to the file and empties p. */
static void gz_put(gz *g, pb *p, int flush)
{
    unsigned char out[1 << 15];
    g->z.next_in = p->b;
    g->z.avail_in = (uInt)p->len;
    do {
        g->z.next_out = out;
        g->z.avail_out = sizeof(out);
        int rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR) {
            g->err = true;
            break;
        }
        size_t n = sizeof(out) - g->z.avail_out;
        if (n && fwrite(out, 1, n, g->f) != n)
            g->err = true;
    } while (g->z.avail_out == 0 && !g->err);
    p->len = 0;
}

/* ---- the profile ---- */

/* A Function: string indexes of its parts, and the line its frame names. */
typedef struct fn_info {
    uint32_t name, system_name, filename;
    uint32_t line, col;
} fn_info;

typedef struct conv {
    intern_table strings, functions, locations;
    fn_info *fn;             /* per function */
    uint32_t *loc_lines;     /* function ids (1-based) of every location, innermost first */
    size_t *loc_first;       /* where each location's lines start in loc_lines */
    size_t nlines, lines_cap, fn_cap, loc_cap;
    uint64_t *ids;           /* one sample's location ids, leaf first */
    char *build_ids;         /* the mappings' build-ids in hex: the string table points here */
    size_t ids_cap;
    const frame_sources *sources; /* the profile's, for native frames' file and line */
    long what;               /* meta->what's string, or -1 */
    bool oom;
} conv;

static bool has_inline_tag(const char *s, size_t n)
{
    return n > 4 && memcmp(s + n - 4, "_[i]", 4) == 0;
}

static uint32_t string_id(conv *c, const char *s, size_t n)
{
    long str = intern(&c->strings, s, n, NULL);
    c->oom |= str < 0;
    return str < 0 ? 0 : (uint32_t)str;
}

static uint32_t clamp_line(long v)
{
    return v > 0 && v <= INT32_MAX ? (uint32_t)v : 0;
}

/* The 1-based id of the function of frame s[0..n): named by the frame's parts, its text
 * without "_[i]" (a location's lines say which are inlined) the system name. */
static uint64_t function_id(conv *c, const char *s, size_t n)
{
    int added;
    size_t key = has_inline_tag(s, n) ? n - 4 : n;
    long id = intern(&c->functions, s, key, &added);
    if (id < 0 || !UTIL_RESERVE(c->fn, c->fn_cap, (size_t)id + 1)) {
        c->oom = true;
        return 0;
    }
    if (added) {
        frame_parts fp;
        frame_source_parse(c->sources, s, n, &fp);
        fn_info *f = &c->fn[id];
        f->name = string_id(c, fp.name, fp.name_len);
        f->system_name = string_id(c, s, key);
        f->filename = fp.file ? string_id(c, fp.file, fp.file_len) : 0;
        f->line = clamp_line(fp.line);
        f->col = clamp_line(fp.col);
    }
    return (uint64_t)id + 1;
}

/* The 1-based id of the location whose frames, root first, are s[0..n): a frame and the
 * frames inlined into it. A new location records its lines innermost first. */
static uint64_t location_id(conv *c, const char *s, size_t n)
{
    int added;
    long id = intern(&c->locations, s, n, &added);
    if (id < 0 || !UTIL_RESERVE(c->loc_first, c->loc_cap, (size_t)id + 2)) {
        c->oom = true;
        return 0;
    }
    if (added) {
        size_t end = n;
        for (;;) {
            const char *semi = memrchr(s, ';', end);
            size_t start = semi ? (size_t)(semi - s) + 1 : 0, len = end - start;
            uint64_t fn = function_id(c, s + start, len);
            if (!UTIL_RESERVE(c->loc_lines, c->lines_cap, c->nlines + 1)) {
                c->oom = true;
                return 0;
            }
            c->loc_lines[c->nlines++] = (uint32_t)fn;
            if (!semi)
                break;
            end = start - 1;
        }
        c->loc_first[id] = c->nlines; /* the end of this one; fixed up below */
    }
    return (uint64_t)id + 1;
}

/* The thread root "[name tid]" that starts s, if it is one the labels give back exactly:
 * a name, and tid in 1..18 digits without leading zeros. Returns the root's length (0: none),
 * its tid in *tid and its name's length in *name_len (the name starts at s + 1). */
static size_t thread_root(const char *s, size_t len, uint64_t *tid, size_t *name_len)
{
    const char *semi = memchr(s, ';', len);
    size_t n = semi ? (size_t)(semi - s) : len, d;
    if (!util_thread_root(s, n, &d) || d < 3 || n - 1 - d > 18 ||
        (s[d] == '0' && n - 1 - d > 1))
        return 0;
    *tid = 0;
    for (size_t i = d; i < n - 1; i++)
        *tid = *tid * 10 + (uint64_t)(s[i] - '0');
    *name_len = d - 2;
    return n;
}

/* The labels "thread" (its name) and "thread_id" (numeric) of a thread root. */
static void encode_thread_labels(conv *c, pb *sub, pb *tmp, const char *name, size_t n,
                                 uint64_t tid)
{
    pb_uint(tmp, LABEL_KEY, string_id(c, "thread", 6));
    pb_uint(tmp, LABEL_STR, string_id(c, name, n));
    pb_sub(sub, SAMPLE_LABEL, tmp);
    pb_uint(tmp, LABEL_KEY, string_id(c, "thread_id", 9));
    pb_uint(tmp, LABEL_NUM, tid);
    pb_sub(sub, SAMPLE_LABEL, tmp);
}

/* One sample: the stack cut into locations, their ids leaf first, and both values; a
 * thread root becomes labels, not a location. */
static void encode_sample(conv *c, pb *out, pb *sub, pb *packed, const folded_entry *e,
                          uint64_t period)
{
    const char *s = e->stack;
    size_t len = strlen(s), n = 0, start = 0, name_len = 0;
    uint64_t tid = 0;
    size_t root = thread_root(s, len, &tid, &name_len);
    if (root)
        start = root + 1; /* past the ';' (or the end: a stack of the root alone) */
    while (start < len) {
        /* A location: one frame, then the frames tagged inlined that follow it. */
        size_t end = start;
        for (bool first = true;; first = false) {
            const char *semi = memchr(s + end, ';', len - end);
            size_t fend = semi ? (size_t)(semi - s) : len;
            if (!first && !has_inline_tag(s + end, fend - end))
                break;
            end = fend + 1;
            if (!semi)
                break;
        }
        size_t loc_end = end > len ? len : end - 1;
        if (!UTIL_RESERVE(c->ids, c->ids_cap, n + 1)) {
            c->oom = true;
            return;
        }
        c->ids[n++] = location_id(c, s + start, loc_end - start);
        start = end;
    }
    for (size_t i = n; i-- > 0;) /* leaf first */
        pb_varint(packed, c->ids[i]);
    pb_sub(sub, SAMPLE_LOCATION_ID, packed);
    /* int64 values: a count times the period past 2^63 is capped, not wrapped. */
    uint64_t cpu = period && e->count > (uint64_t)INT64_MAX / period ? (uint64_t)INT64_MAX
                                                                     : e->count * period;
    pb_varint(packed, e->count > (uint64_t)INT64_MAX ? (uint64_t)INT64_MAX : e->count);
    pb_varint(packed, cpu);
    pb_sub(sub, SAMPLE_VALUE, packed);
    if (root)
        encode_thread_labels(c, sub, packed, s + 1, name_len, tid);
    pb_sub(out, PROFILE_SAMPLE, sub);
}

static void encode_value_type(pb *out, pb *sub, unsigned field, uint64_t type, uint64_t unit)
{
    pb_uint(sub, VALUE_TYPE_TYPE, type);
    pb_uint(sub, VALUE_TYPE_UNIT, unit);
    pb_sub(out, field, sub);
}

/* A string of the table, with U+FFFD for bytes that are not UTF-8. */
static void encode_string(pb *out, pb *tmp, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = i;
        while (k < n && u[k] < 0x80)
            k++;
        pb_mem(tmp, s + i, k - i);
        if (k == n)
            break;
        size_t len = utf8_len(u + k, n - k);
        if (len)
            pb_mem(tmp, s + k, len);
        else
            pb_mem(tmp, UTF8_REPLACEMENT, 3);
        i = k + (len ? len : 1);
    }
    pb_sub(out, PROFILE_STRING_TABLE, tmp);
}

/* The mappings: the modules of meta (the main executable first), or one named "flameprof"
 * when there are none. No location refers to one (pprof.h). */
static void encode_mappings(conv *c, pb *out, pb *sub, const pprof_meta *meta)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = meta ? meta->nmappings : 0;
    c->build_ids = n ? malloc(n * 2 * PPROF_BUILD_ID_MAX) : NULL;
    c->oom |= n && !c->build_ids;
    for (size_t i = 0; i < (n ? n : 1); i++) {
        const pprof_mapping *m = n ? &meta->mappings[i] : NULL;
        pb_uint(sub, MAPPING_ID, i + 1);
        if (m) {
            pb_uint(sub, MAPPING_START, m->start);
            pb_uint(sub, MAPPING_LIMIT, m->limit);
            pb_uint(sub, MAPPING_OFFSET, m->offset);
        }
        pb_uint(sub, MAPPING_FILENAME,
                m && m->file ? string_id(c, m->file, strlen(m->file)) : STR_MAPPING);
        if (m && m->build_id_len && c->build_ids) {
            char *id = c->build_ids + i * 2 * PPROF_BUILD_ID_MAX;
            size_t len = m->build_id_len < PPROF_BUILD_ID_MAX ? m->build_id_len
                                                              : PPROF_BUILD_ID_MAX;
            for (size_t k = 0; k < len; k++) {
                id[2 * k] = hex[m->build_id[k] >> 4];
                id[2 * k + 1] = hex[m->build_id[k] & 15];
            }
            pb_uint(sub, MAPPING_BUILD_ID, string_id(c, id, 2 * len));
        }
        pb_uint(sub, MAPPING_HAS_FUNCTIONS, 1);
        pb_sub(out, PROFILE_MAPPING, sub);
    }
}

static void encode_functions(conv *c, pb *out, pb *sub, gz *g)
{
    for (size_t i = 0; i < c->functions.len; i++) {
        const fn_info *f = &c->fn[i];
        pb_uint(sub, FUNCTION_ID, i + 1);
        pb_uint(sub, FUNCTION_NAME, f->name);
        pb_uint(sub, FUNCTION_SYSTEM_NAME, f->system_name);
        pb_uint(sub, FUNCTION_FILENAME, f->filename);
        pb_uint(sub, FUNCTION_START_LINE, f->line);
        pb_sub(out, PROFILE_FUNCTION, sub);
        if (out->len > (1 << 18))
            gz_put(g, out, Z_NO_FLUSH);
    }
}

/* Everything but the samples, which were already written. */
static void encode_tables(conv *c, pb *out, pb *sub, pb *line, uint64_t period,
                          const pprof_meta *meta, gz *g)
{
    encode_value_type(out, sub, PROFILE_PERIOD_TYPE, STR_CPU, STR_NANOSECONDS);
    pb_uint(out, PROFILE_PERIOD, period);
    if (meta) {
        pb_uint(out, PROFILE_TIME_NANOS, (uint64_t)meta->time_nanos);
        pb_uint(out, PROFILE_DURATION_NANOS, (uint64_t)meta->duration_nanos);
    }
    pb_uint(out, PROFILE_COMMENT, STR_COMMENT);
    if (c->what >= 0)
        pb_uint(out, PROFILE_COMMENT, (uint64_t)c->what);
    encode_mappings(c, out, sub, meta); /* before the strings: it adds some */

    /* loc_first[i] holds where location i's lines end: they were appended in order. */
    size_t begin = 0;
    for (size_t i = 0; i < c->locations.len; i++) {
        size_t end = c->loc_first[i];
        pb_uint(sub, LOCATION_ID, i + 1);
        for (size_t k = begin; k < end; k++) {
            const fn_info *f = &c->fn[c->loc_lines[k] - 1];
            pb_uint(line, LINE_FUNCTION_ID, c->loc_lines[k]);
            pb_uint(line, LINE_LINE, f->line);
            pb_uint(line, LINE_COLUMN, f->col);
            pb_sub(sub, LOCATION_LINE, line);
        }
        pb_sub(out, PROFILE_LOCATION, sub);
        begin = end;
        if (out->len > (1 << 18))
            gz_put(g, out, Z_NO_FLUSH);
    }
    encode_functions(c, out, sub, g);
    for (size_t i = 0; i < c->strings.len; i++) {
        encode_string(out, sub, c->strings.strs[i].s, c->strings.strs[i].len);
        if (out->len > (1 << 18))
            gz_put(g, out, Z_NO_FLUSH);
    }
}

int pprof_write(const folded_profile *p, unsigned hz, const pprof_meta *meta, FILE *f)
{
    const char *kind = meta && meta->kind ? meta->kind : "cpu";
    uint64_t period = hz ? (1000000000u + hz / 2) / hz : 0;
    conv c;
    memset(&c, 0, sizeof(c));
    c.sources = p->sources;
    intern_init(&c.strings);
    intern_init(&c.functions);
    intern_init(&c.locations);
    for (int i = 0; i < STR_FIXED; i++) {
        const char *str = i == STR_CPU ? kind : fixed_strings[i]; /* "cpu" or "wall" */
        c.oom |= intern(&c.strings, str, strlen(str), NULL) != i;
    }
    c.what = meta && meta->what ? intern(&c.strings, meta->what, strlen(meta->what), NULL) : -1;

    gz g = { .f = f };
    /* windowBits 15 + 16: a gzip wrapper; zlib writes a zero time stamp, so identical
     * input gives identical bytes. */
    if (deflateInit2(&g.z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    pb out = { 0 }, sub = { 0 }, packed = { 0 };
    encode_value_type(&out, &sub, PROFILE_SAMPLE_TYPE, STR_SAMPLES, STR_COUNT);
    encode_value_type(&out, &sub, PROFILE_SAMPLE_TYPE, STR_CPU, STR_NANOSECONDS);
    for (size_t i = 0; i < p->len && !c.oom; i++) {
        encode_sample(&c, &out, &sub, &packed, &p->entries[i], period);
        if (out.len > (1 << 18))
            gz_put(&g, &out, Z_NO_FLUSH);
    }
    if (!c.oom)
        encode_tables(&c, &out, &sub, &packed, period, meta, &g);
    bool oom = c.oom || out.oom || sub.oom || packed.oom;
    if (!oom)
        gz_put(&g, &out, Z_FINISH);
    deflateEnd(&g.z);
    free(out.b);
    free(sub.b);
    free(packed.b);
    free(c.fn);
    free(c.loc_lines);
    free(c.loc_first);
    free(c.ids);
    free(c.build_ids);
    intern_free(&c.strings);
    intern_free(&c.functions);
    intern_free(&c.locations);
    if (oom || g.err || fflush(f) == EOF || ferror(f))
        return -1;
    return 0;
}
