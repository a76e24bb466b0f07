/* libFuzzer target: the folded-stacks parser and both writers (output/folded.h, svg.h), as
 * `flameprof svg FILE` runs them on a file of unknown origin. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "folded.h"
#include "svg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

static void on_error(void *ctx, size_t line_no, const char *why)
{
    (void)line_no;
    (void)why;
    (*(long *)ctx)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0; /* fmemopen wants a buffer */
    if (!devnull && !(devnull = fopen("/dev/null", "we")))
        abort();
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    folded_profile p;
    folded_init(&p);
    long reported = 0;
    long bad = folded_parse(in, &p, on_error, &reported);
    fclose(in);
    if (bad >= 0 && bad != reported)
        abort(); /* every malformed line is reported, once */
    if (bad >= 0) {
        uint64_t total = 0;
        for (size_t i = 0; i < p.len; i++) {
            if (p.entries[i].count == 0)
                abort(); /* counts are positive */
            total += p.entries[i].count;
        }
        if (total != p.total)
            abort();
        folded_write(&p, devnull);
        svg_options o;
        svg_options_default(&o);
        svg_write(&p, &o, devnull);
        o.inverted = true;
        o.reverse = true;
        o.minwidth = 0;
        o.width = 1 + (int)(size % 3000);
        svg_write(&p, &o, devnull);
    }
    folded_free(&p);
    return 0;
}
