/* cli_input.c - read any profile a subcommand is given. See cli_input.h. */
#include "cli_input.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "cpuprofile.h"
#include "detect.h"
#include "http.h"
#include "shortname.h"
#include "speedscope_read.h"
#include "stream.h"

#define CLI_URL_MARGIN_S 30

void cli_input_defaults(cli_input_opts *o)
{
    memset(o, 0, sizeof(*o));
}

int cli_input_option(cli_input_opts *o, const char *cmd, int opt, const char *arg)
{
    long v;
    switch (opt) {
    case CLI_INPUT_FORMAT:
        if ((o->format = input_format_named(arg)) == INPUT_UNKNOWN) {
            cli_usage_error(cmd, "--input-format wants folded, perf, pprof, cpuprofile or "
                            "speedscope, not '%s'", arg);
            return -1;
        }
        return 1;
    case CLI_INPUT_SAMPLE_INDEX: o->pprof.sample_index = arg; return 1;
    case CLI_INPUT_TAGROOT: o->pprof.tagroot = arg; return 1;
    case CLI_INPUT_PID: o->perf.pid = true; return 1;
    case CLI_INPUT_TID: o->perf.tid = true; return 1;
    case CLI_INPUT_KERNEL: o->perf.kernel = true; return 1;
    case CLI_INPUT_JIT: o->perf.jit = true; return 1;
    case CLI_INPUT_ALL: o->perf.kernel = o->perf.jit = true; return 1;
    case CLI_INPUT_ADDRS: o->perf.addrs = true; return 1;
    case CLI_INPUT_EVENT_FILTER: o->perf.event_filter = arg; return 1;
    case CLI_INPUT_SHORT_NAMES: o->short_names = true; return 1;
    case CLI_INPUT_TIMEOUT:
        if (!cli_parse_long(arg, 1, 86400, &v)) {
            cli_usage_error(cmd, "--timeout wants seconds (1..86400), not '%s'", arg);
            return -1;
        }
        o->timeout = v;
        return 1;
    default:
        return 0;
    }
}

/* The parsed profile takes about as much memory as the file, in one malloc per stack. On
 * the VMs we measured, a first touch of a fresh 4 KB page costs ~10 us: 40% of rendering a
 * 23 MB profile was page faults. So, for big folded files, grow the heap once by the
 * file's size and ask for transparent huge pages there (honoured in THP "madvise" mode):
 * 5600 faults become ~400. Best effort: if anything here does not work, it is just slower. */
static void heap_for(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < (8 << 20) ||
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

/* folded_parse reads a FILE: this one reads the stream (detection's peek included). */
static ssize_t cookie_read(void *cookie, char *buf, size_t n)
{
    return input_stream_read(cookie, buf, n);
}

static long read_folded(input_stream *in, const char *heap_path, folded_profile *p,
                        cli_line_errors *errs)
{
    FILE *f = fopencookie(in, "r", (cookie_io_functions_t){ cookie_read, NULL, NULL, NULL });
    if (!f)
        return -1;
    heap_for(heap_path);
    long bad = folded_parse(f, p, cli_line_error, errs);
    fclose(f);
    if (bad < 0 && in->err)
        fprintf(stderr, "flameprof: %s: %s\n", errs->name, input_stream_error(in));
    return bad;
}

static long read_format(input_stream *in, input_format fmt, const cli_input_opts *o,
                        const char *heap_path, folded_profile *p, cli_line_errors *errs)
{
    if (fmt == INPUT_FOLDED)
        return read_folded(in, heap_path, p, errs);
    input_collector c;
    input_sink sink;
    input_collect_init(&c, p, &sink);
    sink.on_error = cli_line_error;
    sink.err_ctx = errs;
    long bad = -1;
    switch (fmt) {
    case INPUT_PERF_SCRIPT: bad = perfscript_read(in, &o->perf, &sink); break;
    case INPUT_PPROF: bad = pprof_read(in, &o->pprof, &sink); break;
    case INPUT_CPUPROFILE: bad = cpuprofile_read(in, &sink); break;
    case INPUT_SPEEDSCOPE: bad = speedscope_read(in, &sink); break;
    default: break;
    }
    input_collect_finish(&c);
    return bad;
}

/* Opens path or fetches the URL. Returns 0, or 1 after a message. */
static int open_input(const char *path, const cli_input_opts *o, input_stream *in)
{
    if (path && http_is_url(path)) {
        char err[256];
        int fd = http_fetch(path, o->timeout ? o->timeout : CLI_URL_MARGIN_S, err, sizeof(err));
        if (fd < 0 || input_stream_fd(in, fd) < 0) {
            fprintf(stderr, "flameprof: %s: %s\n", path, fd < 0 ? err : strerror(errno));
            return 1;
        }
        return 0;
    }
    if (input_stream_open(in, path) < 0) {
        fprintf(stderr, "flameprof: %s: %s\n", path ? path : "<stdin>", strerror(errno));
        return 1;
    }
    return 0;
}

/* Opens the input and finds its format (o->format, or detected). Returns 0, or 1 after a
 * message (the stream is then closed). */
static int open_detected(const char *path, const cli_input_opts *o, const char *name,
                         input_stream *in, input_format *fmt)
{
    if (open_input(path, o, in) != 0)
        return 1;
    *fmt = o->format;
    if (*fmt == INPUT_UNKNOWN) {
        const char *head;
        size_t n = input_stream_peek(in, &head, DETECT_HEAD);
        *fmt = n == 0 && !in->err ? INPUT_FOLDED : input_detect(head, n);
        if (in->err) {
            fprintf(stderr, "flameprof: %s: %s\n", name, input_stream_error(in));
            input_stream_close(in);
            return 1;
        }
    }
    if (*fmt == INPUT_UNKNOWN || (http_is_url(name) && *fmt != INPUT_PPROF && !o->format)) {
        fprintf(stderr, "flameprof: %s: not a profile flameprof reads (folded, perf script, "
                "pprof, cpuprofile, speedscope)%s\n", name,
                http_is_url(name) ? "; the answer is no pprof profile" : "");
        input_stream_close(in);
        return 1;
    }
    return 0;
}

/* The reader's result: 0, or 1 after "cannot read it" (errno says why, if it is set). */
static int read_end(const char *name, input_format fmt, long bad, int err,
                    const cli_line_errors *errs)
{
    if (bad < 0) {
        fprintf(stderr, "flameprof: %s: cannot read it as %s%s%s\n", name,
                input_format_name(fmt), err ? ": " : "", err ? strerror(err) : "");
        return 1;
    }
    cli_line_errors_end(errs, bad);
    return 0;
}

int cli_read_profile(const char *path, const cli_input_opts *opts, folded_profile *p)
{
    cli_input_opts defaults;
    cli_input_defaults(&defaults);
    const cli_input_opts *o = opts ? opts : &defaults;
    bool use_stdin = !path || strcmp(path, "-") == 0;
    cli_line_errors errs = { use_stdin ? "<stdin>" : path, 0 };
    input_stream in;
    input_format fmt;
    if (open_detected(use_stdin ? NULL : path, o, errs.name, &in, &fmt) != 0)
        return 1;
    errno = 0;
    long bad = read_format(&in, fmt, o, use_stdin ? NULL : path, p, &errs);
    int err = errno;
    input_stream_close(&in);
    if (read_end(errs.name, fmt, bad, err, &errs) != 0)
        return 1;
    if (o->short_names && shortname_profile(p) != 0) {
        fprintf(stderr, "flameprof: %s: short names: out of memory\n", errs.name);
        return 1;
    }
    return 0;
}

/* Folded stacks as samples without time, one per stack. */
static long folded_samples(input_stream *in, input_sink *sink, cli_line_errors *errs)
{
    folded_profile p;
    folded_init(&p);
    long bad = read_folded(in, NULL, &p, errs);
    for (size_t i = 0; bad >= 0 && i < p.len; i++) {
        input_sample s = { p.entries[i].stack, strlen(p.entries[i].stack), p.entries[i].count,
                           INPUT_NO_TIME };
        if (sink->on_sample(sink->ctx, &s) < 0)
            bad = -1;
    }
    folded_free(&p);
    return bad;
}

int cli_read_samples(const char *path, const cli_input_opts *o, input_sink *sink,
                     input_format *fmt)
{
    bool use_stdin = !path || strcmp(path, "-") == 0;
    cli_line_errors errs = { use_stdin ? "<stdin>" : path, 0 };
    input_stream in;
    if (open_detected(use_stdin ? NULL : path, o, errs.name, &in, fmt) != 0)
        return 1;
    sink->on_error = cli_line_error;
    sink->err_ctx = &errs;
    sink->untimed = false;
    errno = 0;
    long bad = -1;
    switch (*fmt) {
    case INPUT_PERF_SCRIPT: bad = perfscript_read(&in, &o->perf, sink); break;
    case INPUT_PPROF: bad = pprof_read(&in, &o->pprof, sink); break;
    case INPUT_CPUPROFILE: bad = cpuprofile_read(&in, sink); break;
    case INPUT_SPEEDSCOPE: bad = speedscope_read(&in, sink); break;
    default: /* folded stacks: no time, one sample per stack */
        bad = folded_samples(&in, sink, &errs);
        break;
    }
    int err = errno;
    input_stream_close(&in);
    return read_end(errs.name, *fmt, bad, err, &errs);
}
