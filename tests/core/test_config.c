/* test_config.c - FLAMEPROF_* parsing: exact accept/reject decisions and fallbacks. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"



static void freq(const char *text, int ok, unsigned want)
{
    unsigned v = 12345;
    char why[96] = "";
    int got = config_parse_freq(text, &v, why, sizeof why);
    CHECKF(got == ok && v == want, "freq '%s': ok=%d v=%u (%s), want ok=%d v=%u",
          text ? text : "(unset)", got, v, why, ok, want);
}

/* FLAMEPROF_FORMAT: ok is whether the text is valid, want the formats used either way. */
static void formats(const char *text, int ok, unsigned want, const char *why_has)
{
    unsigned v = 12345;
    char why[160] = "";
    int got = config_parse_formats(text, &v, why, sizeof why);
    CHECKF(got == ok && v == want && strstr(why, why_has),
           "formats '%s': ok=%d v=%#x why='%s', want ok=%d v=%#x why has '%s'",
           text ? text : "(unset)", got, v, why, ok, want, why_has);
}

static void test_formats(void)
{
    const unsigned F = CONFIG_FORMAT_FOLDED, S = CONFIG_FORMAT_SVG, P = CONFIG_FORMAT_PPROF,
                   J = CONFIG_FORMAT_SPEEDSCOPE;
    CHECK(CONFIG_DEFAULT_FORMATS == (S | F));
    formats(NULL, 1, S | F, "");
    formats("", 1, S | F, "");
    formats("svg", 1, S, "");
    formats("pprof", 1, P, "");
    formats("svg,folded,pprof,speedscope", 1, S | F | P | J, "");
    formats(" SVG , Speedscope ", 1, S | J, "");
    formats("pprof,,pprof,", 1, P, "");
    formats(",", 1, S | F, "");
    /* Unknown names are named, left out, and the rest is kept... */
    formats("svg,bogus", 0, S, "unknown format 'bogus'");
    formats("svg,png,pdf", 0, S, "unknown formats 'png', 'pdf'");
    formats("a,b,c,d,e,pprof", 0, P, "'a', 'b', 'c', ...");
    /* ... but a list of nothing known falls back to the default. */
    formats("json", 0, S | F, "(known: folded, svg, pprof, speedscope, heatmap, timeline)");
    formats("heatmap,timeline", 1, CONFIG_FORMAT_HEATMAP | CONFIG_FORMAT_TIMELINE, "");
    formats("svg\x1b[31m", 0, S | F, "'svg?[31m'"); /* escapes never reach the terminal */
    formats("svgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvgsvg", 0, S | F, "");

    char names[64];
    config_format_names(S | F | P | J, names, sizeof names);
    CHECK_STR(names, "folded,svg,pprof,speedscope");
    config_format_names(J, names, sizeof names);
    CHECK_STR(names, "speedscope");
    config_format_names(S | P, names, 6);
    CHECK_STR(names, "svg,p");
}

/* FLAMEPROF_INTERVAL and FLAMEPROF_TIMELINE_MAX. */
static void test_interval_and_size(void)
{
    static const struct { const char *text; int ok; unsigned want; } iv[] = {
        { NULL, 1, 0 }, { "", 1, 0 }, { "1", 1, 1 }, { "60", 1, 60 }, { "86400", 1, 86400 },
        { "0", 0, 0 }, { "86401", 0, 0 }, { "-5", 0, 0 }, { "+5", 0, 0 }, { "1.5", 0, 0 },
        { "10s", 0, 0 }, { " 5", 0, 0 }, { "99999999999999999999", 0, 0 },
    };
    for (size_t i = 0; i < sizeof iv / sizeof *iv; i++) {
        unsigned v = 7;
        char why[160] = "";
        int got = config_parse_interval(iv[i].text, &v, why, sizeof why);
        CHECKF(got == iv[i].ok && v == iv[i].want && (got || *why), "interval '%s': %d %u",
               iv[i].text ? iv[i].text : "(unset)", got, v);
    }
    static const struct { const char *text; int ok; unsigned long long want; } sz[] = {
        { NULL, 1, 0 }, { "", 1, 0 }, { "65536", 1, 65536 }, { "64K", 1, 65536 },
        { "100M", 1, 100ull << 20 }, { "2g", 1, 2ull << 30 }, { "1000", 0, 0 },
        { "1T", 0, 0 }, { "-1M", 0, 0 }, { "M", 0, 0 }, { "5MB", 0, 0 },
        { "99999999999999999999G", 0, 0 },
    };
    for (size_t i = 0; i < sizeof sz / sizeof *sz; i++) {
        unsigned long long v = 7;
        char why[160] = "";
        int got = config_parse_size(sz[i].text, &v, why, sizeof why);
        CHECKF(got == sz[i].ok && v == sz[i].want, "size '%s': %d %llu",
               sz[i].text ? sz[i].text : "(unset)", got, v);
    }
}

int main(void)
{
    freq(NULL, 1, 997);
    freq("997", 1, 997);
    freq("1", 1, 1);
    freq("10000", 1, 10000);
    freq("10001", 0, 997);
    freq("0", 0, 997);
    freq("-5", 0, 997);
    freq("abc", 0, 997);
    freq("", 0, 997);
    freq("99999999999999999999999", 0, 997);
    freq("100hz", 0, 997);
    freq(" 100", 0, 997);
    freq("+100", 0, 997);

    bool b = true;
    char why[96];
    unsigned w = 12345;
    CHECKF(config_parse_stop_wait(NULL, &w, why, sizeof why) && w == 10, "stop wait default");
    CHECKF(config_parse_stop_wait("0", &w, why, sizeof why) && w == 0, "stop wait 0");
    CHECKF(config_parse_stop_wait("3600", &w, why, sizeof why) && w == 3600, "stop wait max");
    CHECKF(!config_parse_stop_wait("3601", &w, why, sizeof why) && w == 10 &&
              strstr(why, "0..3600 seconds"), "stop wait too long: %s", why);
    CHECKF(!config_parse_stop_wait("2.5", &w, why, sizeof why) && w == 10, "stop wait 2.5");
    CHECKF(!config_parse_stop_wait("-1", &w, why, sizeof why) && w == 10, "stop wait -1");
    CHECKF(!config_parse_stop_wait("", &w, why, sizeof why) && w == 10, "stop wait empty");
    CHECKF(config_parse_bool("1", &b, why, sizeof why) && b, "quiet=1");
    CHECKF(config_parse_bool("YES", &b, why, sizeof why) && b, "quiet=YES");
    CHECKF(config_parse_bool("0", &b, why, sizeof why) && !b, "quiet=0");
    CHECKF(config_parse_bool("", &b, why, sizeof why) && !b, "quiet empty");
    CHECKF(!config_parse_bool("maybe", &b, why, sizeof why) && !b, "quiet=maybe rejected");

    char out[256];
    CHECKF(config_parse_out(NULL, out, sizeof out, why, sizeof why) &&
              strcmp(out, CONFIG_DEFAULT_OUT) == 0, "out default");
    CHECKF(config_parse_out("/tmp/x", out, sizeof out, why, sizeof why) &&
              strcmp(out, "/tmp/x") == 0, "out given");
    CHECKF(!config_parse_out("", out, sizeof out, why, sizeof why) &&
              strcmp(out, CONFIG_DEFAULT_OUT) == 0, "out empty falls back");
    CHECKF(!config_parse_out("/tmp/dir/", out, sizeof out, why, sizeof why), "out dir rejected");
    CHECKF(!config_parse_out("a\nb", out, sizeof out, why, sizeof why), "out control rejected");
    char big[400];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    CHECKF(!config_parse_out(big, out, sizeof out, why, sizeof why), "out too long rejected");

    char path[64];
    CHECKF(config_expand_out("prof.%p.%%x", 42, "x", path, sizeof path) &&
              strcmp(path, "prof.42.%x") == 0, "expand: got '%s'", path);
    CHECKF(config_expand_out("p%q", 42, "x", path, sizeof path) && strcmp(path, "p%q") == 0,
          "unknown %% escape kept: '%s'", path);
    CHECKF(!config_expand_out("%p%p%p", 123456, "x", path, 8), "expand overflow refused");
    CHECKF(config_expand_out("flameprof.%c.%p", 7, "chromium-renderer", path, sizeof path) &&
              strcmp(path, "flameprof.chromium-renderer.7") == 0, "expand %%c: '%s'", path);
    CHECKF(config_expand_out("%c", 7, NULL, path, sizeof path) && strcmp(path, "process") == 0,
           "no name: '%s'", path);

    test_formats();
    test_interval_and_size();
    return check_status("test_config");
}
