/* preload.c - libflameprof.so's entry: start profiling when loaded, write the profile when
 * the process (or its current image) ends, and follow threads and forks.
 *
 * Interposed: pthread_create (every new thread gets its CPU timer), the exec family (the
 * outgoing image writes its profile first), sigaction/signal for SIGPROF (the program's
 * handler is chained, not lost), prctl (a sandbox being sealed ends the profile
 * first: sandbox.h), unshare (a new user namespace wants a single thread), dlsym (a JVM's
 * JNI_CreateJavaVM: jvm_options.h). Children made without glibc's fork (raw clone, vfork,
 * posix_spawn) are told apart by owner.h before anything waits, writes or records a signal
 * handler; vfork is the program's own (a compiler driver's vfork + exec made a fork had cost
 * ~1.4 ms a child in copied page tables and a profile's start and end). dlopen is not
 * interposed: the aggregator notices new modules. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "aggregator.h"
#include "config.h"
#include "endings.h"
#include "report_stream.h"
#include "goexit.h"
#include "golang.h"
#include "jit_env.h"
#include "python.h"
#include "jit_perfmap.h"
#include "jvm_options.h"
#include "modules.h"
#include "owner.h"
#include "phases.h"
#include "procname.h"
#include "pygil.h"
#include "rawfile.h"
#include "rbnames.h"
#include "record_mark.h"
#include "report.h"
#include "ring.h"
#include "sampler.h"
#include "sandbox.h"
#include "stacks.h"
#include "tmp_path.h"

#define FP_EXPORT __attribute__((visibility("default")))

/* 512 slots of up to 1024 frames (4 MB of address space; only the few slots in flight at
 * once are ever touched). The aggregator drains every 10 ms, so this is half a second of
 * samples from four busy threads (250 signals/s each) even if the aggregator stalls; with
 * no free slot a sample is dropped and counted. */
enum { RING_SLOTS = 512 };

static config g_cfg;
static ring g_ring;
static stack_table g_stacks;
static atomic_bool g_active;
/* Initialized: a raw-cloned copy of this process may adopt the state (adopt_if_copy). False
 * once a sandbox was sealed here: nothing of ours may run after that. */
static atomic_bool g_ready;

typedef int (*pthread_create_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *),
                                 void *);
static pthread_create_fn real_pthread_create;

typedef int (*prctl_fn)(int, unsigned long, unsigned long, unsigned long, unsigned long);
static prctl_fn real_prctl;

/* What this process is called (procname.h), and whether it is the program the user started
 * or one that program started (FLAMEPROF_ROOT holds the first profiled pid of a tree). */
static char g_name[PROCNAME_FILE_MAX], g_display[PROCNAME_DISPLAY_MAX];
static bool g_descendant;

/* The libc functions we interpose, looked up once in the constructor. dlsym takes the
 * loader lock, and a child made by a raw clone system call (Chromium's zygote) inherits that
 * lock as another thread of its parent held it (our aggregator, a dlopen), with no atfork
 * handler to release it: a dlsym in its execve would wait forever. */
static const char *const cached_names[] = {
    "execve", "execvpe", "fexecve", "sigaction", "signal", "bsd_signal", "sysv_signal",
    "__sysv_signal", "unshare", "prctl", "_exit", "pthread_create",
};
static void *cached_ptrs[sizeof cached_names / sizeof *cached_names];

static void resolve_real_symbols(void)
{
    for (size_t i = 0; i < sizeof cached_names / sizeof *cached_names; i++)
        cached_ptrs[i] = dlsym(RTLD_NEXT, cached_names[i]);
}

static void *real_symbol(const char *name)
{
    for (size_t i = 0; i < sizeof cached_names / sizeof *cached_names; i++)
        if (cached_ptrs[i] && strcmp(cached_names[i], name) == 0)
            return cached_ptrs[i];
    return dlsym(RTLD_NEXT, name); /* before the constructor (another library's) */
}


/* The raw spill, next to where the profile will go (or in /tmp). */
static void open_spill(void)
{
    if (g_cfg.empty_handler)
        return;
    char stem[PATH_MAX];
    report_stem(&g_cfg, (long)getpid(), g_name, stem, sizeof stem);
    if (g_cfg.timeline_max)
        rawfile_set_timeline_max(g_cfg.timeline_max);
    rawfile_set_mode(g_cfg.mode, g_cfg.source);
    if (rawfile_open(stem, g_cfg.freq) == 0)
        return;
    char alt[PATH_MAX + 8];
    if (util_tmp_same_name(stem, alt, sizeof alt))
        rawfile_open(alt, g_cfg.freq);
}

/* When this process's profile began (CLOCK_REALTIME ns): the constructor, or the fork. */
static int64_t g_start_ns;

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_fork_child(void)
{
    aggregator_fork_child_reset(); /* its lock: held by threads that are not here */
    if (!atomic_load(&g_active))
        return;
    owner_claim();
    g_descendant = true; /* a fork of the program is a process it started */
    procname_read(g_name, g_display);
    g_start_ns = now_ns(CLOCK_REALTIME);
    rawfile_after_fork_child();
    open_spill();
    modules_after_fork_child();
    /* The table may have been mid-update in the parent's aggregator: abandon the copy
     * (copy-on-write, so it costs nothing) rather than walk it. */
    stacks_init(&g_stacks);
    g_stacks.by_thread = g_cfg.threads;
    jit_after_fork_child();
    python_after_fork_child();
    sampler_after_fork_child();
    aggregator_after_fork_child();
    /* Last: the child's timer starts counting only now, so our own setup (a thread, a file)
     * is not what a child that forks again and _exits at once gets sampled in. */
    sampler_after_fork_arm();
}

static void finish(bool skip_if_empty, bool final);

/* No sample at all (a short-lived child, an image that execs at once): no files, so that a
 * build or a shell under the profiler does not litter empty profiles. Nor for a process the
 * program started with fewer than FLAMEPROF_MIN_SAMPLES (a shell's helpers), unless
 * `flameprof record` gathers the tree: there, every sample counts. Async-signal-safe. */
/* An image about to exec another (a wrapper script, a pyenv shim, a launcher): the process
 * goes on in the new image, which writes its own profile; a short-lived outgoing image is
 * held to the descendants' minimum instead of taking the output name with a few samples. */
static bool g_execing;

static bool too_small(uint64_t signals)
{
    return signals == 0 ||
           ((g_descendant || g_execing) && !g_cfg.tree[0] && signals < g_cfg.min_samples);
}

static sandbox_state g_sandbox_at_start; /* to tell a sandbox sealed since */
static bool g_sealed_copy;     /* a raw-cloned copy that sealed a sandbox (not yet said) */
static const char *g_end_note; /* why the profile ends early, printed after its summary */

/* One line for a process that is not (or no longer) profiled, and why. A plain write:
 * in a raw-cloned copy, stderr's stdio lock may have been held by another thread of the
 * parent at the moment of the copy. */
static void note_unprofiled(const char *why)
{
    char line[320];
    if (g_cfg.tree[0]) {
        snprintf(line, sizeof line, "note not profiled: %s", why);
        report_tree_note(&g_cfg, (long)syscall(SYS_getpid), g_name, g_display, line);
        return;
    }
    if (g_cfg.quiet)
        return;
    int n = snprintf(line, sizeof line, "flameprof: pid %ld: not profiled: %s\n",
                     (long)syscall(SYS_getpid), why);
    if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line) < 0)
        return; /* nowhere else to say it */
}

/* A copy of this process made by a raw clone/fork system call (no atfork handler ran in
 * it) takes the state over as a fork child would, at its first pthread_create: a safe
 * point (the program runs ordinary code and uses libc there itself) that every
 * long-running process reaches, and a zygote's children reach after they sandboxed
 * themselves, if ever. Before that point it has no timer (timers are not inherited), so no
 * sample is lost by waiting. Decided once per process. */
static void adopt_if_copy(void)
{
    if (!atomic_load(&g_ready) || owner_check() != OWNER_COPY) {
        if (g_sealed_copy && owner_check() == OWNER_COPY) {
            g_sealed_copy = false; /* one line */
            note_unprofiled("it sealed a sandbox (no_new_privs/seccomp) before its first "
                            "thread, where it would have started");
        }
        return;
    }
    atomic_store(&g_ready, false); /* our own copy of the flag: no other process sees it */
    atomic_store(&g_active, false);
    char why[160];
    if (!sandbox_unchanged(&g_sandbox_at_start, why, sizeof why)) {
        note_unprofiled(why);
        return;
    }
    atomic_store(&g_active, true);
    on_fork_child();
    atomic_store(&g_ready, true);
}

/* On the aggregator thread, when SIGTERM/SIGINT/SIGHUP or _exit is about to end the
 * process (a child that forked and _exits at once writes nothing). */
static void finish_on_signal(int why)
{
    finish(why == ENDINGS_EXIT, true);
}

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);
typedef void (*exit_fn)(int);
static exit_fn real__exit;

/* Loaded by LD_PRELOAD, our interposers come first in symbol lookup. Loaded any other way
 * (a JVM given -agentpath in an inherited JAVA_TOOL_OPTIONS after LD_PRELOAD was dropped,
 * a dlopen), they do not, and threads, forks and execs would escape us: do not sample. */
static bool interposing(void)
{
    /* Whose pthread_create wins the global lookup: ours, if the object defining it is
     * the one this function is in. */
    Dl_info winner, self;
    void *p = dlsym(RTLD_DEFAULT, "pthread_create");
    return p && dladdr(p, &winner) && dladdr((void *)interposing, &self) &&
           winner.dli_fbase == self.dli_fbase;
}

/* FLAMEPROF_INTERVAL: the profile of the window that began from_s seconds in, written
 * while the program runs (on the aggregator thread, or at the end for the last one);
 * nothing for a window without samples. */
static void write_window(uint64_t from_s)
{
    uint64_t weight = 0;
    for (size_t id = 0; id < g_stacks.len; id++) {
        const stack_entry *e = stacks_get(&g_stacks, (uint32_t)id);
        weight += e->weight - e->mark_weight;
    }
    if (weight == 0 || g_cfg.tree[0])
        return; /* an idle interval: no files; under record, only the tree's profile */
    sampler_stats st;
    sampler_get_stats(&st);
    pygil_stats(&st);
    report_input in = { .cfg = &g_cfg, .stacks = &g_stacks, .stats = &st,
                        .self_pc = (const void *)write_window, .window = true,
                        .name = g_name, .display = g_display,
                        .window_from_s = from_s };
    report_write(&in);
    aggregator_window_done();
}

/* The first profiled process of a tree marks it; every process it starts inherits the mark
 * (an exec keeps the pid: still the root). */
static void root_of_tree(void)
{
    const char *root = getenv("FLAMEPROF_ROOT");
    long self = (long)getpid();
    if (root && *root) {
        g_descendant = atol(root) != self;
        return;
    }
    char buf[24];
    snprintf(buf, sizeof buf, "%ld", self);
    setenv("FLAMEPROF_ROOT", buf, 1);
}

__attribute__((constructor)) static void flameprof_init(void)
{
    resolve_real_symbols();
    real__exit = (exit_fn)real_symbol("_exit");
    real_pthread_create = (pthread_create_fn)real_symbol("pthread_create");
    real_prctl = (prctl_fn)real_symbol("prctl");
    if (!interposing())
        return; /* e.g. only the JVM agent is wanted here: it works without the sampler */
    g_start_ns = now_ns(CLOCK_REALTIME);
    config_load(&g_cfg);
    report_stream_note_start();
    procname_read(g_name, g_display);
    root_of_tree();
    golang_detect();
    if (golang_without_libc()) {
        fprintf(stderr, "flameprof: pid %ld: a Go program built without cgo: Go runs its "
                        "threads outside the C library, so it cannot be profiled from inside; "
                        "use Go's own profiler (net/http/pprof, runtime/pprof), which "
                        "flameprof svg renders\n",
                (long)getpid());
        record_mark(RECORD_MARK_SAID);
        return;
    }
    record_mark(RECORD_MARK_LOADED); /* for `flameprof record`: the library is in here */
    jit_setup_env();
    rbnames_init(g_cfg.quiet); /* CRuby: on this (main) thread, for its TLS offset */
    jvm_options_setup(); /* before a JVM (if this is one) starts */
    if (!real_pthread_create || ring_init(&g_ring, RING_SLOTS) != 0) {
        fprintf(stderr, "flameprof: cannot allocate the sample ring; not profiling\n");
        return;
    }
    stacks_init(&g_stacks);
    g_stacks.by_thread = g_cfg.threads;
    modules_refresh();
    owner_claim();
    sandbox_read(&g_sandbox_at_start);
    char why[160];
    bool dormant = sandbox_single_threaded(why, sizeof why);
    if (!dormant)
        open_spill();
    sampler_set_mode(g_cfg.mode == CONFIG_MODE_WALL, g_cfg.source == CONFIG_SOURCE_PERF,
                     real_pthread_create);
    if (sampler_init(g_cfg.freq, &g_ring, g_cfg.empty_handler) != 0) {
        fprintf(stderr, "flameprof: cannot start sampling; not profiling\n");
        return;
    }
    goexit_install(g_cfg.quiet);
    pthread_atfork(aggregator_fork_prepare, aggregator_fork_release, on_fork_child);
    atomic_store(&g_ready, true);
    if (g_cfg.interval && !g_cfg.empty_handler)
        aggregator_set_window(g_cfg.interval, write_window);
    aggregator_set_tick(sampler_prepare_memo);
    if (dormant) {
        /* No timer, no thread: ready only for the children it forks. */
        endings_init((sigaction_fn)real_symbol("sigaction"), g_cfg.stop_wait);
        aggregator_init(&g_ring, &g_stacks, real_pthread_create, finish_on_signal);
        note_unprofiled(why);
        return;
    }
    atomic_store(&g_active, true);
    sampler_thread_start();
    sampler_arm_existing_threads();
    /* Last, so that the scan of existing threads does not find it. */
    endings_init((sigaction_fn)real_symbol("sigaction"), g_cfg.stop_wait);
    if (aggregator_start(&g_ring, &g_stacks, real_pthread_create, finish_on_signal) != 0) {
        fprintf(stderr, "flameprof: cannot start the aggregator thread; not profiling\n");
        sampler_stop();
        atomic_store(&g_active, false);
    }
}

/* What the perf map held, and what of it was refused: never silently. */
static void report_perfmap(void)
{
    jit_stats js;
    jit_get_stats(&js);
    if (!js.perfmap_seen || (g_cfg.quiet && !g_cfg.tree[0]))
        return;
    char line[256];
    snprintf(line, sizeof line, "%sflameprof: pid %ld: perf map: %llu entries, %llu malformed "
             "lines skipped, %llu outside executable memory ignored",
             g_cfg.tree[0] ? "summary " : "", (long)getpid(), (unsigned long long)js.entries,
             (unsigned long long)js.malformed, (unsigned long long)js.outside);
    if (g_cfg.tree[0])
        report_tree_note(&g_cfg, (long)getpid(), g_name, g_display, line);
    else
        fprintf(stderr, "%s\n", line);
}

/* A CPython finalized before this exit leaves its daemon threads running on in the dead
 * interpreter: CPython 3.10's hand the GIL to each other and write into the interpreter
 * Py_FinalizeEx freed (gh-87135), whose memory this exit work reuses (a crash at exit in
 * 7 of 20 runs of two burning daemon threads, none without the library). Parked, they
 * stay still through it, as through a bare exit. First thing: the crash came while the
 * drain thread was being stopped. */
static void park_finalized_python(void)
{
    python_code c;
    if (python_finalized(&c))
        sampler_park_python(c.eval_lo, c.eval_hi, c.text_lo, c.text_hi);
}

/* The exit report needs memory (node: its symbol table, ~6 MB, and libc's inflated DWARF,
 * ~10 MB) right after the program's own peak. The heap's free pages go back to the kernel
 * first (node at exit: ~15 MB of free malloc memory), so the report's work refills them
 * rather than adding to the peak. Invisible to the program, which is ending. */
static void give_back_free_heap(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* Stop, drain, symbolize, write. Runs once per image; skip_if_empty avoids a pair of empty
 * files from every fork-then-exec child. final: the process is ending (exit, _exit, an
 * ending signal), so sampling never resumes: what only the handler reads is freed before
 * the exit report needs the memory (not before an exec, which may fail and resume). */
static void finish(bool skip_if_empty, bool final)
{
    /* Not ours to write (a raw-cloned child: the state is the parent's, its aggregator
     * does not exist here; with CLONE_VM its memory is the parent's): touch nothing. */
    if (!owner_is_self() || !atomic_exchange(&g_active, false))
        return;
    park_finalized_python();
    endings_writing(true); /* an ending signal on another thread waits for this */
    sampler_stop();
    PHASE_AB_REPORT();
    if (!aggregator_stop()) { /* its thread never ran: nothing drained, no report */
        note_unprofiled(ENDINGS_NEVER_RAN);
        rawfile_close(true);
        endings_writing(false);
        return;
    }
    if (final)
        report_stream_restore();
    sampler_stats st;
    sampler_get_stats(&st);
    pygil_stats(&st);
    procname_read(g_name, g_display); /* a zygote's child has retitled itself by now */
    if (too_small(st.signals) || g_cfg.empty_handler) {
        if (g_cfg.empty_handler && !g_cfg.quiet)
            fprintf(stderr, "flameprof: pid %ld: empty-handler benchmark mode: signals=%llu\n",
                    (long)getpid(), (unsigned long long)st.signals);
        else if (!skip_if_empty && !g_cfg.quiet && !g_descendant && !g_cfg.tree[0])
            fprintf(stderr, "flameprof: pid %ld: no samples (less CPU time than one sampling "
                            "period); nothing written\n", (long)getpid());
        rawfile_close(true);
        endings_writing(false);
        return;
    }
    /* A report to write: the memory the walks needed back first, to lower the peak (not for
     * a process with nothing to write: trimming the heap alone was ~20 us of every short
     * process's exit). */
    if (final && sampler_release_for_exit())
        modules_release_cfi();
    if (final)
        give_back_free_heap();
    aggregator_spill(); /* in case writing the profile fails (a full disk); the heatmap's */
    if (g_cfg.interval)
        write_window(aggregator_window_from_s()); /* the last window, however short */
    bool keep_raw = false; /* for `flameprof report` to name stripped code */
    report_input in = { .cfg = &g_cfg, .stacks = &g_stacks, .stats = &st,
                        .lost = aggregator_lost(), .self_pc = (const void *)finish,
                        .raw = rawfile_path(), .keep_raw = &keep_raw, .name = g_name,
                        .display = g_display, .start_ns = g_start_ns,
                        .end_ns = now_ns(CLOCK_REALTIME) };
    bool written = report_write(&in);
    rawfile_close(written && !keep_raw && !(g_cfg.formats & CONFIG_FORMAT_TIMELINE));
    if (written)
        record_mark(RECORD_MARK_PROFILED);
    report_perfmap();
    if (g_end_note && g_cfg.tree[0]) {
        char line[256];
        snprintf(line, sizeof line, "note %s", g_end_note);
        report_tree_note(&g_cfg, (long)getpid(), g_name, g_display, line);
    } else if (g_end_note && !g_cfg.quiet) {
        fprintf(stderr, "flameprof: pid %ld: %s\n", (long)getpid(), g_end_note);
    }
    jit_cleanup();
    endings_writing(false);
}

__attribute__((destructor)) static void flameprof_fini(void)
{
    finish(false, true);
}

/* ---- threads ---- */

typedef struct start_arg {
    void *(*fn)(void *);
    void *arg;
} start_arg;

static void *thread_trampoline(void *p)
{
    start_arg a = *(start_arg *)p;
    free(p);
    sampler_thread_start();
    return a.fn(a.arg);
}

FP_EXPORT int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
                             void *arg)
{
    if (!real_pthread_create)
        real_pthread_create = (pthread_create_fn)real_symbol("pthread_create");
    adopt_if_copy();
    start_arg *a = atomic_load(&g_active) && owner_is_self() ? malloc(sizeof *a) : NULL;
    if (!a)
        return real_pthread_create(t, attr, fn, arg);
    *a = (start_arg){ fn, arg };
    int rc = real_pthread_create(t, attr, thread_trampoline, a);
    if (rc != 0)
        free(a);
    return rc;
}

/* ---- fork and exec ---- */

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);

/* The outgoing image writes its profile first. If the exec fails the image lives on: that
 * profile is withdrawn and sampling resumes, so the one profile written at the real end
 * holds everything. */
static bool before_exec(void)
{
    if (!owner_is_self())
        return false; /* a raw-cloned child: the new image starts its own profile */
    bool was_active = atomic_load(&g_active);
    g_execing = true;
    finish(true, false);
    g_execing = false;
    return was_active;
}

static int after_failed_exec(bool was_active, int rc)
{
    int saved_errno = errno;
    if (was_active) {
        report_withdraw();
        open_spill();
        sampler_resume();
        atomic_store(&g_active, true);
        aggregator_resume();
    }
    errno = saved_errno;
    return rc;
}

FP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    bool was_active = before_exec();
    return after_failed_exec(was_active, ((execve_fn)real_symbol("execve"))(path, argv, envp));
}

FP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    bool was_active = before_exec();
    return after_failed_exec(was_active,
                             ((execvpe_fn)real_symbol("execvpe"))(file, argv, envp));
}

FP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    bool was_active = before_exec();
    return after_failed_exec(was_active, ((fexecve_fn)real_symbol("fexecve"))(fd, argv, envp));
}

FP_EXPORT int execv(const char *path, char *const argv[])
{
    return execve(path, argv, environ);
}

FP_EXPORT int execvp(const char *file, char *const argv[])
{
    return execvpe(file, argv, environ);
}

/* ---- the program's signal dispositions: SIGPROF (sampler.h), the ending signals
 * (endings.h) ---- */

typedef void (*sighandler_fn)(int);

/* dlsym: a JVM's JNI_CreateJavaVM looked up gets ours, which adds our options
 * (jvm_options.h). glibc's dlsym takes its caller from its return address (RTLD_NEXT,
 * RTLD_DEFAULT and namespaces are the caller's), so the interposer is a stub that asks
 * jvm_options_dlsym where to go and jumps there with the caller's return address still on
 * the stack. */
__asm__(".text\n"
        ".globl dlsym\n"
        ".type dlsym, @function\n"
        "dlsym:\n"
        "  .cfi_startproc\n"
        "  push %rdi\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  push %rsi\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  sub $8, %rsp\n"
        "  .cfi_adjust_cfa_offset 8\n"
        "  call jvm_options_dlsym\n"
        "  add $8, %rsp\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %rsi\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  pop %rdi\n"
        "  .cfi_adjust_cfa_offset -8\n"
        "  jmp *%rax\n"
        "  .cfi_endproc\n"
        ".size dlsym, .-dlsym\n");

/* A child sharing our memory (vfork: a shell's or compiler driver's child between vfork and
 * exec) has dispositions of its own but our records of the parent's: it goes straight to
 * the kernel, or the parent's recorded handlers would become the child's. */
FP_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    int rc;
    bool shared = (sig == SAMPLER_SIGNAL || endings_is_watched(sig))
                  && owner_check() == OWNER_SHARED;
    if (!shared && sig == SAMPLER_SIGNAL && atomic_load(&g_active)
        && sampler_app_sigaction(act, old))
        return 0;
    if (!shared && endings_sigaction(sig, act, old, &rc))
        return rc;
    return ((sigaction_fn)real_symbol("sigaction"))(sig, act, old);
}

/* glibc's signal() family: each is a sigaction with fixed flags, made inside libc where no
 * interposer sees it. For the signals we watch, make that sigaction here, through ours. */
static sighandler_fn signal_as(const char *name, int sig, sighandler_fn handler, int flags)
{
    bool ours = (sig == SAMPLER_SIGNAL && atomic_load(&g_active)) || endings_is_watched(sig);
    if (!ours || handler == SIG_ERR)
        return ((sighandler_fn(*)(int, sighandler_fn))real_symbol(name))(sig, handler);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (!(flags & SA_NODEFER))
        sigaddset(&sa.sa_mask, sig);
    return sigaction(sig, &sa, &old) == 0 ? old.sa_handler : SIG_ERR;
}

/* BSD semantics: the handler stays, interrupted calls restart. */
FP_EXPORT sighandler_fn signal(int sig, sighandler_fn handler)
{
    return signal_as("signal", sig, handler, SA_RESTART);
}

FP_EXPORT sighandler_fn bsd_signal(int sig, sighandler_fn handler)
{
    return signal_as("bsd_signal", sig, handler, SA_RESTART);
}

/* System V semantics, what signal() is in strict ISO C (-std=c11, no _DEFAULT_SOURCE):
 * one-shot, not deferred. */
FP_EXPORT sighandler_fn __sysv_signal(int sig, sighandler_fn handler)
{
    return signal_as("__sysv_signal", sig, handler, SA_RESETHAND | SA_NODEFER);
}

FP_EXPORT sighandler_fn sysv_signal(int sig, sighandler_fn handler)
{
    return signal_as("sysv_signal", sig, handler, SA_RESETHAND | SA_NODEFER);
}

/* ---- sandboxes ----
 * A seccomp filter is installed after prctl(PR_SET_NO_NEW_PRIVS) (or by PR_SET_SECCOMP):
 * the profile ends there, written while files can still be written, and nothing of ours
 * runs afterwards (sandbox.h says why no probe is safe once the filter is in force). */

static void before_sealing(void)
{
    owner_kind who = owner_check();
    if (who == OWNER_SHARED)
        return; /* the parent's memory: its profiler is not ours to stop */
    bool was_ready = atomic_exchange(&g_ready, false); /* what it forks is sandboxed too */
    if (who == OWNER_COPY) {
        /* A raw-cloned child (a zygote's renderer) sandboxing itself: it will never adopt;
         * said at its first thread (a launcher's child sealing just before exec is not
         * worth a line). */
        g_sealed_copy = true;
        atomic_store(&g_active, false);
        return;
    }
    if (!atomic_load(&g_active)) {
        if (was_ready) /* a dormant zygote: what it forks from now on is sandboxed */
            note_unprofiled("it seals a sandbox (no_new_privs/seccomp): the processes it "
                            "forks from now on are not profiled either");
        return;
    }
    /* Quietly when there is nothing yet: Chromium's launcher sets no_new_privs in every
     * child just before exec, and the new image is profiled afresh. */
    g_end_note = "profile ends here: the process sealed a sandbox (no_new_privs/seccomp)";
    finish(true, false);
}

FP_EXPORT int prctl(int option, ...)
{
    va_list ap;
    va_start(ap, option);
    unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long),
                  a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
    va_end(ap);
    if (sandbox_prctl_seals(option))
        before_sealing();
    prctl_fn real = real_prctl ? real_prctl : (prctl_fn)real_symbol("prctl");
    return real(option, a2, a3, a4, a5);
}

/* ---- unshare: some namespaces want a single-threaded caller ----
 * unshare(CLONE_NEWUSER) (unshare -U, bwrap, a browser's sandbox) fails with EINVAL in a
 * process with more than one thread, and our aggregator is one: the profile ends first
 * (written, the thread joined), then the call is made. A program that execs next (most
 * do) is profiled again in its new image. */

typedef int (*unshare_fn)(int);

FP_EXPORT int unshare(int flags)
{
    if ((flags & (CLONE_NEWUSER | CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)) &&
        atomic_load(&g_active) && owner_is_self()) {
        g_end_note = "profile ends here: unshare() wants a single-threaded process";
        finish(true, false);
    }
    return ((unshare_fn)real_symbol("unshare"))(flags);
}

/* ---- _exit: destructors do not run, but the profile is still written ----
 * Crash handlers call _exit from signal context, perhaps interrupting malloc: the profile
 * is written by the aggregator thread while this one waits (bounded), never here. */

FP_EXPORT void _exit(int status)
{
    if (owner_is_self()) {
        sampler_stats st;
        sampler_get_stats(&st); /* atomic loads only */
        if (atomic_load(&g_active) && too_small(st.signals) && !g_cfg.empty_handler)
            rawfile_discard(); /* nothing to write: no wait for the aggregator's next tick */
        else /* also when another thread's exit is writing it already (g_active is off
                then): wait for that write, as an ending signal does. Chromium's renderer
                exits from two threads at once; the second one's exit_group, 2 ms into
                the first one's write, left only the raw spill. */
            endings_request_profile(ENDINGS_EXIT);
    }
    if (real__exit) /* resolved in the constructor: dlsym is not async-signal-safe */
        real__exit(status);
    syscall(SYS_exit_group, status);
    __builtin_unreachable();
}

FP_EXPORT void _Exit(int status)
{
    _exit(status);
}
