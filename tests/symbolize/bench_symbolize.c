/* bench_symbolize.c - lookup speed printout: 100k random addresses in libc's code,
 * resolved cold (module load, symbol table sort, first lookups), new ones once the module
 * is warm, and again from the cache; in CPU time.
 * With an argument, the same for that ELF file registered at bias 0 (e.g. a big non-PIE
 * executable with DWARF, such as /usr/bin/node), which exercises the inline path. */
#include "symbolize.h"

#include <inttypes.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOOKUPS 100000

typedef struct range {
    uint64_t lo, hi;
} range;

typedef struct target {
    const char *path;
    uint64_t bias;
    range exec[8];
    int nexec;
} target;

/* CPU time of this thread: the machine running the tests is often shared, and wall time
 * there measures the neighbours as much as the symbolizer. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int libc_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    target *t = arg;
    if (strstr(info->dlpi_name, "/libc.so") == NULL)
        return 0;
    t->path = info->dlpi_name;
    t->bias = info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && t->nexec < 8; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X))
            t->exec[t->nexec++] = (range){ info->dlpi_addr + ph->p_vaddr,
                                           info->dlpi_addr + ph->p_vaddr + ph->p_memsz };
    }
    return 1;
}

/* Executable segments of a file not loaded here, read from its program headers. */
static int file_target(const char *path, target *t)
{
    FILE *f = fopen(path, "rb");
    ElfW(Ehdr) eh;
    if (f == NULL || fread(&eh, sizeof eh, 1, f) != 1) {
        if (f)
            fclose(f);
        return -1;
    }
    t->path = path;
    t->bias = 0;
    for (int i = 0; i < eh.e_phnum && t->nexec < 8; i++) {
        ElfW(Phdr) ph;
        if (fseek(f, (long)(eh.e_phoff + (size_t)i * eh.e_phentsize), SEEK_SET) != 0
            || fread(&ph, sizeof ph, 1, f) != 1)
            break;
        if (ph.p_type == PT_LOAD && (ph.p_flags & PF_X))
            t->exec[t->nexec++] = (range){ ph.p_vaddr, ph.p_vaddr + ph.p_memsz };
    }
    fclose(f);
    return t->nexec > 0 ? 0 : -1;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void fill(const target *t, uint64_t *pcs, int n, uint64_t *rng)
{
    uint64_t total = 0;
    for (int k = 0; k < t->nexec; k++)
        total += t->exec[k].hi - t->exec[k].lo;
    for (int i = 0; i < n; i++) {
        uint64_t off = rng_next(rng) % total; /* uniform over all executable bytes */
        int k = 0;
        while (off >= t->exec[k].hi - t->exec[k].lo)
            off -= t->exec[k].hi - t->exec[k].lo, k++;
        pcs[i] = t->exec[k].lo + off;
    }
}

static volatile size_t sink; /* keeps the timed loops from being optimized away */

/* Resolves n addresses; returns CPU ns per lookup. */
static double pass(symbolizer *s, const uint64_t *pcs, int n)
{
    symbolize_frame f[16];
    size_t frames = 0;
    double t0 = now_ns();
    for (int i = 0; i < n; i++)
        frames += symbolize_pc(s, 1, pcs[i], i & 1, f, 16);
    sink += frames;
    return (now_ns() - t0) / n;
}

/* Untimed: how many addresses got a name, and the mean frames per address. */
static void coverage(symbolizer *s, const uint64_t *pcs, int n, double *named, double *frames)
{
    symbolize_frame f[16];
    size_t nf = 0, nn = 0;
    for (int i = 0; i < n; i++) {
        nf += symbolize_pc(s, 1, pcs[i], i & 1, f, 16);
        nn += strchr(f[0].name, '+') == NULL;
    }
    *named = 100.0 * (double)nn / n;
    *frames = (double)nf / n;
}

static void run(const target *t)
{
    uint64_t *a = malloc(LOOKUPS * sizeof *a), *b = malloc(LOOKUPS * sizeof *b);
    uint64_t rng = 88172645463325252ULL;
    fill(t, a, LOOKUPS, &rng);
    fill(t, b, LOOKUPS, &rng);
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, t->path, t->bias, NULL, 0);
    double cold = pass(s, a, LOOKUPS);
    double warm = pass(s, b, LOOKUPS);
    double cached = pass(s, b, LOOKUPS);
    double named, frames;
    coverage(s, a, LOOKUPS, &named, &frames);
    printf("%s: %d random addresses (CPU time): cold %.0f ns/lookup (%.0f ms, incl. loading and "
           "indexing), new addresses once warm %.0f ns/lookup, cached %.0f ns/lookup; "
           "%.1f%% named, %.2f frames/address\n",
           t->path, LOOKUPS, cold, cold * LOOKUPS / 1e6, warm, cached,
           named, frames);
    symbolize_free(s);
    free(a);
    free(b);
}

int main(int argc, char **argv)
{
    target libc = { 0 };
    if (dl_iterate_phdr(libc_cb, &libc) == 0 || libc.nexec == 0) {
        printf("libc not found\n");
        return 0;
    }
    run(&libc);
    for (int i = 1; i < argc; i++) {
        target t = { 0 };
        if (file_target(argv[i], &t) == 0)
            run(&t);
        else
            printf("%s: not an ELF with executable segments\n", argv[i]);
    }
    return 0;
}
