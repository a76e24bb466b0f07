/* test_folded.c - folded stacks: parse, merge, sort, write, sanitize. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "folded.h"

typedef struct errors {
    size_t line[16];
    const char *why[16];
    size_t n;
} errors;

static void on_error(void *ctx, size_t line_no, const char *why)
{
    errors *e = ctx;
    if (e->n < 16) {
        e->line[e->n] = line_no;
        e->why[e->n] = why;
    }
    e->n++;
}

/* Parses len bytes of text (NULs allowed) into p. */
static long parse_mem(const char *text, size_t len, folded_profile *p, errors *e)
{
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f)
        return -2;
    long rc = folded_parse(f, p, e ? on_error : NULL, e);
    fclose(f);
    return rc;
}

/* folded_write output as a malloc'd string. */
static char *write_mem(const folded_profile *p)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = folded_write(p, f);
    fclose(f);
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void test_round_trip(void)
{
    /* Unsorted, duplicated, CRLF, trailing blanks, blank lines, several blanks before the
     * count, a frame with spaces in it: count is what follows the last space. */
    static const char in[] = "main;work;leaf 3\n"
                             "\n"
                             "main;idle 2\r\n"
                             "main;work;leaf 4   \n"
                             "   \t \n"
                             "main;operator new(unsigned long) 5\n"
                             "main 1\n"
                             "main;idle    6\n"
                             "main;work 7"; /* no final newline */
    folded_profile p;
    folded_init(&p);
    errors e = { 0 };
    CHECK(parse_mem(in, sizeof(in) - 1, &p, &e) == 0);
    CHECK(e.n == 0);
    CHECK(p.len == 5);
    CHECK(p.total == 28);
    char *out = write_mem(&p);
    CHECK_STR(out, "main 1\n"
                   "main;idle 8\n"
                   "main;operator new(unsigned long) 5\n"
                   "main;work 7\n"
                   "main;work;leaf 7\n");
    /* Writing and parsing again gives the same profile, byte for byte. */
    folded_profile q;
    folded_init(&q);
    CHECK(out && parse_mem(out, strlen(out), &q, &e) == 0);
    char *again = write_mem(&q);
    CHECK_STR(again, out ? out : "");
    free(out);
    free(again);
    folded_free(&p);
    folded_free(&q);
    CHECK(p.len == 0 && p.entries == NULL && p.total == 0);
}

static void test_malformed(void)
{
    static const char in[] = "ok;one 1\n"                  /* 1 */
                             "no_count\n"                  /* 2 */
                             "neg -5\n"                    /* 3 */
                             "\n"                          /* 4: blank, ignored */
                             "zero 0\n"                    /* 5 */
                             "frac 1.5\n"                  /* 6 */
                             "big 18446744073709551616\n"  /* 7: 2^64 */
                             " 42\n"                       /* 8: empty stack */
                             "letters 12ab\n"              /* 9 */
                             "ok;two 2\r\n"                /* 10 */
                             "max 18446744073709551615\n"  /* 11: 2^64-1 would overflow total */
                             "trailing 3 \n";              /* 12: fine */
    folded_profile p;
    folded_init(&p);
    errors e = { 0 };
    CHECK(parse_mem(in, sizeof(in) - 1, &p, &e) == 8);
    static const size_t want[] = { 2, 3, 5, 6, 7, 8, 9, 11 };
    CHECK(e.n == 8);
    for (size_t i = 0; i < 8 && i < e.n; i++) {
        if (e.line[i] != want[i])
            fprintf(stderr, "  error %zu: line %zu, want %zu (%s)\n", i, e.line[i], want[i],
                    e.why[i]);
        CHECK(e.line[i] == want[i]);
    }
    CHECK(e.n == 8 && strstr(e.why[0], "missing count"));
    CHECK(e.n == 8 && strstr(e.why[4], "64 bits"));
    CHECK(e.n == 8 && strstr(e.why[5], "empty stack"));
    CHECK(e.n == 8 && strstr(e.why[7], "overflow"));
    char *out = write_mem(&p);
    CHECK_STR(out, "ok;one 1\nok;two 2\ntrailing 3\n");
    free(out);
    /* on_error may be NULL. */
    folded_free(&p);
    CHECK(parse_mem(in, sizeof(in) - 1, &p, NULL) == 8);
    folded_free(&p);
}

static void test_biggest_count(void)
{
    static const char in[] = "a 18446744073709551615\n";
    folded_profile p;
    folded_init(&p);
    CHECK(parse_mem(in, sizeof(in) - 1, &p, NULL) == 0);
    CHECK(p.len == 1 && p.entries[0].count == UINT64_MAX && p.total == UINT64_MAX);
    /* Merging saturates instead of wrapping around to a small number. */
    CHECK(folded_add(&p, "a", 1, 5) == 0);
    folded_finish(&p);
    CHECK(p.len == 1 && p.entries[0].count == UINT64_MAX && p.total == UINT64_MAX);
    folded_free(&p);
}

static void test_hostile_bytes(void)
{
    /* A NUL inside a stack becomes '?' (it would cut the C string short); invalid UTF-8
     * and control characters are kept as they are: the folded file stays faithful and
     * renderers escape them. */
    static const char in[] = "a\0b;c 2\n"
                             "x\xff\xfe;\x01y 3\n";
    folded_profile p;
    folded_init(&p);
    CHECK(parse_mem(in, sizeof(in) - 1, &p, NULL) == 0);
    CHECK(p.len == 2);
    if (p.len == 2) {
        CHECK_STR(p.entries[0].stack, "a?b;c");
        CHECK_STR(p.entries[1].stack, "x\xff\xfe;\x01y");
    }
    folded_free(&p);

    /* A line far longer than any buffer: 1 MB frame name. */
    size_t n = 1 << 20;
    char *big = malloc(n + 16);
    memset(big, 'f', n);
    memcpy(big + n, ";g 9\nh 1\n", 9);
    CHECK(parse_mem(big, n + 9, &p, NULL) == 0);
    CHECK(p.len == 2 && strlen(p.entries[0].stack) == n + 2 && p.entries[0].count == 9);
    CHECK(p.len == 2 && strcmp(p.entries[1].stack, "h") == 0);
    free(big);
    folded_free(&p);
}

static void test_add_order_independent(void)
{
    static const char *const stacks[] = { "b;c", "a", "b", "a;z", "b;c", "a" };
    folded_profile p, q;
    folded_init(&p);
    folded_init(&q);
    for (size_t i = 0; i < 6; i++) {
        CHECK(folded_add(&p, stacks[i], strlen(stacks[i]), i + 1) == 0);
        CHECK(folded_add(&q, stacks[5 - i], strlen(stacks[5 - i]), 6 - i) == 0);
    }
    folded_finish(&p);
    folded_finish(&q);
    char *a = write_mem(&p), *b = write_mem(&q);
    CHECK_STR(a, "a 8\na;z 4\nb 3\nb;c 6\n");
    CHECK_STR(b, a ? a : "");
    CHECK(p.total == 21 && q.total == 21);
    /* Only len bytes are copied. */
    CHECK(folded_add(&p, "main;rest-ignored", 4, 1) == 0);
    CHECK(strcmp(p.entries[p.len - 1].stack, "main") == 0);
    free(a);
    free(b);
    folded_free(&p);
    folded_free(&q);
}

static void test_write_error(void)
{
    FILE *f = fopen("/dev/full", "w");
    if (!f) {
        fprintf(stderr, "test_write_error: no /dev/full, skipped\n");
        return;
    }
    folded_profile p;
    folded_init(&p);
    for (int i = 0; i < 1000; i++) /* more than one stdio buffer */
        CHECK(folded_add(&p, "some;rather;long;stack;of;frames", 32, 1) == 0);
    CHECK(folded_write(&p, f) == -1);
    fclose(f);
    folded_free(&p);
}

static void test_sanitize(void)
{
    char buf[64];
    CHECK(folded_sanitize_frame("a;b", buf, sizeof(buf)) == 3);
    CHECK_STR(buf, "a:b");
    CHECK(folded_sanitize_frame("new\nline\ttab\x7f\x01", buf, sizeof(buf)) == 14);
    CHECK_STR(buf, "new?line?tab??");
    CHECK(folded_sanitize_frame("", buf, sizeof(buf)) == 9);
    CHECK_STR(buf, "[unknown]");
    CHECK(folded_sanitize_frame(NULL, buf, sizeof(buf)) == 9);
    CHECK_STR(buf, "[unknown]");
    /* Spaces and UTF-8 are kept; the count is after the last space anyway. */
    CHECK(folded_sanitize_frame("operator new(unsigned long) \xc3\xa9", buf, sizeof(buf)) == 30);
    CHECK_STR(buf, "operator new(unsigned long) \xc3\xa9");
    /* Truncation always terminates and never splits a UTF-8 character. */
    CHECK(folded_sanitize_frame("abcdef", buf, 4) == 3);
    CHECK_STR(buf, "abc");
    CHECK(folded_sanitize_frame("ab\xc3\xa9", buf, 4) == 2); /* 'é' would be cut in half */
    CHECK_STR(buf, "ab");
    CHECK(folded_sanitize_frame("a\xe2\x82\xac", buf, 4) == 1); /* so would the euro sign */
    CHECK_STR(buf, "a");
    CHECK(folded_sanitize_frame("a\xe2\x82\xac", buf, 5) == 4);
    CHECK_STR(buf, "a\xe2\x82\xac");
    CHECK(folded_sanitize_frame("abc", buf, 1) == 0);
    CHECK_STR(buf, "");
    buf[0] = 'x';
    CHECK(folded_sanitize_frame("abc", buf, 0) == 0);
    CHECK(buf[0] == 'x');
}

int main(void)
{
    test_round_trip();
    test_malformed();
    test_biggest_count();
    test_hostile_bytes();
    test_add_order_independent();
    test_write_error();
    test_sanitize();
    return check_status("test_folded");
}
