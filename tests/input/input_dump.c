/* input_dump.c - reads a profile with one reader and prints what it produced: the folded
 * stacks (sorted, merged), or with -t each sample as "TIME_NS WEIGHT STACK" in input order.
 * The golden tests compare this with the reference tools' output.
 *
 *   input_dump [-t] [--perf-pid] [--perf-tid] [--perf-kernel] [--perf-jit] [--perf-addrs]
 *              [--event-filter E] FORMAT FILE */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "cpuprofile.h"
#include "speedscope_read.h"
#include "perfscript.h"
#include "pprof_read.h"
#include "stream.h"

static void on_error(void *ctx, size_t line_no, const char *why)
{
    fprintf(stderr, "input_dump: %s:%zu: %s\n", (const char *)ctx, line_no, why);
}

static int print_sample(void *ctx, const input_sample *s)
{
    (void)ctx;
    if (s->time_ns == INPUT_NO_TIME)
        printf("- ");
    else
        printf("%" PRId64 " ", s->time_ns);
    printf("%" PRIu64 " %.*s\n", s->weight, (int)s->len, s->stack);
    return 0;
}

int main(int argc, char **argv)
{
    perfscript_opts po = { 0 };
    pprof_read_opts pp = { NULL, NULL };
    int timed = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-t")) timed = 1;
        else if (!strcmp(argv[i], "--perf-pid")) po.pid = true;
        else if (!strcmp(argv[i], "--perf-tid")) po.tid = true;
        else if (!strcmp(argv[i], "--perf-kernel")) po.kernel = true;
        else if (!strcmp(argv[i], "--perf-jit")) po.jit = true;
        else if (!strcmp(argv[i], "--perf-addrs")) po.addrs = true;
        else if (!strcmp(argv[i], "--event-filter") && i + 1 < argc) po.event_filter = argv[++i];
        else if (!strcmp(argv[i], "--sample-index") && i + 1 < argc) pp.sample_index = argv[++i];
        else if (!strcmp(argv[i], "--tagroot") && i + 1 < argc) pp.tagroot = argv[++i];
        else { fprintf(stderr, "input_dump: unknown option %s\n", argv[i]); return 2; }
    }
    if (argc - i != 2) {
        fprintf(stderr, "usage: input_dump [options] FORMAT FILE\n");
        return 2;
    }
    input_format fmt = input_format_named(argv[i]);
    input_stream in;
    if (input_stream_open(&in, argv[i + 1]) < 0) {
        perror(argv[i + 1]);
        return 1;
    }
    folded_profile p;
    folded_init(&p);
    input_collector c;
    input_sink sink;
    input_collect_init(&c, &p, &sink);
    if (timed) {
        sink.on_sample = print_sample;
        sink.untimed = false; /* samples one by one, in order, with their times */
    }
    sink.on_error = on_error;
    sink.err_ctx = argv[i + 1];
    long rc = -1;
    switch (fmt) {
    case INPUT_PERF_SCRIPT:
        rc = perfscript_read(&in, &po, &sink);
        break;
    case INPUT_PPROF:
        rc = pprof_read(&in, &pp, &sink);
        break;
    case INPUT_CPUPROFILE:
        rc = cpuprofile_read(&in, &sink);
        break;
    case INPUT_SPEEDSCOPE:
        rc = speedscope_read(&in, &sink);
        break;
    default:
        fprintf(stderr, "input_dump: format %s not supported here\n", argv[i]);
    }
    input_stream_close(&in);
    input_collect_finish(&c);
    if (!timed)
        folded_write(&p, stdout);
    folded_free(&p);
    return rc < 0 ? 1 : 0;
}
