/* cpuprofile.c - V8 CPU profiles through jansson. See cpuprofile.h. */
#include "cpuprofile.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"

typedef struct v8_node {
    int64_t id;
    size_t parent;       /* index, SIZE_MAX for none */
    json_t *json;
    char *stack;         /* frames root first, made when a sample first needs them */
    size_t stack_len;
} v8_node;

typedef struct v8_state {
    const input_sink *sink;
    v8_node *nodes;
    size_t n;
    size_t *by_id;       /* node indexes sorted by id */
    long bad;
} v8_state;

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

/* "FUNCTION URL:LINE" of one node. */
static int frame_name(const json_t *node, input_buf *t)
{
    json_t *cf = json_object_get(node, "callFrame");
    const char *fn = json_string_value(json_object_get(cf, "functionName"));
    const char *url = json_string_value(json_object_get(cf, "url"));
    json_t *line = json_object_get(cf, "lineNumber");
    char name[4096];
    int k = snprintf(name, sizeof(name), "%s", fn && *fn ? fn : "(anonymous)");
    if (url && *url && k >= 0 && (size_t)k < sizeof(name)) {
        if (json_is_integer(line))
            k += snprintf(name + k, sizeof(name) - (size_t)k, " %s:%" JSON_INTEGER_FORMAT, url,
                          json_integer_value(line) + 1);
        else
            k += snprintf(name + k, sizeof(name) - (size_t)k, " %s", url);
    }
    size_t len = k < 0 ? 0 : (size_t)k < sizeof(name) ? (size_t)k : sizeof(name) - 1;
    return json_text_frame(t, name, len);
}

static bool is_root(const json_t *node)
{
    const char *fn = json_string_value(json_object_get(json_object_get(node, "callFrame"),
                                                       "functionName"));
    return fn && strcmp(fn, "(root)") == 0;
}

/* The node's stack, root first; made once per node. */
static int node_stack(v8_state *st, size_t i)
{
    v8_node *nd = &st->nodes[i];
    if (nd->stack)
        return 0;
    size_t depth = 0;
    for (size_t j = i; j != SIZE_MAX && depth <= st->n; j = st->nodes[j].parent)
        depth++;
    if (depth > st->n) { /* a cycle in "children" */
        input_error(st->sink, 0, "cpuprofile: node %" PRId64 ": its parents form a cycle", nd->id);
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
        if (!is_root(st->nodes[path[k]].json))
            rc = frame_name(st->nodes[path[k]].json, &t);
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
        return -1;
    input_sample s = { st->nodes[i].stack, st->nodes[i].stack_len, weight, t };
    return st->sink->on_sample(st->sink->ctx, &s);
}

static int read_nodes(v8_state *st, json_t *nodes)
{
    st->n = json_array_size(nodes);
    st->nodes = calloc(st->n ? st->n : 1, sizeof(*st->nodes));
    st->by_id = calloc(st->n ? st->n : 1, sizeof(*st->by_id));
    if (!st->nodes || !st->by_id)
        return -1;
    for (size_t i = 0; i < st->n; i++) {
        json_t *nd = json_array_get(nodes, i);
        json_t *id = json_object_get(nd, "id");
        if (!json_is_integer(id)) {
            input_error(st->sink, 0, "cpuprofile: nodes[%zu] has no integer id", i);
            return -2;
        }
        st->nodes[i] = (v8_node){ json_integer_value(id), SIZE_MAX, nd, NULL, 0 };
        st->by_id[i] = i;
    }
    qsort_r(st->by_id, st->n, sizeof(*st->by_id), cmp_by_id, st->nodes);
    for (size_t i = 1; i < st->n; i++) {
        if (st->nodes[st->by_id[i]].id == st->nodes[st->by_id[i - 1]].id) {
            input_error(st->sink, 0, "cpuprofile: two nodes with id %" PRId64,
                        st->nodes[st->by_id[i]].id);
            return -2;
        }
    }
    for (size_t i = 0; i < st->n; i++) {
        json_t *children = json_object_get(st->nodes[i].json, "children"), *c;
        size_t k;
        json_array_foreach(children, k, c) {
            size_t child = json_is_integer(c) ? node_of(st, json_integer_value(c)) : SIZE_MAX;
            if (child == SIZE_MAX || st->nodes[child].parent != SIZE_MAX || child == i) {
                input_error(st->sink, 0, "cpuprofile: nodes[%zu].children[%zu]: no such node, "
                            "or a second parent; ignored", i, k);
                st->bad++;
                continue;
            }
            st->nodes[child].parent = i;
        }
    }
    return 0;
}

static int read_samples(v8_state *st, json_t *prof)
{
    json_t *samples = json_object_get(prof, "samples");
    json_t *deltas = json_object_get(prof, "timeDeltas");
    json_t *start = json_object_get(prof, "startTime");
    if (!json_is_array(samples)) { /* an old profile: hit counts only */
        for (size_t i = 0; i < st->n; i++) {
            json_t *hits = json_object_get(st->nodes[i].json, "hitCount");
            if (json_is_integer(hits) && json_integer_value(hits) > 0 &&
                emit(st, i, (uint64_t)json_integer_value(hits), INPUT_NO_TIME) < 0)
                return -1;
        }
        return 0;
    }
    bool timed = json_is_array(deltas) && json_array_size(deltas) == json_array_size(samples) &&
                 json_is_integer(start);
    if (json_is_array(deltas) && !timed)
        input_error(st->sink, 0, "cpuprofile: timeDeltas does not match samples; no times");
    int64_t t_us = timed ? json_integer_value(start) : 0;
    json_t *v;
    size_t k;
    json_array_foreach(samples, k, v) {
        size_t i = json_is_integer(v) ? node_of(st, json_integer_value(v)) : SIZE_MAX;
        if (timed) {
            json_t *d = json_array_get(deltas, k);
            t_us += json_is_integer(d) ? json_integer_value(d) : 0;
        }
        if (i == SIZE_MAX) {
            if (st->bad++ < 10)
                input_error(st->sink, 0, "cpuprofile: samples[%zu]: no such node; skipped", k);
            continue;
        }
        int64_t t_ns = timed && t_us > -INT64_MAX / 1000 && t_us < INT64_MAX / 1000
                           ? t_us * 1000 : INPUT_NO_TIME;
        if (emit(st, i, 1, t_ns) < 0)
            return -1;
    }
    return 0;
}

long cpuprofile_read(input_stream *in, const input_sink *sink)
{
    json_t *doc = json_in_load(in, sink);
    if (!doc)
        return -1;
    json_t *prof = doc;
    if (!json_is_array(json_object_get(prof, "nodes")) &&
        json_is_object(json_object_get(prof, "profile")))
        prof = json_object_get(prof, "profile");
    v8_state st = { sink, NULL, 0, NULL, 0 };
    int rc;
    if (!json_is_array(json_object_get(prof, "nodes"))) {
        input_error(sink, 0, "cpuprofile: no \"nodes\" array: not a V8 CPU profile");
        rc = -1;
    } else {
        rc = read_nodes(&st, json_object_get(prof, "nodes"));
        if (rc == 0)
            rc = read_samples(&st, prof);
    }
    for (size_t i = 0; i < st.n; i++)
        free(st.nodes[i].stack);
    free(st.nodes);
    free(st.by_id);
    json_decref(doc);
    return rc < 0 ? -1 : st.bad;
}
