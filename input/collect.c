/* collect.c - merge samples into a folded_profile as they stream in. See collect.h. */
#include "collect.h"

#include <stdlib.h>
#include <string.h>

#include "frame_source.h"

#include "sat.h"

static int collect_sample(void *ctx, const input_sample *s)
{
    input_collector *c = ctx;
    folded_profile *p = c->profile;
    if (s->weight == 0 || s->len == 0)
        return 0;
    int added;
    long i = intern(&c->stacks, s->stack, s->len, &added);
    if (i < 0)
        return -1;
    if (added) {
        /* The table now points at the reader's transient text: give it the copy that
         * lives as long as the profile (same bytes, same hash). */
        if (folded_add(p, s->stack, s->len, s->weight) < 0)
            return -1; /* the reader stops; the table is only freed after this */
        c->stacks.strs[i].s = p->entries[p->len - 1].stack;
    } else {
        folded_entry *e = &p->entries[c->base + (size_t)i];
        e->count = util_sat_add(e->count, s->weight);
        p->total = util_sat_add(p->total, s->weight);
    }
    c->samples++;
    if (s->time_ns != INPUT_NO_TIME) {
        if (c->first_ns == INPUT_NO_TIME || s->time_ns < c->first_ns)
            c->first_ns = s->time_ns;
        if (c->last_ns == INPUT_NO_TIME || s->time_ns > c->last_ns)
            c->last_ns = s->time_ns;
    }
    return 0;
}

/* A frame's declared position, beside the stacks (frame_source.h) for the writers that
 * hold one; a frame whose text tells its own file (V8, CPython) needs none. */
static int collect_source(void *ctx, const char *frame, size_t n, const char *file,
                          size_t file_len, unsigned line)
{
    input_collector *c = ctx;
    folded_profile *p = c->profile;
    frame_parts fp;
    frame_parse(frame, n, &fp);
    if (fp.file || file_len == 0 || memchr(file, 0, file_len))
        return 0;
    if (!p->sources && !(p->sources = frame_sources_new()))
        return -1;
    char *copy = strndup(file, file_len);
    int rc = copy ? frame_sources_add(p->sources, frame, n, copy, line) : -1;
    free(copy);
    return rc;
}

void input_collect_init(input_collector *c, folded_profile *p, input_sink *sink)
{
    memset(c, 0, sizeof(*c));
    c->profile = p;
    c->base = p->len; /* entry base + n holds the stack interned as number n */
    intern_init(&c->stacks);
    c->first_ns = c->last_ns = INPUT_NO_TIME;
    sink->on_sample = collect_sample;
    sink->on_source = collect_source;
    sink->ctx = c;
    sink->untimed = true; /* only the time range is kept: readers may merge */
}

void input_collect_finish(input_collector *c)
{
    intern_free(&c->stacks);
    folded_finish(c->profile);
}
