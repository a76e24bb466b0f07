/* test_jvmframes.c - interpreted and inlined Java frames: methods known only by
 * registration, named once when wanted; inline scopes by pc and by code generation. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "jvmframes.h"

static int named(jvmframes *f, uint64_t m, const char *want)
{
    char buf[64];
    bool got = jvmframes_name(f, m, buf, sizeof buf);
    return want ? got && strcmp(buf, want) == 0 : !got;
}

static void test_methods(void)
{
    jvmframes *f = jvmframes_new();
    CHECKF(!jvmframes_want(f, 0x7000), "an unregistered value is no method");
    for (uint64_t m = 0x10000; m < 0x10000 + 8 * 20000; m += 8) /* past a rehash or two */
        jvmframes_add_method(f, m, m + 1);
    CHECKF(jvmframes_want(f, 0x10008) && jvmframes_want(f, 0x10010), "registered: wanted");
    CHECKF(jvmframes_want(f, 0x10008), "wanted twice: still known");
    uint64_t ms[8], ids[8];
    size_t n = jvmframes_take_wanted(f, ms, ids, 8);
    CHECKF(n == 2 && ms[0] == 0x10008 && ids[0] == 0x10009 && ms[1] == 0x10010,
           "queued once each, oldest first (got %zu)", n);
    CHECKF(jvmframes_take_wanted(f, ms, ids, 8) == 0, "queue drained");
    jvmframes_set_name(f, 0x10008, "a.B.c(int)", 10);
    CHECKF(named(f, 0x10008, "a.B.c(int)") && named(f, 0x10010, NULL), "names as set");
    jvmframes_want(f, 0x10008);
    CHECKF(jvmframes_take_wanted(f, ms, ids, 8) == 0, "a named method is never queued");
    jvmframes_add_method(f, 0x10008, 0x10009);
    CHECKF(named(f, 0x10008, "a.B.c(int)"), "registered again, same id: name kept");
    jvmframes_add_method(f, 0x10008, 0x99);
    uint64_t id = 0;
    CHECKF(named(f, 0x10008, NULL) && jvmframes_needs_name(f, 0x10008, &id) && id == 0x99,
           "another method at a reused address: old name gone");
    jvmframes_set_name(f, 0x7000, "x", 1);
    CHECKF(named(f, 0x7000, NULL), "no name for what was never registered");
    jvmframes_free(f);
}

static void test_inlining(void)
{
    jvmframes *f = jvmframes_new();
    const uint64_t ab[] = { 0xa, 0xb }, c[] = { 0xc };
    /* Scopes in any order; 0x1040 has nothing inlined; one pc outside the code is ignored. */
    jvmframes_scope s1[] = { { 0x1080, c, 1 }, { 0x1020, ab, 2 }, { 0x1040, NULL, 0 },
                             { 0x5000, c, 1 } };
    CHECK(jvmframes_add_code(f, 0x1000, 0x100, 3, s1, 4) == 0);
    uint64_t out[4];
    CHECKF(jvmframes_inlined(f, 0x1020, 3, out, 4) == 2 && out[0] == 0xa && out[1] == 0xb,
           "a return address: its own scope, outermost first");
    CHECKF(jvmframes_inlined(f, 0x1011, 3, out, 4) == 2, "a pc before a scope: the next one");
    CHECKF(jvmframes_inlined(f, 0x1030, 3, out, 4) == 0, "the next scope inlines nothing");
    CHECKF(jvmframes_inlined(f, 0x1050, 9, out, 4) == 1 && out[0] == 0xc, "later generation");
    CHECKF(jvmframes_inlined(f, 0x1090, 3, out, 4) == 0, "past the last scope");
    CHECKF(jvmframes_inlined(f, 0x2000, 3, out, 4) == 0, "outside any code");
    CHECKF(jvmframes_inlined(f, 0x1020, 3, out, 1) == 1 && out[0] == 0xa, "cut at max");
    /* The memory is reused by other code in generation 5. */
    jvmframes_scope s2[] = { { 0x1020, c, 1 } };
    CHECK(jvmframes_add_code(f, 0x1000, 0x40, 5, s2, 1) == 0);
    CHECKF(jvmframes_inlined(f, 0x1020, 4, out, 4) == 2 && out[0] == 0xa,
           "a sample from before the reuse: the old code's scopes");
    CHECKF(jvmframes_inlined(f, 0x1020, 6, out, 4) == 1 && out[0] == 0xc,
           "a sample after it: the new code's");
    CHECKF(jvmframes_inlined(f, 0x1020, 1, out, 4) == 2 && out[0] == 0xa,
           "a sample older than every load: the first load");
    CHECKF(jvmframes_inlined(f, 0x1050, 6, out, 4) == 1 && out[0] == 0xc,
           "beyond the new code: the old one still covers it");
    jvmframes_free(f);
}

int main(void)
{
    test_methods();
    test_inlining();
    return check_status("test_jvmframes");
}
