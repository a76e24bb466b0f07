/* json_in.c - JSON streamed through yajl, with paths and places. See json_in.h. */
#include "json_in.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "frame_name.h"

#define JSON_IN_CHUNK (64u << 10)

/* Counts lines and columns in the chunk up to byte `to` (callbacks come in order within a
 * chunk, so the whole input is scanned once however many places are asked for). */
static void advance(json_in *j, size_t to)
{
    if (!j->chunk || to <= j->scan)
        return;
    if (to > j->chunk_len)
        to = j->chunk_len;
    const unsigned char *p = j->chunk + j->scan, *end = j->chunk + to;
    while (p < end) {
        const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            j->col += (size_t)(end - p);
            break;
        }
        j->line++;
        j->col = 1;
        p = nl + 1;
    }
    j->scan = to;
}

void json_in_where(json_in *j, size_t *line, size_t *col, uint64_t *byte)
{
    advance(j, yajl_get_bytes_consumed(j->yajl));
    *line = j->line;
    *col = j->col;
    if (byte)
        *byte = j->chunk_at + j->scan;
}

static void verror_at(json_in *j, size_t line, size_t col, const char *fmt, va_list ap)
{
    char msg[400];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    input_error(j->sink, line, "%s: %s (column %zu)", j->what, msg, col);
}

void json_in_error_at(json_in *j, size_t line, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror_at(j, line, col, fmt, ap);
    va_end(ap);
}

void json_in_error(json_in *j, const char *fmt, ...)
{
    size_t line, col;
    json_in_where(j, &line, &col, NULL);
    va_list ap;
    va_start(ap, fmt);
    verror_at(j, line, col, fmt, ap);
    va_end(ap);
}

/* ---- yajl's callbacks: each value to the reader, with its place ---- */

static int deliver(json_in *j, const json_value *v)
{
    if (j->depth == 0 && v->kind != JSON_OBJECT && v->kind != JSON_END) {
        json_in_error(j, "the document is %s, not an object", json_in_kind_name(v));
        j->stopped = true;
        return 0;
    }
    if (j->handler(j->ctx, j, v) < 0) {
        j->stopped = true;
        return 0; /* yajl stops: client_canceled */
    }
    return 1;
}

static int scalar(json_in *j, const json_value *v)
{
    int ok = deliver(j, v);
    if (j->depth > 0 && j->lv[j->depth].array)
        j->lv[j->depth].index++;
    return ok;
}

static int on_null(void *ctx)
{
    json_value v = { .kind = JSON_NULL };
    return scalar(ctx, &v);
}

static int on_bool(void *ctx, int b)
{
    json_value v = { .kind = JSON_BOOL, .len = b != 0 };
    return scalar(ctx, &v);
}

/* A whole number that fits int64, without strtoll's copy (the number is not terminated). */
static bool parse_int(const char *s, size_t n, int64_t *out)
{
    bool neg = n > 0 && s[0] == '-';
    uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    size_t i = neg;
    if (i == n)
        return false;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (acc > (limit - d) / 10)
            return false;
        acc = acc * 10 + d;
    }
    *out = !neg ? (int64_t)acc : acc > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)acc;
    return true;
}

static int on_number(void *ctx, const char *s, size_t n)
{
    json_value v = { .kind = JSON_NUMBER };
    if (parse_int(s, n, &v.i)) {
        v.is_int = true;
        v.d = (double)v.i;
    } else {
        char small[64], *copy = n < sizeof(small) ? small : malloc(n + 1);
        if (!copy) {
            errno = ENOMEM;
            ((json_in *)ctx)->stopped = true;
            return 0;
        }
        memcpy(copy, s, n);
        copy[n] = '\0';
        v.d = strtod(copy, NULL); /* yajl checked the syntax; 1e999 gives HUGE_VAL */
        if (copy != small)
            free(copy);
    }
    return scalar(ctx, &v);
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
    json_value v = { .kind = JSON_STRING, .s = (const char *)s, .len = n };
    return scalar(ctx, &v);
}

static int open_container(json_in *j, bool array)
{
    json_value v = { .kind = array ? JSON_ARRAY : JSON_OBJECT };
    if (!deliver(j, &v))
        return 0;
    if (j->depth >= JSON_IN_MAX_DEPTH) {
        json_in_error(j, "JSON nested deeper than %d levels: not read", JSON_IN_MAX_DEPTH);
        j->stopped = true;
        return 0;
    }
    j->lv[++j->depth] = (json_level){ array, 0, 0, 0 };
    return 1;
}

static int close_container(json_in *j, bool array)
{
    j->depth--;
    json_value v = { .kind = JSON_END, .end_of_array = array };
    return scalar(j, &v);
}

static int on_start_map(void *ctx) { return open_container(ctx, false); }
static int on_end_map(void *ctx) { return close_container(ctx, false); }
static int on_start_array(void *ctx) { return open_container(ctx, true); }
static int on_end_array(void *ctx) { return close_container(ctx, true); }

static int on_key(void *ctx, const unsigned char *key, size_t n)
{
    json_in *j = ctx;
    json_level *l = &j->lv[j->depth];
    l->key = 0;
    for (int k = 0; j->keys[k]; k++) {
        if (strlen(j->keys[k]) == n && memcmp(j->keys[k], key, n) == 0) {
            l->key = k + 1;
            break;
        }
    }
    if (l->key) {
        uint32_t bit = 1u << l->key;
        if (l->seen & bit) {
            json_in_error(j, "the key \"%.*s\" twice in one object", (int)n, (const char *)key);
            j->stopped = true;
            return 0;
        }
        l->seen |= bit;
    }
    return 1;
}

static const yajl_callbacks callbacks = {
    on_null, on_bool, NULL, NULL, on_number, on_string,
    on_start_map, on_key, on_end_map, on_start_array, on_end_array,
};

/* yajl's message without its line break: "parse error: premature EOF". */
static void syntax_error(json_in *j)
{
    size_t line, col;
    uint64_t byte;
    json_in_where(j, &line, &col, &byte);
    unsigned char *e = yajl_get_error(j->yajl, 0, NULL, 0);
    size_t n = e ? strlen((char *)e) : 0;
    while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' ' || e[n - 1] == '.'))
        n--;
    input_error(j->sink, line, "JSON: %.*s (column %zu, byte %llu)", (int)n,
                e ? (char *)e : "syntax error", col, (unsigned long long)byte);
    if (e)
        yajl_free_error(j->yajl, e);
}

int json_in_parse(json_in *j, input_stream *in, const input_sink *sink, const char *what,
                  const char *const *keys, json_in_handler handler, void *ctx)
{
    memset(j, 0, sizeof(*j));
    j->sink = sink;
    j->what = what;
    j->keys = keys;
    j->handler = handler;
    j->ctx = ctx;
    j->line = j->col = 1;
    unsigned char *buf = malloc(JSON_IN_CHUNK);
    j->yajl = buf ? yajl_alloc(&callbacks, NULL, j) : NULL;
    if (!j->yajl) {
        free(buf);
        errno = ENOMEM;
        return -1;
    }
    int rc = 0;
    for (;;) {
        ssize_t got = input_stream_read(in, buf, JSON_IN_CHUNK);
        if (got < 0) {
            input_error(sink, 0, "%s", input_stream_error(in));
            rc = -1;
            break;
        }
        j->chunk = buf;
        j->chunk_len = (size_t)got;
        j->scan = 0;
        yajl_status st = got > 0 ? yajl_parse(j->yajl, buf, (size_t)got)
                                 : yajl_complete_parse(j->yajl);
        if (st != yajl_status_ok) {
            if (!j->stopped)
                syntax_error(j);
            rc = -1;
            break;
        }
        if (got == 0)
            break;
        advance(j, (size_t)got);
        j->chunk_at += (uint64_t)got;
    }
    yajl_free(j->yajl);
    j->yajl = NULL;
    j->chunk = NULL;
    free(buf);
    return rc;
}

bool json_in_int(const json_value *v, int64_t *out)
{
    if (v->kind != JSON_NUMBER || !v->is_int)
        return false;
    *out = v->i;
    return true;
}

bool json_in_real(const json_value *v, double *out)
{
    if (v->kind != JSON_NUMBER || !(v->d - v->d == 0)) /* not inf, not nan */
        return false;
    *out = v->d;
    return true;
}

const char *json_in_kind_name(const json_value *v)
{
    switch (v->kind) {
    case JSON_NULL: return "null";
    case JSON_BOOL: return "a boolean";
    case JSON_NUMBER: return v->is_int ? "an integer" : "a number";
    case JSON_STRING: return "a string";
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    default: return "the end";
    }
}

int json_text_frame(input_buf *t, const char *name, size_t n)
{
    if (t->len && input_buf_put(t, ";", 1) < 0)
        return -1;
    if (n == 0)
        return input_buf_put(t, "[unknown]", 9);
    size_t at = t->len;
    if (input_buf_put(t, name, n) < 0)
        return -1;
    for (size_t i = at; i < t->len; i++)
        t->s[i] = util_frame_char((unsigned char)t->s[i]);
    return 0;
}

double json_in_ns_per(const char *unit, size_t n)
{
    static const struct { const char *name; double ns; } units[] = {
        { "nanoseconds", 1 }, { "microseconds", 1e3 }, { "milliseconds", 1e6 },
        { "seconds", 1e9 },
    };
    for (size_t i = 0; unit && i < sizeof(units) / sizeof(*units); i++)
        if (strlen(units[i].name) == n && memcmp(unit, units[i].name, n) == 0)
            return units[i].ns;
    return 0;
}
