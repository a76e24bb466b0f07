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
    long reported = 0;
    timeline tl;
    timeline_init(&tl, 0);
    rawfile_info info;
    long bad = rawfile_read_all(in, &t, &tl, &info, on_error, &reported);
    fclose(in);
    if (bad >= 0 && bad != reported)
        abort();
    if (bad >= 0 && (info.freq == 0 || info.freq > 100000))
        abort(); /* the header check lets no other frequency through */
    for (size_t i = 0; i < tl.len; i++) /* the timeline names only stacks the file defined */
        if (!stacks_get(&t, tl.cells[i].id) || (i && tl.cells[i].slot < tl.cells[i - 1].slot))
            abort();
    long pid = info.pid;
    timeline_free(&tl);
    uint64_t sum = 0;
    stacks_foreach(&t, visit, &sum);
    stacks_free(&t);
    sink += sum + (uint64_t)pid;
    return 0;
}
