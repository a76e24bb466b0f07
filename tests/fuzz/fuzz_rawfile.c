/* libFuzzer target: the raw-spill reader (core/rawfile.h), as `flameprof report RAWFILE`
 * runs it on what a crashed process left: into a stack table, then every entry visited.
 *
 * rawfile_read registers modules in the process-wide registry (by design: the report runs
 * once per process), so modules accumulate across inputs; ids must continue the registry's
 * count, which the reader checks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rawfile.h"
#include "stacks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

static void on_error(void *ctx, size_t line_no, const char *why)
{
    (void)line_no;
    (void)why;
    (*(long *)ctx)++;
}

static void visit(stack_entry *e, void *ctx)
{
    uint64_t *sum = ctx;
    if (e->depth == 0 || e->depth > RING_MAX_DEPTH)
        abort();
    for (size_t i = 0; i < e->depth; i++)
        *sum += e->pcs[i];
    *sum += e->weight;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0;
    stack_table t;
    stacks_init(&t);
    long pid = 0, reported = 0;
    unsigned freq = 0;
    bool clean = false;
    long bad = rawfile_read(in, &t, &pid, &freq, &clean, on_error, &reported);
    fclose(in);
    if (bad >= 0 && bad != reported)
        abort();
    if (bad >= 0 && (freq == 0 || freq > 100000))
        abort(); /* the header check lets no other frequency through */
    uint64_t sum = 0;
    stacks_foreach(&t, visit, &sum);
    stacks_free(&t);
    sink += sum + (uint64_t)pid;
    return 0;
}
