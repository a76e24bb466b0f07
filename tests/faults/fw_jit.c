/* fw_jit - JIT code in an anonymous executable mapping, named by a /tmp/perf-PID.map the
 * profiler must not trust blindly (issue 5, "Bad input": perf maps).
 *
 * usage: fw_jit MODE
 *   other-owner  the map names the code fault_other_owner_fn and belongs to nobody (65534);
 *                needs root (prints "other-owner: cannot chown" and exits 3 otherwise)
 *   truncated    the map's first line names fault_jit_whole; its last line, for the second
 *                function, is cut in the middle of the name (no newline): "... fault_jit_tr"
 *   cut-first    the map is only "7f" (cut inside the very first line)
 *   huge N       N entries of 16 bytes each for other code in the mapping, then the entry
 *                fault_jit_huge for the code that runs (huge 0: that entry alone)
 * Each mode runs the code for ~0.5 s of CPU per function, removes the map and prints a
 * fixed line; stderr gets the CPU spent writing the map ("map_write_cpu=S").
 *
 * The code keeps a frame pointer, as JIT code does: push %rbp; mov %rsp,%rbp; mov %rdi,%rcx;
 * 1: dec %rcx; jnz 1b; mov %rdi,%rax; pop %rbp; ret */
#include "fw_common.h"

#include <errno.h>
#include <sys/mman.h>

static const unsigned char loop_code[] = {
    0x55, 0x48, 0x89, 0xe5, 0x48, 0x89, 0xf9, 0x48, 0xff, 0xc9,
    0x75, 0xfb, 0x48, 0x89, 0xf8, 0x5d, 0xc3,
};
enum { FN2 = 0x100, FN_SIZE = 0x40, DUMMY_BASE = 0x1000, DUMMY_SIZE = 16 };

typedef uint64_t (*loop_fn)(uint64_t);
static volatile uint64_t sink;

/* C callers with frame pointers: the walk goes from the JIT frame to them by rbp. */
static BURN_NOIPA void run_jit_1(loop_fn f, double seconds)
{
    double end = burn_thread_cpu() + seconds;
    while (burn_thread_cpu() < end)
        sink += f(2000000);
}

static BURN_NOIPA void run_jit_2(loop_fn f, double seconds)
{
    double end = burn_thread_cpu() + seconds;
    while (burn_thread_cpu() < end)
        sink += f(2000000);
}

static char map_path[64];

static FILE *open_map(void)
{
    snprintf(map_path, sizeof map_path, "/tmp/perf-%d.map", (int)getpid());
    unlink(map_path);
    FILE *f = fopen(map_path, "we");
    if (!f) {
        perror(map_path);
        exit(2);
    }
    return f;
}

int main(int argc, char **argv)
{
    const char *mode = fw_mode(argc, argv, "other-owner|truncated|cut-first|huge N");
    long n = argc > 2 ? atol(argv[2]) : 0;
    size_t size = DUMMY_BASE + (size_t)n * DUMMY_SIZE;
    size = (size + 4095) & ~(size_t)4095;
    unsigned char *code = mmap(NULL, size, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    memcpy(code, loop_code, sizeof loop_code);
    memcpy(code + FN2, loop_code, sizeof loop_code);
    if (mprotect(code, size, PROT_READ | PROT_EXEC) != 0) {
        perror("mprotect");
        return 2;
    }
    uintptr_t base = (uintptr_t)code;
    double t0 = burn_thread_cpu();
    /* other-owner writes its map under another name first (below): never create it here. */
    FILE *f = strcmp(mode, "other-owner") == 0 ? NULL : open_map();
    bool two = false;
    if (strcmp(mode, "other-owner") == 0) {
        /* Written and owned by nobody under another name, then renamed into place: the
         * profiler follows the map from the moment it exists, and a map it opened while the
         * file was still ours would be read (rightly). */
        snprintf(map_path, sizeof map_path, "/tmp/perf-%d.map", (int)getpid());
        unlink(map_path);
        char tmp[80];
        snprintf(tmp, sizeof tmp, "%s.tmp", map_path);
        FILE *t = fopen(tmp, "we");
        if (!t || fchown(fileno(t), 65534, 65534) != 0) {
            printf("other-owner: cannot chown: %s\n", strerror(errno));
            if (t)
                fclose(t);
            unlink(tmp);
            return 3;
        }
        fprintf(t, "%lx %x fault_other_owner_fn\n", (unsigned long)base, FN_SIZE);
        fclose(t);
        if (rename(tmp, map_path) != 0) {
            perror("rename");
            unlink(tmp);
            return 2;
        }
    } else if (strcmp(mode, "truncated") == 0) {
        fprintf(f, "%lx %x fault_jit_whole\n%lx %x fault_jit_tr", (unsigned long)base,
                FN_SIZE, (unsigned long)(base + FN2), FN_SIZE);
        fclose(f);
        two = true;
    } else if (strcmp(mode, "cut-first") == 0) {
        fprintf(f, "7f");
        fclose(f);
    } else if (strcmp(mode, "huge") == 0) {
        static char buf[1 << 20];
        setvbuf(f, buf, _IOFBF, sizeof buf);
        for (long i = 0; i < n; i++)
            fprintf(f, "%lx %x fault_dummy_%07ld\n",
                    (unsigned long)(base + DUMMY_BASE + (uintptr_t)i * DUMMY_SIZE), DUMMY_SIZE,
                    i);
        fprintf(f, "%lx %x fault_jit_huge\n", (unsigned long)base, FN_SIZE);
        fclose(f);
    } else {
        fprintf(stderr, "fw_jit: unknown mode %s\n", mode);
        unlink(map_path);
        return 2;
    }
    fprintf(stderr, "fw_jit: map_write_cpu=%.3f\n", burn_thread_cpu() - t0);
    run_jit_1((loop_fn)(void *)code, 0.5);
    if (two)
        run_jit_2((loop_fn)(void *)(code + FN2), 0.5);
    /* Left in place until exit would be better for the profiler, but a test must not leave
     * files in /tmp; the profiler reads the map as it grows, well before this. */
    struct timespec ts = { 0, 50000000 };
    nanosleep(&ts, NULL);
    unlink(map_path);
    FW_SAY("fw_jit %s: done\n", mode);
    return 0;
}
