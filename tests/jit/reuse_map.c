/* reuse_map.c - JIT code whose address is reused by other code, named by a perf map that
 * grows between samples: each sample's JIT frame must be named by the entry that held the
 * address when the sample was taken, not by the last one (the final map).
 *
 * usage: reuse_map
 *
 * One anonymous executable page. Phase i (PHASES of them): the code is copied in again (as
 * a runtime compiles new code into freed space), a perf-map line names it reuse_fn_<i>, and
 * phase_<i> (C, with frame pointers) calls it for PHASE_CPU seconds of CPU; then the code is
 * dead for GAP_MS of wall time (as freed code is before its space is reused) while a C
 * function burns CPU outside it. The caller phase_<i> is the truth: under it the leaf must
 * be reuse_fn_<i>. Prints "result=ok"; the map is removed at the end.
 *
 * The code is `push %rbp; mov %rsp,%rbp; mov %rdi,%rcx; 1: dec %rcx; jnz 1b; mov %rdi,%rax;
 * pop %rbp; ret`, as in hostile_map.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static const unsigned char loop_code[] = {
    0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf9, 0x48, 0xff,
    0xc9, 0x75, 0xfb, 0x48, 0x89, 0xf8, 0x5d, 0xc3,
};
enum { PHASES = 6, FN_SIZE = 0x40, GAP_MS = 60 };
#define PHASE_CPU 0.2

typedef uint64_t (*loop_fn)(uint64_t);
static volatile uint64_t sink;

#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run_for(loop_fn f, double seconds)
{
    double end = thread_cpu_s() + seconds;
    while (thread_cpu_s() < end)
        sink += f(2000000);
}

/* One caller per phase: the frame above the JIT code says which phase a sample is from. */
#define PHASE_FN(i)                                                                          \
    NOINLINE static void phase_##i(loop_fn f)                                                \
    {                                                                                        \
        run_for(f, PHASE_CPU);                                                               \
        __asm__ volatile("" ::: "memory");                                                   \
    }
PHASE_FN(0)
PHASE_FN(1)
PHASE_FN(2)
PHASE_FN(3)
PHASE_FN(4)
PHASE_FN(5)
static void (*const phases[PHASES])(loop_fn) = { phase_0, phase_1, phase_2,
                                                 phase_3, phase_4, phase_5 };

/* CPU outside the JIT code, while its address is dead. */
NOINLINE static void dead_gap(void)
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        for (int i = 0; i < 100000; i++)
            sink += (uint64_t)i * 3;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 < GAP_MS);
}

static int write_line(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(void)
{
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
    if (code == MAP_FAILED) {
        perror("reuse_map: mmap");
        return 1;
    }
    char map[64], line[128];
    snprintf(map, sizeof map, "/tmp/perf-%ld.map", (long)getpid());
    unlink(map);
    int fd = open(map, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror("reuse_map: create the map");
        return 1;
    }
    int rc = 0;
    for (int i = 0; i < PHASES && rc == 0; i++) {
        /* New code at the old address, then its line (a runtime writes the line before the
         * code runs). */
        if (mprotect(code, 4096, PROT_READ | PROT_WRITE) != 0)
            rc = 1;
        memset(code, 0xcc, 4096);
        memcpy(code, loop_code, sizeof loop_code);
        if (rc || mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) {
            perror("reuse_map: mprotect");
            rc = 1;
            break;
        }
        snprintf(line, sizeof line, "%lx %x reuse_fn_%d\n", (unsigned long)(uintptr_t)code,
                 FN_SIZE, i);
        if (write_line(fd, line) != 0) {
            perror("reuse_map: write");
            rc = 1;
            break;
        }
        phases[i]((loop_fn)(uintptr_t)code);
        dead_gap();
    }
    close(fd);
    unlink(map);
    printf("result=%s\n", rc == 0 ? "ok" : "failed");
    return rc;
}
