/* cli.c - helpers shared by the flameprof subcommands. See cli.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

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
    if (++e->seen <= CLI_MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s:%zu: %s\n", e->name, line_no, why);
}

void cli_line_errors_end(const cli_line_errors *e, long bad)
{
    if (bad > CLI_MAX_LINE_ERRORS)
        fprintf(stderr, "flameprof: %s: %ld malformed lines skipped in all\n", e->name, bad);
}

/* The parsed profile takes about as much memory as the file, in one malloc per stack. On
 * the VMs we measured, a first touch of a fresh 4 KB page costs ~10 us: 40% of rendering a
 * 23 MB profile was page faults. So, for big files, grow the heap once by the file's size
 * and ask for transparent huge pages there (honoured in THP "madvise" mode): 5600 faults
 * become ~400. Best effort: if anything here does not work, it is just slower. */
static void heap_for(FILE *in)
{
    struct stat st;
    if (fstat(fileno(in), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (8 << 20) ||
        st.st_size > (1L << 30))
        return;
    size_t want = (size_t)st.st_size + (size_t)st.st_size / 4; /* + headers and arrays */
    mallopt(M_MMAP_THRESHOLD, 32 << 20); /* keep the big arrays in that heap too */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);  /* and do not hand it back when they move */
    mallopt(M_TOP_PAD, (int)want);       /* the next growth takes it all at once */
    static void *volatile probe; /* volatile: the compiler may not drop malloc + free */
    char *before = sbrk(0);
    probe = malloc(1 << 20); /* more than the fresh heap holds: that growth, now */
    char *after = sbrk(0);
    free(probe);
    uintptr_t huge = 2u << 20, lo = ((uintptr_t)before + huge - 1) & ~(huge - 1);
    if (before != (char *)-1 && after != (char *)-1 && (uintptr_t)after > lo + huge)
        madvise((void *)lo, (uintptr_t)after - lo, MADV_HUGEPAGE);
}

int cli_read_folded(const char *path, folded_profile *p)
{
    bool use_stdin = !path || strcmp(path, "-") == 0;
    FILE *in = use_stdin ? stdin : fopen(path, "r");
    if (!in) {
        fprintf(stderr, "flameprof: %s: %s\n", path, strerror(errno));
        return 1;
    }
    cli_line_errors errs = { use_stdin ? "<stdin>" : path, 0 };
    heap_for(in);
    errno = 0;
    long bad = folded_parse(in, p, cli_line_error, &errs);
    int err = errno;
    if (!use_stdin)
        fclose(in);
    if (bad < 0) {
        fprintf(stderr, "flameprof: %s: %s\n", errs.name, err ? strerror(err) : "read error");
        return 1;
    }
    cli_line_errors_end(&errs, bad);
    return 0;
}
