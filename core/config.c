/* config.c - FLAMEPROF_* parsing. Runs in the constructor, before any timer exists. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <unistd.h>

/* A whole decimal number in lo..hi of unit, nothing around it; *out untouched if not. */
static bool parse_whole(const char *text, long long lo, long long hi, const char *unit,
                        unsigned *out, char *why, size_t cap)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    bool digits = end != text && *end == 0 && text[0] != ' ' && text[0] != '+';
    if (!digits || errno == ERANGE) {
        snprintf(why, cap, "is not a whole number of %s", unit);
        return false;
    }
    if (v < lo || v > hi) {
        snprintf(why, cap, "is outside %lld..%lld %s", lo, hi, unit);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

bool config_parse_freq(const char *text, unsigned *out, char *why, size_t cap)
{
    *out = CONFIG_DEFAULT_FREQ;
    return !text || parse_whole(text, CONFIG_MIN_FREQ, CONFIG_MAX_FREQ, "Hz", out, why, cap);
}

bool config_parse_stop_wait(const char *text, unsigned *out, char *why, size_t cap)
{
    *out = CONFIG_DEFAULT_STOP_WAIT;
    return !text || parse_whole(text, 0, CONFIG_MAX_STOP_WAIT, "seconds", out, why, cap);
}

bool config_parse_bool(const char *text, bool *out, char *why, size_t cap)
{
    static const char *const yes[] = { "1", "true", "yes", "on" };
    static const char *const no[] = { "", "0", "false", "no", "off" };
    *out = false;
    if (!text)
        return true;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcasecmp(text, yes[i]) == 0)
            return *out = true;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcasecmp(text, no[i]) == 0)
            return true;
    snprintf(why, cap, "is not one of 1/0, true/false, yes/no, on/off");
    return false;
}

bool config_parse_out(const char *text, char *out, size_t out_cap, char *why, size_t cap)
{
    snprintf(out, out_cap, "%s", CONFIG_DEFAULT_OUT);
    if (!text)
        return true;
    if (!*text) {
        snprintf(why, cap, "is empty");
        return false;
    }
    if (strlen(text) >= out_cap) {
        snprintf(why, cap, "is longer than %zu bytes", out_cap - 1);
        return false;
    }
    if (text[strlen(text) - 1] == '/') {
        snprintf(why, cap, "names a directory, not a file prefix");
        return false;
    }
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20) {
            snprintf(why, cap, "contains a control character");
            return false;
        }
    }
    snprintf(out, out_cap, "%s", text);
    return true;
}

bool config_parse_interval(const char *text, unsigned *out, char *why, size_t cap)
{
    *out = 0;
    if (!text || !*text)
        return true;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end || text[0] == ' ' || text[0] == '+' || errno == ERANGE ||
        v < 1 || v > CONFIG_MAX_INTERVAL) {
        snprintf(why, cap, "is not a whole number of seconds in 1..%d", CONFIG_MAX_INTERVAL);
        return false;
    }
    *out = (unsigned)v;
    return true;
}

bool config_parse_size(const char *text, unsigned long long *out, char *why, size_t cap)
{
    *out = 0;
    if (!text || !*text)
        return true;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    int shift = 0;
    if (end != text && (*end == 'K' || *end == 'k'))
        shift = 10, end++;
    else if (end != text && (*end == 'M' || *end == 'm'))
        shift = 20, end++;
    else if (end != text && (*end == 'G' || *end == 'g'))
        shift = 30, end++;
    if (end == text || *end || text[0] < '0' || text[0] > '9' || errno == ERANGE ||
        v > (~0ull >> 31) || (v << shift) < (64u << 10)) {
        snprintf(why, cap, "is not a size of at least 64K (bytes, or a number with K, M, G)");
        return false;
    }
    *out = v << shift;
    return true;
}

static const struct {
    const char *name;
    unsigned bit;
} format_names[] = { { "folded", CONFIG_FORMAT_FOLDED }, { "svg", CONFIG_FORMAT_SVG },
                     { "pprof", CONFIG_FORMAT_PPROF }, { "speedscope", CONFIG_FORMAT_SPEEDSCOPE },
                     { "heatmap", CONFIG_FORMAT_HEATMAP }, { "timeline", CONFIG_FORMAT_TIMELINE } };

bool config_parse_formats(const char *text, unsigned *out, char *why, size_t cap)
{
    *out = 0;
    size_t bad = 0, used = 0;
    char names[96] = "";
    for (const char *p = text ? text : ""; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        const char *name = p;
        p += n + (comma ? 1 : 0);
        while (n && (*name == ' ' || *name == '\t'))
            name++, n--;
        while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
            n--;
        if (!n)
            continue;
        size_t k = 0;
        while (k < sizeof format_names / sizeof *format_names &&
               !(strlen(format_names[k].name) == n &&
                 strncasecmp(format_names[k].name, name, n) == 0))
            k++;
        if (k < sizeof format_names / sizeof *format_names) {
            *out |= format_names[k].bit;
            continue;
        }
        if (bad++ < 3 && used < sizeof names) /* a few are enough to see the mistake */
            used += (size_t)snprintf(names + used, sizeof names - used, "%s'%.*s'",
                                     used ? ", " : "", (int)(n > 24 ? 24 : n), name);
    }
    for (char *c = names; *c; c++) /* it goes to a terminal */
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (bad)
        snprintf(why, cap, "has unknown format%s %s%s (known: folded, svg, pprof, speedscope, heatmap, timeline)",
                 bad > 1 ? "s" : "", names, bad > 3 ? ", ..." : "");
    if (!*out)
        *out = CONFIG_DEFAULT_FORMATS;
    return bad == 0;
}

void config_format_names(unsigned formats, char *dst, size_t cap)
{
    size_t used = 0;
    if (cap)
        dst[0] = 0;
    for (size_t k = 0; k < sizeof format_names / sizeof *format_names; k++)
        if ((formats & format_names[k].bit) && used < cap)
            used += (size_t)snprintf(dst + used, cap - used, "%s%s", used ? "," : "",
                                     format_names[k].name);
}

bool config_expand_out(const char *prefix, pid_t pid, const char *name, char *dst,
                       size_t cap)
{
    size_t n = 0;
    for (const char *p = prefix; *p; p++) {
        char num[24];
        const char *piece = num;
        if (p[0] == '%' && p[1] == 'p') {
            snprintf(num, sizeof num, "%ld", (long)pid);
            p++;
        } else if (p[0] == '%' && p[1] == 'c') {
            piece = name && *name ? name : "process";
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            piece = "%";
            p++;
        } else {
            num[0] = *p;
            num[1] = 0;
        }
        size_t len = strlen(piece);
        if (n + len >= cap)
            return false;
        memcpy(dst + n, piece, len);
        n += len;
    }
    if (cap == 0)
        return false;
    dst[n] = 0;
    return true;
}

/* Shows the value safely: truncated, with control bytes replaced. */
static void warn_bad(const char *name, const char *value, const char *why, const char *used)
{
    char shown[64];
    size_t i = 0;
    for (; value[i] && i < sizeof shown - 4; i++)
        shown[i] = (unsigned char)value[i] < 0x20 ? '?' : value[i];
    snprintf(shown + i, sizeof shown - i, "%s", value[i] ? "..." : "");
    fprintf(stderr, "flameprof: %s='%s' %s; using %s\n", name, shown, why, used);
}

bool config_parse_mode(const char *text, config_mode *out, char *why, size_t cap)
{
    *out = CONFIG_MODE_CPU;
    if (!text || !*text || strcasecmp(text, "cpu") == 0)
        return true;
    if (strcasecmp(text, "wall") == 0) {
        *out = CONFIG_MODE_WALL;
        return true;
    }
    snprintf(why, cap, "is not 'cpu' or 'wall'");
    return false;
}

bool config_parse_source(const char *text, config_source *out, char *why, size_t cap)
{
    *out = CONFIG_SOURCE_TIMER;
    if (!text || !*text || strcasecmp(text, "timer") == 0)
        return true;
    if (strcasecmp(text, "perf") == 0) {
        *out = CONFIG_SOURCE_PERF;
        return true;
    }
    snprintf(why, cap, "is not 'timer' or 'perf'");
    return false;
}

void config_anchor_path(const config *cfg, char *path, size_t cap)
{
    char now[PATH_MAX], rel[PATH_MAX];
    if (path[0] == '/' || path[0] == 0 || cfg->start_dir[0] != '/' ||
        (getcwd(now, sizeof now) && strcmp(now, cfg->start_dir) == 0))
        return;
    snprintf(rel, sizeof rel, "%s", path);
    int n = snprintf(path, cap, "%s/%s", cfg->start_dir, rel);
    if (n < 0 || (size_t)n >= cap)
        snprintf(path, cap, "%s", rel); /* too long: where we are now, as before */
}

void config_load(config *c)
{
    char why[160], used[64], *end;
    if (!getcwd(c->start_dir, sizeof c->start_dir))
        c->start_dir[0] = 0;
    const char *v = getenv("FLAMEPROF_FREQ");
    if (!config_parse_freq(v, &c->freq, why, sizeof why)) {
        snprintf(used, sizeof used, "%u Hz", c->freq);
        warn_bad("FLAMEPROF_FREQ", v, why, used);
    }
    v = getenv("FLAMEPROF_OUT");
    if (!config_parse_out(v, c->out, sizeof c->out, why, sizeof why))
        warn_bad("FLAMEPROF_OUT", v, why, "'" CONFIG_DEFAULT_OUT "'");
    v = getenv("FLAMEPROF_BENCH");
    c->empty_handler = v && strcmp(v, "empty-handler") == 0;
    if (v && !c->empty_handler)
        warn_bad("FLAMEPROF_BENCH", v, "is not 'empty-handler'", "normal sampling");
    v = getenv("FLAMEPROF_FORMAT");
    if (!config_parse_formats(v, &c->formats, why, sizeof why)) {
        config_format_names(c->formats, used, sizeof used);
        warn_bad("FLAMEPROF_FORMAT", v, why, used);
    }
    v = getenv("FLAMEPROF_INTERVAL");
    if (!config_parse_interval(v, &c->interval, why, sizeof why))
        warn_bad("FLAMEPROF_INTERVAL", v, why, "no windows");
    v = getenv("FLAMEPROF_TIMELINE_MAX");
    if (!config_parse_size(v, &c->timeline_max, why, sizeof why))
        warn_bad("FLAMEPROF_TIMELINE_MAX", v, why, "256M");
    v = getenv("FLAMEPROF_THREADS");
    if (!config_parse_bool(v, &c->threads, why, sizeof why))
        warn_bad("FLAMEPROF_THREADS", v, why, "no (threads merged)");
    v = getenv("FLAMEPROF_TREE");
    c->tree[0] = 0;
    if (v && *v && v[0] == '/' && strlen(v) < sizeof c->tree)
        snprintf(c->tree, sizeof c->tree, "%s", v);
    else if (v && *v)
        warn_bad("FLAMEPROF_TREE", v, "is not an absolute directory path that fits",
                 "no tree: this process writes its own files");
    v = getenv("FLAMEPROF_MIN_SAMPLES");
    long min = v ? strtol(v, &end, 10) : CONFIG_DEFAULT_MIN_SAMPLES;
    c->min_samples = (unsigned)CONFIG_DEFAULT_MIN_SAMPLES;
    if (v && (end == v || *end || min < 0 || min > 1000000)) {
        snprintf(used, sizeof used, "%d", CONFIG_DEFAULT_MIN_SAMPLES);
        warn_bad("FLAMEPROF_MIN_SAMPLES", v, "is not a count from 0 to 1000000", used);
    } else {
        c->min_samples = (unsigned)min;
    }
    v = getenv("FLAMEPROF_STOP_WAIT");
    if (!config_parse_stop_wait(v, &c->stop_wait, why, sizeof why)) {
        snprintf(used, sizeof used, "%u seconds", c->stop_wait);
        warn_bad("FLAMEPROF_STOP_WAIT", v, why, used);
    }
    v = getenv("FLAMEPROF_QUIET");
    if (!config_parse_bool(v, &c->quiet, why, sizeof why))
        warn_bad("FLAMEPROF_QUIET", v, why, "no (summary shown)");
    v = getenv("FLAMEPROF_MODE");
    if (!config_parse_mode(v, &c->mode, why, sizeof why))
        warn_bad("FLAMEPROF_MODE", v, why, "cpu");
    v = getenv("FLAMEPROF_SOURCE");
    if (!config_parse_source(v, &c->source, why, sizeof why))
        warn_bad("FLAMEPROF_SOURCE", v, why, "timer");
    /* Wall mode's own default rate, unless the frequency was given (valid or not). */
    if (c->mode == CONFIG_MODE_WALL && !getenv("FLAMEPROF_FREQ"))
        c->freq = CONFIG_DEFAULT_WALL_FREQ;
}
