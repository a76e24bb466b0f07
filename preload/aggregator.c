/* aggregator.c - drain thread: ring -> stack table, and module refresh on dlopen. */
#include "aggregator.h"

#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "endings.h"
#include "hotspot.h"
#include "jit_perfmap.h"
#include "jit_trampolines.h"
#include "modules.h"
#include "pygil.h"
#include "python.h"
#include "rawfile.h"
#include "pyframes.h"
#include "rbnames.h"
#include "start_latch.h"
#include "stackcopy.h"
#include "threads.h"
#include "timeline.h"

enum { TICK_NS = 10 * 1000 * 1000, SPILL_TICKS = 100 /* the raw spill: once a second */,
       CONTROL_TICKS = 10 /* `flameprof dump` is answered within 100 ms */,
       DOZE_AFTER = 10,    /* ticks without a sample before the thread dozes... */
       DOZE_TICKS = 10 };  /* ...a tick of that many: 100 ms (aggregator_wake) */

static ring *g_ring;
static stack_table *g_table;
static aggregator_create_fn g_create;
static void (*g_on_ending)(int why);
static pthread_t g_thread;
static atomic_bool g_running, g_started;
static uint64_t g_lost;
/* The tick's sleep is a futex wait on g_wake, so that a signal handler can cut it short:
 * aggregator_stop (an exec or an exit waits for the thread to end, and should not wait out
 * the rest of a tick for it) and aggregator_poke_modules (a sample in code no module
 * covers) bump the word and wake it. */
static _Atomic uint32_t g_wake;
static atomic_bool g_poked;        /* a sample asked for a module refresh */
static atomic_bool g_woken;        /* aggregator_wake: the doze ends */
static unsigned g_idle;            /* ticks in a row that drained no sample */
static _Atomic uint64_t g_poke_ns; /* when one last did (monotonic ns): one a tick at most */
static unsigned long long seen_adds, seen_subs;
static timeline g_tl;            /* this second's slots, until the next spill */
static uint64_t g_window_ns;     /* FLAMEPROF_INTERVAL, 0: none */
static uint64_t g_window_start;  /* monotonic ns */
static void (*g_on_window)(uint64_t from_s);
static void (*g_on_tick)(void);

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A sample with interpreter frames, named now (rbnames.h): a copy, the ring's is const. */
static const ring_sample *name_runtime_frames(const ring_sample *s)
{
    static ring_sample named;
    if (!(s->flags & RING_RUNTIME))
        return s;
    memcpy(&named, s, offsetof(ring_sample, pcs) + s->depth * sizeof s->pcs[0]);
    named.depth = (uint16_t)rbnames_resolve(named.pcs, named.depth);
    return &named;
}

static void refresh_modules_if_changed(void);

/* A sample whose walk ended in code no module covered, with a copy of its stack
 * (stackcopy.h): walked again now that the modules are refreshed. A copy, the ring's is
 * const. Ruby frames were spliced in by the handler from memory read then: such a sample
 * keeps its walk. */
static const ring_sample *walk_copy(const ring_sample *s)
{
    static ring_sample again;
    if (!s->copy)
        return s;
    if (s->flags & RING_RUNTIME) {
        stackcopy_release(s->copy);
        return s;
    }
    refresh_modules_if_changed(); /* the sample may be newer than the tick's refresh */
    size_t npy = (s->flags & RING_PY) ? s->npy : 0;
    memcpy(&again, s, offsetof(ring_sample, pcs));
    again.npy = s->npy;
    memcpy(again.py, s->py, npy * sizeof s->py[0]);
    unwind_ctx ctx = { modules_current(), jit_trampolines(), hotspot_interpreter(),
                       NULL, NULL, NULL, 0 };
    unwind_result r = stackcopy_walk(s->copy, &ctx, again.pcs + npy, RING_MAX_DEPTH - npy);
    stackcopy_release(s->copy);
    stackcopy_judge(r.depth && module_map_find(ctx.modules, again.pcs[npy + r.depth - 1]),
                    monotonic_ns());
    if (!r.depth)
        return s;
    again.depth = (uint16_t)(npy ? pyframes_splice(again.pcs, npy, r.depth, RING_MAX_DEPTH,
                                                   again.py, npy)
                                 : r.depth);
    again.gen = ctx.modules ? ctx.modules->gen : 0;
    again.flags = (uint16_t)((s->flags & ~(RING_TRUNCATED | RING_JIT | RING_METHODS)) |
                             (r.truncated ? RING_TRUNCATED : 0) | (r.outside ? RING_JIT : 0) |
                             (r.methods ? RING_METHODS : 0));
    again.copy = 0;
    return &again;
}

/* Returns how many samples it took from the ring. */
static size_t drain(void)
{
    const ring_sample *s;
    size_t n = 0;
    for (; (s = ring_peek(g_ring)); n++) {
        if (!pygil_keep(s)) { /* FLAMEPROF_PYTHON_GIL=only: counted, not kept */
            ring_release(g_ring);
            continue;
        }
        s = walk_copy(s);
        /* Python first: python_named reads the slot's py[], which name_runtime_frames' copy
         * leaves out. */
        s = name_runtime_frames(python_named(s));
        uint32_t pm_gen = (s->flags & RING_JIT) ? jit_perfmap_gen(s->time_ns) : 0;
        if (s->flags & RING_METHODS)
            hotspot_note_methods(s->pcs, s->depth); /* named while the JVM still runs */
        stack_entry *e = stacks_put(g_table, s, pm_gen, s->weight, 1);
        if (!e)
            g_lost += s->weight;
        else
            timeline_add_time(&g_tl, s->time_ns, e->id, s->weight);
        if (e && g_table->by_thread)
            threads_seen(s->tid);
        ring_release(g_ring);
    }
    return n;
}

static int read_counters(struct dl_phdr_info *info, size_t size, void *arg)
{
    unsigned long long *c = arg;
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof info->dlpi_subs)
        return 1;
    c[0] = info->dlpi_adds;
    c[1] = info->dlpi_subs;
    return 1; /* the counters are global: the first module is enough */
}

/* Held while this thread walks the loader's module list. dl_iterate_phdr holds the
 * loader's dl_load_write_lock, which glibc does not reset in a fork child: a fork while we
 * are inside would leave it locked for good, and the child's first dl_iterate_phdr (ours,
 * or the program's own exception unwinding) would wait forever. So a fork waits for the
 * walk to end (aggregator_fork_prepare) and no walk begins until the fork is done. */
static pthread_mutex_t g_walk_lock = PTHREAD_MUTEX_INITIALIZER;
/* Whether this thread's fork took the lock: per thread, because threads fork at once. A
 * global flag let one thread's release clear the flag another had just set: that fork then
 * left the lock held for good, in its child (whose exit waited forever for its aggregator,
 * stuck on the lock) and in the parent (fw_fork storm: four forking threads, one child in
 * about ten hung). */
static __thread bool tls_walk_locked_for_fork __attribute__((tls_model("initial-exec")));

static void refresh_modules_if_changed(void)
{
    pthread_mutex_lock(&g_walk_lock);
    unsigned long long c[2] = { seen_adds, seen_subs };
    dl_iterate_phdr(read_counters, c);
    if (c[0] != seen_adds || c[1] != seen_subs) {
        seen_adds = c[0];
        seen_subs = c[1];
        modules_refresh();
    }
    pthread_mutex_unlock(&g_walk_lock);
}

void aggregator_fork_prepare(void)
{
    /* Bounded: a program that forks from inside its own dl_iterate_phdr callback holds
     * the loader's lock our walk waits for; then fork goes on without us. */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    tls_walk_locked_for_fork = pthread_mutex_timedlock(&g_walk_lock, &until) == 0;
}

void aggregator_fork_release(void)
{
    if (tls_walk_locked_for_fork)
        pthread_mutex_unlock(&g_walk_lock);
    tls_walk_locked_for_fork = false;
}

void aggregator_fork_child_reset(void)
{
    /* Whoever held it (this thread for the fork, or a thread whose wait timed out) does
     * not exist here: a fresh lock. */
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    g_walk_lock = fresh;
    tls_walk_locked_for_fork = false;
}

/* FLAMEPROF_INTERVAL: the window that just ended is written, the next one begins. */
static void end_window(void)
{
    uint64_t from = g_window_start - g_tl.t0_ns;
    g_window_start += g_window_ns;
    g_on_window((from + 500000000u) / 1000000000u);
}

void aggregator_window_done(void)
{
    for (size_t id = 0; id < g_table->len; id++) {
        stack_entry *e = stacks_get(g_table, (uint32_t)id);
        e->mark_weight = e->weight;
    }
}

void aggregator_set_tick(void (*on_tick)(void))
{
    g_on_tick = on_tick;
}

void aggregator_set_window(unsigned seconds, void (*on_window)(uint64_t from_s))
{
    g_window_ns = (uint64_t)seconds * 1000000000u;
    g_on_window = on_window;
}

uint64_t aggregator_window_from_s(void)
{
    return (g_window_start - g_tl.t0_ns + 500000000u) / 1000000000u;
}

void aggregator_spill(void)
{
    rawfile_spill(g_table, &g_tl);
}

/* Slot 0 begins now: on the samples' clock, and on the wall clock for the file. */
static void begin_timeline(void)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    timeline_init(&g_tl, monotonic_ns());
    rawfile_set_start((uint64_t)wall.tv_sec * 1000000000u + (uint64_t)wall.tv_nsec);
    g_window_start = g_tl.t0_ns;
}

/* Every second, and when a dump asks (control.h): everything so far into the raw spill. */
static void spill_now(void)
{
    drain();
    threads_refresh();
    rawfile_spill(g_table, &g_tl);
}

/* Async-signal-safe (the handler's wakes): an atomic and a futex wake; errno kept. */
static void wake_thread(void)
{
    int saved_errno = errno;
    atomic_fetch_add(&g_wake, 1);
    syscall(SYS_futex, &g_wake, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    errno = saved_errno;
}

void aggregator_poke_modules(uint64_t now_ns)
{
    if (!atomic_load_explicit(&g_running, memory_order_relaxed))
        return;
    uint64_t last = atomic_load_explicit(&g_poke_ns, memory_order_relaxed);
    if (last && now_ns - last < TICK_NS)
        return;
    if (!atomic_compare_exchange_strong(&g_poke_ns, &last, now_ns))
        return; /* another thread's sample asked just now */
    atomic_store(&g_poked, true);
    wake_thread();
}

void aggregator_wake(void)
{
    if (!atomic_load_explicit(&g_running, memory_order_relaxed))
        return;
    atomic_store(&g_woken, true);
    wake_thread();
}

/* Whether this sleep may be a doze: 100 ms without a sample, and no time-driven duty that
 * a longer tick would make late (FLAMEPROF_INTERVAL's windows end on time). Wall mode's
 * ticker samples every thread, so its processes never doze. */
static bool may_doze(void)
{
    return g_idle >= DOZE_AFTER && !g_window_ns && !atomic_load(&g_woken) &&
           !endings_requested() && ring_set_dozing(g_ring, true);
}

/* Until the next tick, refreshing the modules whenever a sample asks (aggregator_poke_modules):
 * a library just dlopen'ed and already running is unwound from the next sample on, not from
 * the next tick's (samples in it end at its frame until then). Returns whether it dozed. */
static bool sleep_tick(void)
{
    bool doze = may_doze();
    uint64_t until = monotonic_ns() + (doze ? DOZE_TICKS : 1) * (uint64_t)TICK_NS;
    while (atomic_load(&g_running)) {
        if (atomic_exchange(&g_poked, false))
            refresh_modules_if_changed();
        uint32_t word = atomic_load(&g_wake);
        uint64_t now = monotonic_ns();
        if (now >= until || !atomic_load(&g_running) || atomic_load(&g_poked) ||
            atomic_exchange(&g_woken, false))
            break;
        struct timespec left = { (time_t)((until - now) / 1000000000u),
                                 (long)((until - now) % 1000000000u) };
        syscall(SYS_futex, &g_wake, FUTEX_WAIT_PRIVATE, word, &left, NULL, 0);
    }
    if (doze)
        ring_set_dozing(g_ring, false);
    return doze;
}

/* Counts down *left by the ticks just slept (a doze is DOZE_TICKS of them); true when it
 * reaches 0, and then it starts again from period. */
static bool due(unsigned *left, unsigned period, unsigned slept)
{
    *left = *left > slept ? *left - slept : 0;
    if (*left)
        return false;
    *left = period;
    return true;
}

/* The thread's first look (its malloc arena made, the modules checked, the runtimes
 * looked for) is done before spawn returns, so before the program runs on (start_latch.h).
 * A zygote raw-forking from main (the raw-clone test's 300 children) copied malloc's
 * list_lock or the loader's lock held by it, one run in several hundred: the copy's first
 * thread waited forever for list_lock, its aggregator for the loader's lock. */
static util_latch g_first_look;

static void *run(void *arg)
{
    (void)arg;
    unsigned slept = 1, spill_in = SPILL_TICKS, control_in = CONTROL_TICKS;
    /* This thread's malloc arena, made now (see g_first_look). Through a volatile: gcc
     * drops a bare free(malloc(1)). */
    void *volatile arena_maker = malloc(1);
    free(arena_maker);
    while (atomic_load(&g_running)) {
        int why = endings_requested();
        if (why) {
            g_on_ending(why); /* stops sampling and this loop, writes the profile */
            break;
        }
        refresh_modules_if_changed();
        jit_poll(); /* before draining: the samples' JIT code is in the map by now */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
        python_poll(now_ns);
        if (g_table->by_thread)
            python_thread_names(now_ns);
        rbnames_poll();
        endings_writer_looked();
        util_latch_open(&g_first_look);
        if (g_on_tick)
            g_on_tick();
        g_idle = drain() ? 0 : g_idle + 1;
        if (due(&spill_in, SPILL_TICKS, slept))
            spill_now();
        if (g_window_ns && monotonic_ns() - g_window_start >= g_window_ns)
            end_window();
        if (due(&control_in, CONTROL_TICKS, slept))
            control_poll(spill_now);
        slept = sleep_tick() ? DOZE_TICKS : 1;
    }
    util_latch_open(&g_first_look); /* ended before its first look: nobody waits for it */
    control_close();
    endings_set_writer(false);
    return NULL;
}

/* On the thread that starts the aggregator (in a fork child: before fork returns). What the
 * thread will need as a descriptor is opened here, never by the thread itself: a thread of
 * ours that opens one while the program runs takes the lowest free number behind its back.
 * A daemon that had just closed every descriptor got our socket as its "stdin" that way,
 * and its own open("/dev/null") came back as 1 (control.h). */
static int spawn(void)
{
    control_open();
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old); /* inherited by the new thread */
    atomic_store(&g_poked, false);
    atomic_store(&g_running, true);
    endings_set_writer(true);
    util_latch_reset(&g_first_look);
    int rc = g_create(&g_thread, NULL, run, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    atomic_store(&g_started, rc == 0);
    if (rc != 0) {
        endings_set_writer(false);
        control_close();
    }
    if (rc == 0)
        util_latch_wait(&g_first_look, 50);
    return rc == 0 ? 0 : -1;
}

void aggregator_init(ring *r, stack_table *t, aggregator_create_fn create,
                     void (*on_ending)(int why))
{
    g_ring = r;
    g_table = t;
    g_create = create;
    g_on_ending = on_ending;
    endings_set_wake(aggregator_wake);
}

int aggregator_start(ring *r, stack_table *t, aggregator_create_fn create,
                     void (*on_ending)(int why))
{
    aggregator_init(r, t, create, on_ending);
    timeline_free(&g_tl);
    unsigned long long c[2] = { 0, 0 };
    dl_iterate_phdr(read_counters, c);
    seen_adds = c[0];
    seen_subs = c[1];
    begin_timeline();
    return spawn();
}

/* Join the thread; one that never made its first look is given a second (stuck: see
 * aggregator_stop). */
static bool join_thread(void)
{
    if (util_latch_is_open(&g_first_look)) {
        pthread_join(g_thread, NULL);
        return true;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    if (pthread_timedjoin_np(g_thread, NULL, &until) == 0)
        return true;
    pthread_detach(g_thread);
    return false;
}

bool aggregator_stop(void)
{
    if (atomic_exchange(&g_started, false)) {
        atomic_store(&g_running, false);
        if (!pthread_equal(pthread_self(), g_thread)) {
            wake_thread();
            if (!join_thread())
                return false;
        }
        else
            pthread_detach(g_thread); /* an ending signal: we are the aggregator */
    }
    jit_poll();
    drain();
    threads_refresh(); /* the names as they are at the end, for the report */
    if (g_table->by_thread)
        python_thread_names(UINT64_MAX);
    return true;
}

void aggregator_resume(void)
{
    unsigned long long c[2] = { 0, 0 };
    dl_iterate_phdr(read_counters, c);
    seen_adds = c[0];
    seen_subs = c[1];
    spawn();
}

void aggregator_after_fork_child(void)
{
    bool by_thread = g_table->by_thread;
    /* The parent's threads, samples and timeline are abandoned, not freed: never the
     * child's, and not its to free. A copy made by a raw clone (owner.h) may have been
     * made while the parent's aggregator was inside malloc or free, holding the lock of
     * the arena this memory came from, which nothing in the copy will ever release. What
     * stays is the parent's, shared copy-on-write: it costs the child nothing. Nor is the
     * loader asked for its counters here (the parent's seen_adds and seen_subs are this
     * copy's too, or behind and caught up by the first tick): in a raw copy its lock may be
     * held for good the same way, and this runs on the program's thread. */
    threads_reset();
    stacks_init(g_table);
    begin_timeline();
    g_table->by_thread = by_thread;
    g_lost = 0;
    stackcopy_reset();
    atomic_store(&g_started, false);
    spawn();
}

uint64_t aggregator_lost(void)
{
    return g_lost + g_tl.lost;
}
