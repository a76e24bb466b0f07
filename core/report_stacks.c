/* report_stacks.c - a stack table's stacks named frame by frame; see report_stacks.h. */
#include "report_stacks.h"

#include "array.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame_source.h"
#include "jit_names.h"
#include "jvmframes.h"
#include "modules.h"
#include "pynames.h"
#include "rtframe.h"
#include "rtnames.h"
#include "symbolize.h"
#include "threads.h"
#include "unwind.h"

enum { MAX_INLINE = 32, NAME_MAX_LEN = 1024 };

typedef struct line_buf {
    char *s;
    size_t len, cap;
} line_buf;

static bool buf_append(line_buf *b, const char *s, size_t n)
{
    if (!UTIL_RESERVE(b->s, b->cap, b->len + n + 2))
        return false;
    if (b->len > 0)
        b->s[b->len++] = ';';
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
    return true;
}

typedef struct build_ctx {
    symbolizer *sym;
    folded_profile *prof;       /* the lines go here, weighted... */
    bool window;                /* ...by the weight since the window began */
    char **names;               /* or each stack's line goes to names[id] (the heatmap) */
    const unwind_module *self;
    line_buf line;
    bool oom;
} build_ctx;

/* The module holding pc as of generation gen; a pc in a library loaded just before the
 * aggregator noticed the dlopen is found in the next generations. */
static const unwind_module *find_module(uint32_t gen, uint64_t pc)
{
    for (uint32_t g = gen;; g++) {
        const module_map *m = modules_by_gen(g);
        if (!m)
            return NULL;
        const unwind_module *mod = module_map_find(m, pc);
        if (mod)
            return mod;
    }
}

/* Appends a frame; file and line (NULL, 0: unknown) say where its function is declared,
 * kept beside the stacks (frame_source.h) for the formats that hold it. */
static void append_source_frame(build_ctx *c, const char *name, bool inlined,
                                const char *file, unsigned line)
{
    char clean[NAME_MAX_LEN + 8];
    size_t n = folded_sanitize_frame(name, clean, NAME_MAX_LEN);
    if (file && c->prof) {
        if (!c->prof->sources)
            c->prof->sources = frame_sources_new();
        c->oom |= !c->prof->sources
                  || frame_sources_add(c->prof->sources, clean, n, file, line) != 0;
    }
    if (inlined) {
        memcpy(clean + n, "_[i]", 5);
        n += 4;
    }
    c->oom |= !buf_append(&c->line, clean, n);
}

static void append_frame(build_ctx *c, const char *name, bool inlined)
{
    append_source_frame(c, name, inlined, NULL, 0);
}

static void append_tagged(build_ctx *c, char *name, const char *tag)
{
    size_t n = strlen(name);
    snprintf(name + (n < NAME_MAX_LEN - 5 ? n : NAME_MAX_LEN - 5), 5, "%s", tag);
    append_frame(c, name, false);
}

/* The methods the JIT inlined at a compiled Java pc, outermost first, tagged _[i]. */
static void append_inlined(build_ctx *c, const stack_entry *e, uint64_t pc)
{
    jvmframes *jf = jvmframes_published();
    uint64_t methods[MAX_INLINE];
    size_t n = jf ? jvmframes_inlined(jf, pc, e->jvm_gen, methods, MAX_INLINE) : 0;
    char name[NAME_MAX_LEN];
    for (size_t i = 0; i < n; i++)
        if (jvmframes_name(jf, methods[i], name, sizeof name))
            append_tagged(c, name, "_[i]");
}

/* Code outside every module: JIT code named by the runtime, tagged _[j] as
 * flamegraph.pl's palettes expect; an interpreted Java method, tagged _[0] (as
 * async-profiler's annotated output does), or "Interpreter_[j]" when it has no name. */
static void append_jit_frame(build_ctx *c, const stack_entry *e, uint64_t pc)
{
    char name[NAME_MAX_LEN];
    bool is_jit;
    if (pc & UNWIND_METHOD_TAG) {
        jvmframes *jf = jvmframes_published();
        if (jf && jvmframes_name(jf, pc & ~UNWIND_METHOD_TAG, name, sizeof name))
            append_tagged(c, name, "_[0]");
        else
            append_frame(c, "Interpreter_[j]", false);
        return;
    }
    if (!jit_name(c->sym, pc, e->pm_gen, e->jvm_gen, name, sizeof name, &is_jit)) {
        append_frame(c, "[unknown]", false);
        return;
    }
    append_tagged(c, name, is_jit ? "_[j]" : "");
    if (is_jit)
        append_inlined(c, e, pc);
}

/* A Python frame the aggregator named (pynames.h), tagged _[p] for the palettes. */
static void append_python_frame(build_ctx *c, uint64_t pc)
{
    char name[NAME_MAX_LEN];
    if (!pynames_get(pc, name, sizeof name - 4))
        snprintf(name, sizeof name - 4, "[python]");
    strcat(name, "_[p]");
    append_frame(c, name, false);
}

static uint64_t weight_of(const build_ctx *c, const stack_entry *e)
{
    return c->window ? e->weight - e->mark_weight : e->weight;
}

static void add_stack(stack_entry *e, void *arg)
{
    build_ctx *c = arg;
    if (!c->names && !weight_of(c, e))
        return; /* not in this window, or a stack whose weight the crash cut off */
    c->line.len = 0;
    if (c->line.s)
        c->line.s[0] = 0;
    if (e->tid) { /* threads kept apart: "[name tid]" roots (filter.h merges them back) */
        char root[THREADS_NAME_MAX + 32];
        const char *name = threads_name(e->tid);
        snprintf(root, sizeof root, "[%s %u]", name ? name : "thread", e->tid);
        append_frame(c, root, false);
    }
    if (e->flags & (RING_GIL_HELD | RING_GIL_NOT_HELD)) /* FLAMEPROF_PYTHON_GIL=mark */
        append_frame(c, e->flags & RING_GIL_HELD ? "[GIL held]" : "[GIL not held]", false);
    if (e->flags & RING_TRUNCATED)
        append_frame(c, "[truncated]", false);
    for (size_t i = e->depth; i-- > 0;) {
        bool is_return = i > 0;
        uint64_t pc = e->pcs[i];
        if (PYNAMES_IS_PC(pc)) { /* a Python frame, named when sampled (pynames.h) */
            append_python_frame(c, pc);
            continue;
        }
        if (rtframe_is(pc)) { /* an interpreter frame, named when sampled */
            const char *name = rtframe_kind_of(pc) == RTFRAME_NAME
                                   ? rtnames_get((uint32_t)rtframe_value(pc)) : NULL;
            append_frame(c, name ? name : "[unknown]", false);
            continue;
        }
        const unwind_module *mod = find_module(e->gen, is_return ? pc - 1 : pc);
        if (mod && mod == c->self)
            continue; /* our own thread trampoline: not the program's code */
        if (!mod) {
            append_jit_frame(c, e, pc);
            continue;
        }
        symbolize_frame fr[MAX_INLINE];
        size_t n = symbolize_pc(c->sym, mod->id, pc, is_return, fr, MAX_INLINE);
        for (size_t k = 0; k < n; k++)
            append_source_frame(c, fr[k].name, fr[k].inlined, fr[k].file, fr[k].line);
    }
    if (c->line.len == 0)
        append_frame(c, "[unknown]", false);
    if (e->flags & RING_OFFCPU) /* wall mode: waiting in a system call, not running */
        append_frame(c, "[off-cpu]", false);
    if (c->names)
        c->oom |= !(c->names[e->id] = strdup(c->line.s));
    else if (folded_add(c->prof, c->line.s, c->line.len, weight_of(c, e)) != 0)
        c->oom = true;
}

static const unwind_module *module_of(const void *addr)
{
    size_t n = modules_count();
    for (size_t i = 0; i < n; i++) {
        const unwind_module *m = modules_get((int)i);
        if (m && (uint64_t)(uintptr_t)addr >= m->start && (uint64_t)(uintptr_t)addr < m->end)
            return m;
    }
    return NULL;
}

/* Inside the profiled process with DEBUGINFOD_URLS set: say once which command would
 * name the stripped code, and keep the raw spill it needs. */
static void hint_debuginfod(const report_input *in, const symbolizer *sym)
{
    const char *urls = getenv("DEBUGINFOD_URLS"), *example = "";
    size_t n = symbolize_unnamed_modules(sym, &example);
    if (in->fetch || !in->raw || !in->keep_raw || !urls || !*urls || n == 0)
        return;
    *in->keep_raw = true;
    if (!in->cfg->quiet)
        fprintf(stderr, "flameprof: %zu module%s without symbols here (%s%s); "
                        "`flameprof report %s` names them from debuginfod (DEBUGINFOD_URLS)\n",
                n, n == 1 ? "" : "s", example, n > 1 ? ", ..." : "", in->raw);
}

/* Module files replaced since they were profiled (an upgrade) are never read for names. */
static void say_changed(const report_input *in, const symbolizer *sym)
{
    const char *example = "";
    size_t n = symbolize_changed_modules(sym, &example);
    if (n > 0 && !in->cfg->quiet)
        fprintf(stderr, "flameprof: %zu module file%s changed since profiled (%s%s: another "
                        "build-id%s); %s code is named by offset\n",
                n, n == 1 ? "" : "s", example, n > 1 ? ", ..." : "",
                in->fetch ? ", and debuginfod did not have the original" : "",
                n == 1 ? "its" : "their");
}

/* Symbolize every stack of in into prof (names NULL) or into names[id]. */
static void build_profile(const report_input *in, folded_profile *prof, char **names)
{
    build_ctx c = { .sym = symbolize_new(), .prof = prof, .window = in->window,
                    .names = names, .self = module_of(in->self_pc) };
    if (!c.sym)
        return;
    symbolize_set_fetch(c.sym, in->fetch, in->fetch_ctx);
    size_t n = modules_count();
    for (size_t i = 0; i < n; i++) {
        const unwind_module *m = modules_get((int)i);
        if (m && symbolize_add_module(c.sym, m->id, m->path, m->bias, m->image,
                                      m->image_size) == 0 && m->build_id_len > 0)
            symbolize_expect_build_id(c.sym, m->id, m->build_id, m->build_id_len);
    }
    stacks_foreach(in->stacks, add_stack, &c);
    if (prof) { /* said once: not again for the heatmap's names */
        hint_debuginfod(in, c.sym);
        say_changed(in, c.sym);
        folded_finish(prof);
    }
    free(c.line.s);
    symbolize_free(c.sym);
    if (c.oom)
        fprintf(stderr, "flameprof: out of memory while symbolizing; profile incomplete\n");
}

void report_build(const report_input *in, folded_profile *prof)
{
    build_profile(in, prof, NULL);
}

void report_build_lines(const report_input *in, char **lines)
{
    build_profile(in, NULL, lines);
}
