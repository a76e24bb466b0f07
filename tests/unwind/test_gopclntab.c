/* test_gopclntab.c - Go's function table (util/gopclntab.h) on a table built here in
 * Go 1.18+'s layout: exact frame sizes at every pc of two functions, nothing outside them,
 * a root (TOPFRAME) and a stack switcher (SPWRITE) told apart, names by pc and pcs by name,
 * headers of other versions refused; then the same table corrupted at random, byte by byte
 * and by truncation, looked up everywhere: answers or refusals, never a read outside it
 * (the buffer is malloc'd to the byte: ASan, in the sanitized run, sees any). */
#include "gopclntab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

enum { TEXT = 0x401000, PCTAB = 128, FUNCTAB = 192, F1 = 72, NAMES = 320, LEN = 352 };

static void put32(uint8_t *b, size_t off, uint32_t v)
{
    memcpy(b + off, &v, 4);
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    memcpy(b + off, &v, 8);
}

/* Two functions: f0 at text+0 (0x100 bytes): frame 0 for 4 bytes, 0x18 up to 0xf0, 0 to
 * its end; f1 at text+0x100 (0x80 bytes): frame 0x200 from byte 0 (a 2-byte varint). */
static void build(uint8_t *b, uint32_t magic)
{
    memset(b, 0, LEN);
    put32(b, 0, magic);
    b[6] = 1; /* pc quantum */
    b[7] = 8; /* pointer size */
    put64(b, 8, 2);     /* nfunc */
    put64(b, 24, TEXT); /* textStart */
    put64(b, 32, NAMES); /* funcnameOffset */
    memcpy(b + NAMES, "main.f0\0main.(*T).f1\0", 22);
    put64(b, 56, PCTAB);
    put64(b, 64, FUNCTAB);
    /* pcsp tables: (value delta zig-zag, pc delta) pairs from value -1, ending in 0 */
    static const uint8_t f0[] = { 2, 4, 0x30, 0xec, 0x01, 0x2f, 0x10, 0 };
    static const uint8_t f1[] = { 0x82, 0x08, 0x80, 0x01, 0 };
    memcpy(b + PCTAB + 1, f0, sizeof f0);
    memcpy(b + PCTAB + 16, f1, sizeof f1);
    /* function table: (entry offset, record offset from FUNCTAB), then the end */
    put32(b, FUNCTAB + 0, 0);
    put32(b, FUNCTAB + 4, 24);
    put32(b, FUNCTAB + 8, 0x100);
    put32(b, FUNCTAB + 12, F1);
    put32(b, FUNCTAB + 16, 0x180);
    /* records: entry offset at 0, pcsp offset at 16, flags at 37 (41 from Go 1.20) */
    put32(b, FUNCTAB + 24, 0);
    put32(b, FUNCTAB + 24 + 4, 0); /* name: "main.f0" */
    put32(b, FUNCTAB + 24 + 16, 1);
    put32(b, FUNCTAB + F1, 0x100);
    put32(b, FUNCTAB + F1 + 4, 8);
    put32(b, FUNCTAB + F1 + 16, 16);
}

/* f1's flag byte in a table of magic magic. */
static uint8_t *f1_flag(uint8_t *b, uint32_t magic)
{
    return b + FUNCTAB + F1 + (magic == 0xfffffff0u ? 37 : 41);
}

/* The frame size at pc; -1: unknown; -2: a root. */
static long size_at(const util_gopclntab *t, uint64_t pc)
{
    uint32_t s;
    util_gopclntab_answer a = util_gopclntab_frame(t, pc, &s);
    return a == UTIL_GOPCLNTAB_FRAME ? (long)s : a == UTIL_GOPCLNTAB_TOP ? -2 : -1;
}

/* Names by pc and pcs by name (golang.c and symbolize/gonames.c). */
static void test_names(void)
{
    uint8_t *b = malloc(LEN);
    build(b, 0xfffffff1u);
    util_gopclntab t;
    CHECK(util_gopclntab_init(&t, b, LEN, 0));
    uint64_t lo = 0, hi = 0, addr = 0, size = 0;
    const char *n = util_gopclntab_name_at(&t, TEXT + 5, &lo, &hi);
    CHECK(n && !strcmp(n, "main.f0") && lo == TEXT && hi == TEXT + 0x100);
    n = util_gopclntab_name_at(&t, TEXT + 0x17f, &lo, &hi);
    CHECK(n && !strcmp(n, "main.(*T).f1") && lo == TEXT + 0x100 && hi == TEXT + 0x180);
    CHECK(!util_gopclntab_name_at(&t, TEXT + 0x180, &lo, &hi));
    CHECK(!util_gopclntab_name_at(&t, TEXT - 1, &lo, &hi));
    CHECK(util_gopclntab_find(&t, "main.(*T).f1", &addr, &size) && addr == TEXT + 0x100 &&
          size == 0x80);
    CHECK(!util_gopclntab_find(&t, "main.f", &addr, &size));
    /* A text start given (a position-independent program's table, read from its file). */
    CHECK(util_gopclntab_init(&t, b, LEN, 0x1000) &&
          util_gopclntab_find(&t, "main.f0", &addr, &size) && addr == 0x1000);
    /* A name offset past the end, and a name with no NUL before the end: no name. */
    CHECK(util_gopclntab_init(&t, b, LEN, 0));
    put32(b, FUNCTAB + F1 + 4, LEN);
    CHECK(!util_gopclntab_name_at(&t, TEXT + 0x100, &lo, &hi));
    memset(b + NAMES + 8, 'x', LEN - NAMES - 8);
    put32(b, FUNCTAB + F1 + 4, 8);
    CHECK(!util_gopclntab_name_at(&t, TEXT + 0x100, &lo, &hi));
    CHECK(!util_gopclntab_find(&t, "main.(*T).f1", &addr, &size));
    free(b);
}

/* A table found inside other data (a position-independent program's .data.rel.ro): a
 * false start (the magic, then nonsense) skipped, the real one found, none in plain data. */
static void test_scan(void)
{
    enum { BEFORE = 512 };
    uint8_t *b = calloc(1, BEFORE + LEN);
    memset(b, 0xab, BEFORE);
    memcpy(b + 64, "\xf1\xff\xff\xff\0\0\x01\x08", 8); /* a header that reads wrong */
    build(b + BEFORE, 0xfffffff0u);
    util_gopclntab t;
    CHECK(util_gopclntab_scan(&t, b, BEFORE + LEN, 0) && t.base == b + BEFORE &&
          size_at(&t, TEXT + 4) == 0x18);
    CHECK(util_gopclntab_scan(&t, b, BEFORE + LEN, 0x2000) && t.text == 0x2000);
    CHECK(!util_gopclntab_scan(&t, b, BEFORE, 0) && t.base == NULL);
    CHECK(!util_gopclntab_scan(&t, NULL, 0, 0));
    free(b);
}

static void test_exact(void)
{
    uint8_t *b = malloc(LEN);
    util_gopclntab t;
    static const uint32_t magics[] = { 0xfffffff0u, 0xfffffff1u };
    for (size_t m = 0; m < 2; m++) {
        build(b, magics[m]);
        CHECKF(util_gopclntab_init(&t, b, LEN, 0), "magic %#x: header accepted", magics[m]);
        struct { uint64_t pc; long want; } cases[] = {
            { TEXT - 1, -1 },       { TEXT, 0 },          { TEXT + 3, 0 },
            { TEXT + 4, 0x18 },     { TEXT + 0xef, 0x18 }, { TEXT + 0xf0, 0 },
            { TEXT + 0xff, 0 },     { TEXT + 0x100, 0x200 }, { TEXT + 0x17f, 0x200 },
            { TEXT + 0x180, -1 },   { 0, -1 },            { UINT64_MAX, -1 },
        };
        /* Go's bucket index of the functions (one 4 KB bucket: f0 from subbucket 0, f1
         * from 1), right, then wrong in every way: the answers must not change. */
        uint8_t buckets[20] = { 0 };
        static const uint8_t wrong[][2] = { { 0, 0 }, { 0, 1 }, { 1, 1 }, { 1, 0 }, { 0, 200 } };
        static const uint32_t wrong_idx[] = { 0, 0, 0, 7, 1u << 31 };
        for (int v = -2; v < 5; v++) {
            if (v == -2) {
                util_gopclntab_set_buckets(&t, NULL, 0);
            } else {
                memset(buckets, 0, sizeof buckets);
                uint32_t idx = v < 0 ? 0 : wrong_idx[v];
                memcpy(buckets, &idx, 4);
                buckets[4 + 1] = v < 0 ? 1 : wrong[v][1];
                buckets[4 + 0] = v < 0 ? 0 : wrong[v][0];
                util_gopclntab_set_buckets(&t, buckets, v == 4 ? 19 : sizeof buckets);
            }
            for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
                CHECKF(size_at(&t, cases[i].pc) == cases[i].want,
                       "index %d: frame at text%+lld: %ld, want %ld", v,
                       (long long)(cases[i].pc - TEXT), size_at(&t, cases[i].pc),
                       cases[i].want);
        }
        util_gopclntab_set_buckets(&t, NULL, 0);
        *f1_flag(b, magics[m]) = 1; /* TOPFRAME: a root, wherever in it */
        CHECK(size_at(&t, TEXT + 0x100) == -2 && size_at(&t, TEXT + 0x17f) == -2);
        CHECK(size_at(&t, TEXT + 4) == 0x18); /* f0 unchanged */
        *f1_flag(b, magics[m]) = 2; /* SPWRITE: its table describes another stack */
        CHECK(size_at(&t, TEXT + 0x100) == -1);
        *f1_flag(b, magics[m]) = 4; /* ASM alone: nothing special */
        CHECK(size_at(&t, TEXT + 0x100) == 0x200);
    }
    static const uint32_t refused[] = { 0xfffffffau, 0xfffffffbu, 0xfffffff2u, 0 };
    for (size_t m = 0; m < sizeof refused / sizeof *refused; m++) {
        build(b, refused[m]);
        CHECKF(!util_gopclntab_init(&t, b, LEN, 0), "magic %#x refused", refused[m]);
    }
    build(b, 0xfffffff0u);
    b[7] = 4;
    CHECK(!util_gopclntab_init(&t, b, LEN, 0)); /* 4-byte pointers */
    build(b, 0xfffffff0u);
    CHECK(!util_gopclntab_init(&t, b, 71, 0)); /* shorter than a header */
    CHECK(!util_gopclntab_init(&t, NULL, LEN, 0));
    put64(b, 8, 40); /* 40 functions: the table would run past the end */
    CHECK(!util_gopclntab_init(&t, b, LEN, 0));
    /* A record that names another entry than its table slot: no answer. */
    build(b, 0xfffffff0u);
    put32(b, FUNCTAB + F1, 0x104);
    CHECK(util_gopclntab_init(&t, b, LEN, 0) && size_at(&t, TEXT + 0x100) == -1);
    free(b);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bytes changed (anywhere, header included) and random lengths: every pc of the
 * text and around it looked up. Only the bounds matter here: no crash, no stray read. */
static void test_corrupt(void)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    size_t answered = 0, lookups = 0;
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = iter % 3 ? LEN : (size_t)(xorshift(&rng) % LEN) + 1;
        uint8_t *b = malloc(len);
        uint8_t full[LEN];
        build(full, iter & 1 ? 0xfffffff1u : 0xfffffff0u);
        int flips = 1 + (int)(xorshift(&rng) % 6);
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)(xorshift(&rng) % LEN);
            full[at] = (uint8_t)xorshift(&rng);
        }
        memcpy(b, full, len);
        util_gopclntab t;
        if (util_gopclntab_init(&t, b, len, 0))
            for (uint64_t pc = TEXT - 8; pc < TEXT + 0x190; pc += 3) {
                uint64_t lo, hi;
                const char *n = util_gopclntab_name_at(&t, pc, &lo, &hi);
                answered += size_at(&t, pc) >= 0;
                lookups++;
                CHECK(!n || strlen(n) < 4096);
            }
        if (t.base) { /* a table accepted: find walks all of it */
            uint64_t addr, size;
            util_gopclntab_find(&t, "main.f0", &addr, &size);
        }
        free(b);
    }
    fprintf(stderr, "# corrupt tables: %zu lookups, %zu answered\n", lookups, answered);
    CHECK(lookups > 0);
}

int main(void)
{
    test_exact();
    test_names();
    test_scan();
    test_corrupt();
    return check_status("test_gopclntab");
}
