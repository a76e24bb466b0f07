/* test_timeline.c - an hour of simulated timeline through the writer: a busy 4-thread
 * program at 997 Hz (250 signals a second per thread, each weighing ~4 periods, stacks drawn
 * from 400 distinct ones with a skewed distribution), spilled once a second as the
 * aggregator does. Checks that memory stays flat, that the file stays within
 * FLAMEPROF_TIMELINE_MAX (plus the stack snapshot) with the oldest slots dropped, that what
 * is kept reads back exactly (per-slot weights, whole weights), and prints the bytes of
 * timeline per minute. Simulated time: the samples carry made-up times, so it runs in
 * seconds. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "synth.h"
#include "rawfile.h"
#include "stacks.h"
#include "timeline.h"

/* ASan keeps freed memory in quarantine: RSS says nothing about flatness there. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

enum { STACKS = 400, THREADS = 4, SIGNALS = 250, SECONDS = 3600 };
#define TL_MAX (8ull << 20)

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}


static ring_sample *make_stack(unsigned k)
{
    static ring_sample s;
    memset(&s, 0, sizeof s);
    s.depth = (uint16_t)(8 + k % 24);
    for (unsigned i = 0; i < s.depth; i++)
        s.pcs[i] = 0x400000 + (uint64_t)(i == 0 ? k : (k >> (i % 5))) * 0x40 + i;
    return &s;
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

int main(void)
{
    char dir[] = "/tmp/fp-timeline-XXXXXX", stem[64], path[80];
    if (!mkdtemp(dir))
        return 1;
    snprintf(stem, sizeof stem, "%s/hour", dir);
    rawfile_set_timeline_max(TL_MAX);
    CHECK(rawfile_open(stem, 997) == 0);
    snprintf(path, sizeof path, "%s.raw", stem);
    stack_table t;
    stacks_init(&t);
    timeline tl;
    timeline_init(&tl, 1000000000ull);
    uint64_t *per_s = calloc(SECONDS, sizeof *per_s), total = 0;
    long rss_early = 0;
    off_t size_10min = 0, biggest = 0;
    for (unsigned sec = 0; sec < SECONDS; sec++) {
        for (unsigned i = 0; i < THREADS * SIGNALS; i++) {
            uint64_t r = synth_next();
            unsigned k = synth_stack(r, STACKS);
            uint64_t time = tl.t0_ns + sec * 1000000000ull + (uint64_t)i * 1000000000ull /
                                                                 (THREADS * SIGNALS);
            uint32_t w = synth_weight(r);
            stack_entry *e = stacks_put(&t, make_stack(k), 0, w, 1);
            timeline_add_time(&tl, time, e->id, w);
            per_s[sec] += w;
            total += w;
        }
        rawfile_spill(&t, &tl);
        off_t sz = file_size(path);
        biggest = sz > biggest ? sz : biggest;
        if (sec == 599)
            size_10min = sz;
        if (sec == 300)
            rss_early = rss_kb();
    }
    long rss_end = rss_kb();
    printf("timeline: %.0f bytes per minute (4 threads at 997 Hz, %d stacks); "
           "file %lld bytes at 10 min, at most %lld bytes over the hour (max %llu); "
           "RSS %ld kB at 5 min, %ld kB at 60 min\n",
           (double)size_10min / 10, STACKS, (long long)size_10min, (long long)biggest,
           TL_MAX, rss_early, rss_end);
    CHECKF(UNDER_ASAN || rss_end - rss_early < 2048, "RSS grew by %ld kB", rss_end - rss_early);
    CHECKF((uint64_t)biggest <= TL_MAX + (1u << 20), "file reached %lld bytes",
           (long long)biggest);
    CHECK(rawfile_timeline_dropped_s() > 0);
    rawfile_close(false);

    /* read back: whole weights intact, the kept slots exactly as written */
    FILE *f = fopen(path, "r");
    stack_table back;
    stacks_init(&back);
    timeline tb;
    timeline_init(&tb, 0);
    rawfile_info info;
    CHECK(f && rawfile_read_all(f, &back, &tb, &info, NULL, NULL) == 0);
    if (f)
        fclose(f);
    uint64_t wsum = 0;
    for (size_t i = 0; i < back.len; i++)
        wsum += stacks_get(&back, (uint32_t)i)->weight;
    CHECKF(wsum == total, "whole weight %llu, wrote %llu", (unsigned long long)wsum,
           (unsigned long long)total);
    CHECK(info.clean && info.version == 2 && info.first_slot > 0);
    uint64_t kept = 0, expect = 0;
    for (size_t i = 0; i < tb.len; i++)
        kept += tb.cells[i].weight;
    unsigned first_s = (info.first_slot + TIMELINE_SLOTS_PER_S - 1) / TIMELINE_SLOTS_PER_S;
    for (unsigned s = first_s; s < SECONDS; s++)
        expect += per_s[s];
    /* the first kept second may be partial when the cut is not on a second */
    uint64_t partial = first_s > 0 ? per_s[first_s - 1] : 0;
    CHECKF(kept >= expect && kept <= expect + partial, "kept %llu, expected %llu (+%llu)",
           (unsigned long long)kept, (unsigned long long)expect, (unsigned long long)partial);
    CHECK(tb.cells[tb.len - 1].slot == SECONDS * TIMELINE_SLOTS_PER_S - 1);
    printf("timeline: the first %u s dropped, %zu cells kept\n",
           info.first_slot / TIMELINE_SLOTS_PER_S, tb.len);
    unlink(path);
    rmdir(dir);
    timeline_free(&tb);
    timeline_free(&tl);
    stacks_free(&back);
    stacks_free(&t);
    free(per_s);
    return check_status("test_timeline");
}
