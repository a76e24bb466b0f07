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
#include "cpuprofile.h"
#include "detect.h"
#include "perfscript.h"
#include "pprof_read.h"
#include "speedscope_read.h"
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
    char err[4096];  /* "LINE: why" per error */
    size_t elen;
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
    seen *v = ctx;
    v->errors++;
    v->elen += (size_t)snprintf(v->err + v->elen, sizeof(v->err) - v->elen, "%zu: %s\n",
                                line_no, why);
    if (v->elen >= sizeof(v->err))
        v->elen = sizeof(v->err) - 1;
}

static long read_perf(const char *text, const perfscript_opts *o, seen *v)
{
    memset(v, 0, sizeof(*v));
    input_stream s;
    input_stream_mem(&s, text, strlen(text));
    input_sink sink = { on_sample, on_error, v, v, NULL, false };
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
    input_sink sink = { on_sample, on_error, &v, &v, NULL, false };
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

/* ---- the JSON readers by hand ---- */

static long read_json(input_format f, const char *text, size_t n, bool untimed, seen *v)
{
    memset(v, 0, sizeof(*v));
    input_stream s;
    input_stream_mem(&s, text, n);
    input_sink sink = { on_sample, on_error, v, v, NULL, untimed };
    long rc = f == INPUT_CPUPROFILE ? cpuprofile_read(&s, &sink) : speedscope_read(&s, &sink);
    input_stream_close(&s);
    return rc;
}
#define READ_JSON(f, text, untimed, v) read_json((f), (text), strlen(text), (untimed), (v))
#define HAS_ERR(v, s) CHECKF(strstr((v).err, (s)) != NULL, "want \"%s\" in:\n%s", (s), (v).err)

/* A profile as node --cpu-prof writes it: nodes first, then the samples, then the deltas. */
static const char v8_doc[] =
    "{\"nodes\": [{\"id\": 1, \"callFrame\": {\"functionName\": \"(root)\"}, \"children\": [2]},\n"
    " {\"id\": 2, \"callFrame\": {\"functionName\": \"main\", \"url\": \"file:///a.js\", "
    "\"lineNumber\": 4}, \"children\": [3, 4]},\n"
    " {\"id\": 3, \"callFrame\": {\"functionName\": \"\", \"url\": \"u;v\"}},\n"
    " {\"id\": 4, \"callFrame\": {\"functionName\": \"(garbage collector)\"}}],\n"
    " \"startTime\": 100, \"endTime\": 200, \"samples\": [3, 4, 3, 1], \"timeDeltas\": [5, 1, 2, 3]}";

static void test_cpuprofile(void)
{
    seen v;
    CHECK(READ_JSON(INPUT_CPUPROFILE, v8_doc, false, &v) == 0 && v.errors == 0);
    CHECK_STR(v.text, "105000 1 main file:///a.js:5;(anonymous) u:v\n"
                      "106000 1 main file:///a.js:5;(garbage collector)\n"
                      "108000 1 main file:///a.js:5;(anonymous) u:v\n"
                      "111000 1 (root)\n");
    /* A merging sink: one sample per node, counted, no times. */
    CHECK(READ_JSON(INPUT_CPUPROFILE, v8_doc, true, &v) == 0);
    CHECK_STR(v.text, "- 2 main file:///a.js:5;(anonymous) u:v\n"
                      "- 1 main file:///a.js:5;(garbage collector)\n- 1 (root)\n");
    /* Any key order: deltas, samples and startTime before the nodes, inside "profile". */
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"profile\": {\"timeDeltas\": [1, 1], \"samples\": [2, 1],"
                    " \"startTime\": 0, \"nodes\": [{\"children\": [2], \"id\": 1, \"callFrame\":"
                    " {\"functionName\": \"(root)\"}}, {\"callFrame\": {\"functionName\": \"f\"}, "
                    "\"id\": 2}]}}", false, &v) == 0);
    CHECK_STR(v.text, "1000 1 f\n2000 1 (root)\n");
    /* Hit counts when there are no samples. */
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": 1, \"hitCount\": 3, \"callFrame\":"
                    " {\"functionName\": \"g\"}}]}", true, &v) == 0);
    CHECK_STR(v.text, "- 3 g\n");

    /* Malformed: one clear error with its line, never a crash or a wrong graph. */
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [\n{\"id\": 1,\n \"callFrame\": {", false, &v) == -1);
    HAS_ERR(v, "3: JSON: parse error: premature EOF (column 16");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": \"x\"}", false, &v) == -1);
    HAS_ERR(v, "1: cpuprofile: \"nodes\" is a string, not an array: not read (column 14)");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": \"1\"}]}", false, &v) == -1);
    HAS_ERR(v, "nodes[0].id is a string, not an integer");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": 99999999999999999999}]}", false, &v) == -1);
    HAS_ERR(v, "nodes[0].id is a number, not an integer");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "[1, 2]", false, &v) == -1);
    HAS_ERR(v, "the document is an array, not an object");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"samples\": [1]}", false, &v) == -1);
    HAS_ERR(v, "no \"nodes\" array");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [], \"nodes\": []}", false, &v) == -1);
    HAS_ERR(v, "the key \"nodes\" twice in one object");
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": 1}, {\"id\": 1}]}", false, &v) == -1);
    HAS_ERR(v, "a second node with id 1: not read (column 24)");
    /* Huge numbers and wrong types in samples and deltas: those samples skipped, said. */
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": 1, \"callFrame\": {\"functionName\": \"f\"}}],\n"
                    "\"samples\": [1, 1e999, 123456789012345678901234567890, \"1\", 1],"
                    " \"startTime\": 9223372036854775807, \"timeDeltas\": [1, 1, 1, 1, 1]}",
                    false, &v) == 3);
    HAS_ERR(v, "2: cpuprofile: samples[1] is a number, not a node id; skipped (column 21)");
    HAS_ERR(v, "samples[3] is a string");
    CHECK_STR(v.text, "- 1 f\n- 1 f\n"); /* startTime + deltas overflow: no times */
    /* Ids that point nowhere; children that do; a cycle. */
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": 1, \"children\": [7, 1, \"x\"]},\n"
                    "{\"id\": 2, \"children\": [3]}, {\"id\": 3, \"children\": [2]}],\n"
                    "\"samples\": [1, 9, 9, 2]}", true, &v) == 6);
    HAS_ERR(v, "1: cpuprofile: child 7 of node 1: no such node; ignored");
    HAS_ERR(v, "child 1 of node 1: the node itself");
    HAS_ERR(v, "nodes[0].children[2] is a string, not a node id");
    HAS_ERR(v, "3: cpuprofile: samples name node 9, which is not in nodes: 2 samples skipped");
    HAS_ERR(v, "node 2: its parents form a cycle");
    CHECK_STR(v.text, "- 1 (anonymous)\n");
    /* Nesting deeper than any profile: refused, not a stack overflow or a huge stack. */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 32);
    if (!deep)
        abort();
    size_t n = (size_t)sprintf(deep, "{\"x\": ");
    memset(deep + n, '[', depth);
    memset(deep + n + depth, ']', depth);
    strcpy(deep + n + 2 * depth, "}");
    CHECK(read_json(INPUT_CPUPROFILE, deep, strlen(deep), false, &v) == -1);
    HAS_ERR(v, "JSON nested deeper than 256 levels");
    free(deep);
    /* Cut anywhere: an error, or the samples that were complete; never a crash. */
    for (size_t cut = 0; cut < sizeof(v8_doc) - 1; cut++) {
        long rc = read_json(INPUT_CPUPROFILE, v8_doc, cut, true, &v);
        CHECKF(rc == -1 && v.len == 0 && v.errors >= 1, "cut %zu: rc %ld, %s", cut, rc, v.text);
        /* Timed, samples may pass as their deltas come, but the reading fails all the same. */
        rc = read_json(INPUT_CPUPROFILE, v8_doc, cut, false, &v);
        CHECKF(rc == -1 && v.errors >= 1, "cut %zu (timed): rc %ld", cut, rc);
    }
    /* Deltas fewer than the samples, in node's order: times as far as they go. */
    CHECK(READ_JSON(INPUT_CPUPROFILE, "{\"nodes\": [{\"id\": 1, \"callFrame\": {\"functionName\": "
                    "\"f\"}}], \"startTime\": 10, \"samples\": [1, 1, 1], \"timeDeltas\": [1, 2]}",
                    false, &v) == 0);
    CHECK_STR(v.text, "11000 1 f\n13000 1 f\n- 1 f\n");
    HAS_ERR(v, "2 timeDeltas for 3 samples; the samples past them have no time");
}

static const char ss_doc[] =
    "{\"profiles\": [\n"
    " {\"samples\": [[0, 1], [0], [0, 1, 2]], \"weights\": [2, 1, 3], \"startValue\": 10,\n"
    "  \"type\": \"sampled\", \"unit\": \"microseconds\"},\n"
    " {\"samples\": [[0]], \"weights\": [5], \"type\": \"sampled\", \"flameprofView\": \"thread\"},\n"
    " {\"events\": [{\"at\": 0, \"frame\": 0, \"type\": \"O\"}, {\"type\": \"O\", \"frame\": 2, \"at\": 1},\n"
    "   {\"type\": \"C\", \"frame\": 2, \"at\": 4}, {\"type\": \"C\", \"frame\": 0, \"at\": 6}],\n"
    "  \"type\": \"evented\", \"unit\": \"none\"}],\n"
    " \"shared\": {\"frames\": [{\"name\": \"main\"}, {\"name\": \"a;b\", \"folded\": \"a_[j]\"}, {}]}}";

static void test_speedscope(void)
{
    seen v;
    /* py-spy's order (profiles before shared); the unit, type and flameprofView after the
     * samples: all read as if they came first. */
    CHECK(READ_JSON(INPUT_SPEEDSCOPE, ss_doc, false, &v) == 0 && v.errors == 0);
    CHECK_STR(v.text, "10000 2000 main;a_[j]\n12000 1000 main\n13000 3000 main;a_[j];[unknown]\n"
                      "- 1 main\n- 3 main;[unknown]\n- 2 main\n");
    /* A bad frame index: reported with its line when the frames are known, else after. */
    CHECK(READ_JSON(INPUT_SPEEDSCOPE, "{\"shared\": {\"frames\": [{\"name\": \"m\"}]},\n\"profiles\":"
                    " [{\"type\": \"sampled\", \"samples\": [[0, 5], [0], [-1], 7], \"weights\": [1, 2, \"x\"]}]}",
                    false, &v) == 5);
    HAS_ERR(v, "2: speedscope: profiles[0]: samples[0]: the index names no frame; sample skipped (column 51)");
    HAS_ERR(v, "no weight for sample 3");
    HAS_ERR(v, "samples[3] is an integer, not an array");
    HAS_ERR(v, "weights[2] is a string; its sample skipped");
    HAS_ERR(v, "0: speedscope: profiles[0]: 3 weights for 4 samples");
    CHECK_STR(v.text, "- 2 m\n");
    CHECK(READ_JSON(INPUT_SPEEDSCOPE, "{\"profiles\": [{\"type\": \"sampled\", \"samples\": [[0, 5], [0]]}],"
                    " \"shared\": {\"frames\": [{\"name\": \"m\"}]}}", false, &v) == 1);
    HAS_ERR(v, "profiles[0]: a frame index that names no frame in sample 0");
    CHECK_STR(v.text, "- 1 m\n");
    /* Events out of order or unmatched: skipped, said. */
    CHECK(READ_JSON(INPUT_SPEEDSCOPE, "{\"shared\": {\"frames\": [{\"name\": \"m\"}]}, \"profiles\": "
                    "[{\"type\": \"evented\", \"unit\": \"none\", \"events\": [{\"type\": \"O\", \"frame\": 0, "
                    "\"at\": 5}, {\"type\": \"O\", \"frame\": 0, \"at\": 1}, {\"type\": \"C\", \"frame\": 3, "
                    "\"at\": 6}, 4, {\"type\": \"C\", \"frame\": 0, \"at\": 8}]}]}", false, &v) == 3);
    HAS_ERR(v, "events[1]: a malformed or out-of-order event");
    HAS_ERR(v, "events[3] is an integer, not an object");
    CHECK_STR(v.text, "- 3 m\n");
    CHECK(READ_JSON(INPUT_SPEEDSCOPE, "{\"profiles\": []}", false, &v) == -1);
    HAS_ERR(v, "no shared.frames or profiles array");
    CHECK(READ_JSON(INPUT_SPEEDSCOPE, "{\"shared\": {\"frames\": {}}, \"profiles\": []}", false, &v) == -1);
    HAS_ERR(v, "shared.frames is an object, not an array");
    for (size_t cut = 0; cut < sizeof(ss_doc) - 1; cut++) {
        long rc = read_json(INPUT_SPEEDSCOPE, ss_doc, cut, false, &v);
        CHECKF(rc == -1 && v.len == 0 && v.errors >= 1, "cut %zu: rc %ld, %s", cut, rc, v.text);
    }
}

int main(void)
{
    test_detect();
    test_stream_lines();
    test_stream_gzip();
    test_perfscript();
    test_pprof();
    test_collect();
    test_cpuprofile();
    test_speedscope();
    return check_status("input");
}
