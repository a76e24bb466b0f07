/* test_jitmap.c - JIT names as of the sample: generations, reuse, the perf-map reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "jitmap.h"


static int name_is(jitmap *m, uint64_t pc, uint32_t gen, const char *want)
{
    const char *got = jitmap_lookup(m, pc, gen);
    if (!want)
        return got == NULL;
    return got && strcmp(got, want) == 0;
}

static void test_reuse(void)
{
    jitmap *m = jitmap_new();
    const char *map = "1000 100 JS:*first a.js:1\n"
                      "2000 80 JS:~other a.js:9\n"
                      "1000 80 JS:*second a.js:5\n"; /* reuses first's address */
    jitmap_stats st = { 0 };
    size_t used = jitmap_parse_perfmap(m, map, strlen(map), 0, NULL, NULL, &st);
    CHECKF(used == strlen(map) && st.entries == 3 && st.malformed == 0, "3 entries parsed");
    size_t line1 = strlen("1000 100 JS:*first a.js:1\n");
    size_t line2 = line1 + strlen("2000 80 JS:~other a.js:9\n");
    uint32_t g_before = jitmap_gen_at(m, line2), g_after = jitmap_gen_at(m, strlen(map));
    CHECKF(g_before == 0 && g_after == 1, "reuse starts generation 1 (got %u, %u)", g_before,
          g_after);
    CHECKF(jitmap_current_gen(m) == 1, "current generation 1");
    CHECKF(name_is(m, 0x1010, g_before, "JS:*first a.js:1"), "sample before reuse: first");
    CHECKF(name_is(m, 0x1010, g_after, "JS:*second a.js:5"), "sample after reuse: second");
    CHECKF(name_is(m, 0x2010, g_after, "JS:~other a.js:9"), "untouched entry alive");
    /* 0x10f0 was only ever first's: dead in gen 1, the fallback still names it */
    CHECKF(name_is(m, 0x10f0, g_after, "JS:*first a.js:1"), "fallback to the newest covering");
    CHECKF(name_is(m, 0x3000, g_after, NULL), "uncovered address: NULL");
    jitmap_free(m);
}

static void test_kill(void)
{
    jitmap *m = jitmap_new();
    jitmap_add(m, 0x5000, 0x40, "void A.f()", 10, 0);
    uint32_t g0 = jitmap_current_gen(m);
    CHECKF(jitmap_kill(m, 0x5000) == 0, "kill a live entry");
    CHECKF(jitmap_kill(m, 0x9999) == -1, "kill of unknown code reports it");
    jitmap_add(m, 0x5000, 0x40, "void B.g()", 10, 0);
    uint32_t g1 = jitmap_current_gen(m);
    CHECKF(g1 == g0 + 1, "unload starts a generation");
    CHECKF(name_is(m, 0x5008, g0, "void A.f()"), "gen %u names A", g0);
    CHECKF(name_is(m, 0x5008, g1, "void B.g()"), "gen %u names B", g1);
    jitmap_free(m);
}

static bool only_high(void *ctx, uint64_t start, uint64_t end, const char *name, size_t len)
{
    (void)ctx;
    (void)end;
    (void)name;
    (void)len;
    return start >= 0x100000;
}

static void test_malformed(void)
{
    jitmap *m = jitmap_new();
    const char map[] = "0x100000 0x10 ok one\r\n"
                       "zz 10 bad hex\n"
                       "100100 0 zero size\n"
                       "100200 10\n"             /* no name */
                       "100300 10 nul\0inside\n" /* NUL byte */
                       "\n"
                       "1000 10 not executable\n"
                       "ffffffffffffffff 10 wraps\n"
                       "12345678901234567 10 too long\n"
                       "100400 10 partial";      /* no newline yet */
    jitmap_stats st = { 0 };
    size_t len = sizeof map - 1;
    size_t used = jitmap_parse_perfmap(m, map, len, 0, only_high, NULL, &st);
    CHECKF(st.entries == 1, "one good entry (got %llu)", (unsigned long long)st.entries);
    CHECKF(st.malformed == 6, "six malformed lines (got %llu)", (unsigned long long)st.malformed);
    CHECKF(st.outside == 1, "one outside executable memory");
    CHECKF(used == len - strlen("100400 10 partial"), "partial line left for later");
    CHECKF(name_is(m, 0x100005, 0, "ok one"), "CRLF stripped, 0x accepted");
    jitmap_free(m);
}

static void test_big_map_speed(void)
{
    enum { N = 1000000 };
    size_t cap = (size_t)N * 48, len = 0;
    char *buf = malloc(cap);
    for (int i = 0; i < N; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%x 40 JS:*fn%d /app/x.js:%d\n",
                                0x40000000 + i * 0x40, i, i);
    jitmap *m = jitmap_new();
    jitmap_stats st = { 0 };
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    jitmap_parse_perfmap(m, buf, len, 0, NULL, NULL, &st);
    const char *n = jitmap_lookup(m, 0x40000000 + 777 * 0x40 + 3, 0);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    CHECKF(st.entries == N && n && strcmp(n, "JS:*fn777 /app/x.js:777") == 0, "1M-line map");
    printf("jitmap: 1M-line perf map parsed and indexed in %.3f s\n", s);
    jitmap_free(m);
    free(buf);
}

int main(void)
{
    test_reuse();
    test_kill();
    test_malformed();
    test_big_map_speed();
    return check_status("test_jitmap");
}
