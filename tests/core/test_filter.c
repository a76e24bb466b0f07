/* test_filter.c - filter.h on small folded profiles: exact outputs, totals kept by hide,
 * the counts focus and exclude take away, prefixes stripped, the description. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "filter.h"
#include "folded.h"

static const char input[] = "main;uv_run;JS:*handler /app.js:3;work 10\n"
                            "main;uv_run;LazyCompile:~other /app.js:9;gc 5\n"
                            "main;v8::internal::Foo 3\n"
                            "main;idle 2\n";

/* Parse input, filter it with the given (kind, regex) pairs, return the folded text. */
static char *run(filter *f, folded_profile *p, const char *in)
{
    FILE *src = fmemopen((void *)in, strlen(in), "r");
    folded_init(p);
    CHECK(folded_parse(src, p, NULL, NULL) == 0);
    fclose(src);
    CHECK(filter_apply(f, p) == 0);
    char *text = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&text, &n);
    folded_write(p, out);
    fclose(out);
    return text;
}

static void add(filter *f, filter_kind k, const char *re)
{
    char err[128];
    CHECKF(filter_add(f, k, re, err, sizeof err) == 0, "%s: %s", re, err);
}

static void expect(filter *f, const char *want, unsigned long long want_total,
                   const char *want_desc)
{
    folded_profile p;
    char *got = run(f, &p, input);
    CHECK_STR(got, want);
    CHECKF(p.total == want_total, "total %llu, want %llu", (unsigned long long)p.total,
           want_total);
    char desc[512];
    filter_describe(f, desc, sizeof desc);
    CHECK_STR(desc, want_desc);
    free(got);
    folded_free(&p);
    filter_free(f);
}

int main(void)
{
    filter f;

    filter_init(&f); /* hide: every sample stays, given to the nearest kept caller */
    add(&f, FILTER_HIDE, "uv_|v8::internal::");
    expect(&f,
           "main 3\n"
           "main;JS:*handler /app.js:3;work 10\n"
           "main;LazyCompile:~other /app.js:9;gc 5\n"
           "main;idle 2\n",
           20, "filtered: hide /uv_|v8::internal::/ (18 samples to callers); 20 of 20 samples shown");

    filter_init(&f); /* a stack with every frame hidden keeps its samples under [hidden] */
    add(&f, FILTER_HIDE, "main|v8");
    expect(&f,
           "[hidden] 3\n"
           "idle 2\n"
           "uv_run;JS:*handler /app.js:3;work 10\n"
           "uv_run;LazyCompile:~other /app.js:9;gc 5\n",
           20, "filtered: hide /main|v8/ (20 samples to callers); 20 of 20 samples shown");

    filter_init(&f); /* focus keeps whole stacks through a match */
    add(&f, FILTER_FOCUS, "^uv_run$");
    expect(&f,
           "main;uv_run;JS:*handler /app.js:3;work 10\n"
           "main;uv_run;LazyCompile:~other /app.js:9;gc 5\n",
           15, "filtered: focus /^uv_run$/ (-5 samples); 15 of 20 samples shown");

    filter_init(&f); /* exclude drops stacks with a match; several regexes of one kind */
    add(&f, FILTER_EXCLUDE, "^gc$");
    add(&f, FILTER_EXCLUDE, "idle");
    expect(&f,
           "main;uv_run;JS:*handler /app.js:3;work 10\n"
           "main;v8::internal::Foo 3\n",
           13, "filtered: exclude /^gc$/ /idle/ (-7 samples); 13 of 20 samples shown");

    filter_init(&f); /* strip first: the other regexes see the stripped names */
    add(&f, FILTER_STRIP, FILTER_RUNTIME_PREFIXES);
    add(&f, FILTER_FOCUS, "^handler");
    add(&f, FILTER_HIDE, "^uv_");
    expect(&f, "main;handler /app.js:3;work 10\n", 10,
           "filtered: hide /^uv_/ (10 samples to callers); focus /^handler/ (-10 samples); "
           "strip /" FILTER_RUNTIME_PREFIXES "/; 10 of 20 samples shown");

    filter_init(&f); /* stripping never leaves an empty name; same-named stacks merge */
    add(&f, FILTER_STRIP, "^main$|;");
    add(&f, FILTER_STRIP, " /app.js:[0-9]+");
    add(&f, FILTER_HIDE, "handler|other");
    expect(&f,
           "main;idle 2\n"
           "main;uv_run;gc 5\n"
           "main;uv_run;work 10\n"
           "main;v8::internal::Foo 3\n",
           20, "filtered: hide /handler|other/ (15 samples to callers); strip /^main$|;/ "
               "/ /app.js:[0-9]+/; 20 of 20 samples shown");

    filter_init(&f); /* a bad regex says why */
    char err[128] = "";
    CHECK(filter_add(&f, FILTER_HIDE, "(", err, sizeof err) == -1);
    CHECK(err[0] != 0);
    CHECK(!filter_active(&f));
    filter_free(&f);
    return check_status("test_filter");
}
