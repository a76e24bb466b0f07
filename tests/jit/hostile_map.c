/* hostile_map.c - a program that runs machine code from an anonymous executable mapping
 * while its own /tmp/perf-<pid>.map is something a profiler must not trust blindly.
 *
 * usage: hostile_map MODE DIR
 *   symlink      the map is a symlink to DIR/decoy.map, a file naming the code HOSTILE_DECOY
 *   fifo         the map is a FIFO (nobody ever writes it: opening it must not block)
 *   other-owner  the map is a regular file naming the code HOSTILE_OTHER_OWNER, owned by
 *                nobody (65534); needs root to chown, otherwise prints "other-owner: cannot
 *                chown" and exits 3
 *   hostile      the map is a regular file of ours full of junk: malformed lines, NULs, a
 *                5 MB line, entries outside executable memory, overlapping entries, a
 *                truncated last line, and two valid entries written last for the two functions:
 *                `jit_loop_fn` and `jit;injected<TAB>name<0xff>` (a name that tries to add a
 *                frame to the folded format)
 *
 * The code is `push %rbp; mov %rsp,%rbp; mov %rdi,%rcx; 1: dec %rcx; jnz 1b; mov %rdi,%rax;
 * pop %rbp; ret`: it keeps a frame pointer, as JIT code does, and returns its argument.
 * It is called through run_jit_1/run_jit_2 (C, with frame pointers), each for ~0.5 CPU-s.
 * Prints the map path, then the result ("result=... ok"), the same with or without a profiler.
 * The map (and decoy) are removed at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const unsigned char loop_code[] = {
    0x55,             /* push %rbp */
    0x48, 0x89, 0xe5, /* mov %rsp,%rbp */
    0x48, 0x89, 0xf9, /* mov %rdi,%rcx */
    0x48, 0xff, 0xc9, /* 1: dec %rcx */
    0x75, 0xfb,       /* jnz 1b */
    0x48, 0x89, 0xf8, /* mov %rdi,%rax */
    0x5d,             /* pop %rbp */
    0xc3,             /* ret */
};
enum { FN2_OFFSET = 0x100, FN_SIZE = 0x40 };

typedef uint64_t (*loop_fn)(uint64_t);

#ifdef __clang__
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone)) /* no run_jit_1.constprop.0 */
#endif

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile uint64_t sink;

NOINLINE static uint64_t run_jit_1(loop_fn f, uint64_t n)
{
    uint64_t r = f(n);
    __asm__ volatile("" ::: "memory");
    sink += r;
    return r;
}

NOINLINE static uint64_t run_jit_2(loop_fn f, uint64_t n)
{
    uint64_t r = f(n);
    __asm__ volatile("" ::: "memory");
    sink += r ^ 1;
    return r;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_str(int fd, const char *s)
{
    return write_all(fd, s, strlen(s));
}

static int create_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        fprintf(stderr, "hostile_map: create %s: %s\n", path, strerror(errno));
    return fd;
}

/* One perf-map line naming the code at p. */
static void entry(char *buf, size_t cap, const void *p, size_t size, const char *name)
{
    snprintf(buf, cap, "%lx %zx %s\n", (unsigned long)(uintptr_t)p, size, name);
}

static int write_hostile(int fd, unsigned char *code)
{
    char line[512];
    int heap_dummy = 0;
    void *heap = malloc(4096);
    int rc = 0;
    rc |= write_str(fd, "garbage line without fields\n");
    rc |= write_str(fd, "zzzz 10 NOT_HEX_START\n");
    snprintf(line, sizeof line, "%lx zz NOT_HEX_SIZE\n", (unsigned long)(uintptr_t)code);
    rc |= write_str(fd, line);
    snprintf(line, sizeof line, "%lx\n", (unsigned long)(uintptr_t)code);
    rc |= write_str(fd, line); /* no size, no name */
    snprintf(line, sizeof line, "%lx 40\n", (unsigned long)(uintptr_t)code);
    rc |= write_str(fd, line); /* no name */
    entry(line, sizeof line, code, 0, "ZERO_SIZE");
    rc |= write_str(fd, line);
    rc |= write_str(fd, "ffffffffffffff00 1000 WRAPS_AROUND\n");
    rc |= write_str(fd, "\n\n\r\n");
    /* NULs: in the size, in the name, a line of them */
    int n = snprintf(line, sizeof line, "%lx 4", (unsigned long)(uintptr_t)code);
    line[n++] = 0;
    n += snprintf(line + n, sizeof line - (size_t)n, "0 NUL_IN_SIZE\n");
    rc |= write_all(fd, line, (size_t)n);
    n = snprintf(line, sizeof line, "%lx 40 NUL_IN", (unsigned long)(uintptr_t)code);
    line[n++] = 0;
    n += snprintf(line + n, sizeof line - (size_t)n, "_NAME\n");
    rc |= write_all(fd, line, (size_t)n);
    memset(line, 0, 64);
    line[64] = '\n';
    rc |= write_all(fd, line, 65);
    /* valid lines outside executable memory (stack, heap), overlapping each other */
    entry(line, sizeof line, &heap_dummy, 0x100, "NOT_EXEC_STACK");
    rc |= write_str(fd, line);
    entry(line, sizeof line, heap, 0x1000, "NOT_EXEC_HEAP");
    rc |= write_str(fd, line);
    entry(line, sizeof line, (char *)heap + 8, 0x10, "NOT_EXEC_HEAP_OVERLAP");
    rc |= write_str(fd, line);
    /* a valid entry straddling the end of the code mapping */
    entry(line, sizeof line, code + 4096 - 0x10, 0x1000, "STRADDLES_MAPPING_END");
    rc |= write_str(fd, line);
    /* older entries for the code, overlapped by the valid ones below */
    entry(line, sizeof line, code, 0x200, "STALE_OLD_NAME");
    rc |= write_str(fd, line);
    entry(line, sizeof line, code + 4, 8, "STALE_INNER");
    rc |= write_str(fd, line);
    /* a 5 MB line */
    size_t big = 5u << 20;
    char *b = malloc(big + 1);
    if (!b) {
        free(heap);
        return -1;
    }
    memset(b, 'A', big);
    b[big] = '\n';
    rc |= write_all(fd, b, big + 1);
    free(b);
    rc |= write_str(fd, "7f00 10 CRLF_LINE_NOT_EXEC\r\n");
    /* the valid entries: the newest for their addresses */
    entry(line, sizeof line, code, FN_SIZE, "jit_loop_fn");
    rc |= write_str(fd, line);
    entry(line, sizeof line, code + FN2_OFFSET, FN_SIZE, "jit;injected\tname\xff");
    rc |= write_str(fd, line);
    /* a truncated last line (no newline, never finished) naming the code */
    entry(line, sizeof line, code, FN_SIZE, "TRUNCATED_LAST_LINE");
    line[strlen(line) - 1] = 0;
    rc |= write_str(fd, line);
    free(heap);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: hostile_map symlink|fifo|other-owner|hostile DIR\n");
        return 2;
    }
    const char *mode = argv[1], *dir = argv[2];
    unsigned char *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                               -1, 0);
    if (code == MAP_FAILED) {
        perror("hostile_map: mmap");
        return 1;
    }
    memset(code, 0xcc, 4096); /* int3 everywhere else */
    memcpy(code, loop_code, sizeof loop_code);
    memcpy(code + FN2_OFFSET, loop_code, sizeof loop_code);
    if (mprotect(code, 4096, PROT_READ | PROT_EXEC) != 0) {
        perror("hostile_map: mprotect");
        return 1;
    }

    /* Regular files are written under a staging name and renamed into place: a profiler
     * polling for the map sees it whole, and never before it has its final owner. */
    char map[64], staging[80], decoy[4096], line[256];
    snprintf(map, sizeof map, "/tmp/perf-%ld.map", (long)getpid());
    snprintf(staging, sizeof staging, "%s.staging", map);
    snprintf(decoy, sizeof decoy, "%s/decoy.map", dir);
    unlink(map);
    unlink(staging);
    int fd = -1, rc = 0;
    if (strcmp(mode, "symlink") == 0) {
        if ((fd = create_file(decoy)) < 0)
            return 1;
        entry(line, sizeof line, code, 0x200, "HOSTILE_DECOY");
        rc = write_str(fd, line);
        if (symlink(decoy, map) != 0) {
            perror("hostile_map: symlink");
            return 1;
        }
    } else if (strcmp(mode, "fifo") == 0) {
        if (mkfifo(map, 0600) != 0) {
            perror("hostile_map: mkfifo");
            return 1;
        }
    } else if (strcmp(mode, "other-owner") == 0) {
        if ((fd = create_file(staging)) < 0)
            return 1;
        entry(line, sizeof line, code, 0x200, "HOSTILE_OTHER_OWNER");
        rc = write_str(fd, line);
        if (fchown(fd, 65534, 65534) != 0) {
            printf("other-owner: cannot chown (%s)\n", strerror(errno));
            close(fd);
            unlink(staging);
            return 3;
        }
    } else if (strcmp(mode, "hostile") == 0) {
        if ((fd = create_file(staging)) < 0)
            return 1;
        rc = write_hostile(fd, code);
    } else {
        fprintf(stderr, "hostile_map: unknown mode %s\n", mode);
        return 2;
    }
    if (rc != 0) {
        perror("hostile_map: write");
        return 1;
    }
    if (fd >= 0) {
        close(fd);
        if (strcmp(mode, "symlink") != 0 && rename(staging, map) != 0) {
            perror("hostile_map: rename");
            return 1;
        }
    }
    printf("map %s\n", map);
    fflush(stdout);

    /* Let a profiler's background thread see the map before the code runs. */
    struct timespec pause = { 0, 100 * 1000 * 1000 };
    nanosleep(&pause, NULL);

    loop_fn f1 = (loop_fn)(void *)code, f2 = (loop_fn)(void *)(code + FN2_OFFSET);
    const uint64_t n = 20 * 1000 * 1000;
    uint64_t calls = 0, bad = 0;
    for (int which = 0; which < 2; which++) {
        double t0 = thread_cpu_s();
        while (thread_cpu_s() - t0 < 0.5) {
            uint64_t r = which == 0 ? run_jit_1(f1, n) : run_jit_2(f2, n);
            bad += r != n;
            calls++;
        }
    }
    unlink(map);
    if (strcmp(mode, "symlink") == 0)
        unlink(decoy);
    /* calls depends on speed; the result must not */
    printf("result=%s\n", bad == 0 && calls > 0 ? "ok" : "WRONG");
    return bad == 0 ? 0 : 1;
}
