/* test_rawfile.c - the raw spill: what is read back equals what was sampled, through
 * deltas, compaction and a crash-truncated last line; bad records are counted, not fatal. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "rawfile.h"
#include "stacks.h"

enum { STACKS = 400, DEPTH = 200, ROUNDS = 12 };

static ring_sample sample;

static void make_sample(int id, uint32_t weight)
{
    memset(&sample, 0, sizeof sample);
    sample.weight = weight;
    sample.depth = DEPTH;
    for (int i = 0; i < DEPTH; i++)
        sample.pcs[i] = 0x400000u + (uint64_t)id * 0x1000 + (uint64_t)i;
}

typedef struct totals {
    uint64_t weight, samples, entries;
} totals;

static void sum(stack_entry *e, void *arg)
{
    totals *t = arg;
    t->weight += e->weight;
    t->samples += e->samples;
    t->entries++;
}

static totals totals_of(stack_table *t)
{
    totals s = { 0, 0, 0 };
    stacks_foreach(t, sum, &s);
    return s;
}

static long read_back(const char *path, stack_table *out, bool *clean)
{
    FILE *f = fopen(path, "r");
    CHECKF(f != NULL, "open %s", path);
    if (!f)
        return -1;
    long pid;
    unsigned freq;
    stacks_init(out);
    long bad = rawfile_read(f, out, &pid, &freq, clean, NULL, NULL);
    fclose(f);
    CHECKF(bad < 0 || (pid == (long)getpid() && freq == 997), "header pid %ld freq %u", pid,
           freq);
    return bad;
}

int main(void)
{
    char dir[] = "/tmp/fp-rawtest-XXXXXX", stem[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(stem, sizeof stem, "%s/prof", dir);
    CHECK(rawfile_open(stem, 997) == 0);
    const char *path = rawfile_path();
    CHECKF(path && strstr(path, "/prof.raw"), "path %s", path ? path : "(null)");

    stack_table t;
    stacks_init(&t);
    off_t biggest = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int id = 0; id < STACKS; id++) {
            make_sample(id, (uint32_t)(1 + id % 3));
            stacks_add(&t, &sample, 0);
        }
        rawfile_spill(&t, NULL);
        struct stat st;
        stat(path, &st);
        biggest = st.st_size > biggest ? st.st_size : biggest;
    }
    totals want = totals_of(&t);
    stack_table back;
    bool clean;
    long bad = read_back(path, &back, &clean);
    totals got = totals_of(&back);
    CHECKF(bad == 0, "%ld bad lines", bad);
    CHECKF(!clean, "no end record yet");
    CHECKF(got.weight == want.weight && got.samples == want.samples &&
               got.entries == want.entries,
           "read back %llu/%llu/%llu, want %llu/%llu/%llu", (unsigned long long)got.weight,
           (unsigned long long)got.samples, (unsigned long long)got.entries,
           (unsigned long long)want.weight, (unsigned long long)want.samples,
           (unsigned long long)want.entries);
    /* 12 rounds of ~400 x 200 addresses would be ~6.7 MB of deltas: compaction keeps it near
     * a few snapshots' worth. */
    CHECKF(biggest < 4 * 1024 * 1024, "the spill grew to %lld bytes", (long long)biggest);
    stacks_free(&back);

    /* A crash mid-line: the cut line is ignored, everything before it is kept. */
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(write(fd, "S 5 1 0 0 0 0 2 4000", 20) == 20);
    close(fd);
    bad = read_back(path, &back, &clean);
    CHECKF(bad == 0 && totals_of(&back).weight == want.weight, "truncated tail: bad %ld", bad);
    stacks_free(&back);

    /* Garbage records: counted with their line numbers, the rest still read. */
    fd = open(path, O_WRONLY | O_APPEND);
    const char junk[] = "\nX what\nS 0 1 0 0 0 0 1 10\nS 1 1 0 0 0 0 3 10 20\nM 99 1 2 3 /x\n"
                        "B 99 abcd\nB 0 zz\n";
    CHECK(write(fd, junk, sizeof junk - 1) == (ssize_t)(sizeof junk - 1));
    close(fd);
    bad = read_back(path, &back, &clean);
    CHECKF(bad == 7, "7 bad records (the cut line is now complete garbage too), got %ld", bad);
    CHECKF(totals_of(&back).weight == want.weight, "good records still read");
    stacks_free(&back);

    /* Not a raw file at all. */
    char other[96];
    snprintf(other, sizeof other, "%s/not-raw", dir);
    FILE *f = fopen(other, "w");
    fputs("hello\n", f);
    fclose(f);
    CHECK(read_back(other, &back, &clean) == -1);

    rawfile_close(true);
    CHECKF(access(path, F_OK) != 0, "removed after a written profile");
    unlink(other);
    rmdir(dir);
    stacks_free(&t);
    return check_status("test_rawfile");
}
