/* cpuprofile.c - V8 CPU profiles, streamed. See cpuprofile.h. */
#include "cpuprofile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "idcount.h"
#include "json_in.h"
#include "tape.h"

/* A frame name longer than this is cut (as the reader always did). */
#define V8_NAME_MAX 4095

enum {
    K_NODES = 1, K_SAMPLES, K_DELTAS, K_START, K_PROFILE, K_ID, K_CALLFRAME, K_CHILDREN,
    K_HITS, K_FN, K_URL, K_LINE,
};
static const char *const v8_keys[] = {
    "nodes", "samples", "timeDeltas", "startTime", "profile", "id", "callFrame", "children",
    "hitCount", "functionName", "url", "lineNumber", NULL,
};

typedef struct v8_node {
    int64_t id;
    char *name;          /* "FUNCTION URL:LINE"; NULL for "(root)", which is no frame */
    size_t name_len;
    int64_t hits;        /* hitCount, -1 if none */
    size_t parent;       /* index, SIZE_MAX for none */
    char *stack;         /* frames root first, made when a sample first needs them */
    size_t stack_len;
    size_t line, col;    /* where the node is in the file */
} v8_node;

typedef struct v8_child {
    size_t parent;       /* index of the node that lists it */
    int64_t id;
    size_t line, col;
} v8_child;

/* The node being read: its members come in any order. */
typedef struct v8_cur {
    bool has_id;
    int64_t id, hits, line_no;
    bool has_line, has_fn, has_url;
    input_buf fn, url;
    size_t line, col;
} v8_cur;

typedef struct v8_state {
    const input_sink *sink;
    json_in j;
    v8_node *nodes;
    size_t n, cap;
    size_t *by_id;       /* node indexes sorted by id, made at the end */
    v8_child *kids;
    size_t nkids, kcap;
    v8_cur cur;
    bool has_nodes, has_samples, has_deltas, has_start;
    bool nodes_done, samples_done; /* their arrays ended */
    bool linked;         /* link_tree done */
    bool streaming;      /* timeDeltas paired with the taped samples as they come */
    bool stream_timed;   /* their times still good */
    int64_t start_us, t_us;
    idcount counts;      /* samples per node id, with the place of the first */
    input_tape samples, deltas; /* in order, for a sink that wants times */
    size_t nsamples, ndeltas;
    long bad;
} v8_state;

static bool complain(v8_state *st)
{
    return st->bad++ < 10;
}

/* ---- while the document streams ---- */

static int node_begin(v8_state *st, json_in *j)
{
    input_buf fn = st->cur.fn, url = st->cur.url;
    fn.len = url.len = 0;
    st->cur = (v8_cur){ .fn = fn, .url = url, .hits = -1 };
    json_in_where(j, &st->cur.line, &st->cur.col, NULL);
    return 0;
}

/* "FUNCTION URL:LINE" of the node just read, as the reader always made it. */
static int node_name(v8_cur *c, char **out, size_t *out_len)
{
    bool root = c->has_fn && c->fn.len == 6 && memcmp(c->fn.s, "(root)", 6) == 0;
    *out = NULL;
    *out_len = 0;
    if (root)
        return 0;
    input_buf t = { NULL, 0, 0 };
    int rc = c->has_fn && c->fn.len ? input_buf_put(&t, c->fn.s, c->fn.len)
                                    : input_buf_puts(&t, "(anonymous)");
    if (rc == 0 && c->has_url && c->url.len) {
        char line[32] = "";
        if (c->has_line && c->line_no < INT64_MAX)
            snprintf(line, sizeof(line), ":%" PRId64, c->line_no + 1);
        rc = input_buf_put(&t, " ", 1) | input_buf_put(&t, c->url.s, c->url.len) |
             input_buf_puts(&t, line);
    }
    if (rc < 0) {
        free(t.s);
        return -1;
    }
    *out = t.s;
    *out_len = t.len < V8_NAME_MAX ? t.len : V8_NAME_MAX;
    return 0;
}

static int node_end(v8_state *st, json_in *j)
{
    v8_cur *c = &st->cur;
    if (!c->has_id) {
        json_in_error_at(j, c->line, c->col, "nodes[%zu] has no integer id: not read", st->n);
        return -1;
    }
    if (!UTIL_RESERVE(st->nodes, st->cap, st->n + 1))
        return errno = ENOMEM, -1;
    v8_node *nd = &st->nodes[st->n];
    *nd = (v8_node){ c->id, NULL, 0, c->hits, SIZE_MAX, NULL, 0, c->line, c->col };
    if (node_name(c, &nd->name, &nd->name_len) < 0)
        return errno = ENOMEM, -1;
    st->n++;
    return 0;
}

static int add_child(v8_state *st, json_in *j, const json_value *v)
{
    int64_t id;
    size_t line, col;
    if (v->kind == JSON_END)
        return 0;
    json_in_where(j, &line, &col, NULL);
    if (!json_in_int(v, &id)) {
        if (complain(st))
            json_in_error(j, "nodes[%zu].children[%zu] is %s, not a node id; ignored", st->n,
                          j->lv[j->depth].index, json_in_kind_name(v));
        return 0;
    }
    if (!UTIL_RESERVE(st->kids, st->kcap, st->nkids + 1))
        return errno = ENOMEM, -1;
    st->kids[st->nkids++] = (v8_child){ st->n, id, line, col };
    return 0;
}

static int copy_text(input_buf *b, bool *has, const json_value *v)
{
    if (v->kind != JSON_STRING)
        return 0;
    b->len = 0;
    *has = true;
    return input_buf_put(b, v->s, v->len) < 0 ? (errno = ENOMEM, -1) : 0;
}

/* A value inside nodes[]: d levels below the profile object (1: a node). */
static int on_nodes(v8_state *st, json_in *j, int p, int d, const json_value *v)
{
    v8_cur *c = &st->cur;
    if (d == 1) {
        if (v->kind == JSON_OBJECT)
            return node_begin(st, j);
        if (v->kind == JSON_END)
            return node_end(st, j);
        json_in_error(j, "nodes[%zu] is %s, not an object: not read", st->n,
                      json_in_kind_name(v));
        return -1;
    }
    int key = j->lv[p + 2].key;
    if (d == 2) {
        if (key == K_ID && !json_in_int(v, &c->id)) {
            json_in_error(j, "nodes[%zu].id is %s, not an integer: not read", st->n,
                          json_in_kind_name(v));
            return -1;
        }
        c->has_id |= key == K_ID;
        if (key == K_HITS && !json_in_int(v, &c->hits))
            c->hits = -1;
        if (key == K_CHILDREN && v->kind != JSON_ARRAY && v->kind != JSON_END && complain(st))
            json_in_error(j, "nodes[%zu].children is %s, not an array; ignored", st->n,
                          json_in_kind_name(v));
        return 0;
    }
    if (d != 3)
        return 0;
    if (key == K_CHILDREN && j->lv[p + 3].array)
        return add_child(st, j, v);
    if (key != K_CALLFRAME || j->lv[p + 3].array)
        return 0;
    switch (j->lv[p + 3].key) {
    case K_FN: return copy_text(&c->fn, &c->has_fn, v);
    case K_URL: return copy_text(&c->url, &c->has_url, v);
    case K_LINE: c->has_line = json_in_int(v, &c->line_no); return 0;
    default: return 0;
    }
}

static int on_sample(v8_state *st, json_in *j, const json_value *v)
{
    int64_t id;
    if (v->kind == JSON_END)
        return 0; /* of a container in samples[], reported when it began */
    size_t k = st->nsamples++;
    bool timed = !st->sink->untimed;
    if (!json_in_int(v, &id)) {
        if (complain(st))
            json_in_error(j, "samples[%zu] is %s, not a node id; skipped", k,
                          json_in_kind_name(v));
        return timed && tape_put_none(&st->samples) < 0 ? (errno = ENOMEM, -1) : 0;
    }
    int added;
    idcount_entry *e = idcount_add(&st->counts, id, &added);
    if (!e || (timed && tape_put_int(&st->samples, id) < 0))
        return errno = ENOMEM, -1;
    if (added)
        json_in_where(j, &e->line, &e->col, NULL);
    return 0;
}

static int link_tree(v8_state *st);
static int emit_next(v8_state *st, bool *timed, int64_t us);

/* A delta. For a sink that wants times: when the nodes, samples and startTime came before
 * (node's order), each delta is paired with its sample at once; else it is kept too. */
static int on_delta(v8_state *st, json_in *j, const json_value *v)
{
    int64_t us;
    if (v->kind == JSON_END)
        return 0;
    size_t k = st->ndeltas++;
    if (!json_in_int(v, &us)) {
        if (complain(st))
            json_in_error(j, "timeDeltas[%zu] is %s, not an integer; taken as 0", k,
                          json_in_kind_name(v));
        us = 0;
    }
    if (st->sink->untimed)
        return 0;
    if (k == 0 && st->nodes_done && st->samples_done && st->has_start) {
        if (link_tree(st) < 0)
            return -1;
        st->linked = st->streaming = st->stream_timed = true;
        st->t_us = st->start_us;
        tape_rewind(&st->samples);
    }
    if (st->streaming)
        return emit_next(st, &st->stream_timed, us) < 0 ? -1 : 0;
    return tape_put_int(&st->deltas, us) < 0 ? (errno = ENOMEM, -1) : 0;
}

/* One array member of the profile: there once, and an array. */
static int array_member(v8_state *st, json_in *j, bool *has, const char *name,
                        const json_value *v, bool fatal)
{
    if (v->kind == JSON_END)
        return 0;
    if (v->kind == JSON_ARRAY && !*has) {
        *has = true;
        return 0;
    }
    if (v->kind == JSON_ARRAY)
        json_in_error(j, "a second \"%s\" array", name);
    else
        json_in_error(j, "\"%s\" is %s, not an array%s", name, json_in_kind_name(v),
                      fatal ? ": not read" : "; ignored");
    if (fatal || v->kind == JSON_ARRAY)
        return -1;
    st->bad++;
    return 0;
}

static int on_member(v8_state *st, json_in *j, int key, const json_value *v)
{
    if (v->kind == JSON_END) {
        st->nodes_done |= key == K_NODES;
        st->samples_done |= key == K_SAMPLES;
    }
    switch (key) {
    case K_NODES: return array_member(st, j, &st->has_nodes, "nodes", v, true);
    case K_SAMPLES: return array_member(st, j, &st->has_samples, "samples", v, true);
    case K_DELTAS: return array_member(st, j, &st->has_deltas, "timeDeltas", v, false);
    case K_START:
        if (json_in_int(v, &st->start_us))
            st->has_start = true;
        else if (v->kind != JSON_END)
            json_in_error(j, "startTime is %s, not an integer: no times", json_in_kind_name(v));
        return 0;
    default: return 0;
    }
}

/* The depth of the profile's object: the document, or its "profile" member (the
 * inspector protocol's answer). */
static int profile_depth(const json_in *j)
{
    return j->depth >= 2 && j->lv[1].key == K_PROFILE && !j->lv[2].array ? 2 : 1;
}

static int on_value(void *ctx, json_in *j, const json_value *v)
{
    v8_state *st = ctx;
    int p = profile_depth(j), d = j->depth - p;
    if (d < 0)
        return 0; /* the document's object: json_in refuses anything else */
    int key = j->lv[p].key;
    if (d == 0)
        return on_member(st, j, key, v);
    switch (key) {
    case K_NODES: return on_nodes(st, j, p, d, v);
    case K_SAMPLES: return d == 1 ? on_sample(st, j, v) : 0;
    case K_DELTAS: return d == 1 ? on_delta(st, j, v) : 0;
    default: return 0;
    }
}

/* ---- once it is read: the tree, then the samples ---- */

static int cmp_by_id(const void *a, const void *b, void *ctx)
{
    const v8_node *nodes = ctx;
    int64_t x = nodes[*(const size_t *)a].id, y = nodes[*(const size_t *)b].id;
    return x < y ? -1 : x > y;
}

static size_t node_of(v8_state *st, int64_t id)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = st->nodes[st->by_id[mid]].id;
        if (m == id)
            return st->by_id[mid];
        if (m < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

/* Indexes by id; two nodes of one id are an error. Then each child gets its parent. */
static int link_tree(v8_state *st)
{
    st->by_id = malloc((st->n ? st->n : 1) * sizeof(*st->by_id));
    if (!st->by_id)
        return errno = ENOMEM, -1;
    for (size_t i = 0; i < st->n; i++)
        st->by_id[i] = i;
    qsort_r(st->by_id, st->n, sizeof(*st->by_id), cmp_by_id, st->nodes);
    for (size_t i = 1; i < st->n; i++) {
        v8_node *a = &st->nodes[st->by_id[i - 1]], *b = &st->nodes[st->by_id[i]];
        if (a->id == b->id) {
            v8_node *later = a->line > b->line || (a->line == b->line && a->col > b->col) ? a : b;
            json_in_error_at(&st->j, later->line, later->col,
                             "a second node with id %" PRId64 ": not read", a->id);
            return -1;
        }
    }
    for (size_t k = 0; k < st->nkids; k++) {
        v8_child *c = &st->kids[k];
        size_t child = node_of(st, c->id);
        if (child == SIZE_MAX || st->nodes[child].parent != SIZE_MAX || child == c->parent) {
            if (complain(st))
                json_in_error_at(&st->j, c->line, c->col, "child %" PRId64 " of node %" PRId64
                                 ": %s; ignored", c->id, st->nodes[c->parent].id,
                                 child == SIZE_MAX ? "no such node" :
                                 child == c->parent ? "the node itself" : "a second parent");
            continue;
        }
        st->nodes[child].parent = c->parent;
    }
    return 0;
}

/* The node's stack, root first; made once per node. -2: its parents form a cycle. */
static int node_stack(v8_state *st, size_t i)
{
    v8_node *nd = &st->nodes[i];
    if (nd->stack)
        return 0;
    size_t depth = 0;
    for (size_t j = i; j != SIZE_MAX && depth <= st->n; j = st->nodes[j].parent)
        depth++;
    if (depth > st->n) {
        json_in_error_at(&st->j, nd->line, nd->col,
                         "node %" PRId64 ": its parents form a cycle; its samples skipped", nd->id);
        return -2;
    }
    size_t *path = malloc(depth * sizeof(*path));
    if (!path)
        return -1;
    size_t k = depth;
    for (size_t j = i; j != SIZE_MAX; j = st->nodes[j].parent)
        path[--k] = j;
    input_buf t = { NULL, 0, 0 };
    int rc = 0;
    for (k = 0; k < depth && rc == 0; k++)
        if (st->nodes[path[k]].name)
            rc = json_text_frame(&t, st->nodes[path[k]].name, st->nodes[path[k]].name_len);
    free(path);
    if (rc == 0 && t.len == 0)
        rc = json_text_frame(&t, "(root)", 6);
    if (rc < 0) {
        free(t.s);
        return -1;
    }
    nd->stack = t.s;
    nd->stack_len = t.len;
    return 0;
}

static int emit(v8_state *st, size_t i, uint64_t weight, int64_t t)
{
    int rc = node_stack(st, i);
    if (rc == -2) {
        st->bad++;
        return 0;
    }
    if (rc < 0)
        return errno = ENOMEM, -1;
    input_sample s = { st->nodes[i].stack, st->nodes[i].stack_len, weight, t };
    return st->sink->on_sample(st->sink->ctx, &s);
}

/* Samples in order, each with its time where startTime and timeDeltas give one. */
/* The next sample on the tape, its time st->t_us once its delta us is added (while
 * *timed). Returns 1, 0 at the tape's end, -1 when the sink stops. */
static int emit_next(v8_state *st, bool *timed, int64_t us)
{
    int64_t id;
    double unused;
    tape_kind k = tape_get(&st->samples, &id, &unused);
    if (k == TAPE_END)
        return 0;
    if (*timed && __builtin_add_overflow(st->t_us, us, &st->t_us))
        *timed = false;
    size_t i = k == TAPE_INT ? node_of(st, id) : SIZE_MAX;
    if (i == SIZE_MAX)
        return 1; /* reported with the counts */
    int64_t t_ns = *timed && st->t_us > -INT64_MAX / 1000 && st->t_us < INT64_MAX / 1000
                       ? st->t_us * 1000 : INPUT_NO_TIME;
    return emit(st, i, 1, t_ns) < 0 ? -1 : 1;
}

/* The samples not yet passed, in order: with the kept deltas' times when they match. */
static int emit_in_order(v8_state *st)
{
    bool timed = !st->streaming && st->has_deltas && st->ndeltas == st->nsamples &&
                 st->has_start;
    if (!st->streaming)
        st->t_us = st->start_us;
    int rc;
    do {
        int64_t us = 0;
        double unused;
        if (timed && tape_get(&st->deltas, &us, &unused) != TAPE_INT)
            us = 0;
        rc = emit_next(st, &timed, us);
    } while (rc > 0);
    return rc;
}

static int emit_samples(v8_state *st)
{
    if (!st->has_samples) { /* an old profile: hit counts only */
        for (size_t i = 0; i < st->n; i++)
            if (st->nodes[i].hits > 0 && emit(st, i, (uint64_t)st->nodes[i].hits,
                                              INPUT_NO_TIME) < 0)
                return -1;
        return 0;
    }
    if (st->has_deltas && st->ndeltas != st->nsamples)
        input_error(st->sink, 0, "cpuprofile: %zu timeDeltas for %zu samples; %s",
                    st->ndeltas, st->nsamples, !st->streaming ? "no times"
                    : st->ndeltas < st->nsamples ? "the samples past them have no time"
                                                 : "the extra ones ignored");
    for (size_t k = 0; k < st->counts.len; k++) {
        idcount_entry *e = &st->counts.e[k];
        size_t i = node_of(st, e->id);
        if (i != SIZE_MAX && st->sink->untimed && emit(st, i, e->count, INPUT_NO_TIME) < 0)
            return -1;
        if (i == SIZE_MAX) {
            if (complain(st))
                json_in_error_at(&st->j, e->line, e->col, "samples name node %" PRId64 ", "
                                 "which is not in nodes: %" PRIu64 " samples skipped",
                                 e->id, e->count);
            st->bad += (long)(e->count > 1 ? e->count - 1 : 0);
        }
    }
    return st->sink->untimed ? 0 : emit_in_order(st);
}

static void state_free(v8_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->nodes[i].name);
        free(st->nodes[i].stack);
    }
    free(st->nodes);
    free(st->by_id);
    free(st->kids);
    free(st->cur.fn.s);
    free(st->cur.url.s);
    idcount_free(&st->counts);
    tape_free(&st->samples);
    tape_free(&st->deltas);
}

long cpuprofile_read(input_stream *in, const input_sink *sink)
{
    v8_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -1;
    st->sink = sink;
    int rc = json_in_parse(&st->j, in, sink, "cpuprofile", v8_keys, on_value, st);
    if (rc == 0 && !st->has_nodes) {
        input_error(sink, 0, "cpuprofile: no \"nodes\" array: not a V8 CPU profile");
        rc = -1;
    }
    if (rc == 0 && !st->linked)
        rc = link_tree(st);
    if (rc == 0)
        rc = emit_samples(st);
    long bad = st->bad;
    state_free(st);
    free(st);
    return rc < 0 ? -1 : bad;
}
