/* libFuzzer target: one reader of input/ (chosen at build time with -DFUZZ_READER=...:
 * 1 perf script, 2 pprof, 3 V8 cpuprofile, 4 speedscope) and the format detection, as
 * `flameprof svg FILE` runs them on a file of unknown origin. Every sample must be a
 * non-empty stack without newline or NUL and a positive weight; the collected profile's
 * total must be the sum of the weights. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "cpuprofile.h"
#include "detect.h"
#include "perfscript.h"
#include "pprof_read.h"
#include "speedscope_read.h"
#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_ctx {
    input_collector c;
    input_sink collect;
    uint64_t sum;
} fuzz_ctx;

static int on_sample(void *ctx, const input_sample *s)
{
    fuzz_ctx *f = ctx;
    if (s->len == 0 || s->weight == 0 || memchr(s->stack, '\n', s->len))
        abort();
    f->sum = s->weight > UINT64_MAX - f->sum ? UINT64_MAX : f->sum + s->weight;
    return f->collect.on_sample(f->collect.ctx, s);
}

static void on_error(void *ctx, size_t line_no, const char *why)
{
    (void)ctx;
    (void)line_no;
    if (!why || !*why)
        abort(); /* every error says what */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)input_detect((const char *)data, size);
    input_stream in;
    if (input_stream_mem(&in, data, size) < 0)
        return 0;
    folded_profile p;
    folded_init(&p);
    fuzz_ctx f;
    memset(&f, 0, sizeof(f));
    input_collect_init(&f.c, &p, &f.collect);
    input_sink sink = { .on_sample = on_sample, .on_error = on_error, .ctx = &f,
                        .untimed = (size & 32) != 0 };
#if FUZZ_READER == 1
    perfscript_opts o = { size & 1, size & 2, size & 4, size & 8, size & 16, NULL };
    long rc = perfscript_read(&in, &o, &sink);
#elif FUZZ_READER == 2
    pprof_read_opts o = { (size & 1) ? "0" : NULL, (size & 2) ? "a,b" : NULL };
    long rc = pprof_read(&in, &o, &sink);
#elif FUZZ_READER == 3
    long rc = cpuprofile_read(&in, &sink);
#else
    long rc = speedscope_read(&in, &sink);
#endif
    input_stream_close(&in);
    input_collect_finish(&f.c);
    if (rc >= 0 && p.total != f.sum)
        abort();
    folded_free(&p);
    return 0;
}
