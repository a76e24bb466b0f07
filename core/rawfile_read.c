/* rawfile_read.c - the raw spill's reader (flameprof report, flameprof heatmap): see
 * rawfile.h for the records. Versions 1 (S records: whole stacks with their weight deltas)
 * and 2 (K once per stack, W deltas, T timeline slots) are read, with their threads (H before
 * the S or K records of a thread, N names). With no stack table, only
 * the timeline is read, its ids taken as they are (the library reading back its own
 * file). */
#include "rawfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "modules.h"
#include "threads.h"
#include "timeline.h"

typedef struct reader {
    rawfile_error_fn on_error;
    void *ctx;
    size_t line_no;
    long bad;
    stack_table *t;
    timeline *tl;           /* NULL: T records are skipped */
    rawfile_info *info;
    stack_entry **by_file_id; /* K records in order: file id -> entry */
    size_t nk, cap;
    ring_sample *s;         /* s->tid: the H record in force */
} reader;

static void bad_line(reader *r, const char *why)
{
    r->bad++;
    if (r->on_error)
        r->on_error(r->ctx, r->line_no, why);
}

/* Next hex number in *p (after spaces). */
static bool hex(char **p, uint64_t *out)
{
    char *s = *p;
    while (*s == ' ')
        s++;
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 16);
    if (errno || (*end != ' ' && *end != 0))
        return false;
    *out = v;
    *p = end;
    return true;
}

static bool hexes(char **p, uint64_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!hex(p, &v[i]))
            return false;
    return true;
}

static void read_module(reader *r, char *p)
{
    uint64_t v[4];
    if (!hexes(&p, v, 4) || *p != ' ' || !p[1] || v[0] > INT32_MAX)
        return bad_line(r, "module record: want M id start end bias path");
    if (modules_restore((int)v[0], p + 1, v[1], v[2], v[3]) != 0)
        bad_line(r, "module record out of order or empty range");
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void read_build_id(reader *r, char *p)
{
    uint64_t id;
    unsigned char bytes[MODULE_BUILD_ID_MAX];
    size_t n = 0;
    if (!hex(&p, &id) || id > INT32_MAX || *p != ' ')
        return bad_line(r, "build-id record: want B id hex");
    for (p++; n < sizeof bytes && hex_digit(p[0]) >= 0 && hex_digit(p[1]) >= 0; p += 2)
        bytes[n++] = (unsigned char)(hex_digit(p[0]) << 4 | hex_digit(p[1]));
    if (n == 0 || *p)
        bad_line(r, "build-id record: want B id hex (up to 64 bytes)");
    else if (modules_restore_build_id((int)id, bytes, n) != 0)
        bad_line(r, "build-id record: unknown module");
}

static void read_map(reader *r, char *p)
{
    uint64_t gen, n;
    if (!hex(&p, &gen) || !hex(&p, &n) || n > 1 << 20 || gen > UINT32_MAX)
        return bad_line(r, "map record: want G gen n ids...");
    int *ids = malloc((n ? n : 1) * sizeof *ids);
    bool ok = ids != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t id;
        ok = hex(&p, &id) && id <= INT32_MAX;
        if (ok)
            ids[i] = (int)id;
    }
    if (!ok || *p)
        bad_line(r, "map record: bad module ids");
    else if (modules_restore_map((uint32_t)gen, ids, n) != 0)
        bad_line(r, "map record: unknown module, overlap, or generation out of order");
    free(ids);
}

/* gen pm_gen jvm_gen flags depth pcs... into r->s; *pm_gen apart. */
static bool read_stack_body(reader *r, char *p, uint32_t *pm_gen)
{
    uint64_t v[5];
    ring_sample *s = r->s;
    if (!hexes(&p, v, 5) || v[4] == 0 || v[4] > RING_MAX_DEPTH || v[0] > UINT32_MAX ||
        v[1] > UINT32_MAX || v[2] > UINT32_MAX || v[3] > 0xffff)
        return false;
    s->gen = (uint32_t)v[0];
    *pm_gen = (uint32_t)v[1];
    s->jvm_gen = (uint32_t)v[2];
    s->flags = (uint16_t)v[3];
    s->depth = (uint16_t)v[4];
    return hexes(&p, s->pcs, s->depth) && !*p;
}

/* H tid: the thread of the S or K records that follow. */
static void read_thread(reader *r, char *p)
{
    uint64_t v;
    if (!hex(&p, &v) || *p || v > UINT32_MAX)
        return bad_line(r, "thread record: want H tid");
    r->s->tid = (uint32_t)v;
}

/* N tid name */
static void read_name(reader *r, char *p)
{
    uint64_t v;
    if (!hex(&p, &v) || *p != ' ' || v == 0 || v > UINT32_MAX)
        return bad_line(r, "name record: want N tid name");
    if (threads_set((uint32_t)v, p + 1) != 0)
        bad_line(r, "out of memory");
}

/* Version 1: S weight samples gen pm_gen jvm_gen flags depth pcs... */
static void read_stack_v1(reader *r, char *p)
{
    uint64_t v[2];
    uint32_t pm_gen;
    if (!hexes(&p, v, 2) || v[0] == 0 || !read_stack_body(r, p, &pm_gen))
        return bad_line(r, "stack record: want S weight samples gen pm_gen jvm_gen flags "
                           "depth pcs...");
    if (stacks_merge(r->t, r->s, pm_gen, v[0], v[1]) != 0)
        bad_line(r, "out of memory");
}

/* K id gen pm_gen jvm_gen flags depth pcs...: ids come 0, 1, 2, ... */
static void read_key(reader *r, char *p)
{
    uint64_t id;
    uint32_t pm_gen;
    if (!hex(&p, &id) || !read_stack_body(r, p, &pm_gen))
        return bad_line(r, "stack record: want K id gen pm_gen jvm_gen flags depth pcs...");
    if (id != r->nk)
        return bad_line(r, "stack record out of order");
    if (r->nk == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 1024;
        stack_entry **v = realloc(r->by_file_id, cap * sizeof *v);
        if (!v)
            return bad_line(r, "out of memory");
        r->by_file_id = v;
        r->cap = cap;
    }
    stack_entry *e = stacks_put(r->t, r->s, pm_gen, 0, 0);
    if (!e)
        return bad_line(r, "out of memory");
    r->by_file_id[r->nk++] = e;
}

/* W id weight samples */
static void read_weight(reader *r, char *p)
{
    uint64_t v[3];
    if (!hexes(&p, v, 3) || *p || v[1] == 0)
        return bad_line(r, "weight record: want W id weight samples");
    if (v[0] >= r->nk)
        return bad_line(r, "weight record: unknown stack");
    r->by_file_id[v[0]]->weight += v[1];
    r->by_file_id[v[0]]->samples += v[2];
}

/* T slot n (id weight)... */
static void read_slot(reader *r, char *p)
{
    uint64_t slot, n, v[2];
    if (!hex(&p, &slot) || !hex(&p, &n) || slot >= UINT32_MAX)
        return bad_line(r, "timeline record: want T slot n id weight...");
    char *q = p;
    bool ids_only = r->t == NULL; /* the writer's own file: ids are the table's */
    for (uint64_t i = 0; i < n; i++)
        if (!hexes(&q, v, 2) || (!ids_only && v[0] >= r->nk) || v[0] > UINT32_MAX || v[1] == 0)
            return bad_line(r, "timeline record: bad or unknown stack, or no weight");
    if (*q)
        return bad_line(r, "timeline record: more pairs than it says");
    if (slot + 1 > r->info->end_slot)
        r->info->end_slot = (uint32_t)slot + 1;
    for (uint64_t i = 0; r->tl && i < n; i++) {
        hexes(&p, v, 2);
        uint32_t id = ids_only ? (uint32_t)v[0] : r->by_file_id[v[0]]->id;
        if (timeline_add(r->tl, (uint32_t)slot, id, v[1]) != 0)
            return bad_line(r, "out of memory");
    }
}

static void read_origin(reader *r, char *p, bool drop)
{
    uint64_t v[2];
    if (drop && hex(&p, &v[0]) && !*p && v[0] < UINT32_MAX)
        r->info->first_slot = (uint32_t)v[0];
    else if (!drop && hexes(&p, v, 2) && !*p && v[1] == TIMELINE_SLOT_NS)
        r->info->start_unix_ns = v[0];
    else
        bad_line(r, drop ? "drop record: want D slot" : "origin record: want O unix_ns 1312d00");
}

static bool read_header(FILE *in, reader *r)
{
    char line[128];
    uint64_t v[2];
    char *p;
    if (!fgets(line, sizeof line, in))
        return false;
    if (strcmp(line, "flameprof-raw 1\n") == 0)
        r->info->version = 1;
    else if (strcmp(line, "flameprof-raw 2\n") == 0)
        r->info->version = 2;
    else
        return false;
    if (!fgets(line, sizeof line, in) || line[0] != 'P')
        return false;
    line[strcspn(line, "\n")] = 0;
    p = line + 1;
    if (!hexes(&p, v, 2) || v[0] > INT32_MAX || v[1] == 0 || v[1] > 100000)
        return false;
    r->info->pid = (long)v[0];
    r->info->freq = (unsigned)v[1];
    if (*p && hexes(&p, v, 2) && v[0] <= 1 && v[1] <= 1) { /* mode, source: since issue 14 */
        r->info->mode = (unsigned)v[0];
        r->info->source = (unsigned)v[1];
    }
    r->line_no = 2;
    return true;
}

static void read_line(reader *r, char *line)
{
    char c = line[0];
    bool v2 = r->info->version == 2;
    if (c && line[1] != ' ' && strcmp(line, "E") != 0)
        return bad_line(r, "unknown record");
    if (!r->t && c != 'T' && c != 'O' && c != 'D' && c != 'E')
        return; /* the timeline only */
    if (c == 'M')
        read_module(r, line + 1);
    else if (c == 'B')
        read_build_id(r, line + 1);
    else if (c == 'G')
        read_map(r, line + 1);
    else if (c == 'H')
        read_thread(r, line + 1);
    else if (c == 'N')
        read_name(r, line + 1);
    else if (c == 'S' && !v2)
        read_stack_v1(r, line + 1);
    else if (c == 'K' && v2)
        read_key(r, line + 1);
    else if (c == 'W' && v2)
        read_weight(r, line + 1);
    else if (c == 'T' && v2)
        read_slot(r, line + 1);
    else if ((c == 'O' || c == 'D') && v2)
        read_origin(r, line + 1, c == 'D');
    else if (c == 'E')
        r->info->clean = true;
    else
        bad_line(r, "unknown record");
}

long rawfile_read_all(FILE *in, stack_table *t, timeline *tl, rawfile_info *info,
                      rawfile_error_fn on_error, void *ctx)
{
    memset(info, 0, sizeof *info);
    reader r = { .on_error = on_error, .ctx = ctx, .t = t, .tl = tl, .info = info };
    if (!read_header(in, &r))
        return -1;
    r.s = calloc(1, sizeof *r.s);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (r.s && (n = getline(&line, &cap, in)) > 0) {
        r.line_no++;
        if (line[n - 1] != '\n')
            break; /* the last line, cut short by the crash (or still being written) */
        line[n - 1] = 0;
        if (memchr(line, 0, (size_t)n - 1))
            bad_line(&r, "NUL byte");
        else
            read_line(&r, line);
    }
    bool ok = r.s != NULL;
    free(line);
    free(r.s);
    free(r.by_file_id);
    if (tl) {
        timeline_finish(tl);
        tl->first_slot = info->first_slot;
    }
    return ok ? r.bad : -1;
}

long rawfile_read(FILE *in, stack_table *t, long *pid, unsigned *freq, bool *clean,
                  rawfile_error_fn on_error, void *ctx)
{
    rawfile_info info;
    long rc = rawfile_read_all(in, t, NULL, &info, on_error, ctx);
    *pid = info.pid;
    *freq = info.freq;
    *clean = info.clean;
    return rc;
}
