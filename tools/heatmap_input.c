/* heatmap_input.c - the heatmap of another tool's timed profile. See heatmap_input.h. */
#include "heatmap_input.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "heatmap.h"
#include "intern.h"
#include "outfile.h"
#include "timeline.h"

typedef struct hm_state {
    intern_table ids;   /* stack text -> id; keys point at texts[] */
    char **texts;       /* by id, NUL-terminated */
    size_t n, cap;
    timeline tl;
    bool have_t0;
    int64_t t0, last;
    uint64_t timed, untimed; /* samples */
    const char *title;
} hm_state;

static int on_sample(void *ctx, const input_sample *s)
{
    hm_state *h = ctx;
    if (s->time_ns == INPUT_NO_TIME) {
        h->untimed++;
        return 0;
    }
    int added;
    long id = intern(&h->ids, s->stack, s->len, &added);
    if (id < 0 || id > (long)UINT32_MAX)
        return -1;
    if (added) {
        char *copy = malloc(s->len + 1);
        if (!copy || !UTIL_RESERVE(h->texts, h->cap, h->n + 1)) {
            free(copy);
            return -1;
        }
        memcpy(copy, s->stack, s->len);
        copy[s->len] = '\0';
        h->texts[h->n++] = copy;
        h->ids.strs[id].s = copy; /* the table's key: the copy, same bytes */
    }
    if (!h->have_t0) {
        h->have_t0 = true;
        h->t0 = h->last = s->time_ns;
    }
    /* Before the first sample (out of order): slot 0, as timeline_add_time does. */
    uint64_t since = s->time_ns > h->t0 ? (uint64_t)s->time_ns - (uint64_t)h->t0 : 0;
    if (s->time_ns > h->last)
        h->last = s->time_ns;
    h->timed++;
    return timeline_add_time(&h->tl, since, (uint32_t)id, s->weight) < 0 ? -1 : 0;
}

static int write_page(FILE *f, void *ctx)
{
    hm_state *h = ctx;
    heatmap_input in = { .stacks = (const char *const *)h->texts, .nstacks = h->n,
                         .cells = h->tl.cells, .ncells = h->tl.len, .first_slot = 0,
                         .start_unix_ns = 0, .freq = 0, .title = h->title };
    return heatmap_write(&in, f);
}

static void state_free(hm_state *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->texts[i]);
    free(h->texts);
    intern_free(&h->ids);
    timeline_free(&h->tl);
}

int heatmap_input_run(const char *path, const cli_input_opts *o, const char *prefix,
                      bool quiet)
{
    hm_state h = { .title = path };
    intern_init(&h.ids);
    timeline_init(&h.tl, 0);
    input_sink sink = { .on_sample = on_sample, .ctx = &h };
    input_format fmt;
    int rc = cli_read_samples(path, o, &sink, &fmt);
    if (rc == 0 && h.timed == 0) {
        fprintf(stderr, "flameprof: heatmap: %s: no sample with a time stamp (%s%s): no "
                "heatmap\n", path, input_format_name(fmt),
                fmt == INPUT_PPROF ? " keeps none" : "");
        rc = 1;
    }
    char written[PATH_MAX];
    if (rc == 0) {
        timeline_finish(&h.tl);
        if (h.tl.lost)
            fprintf(stderr, "flameprof: heatmap: %s: out of memory, part of the timeline "
                    "lost\n", path);
        if (outfile_publish(prefix, ".heatmap.html", write_page, &h, written,
                            sizeof written) < 0) {
            fprintf(stderr, "flameprof: heatmap: %s.heatmap.html: %s\n", prefix,
                    strerror(errno));
            rc = 1;
        }
    }
    if (rc == 0 && !quiet)
        fprintf(stderr, "flameprof: heatmap: %s: %llu samples over %.2f s%s; wrote %s\n", path,
                (unsigned long long)h.timed, (double)(h.last - h.t0) / 1e9,
                h.untimed ? " (some without a time, left out)" : "", written);
    state_free(&h);
    return rc;
}
