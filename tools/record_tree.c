/* record_tree.c - gather a tree's per-process profiles into one. */
#include "record_tree.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "folded.h"
#include "frame_source.h"
#include "jit_perfmap.h"
#include "rawfile.h"
#include "report.h"
#include "stacks.h"

enum { NAME_MAX_LEN = 128, MAX_NOTES = 4 };

/* One process of the tree, as its files in the directory tell it. */
typedef struct tree_proc {
    char stem[NAME_MAX_LEN]; /* NAME.PID */
    char display[NAME_MAX_LEN];
    long pid;
    bool folded, raw, recovered;
    uint64_t weight;
    uint64_t dropped, lost; /* from its summary: samples the process could not keep */
    char notes[MAX_NOTES][256];
    int n_notes;
} tree_proc;

typedef struct tree {
    tree_proc *procs;
    size_t len, cap;
} tree;

int record_tree_create(char *dir, size_t cap)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || tmp[0] != '/')
        tmp = "/tmp";
    if ((size_t)snprintf(dir, cap, "%s/flameprof-tree.XXXXXX", tmp) >= cap || !mkdtemp(dir)) {
        fprintf(stderr, "flameprof: record: cannot make a directory in %s for the process "
                        "tree: %s\n", tmp, strerror(errno));
        return -1;
    }
    return 0;
}

int record_tree_reap(int wait_ms)
{
    for (int waited = 0;;) {
        int status;
        pid_t p = waitpid(-1, &status, WNOHANG);
        if (p > 0)
            continue; /* one gone: more may follow at once */
        if (p < 0)
            return 0; /* ECHILD: every process of the tree has ended */
        if (waited++ >= wait_ms)
            return 1;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

/* "NAME.PID.ext" -> the process (added if new) and the ending, or NULL if not ours. */
static tree_proc *proc_of(tree *t, const char *file, const char **ext)
{
    static const char *const exts[] = { ".folded", ".raw", ".info" };
    size_t n = strlen(file), k = 0;
    for (; k < sizeof exts / sizeof *exts; k++) {
        size_t e = strlen(exts[k]);
        if (n > e && strcmp(file + n - e, exts[k]) == 0)
            break;
    }
    if (k == sizeof exts / sizeof *exts || n - strlen(exts[k]) >= NAME_MAX_LEN)
        return NULL;
    *ext = exts[k];
    char stem[NAME_MAX_LEN];
    snprintf(stem, sizeof stem, "%.*s", (int)(n - strlen(exts[k])), file);
    const char *dot = strrchr(stem, '.');
    char *end;
    long pid = dot ? strtol(dot + 1, &end, 10) : 0;
    if (!dot || dot == stem || *end || pid <= 0)
        return NULL;
    for (size_t i = 0; i < t->len; i++)
        if (strcmp(t->procs[i].stem, stem) == 0)
            return &t->procs[i];
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        tree_proc *v = realloc(t->procs, cap * sizeof *v);
        if (!v)
            return NULL;
        t->procs = v;
        t->cap = cap;
    }
    tree_proc *p = &t->procs[t->len++];
    memset(p, 0, sizeof *p);
    snprintf(p->stem, sizeof p->stem, "%s", stem);
    snprintf(p->display, sizeof p->display, "%.*s", (int)(dot - stem), stem);
    p->pid = pid;
    return p;
}

static void add_note(tree_proc *p, const char *text)
{
    if (p->n_notes < MAX_NOTES)
        snprintf(p->notes[p->n_notes++], sizeof p->notes[0], "%.255s", text);
}

/* dropped= and lost= of a process's summary line; a line of its that says something went
 * wrong (threads without a timer), or a Python process's GIL share, is kept as a note. */
static void read_counts(tree_proc *p, const char *line)
{
    const char *d = strstr(line, " dropped="), *l = strstr(line, " lost=");
    if (d)
        p->dropped += strtoull(d + 9, NULL, 10);
    if (l)
        p->lost += strtoull(l + 6, NULL, 10);
    if (strstr(line, "could not get a CPU timer"))
        add_note(p, line);
    const char *gil = strstr(line, "python gil="); /* the GIL's share (preload/pygil.h) */
    if (gil)
        add_note(p, gil);
}

static void read_info(const char *dir, tree_proc *p)
{
    char path[PATH_MAX], line[1024];
    snprintf(path, sizeof path, "%s/%s.info", dir, p->stem);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "name ", 5) == 0 && line[5])
            snprintf(p->display, sizeof p->display, "%.127s", line + 5);
        else if (strncmp(line, "note ", 5) == 0)
            add_note(p, line + 5);
        else if (strncmp(line, "summary ", 8) == 0)
            read_counts(p, line + 8);
    }
    fclose(f);
}

static void recover_raw_here(const char *dir, tree_proc *p, const config *base);

static void add_weight(stack_entry *e, void *ctx)
{
    *(uint64_t *)ctx += e->samples;
}

/* A process killed before it wrote its profile: its raw spill, symbolized (the way
 * `flameprof report` does) into NAME.PID.folded beside it. In a child process of its own:
 * the module registry a raw file is read into is the process's one. */
static void recover_raw(const char *dir, tree_proc *p, const config *base)
{
    fflush(NULL);
    pid_t child = fork();
    if (child < 0)
        return;
    if (child == 0) {
        recover_raw_here(dir, p, base);
        fflush(NULL);
        _exit(p->recovered ? 0 : 1);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR)
        ;
    p->recovered = WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void recover_raw_here(const char *dir, tree_proc *p, const config *base)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.raw", dir, p->stem);
    FILE *in = fopen(path, "re");
    if (!in)
        return;
    stack_table t;
    stacks_init(&t);
    long pid;
    bool clean;
    config cfg = *base;
    cfg.tree[0] = 0;
    cfg.quiet = true;
    cfg.formats = CONFIG_FORMAT_FOLDED;
    cli_line_errors errs = { path, 0 };
    long bad = rawfile_read(in, &t, &pid, &cfg.freq, &clean, cli_line_error, &errs);
    fclose(in);
    if (bad >= 0) {
        snprintf(cfg.out, sizeof cfg.out, "%s/%s", dir, p->stem);
        jit_load_perfmap_of(pid);
        uint64_t samples = 0;
        stacks_foreach(&t, add_weight, &samples);
        sampler_stats st = { .signals = samples, .source = "raw spill", .outside = true };
        report_input ri = { .cfg = &cfg, .stacks = &t, .stats = &st, .keep_sources = true };
        p->recovered = samples > 0 && report_write(&ri);
    }
    stacks_free(&t);
}

/* The directory's processes, their raw spills recovered. */
static void scan(const char *dir, tree *t, const config *cfg)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *ext;
        tree_proc *p = proc_of(t, e->d_name, &ext);
        if (p && strcmp(ext, ".folded") == 0)
            p->folded = true;
        else if (p && strcmp(ext, ".raw") == 0)
            p->raw = true;
    }
    closedir(d);
    for (size_t i = 0; i < t->len; i++) {
        read_info(dir, &t->procs[i]);
        if (t->procs[i].raw && !t->procs[i].folded) {
            recover_raw(dir, &t->procs[i], cfg);
            t->procs[i].folded = t->procs[i].recovered;
        }
    }
}

/* Where the process's native frames are declared (NAME.PID.sources, if it wrote one), into
 * own and out. The file is ours but read as untrusted: a bad line is skipped. */
static void add_sources(const char *dir, const tree_proc *p, folded_profile *own,
                        folded_profile *out)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.sources", dir, p->stem);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    if (!own->sources)
        own->sources = frame_sources_new();
    if (own->sources && frame_sources_read(own->sources, f) >= 0) {
        if (!out->sources)
            out->sources = frame_sources_new();
        if (out->sources)
            frame_sources_merge(out->sources, own->sources);
    }
    fclose(f);
}

/* The process's stacks, each under root, into out; its weight into p. */
static int add_process(const char *dir, tree_proc *p, const char *root, folded_profile *out,
                       folded_profile *own)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s.folded", dir, p->stem);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    cli_line_errors errs = { path, 0 };
    long bad = folded_parse(f, own, cli_line_error, &errs);
    fclose(f);
    if (bad < 0)
        return -1;
    cli_line_errors_end(&errs, bad);
    add_sources(dir, p, own, out);
    char *line = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < own->len; i++) {
        size_t need = strlen(root) + strlen(own->entries[i].stack) + 2;
        if (need > cap) {
            char *l = realloc(line, need * 2);
            if (!l)
                break;
            line = l;
            cap = need * 2;
        }
        int n = snprintf(line, cap, "%s;%s", root, own->entries[i].stack);
        if (folded_add(out, line, (size_t)n, own->entries[i].count) != 0)
            break;
        p->weight += own->entries[i].count;
    }
    free(line);
    return 0;
}

/* Each program's weight, "sh 12 in 3 processes, chromium 1092", into buf. */
static void summarize_programs(const tree *t, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < t->len; i++) {
        const tree_proc *p = &t->procs[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = t->procs[j].folded && strcmp(t->procs[j].display, p->display) == 0;
        if (!p->folded || seen)
            continue;
        uint64_t w = 0;
        int n = 0;
        for (size_t j = i; j < t->len; j++) {
            if (t->procs[j].folded && strcmp(t->procs[j].display, p->display) == 0) {
                w += t->procs[j].weight;
                n++;
            }
        }
        if (used < cap)
            used += (size_t)snprintf(buf + used, cap - used, "%s%s %llu%s%.0d%s",
                                     used ? ", " : "", p->display, (unsigned long long)w,
                                     n > 1 ? " in " : "", n > 1 ? n : 0,
                                     n > 1 ? " processes" : "");
    }
}

static void print_summary(const tree *t, const char *paths, int still_running)
{
    size_t profiled = 0;
    uint64_t weight = 0, dropped = 0, lost = 0;
    for (size_t i = 0; i < t->len; i++) {
        profiled += t->procs[i].folded;
        weight += t->procs[i].weight;
        dropped += t->procs[i].dropped;
        lost += t->procs[i].lost;
    }
    char programs[2048];
    summarize_programs(t, programs, sizeof programs);
    fprintf(stderr, "flameprof: record: %zu process%s profiled: weight=%llu dropped=%llu "
            "lost=%llu (%s); wrote %s\n", profiled, profiled == 1 ? "" : "es",
            (unsigned long long)weight, (unsigned long long)dropped, (unsigned long long)lost,
            programs[0] ? programs : "no samples", paths);
    for (size_t i = 0; i < t->len; i++) {
        const tree_proc *p = &t->procs[i];
        for (int k = 0; k < p->n_notes; k++)
            fprintf(stderr, "flameprof: record: %s [pid %ld]: %s\n", p->display, p->pid,
                    p->notes[k]);
        if (p->recovered)
            fprintf(stderr, "flameprof: record: %s [pid %ld]: recovered from its raw spill "
                            "(it ended before it could write its profile)\n", p->display, p->pid);
        else if (p->raw && !p->folded)
            fprintf(stderr, "flameprof: record: %s [pid %ld]: ended without a profile and "
                            "its raw spill held no samples\n", p->display, p->pid);
    }
    if (still_running)
        fprintf(stderr, "flameprof: record: processes of the tree still ran when the command "
                        "ended; what they had not written is not in the profile\n");
}

/* PREFIX.NAME.PID.* for one process (--per-process). */
static void write_own(const record_tree_opts *o, const tree_proc *p, const folded_profile *own)
{
    char stem[PATH_MAX], paths[4 * PATH_MAX];
    snprintf(stem, sizeof stem, "%s.%s", o->prefix, p->stem);
    report_input when = { .cfg = o->cfg, .start_ns = o->start_ns, .end_ns = o->end_ns };
    report_publish(o->cfg, &when, own, stem, p->display, paths, sizeof paths);
}

int record_tree_merge(const char *dir, const record_tree_opts *o, int still_running)
{
    tree t = { 0 };
    scan(dir, &t, o->cfg);
    folded_profile all;
    folded_init(&all);
    int profiled = 0;
    for (size_t i = 0; i < t.len; i++) {
        tree_proc *p = &t.procs[i];
        if (!p->folded)
            continue;
        profiled++;
        char root[NAME_MAX_LEN + 32];
        if (o->pids)
            snprintf(root, sizeof root, "%s [pid %ld]", p->display, p->pid);
        else
            snprintf(root, sizeof root, "%s", p->display);
        folded_profile own;
        folded_init(&own);
        if (add_process(dir, p, root, &all, &own) == 0 && o->per_process)
            write_own(o, p, &own);
        folded_free(&own);
    }
    folded_finish(&all);
    char paths[4 * PATH_MAX] = "(nothing: no process of the tree had a sample)";
    bool ok = true;
    report_input when = { .cfg = o->cfg, .start_ns = o->start_ns, .end_ns = o->end_ns };
    if (all.len)
        ok = report_publish(o->cfg, &when, &all, o->prefix, o->title, paths, sizeof paths);
    if (!o->cfg->quiet && t.len) /* nothing at all: record_check.h says why, once */
        print_summary(&t, paths, still_running);
    folded_free(&all);
    free(t.procs);
    return ok ? profiled : -1;
}

bool record_tree_empty(const char *dir)
{
    DIR *d = opendir(dir);
    bool empty = true;
    struct dirent *e;
    while (d && empty && (e = readdir(d)))
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return empty;
}

void record_tree_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[PATH_MAX];
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        }
        closedir(d);
    }
    rmdir(dir);
}
