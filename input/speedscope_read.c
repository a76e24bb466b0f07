/* speedscope_read.c - speedscope JSON through jansson. See speedscope_read.h. */
#include "speedscope_read.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_in.h"

typedef struct ss_state {
    const input_sink *sink;
    json_t *frames;      /* shared.frames */
    input_buf stack;
    long bad;
    size_t profile;      /* index of the profile being read, for messages */
    double scale;        /* ns per unit, or 1 for a unit that is no time */
    bool timed;
} ss_state;

static void malformed(ss_state *st, const char *what, size_t k)
{
    if (st->bad++ < 10)
        input_error(st->sink, 0, "speedscope: profiles[%zu]: %s %zu; skipped", st->profile,
                    what, k);
}

/* Appends frame idx. Returns 0, 1 for an index that names no frame, -1 out of memory. */
static int put_frame(ss_state *st, json_t *idx)
{
    json_t *f = json_is_integer(idx) ? json_array_get(st->frames, (size_t)json_integer_value(idx))
                                     : NULL;
    if (!f || json_integer_value(idx) < 0)
        return 1;
    json_t *name = json_object_get(f, "folded"); /* flameprof's: the whole folded frame */
    if (!json_is_string(name))
        name = json_object_get(f, "name");
    const char *s = json_string_value(name);
    return json_text_frame(&st->stack, s ? s : "", s ? json_string_length(name) : 0);
}

/* Each shared frame's "file" and "line" to the sink (input.h: on_source), keyed by the
 * frame's text as put_frame makes it. */
static int read_sources(ss_state *st)
{
    if (!st->sink->on_source)
        return 0;
    input_buf text = { NULL, 0, 0 };
    json_t *f;
    size_t k;
    int rc = 0;
    json_array_foreach(st->frames, k, f) {
        json_t *file = json_object_get(f, "file"), *line = json_object_get(f, "line");
        if (!json_is_string(file) || json_string_length(file) == 0)
            continue;
        json_int_t l = json_is_integer(line) ? json_integer_value(line) : 0;
        json_t *name = json_object_get(f, "folded");
        if (!json_is_string(name))
            name = json_object_get(f, "name");
        const char *s = json_string_value(name);
        if (!s)
            continue;
        text.len = 0;
        unsigned at = l > 0 && l <= UINT32_MAX ? (unsigned)l : 0;
        if (json_text_frame(&text, s, json_string_length(name)) < 0 ||
            st->sink->on_source(st->sink->ctx, text.s, text.len, json_string_value(file),
                                json_string_length(file), at) < 0) {
            rc = -1;
            break;
        }
    }
    free(text.s);
    return rc;
}

/* Weight in the profile's unit -> whole units (ns for time). 0 for nothing to add. */
static uint64_t weight_of(ss_state *st, double w)
{
    double v = w * st->scale;
    if (!(v >= 0.5) || v > 1.8e19)
        return 0;
    return (uint64_t)llround(v);
}

static int64_t time_of(ss_state *st, double at)
{
    double v = at * st->scale;
    return st->timed && fabs(v) < 9e18 ? (int64_t)llround(v) : INPUT_NO_TIME;
}

static int emit(ss_state *st, uint64_t weight, int64_t t)
{
    if (weight == 0 || st->stack.len == 0)
        return 0;
    input_sample s = { st->stack.s, st->stack.len, weight, t };
    return st->sink->on_sample(st->sink->ctx, &s);
}

static int read_sampled(ss_state *st, json_t *prof)
{
    json_t *samples = json_object_get(prof, "samples");
    json_t *weights = json_object_get(prof, "weights");
    double at = 0, w;
    json_in_number(json_object_get(prof, "startValue"), &at);
    if (!json_is_array(samples)) {
        malformed(st, "no samples array in profile", st->profile);
        return 0;
    }
    if (json_is_array(weights) && json_array_size(weights) != json_array_size(samples))
        input_error(st->sink, 0, "speedscope: profiles[%zu]: %zu weights for %zu samples",
                    st->profile, json_array_size(weights), json_array_size(samples));
    json_t *sample, *idx;
    size_t k, j;
    json_array_foreach(samples, k, sample) {
        w = 1;
        if (json_is_array(weights) && !json_in_number(json_array_get(weights, k), &w)) {
            malformed(st, "no weight for sample", k);
            continue;
        }
        st->stack.len = 0;
        int rc = json_is_array(sample) ? 0 : 1;
        json_array_foreach(sample, j, idx) {
            if ((rc = put_frame(st, idx)) != 0)
                break;
        }
        if (rc < 0)
            return -1;
        if (rc > 0) {
            malformed(st, "a frame index that names no frame in sample", k);
        } else if (emit(st, weight_of(st, w), time_of(st, at)) < 0) {
            return -1;
        }
        at += w;
    }
    return 0;
}

/* Rebuilds the stack text from the open frames. */
static int open_stack(ss_state *st, json_t *open)
{
    st->stack.len = 0;
    json_t *idx;
    size_t j;
    json_array_foreach(open, j, idx) {
        if (put_frame(st, idx) < 0)
            return -1;
    }
    return 0;
}

static int read_evented(ss_state *st, json_t *prof)
{
    json_t *events = json_object_get(prof, "events"), *ev;
    json_t *open = json_array();
    double last = 0;
    json_in_number(json_object_get(prof, "startValue"), &last);
    size_t k;
    int rc = open ? 0 : -1;
    json_array_foreach(events, k, ev) {
        if (rc < 0)
            break;
        const char *type = json_string_value(json_object_get(ev, "type"));
        json_t *frame = json_object_get(ev, "frame");
        double at;
        if (!type || !json_in_number(json_object_get(ev, "at"), &at) || at < last ||
            !json_is_integer(frame) ||
            !json_array_get(st->frames, (size_t)json_integer_value(frame))) {
            malformed(st, "a malformed or out-of-order event", k);
            continue;
        }
        if (json_array_size(open) > 0 &&
            (open_stack(st, open) < 0 ||
             emit(st, weight_of(st, at - last), time_of(st, last)) < 0)) {
            rc = -1;
            break;
        }
        last = at;
        if (strcmp(type, "O") == 0) {
            rc = json_array_append(open, frame);
        } else if (strcmp(type, "C") == 0) {
            size_t n = json_array_size(open);
            json_t *top = n ? json_array_get(open, n - 1) : NULL;
            if (!top || json_integer_value(top) != json_integer_value(frame))
                malformed(st, "a close event that does not match the open frame at event", k);
            else
                json_array_remove(open, n - 1);
        } else {
            malformed(st, "an event of unknown type", k);
        }
    }
    json_decref(open);
    return rc;
}

long speedscope_read(input_stream *in, const input_sink *sink)
{
    json_t *doc = json_in_load(in, sink);
    if (!doc)
        return -1;
    ss_state st = { sink, json_object_get(json_object_get(doc, "shared"), "frames"),
                    { NULL, 0, 0 }, 0, 0, 1, false };
    json_t *profiles = json_object_get(doc, "profiles"), *prof;
    int rc = 0;
    if (!json_is_array(st.frames) || !json_is_array(profiles)) {
        input_error(sink, 0, "speedscope: no shared.frames or profiles array: not a "
                    "speedscope file");
        rc = -1;
    }
    if (rc == 0)
        rc = read_sources(&st);
    size_t k;
    json_array_foreach(profiles, k, prof) {
        if (rc < 0)
            break;
        st.profile = k;
        if (json_object_get(prof, "flameprofView"))
            continue; /* flameprof's per-thread view of the merged profile before it */
        double ns = json_in_ns_per(json_string_value(json_object_get(prof, "unit")));
        st.scale = ns > 0 ? ns : 1;
        st.timed = ns > 0;
        const char *type = json_string_value(json_object_get(prof, "type"));
        if (type && strcmp(type, "sampled") == 0)
            rc = read_sampled(&st, prof);
        else if (type && strcmp(type, "evented") == 0)
            rc = read_evented(&st, prof);
        else
            malformed(&st, "a profile of unknown type: profile", k);
    }
    free(st.stack.s);
    json_decref(doc);
    return rc < 0 ? -1 : st.bad;
}
