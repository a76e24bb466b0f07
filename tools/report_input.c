/* report_input.c - report and heatmap of another tool's profile. See report_input.h. */
#include "report_input.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cli.h"
#include "collect.h"
#include "config.h"
#include "filter.h"
#include "heatmap.h"
#include "intern.h"
#include "outfile.h"
#include "pprof.h"
#include "speedscope.h"
#include "svg.h"
#include "timeline.h"

typedef struct ri_state {
    const report_input_opts *r;
    /* the heatmap: stacks numbered by their text, cells by slot */
    bool want_cells;
    intern_table ids;    /* stack text -> id; keys point at texts[] */
    char **texts;        /* by id, NUL-terminated */
    size_t n, cap;
    timeline tl;
    /* the profile of the range (or of everything) */
    folded_profile p;
    input_collector c;
    input_sink collect;
    uint32_t slot_a, slot_b;  /* the range's slots [a, b) */
    bool have_t0;
    int64_t t0, last;
    uint64_t timed, untimed, in_range;  /* samples */
} ri_state;

static int add_cell(ri_state *h, const input_sample *s, uint64_t since)
{
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
    return timeline_add_time(&h->tl, since, (uint32_t)id, s->weight) < 0 ? -1 : 0;
}

static int on_sample(void *ctx, const input_sample *s)
{
    ri_state *h = ctx;
    if (s->time_ns == INPUT_NO_TIME) {
        h->untimed++;
        return h->r->range ? 0 : h->collect.on_sample(h->collect.ctx, s);
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
    if (h->want_cells && add_cell(h, s, since) < 0)
        return -1;
    uint64_t slot = since / TIMELINE_SLOT_NS;
    if (h->r->range && (slot < h->slot_a || slot >= h->slot_b))
        return 0;
    h->in_range++;
    return h->collect.on_sample(h->collect.ctx, s);
}

/* ---- the files ---- */

typedef struct ri_writer {
    unsigned bit;
    const char *ext;
    outfile_writer write;
} ri_writer;

static int write_folded_file(FILE *f, void *ctx)
{
    return folded_write(&((ri_state *)ctx)->p, f);
}

static int write_svg_file(FILE *f, void *ctx)
{
    svg_options o;
    svg_options_default(&o);
    char subtitle[2048];
    o.subtitle = cli_filter_subtitle(NULL, subtitle, sizeof subtitle);
    return svg_write(&((ri_state *)ctx)->p, &o, f);
}

static int write_pprof_file(FILE *f, void *ctx)
{
    return pprof_write(&((ri_state *)ctx)->p, CONFIG_DEFAULT_FREQ, NULL, f);
}

static int write_speedscope_file(FILE *f, void *ctx)
{
    return speedscope_write(&((ri_state *)ctx)->p, ((ri_state *)ctx)->r->path, f);
}

static int write_heatmap_file(FILE *f, void *ctx)
{
    ri_state *h = ctx;
    heatmap_input in = { .stacks = (const char *const *)h->texts, .nstacks = h->n,
                         .cells = h->tl.cells, .ncells = h->tl.len, .first_slot = 0,
                         .start_unix_ns = 0, .freq = 0, .title = h->r->path };
    return heatmap_write(&in, f);
}

static const ri_writer writers[] = {
    { CONFIG_FORMAT_FOLDED, ".folded", write_folded_file },
    { CONFIG_FORMAT_SVG, ".svg", write_svg_file },
    { CONFIG_FORMAT_PPROF, ".pb.gz", write_pprof_file },
    { CONFIG_FORMAT_SPEEDSCOPE, ".speedscope.json", write_speedscope_file },
    { CONFIG_FORMAT_HEATMAP, ".heatmap.html", write_heatmap_file },
};

/* Writes the files asked; 0, or 1 after a message. */
static int write_files(ri_state *h, char *list, size_t cap)
{
    size_t len = 0;
    list[0] = '\0';
    for (size_t i = 0; i < sizeof writers / sizeof *writers; i++) {
        if (!(h->r->formats & writers[i].bit))
            continue;
        char written[PATH_MAX];
        if (outfile_publish(h->r->prefix, writers[i].ext, writers[i].write, h, written,
                            sizeof written) < 0) {
            fprintf(stderr, "flameprof: %s%s: %s\n", h->r->prefix, writers[i].ext,
                    strerror(errno));
            return 1;
        }
        int k = snprintf(list + len, cap - len, "%s%s", len ? ", " : "", written);
        if (k > 0 && (size_t)k < cap - len)
            len += (size_t)k;
    }
    return 0;
}

/* What the input lacked for what was asked: 0 when nothing, else 1 after a message. */
static int check_times(const ri_state *h, input_format fmt)
{
    const report_input_opts *r = h->r;
    bool cells = r->formats & CONFIG_FORMAT_HEATMAP;
    if ((cells || r->range) && h->timed == 0) {
        fprintf(stderr, "flameprof: %s: no sample with a time stamp (%s%s): no %s\n", r->path,
                input_format_name(fmt), fmt == INPUT_PPROF ? " keeps none" : "",
                cells ? "heatmap" : "time range");
        return 1;
    }
    if (r->range && h->in_range == 0) {
        fprintf(stderr, "flameprof: %s: no samples from %.2f s to %s (its samples span 0 to "
                "%.2f s from the first)\n", r->path, r->from, r->to < 0 ? "the end" : "--to",
                (double)(h->last - h->t0) / 1e9);
        return 1;
    }
    return 0;
}

static void state_free(ri_state *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->texts[i]);
    free(h->texts);
    intern_free(&h->ids);
    timeline_free(&h->tl);
    folded_free(&h->p);
}

int report_input_run(const report_input_opts *r, const cli_input_opts *o)
{
    if ((r->formats & CONFIG_FORMAT_HEATMAP) && filter_active(cli_filter())) {
        fprintf(stderr, "flameprof: %s: --hide/--focus/--exclude/--strip do not apply to the "
                "heatmap of another tool's profile (only to raw files')\n", r->path);
        return EXIT_USAGE;
    }
    ri_state h = { .r = r, .want_cells = (r->formats & CONFIG_FORMAT_HEATMAP) != 0 };
    intern_init(&h.ids);
    timeline_init(&h.tl, 0);
    folded_init(&h.p);
    input_collect_init(&h.c, &h.p, &h.collect);
    h.slot_a = (uint32_t)floor(r->from * TIMELINE_SLOTS_PER_S + 1e-6);
    h.slot_b = r->to < 0 ? UINT32_MAX : (uint32_t)ceil(r->to * TIMELINE_SLOTS_PER_S - 1e-6);
    input_sink sink = { .on_sample = on_sample, .ctx = &h };
    input_format fmt;
    int rc = cli_read_samples(r->path, o, &sink, &fmt);
    input_collect_finish(&h.c);
    if (rc == 0)
        rc = check_times(&h, fmt);
    if (rc == 0 && (r->formats & ~CONFIG_FORMAT_HEATMAP) && cli_filter_apply("report", &h.p) != 0)
        rc = 1;
    timeline_finish(&h.tl);
    if (rc == 0 && h.tl.lost)
        fprintf(stderr, "flameprof: %s: out of memory, part of the timeline lost\n", r->path);
    char list[4 * PATH_MAX];
    if (rc == 0)
        rc = write_files(&h, list, sizeof list);
    char span[64] = "";
    if (h.timed)
        snprintf(span, sizeof span, " over %.2f s", (double)(h.last - h.t0) / 1e9);
    if (rc == 0 && !r->quiet)
        fprintf(stderr, "flameprof: %s (%s): %llu samples%s%s%s; wrote %s\n", r->path,
                input_format_name(fmt),
                (unsigned long long)(r->range ? h.in_range : h.timed + h.untimed),
                r->range ? " in the range" : "", span,
                h.untimed && r->range ? " (some without a time, left out)" : "", list);
    state_free(&h);
    return rc;
}
