/* test_convert.c - the speedscope writer's exact output and JSON escaping; the pprof
 * writer's gzip framing, determinism and errors. (The pprof structure is decoded and
 * compared field by field in convert_cli.py.) The name shapes frame_parse reads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "folded.h"
#include "folded_text.h"
#include "frame_parse.h"
#include "frame_source.h"
#include "pprof.h"
#include "speedscope.h"

static void load(folded_profile *p, const char *text, size_t len)
{
    folded_text_load(p, text, len);
}

typedef struct mem {
    char *buf;
    size_t len;
    FILE *f;
} mem;

static FILE *mem_open(mem *m)
{
    m->buf = NULL;
    m->len = 0;
    return m->f = open_memstream(&m->buf, &m->len);
}

static char *mem_close(mem *m)
{
    fclose(m->f);
    return m->buf;
}

static char *json(const char *s, size_t n)
{
    mem m;
    speedscope_json_string(mem_open(&m), s, n);
    return mem_close(&m);
}

static void test_json_strings(void)
{
    struct { const char *in; size_t n; const char *want; } cases[] = {
        { "plain", 5, "\"plain\"" },
        { "q\"b\\s/", 6, "\"q\\\"b\\\\s/\"" },
        { "\n\t\r\x01\x1f\x7f", 6, "\"\\n\\t\\r\\u0001\\u001f\x7f\"" },
        { "nul\0x", 5, "\"nul\\u0000x\"" },
        { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5\"" },
        /* each byte that is not UTF-8 becomes U+FFFD */
        { "a\xff" "b", 3, "\"a\xef\xbf\xbd" "b\"" },
        { "\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"" },          /* overlong */
        { "\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* surrogate */
        { "cut\xe2\x82", 5, "\"cut\xef\xbf\xbd\xef\xbf\xbd\"" },       /* truncated */
        { "\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
        { "", 0, "\"\"" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *got = json(cases[i].in, cases[i].n);
        CHECK_STR(got, cases[i].want);
        free(got);
    }
}

static void test_speedscope_exact(void)
{
    static const char in[] = "main;work;leaf_[i] 3\nmain;idle 1\nother;work 2\n";
    folded_profile p;
    load(&p, in, sizeof(in) - 1);
    mem m;
    CHECK(speedscope_write(&p, "my \"prog\"", mem_open(&m)) == 0);
    char *got = mem_close(&m);
    CHECK_STR(got,
              "{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n"
              "\"shared\": {\"frames\": [\n"
              "{\"name\": \"main\"},\n"
              "{\"name\": \"idle\"},\n"
              "{\"name\": \"work\"},\n"
              "{\"name\": \"leaf\", \"folded\": \"leaf_[i]\"},\n"
              "{\"name\": \"other\"}]},\n"
              "\"profiles\": [{\"type\": \"sampled\", \"name\": \"my \\\"prog\\\"\", \"unit\": "
              "\"none\", \"startValue\": 0, \"endValue\": 6,\n"
              "\"samples\": [\n"
              "[0,1],\n"
              "[0,2,3],\n"
              "[4,2]],\n"
              "\"weights\": [1,3,2]}],\n"
              "\"name\": \"my \\\"prog\\\"\", \"activeProfileIndex\": 0, \"exporter\": \"flameprof\"}\n");
    free(got);
    folded_free(&p);

    /* An empty profile is still a valid file. */
    folded_init(&p);
    CHECK(speedscope_write(&p, NULL, mem_open(&m)) == 0);
    got = mem_close(&m);
    CHECK(got && strstr(got, "\"frames\": []}") && strstr(got, "\"samples\": [],\n\"weights\": []"));
    CHECK(got && strstr(got, "\"endValue\": 0,") && strstr(got, "\"name\": \"flameprof\""));
    free(got);
}

/* Native frames' positions beside the stacks: speedscope frames get file and line (a
 * frame whose name tells its own file keeps that); "f" and "f_[i]" share one; of two
 * places for one name the smaller stays whatever the order; the text form reads back and
 * skips what is malformed. */
static void test_frame_sources(void)
{
    static const char in[] = "main;work;leaf_[i] 3\nmain;JS:~f /x.js:4:2_[j] 1\n";
    folded_profile p;
    load(&p, in, sizeof(in) - 1);
    p.sources = frame_sources_new();
    CHECK(p.sources);
    CHECK(frame_sources_add(p.sources, "main", 4, "/src/m.c", 30) == 0);
    CHECK(frame_sources_add(p.sources, "work", 4, "/src/w.c", 9) == 0);
    CHECK(frame_sources_add(p.sources, "work", 4, "/src/a.c", 99) == 0); /* smaller file */
    CHECK(frame_sources_add(p.sources, "work", 4, "/src/z.c", 1) == 0);  /* not smaller */
    CHECK(frame_sources_add(p.sources, "leaf_[i]", 8, "/src/l.h", 3) == 0);
    CHECK(frame_sources_add(p.sources, "JS:~f /x.js:4:2_[j]", 19, "/wrong.c", 1) == 0);
    mem m;
    CHECK(speedscope_write(&p, "s", mem_open(&m)) == 0);
    char *got = mem_close(&m);
    CHECK(got && strstr(got, "{\"name\": \"main\", \"file\": \"/src/m.c\", \"line\": 30},\n"
                             "{\"name\": \"f\", \"file\": \"/x.js\", \"line\": 4, \"col\": 2, "
                             "\"folded\": \"JS:~f /x.js:4:2_[j]\"},\n"
                             "{\"name\": \"work\", \"file\": \"/src/a.c\", \"line\": 99},\n"
                             "{\"name\": \"leaf\", \"file\": \"/src/l.h\", \"line\": 3, "
                             "\"folded\": \"leaf_[i]\"}]}"));
    free(got);

    /* The text form, back; malformed lines skipped and counted. */
    CHECK(frame_sources_write(p.sources, mem_open(&m)) == 0);
    got = mem_close(&m);
    CHECK_STR(got, "30\t/src/m.c\tmain\n99\t/src/a.c\twork\n3\t/src/l.h\tleaf\n"
                   "1\t/wrong.c\tJS:~f /x.js:4:2_[j]\n");
    static const char bad[] = "x\t/a\tf\n7\t\tf\n7\t/a\t\n99999999999\t/a\tf\n7\t/a.c\n"
                              "5\t/g.c\tg\n";
    frame_sources *back = frame_sources_new();
    FILE *f = fmemopen(got, strlen(got), "r");
    CHECK(back && f && frame_sources_read(back, f) == 0);
    fclose(f);
    f = fmemopen((void *)bad, sizeof bad - 1, "r");
    CHECK(f && frame_sources_read(back, f) == 5);
    fclose(f);
    const char *file;
    unsigned line;
    CHECK(frame_sources_get(back, "work_[i]", 8, &file, &line) && line == 99 &&
          strcmp(file, "/src/a.c") == 0);
    CHECK(frame_sources_get(back, "g", 1, &file, &line) && line == 5);
    CHECK(!frame_sources_get(back, "f", 1, &file, &line));
    CHECK(frame_sources_count(back) == 5);
    frame_sources_free(back);
    free(got);
    folded_free(&p); /* frees p.sources */
}

static void test_pprof_bytes(void)
{
    static const char in[] = "main;work;leaf_[i] 3\nmain;idle 1\n";
    folded_profile p;
    load(&p, in, sizeof(in) - 1);
    mem m1, m2;
    CHECK(pprof_write(&p, 997, NULL, mem_open(&m1)) == 0);
    CHECK(pprof_write(&p, 997, NULL, mem_open(&m2)) == 0);
    char *a = mem_close(&m1), *b = mem_close(&m2);
    /* gzip: magic, deflate, no time stamp (bytes 4..7), so the same bytes every time */
    CHECK(m1.len > 18 && (unsigned char)a[0] == 0x1f && (unsigned char)a[1] == 0x8b && a[2] == 8);
    CHECK(m1.len > 18 && a[4] == 0 && a[5] == 0 && a[6] == 0 && a[7] == 0);
    CHECK(m1.len == m2.len && memcmp(a, b, m1.len) == 0);
    free(a);
    free(b);

    FILE *full = fopen("/dev/full", "w");
    if (full) {
        CHECK(pprof_write(&p, 997, NULL, full) == -1);
        fclose(full);
    }
    full = fopen("/dev/full", "w");
    if (full) {
        CHECK(speedscope_write(&p, NULL, full) == -1);
        fclose(full);
    }
    folded_free(&p);
}

/* Each runtime's shape, and names that only look like one. */
static void test_frame_parse(void)
{
    static const struct {
        const char *in, *name, *file;
        long line, col;
        frame_kind kind;
    } cases[] = {
        { "JS:~executeUserEntryPoint node:internal/modules/run_main:155:31_[j]",
          "executeUserEntryPoint", "node:internal/modules/run_main", 155, 31, FRAME_JIT },
        { "JS:*leafD /p/cpu.js:2:15_[j]", "leafD", "/p/cpu.js", 2, 15, FRAME_JIT },
        { "JS:^get size /p/m.js:9:3_[j]", "get size", "/p/m.js", 9, 3, FRAME_JIT },
        { "JS:^ /x.js:1:1", "(anonymous)", "/x.js", 1, 1, FRAME_NATIVE },
        { "LazyCompile:~f /a.js:7", "f", "/a.js", 7, 0, FRAME_NATIVE },
        { "py::leaf_d:/path/hot.py_[j]", "leaf_d", "/path/hot.py", 0, 0, FRAME_JIT },
        { "py::<module>:/p/m.py", "<module>", "/p/m.py", 0, 0, FRAME_NATIVE },
        { "com.example.Foo.bar(int,java.lang.String[])_[j]", "com.example.Foo.bar", NULL, 0,
          0, FRAME_JIT },
        { "com.example.Foo.<init>(int)_[0]", "com.example.Foo.<init>", NULL, 0, 0,
          FRAME_INTERPRETED },
        { "double GtX.churn(int)_[i]", "GtX.churn", NULL, 0, 0, FRAME_INLINED },
        { "ns::f(int) const_[i]", "ns::f(int) const", NULL, 0, 0, FRAME_INLINED },
        { "std::vector<a.b>::at(int)_[j]", "std::vector<a.b>::at(int)", NULL, 0, 0, FRAME_JIT },
        { "foo(a.b)", "foo(a.b)", NULL, 0, 0, FRAME_NATIVE },
        { "page_fault_[k]", "page_fault", NULL, 0, 0, FRAME_KERNEL },
        { "_[j]", "_[j]", NULL, 0, 0, FRAME_NATIVE },
        { "JS:", "(anonymous)", NULL, 0, 0, FRAME_NATIVE },
        { "py::", "", NULL, 0, 0, FRAME_NATIVE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        frame_parts fp;
        frame_parse(cases[i].in, strlen(cases[i].in), &fp);
        char *name = strndup(fp.name, fp.name_len);
        char *file = fp.file ? strndup(fp.file, fp.file_len) : NULL;
        CHECK_STR(name, cases[i].name);
        CHECK(!cases[i].file == !file);
        if (file && cases[i].file)
            CHECK_STR(file, cases[i].file);
        CHECK(fp.line == cases[i].line && fp.col == cases[i].col && fp.kind == cases[i].kind);
        free(name);
        free(file);
    }
}

int main(void)
{
    test_frame_parse();
    test_json_strings();
    test_speedscope_exact();
    test_frame_sources();
    test_pprof_bytes();
    return check_status("test_convert");
}
