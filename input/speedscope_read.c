/* speedscope_read.c - speedscope JSON, streamed. See speedscope_read.h.
 *
 * A profile's members come in any order (its unit, type or flameprofView may follow its
 * samples), so each profile is kept compactly until its object ends: a stack number per
 * sample and its weight (tape.h), or per interval of an evented profile its stack number,
 * start and end. Stacks are numbered by their sequence of frame indexes (one copy each);
 * their text is made once the frames are known, which may be after the profiles (py-spy
 * writes "profiles" before "shared"): then profiles wait for the end of the document. */
#include "speedscope_read.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "intern.h"
#include "json_in.h"
#include "tape.h"
#include "varint.h"

enum {
    K_SHARED = 1, K_FRAMES, K_NAME, K_FOLDED, K_PROFILES, K_TYPE, K_UNIT, K_START, K_SAMPLES,
    K_WEIGHTS, K_EVENTS, K_FRAME, K_AT, K_VIEW, K_FILE, K_LINE,
};
static const char *const ss_keys[] = {
    "shared", "frames", "name", "folded", "profiles", "type", "unit", "startValue", "samples",
    "weights", "events", "frame", "at", "flameprofView", "file", "line", NULL,
};

enum { SS_UNKNOWN, SS_SAMPLED, SS_EVENTED };

typedef struct ss_frame {
    char *name;          /* "folded" (flameprof's: the whole folded frame), else "name" */
    size_t len;
    bool folded;
    char *file;          /* "file" and "line": where the function is (input.h: on_source) */
    size_t file_len;
    unsigned line;
} ss_frame;

typedef struct ss_stack {
    char *seq;           /* frame indexes root first, as varints */
    size_t seq_len;
    char *text;          /* made when first emitted */
    size_t text_len;
    int state;           /* 0 not made, 1 made, -1 an index that names no frame */
} ss_stack;

typedef struct ss_profile {
    size_t index;        /* in profiles[] */
    bool view, has_samples, has_weights;
    int type;
    double ns, start;    /* ns per unit (0: no time unit); startValue or 0 */
    input_tape samples;  /* stack number per sample, none for a malformed one */
    input_tape weights;  /* a number or none per weight */
    input_tape spans;    /* evented: stack number, from, to per interval */
    size_t nsamples, nweights;
    /* evented, while its events stream */
    int64_t *open;
    size_t nopen, open_cap;
    double last;
    size_t nevents;
} ss_profile;

/* The event being read. */
typedef struct ss_event {
    char type;           /* 'O', 'C', '?' for another string, 0 for none */
    bool has_frame, has_at;
    int64_t frame;
    double at;
} ss_event;

typedef struct ss_state {
    const input_sink *sink;
    json_in j;
    ss_frame *frames;
    size_t nframes, frames_cap;
    bool has_frames, frames_done, has_profiles;
    intern_table stack_ids;
    ss_stack *stacks;
    size_t nstacks, stacks_cap;
    ss_profile cur;
    ss_profile *pending; /* read before the frames were known */
    size_t npending, pending_cap;
    input_buf seq;       /* the sample being read */
    bool seq_bad;
    ss_event ev;
    input_buf text;
    long bad;
} ss_state;

static bool complain(ss_state *st)
{
    return st->bad++ < 10;
}

static int nomem(void)
{
    errno = ENOMEM;
    return -1;
}

/* ---- stacks: numbered by their frame indexes, text made once frames are known ---- */

static int put_varint(input_buf *b, uint64_t v)
{
    unsigned char x[10];
    return input_buf_put(b, x, varint_write(x, v));
}

/* The number of the stack seq[0..len), added if new; -1 out of memory. */
static long stack_id(ss_state *st, const char *seq, size_t len)
{
    int added;
    long i = intern(&st->stack_ids, seq ? seq : "", len, &added);
    if (i < 0 || !added)
        return i;
    char *copy = malloc(len + 1);
    if (!copy || !UTIL_RESERVE(st->stacks, st->stacks_cap, st->nstacks + 1)) {
        free(copy);
        return -1; /* the table is freed without reading the entry again */
    }
    if (len)
        memcpy(copy, seq, len);
    st->stack_ids.strs[i].s = copy; /* the table's key: the copy, same bytes */
    st->stacks[st->nstacks++] = (ss_stack){ copy, len, NULL, 0, 0 };
    return i;
}

/* The stack's text: 1 made, 0 an index that names no frame, -1 out of memory. */
static int stack_text(ss_state *st, size_t id)
{
    ss_stack *s = &st->stacks[id];
    if (s->state)
        return s->state > 0;
    const unsigned char *p = (const unsigned char *)s->seq, *end = p + s->seq_len;
    st->text.len = 0;
    uint64_t f;
    while (p < end && varint_read(&p, end, &f)) {
        if (f >= st->nframes) {
            s->state = -1;
            return 0;
        }
        if (json_text_frame(&st->text, st->frames[f].name, st->frames[f].len) < 0)
            return -1;
    }
    s->text = malloc(st->text.len + 1);
    if (!s->text)
        return -1;
    if (st->text.len)
        memcpy(s->text, st->text.s, st->text.len);
    s->text_len = st->text.len;
    s->state = 1;
    return 1;
}

/* ---- emitting one profile, once all of it and the frames are known ---- */

static void malformed(ss_state *st, const ss_profile *p, const char *what, size_t k)
{
    if (complain(st))
        input_error(st->sink, 0, "speedscope: profiles[%zu]: %s %zu; skipped", p->index, what, k);
}

/* Each shared frame's "file" and "line" to the sink (input.h: on_source), keyed by the
 * frame's text as its stacks carry it. */
static int read_sources(ss_state *st)
{
    if (!st->sink->on_source)
        return 0;
    for (size_t k = 0; k < st->nframes; k++) {
        const ss_frame *f = &st->frames[k];
        if (!f->file || !f->file_len || !f->name)
            continue;
        st->text.len = 0;
        if (json_text_frame(&st->text, f->name, f->len) < 0 ||
            st->sink->on_source(st->sink->ctx, st->text.s, st->text.len, f->file, f->file_len,
                                f->line) < 0)
            return -1;
    }
    return 0;
}

/* Weight in the profile's unit -> whole units (ns for time). 0 for nothing to add. */
static uint64_t weight_of(const ss_profile *p, double w)
{
    double v = w * (p->ns > 0 ? p->ns : 1);
    if (!(v >= 0.5) || v > 1.8e19)
        return 0;
    return (uint64_t)llround(v);
}

static int64_t time_of(const ss_profile *p, double at)
{
    double v = at * p->ns;
    return p->ns > 0 && fabs(v) < 9e18 ? (int64_t)llround(v) : INPUT_NO_TIME;
}

/* Emits stack id (made first) with a weight: 0, or -1 out of memory / the sink stops. */
static int emit(ss_state *st, const ss_profile *p, int64_t id, uint64_t weight, int64_t t,
                const char *what, size_t k)
{
    if (id < 0 || (size_t)id >= st->nstacks)
        return 0;
    int rc = stack_text(st, (size_t)id);
    if (rc < 0)
        return nomem();
    if (rc == 0) {
        malformed(st, p, what, k);
        return 0;
    }
    const ss_stack *s = &st->stacks[id];
    if (weight == 0 || s->text_len == 0)
        return 0;
    input_sample smp = { s->text, s->text_len, weight, t };
    return st->sink->on_sample(st->sink->ctx, &smp);
}

static int emit_sampled(ss_state *st, ss_profile *p)
{
    if (!p->has_samples) {
        malformed(st, p, "no samples array in profile", p->index);
        return 0;
    }
    if (p->has_weights && p->nweights != p->nsamples)
        input_error(st->sink, 0, "speedscope: profiles[%zu]: %zu weights for %zu samples",
                    p->index, p->nweights, p->nsamples);
    double at = p->start, w;
    int64_t id, unused;
    tape_rewind(&p->samples);
    tape_rewind(&p->weights);
    for (size_t k = 0;; k++) {
        tape_kind sk = tape_get(&p->samples, &id, &w);
        if (sk == TAPE_END)
            return 0;
        w = 1;
        if (p->has_weights) {
            tape_kind wk = tape_get(&p->weights, &unused, &w);
            if (wk == TAPE_END)
                malformed(st, p, "no weight for sample", k);
            if (wk != TAPE_INT && wk != TAPE_REAL)
                continue; /* a weight that is no number was reported where it was */
        }
        if (sk == TAPE_INT && emit(st, p, id, weight_of(p, w), time_of(p, at),
                                   "a frame index that names no frame in sample", k) < 0)
            return -1;
        at += w;
    }
}

static int emit_evented(ss_state *st, ss_profile *p)
{
    int64_t id, i;
    double from, to, unused;
    tape_rewind(&p->spans);
    for (size_t k = 0;; k++) {
        if (tape_get(&p->spans, &id, &unused) != TAPE_INT ||
            tape_get(&p->spans, &i, &from) == TAPE_END || tape_get(&p->spans, &i, &to) == TAPE_END)
            return 0;
        if (emit(st, p, id, weight_of(p, to - from), time_of(p, from),
                 "a frame index that names no frame at interval", k) < 0)
            return -1;
    }
}

static void profile_free(ss_profile *p)
{
    tape_free(&p->samples);
    tape_free(&p->weights);
    tape_free(&p->spans);
    free(p->open);
    memset(p, 0, sizeof(*p));
}

static int emit_profile(ss_state *st, ss_profile *p)
{
    int rc = 0;
    if (p->view)
        ; /* flameprof's per-thread view of the merged profile before it */
    else if (p->type == SS_SAMPLED)
        rc = emit_sampled(st, p);
    else if (p->type == SS_EVENTED)
        rc = emit_evented(st, p);
    else
        malformed(st, p, "a profile of unknown type: profile", p->index);
    profile_free(p);
    return rc;
}

/* ---- while the document streams ---- */

static int on_frames(ss_state *st, json_in *j, int d, const json_value *v)
{
    if (d == 0) { /* an element of frames[] */
        if (v->kind == JSON_END)
            return 0;
        if (!UTIL_RESERVE(st->frames, st->frames_cap, st->nframes + 1))
            return nomem();
        st->frames[st->nframes++] = (ss_frame){ NULL, 0, false, NULL, 0, 0 };
        return 0;
    }
    int key = j->lv[4].key;
    if (d != 1 || j->lv[4].array)
        return 0;
    ss_frame *f = &st->frames[st->nframes - 1];
    int64_t line;
    if (key == K_LINE && json_in_int(v, &line)) {
        f->line = line > 0 && line <= UINT32_MAX ? (unsigned)line : 0;
        return 0;
    }
    if (v->kind != JSON_STRING || (key != K_NAME && key != K_FOLDED && key != K_FILE) ||
        (key == K_NAME && f->folded))
        return 0;
    char *text = malloc(v->len + 1);
    if (!text)
        return nomem();
    memcpy(text, v->s, v->len);
    text[v->len] = 0;
    if (key == K_FILE) {
        free(f->file);
        f->file = text;
        f->file_len = v->len;
        return 0;
    }
    free(f->name);
    f->name = text;
    f->len = v->len;
    f->folded = key == K_FOLDED;
    return 0;
}

static int sample_frame(ss_state *st, json_in *j, const json_value *v)
{
    int64_t f;
    if (v->kind == JSON_END || st->seq_bad)
        return 0;
    if (!json_in_int(v, &f) || f < 0 || (st->frames_done && (uint64_t)f >= st->nframes)) {
        st->seq_bad = true;
        if (complain(st))
            json_in_error(j, "profiles[%zu]: samples[%zu]: %s names no frame; sample skipped",
                          st->cur.index, st->cur.nsamples - 1,
                          v->kind == JSON_NUMBER ? "the index" : json_in_kind_name(v));
        return 0;
    }
    return put_varint(&st->seq, (uint64_t)f) < 0 ? nomem() : 0;
}

static int on_sample(ss_state *st, json_in *j, const json_value *v)
{
    ss_profile *p = &st->cur;
    if (v->kind == JSON_ARRAY) {
        p->nsamples++;
        st->seq.len = 0;
        st->seq_bad = false;
        return 0;
    }
    if (v->kind == JSON_END) {
        if (!v->end_of_array)
            return 0; /* an object in samples[]: its none went in where it began */
        if (st->seq_bad)
            return tape_put_none(&p->samples) < 0 ? nomem() : 0;
        long id = stack_id(st, st->seq.s, st->seq.len);
        return id < 0 || tape_put_int(&p->samples, id) < 0 ? nomem() : 0;
    }
    p->nsamples++;
    if (complain(st))
        json_in_error(j, "profiles[%zu]: samples[%zu] is %s, not an array; skipped", p->index,
                      p->nsamples - 1, json_in_kind_name(v));
    return tape_put_none(&p->samples) < 0 ? nomem() : 0;
}

static int on_weight(ss_state *st, json_in *j, const json_value *v)
{
    ss_profile *p = &st->cur;
    double w;
    if (v->kind == JSON_END)
        return 0;
    p->nweights++;
    if (json_in_real(v, &w))
        return tape_put_number(&p->weights, w) < 0 ? nomem() : 0;
    if (complain(st))
        json_in_error(j, "profiles[%zu]: weights[%zu] is %s; its sample skipped", p->index,
                      p->nweights - 1, v->kind == JSON_NUMBER ? "out of range"
                                       : json_in_kind_name(v));
    return tape_put_none(&p->weights) < 0 ? nomem() : 0;
}

/* An event whose members are all read, checked and applied as the reader always did:
 * the stack open until it becomes an interval. */
static int event_end(ss_state *st, json_in *j)
{
    ss_profile *p = &st->cur;
    ss_event *e = &st->ev;
    size_t k = p->nevents++;
    if (!e->type || !e->has_at || e->at < p->last || !e->has_frame || e->frame < 0 ||
        (st->frames_done && (uint64_t)e->frame >= st->nframes)) {
        if (complain(st))
            json_in_error(j, "profiles[%zu]: events[%zu]: a malformed or out-of-order event; "
                          "skipped", p->index, k);
        return 0;
    }
    if (p->nopen > 0) {
        st->seq.len = 0;
        for (size_t i = 0; i < p->nopen; i++)
            if (put_varint(&st->seq, (uint64_t)p->open[i]) < 0)
                return nomem();
        long id = stack_id(st, st->seq.s, st->seq.len);
        if (id < 0 || tape_put_int(&p->spans, id) < 0 || tape_put_number(&p->spans, p->last) < 0 ||
            tape_put_number(&p->spans, e->at) < 0)
            return nomem();
    }
    p->last = e->at;
    if (e->type == 'O') {
        if (!UTIL_RESERVE(p->open, p->open_cap, p->nopen + 1))
            return nomem();
        p->open[p->nopen++] = e->frame;
    } else if (e->type == 'C') {
        if (p->nopen == 0 || p->open[p->nopen - 1] != e->frame) {
            if (complain(st))
                json_in_error(j, "profiles[%zu]: events[%zu]: a close event that does not "
                              "match the open frame; skipped", p->index, k);
        } else {
            p->nopen--;
        }
    } else if (complain(st)) {
        json_in_error(j, "profiles[%zu]: events[%zu]: an event of unknown type; skipped",
                      p->index, k);
    }
    return 0;
}

static int on_event(ss_state *st, json_in *j, int d, const json_value *v)
{
    ss_event *e = &st->ev;
    if (d == 0) {
        if (v->kind == JSON_OBJECT)
            *e = (ss_event){ 0 };
        else if (v->kind == JSON_END && !v->end_of_array)
            return event_end(st, j);
        else if (v->kind != JSON_END && complain(st))
            json_in_error(j, "profiles[%zu]: events[%zu] is %s, not an object; skipped",
                          st->cur.index, st->cur.nevents, json_in_kind_name(v));
        st->cur.nevents += v->kind != JSON_OBJECT && v->kind != JSON_END;
        return 0;
    }
    if (d != 1 || j->lv[5].array)
        return 0;
    switch (j->lv[5].key) {
    case K_TYPE:
        if (v->kind == JSON_STRING)
            e->type = v->len == 1 && (v->s[0] == 'O' || v->s[0] == 'C') ? v->s[0] : '?';
        break;
    case K_FRAME: e->has_frame = json_in_int(v, &e->frame); break;
    case K_AT: e->has_at = json_in_real(v, &e->at); break;
    default: break;
    }
    return 0;
}

static int profile_end(ss_state *st)
{
    if (st->frames_done)
        return emit_profile(st, &st->cur);
    if (!UTIL_RESERVE(st->pending, st->pending_cap, st->npending + 1))
        return nomem();
    st->pending[st->npending++] = st->cur; /* its tapes move with it */
    memset(&st->cur, 0, sizeof(st->cur));
    return 0;
}

/* A member of a profile (d == 0) or a value inside one (d > 0). */
static int on_profile(ss_state *st, json_in *j, int d, const json_value *v)
{
    ss_profile *p = &st->cur;
    int key = j->lv[3].key;
    if (d >= 1 && !j->lv[4].array)
        return 0;
    if (d >= 1) {
        switch (key) {
        case K_SAMPLES:
            return d == 1 ? on_sample(st, j, v) : d == 2 ? sample_frame(st, j, v) : 0;
        case K_WEIGHTS: return d == 1 ? on_weight(st, j, v) : 0;
        case K_EVENTS: return on_event(st, j, d - 1, v);
        default: return 0;
        }
    }
    switch (key) {
    case K_VIEW: p->view = true; break;
    case K_TYPE:
        if (v->kind == JSON_STRING && v->len == 7 && memcmp(v->s, "sampled", 7) == 0)
            p->type = SS_SAMPLED;
        else if (v->kind == JSON_STRING && v->len == 7 && memcmp(v->s, "evented", 7) == 0)
            p->type = SS_EVENTED;
        break;
    case K_UNIT:
        if (v->kind == JSON_STRING)
            p->ns = json_in_ns_per(v->s, v->len);
        break;
    case K_START:
        if (json_in_real(v, &p->start) && p->nevents == 0)
            p->last = p->start;
        break;
    case K_SAMPLES: p->has_samples |= v->kind == JSON_ARRAY; break;
    case K_WEIGHTS: p->has_weights |= v->kind == JSON_ARRAY; break;
    default: break;
    }
    return 0;
}

/* An element of profiles[]: a profile begins or ends. */
static int on_profile_element(ss_state *st, json_in *j, const json_value *v)
{
    if (v->kind == JSON_OBJECT) {
        st->cur.index = j->lv[2].index;
        st->cur.last = 0;
        return 0;
    }
    if (v->kind == JSON_END)
        return v->end_of_array ? 0 : profile_end(st);
    if (complain(st))
        json_in_error(j, "profiles[%zu] is %s, not a profile; skipped", j->lv[2].index,
                      json_in_kind_name(v));
    return 0;
}

static int on_top(ss_state *st, json_in *j, const json_value *v)
{
    int key = j->lv[1].key;
    bool frames = key == K_SHARED && j->depth == 2 && j->lv[2].key == K_FRAMES;
    if ((key == K_PROFILES && j->depth == 1) || frames) {
        if (v->kind == JSON_ARRAY) {
            st->has_profiles |= !frames;
            st->has_frames |= frames;
            return 0;
        }
        if (v->kind == JSON_END) {
            st->frames_done |= frames;
            return 0;
        }
        json_in_error(j, "%s is %s, not an array: not a speedscope file",
                      frames ? "shared.frames" : "profiles", json_in_kind_name(v));
        return -1;
    }
    return 0;
}

static int on_value(void *ctx, json_in *j, const json_value *v)
{
    ss_state *st = ctx;
    if (j->depth == 0)
        return 0; /* the document's object: json_in refuses anything else */
    if (j->depth <= 2) {
        if (on_top(st, j, v) < 0)
            return -1;
        if (j->depth == 2 && j->lv[1].key == K_PROFILES && j->lv[2].array)
            return on_profile_element(st, j, v);
        return 0;
    }
    if (j->lv[1].key == K_SHARED && j->lv[2].key == K_FRAMES && !j->lv[2].array &&
        j->lv[3].array)
        return on_frames(st, j, j->depth - 3, v);
    if (j->lv[1].key == K_PROFILES && j->lv[2].array && !j->lv[3].array)
        return on_profile(st, j, j->depth - 3, v);
    return 0;
}

static void state_free(ss_state *st)
{
    for (size_t i = 0; i < st->nframes; i++) {
        free(st->frames[i].name);
        free(st->frames[i].file);
    }
    free(st->frames);
    for (size_t i = 0; i < st->nstacks; i++) {
        free(st->stacks[i].seq);
        free(st->stacks[i].text);
    }
    free(st->stacks);
    intern_free(&st->stack_ids);
    profile_free(&st->cur);
    for (size_t i = 0; i < st->npending; i++)
        profile_free(&st->pending[i]);
    free(st->pending);
    free(st->seq.s);
    free(st->text.s);
}

long speedscope_read(input_stream *in, const input_sink *sink)
{
    ss_state *st = calloc(1, sizeof(*st));
    if (!st)
        return -1;
    st->sink = sink;
    intern_init(&st->stack_ids);
    int rc = json_in_parse(&st->j, in, sink, "speedscope", ss_keys, on_value, st);
    if (rc == 0 && (!st->frames_done || !st->has_profiles)) {
        input_error(sink, 0, "speedscope: no shared.frames or profiles array: not a "
                    "speedscope file");
        rc = -1;
    }
    if (rc == 0)
        rc = read_sources(st);
    for (size_t i = 0; rc == 0 && i < st->npending; i++)
        rc = emit_profile(st, &st->pending[i]);
    long bad = st->bad;
    state_free(st);
    free(st);
    return rc < 0 ? -1 : bad;
}
