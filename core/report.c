/* report.c - a symbolized profile (report_stacks.h) -> files in each format + summary. */
#include "report.h"
#include "report_stacks.h"

#include "tmp_path.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "folded.h"
#include "frame_source.h"
#include "outfile.h"
#include "pprof.h"
#include "heatmap.h"
#include "modules.h"
#include "rawfile.h"
#include "timeline.h"
#include "speedscope.h"
#include "svg.h"
#include "unwind.h"


/* What every writer gets. */
typedef struct write_ctx {
    const folded_profile *prof;
    const report_input *in;
    const config *cfg;
    const char *title, *subtitle;
    char name[32]; /* "pid 4242": names the profile where a format has room for it */
} write_ctx;

static int write_folded(FILE *f, void *ctx)
{
    return folded_write(((write_ctx *)ctx)->prof, f);
}

static int write_svg(FILE *f, void *ctx)
{
    svg_options o;
    svg_options_default(&o);
    o.title = ((write_ctx *)ctx)->title;
    o.subtitle = ((write_ctx *)ctx)->subtitle;
    return svg_write(((write_ctx *)ctx)->prof, &o, f);
}

/* When the profile began and ended (Unix ns, 0: unknown): the profiler's own clock, or
 * from a raw spill, its timeline's first and last slots. */
static void collection_time(const report_input *in, int64_t *start, int64_t *end)
{
    *start = *end = 0;
    if (!in)
        return;
    *start = in->start_ns;
    *end = in->end_ns;
    if (!*start && in->tl && in->tl_info.start_unix_ns <= INT64_MAX / 2) {
        *start = (int64_t)in->tl_info.start_unix_ns;
        *end = *start + (int64_t)in->tl_info.end_slot * (1000000000 / TIMELINE_SLOTS_PER_S);
    }
}

/* What the weights measure, as every output names it: "wall-clock", "cpu, timer" or
 * "cpu, perf task-clock". The library's stats say which CPU source ran (perf_event_open may
 * have been refused); a raw file's P record says what was asked. */
static const char *mode_label(const config *cfg, const report_input *in)
{
    if (cfg->mode == CONFIG_MODE_WALL)
        return "wall-clock";
    bool sampled = in && in->stats && !in->stats->outside && in->stats->weight;
    bool perf = sampled ? in->stats->perf_threads > 0 : cfg->source == CONFIG_SOURCE_PERF;
    return perf ? "cpu, perf task-clock" : "cpu, timer";
}

/* The modules as pprof mappings, the main executable (the first the loader lists, module
 * 0) first, so that pprof titles the profile by the program; none for a merged tree. */
static int write_pprof(FILE *f, void *ctx)
{
    write_ctx *c = ctx;
    /* A merged tree (no stacks of this process): these modules would be the command's. */
    size_t n = c->in && c->in->stacks ? modules_count() : 0;
    pprof_mapping *maps = n ? calloc(n, sizeof *maps) : NULL;
    int64_t start, end;
    collection_time(c->in, &start, &end);
    char what[64];
    snprintf(what, sizeof what, "flameprof mode: %s", mode_label(c->cfg, c->in));
    pprof_meta meta = { maps, 0, start, start && end > start ? end - start : 0,
                        c->cfg->mode == CONFIG_MODE_WALL ? "wall" : "cpu", what };
    for (size_t i = 0; maps && i < n; i++) {
        const unwind_module *m = modules_get((int)i);
        if (!m || !m->path)
            continue;
        maps[meta.nmappings++] = (pprof_mapping){ m->start, m->end, 0, m->path, m->build_id,
                                                  m->build_id_len };
    }
    int rc = pprof_write(c->prof, c->cfg->freq, &meta, f);
    free(maps);
    return rc;
}

static int write_sources(FILE *f, void *ctx)
{
    return frame_sources_write(((const folded_profile *)ctx)->sources, f);
}

static int write_speedscope(FILE *f, void *ctx)
{
    write_ctx *c = ctx;
    return speedscope_write(c->prof, c->name, f);
}

/* The timeline: in->tl, or read back from the raw file the aggregator spilled it to. */
static bool load_timeline(const report_input *in, timeline *tl, rawfile_info *info)
{
    if (in->tl) {
        *tl = *in->tl;
        *info = in->tl_info;
        return true;
    }
    FILE *f = in->raw ? fopen(in->raw, "re") : NULL;
    if (!f)
        return false;
    timeline_init(tl, 0);
    long bad = rawfile_read_all(f, NULL, tl, info, NULL, NULL);
    fclose(f);
    for (size_t i = 0; i < tl->len; i++)
        if (tl->cells[i].id >= in->stacks->len)
            bad = -1; /* not the file we wrote */
    if (bad < 0)
        timeline_free(tl);
    return bad >= 0;
}

/* The filter (filter.h) on the heatmap: each stack's name as filter_apply would make it
 * (a thread root merged away unless --threads), and the cells of stacks it drops left out.
 * Returns the kept cells (tl->len becomes their number; the caller frees them and puts
 * the length back), or NULL when every cell stays. The filter's counts are those of the
 * whole profile, as report_write described it. */
static heatmap_cell *filter_heatmap(filter *f, char **names, size_t n, timeline *tl)
{
    if (!f || (!filter_active(f) && f->threads))
        return NULL;
    filter counts = *f;
    bool *drop = calloc(n ? n : 1, sizeof *drop), any = false;
    for (size_t i = 0; drop && i < n; i++) {
        folded_profile p;
        folded_init(&p);
        if (!names[i] || folded_add(&p, names[i], strlen(names[i]), 1) != 0) {
            folded_free(&p);
            continue;
        }
        folded_finish(&p);
        if (filter_apply(f, &p) == 0) {
            free(names[i]);
            names[i] = p.len ? strdup(p.entries[0].stack) : NULL;
            drop[i] = p.len == 0;
            any |= drop[i];
        }
        folded_free(&p);
    }
    f->total_in = counts.total_in;
    f->excluded = counts.excluded;
    f->unfocused = counts.unfocused;
    f->hidden_frames_weight = counts.hidden_frames_weight;
    heatmap_cell *kept = any ? malloc((tl->len ? tl->len : 1) * sizeof *kept) : NULL;
    if (kept) {
        size_t k = 0;
        for (size_t i = 0; i < tl->len; i++)
            if (tl->cells[i].id >= n || !drop[tl->cells[i].id])
                kept[k++] = tl->cells[i];
        tl->len = k;
    }
    free(drop);
    return kept;
}

static int write_heatmap(FILE *f, void *ctx)
{
    write_ctx *c = ctx;
    const report_input *in = c->in;
    size_t n = in->stacks->len;
    char **names = calloc(n ? n : 1, sizeof *names);
    timeline tl;
    rawfile_info info;
    if (!names || !load_timeline(in, &tl, &info)) {
        free(names);
        fprintf(stderr, "flameprof: no timeline to draw the heatmap from\n");
        return -1;
    }
    report_build_lines(in, names);
    size_t ncells_all = tl.len;
    heatmap_cell *kept = filter_heatmap(in->filter, names, n, &tl);
    heatmap_input h = { .stacks = (const char *const *)names, .nstacks = n,
                        .cells = kept ? kept : tl.cells, .ncells = tl.len,
                        .first_slot = tl.first_slot,
                        .start_unix_ns = info.start_unix_ns, .freq = c->cfg->freq,
                        .title = c->name };
    int rc = heatmap_write(&h, f);
    if (kept) {
        free(kept);
        tl.len = ncells_all;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (!in->tl)
        timeline_free(&tl);
    return rc;
}

/* FLAMEPROF_FORMAT's formats, in the order they are written. */
static const struct {
    unsigned bit;
    const char *ext;
    outfile_writer write;
} formats[] = {
    { CONFIG_FORMAT_FOLDED, ".folded", write_folded },
    { CONFIG_FORMAT_SVG, ".svg", write_svg },
    { CONFIG_FORMAT_PPROF, ".pb.gz", write_pprof },
    { CONFIG_FORMAT_SPEEDSCOPE, ".speedscope.json", write_speedscope },
    { CONFIG_FORMAT_HEATMAP, ".heatmap.html", write_heatmap },
};

/* Publish one file; if the directory is missing or not writable, fall back to /tmp. */
/* Where the files go: the configured stem, or a fallback in /tmp once that has failed. */
typedef struct destination {
    char stem[PATH_MAX + 8];
    int fallback;  /* 0: as configured, 1: /tmp/<same name>, 2: /tmp/flameprof.<pid> */
    bool said;     /* the one line about the move (or the failure) is printed */
    bool durable;  /* fsync each file before naming it (report_input.durable) */
} destination;

/* The next place to try after the current one failed, or false when none is left. */
static bool next_fallback(destination *d)
{
    char alt[sizeof d->stem];
    if (d->fallback == 0 && util_tmp_same_name(d->stem, alt, sizeof alt)) {
        d->fallback = 1;
        if (strcmp(alt, d->stem) != 0) {
            memcpy(d->stem, alt, sizeof alt);
            return true;
        }
    }
    if (d->fallback < 2) { /* a name too long even for /tmp: the default name */
        d->fallback = 2;
        util_tmp_default_name((long)getpid(), d->stem, sizeof d->stem);
        return true;
    }
    return false;
}

/* Publish one file. The first failure moves this and every later file to /tmp (under the
 * same name, else the default one), said in one line once a place has worked; a total
 * failure is said in one line too. */
static bool publish(destination *d, const char *ext, outfile_writer w, void *ctx,
                    char *written, size_t cap)
{
    char first[sizeof d->stem];
    snprintf(first, sizeof first, "%s", d->stem);
    int first_err = 0;
    for (;;) {
        if ((d->durable ? outfile_publish : outfile_publish_nosync)(d->stem, ext, w, ctx,
                                                                    written, cap) == 0) {
            if (first_err && !d->said)
                fprintf(stderr, "flameprof: cannot write %.200s%s (%s); the profile is in "
                                "%.200s.* instead\n", first, ext, strerror(first_err), d->stem);
            d->said |= first_err != 0;
            return true;
        }
        int err = errno;
        first_err = first_err ? first_err : err;
        if (!next_fallback(d)) {
            if (!d->said)
                fprintf(stderr, "flameprof: cannot write the profile (%.200s%s: %s)\n", first,
                        ext, strerror(first_err));
            d->said = true;
            snprintf(written, cap, "(not written)");
            return false;
        }
    }
}

/* CPU seconds this thread has used: what symbolizing and writing cost, for the summary. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void add_gil(stack_entry *e, void *ctx)
{
    uint64_t *w = ctx;
    w[0] += e->flags & RING_GIL_HELD ? e->weight : 0;
    w[1] += e->flags & (RING_GIL_HELD | RING_GIL_NOT_HELD) ? e->weight : 0;
}

/* The Python part: which share of the Python threads' samples held the GIL (pygil.h):
 * counted by the sampler, or from the marks of FLAMEPROF_PYTHON_GIL=mark in a raw spill. */
static void print_gil(FILE *out, const report_input *in)
{
    sampler_stats marked = { 0 };
    const sampler_stats *s = in->stats;
    if (s->outside && in->stacks) {
        uint64_t w[2] = { 0, 0 };
        stacks_foreach(in->stacks, add_gil, w);
        marked.py_gil_weight = w[0];
        marked.py_weight = w[1];
        s = &marked;
    }
    if (!s->py_weight)
        return;
    char only[200] = "";
    if (s->gil_only)
        snprintf(only, sizeof only, "; FLAMEPROF_PYTHON_GIL=only left out weight %llu not "
                 "holding it and %llu without Python frames",
                 (unsigned long long)s->gil_left_py, (unsigned long long)s->gil_left_other);
    fprintf(out, "flameprof: pid %ld: python gil=%.0f%% (the GIL held in weight %llu of the "
                 "Python threads' %llu)%s\n",
            in->pid ? in->pid : (long)getpid(), 100.0 * (double)s->py_gil_weight /
            (double)s->py_weight, (unsigned long long)s->py_gil_weight,
            (unsigned long long)s->py_weight, only);
}

static void print_summary(FILE *out, const report_input *in, const folded_profile *prof,
                          const char *paths, double report_s)
{
    const sampler_stats *s = in->stats;
    char threads[32] = "", handler[64] = "";
    if (!s->outside) {
        snprintf(threads, sizeof threads, " threads=%llu", (unsigned long long)s->threads);
        snprintf(handler, sizeof handler, " handler median=%.2fus p99=%.2fus",
                 s->cost_median_ns / 1000.0, s->cost_p99_ns / 1000.0);
    }
    fprintf(out,
            "flameprof: pid %ld: weight=%llu signals=%llu%s dropped=%llu "
            "(weight %llu) lost=%llu stacks=%zu%s "
            "report=%.0fms mode=%s freq=%uHz source=%s%s; wrote %s\n",
            in->pid ? in->pid : (long)getpid(), (unsigned long long)prof->total,
            (unsigned long long)s->signals, threads, (unsigned long long)s->dropped,
            (unsigned long long)s->dropped_weight, (unsigned long long)in->lost, prof->len,
            handler, report_s * 1000.0, s->wall ? "wall" : "cpu", in->cfg->freq, s->source,
            s->app_handler ? "; the program has its own SIGPROF handler: its signals were "
                             "passed to it"
                           : "",
            paths);
    if (s->wall && !s->outside)
        fprintf(stderr, "flameprof: wall mode: off-cpu %llu of %llu periods; %llu threads "
                        "timed (%llu timers failed), %llu skipped (they block SIGPROF), "
                        "period x%llu (more than 16 threads stretch it)\n",
                (unsigned long long)s->offcpu_weight, (unsigned long long)prof->total,
                (unsigned long long)s->wall_armed, (unsigned long long)s->wall_failed,
                (unsigned long long)s->wall_skipped, (unsigned long long)s->wall_stretch);
    print_gil(out, in);
    uint64_t dropped = in->tl ? in->tl_info.first_slot / TIMELINE_SLOTS_PER_S
                              : rawfile_timeline_dropped_s();
    if (dropped)
        fprintf(out, "flameprof: pid %ld: the timeline's first %llu s were dropped to stay "
                        "within FLAMEPROF_TIMELINE_MAX; the whole profile has every sample\n",
                in->pid ? in->pid : (long)getpid(), (unsigned long long)dropped);
    if (in->filter && filter_active(in->filter)) {
        char desc[1024];
        filter_describe(in->filter, desc, sizeof desc);
        fprintf(stderr, "flameprof: %s\n", desc);
    }
    if (s->timer_failures)
        fprintf(out, "flameprof: %llu threads could not get a CPU timer: not sampled\n",
                (unsigned long long)s->timer_failures);
}

void report_stem(const config *cfg, long pid, const char *name, char *stem, size_t cap)
{
    if (cfg->tree[0]) {
        snprintf(stem, cap, "%s/%s.%ld", cfg->tree, name && *name ? name : "process", pid);
        return;
    }
    if (!config_expand_out(cfg->out, (pid_t)pid, name, stem, cap))
        config_expand_out(CONFIG_DEFAULT_OUT, (pid_t)pid, name, stem, cap);
    config_anchor_path(cfg, stem, cap);
}

void report_tree_note(const config *cfg, long pid, const char *name, const char *display,
                      const char *line)
{
    char path[PATH_MAX + 16];
    report_stem(cfg, pid, name, path, sizeof path - 8);
    strcat(path, ".info");
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return; /* the tree's summary will show the process without a profile */
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "name %s\n%s\n", display && *display ? display : name,
                     line);
    if (n > 0 && write(fd, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0)
        n = 0; /* nothing more to do: the note is best effort */
    close(fd);
}

/* Tree mode: the summary goes to NAME.PID.info for `flameprof record` to gather. */
static void tree_summary(const report_input *in, const folded_profile *prof,
                         const char *paths, double report_s)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return;
    print_summary(mem, in, prof, paths, report_s);
    fclose(mem);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        char tagged[2048];
        snprintf(tagged, sizeof tagged, "summary %s", line);
        report_tree_note(in->cfg, (long)getpid(), in->name, in->display, tagged);
    }
    free(text);
}

/* What the last report_write published, for report_withdraw. */
enum { MAX_WRITTEN = 8 };
static char written_paths[MAX_WRITTEN][PATH_MAX];
static int written_count;

void report_withdraw(void)
{
    for (int i = 0; i < written_count; i++)
        unlink(written_paths[i]);
    written_count = 0;
}

/* Write prof in want's formats to stem + each ending. in (may be NULL: a merged tree) gives
 * the heatmap its stacks and timeline and pprof its time of collection. */
static bool publish_formats(const config *cfg, const report_input *in,
                            const folded_profile *prof, const char *stem, const char *title,
                            const char *svg_title, const char *svg_subtitle, unsigned want,
                            bool remember, char *paths, size_t cap)
{
    char path[PATH_MAX];
    destination dest = { .fallback = 0, .said = false,
                         .durable = in->durable && cfg->tree[0] == '\0' };
    snprintf(dest.stem, sizeof dest.stem, "%s", stem);
    char title_buf[96];
    if (!svg_title) {
        const char *label = mode_label(cfg, in);
        bool wall = cfg->mode == CONFIG_MODE_WALL;
        snprintf(title_buf, sizeof title_buf, "%s Flame Graph (flameprof%s%s)",
                 wall ? "Wall-clock" : "CPU", wall ? "" : ", ", wall ? "" : label + 5);
        svg_title = title_buf;
    }
    write_ctx ctx = { prof, in, cfg, svg_title, svg_subtitle, "" };
    snprintf(ctx.name, sizeof ctx.name, "%s", title);
    bool ok = true;
    if (cap)
        paths[0] = 0;
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        if (!(want & formats[i].bit))
            continue;
        bool done = publish(&dest, formats[i].ext, formats[i].write, &ctx, path, sizeof path);
        if (done && remember && written_count < MAX_WRITTEN)
            snprintf(written_paths[written_count++], PATH_MAX, "%s", path);
        ok &= done;
        size_t used = strlen(paths);
        if (used < cap)
            snprintf(paths + used, cap - used, "%s%s", used ? " " : "", path);
    }
    return ok;
}

bool report_publish(const config *cfg, const report_input *in, const folded_profile *prof,
                    const char *stem, const char *title, char *paths, size_t cap)
{
    unsigned want = cfg->formats ? cfg->formats : CONFIG_DEFAULT_FORMATS;
    unsigned over_time = CONFIG_FORMAT_HEATMAP | CONFIG_FORMAT_TIMELINE;
    if ((!in || !in->stacks) && (want & over_time)) {
        fprintf(stderr, "flameprof: no heatmap or timeline for a merged profile (a process "
                        "tree): LD_PRELOAD=libflameprof.so writes them per process\n");
        want &= ~over_time;
    }
    return publish_formats(cfg, in, prof, stem, title, NULL, NULL, want, false, paths, cap);
}

bool report_write(const report_input *in)
{
    double t0 = thread_cpu_s();
    if (!in->window)
        written_count = 0;
    folded_profile prof;
    folded_init(&prof);
    report_build(in, &prof);
    long pid = in->pid ? in->pid : (long)getpid();
    char paths[8 * PATH_MAX + 4] = "", stem[PATH_MAX], subtitle[1024] = "";
    if (in->base)
        folded_subtract(&prof, in->base);
    if (in->filter) {
        if (filter_apply(in->filter, &prof) != 0)
            fprintf(stderr, "flameprof: out of memory while filtering; profile unfiltered\n");
        else
            filter_describe(in->filter, subtitle, sizeof subtitle);
    }
    report_stem(in->cfg, pid, in->name, stem, sizeof stem);
    config cfg = *in->cfg;
    if (cfg.tree[0])
        cfg.formats = CONFIG_FORMAT_FOLDED; /* record merges the tree and writes the formats */
    unsigned want = cfg.formats ? cfg.formats : CONFIG_DEFAULT_FORMATS;
    char title[64];
    snprintf(title, sizeof title, "pid %ld %s", pid, mode_label(in->cfg, in));
    const char *svg_title = in->title, *svg_subtitle = subtitle[0] ? subtitle : NULL;
    if ((want & CONFIG_FORMAT_HEATMAP) && !in->tl && !in->raw && !in->window) {
        fprintf(stderr, "flameprof: no heatmap: the timeline (PREFIX.raw) could not be "
                        "written\n");
        want &= ~(unsigned)CONFIG_FORMAT_HEATMAP;
    }
    if (in->window) { /* FLAMEPROF_INTERVAL: PREFIX.from-<N>s.<ext>, no heatmap */
        size_t used = strlen(stem);
        snprintf(stem + used, sizeof stem - used, ".from-%llus",
                 (unsigned long long)in->window_from_s);
        want &= ~(unsigned)(CONFIG_FORMAT_HEATMAP | CONFIG_FORMAT_TIMELINE);
        if (!want)
            want = CONFIG_DEFAULT_FORMATS;
    }
    bool ok = publish_formats(&cfg, in, &prof, stem, title, svg_title, svg_subtitle, want,
                              !in->window, paths, sizeof paths);
    if ((cfg.tree[0] || in->keep_sources) && prof.sources && !in->window) {
        /* Beside the tree's folded stacks, for record to merge (frame_source.h); withdrawn
         * with them (a failed exec), so the next report takes the same name. */
        char written[PATH_MAX];
        if ((in->durable && !cfg.tree[0] ? outfile_publish : outfile_publish_nosync)(
                stem, ".sources", write_sources, &prof, written, sizeof written) == 0
            && written_count < MAX_WRITTEN)
            snprintf(written_paths[written_count++], PATH_MAX, "%s", written);
    }
    if ((want & CONFIG_FORMAT_TIMELINE) && in->raw && !in->window) {
        size_t used = strlen(paths);
        snprintf(paths + used, sizeof paths - used, "%s%s", used ? " " : "", in->raw);
    }
    if (in->window && !in->cfg->quiet)
        fprintf(stderr, "flameprof: pid %ld: window from %llus: weight=%llu; wrote %s\n",
                in->pid ? in->pid : (long)getpid(), (unsigned long long)in->window_from_s,
                (unsigned long long)prof.total, paths);
    else if (in->cfg->tree[0])
        tree_summary(in, &prof, paths, thread_cpu_s() - t0);
    else if (!in->cfg->quiet)
        print_summary(stderr, in, &prof, paths, thread_cpu_s() - t0);
    if (!ok && in->raw)
        fprintf(stderr, "flameprof: the raw samples are kept in %s: `flameprof report %s` "
                        "turns them into a profile\n", in->raw, in->raw);
    folded_free(&prof);
    return ok;
}
