/* heatmap_gen.c - writes the heatmap page of a synthetic run, for the browser tests: SECONDS
 * of a busy 4-thread program at 997 Hz (20 samples per 20 ms slot, ~4 periods each) over 400
 * stacks 8-31 frames deep, named like a service's (mod_N;fn_N;...), drawn with a skewed
 * distribution. Usage: heatmap_gen OUT.html SECONDS. Prints the page's size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heatmap.h"
#include "synth.h"

enum { STACKS = 400, PER_SLOT = 20 };


static int cell_cmp(const void *a, const void *b)
{
    const heatmap_cell *x = a, *y = b;
    return x->slot != y->slot ? (x->slot < y->slot ? -1 : 1) : (x->id > y->id) - (x->id < y->id);
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    unsigned seconds = (unsigned)atoi(argv[2]);
    char **names = calloc(STACKS, sizeof *names);
    for (unsigned k = 0; k < STACKS; k++) {
        char buf[2048];
        size_t n = (size_t)snprintf(buf, sizeof buf, "_start;main;serve");
        for (unsigned i = 0; i < 5 + k % 24; i++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, ";mod_%u::handler_%u", i, (k >> (i % 5)) % 37);
        names[k] = strdup(buf);
    }
    size_t ncells = (size_t)seconds * 50 * PER_SLOT, len = 0;
    heatmap_cell *cells = malloc(ncells * sizeof *cells);
    for (uint32_t slot = 0; slot < seconds * 50; slot++) {
        size_t first = len;
        for (unsigned i = 0; i < PER_SLOT; i++) {
            uint64_t r = synth_next();
            uint32_t id = synth_stack(r, STACKS);
            cells[len++] = (heatmap_cell){ slot, id, synth_weight(r) };
        }
        qsort(cells + first, PER_SLOT, sizeof *cells, cell_cmp);
        size_t out = first; /* merge equal ids */
        for (size_t i = first + 1; i < len; i++) {
            if (cells[i].id == cells[out].id)
                cells[out].weight += cells[i].weight;
            else
                cells[++out] = cells[i];
        }
        len = out + 1;
    }
    heatmap_input in = { .stacks = (const char *const *)names, .nstacks = STACKS,
                         .cells = cells, .ncells = len, .first_slot = 0,
                         .start_unix_ns = 1700000000000000000ull, .freq = 997,
                         .title = "synthetic" };
    FILE *f = fopen(argv[1], "w");
    int rc = !f || heatmap_write(&in, f) != 0 || fclose(f) != 0;
    FILE *g = fopen(argv[1], "r");
    if (g) {
        fseek(g, 0, SEEK_END);
        printf("heatmap_gen: %u s, %zu cells, page %ld bytes\n", seconds, len, ftell(g));
        fclose(g);
    }
    for (unsigned k = 0; k < STACKS; k++)
        free(names[k]);
    free(names);
    free(cells);
    return rc;
}
