/* fw_host_stacks.c - fw_host's modes about stacks (usage: fw_host.c): deep recursion, a
 * 64 KB thread stack, sigaltstack users, and threads on small sigaltstacks. */
#include "fw_common.h"
#include "fw_host.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>

BURNER(deep_bottom, 29)
BURNER(small_burn, 30)
BURNER(alt_main_burn, 31)
BURNER(alt_handler_burn, 32)
BURNER(overflow_frame_burn, 33)
BURNER(alt_small_burn, 35)
BURNER(alt_small_handler_burn, 36)

/* ---- deep recursion ---- */

static BURN_NOIPA long deep_recurse(long n)
{
    volatile char pad[32];
    pad[0] = (char)n;
    if (n == 0) {
        fw_burn_cpu(0.3, deep_bottom);
        return pad[0];
    }
    long r = deep_recurse(n - 1);
    return r + pad[0]; /* work after the call: no tail call, every frame stays */
}

static void *deep_thread(void *arg)
{
    deep_recurse((long)(intptr_t)arg);
    return NULL;
}

int do_deep(long n)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256u << 20);
    pthread_t t;
    start_thread(&t, &a, deep_thread, (void *)(intptr_t)n);
    pthread_join(t, NULL);
    FW_SAY("deep: %ld frames\n", n);
    return 0;
}

/* ---- a 64 KB thread stack ---- */

enum { SMALL_STACK = 64 * 1024, HANDLER_BUDGET = 8 * 1024, PAINT = 0xa5 };
static uintptr_t small_lo;
static size_t small_reserve;
static size_t small_deepest; /* bytes below sp reached by signal frames, 0: none seen */

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    return sp;
}

/* Paints the unused stack below sp, burns with no call at all (nothing of ours goes below
 * sp), then finds the deepest byte a signal frame overwrote. */
static BURN_NOIPA void tight_burn(void)
{
    uintptr_t sp = current_sp();
    uintptr_t top = sp - 256; /* clear of the red zone */
    volatile unsigned char *p = (volatile unsigned char *)small_lo;
    for (uintptr_t a = small_lo; a < top; a++)
        p[a - small_lo] = PAINT;
    BURN(300L * FW_CHUNK, 34);
    uintptr_t a = small_lo;
    while (a < top && p[a - small_lo] == PAINT)
        a++;
    small_deepest = a < top ? sp - a : 0;
}

static BURN_NOIPA long descend(void)
{
    volatile char pad[512];
    pad[0] = 1;
    if (current_sp() - small_lo > small_reserve + sizeof pad + 256)
        return descend() + pad[0];
    tight_burn();
    return pad[0];
}

static void *small_thread(void *arg)
{
    (void)arg;
    fw_burn_cpu(0.2, small_burn);
    pthread_attr_t a;
    void *lo = NULL;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) != 0 || pthread_attr_getstack(&a, &lo, &size))
        die("pthread_getattr_np");
    pthread_attr_destroy(&a);
    small_lo = (uintptr_t)lo;
    descend();
    return NULL;
}

int do_smallstack(void)
{
    size_t min = (size_t)getauxval(AT_MINSIGSTKSZ);
    small_reserve = (min > 2048 ? min : 2048) + HANDLER_BUDGET;
    pthread_attr_t a;
    pthread_attr_init(&a);
    if (pthread_attr_setstacksize(&a, SMALL_STACK) != 0)
        die("pthread_attr_setstacksize");
    pthread_t t;
    start_thread(&t, &a, small_thread, NULL);
    pthread_join(t, NULL);
    fprintf(stderr, "fw_host: AT_MINSIGSTKSZ=%zu; stack left for signals %zu bytes; deepest "
            "signal frame reached %zu bytes below sp\n", min, small_reserve, small_deepest);
    FW_SAY("smallstack: done\n");
    return 0;
}

/* ---- sigaltstack users ---- */

static _Atomic long alt_calls;
static atomic_bool alt_stop;

static void on_usr1(int sig)
{
    (void)sig;
    alt_handler_burn(FW_CHUNK / 4); /* ~50 us: a good share of main's time */
    atomic_fetch_add(&alt_calls, 1);
}

static void set_altstack(size_t size)
{
    stack_t ss;
    ss.ss_sp = malloc(size);
    ss.ss_size = size;
    ss.ss_flags = 0;
    if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0)
        die("sigaltstack");
}

static void *alt_sender(void *arg)
{
    pid_t tid = (pid_t)(intptr_t)arg;
    while (!atomic_load(&alt_stop)) {
        syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

int do_altstack(void)
{
    set_altstack(64 * 1024);
    install_handler(SIGUSR1, on_usr1, SA_ONSTACK | SA_RESTART);
    pthread_t t;
    start_thread(&t, NULL, alt_sender, (void *)(intptr_t)syscall(SYS_gettid));
    fw_burn_cpu(0.4, alt_main_burn);
    atomic_store(&alt_stop, true);
    pthread_join(t, NULL);
    fprintf(stderr, "fw_host: SIGUSR1 handler ran %ld times on the alternate stack\n",
            atomic_load(&alt_calls));
    FW_SAY("altstack: handler %s\n", atomic_load(&alt_calls) > 0 ? "ran" : "NEVER ran");
    return 0;
}

static __thread sigjmp_buf overflow_jb;
static _Atomic long overflows;

static void on_overflow(int sig)
{
    (void)sig;
    atomic_fetch_add(&overflows, 1);
    siglongjmp(overflow_jb, 1);
}

static volatile bool never; /* the recursion ends by overflowing, but must not say so */

static BURN_NOIPA long overflow(long n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    overflow_frame_burn(FW_CHUNK / 200);
    if (never)
        return 0;
    return overflow(n + 1) + pad[0];
}

static void *overflow_thread(void *arg)
{
    long n = (long)(intptr_t)arg;
    set_altstack(64 * 1024);
    for (long i = 0; i < n; i++)
        if (sigsetjmp(overflow_jb, 1) == 0)
            overflow(0);
    return NULL;
}

int do_altstack_overflow(long n)
{
    install_handler(SIGSEGV, on_overflow, SA_ONSTACK | SA_NODEFER);
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, SMALL_STACK);
    pthread_t t;
    start_thread(&t, &a, overflow_thread, (void *)(intptr_t)n);
    pthread_join(t, NULL);
    FW_SAY("altstack-overflow: recovered from %ld stack overflows\n", atomic_load(&overflows));
    return 0;
}

/* ---- threads on small sigaltstacks ---- */

enum { ALT_GUARD = 16 * 1024 };
static size_t alt_small_size;
static _Atomic long alt_small_calls;
static _Atomic size_t alt_own_deepest, alt_nested_deepest; /* bytes below the top */
static atomic_bool alt_guard_hit;

static void on_usr2_small(int sig)
{
    (void)sig;
    alt_small_handler_burn(FW_CHUNK / 4);
    atomic_fetch_add(&alt_small_calls, 1);
}

/* Bytes below top that something wrote over the paint; the guard's state. */
static size_t alt_used(const unsigned char *buf, size_t len)
{
    size_t a = 0;
    while (a < len && buf[a] == PAINT)
        a++;
    if (a < ALT_GUARD)
        atomic_store(&alt_guard_hit, true);
    return len - a;
}

static void max_into(_Atomic size_t *v, size_t x)
{
    size_t cur = atomic_load(v);
    while (x > cur && !atomic_compare_exchange_weak(v, &cur, x))
        ;
}

static void *alt_small_thread(void *arg)
{
    (void)arg;
    size_t len = ALT_GUARD + alt_small_size;
    unsigned char *buf = malloc(len);
    if (!buf)
        die("malloc");
    memset(buf, PAINT, len);
    stack_t ss = { .ss_sp = buf + ALT_GUARD, .ss_size = alt_small_size, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0)
        die("sigaltstack");
    fw_burn_cpu(0.25, alt_small_burn); /* SIGPROF's handler runs on the sigaltstack */
    max_into(&alt_own_deepest, alt_used(buf, len));
    memset(buf, PAINT, len);
    double end = burn_thread_cpu() + 0.25;
    while (burn_thread_cpu() < end)
        raise(SIGUSR2); /* the handler burns on the sigaltstack; SIGPROF nests below it */
    max_into(&alt_nested_deepest, alt_used(buf, len));
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    free(buf);
    return NULL;
}

int do_altstack_small(void)
{
    size_t min = (size_t)getauxval(AT_MINSIGSTKSZ);
    if (min < 2048)
        min = 2048;
    alt_small_size = 2 * min + 6 * 1024;
    install_handler(SIGUSR2, on_usr2_small, SA_ONSTACK | SA_RESTART);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        start_thread(&t[i], NULL, alt_small_thread, NULL);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    fprintf(stderr, "fw_host: AT_MINSIGSTKSZ=%zu; sigaltstack %zu bytes; deepest use: %zu "
            "bytes (burning on the thread stack), %zu bytes (in handlers on the sigaltstack); "
            "guard below %s; handler ran %ld times\n", min, alt_small_size,
            atomic_load(&alt_own_deepest), atomic_load(&alt_nested_deepest),
            atomic_load(&alt_guard_hit) ? "OVERWRITTEN" : "intact", atomic_load(&alt_small_calls));
    FW_SAY("altstack-small: done\n");
    return 0;
}
