/* cli.c - helpers shared by the flameprof subcommands. See cli.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <limits.h>

void cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
    fputs("flameprof: ", stderr);
    if (cmd)
        fprintf(stderr, "%s: ", cmd);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nTry 'flameprof %s%s--help' for more information.\n", cmd ? cmd : "",
            cmd ? " " : "");
}

/* getopt_long runs with opterr = 0 and a leading ':' in the option string, so that it
 * returns ':' for a missing value and '?' for an unknown option; we print one line. */
int cli_bad_option(const char *cmd, char **argv, int c)
{
    char shortopt[3] = { '-', (char)optopt, '\0' };
    /* optopt is the option character for short options, a long option's value (>= 256 for
     * ours) or 0 for an unknown long option: then the culprit is the argument itself. */
    const char *opt = optopt > 0 && optopt < 256 ? shortopt : argv[optind - 1];
    cli_usage_error(cmd, c == ':' ? "option '%s' needs a value" : "unknown option '%s'", opt);
    return EXIT_USAGE;
}

bool cli_parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || *s == '+' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

void cli_line_error(void *ctx, size_t line_no, const char *why)
{
    cli_line_errors *e = ctx;
    /* The total comes at the end. */
    if (++e->seen > CLI_MAX_LINE_ERRORS)
        return;
    if (line_no) /* 0: the message says where (a byte offset, a JSON path) */
        fprintf(stderr, "flameprof: %s:%zu: %s\n", e->name, line_no, why);
    else
        fprintf(stderr, "flameprof: %s: %s\n", e->name, why);
}

void cli_line_errors_end(const cli_line_errors *e, long bad)
{
    if (bad > CLI_MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s: %ld malformed lines skipped in all\n", e->name, bad);
}

/* ---- filters ---- */

static filter g_filter;
static bool g_filter_ready;

filter *cli_filter(void)
{
    if (!g_filter_ready) {
        filter_init(&g_filter);
        g_filter_ready = true;
    }
    return &g_filter;
}

int cli_filter_option(const char *cmd, int c, const char *arg)
{
    static const char *const names[] = { "--hide", "--focus", "--exclude", "--strip" };
    filter_kind kind;
    switch (c) {
    case CLI_OPT_THREADS:
        cli_filter()->threads = true;
        return 0;
    case CLI_OPT_HIDE: kind = FILTER_HIDE; break;
    case CLI_OPT_FOCUS: kind = FILTER_FOCUS; break;
    case CLI_OPT_EXCLUDE: kind = FILTER_EXCLUDE; break;
    case CLI_OPT_STRIP: kind = FILTER_STRIP; break;
    case CLI_OPT_STRIP_RUNTIME:
        kind = FILTER_STRIP;
        arg = FILTER_RUNTIME_PREFIXES;
        break;
    default: return -1;
    }
    char why[256], line[512];
    if (filter_add(cli_filter(), kind, arg, why, sizeof why) == 0)
        return 0;
    snprintf(line, sizeof line, "%s '%%s': %s", names[kind], why);
    cli_usage_error(cmd, line, arg);
    return EXIT_USAGE;
}

int cli_filter_apply(const char *cmd, folded_profile *p)
{
    if (filter_apply(cli_filter(), p) == 0)
        return 0;
    fprintf(stderr, "flameprof: %s: out of memory while filtering\n", cmd);
    return 1;
}

const char *cli_filter_subtitle(const char *subtitle, char *buf, size_t cap)
{
    if (!filter_active(cli_filter()))
        return subtitle;
    char desc[1024];
    filter_describe(cli_filter(), desc, sizeof desc);
    snprintf(buf, cap, "%s%s%s", subtitle ? subtitle : "", subtitle ? " - " : "", desc);
    return buf;
}

int cli_write_file(const char *path, int (*emit)(void *ctx, FILE *out), void *ctx)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp)) {
        fprintf(stderr, "flameprof: %s: name too long\n", path);
        return 1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(stderr, "flameprof: %s: %s\n", path, strerror(errno));
        return 1;
    }
    mode_t mask = umask(0); /* mkstemp makes 0600; a plain file is 0666 less the umask */
    umask(mask);
    fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    int err = !f || emit(ctx, f) < 0 ? errno : 0;
    if (f && fclose(f) != 0 && !err)
        err = errno ? errno : EIO;
    if (!f)
        close(fd);
    if (!err && rename(tmp, path) != 0)
        err = errno;
    if (err) {
        unlink(tmp);
        fprintf(stderr, "flameprof: %s: %s\n", path, strerror(err));
        return 1;
    }
    return 0;
}
