#include "wl_common.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double iters_per_ms = 100000.0;
static double scale = 1.0;
static double pre_main_cpu;   /* main thread CPU at wl_init */
static double program_cpu;    /* sum of wl_thread_end */
static pid_t main_tid;
static _Thread_local uint64_t jitter_state = 0x853c49e6748fea9bull;

#define MAX_ENTRIES 64

static pthread_mutex_t truth_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    const char *name;
    double seconds;
} fns[MAX_ENTRIES];
static int n_fns;
static struct {
    const char *key;
    long value;
} ints[MAX_ENTRIES];
static int n_ints;

/* Not a known function: its CPU only shows in the process total. */
static BURN_NOIPA void calibrate(void)
{
    const long n = 2000000;
    double best = 0;
    /* Best of three: a preemption or a cold cache only makes a round slower. */
    for (int round = 0; round < 3; round++) {
        double t0 = burn_thread_cpu();
        BURN(n, 0);
        double dt = burn_thread_cpu() - t0;
        if (dt > 0 && (best == 0 || n / (dt * 1e3) > best))
            best = n / (dt * 1e3);
    }
    if (best > 0)
        iters_per_ms = best;
}

void wl_init(void)
{
    pre_main_cpu = burn_thread_cpu();
    main_tid = gettid();
    const char *s = getenv("WL_SCALE");
    if (s && *s) {
        double v = strtod(s, NULL);
        if (v > 0)
            scale = v;
    }
    /* Measured like any known function: it is the first thing main does, so it also shows
     * whether a profiler samples the start of the program. */
    double t0 = burn_thread_cpu();
    calibrate();
    wl_truth_add("calibrate", burn_thread_cpu() - t0);
}

long wl_iters(double ms)
{
    long n = (long)(ms * iters_per_ms);
    return n > 0 ? n : 1;
}

long wl_slice_iters(double ms)
{
    /* A 64-bit LCG; the top bits are uniform enough for +-25%. */
    jitter_state = jitter_state * 6364136223846793005ull + 1442695040888963407ull;
    double u = (double)(jitter_state >> 11) / 9007199254740992.0; /* [0, 1) */
    return wl_iters(ms * (0.75 + 0.5 * u));
}

void wl_thread_end(void)
{
    double cpu = burn_thread_cpu() - (gettid() == main_tid ? pre_main_cpu : 0.0);
    pthread_mutex_lock(&truth_lock);
    program_cpu += cpu;
    pthread_mutex_unlock(&truth_lock);
}

double wl_scale(void)
{
    return scale;
}

void wl_truth_add(const char *name, double seconds)
{
    pthread_mutex_lock(&truth_lock);
    int i;
    for (i = 0; i < n_fns; i++)
        if (strcmp(fns[i].name, name) == 0)
            break;
    if (i == n_fns && n_fns < MAX_ENTRIES) {
        fns[i].name = name;
        fns[i].seconds = 0;
        n_fns++;
    }
    if (i < MAX_ENTRIES)
        fns[i].seconds += seconds;
    pthread_mutex_unlock(&truth_lock);
}

void wl_burn_measured(const char *name, uint64_t (*fn)(long), long iters)
{
    double t0 = burn_thread_cpu();
    fn(iters);
    wl_truth_add(name, burn_thread_cpu() - t0);
}

void wl_truth_int(const char *key, long value)
{
    pthread_mutex_lock(&truth_lock);
    int i;
    for (i = 0; i < n_ints; i++)
        if (strcmp(ints[i].key, key) == 0)
            break;
    if (i == n_ints && n_ints < MAX_ENTRIES)
        n_ints++;
    if (i < MAX_ENTRIES) {
        ints[i].key = key;
        ints[i].value = value;
    }
    pthread_mutex_unlock(&truth_lock);
}

void wl_truth_reset(void)
{
    /* Called in a freshly forked child, which has one thread: no lock holder can exist unless
     * the parent forked while another thread held it, which these workloads never do. */
    n_fns = 0;
    n_ints = 0;
    program_cpu = 0;
    pre_main_cpu = 0; /* a child's thread clock starts at zero at fork */
    main_tid = gettid();
}

const char *wl_truth_path(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--truth") == 0)
            return argv[i + 1];
    const char *e = getenv("FLAMEPROF_TRUTH");
    return e && *e ? e : NULL;
}

int wl_truth_write(const char *path)
{
    if (!path)
        return 0;
    /* Take the process's CPU first, so the file writing below is not part of it. */
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double ru_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
                    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    double clk_cpu = burn_clock(CLOCK_PROCESS_CPUTIME_ID);

    /* Write beside and rename, so a reader never sees half a file. */
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        perror(tmp);
        return -1;
    }
    pthread_mutex_lock(&truth_lock);
    fprintf(f, "{\n  \"pid\": %d,\n  \"process_cpu_s\": %.6f,\n  \"process_clock_s\": %.6f,\n",
            (int)getpid(), ru_cpu, clk_cpu);
    fprintf(f, "  \"program_cpu_s\": %.6f,\n  \"pre_main_cpu_s\": %.6f,\n", program_cpu,
            pre_main_cpu);
    fprintf(f, "  \"utime_s\": %.6f,\n  \"stime_s\": %.6f,\n",
            (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6,
            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6);
    fprintf(f, "  \"functions\": {");
    for (int i = 0; i < n_fns; i++)
        fprintf(f, "%s\n    \"%s\": %.6f", i ? "," : "", fns[i].name, fns[i].seconds);
    fprintf(f, "\n  },\n  \"ints\": {");
    for (int i = 0; i < n_ints; i++)
        fprintf(f, "%s\n    \"%s\": %ld", i ? "," : "", ints[i].key, ints[i].value);
    fprintf(f, "\n  }\n}\n");
    pthread_mutex_unlock(&truth_lock);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}
