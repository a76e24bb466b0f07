/* test_diff.c - differential flame graphs: the merge of two profiles (paths on one side
 * only are kept, scaled), and the SVG's counts, colours and tooltips. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "diff.h"
#include "folded.h"
#include "folded_text.h"
#include "svg.h"

static void load(folded_profile *p, const char *text)
{
    folded_text_load(p, text, strlen(text));
}

static char *render(const svg_diff *d, const svg_options *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    CHECK(svg_write_diff(d, o, f) == 0);
    fclose(f);
    return buf;
}

/* The <g> of the frame whose title starts with "name (", as a malloc'd string. */
static char *frame_g(const char *svg, const char *name)
{
    char key[128];
    snprintf(key, sizeof(key), "><title>%s (", name);
    const char *t = svg ? strstr(svg, key) : NULL;
    if (!t)
        return NULL;
    const char *g = t;
    while (g > svg && strncmp(g, "\n<g ", 4) != 0)
        g--;
    const char *end = strstr(t, "</g>");
    return strndup(g + 1, (size_t)(end - g) + 3);
}

static unsigned long long num_attr(const char *g, const char *name)
{
    char key[32];
    snprintf(key, sizeof(key), " %s=\"", name);
    const char *a = g ? strstr(g, key) : NULL;
    return a ? strtoull(a + strlen(key), NULL, 10) : ~0ull;
}

static int fill(const char *g, int rgb[3])
{
    const char *a = g ? strstr(g, "fill=\"rgb(") : NULL;
    return a && sscanf(a + 10, "%d,%d,%d", &rgb[0], &rgb[1], &rgb[2]) == 3;
}

static void test_merge(void)
{
    folded_profile b, a;
    /* BEFORE 100 samples, AFTER 50: a path only BEFORE has is scaled by 1/2. */
    load(&b, "m;x 40\nm;gone 30\nm;tiny 1\nboth 29\n");
    load(&a, "m;x 30\nm;new 10\nboth 10\n");
    svg_diff d;
    CHECK(diff_build(&b, &a, &d) == 0);
    CHECK(d.len == 5 && d.before_total == 100 && d.after_total == 50);
    const char *want[] = { "both", "m;gone", "m;new", "m;tiny", "m;x" };
    uint64_t count[] = { 10, 15, 10, 1, 30 }, before[] = { 29, 30, 0, 1, 40 },
             after[] = { 10, 0, 10, 0, 30 };
    for (size_t i = 0; i < d.len && i < 5; i++) {
        const svg_diff_entry *e = &d.entries[i];
        CHECKF(strcmp(e->e.stack, want[i]) == 0 && e->e.count == count[i] &&
                   e->before == before[i] && e->after == after[i],
               "entry %zu: %s %llu (%llu -> %llu)", i, e->e.stack,
               (unsigned long long)e->e.count, (unsigned long long)e->before,
               (unsigned long long)e->after);
    }
    diff_free(&d);

    /* AFTER empty: every path is gone, drawn with BEFORE's counts as they are. */
    folded_profile empty;
    folded_init(&empty);
    CHECK(diff_build(&b, &empty, &d) == 0);
    CHECK(d.len == 4 && d.entries[0].e.count == 29 && d.entries[0].after == 0);
    diff_free(&d);
    CHECK(diff_build(&empty, &empty, &d) == 0 && d.len == 0);
    char *svg = render(&d, NULL);
    CHECK(svg && strstr(svg, "No stack counts found"));
    free(svg);
    diff_free(&d);
    folded_free(&a);
    folded_free(&b);
}

static void test_svg(void)
{
    folded_profile b, a;
    /* BEFORE: 100 samples, AFTER: 200. grow doubles its share, shrink halves it, same keeps
     * it (same count ratio as the totals), gone disappears, new appears. Laid out on 260
     * samples (AFTER's 200 + gone's 30 scaled to 60) over 1000 px, in stack order: gone at
     * 0, grow at 60. The largest change is new's +40 points: grow's +10 is a quarter of it,
     * 220 - 55 = 165 in green and blue. */
    load(&b, "main;grow 10\nmain;shrink 40\nmain;same 20\nmain;gone 30\n");
    load(&a, "main;grow 40\nmain;shrink 40\nmain;same 40\nmain;new 80\n");
    svg_diff d;
    CHECK(diff_build(&b, &a, &d) == 0);
    svg_options o;
    svg_options_default(&o);
    o.width = 1020;
    char *svg = render(&d, &o);
    CHECK(svg && strstr(svg, ">Differential Flame Graph</text>"));
    CHECK(svg && strstr(svg, "DIFF = true"));

    char *g = frame_g(svg, "grow");
    CHECK_STR(g ? strstr(g, "<title>") : NULL,
              "<title>grow (40 samples, 20.00%; before 10 samples, 10.00%; +10.00%)</title>"
              "<rect x=\"240.77\" y=\"36\" width=\"153.85\" height=\"15\" "
              "fill=\"rgb(255,165,165)\"/><text x=\"243.77\" y=\"46.5\">grow</text></g>");
    int rgb[3];
    CHECK(num_attr(g, "data-b") == 10 && num_attr(g, "data-a") == 40 && num_attr(g, "data-n") == 40);
    free(g);

    g = frame_g(svg, "shrink");
    CHECK(fill(g, rgb) && rgb[2] == 255 && rgb[0] == rgb[1] && rgb[0] < 220);
    CHECK(g && strstr(g, "(40 samples, 20.00%; before 40 samples, 40.00%; -20.00%)"));
    free(g);

    /* the largest change is the deepest colour */
    g = frame_g(svg, "new");
    CHECK(fill(g, rgb) && rgb[0] == 255 && rgb[1] == 0 && rgb[2] == 0);
    free(g);

    /* A share that did not change is grey, exactly, whatever float rounding would say. */
    g = frame_g(svg, "same");
    CHECK(fill(g, rgb) && rgb[0] == 220 && rgb[1] == 220 && rgb[2] == 220);
    CHECK(g && strstr(g, "; +0.00%)"));
    free(g);

    /* The path that disappeared is drawn: 30 of 100 before is 60 of AFTER's 200. */
    g = frame_g(svg, "gone");
    CHECK(num_attr(g, "data-n") == 60 && num_attr(g, "data-b") == 30 && num_attr(g, "data-a") == 0);
    CHECK(fill(g, rgb) && rgb[2] == 255 && rgb[0] < 220);
    CHECK(g && strstr(g, "(0 samples, 0.00%; before 30 samples, 30.00%; -30.00%)"));
    free(g);

    /* The root: AFTER's total plus the room for what disappeared. */
    g = frame_g(svg, "all");
    CHECK(num_attr(g, "data-n") == 260 && num_attr(g, "data-b") == 100 &&
          num_attr(g, "data-a") == 200);
    free(g);

    /* Deterministic, and the counts follow their stacks when merged from the leaf. */
    char *again = render(&d, &o);
    CHECK(svg && again && strcmp(svg, again) == 0);
    free(again);
    o.reverse = true;
    o.inverted = true;
    char *rev = render(&d, &o);
    CHECK(rev && strstr(rev, ">Differential Icicle Graph</text>"));
    g = frame_g(rev, "gone");
    CHECK(num_attr(g, "data-n") == 60 && num_attr(g, "data-b") == 30 && num_attr(g, "data-a") == 0);
    free(g);
    g = frame_g(rev, "all");
    CHECK(num_attr(g, "data-n") == 260 && num_attr(g, "data-b") == 100);
    free(g);
    free(rev);

    /* Narrow frames merge into aggregates that carry both counts too. */
    svg_options_default(&o);
    o.minwidth = 500;
    char *agg = render(&d, &o);
    const char *ag = agg ? strstr(agg, "<g class=\"agg\"") : NULL;
    CHECK(ag && num_attr(ag, "data-b") + num_attr(ag, "data-a") > 0);
    free(agg);

    free(svg);
    diff_free(&d);
    folded_free(&a);
    folded_free(&b);
}

int main(void)
{
    test_merge();
    test_svg();
    return check_status("test_diff");
}
