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
#include "threads.h"

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

static void tid_weight(stack_entry *e, void *arg)
{
    uint64_t *w = arg;
    if (e->tid == 101 || e->tid == 102)
        w[e->tid - 101] += e->weight;
    else
        w[2] += e->weight;
}

/* FLAMEPROF_THREADS: the same stack in two threads stays two entries through the spill
 * (H records before their K), the names come back as they were last (N records), renames
 * included, and the timeline's slots (by stack id) hold each thread's weight. */
static void check_threads(const char *dir)
{
    char stem[64];
    snprintf(stem, sizeof stem, "%s/threads", dir);
    CHECK(rawfile_open(stem, 997) == 0);
    stack_table t;
    stacks_init(&t);
    t.by_thread = true;
    threads_set(101, "alpha");
    threads_set(102, "beta");
    timeline tl;
    timeline_init(&tl, 0);
    for (int round = 0; round < 3; round++) {
        for (uint32_t tid = 101; tid <= 103; tid++) {
            make_sample(7, tid == 101 ? 2 : 5);
            sample.tid = tid; /* 103: never named */
            stack_entry *e = stacks_put(&t, &sample, 0, sample.weight, 1);
            CHECK(e && timeline_add(&tl, (uint32_t)round, e->id, sample.weight) == 0);
        }
        if (round == 1)
            threads_set(101, "alpha-renamed");
        rawfile_spill(&t, &tl);
    }
    timeline_free(&tl);
    CHECKF(t.len == 3, "three entries for one stack in three threads, got %zu", t.len);
    threads_free(); /* the reader must get the names from the file */
    stack_table back;
    uint64_t w[3] = { 0, 0, 0 };
    stacks_init(&back);
    back.by_thread = true; /* as flameprof report reads */
    FILE *f = fopen(rawfile_path(), "r");
    rawfile_info info;
    timeline_init(&tl, 0);
    long bad = f ? rawfile_read_all(f, &back, &tl, &info, NULL, NULL) : -1;
    if (f)
        fclose(f);
    stacks_foreach(&back, tid_weight, w);
    CHECKF(bad == 0 && back.len == 3, "bad %ld, %zu entries", bad, back.len);
    uint64_t slot_w[3] = { 0, 0, 0 };
    for (size_t i = 0; i < tl.len; i++) {
        uint32_t tid = stacks_get(&back, tl.cells[i].id)->tid;
        slot_w[tid == 101 || tid == 102 ? tid - 101 : 2] += tl.cells[i].weight;
    }
    CHECKF(tl.len == 9 && slot_w[0] == 6 && slot_w[1] == 15 && slot_w[2] == 15,
           "timeline: %zu cells, per-thread %llu %llu %llu", tl.len,
           (unsigned long long)slot_w[0], (unsigned long long)slot_w[1],
           (unsigned long long)slot_w[2]);
    timeline_free(&tl);
    CHECKF(w[0] == 6 && w[1] == 15 && w[2] == 15, "per-thread weights %llu %llu %llu",
           (unsigned long long)w[0], (unsigned long long)w[1], (unsigned long long)w[2]);
    CHECK_STR(threads_name(101), "alpha-renamed");
    CHECK_STR(threads_name(102), "beta");
    CHECK(threads_name(103) == NULL);
    rawfile_close(true);
    stacks_free(&back);
    stacks_free(&t);
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
    check_threads(dir);
    rmdir(dir);
    stacks_free(&t);
    return check_status("test_rawfile");
}
