/* fw_alloc - a malloc-heavy program with its own allocator and its own mutex functions,
 * which abort() if called from inside a SIGPROF handler: the proof that the profiler's
 * handler never allocates and never takes a lock (issue 5, "Hostile hosts").
 *
 * The executable defines malloc, free, calloc, realloc, the aligned allocators and
 * pthread_mutex_lock/trylock/timedlock and pthread_rwlock_rdlock/wrlock (linked with
 * --export-dynamic, so they interpose libc's for every library, the profiler included).
 * Each checks the calling thread's signal mask: while a SIGPROF handler runs, the kernel
 * blocks SIGPROF (the handled signal) but not SIGTERM. A thread that blocks every signal
 * (the profiler's aggregator thread, glibc's pthread_create around clone) blocks SIGTERM
 * too and is not in a handler: it is left alone.
 *
 * usage: fw_alloc normal|control
 *   normal   3 threads malloc/free/calloc/realloc and lock/unlock a shared mutex and rwlock
 *            for ~0.3 s of CPU each
 *   control  the same, plus the program's own SIGPROF handler (setitimer, 5 ms) that calls
 *            malloc: must abort, which shows that the check works
 * Prints "fw_alloc: done" and the number of checks (stderr) when nothing was caught. */
#include "fw_common.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/time.h>

extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static _Atomic long checks, foreign_calls;
extern char __executable_start, etext;

/* Called first thing by every interposer. The mask is read with the raw system call: no
 * libc state, nothing that could recurse. */
static void check(const char *what, const void *caller)
{
    uint64_t mask = 0;
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &mask, sizeof mask);
    bool prof = mask & (1ull << (SIGPROF - 1)), term = mask & (1ull << (SIGTERM - 1));
    if (prof && !term) {
        char msg[160];
        int n = snprintf(msg, sizeof msg, "fw_alloc: %s called inside a SIGPROF handler "
                         "(caller %p)\n", what, caller);
        if (write(2, msg, (size_t)n) < 0) {
            /* aborting anyway */
        }
        abort();
    }
    atomic_fetch_add_explicit(&checks, 1, memory_order_relaxed);
    if ((const char *)caller < &__executable_start || (const char *)caller >= &etext)
        atomic_fetch_add_explicit(&foreign_calls, 1, memory_order_relaxed);
}

#define CALLER __builtin_return_address(0)

void *malloc(size_t n)
{
    check("malloc", CALLER);
    return __libc_malloc(n);
}

void free(void *p)
{
    check("free", CALLER);
    __libc_free(p);
}

void *calloc(size_t n, size_t size)
{
    check("calloc", CALLER);
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    check("realloc", CALLER);
    return __libc_realloc(p, n);
}

void *reallocarray(void *p, size_t n, size_t size)
{
    check("reallocarray", CALLER);
    if (size && n > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    return __libc_realloc(p, n * size);
}

void *memalign(size_t align, size_t n)
{
    check("memalign", CALLER);
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    check("aligned_alloc", CALLER);
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    check("posix_memalign", CALLER);
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n)
{
    check("valloc", CALLER);
    return __libc_memalign((size_t)sysconf(_SC_PAGESIZE), n);
}

void *pvalloc(size_t n)
{
    check("pvalloc", CALLER);
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return __libc_memalign(page, (n + page - 1) / page * page);
}

/* The real lock functions, found once (dlsym outside any handler: the first call comes
 * from a constructor or a thread, never from inside a handler unless the check fires). */
#define REAL(ret, name, ...)                                                    \
    static ret (*real_##name)(__VA_ARGS__);                                     \
    static ret (*get_##name(void))(__VA_ARGS__)                                 \
    {                                                                           \
        if (!real_##name)                                                       \
            *(void **)&real_##name = dlsym(RTLD_NEXT, #name);                   \
        return real_##name;                                                     \
    }
REAL(int, pthread_mutex_lock, pthread_mutex_t *)
REAL(int, pthread_mutex_trylock, pthread_mutex_t *)
REAL(int, pthread_mutex_timedlock, pthread_mutex_t *, const struct timespec *)
REAL(int, pthread_rwlock_rdlock, pthread_rwlock_t *)
REAL(int, pthread_rwlock_wrlock, pthread_rwlock_t *)

int pthread_mutex_lock(pthread_mutex_t *m)
{
    check("pthread_mutex_lock", CALLER);
    return get_pthread_mutex_lock()(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
    check("pthread_mutex_trylock", CALLER);
    return get_pthread_mutex_trylock()(m);
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *ts)
{
    check("pthread_mutex_timedlock", CALLER);
    return get_pthread_mutex_timedlock()(m, ts);
}

int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    check("pthread_rwlock_rdlock", CALLER);
    return get_pthread_rwlock_rdlock()(l);
}

int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    check("pthread_rwlock_wrlock", CALLER);
    return get_pthread_rwlock_wrlock()(l);
}

/* ---- the workload ---- */

BURNER(alloc_burn, 41)

static pthread_mutex_t shared_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t shared_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static uint64_t shared_counter;

static BURN_NOIPA void alloc_round(uint64_t *rng)
{
    enum { LIVE = 64 };
    void *live[LIVE] = { 0 };
    for (int i = 0; i < 2000; i++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        int k = (int)(*rng >> 58);
        size_t n = 16 + (size_t)((*rng >> 20) % 4096);
        switch ((*rng >> 40) % 4) {
        case 0:
            free(live[k]);
            live[k] = malloc(n);
            break;
        case 1:
            free(live[k]);
            live[k] = calloc(1, n);
            break;
        case 2:
            live[k] = realloc(live[k], n);
            break;
        default:
            pthread_mutex_lock(&shared_mutex);
            shared_counter++;
            pthread_mutex_unlock(&shared_mutex);
            pthread_rwlock_rdlock(&shared_rwlock);
            pthread_rwlock_unlock(&shared_rwlock);
            break;
        }
        if (live[k])
            memset(live[k], k, 16);
    }
    for (int k = 0; k < LIVE; k++)
        free(live[k]);
    alloc_burn(FW_CHUNK / 50);
}

static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    double end = burn_thread_cpu() + 0.3;
    while (burn_thread_cpu() < end)
        alloc_round(&rng);
    return NULL;
}

static void *volatile handler_block;

static void on_prof_allocating(int sig)
{
    (void)sig;
    /* What a careless handler does; the check must catch it. Through a volatile, or the
     * compiler drops the malloc/free pair. */
    handler_block = malloc(32);
    free(handler_block);
}

int main(int argc, char **argv)
{
    const char *mode = fw_mode(argc, argv, "normal|control");
    if (strcmp(mode, "control") == 0) {
        signal(SIGPROF, on_prof_allocating);
        struct itimerval it = { { 0, 5000 }, { 0, 5000 } };
        setitimer(ITIMER_PROF, &it, NULL);
    } else if (strcmp(mode, "normal") != 0) {
        fprintf(stderr, "fw_alloc: unknown mode %s\n", mode);
        return 2;
    }
    enum { THREADS = 3 };
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) != 0)
            return 2;
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    fprintf(stderr, "fw_alloc: %ld checks, %ld of them from outside the executable\n",
            atomic_load(&checks), atomic_load(&foreign_calls));
    FW_SAY("fw_alloc: done\n");
    return 0;
}
