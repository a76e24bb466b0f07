/* test_procmaps.c - util/procmaps.h: lines as the kernel writes them, odd ones refused, and
 * this process's own maps against what it knows of itself (its code, its stack). */
#include "check.h"

#include <stdint.h>
#include <string.h>

#include "procmaps.h"

static void test_lines(void)
{
    util_mapping m;
    CHECK(util_procmaps_parse("7f1c2a400000-7f1c2a422000 r-xp 00028000 08:01 1234567    "
                              "          /usr/lib/x86_64-linux-gnu/libc.so.6",
                              &m));
    CHECK(m.lo == 0x7f1c2a400000u && m.hi == 0x7f1c2a422000u && m.offset == 0x28000 &&
          m.inode == 1234567);
    CHECK_STR(m.perms, "r-xp");
    CHECK_STR(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
    CHECK(util_procmaps_parse("55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0 "
                              "                         [heap]", &m));
    CHECK_STR(m.path, "[heap]");
    CHECK(m.inode == 0);
    CHECK(util_procmaps_parse("7f0000000000-7f0000001000 ---p 00000000 00:00 0", &m));
    CHECK_STR(m.path, "");
    CHECK_STR(m.perms, "---p");
    CHECK(util_procmaps_parse("1000-2000 r--s 0001f000 fd:03 42 /tmp/a b (deleted)", &m));
    CHECK_STR(m.path, "/tmp/a b (deleted)");
    CHECK(m.offset == 0x1f000 && m.inode == 42);
    CHECK(util_procmaps_parse("FFFFFFFFFF600000-FFFFFFFFFF601000 --xp 00000000 00:00 0  [vsyscall]",
                              &m) && m.lo == 0xffffffffff600000u);
    const char *bad[] = { "", "zz-1000 r--p 0 00:00 0", "1000 r--p 0 00:00 0",
                          "1000-2000 r-p 0 00:00 0", "1000-2000 r--p 00:00 0",
                          "1000-2000 r--p 0 0000 0", "1000-2000 r--p 0 00:00 x",
                          "1000-2000" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(!util_procmaps_parse(bad[i], &m), "accepted \"%s\"", bad[i]);
}

typedef struct seen {
    uint64_t code, stack;
    int code_maps, stack_maps, lines;
    uint64_t last_lo;
    int out_of_order;
} seen;

static bool on_map(void *ctx, const util_mapping *m)
{
    seen *s = ctx;
    s->lines++;
    s->out_of_order += m->lo < s->last_lo;
    s->last_lo = m->lo;
    if (m->lo <= s->code && s->code < m->hi)
        s->code_maps += m->perms[0] == 'r' && m->perms[2] == 'x' && m->inode != 0 &&
                        strstr(m->path, "test_procmaps") != NULL;
    if (m->lo <= s->stack && s->stack < m->hi)
        s->stack_maps += m->perms[1] == 'w' && strcmp(m->path, "[stack]") == 0;
    return true;
}

static bool stop_at_first(void *ctx, const util_mapping *m)
{
    (void)m;
    ++*(int *)ctx;
    return false;
}

int main(void)
{
    test_lines();
    int local = 0;
    seen s = { (uint64_t)(uintptr_t)&test_lines, (uint64_t)(uintptr_t)&local, 0, 0, 0, 0, 0 };
    CHECK(util_procmaps_each(on_map, &s));
    CHECKF(s.lines > 5 && s.out_of_order == 0, "%d lines, %d out of order", s.lines,
           s.out_of_order);
    CHECKF(s.code_maps == 1, "our code in an r-x mapping of this program: %d", s.code_maps);
    CHECKF(s.stack_maps == 1, "our stack in the rw [stack] mapping: %d", s.stack_maps);
    int calls = 0;
    CHECK(util_procmaps_each(stop_at_first, &calls) && calls == 1);
    return check_status("test_procmaps");
}
