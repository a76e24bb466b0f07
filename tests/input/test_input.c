/* test_input.c - unit tests of input/: format detection, streams (lines across chunks,
 * gzip), the collector, and the perf script and pprof readers on hand-made inputs whose
 * every byte is known. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "collect.h"
#include "detect.h"
#include "perfscript.h"
#include "pprof_read.h"
#include "stream.h"

static void test_detect(void)
{
#define DETECT(s) input_detect((s), sizeof(s) - 1)
    CHECK(DETECT("main;a;b 3\nmain 1\n") == INPUT_FOLDED);
    CHECK(DETECT("prog 12 1.0: 1 cycles:\n\t    55d1 main+0x1 (/bin/prog)\n\n") ==
          INPUT_PERF_SCRIPT);
    CHECK(DETECT("# ========\n# captured on: x\n") == INPUT_PERF_SCRIPT);
    CHECK(DETECT("  {\"$schema\": \"https://www.speedscope.app/file-format-schema.json\"") ==
          INPUT_SPEEDSCOPE);
    CHECK(DETECT("{\"nodes\":[{\"id\":1") == INPUT_CPUPROFILE);
    CHECK(DETECT("{\"traceEvents\": []}") == INPUT_UNKNOWN);
    CHECK(DETECT("<module>;main 3\n") == INPUT_FOLDED); /* py-spy's roots */
    CHECK(DETECT("\x0a\x04\x08\x01\x10\x02\x32\x00") == INPUT_PPROF);
    CHECK(DETECT("\x48\xd7\xeb\xce\x90\x8c\x8a\xb2\xf7\x18\x0a\x04\x08\x01\x10\x02") ==
          INPUT_PPROF); /* Go's: time_nanos first */
    CHECK(DETECT("\x0a\x04\x08\x01\x10\x02\x12\x05") != INPUT_PPROF); /* cut short */
    CHECK(DETECT("x\x01;\x02 3\n(\x10 1\n") == INPUT_FOLDED); /* control bytes in names */
    CHECK(DETECT("\nmain;a 3\n") == INPUT_FOLDED);
    CHECK(DETECT("ab\0cd 1\n") == INPUT_FOLDED);
    CHECK(input_detect("", 0) == INPUT_FOLDED);
#undef DETECT
    CHECK(input_format_named("perf") == INPUT_PERF_SCRIPT);
    CHECK(input_format_named("nope") == INPUT_UNKNOWN);
    CHECK_STR(input_format_name(INPUT_PPROF), "pprof");
}

static void test_stream_lines(void)
{
    /* A line longer than the read-ahead chunk, a CR kept, a last line without '\n'. */
    size_t big = 700000, n = big + 64;
    char *data = malloc(n);
    memset(data, 'x', big);
    size_t len = big;
    len += (size_t)sprintf(data + len, "\nshort\r\n\nlast");
    input_stream s;
    CHECK(input_stream_mem(&s, data, len) == 0);
    const char *head;
    CHECK(input_stream_peek(&s, &head, 4) == 4 && memcmp(head, "xxxx", 4) == 0);
    char *line;
    size_t l;
    CHECK(input_stream_line(&s, &line, &l) == 1 && l == big && line[big - 1] == 'x');
    CHECK(input_stream_line(&s, &line, &l) == 1 && l == 6 && memcmp(line, "short\r", 6) == 0);
    CHECK(input_stream_line(&s, &line, &l) == 1 && l == 0);
    CHECK(input_stream_line(&s, &line, &l) == 1 && l == 4 && memcmp(line, "last", 4) == 0);
    CHECK(input_stream_line(&s, &line, &l) == 0);
    CHECK(s.line_no == 4);
    input_stream_close(&s);
    free(data);
}

static void test_stream_gzip(void)
{
    char path[] = "/tmp/flameprof-test-input-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    gzFile gz = gzdopen(dup(fd), "wb");
    for (int i = 0; i < 20000; i++)
        gzprintf(gz, "main;f%d %d\n", i % 7, i + 1);
    gzclose(gz);
    input_stream s;
    CHECK(input_stream_open(&s, path) == 0);
    char *line;
    size_t l, lines = 0;
    while (input_stream_line(&s, &line, &l) == 1)
        lines++;
    CHECK(lines == 20000 && s.err == 0);
    input_stream_close(&s);
    /* Corrupt gzip: an error, not a hang or garbage. */
    unsigned char bad[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff };
    CHECK(input_stream_mem(&s, bad, sizeof(bad)) == 0);
    while (input_stream_line(&s, &line, &l) == 1)
        ;
    CHECK(s.err != 0);
    input_stream_close(&s);
    close(fd);
    unlink(path);
}

typedef struct seen {
    char text[4096];
    size_t len;
    int errors;
} seen;

static int on_sample(void *ctx, const input_sample *s)
{
    seen *v = ctx;
    char t[64] = "-";
    if (s->time_ns != INPUT_NO_TIME)
        snprintf(t, sizeof(t), "%" PRId64, s->time_ns);
    v->len += (size_t)snprintf(v->text + v->len, sizeof(v->text) - v->len, "%s %" PRIu64 " %.*s\n",
                               t, s->weight, (int)s->len, s->stack);
    return 0;
}

static void on_error(void *ctx, size_t line_no, const char *why)
{
    (void)line_no;
    (void)why;
    ((seen *)ctx)->errors++;
}

static long read_perf(const char *text, const perfscript_opts *o, seen *v)
{
    memset(v, 0, sizeof(*v));
    input_stream s;
    input_stream_mem(&s, text, strlen(text));
    input_sink sink = { on_sample, on_error, v, v, NULL };
    long rc = perfscript_read(&s, o, &sink);
    input_stream_close(&s);
    return rc;
}

static void test_perfscript(void)
{
    perfscript_opts o = { 0 };
    seen v;
    /* Samples in input order with their times; the header's time in ns. */
    CHECK(read_perf("a b 12/13 [000] 1.000001:  5 cpu-clock: \n"
                    "\t 7f main+0x3 (/x)\n\t 7e _start (/x)\n\n"
                    "cc 4 2.5: 2 cpu-clock:\n\t 1 [unknown] (/lib/libz.so)\n\n", &o, &v) == 0);
    CHECK_STR(v.text, "1000001000 5 a_b;_start;main\n2500000000 2 cc;[libz.so]\n");
    /* --tid; no time stamp; a header without an event has weight 1 and no time. */
    o.tid = true;
    CHECK(read_perf("pp 7 x\n\t 1 f (/x)\n\n", &o, &v) == 0);
    CHECK_STR(v.text, "- 1 pp-?/7;f\n");
    /* A one-character name cannot match the script's (\S.+?): the header swallows more. */
    o.tid = false;
    CHECK(read_perf("c 4 2.5: 2 e:\n\t 1 f (/x)\n\n", &o, &v) == 0);
    CHECK_STR(v.text, "2500000000 2 c_4_2.5:;f\n");
    /* Line numbers: a bad line is counted and reported. */
    CHECK(read_perf("pp 7 1.0: 1 e:\n???\n\t 1 f (/x)\n\n", &o, &v) == 1 && v.errors == 1);
    CHECK_STR(v.text, "1000000000 1 pp;f\n");
}

/* ---- pprof by hand ---- */

typedef struct pb {
    unsigned char b[1024];
    size_t n;
} pb;

static void varint(pb *p, uint64_t v)
{
    do {
        p->b[p->n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}

static void field_v(pb *p, unsigned num, uint64_t v)
{
    varint(p, num << 3);
    varint(p, v);
}

static void field_b(pb *p, unsigned num, const void *s, size_t n)
{
    varint(p, num << 3 | 2);
    varint(p, n);
    memcpy(p->b + p->n, s, n);
    p->n += n;
}

static void test_pprof(void)
{
    pb prof = { .n = 0 }, m;
    const char *strs[] = { "", "samples", "count", "outer", "inner", "main" };
    for (size_t i = 0; i < 6; i++)
        field_b(&prof, 6, strs[i], strlen(strs[i]));
    m.n = 0; field_v(&m, 1, 1); field_v(&m, 2, 2); field_b(&prof, 1, m.b, m.n); /* samples/count */
    for (unsigned f = 1; f <= 3; f++) { /* functions 1..3: outer, inner, main */
        m.n = 0; field_v(&m, 1, f); field_v(&m, 2, f + 2); field_b(&prof, 5, m.b, m.n);
    }
    pb line1 = { .n = 0 }, line2 = { .n = 0 };
    field_v(&line1, 1, 2); /* inner, innermost first */
    field_v(&line2, 1, 1); /* outer */
    m.n = 0; field_v(&m, 1, 10); field_b(&m, 4, line1.b, line1.n); field_b(&m, 4, line2.b, line2.n);
    field_b(&prof, 4, m.b, m.n);
    pb line3 = { .n = 0 };
    field_v(&line3, 1, 3);
    m.n = 0; field_v(&m, 1, 20); field_b(&m, 4, line3.b, line3.n); field_b(&prof, 4, m.b, m.n);
    m.n = 0; field_v(&m, 1, 30); field_v(&m, 3, 0x1234); field_b(&prof, 4, m.b, m.n); /* no lines */
    /* samples: packed [10, 20] x7; unpacked 30, 20 x2; a missing location 99; a zero */
    pb ids = { .n = 0 };
    varint(&ids, 10); varint(&ids, 20);
    m.n = 0; field_b(&m, 1, ids.b, ids.n); field_v(&m, 2, 7); field_b(&prof, 2, m.b, m.n);
    m.n = 0; field_v(&m, 1, 30); field_v(&m, 1, 20); field_v(&m, 2, 2); field_b(&prof, 2, m.b, m.n);
    m.n = 0; field_v(&m, 1, 99); field_v(&m, 2, 1); field_b(&prof, 2, m.b, m.n);
    m.n = 0; field_v(&m, 1, 20); field_v(&m, 2, 0); field_b(&prof, 2, m.b, m.n);
    seen v;
    memset(&v, 0, sizeof(v));
    input_stream s;
    input_stream_mem(&s, prof.b, prof.n);
    input_sink sink = { on_sample, on_error, &v, &v, NULL };
    pprof_read_opts o = { NULL, NULL };
    CHECK(pprof_read(&s, &o, &sink) == 1 && v.errors == 1);
    input_stream_close(&s);
    CHECK_STR(v.text, "- 7 main;outer;inner_[i]\n- 2 main;0x1234\n");
    /* Cut anywhere: an error, or some of the samples and nothing else; never a crash. */
    const char *all = "- 7 main;outer;inner_[i]\n- 2 main;0x1234\n";
    for (size_t cut = 0; cut < prof.n; cut++) {
        memset(&v, 0, sizeof(v));
        input_stream_mem(&s, prof.b, cut);
        long rc = pprof_read(&s, &o, &sink);
        input_stream_close(&s);
        bool subset = true;
        for (char *ln = strtok(v.text, "\n"); ln; ln = strtok(NULL, "\n"))
            subset &= strstr(all, ln) != NULL;
        CHECKF(rc == -1 || subset, "cut %zu: rc %ld", cut, rc);
    }
}

static void test_collect(void)
{
    folded_profile p;
    folded_init(&p);
    folded_add(&p, "z;y", 3, 4); /* already there: merged by finish */
    input_collector c;
    input_sink sink;
    input_collect_init(&c, &p, &sink);
    input_sample a = { "a;b", 3, 2, 100 }, b = { "a;bc", 4, 5, 50 };
    input_sample z = { "z;y", 3, 1, INPUT_NO_TIME };
    sink.on_sample(sink.ctx, &a);
    sink.on_sample(sink.ctx, &b);
    sink.on_sample(sink.ctx, &a);
    sink.on_sample(sink.ctx, &z);
    CHECK(p.len == 4 && c.samples == 4 && c.first_ns == 50 && c.last_ns == 100);
    input_collect_finish(&c);
    CHECK(p.len == 3 && p.total == 14);
    CHECK_STR(p.entries[0].stack, "a;b");
    CHECK(p.entries[0].count == 4 && p.entries[1].count == 5 && p.entries[2].count == 5);
    folded_free(&p);
}

int main(void)
{
    test_detect();
    test_stream_lines();
    test_stream_gzip();
    test_perfscript();
    test_pprof();
    test_collect();
    return check_status("input");
}
