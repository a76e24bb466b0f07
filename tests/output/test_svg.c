/* test_svg.c - SVG flame graph: exact geometry from known counts, narrow-frame merging,
 * escaping of hostile names, colours, options, determinism. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "folded.h"
#include "folded_text.h"
#include "svg.h"

/* ---- helpers ------------------------------------------------------------------------ */

static void load(folded_profile *p, const char *text)
{
    folded_text_load(p, text, strlen(text));
}

static char *render(const folded_profile *p, const svg_options *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = svg_write(p, o, f);
    fclose(f);
    CHECK(rc == 0);
    return buf;
}

static char *render_text(const char *text, const svg_options *o)
{
    folded_profile p;
    load(&p, text);
    char *svg = render(&p, o);
    folded_free(&p);
    return svg;
}

/* One drawn frame, read back from the SVG. */
typedef struct frame {
    char title[512], label[256], fill[32];
    double x, y, w, tx, ty;
    unsigned long long s, n;
    int agg;
} frame;

static const char *attr(const char *from, const char *name, const char *limit)
{
    char key[32];
    snprintf(key, sizeof(key), " %s=\"", name);
    const char *a = strstr(from, key);
    return a && a < limit ? a + strlen(key) : NULL;
}

static void copy_until(char *dst, size_t cap, const char *from, const char *stop)
{
    const char *end = from ? strstr(from, stop) : NULL;
    size_t n = end ? (size_t)(end - from) : 0;
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, from ? from : "", n);
    dst[n] = '\0';
}

/* Parses every frame <g> of svg into a malloc'd array. */
static frame *frames_of(const char *svg, size_t *n)
{
    size_t cap = 16;
    frame *fr = malloc(cap * sizeof(*fr));
    *n = 0;
    const char *g = svg ? strstr(svg, "<g id=\"frames\">") : NULL;
    while (g && (g = strstr(g + 1, "\n<g ")) != NULL) {
        const char *end = strstr(g, "</g>");
        if (!end)
            break;
        if (*n == cap)
            fr = realloc(fr, (cap *= 2) * sizeof(*fr));
        frame *f = &fr[(*n)++];
        memset(f, 0, sizeof(*f));
        const char *rect = strstr(g, "<rect"), *text = strstr(g, "<text");
        f->agg = strncmp(g, "\n<g class=\"agg\"", 15) == 0;
        f->s = strtoull(attr(g, "data-s", end), NULL, 10);
        f->n = strtoull(attr(g, "data-n", end), NULL, 10);
        copy_until(f->title, sizeof(f->title), strstr(g, "<title>") + 7, "</title>");
        f->x = strtod(attr(rect, "x", end), NULL);
        f->y = strtod(attr(rect, "y", end), NULL);
        f->w = strtod(attr(rect, "width", end), NULL);
        copy_until(f->fill, sizeof(f->fill), attr(rect, "fill", end), "\"");
        f->tx = strtod(attr(text, "x", end), NULL);
        f->ty = strtod(attr(text, "y", end), NULL);
        copy_until(f->label, sizeof(f->label), strchr(text, '>') + 1, "</text>");
    }
    return fr;
}

/* The frame whose title starts with "name (" (or equals name for a prefix like "3 small"). */
static const frame *find(const frame *fr, size_t n, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (strncmp(fr[i].title, name, len) == 0 && strncmp(fr[i].title + len, " (", 2) == 0)
            return &fr[i];
    return NULL;
}

static size_t count_titled(const frame *fr, size_t n, const char *name)
{
    size_t k = 0, len = strlen(name);
    for (size_t i = 0; i < n; i++)
        k += strncmp(fr[i].title, name, len) == 0 && strncmp(fr[i].title + len, " (", 2) == 0;
    return k;
}

static int near(double a, double b)
{
    return a - b < 0.006 && b - a < 0.006;
}

/* ---- geometry ----------------------------------------------------------------------- */

static void test_exact_layout(void)
{
    /* 100 samples over 1020 - 2 * 10 px: exactly 10 px per sample. */
    svg_options o;
    svg_options_default(&o);
    o.width = 1020;
    char *svg = render_text("d 60\na;c 5\na;b 30\na 5\n", &o);
    size_t n;
    frame *fr = frames_of(svg, &n);
    CHECK(n == 5);
    const frame *all = find(fr, n, "all"), *a = find(fr, n, "a"), *b = find(fr, n, "b"),
                *c = find(fr, n, "c"), *d = find(fr, n, "d");
    CHECK(all && a && b && c && d);
    if (all && a && b && c && d) {
        /* Children start at the parent's left edge in name order; a's self time (5) is the
         * gap on its right. Three rows: height 3 * 16 + 36 + 34 = 118, bottom row y = 68. */
        CHECK(near(all->x, 10) && near(all->w, 1000) && near(all->y, 68));
        CHECK(near(a->x, 10) && near(a->w, 400) && near(a->y, 52) && a->s == 0 && a->n == 40);
        CHECK(near(d->x, 410) && near(d->w, 600) && near(d->y, 52) && d->s == 40 && d->n == 60);
        CHECK(near(b->x, 10) && near(b->w, 300) && near(b->y, 36) && b->s == 0 && b->n == 30);
        CHECK(near(c->x, 310) && near(c->w, 50) && near(c->y, 36) && c->s == 30 && c->n == 5);
        CHECK(near(c->tx, 313) && near(c->ty, 46.5));
        CHECK_STR(b->title, "b (30 samples, 30.00%)");
        CHECK_STR(all->title, "all (100 samples, 100.00%)");
        CHECK_STR(c->label, "c");
    }
    CHECK(svg && strstr(svg, "<svg version=\"1.1\" width=\"1020\" height=\"118\""));
    CHECK(svg && strstr(svg, "TOTAL = 100;"));
    free(fr);
    free(svg);

    /* Icicle: the root on top. */
    o.inverted = true;
    svg = render_text("d 60\na;c 5\na;b 30\na 5\n", &o);
    fr = frames_of(svg, &n);
    all = find(fr, n, "all");
    b = find(fr, n, "b");
    CHECK(all && near(all->y, 36) && b && near(b->y, 68));
    CHECK(svg && strstr(svg, ">Icicle Graph</text>"));
    free(fr);
    free(svg);
}

static void test_prefix_siblings(void)
{
    /* "foo" is a byte prefix of its sibling "foo.cold" and '.' sorts before ';': foo's own
     * stack and its children must still become one frame. */
    char *svg = render_text("a;foo 1\na;foo.cold;x 2\na;foo;bar 3\na;foo(int);y 4\n", NULL);
    size_t n;
    frame *fr = frames_of(svg, &n);
    CHECK(count_titled(fr, n, "foo") == 1);
    const frame *foo = find(fr, n, "foo"), *bar = find(fr, n, "bar"),
                *cold = find(fr, n, "foo.cold"), *a = find(fr, n, "a");
    CHECK(foo && foo->n == 4 && cold && cold->n == 2 && a && a->n == 10);
    CHECK(foo && bar && bar->s >= foo->s && bar->s + bar->n <= foo->s + foo->n);
    free(fr);
    free(svg);
}

static void test_reverse(void)
{
    svg_options o;
    svg_options_default(&o);
    o.reverse = true;
    char *svg = render_text("a;b;c 1\nx;b;c 2\ny;q 4\n", &o);
    size_t n;
    frame *fr = frames_of(svg, &n);
    const frame *c = find(fr, n, "c"), *b = find(fr, n, "b"), *q = find(fr, n, "q"),
                *x = find(fr, n, "x");
    CHECK(c && c->n == 3 && b && b->n == 3 && q && q->n == 4 && x && x->n == 2);
    CHECK(c && b && near(c->y - 16, b->y)); /* b is drawn on top of c */
    free(fr);
    free(svg);
}

/* ---- narrow frames ------------------------------------------------------------------ */

static char *many_tiny(const char *prefix, int count, char *out)
{
    for (int i = 0; i < count; i++)
        out += sprintf(out, "root;%s%04d 1\n", prefix, i);
    return out;
}

static unsigned long long sum_at(const frame *fr, size_t n, double y)
{
    unsigned long long s = 0;
    for (size_t i = 0; i < n; i++)
        s += near(fr[i].y, y) ? fr[i].n : 0;
    return s;
}

static void test_minwidth_merging(void)
{
    /* 1000 one-sample frames next to a 100000-sample one: each is ~0.01 px wide. */
    char *text = malloc(64 * 1200), *end = text;
    end += sprintf(end, "root;big 100000\n");
    many_tiny("f", 1000, end);
    char *svg = render_text(text, NULL);
    size_t n;
    frame *fr = frames_of(svg, &n);
    const frame *agg = find(fr, n, "1000 small frames"), *root = find(fr, n, "root");
    CHECK(agg && agg->agg && agg->n == 1000);
    CHECK(agg && strstr(agg->title, "(1,000 samples, 0.99%)"));
    CHECK(find(fr, n, "f0001") == NULL);
    CHECK(n == 4); /* all, root, big, the aggregate */
    /* Nothing is dropped: the row under root adds up to root. */
    CHECK(root && agg && sum_at(fr, n, agg->y) == root->n && root->n == 101000);
    free(fr);
    free(svg);

    /* minwidth 0 draws every frame. */
    svg_options o;
    svg_options_default(&o);
    o.minwidth = 0;
    svg = render_text(text, &o);
    fr = frames_of(svg, &n);
    CHECK(n == 1003 && find(fr, n, "f0999") && find(fr, n, "1000 small frames") == NULL);
    free(fr);
    free(svg);

    /* Runs are split by a wide sibling; a lone narrow frame keeps its name; nothing is
     * drawn below a narrow frame. */
    end = many_tiny("a", 500, text);
    end += sprintf(end, "root;m 100000\nroot;m;lone 1\nroot;m;lone;deeper 1\nroot;m;wide 50000\n");
    many_tiny("z", 500, end);
    svg = render_text(text, NULL);
    fr = frames_of(svg, &n);
    CHECK(count_titled(fr, n, "500 small frames") == 2);
    const frame *lone = find(fr, n, "lone"), *m = find(fr, n, "m");
    CHECK(lone && !lone->agg && lone->n == 2);
    CHECK(find(fr, n, "deeper") == NULL);
    CHECK(m && lone && sum_at(fr, n, lone->y) == m->n - 100000 + 0); /* m's self: 100000 */
    free(fr);
    free(svg);
    free(text);
}

/* ---- text and colours --------------------------------------------------------------- */

static void test_escaping(void)
{
    static const char text[] =
        "<&>\"' 1\n"                  /* markup */
        "ctl\x01\x1f\x7f 1\n"          /* controls */
        "bad\xff\xc0\x80 1\n"          /* invalid byte, overlong NUL */
        "sur\xed\xa0\x80 1\n"          /* UTF-16 surrogate */
        "non\xef\xbf\xbe 1\n"          /* U+FFFE: not an XML character */
        "c1\xc2\x85 1\n"               /* U+0085, a C1 control */
        "cut\xe2\x82 1\n"              /* truncated sequence */
        "ok\xc3\xa9\xf0\x9f\x94\xa5 1\n"; /* e-acute and a 4-byte emoji are kept */
    svg_options o;
    svg_options_default(&o);
    o.title = "T<&>";
    o.subtitle = "S\"'\x02";
    o.countname = "c&c";
    o.minwidth = 0;
    char *svg = render_text(text, &o);
    size_t n;
    frame *fr = frames_of(svg, &n);
    CHECK(find(fr, n, "&lt;&amp;&gt;&quot;&#39;") != NULL);
    CHECK(find(fr, n, "ctl???") != NULL);
    CHECK(find(fr, n, "bad???") != NULL);
    CHECK(find(fr, n, "sur???") != NULL);
    CHECK(find(fr, n, "non???") != NULL);
    CHECK(find(fr, n, "c1??") != NULL);
    CHECK(find(fr, n, "cut??") != NULL);
    CHECK(find(fr, n, "ok\xc3\xa9\xf0\x9f\x94\xa5") != NULL);
    CHECK(svg && strstr(svg, "<text id=\"title\" x=\"600\" y=\"24\">T&lt;&amp;&gt;</text>"));
    CHECK(svg && strstr(svg, ">S&quot;&#39;?</text>"));
    CHECK(svg && strstr(svg, " (1 c&amp;c, 12.50%)</title>"));
    /* No raw control or non-ASCII byte other than the one valid name survives. */
    size_t high = 0;
    for (const unsigned char *s = (const unsigned char *)svg; s && *s; s++) {
        CHECK(*s >= 0x20 || *s == '\n');
        high += *s >= 0x80;
    }
    CHECK(high == 6 * 2); /* the kept name, in the title and the label */
    free(fr);
    free(svg);
}

static void test_labels(void)
{
    static const char text[] = "a_rather_long_function_name_that_cannot_fit 1\nshort 1\n";
    svg_options o;
    svg_options_default(&o);
    o.width = 320; /* 150 px per frame: floor(147 / 7.08) = 20 characters */
    char *svg = render_text(text, &o);
    size_t n;
    frame *fr = frames_of(svg, &n);
    const frame *l = find(fr, n, "a_rather_long_function_name_that_cannot_fit"),
                *s = find(fr, n, "short");
    CHECK(l && strcmp(l->label, "a_rather_long_func..") == 0);
    CHECK(s && strcmp(s->label, "short") == 0);
    free(fr);
    free(svg);
}

static int rgb(const char *fill, int *r, int *g, int *b)
{
    return sscanf(fill, "rgb(%d,%d,%d)", r, g, b) == 3;
}

static void test_colors(void)
{
    static const char text[] = "x;sys_read_[k] 1\nx;Foo.bar_[j] 1\nx;inl_[i] 1\nx;Foo.run_[0] 1\n"
                               "x;java/lang/String.hashCode 1\nx;JVM::run 1\nx;native 1\n"
                               "x;./app.js:12 1\n";
    svg_options o;
    svg_options_default(&o);
    o.minwidth = 0;
    int r, g, b;
    for (int pal = 0; pal < 3; pal++) {
        o.colors = pal == 0 ? "hot" : pal == 1 ? "java" : "js";
        char *svg = render_text(text, &o);
        size_t n;
        frame *fr = frames_of(svg, &n);
        const frame *k = find(fr, n, "sys_read_[k]"), *j = find(fr, n, "Foo.bar_[j]"),
                    *i = find(fr, n, "inl_[i]");
        /* Tags win in every palette: kernel orange, JIT green, inlined aqua, interpreted
         * pale green (paler than any compiled frame). */
        const frame *in = find(fr, n, "Foo.run_[0]");
        int jr = 0;
        CHECK(k && rgb(k->fill, &r, &g, &b) && r >= 190 && g >= 90 && g <= 155 && b == 0);
        CHECK(j && rgb(j->fill, &jr, &g, &b) && g >= 165 && jr == b && jr < g);
        CHECK(in && rgb(in->fill, &r, &g, &b) && g >= 205 && r == b && r < g && r >= 140 &&
              r > jr);
        CHECK(i && rgb(i->fill, &r, &g, &b) && g == b && g >= 165 && r < g);
        const frame *jv = find(fr, n, "java/lang/String.hashCode"), *cpp = find(fr, n, "JVM::run"),
                    *nat = find(fr, n, "native"), *js = find(fr, n, "./app.js:12");
        if (pal == 1) {
            CHECK(jv && rgb(jv->fill, &r, &g, &b) && g >= 165 && r == b);
            CHECK(cpp && rgb(cpp->fill, &r, &g, &b) && r == g && b < 80);
            CHECK(nat && rgb(nat->fill, &r, &g, &b) && r >= 200 && g == b);
        }
        if (pal == 2)
            CHECK(js && rgb(js->fill, &r, &g, &b) && g >= 165 && r == b);
        if (pal == 0) /* hot: reds to yellows */
            CHECK(nat && rgb(nat->fill, &r, &g, &b) && r >= 205 && g <= 230 && b <= 55);
        free(fr);
        free(svg);
    }
    /* A name has the same colour in any graph. */
    char *one = render_text("p;q;zlib_inflate 5\n", NULL), *two = render_text("zlib_inflate 1\n", NULL);
    size_t n1, n2;
    frame *f1 = frames_of(one, &n1), *f2 = frames_of(two, &n2);
    const frame *z1 = find(f1, n1, "zlib_inflate"), *z2 = find(f2, n2, "zlib_inflate");
    CHECK(z1 && z2 && strcmp(z1->fill, z2->fill) == 0);
    free(f1);
    free(f2);
    free(one);
    free(two);
}

/* ---- whole documents ---------------------------------------------------------------- */

static void test_deterministic(void)
{
    static const char *const stacks[] = { "m;a;b", "m;a", "m;c;d;e", "n", "m;a;b", "m;c" };
    folded_profile p, q;
    folded_init(&p);
    folded_init(&q);
    for (size_t i = 0; i < 6; i++) {
        folded_add(&p, stacks[i], strlen(stacks[i]), i + 1);
        folded_add(&q, stacks[5 - i], strlen(stacks[5 - i]), 6 - i);
    }
    folded_finish(&p);
    char *a = render(&p, NULL), *b = render(&p, NULL);
    CHECK(a && b && strcmp(a, b) == 0);
    /* Not finished (unsorted, duplicates): the same graph all the same. */
    char *c = render(&q, NULL);
    CHECK(a && c && strcmp(a, c) == 0);
    free(a);
    free(b);
    free(c);
    folded_free(&p);
    folded_free(&q);
}

static void test_empty_and_errors(void)
{
    folded_profile p;
    folded_init(&p);
    char *svg = render(&p, NULL);
    CHECK(svg && strstr(svg, "No stack counts found"));
    CHECK(svg && strlen(svg) > 7 && strcmp(svg + strlen(svg) - 7, "</svg>\n") == 0);
    free(svg);

    FILE *full = fopen("/dev/full", "w");
    if (full) {
        load(&p, "a;b 1\n");
        CHECK(svg_write(&p, NULL, full) == -1);
        fclose(full);
    }
    folded_free(&p);
}

static void test_interactive_parts(void)
{
    char *svg = render_text("a 1\n", NULL);
    CHECK(svg && strstr(svg, "onload=\"init(evt)\""));
    CHECK(svg && strstr(svg, ">Reset Zoom</text>") && strstr(svg, ">Search</text>"));
    CHECK(svg && strstr(svg, "'Matched: '") && strstr(svg, "id=\"ignorecase\""));
    CHECK(svg && strstr(svg, "<![CDATA[") && !strstr(strstr(svg, "<![CDATA[") + 9, "]]>]]>"));
    free(svg);
}

int main(void)
{
    test_exact_layout();
    test_prefix_siblings();
    test_reverse();
    test_minwidth_merging();
    test_escaping();
    test_labels();
    test_colors();
    test_deterministic();
    test_empty_and_errors();
    test_interactive_parts();
    return check_status("test_svg");
}
