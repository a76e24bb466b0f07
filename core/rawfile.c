/* rawfile.c - raw sample spill: writer (aggregator thread) and reader (flameprof report). */
#include "rawfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "modules.h"
#include "outfile.h"

enum { BUF_SIZE = 1 << 16, LINE_MAX_BYTES = 32 + RING_MAX_DEPTH * 17 + 128 };

/* ---- writer ----
 * Plain write(2) through our own buffer rather than stdio: after fork the child must be
 * able to drop the parent's unwritten bytes instead of flushing them into the parent's
 * file. */

static int g_fd = -1;
static char g_path[PATH_MAX];
static char *g_buf;
static size_t g_len;
static size_t g_modules_written, g_maps_written;
static bool g_failed;
static unsigned g_freq;
/* Compaction: deltas accumulate; once they outweigh a full snapshot several times over,
 * the file is rewritten as one snapshot, so a long run's spill stays proportional to its
 * distinct stacks, not to its duration. */
static uint64_t g_file_bytes, g_snapshot_bytes;
enum { COMPACT_FACTOR = 4, COMPACT_MIN_BYTES = 1 << 20 };

/* The file we created, to recognise our descriptor: a daemonizing program closes every
 * descriptor and may get our number back for its own file, which we must then neither
 * write to nor close. */
static dev_t g_dev;
static ino_t g_ino;

static bool fd_is_ours(void)
{
    struct stat st;
    return g_fd >= 0 && fstat(g_fd, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino;
}

/* Our descriptor is gone: forget it, remove the file if it is still ours by name. */
static void abandon(void)
{
    struct stat st;
    if (lstat(g_path, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino)
        unlink(g_path);
    g_fd = -1;
    g_len = 0;
}

static void flush_buf(void)
{
    size_t off = 0;
    if (g_len && !fd_is_ours()) {
        abandon();
        return;
    }
    while (off < g_len && !g_failed) {
        ssize_t n = write(g_fd, g_buf + off, g_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            g_failed = true; /* ENOSPC and the like: the final profile may still be written */
        else
            off += (size_t)n;
        g_file_bytes += n > 0 ? (uint64_t)n : 0;
    }
    g_len = 0;
}

static void put(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void put(const char *fmt, ...)
{
    if (g_fd < 0 || g_failed)
        return;
    if (BUF_SIZE - g_len < LINE_MAX_BYTES)
        flush_buf();
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(g_buf + g_len, BUF_SIZE - g_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        g_len += (size_t)n < BUF_SIZE - g_len ? (size_t)n : BUF_SIZE - g_len - 1;
}

int rawfile_open(const char *stem, unsigned freq)
{
    if (!g_buf && !(g_buf = malloc(BUF_SIZE)))
        return -1;
    g_fd = outfile_create(stem, ".raw", g_path, sizeof g_path);
    if (g_fd < 0)
        return -1;
    struct stat st;
    if (fstat(g_fd, &st) != 0) {
        close(g_fd);
        g_fd = -1;
        return -1;
    }
    g_dev = st.st_dev;
    g_ino = st.st_ino;
    g_freq = freq;
    g_len = 0;
    g_failed = false;
    g_modules_written = g_maps_written = 0;
    g_file_bytes = g_snapshot_bytes = 0;
    put("flameprof-raw 1\nP %lx %x\n", (long)getpid(), freq);
    flush_buf();
    return 0;
}

void rawfile_discard(void)
{
    struct stat st;
    if (g_fd >= 0 && lstat(g_path, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino)
        unlink(g_path);
}

const char *rawfile_path(void)
{
    return g_fd >= 0 ? g_path : NULL;
}

static void put_path(const char *p)
{
    char safe[PATH_MAX];
    size_t i = 0;
    for (; p[i] && i < sizeof safe - 1; i++)
        safe[i] = p[i] == '\n' ? '?' : p[i];
    safe[i] = 0;
    put("%s\n", safe);
}

/* arg non-NULL: a full snapshot (whole weights; what was spilled is left as it was). */
static void spill_stack(stack_entry *e, void *arg)
{
    bool full = arg != NULL;
    uint64_t w = full ? e->weight : e->weight - e->spilled_weight;
    uint64_t n = full ? e->samples : e->samples - e->spilled_samples;
    if (w == 0)
        return;
    put("S %lx %lx %x %x %x %x %x", (unsigned long)w, (unsigned long)n, e->gen, e->pm_gen,
        e->jvm_gen, e->flags, e->depth);
    for (size_t i = 0; i < e->depth; i++)
        put(" %lx", (unsigned long)e->pcs[i]);
    put("\n");
    if (!full) {
        e->spilled_weight = e->weight;
        e->spilled_samples = e->samples;
    }
}

static void mark_spilled(stack_entry *e, void *arg)
{
    (void)arg;
    e->spilled_weight = e->weight;
    e->spilled_samples = e->samples;
}

static void spill_modules_and_maps(void)
{
    for (size_t n = modules_count(); g_modules_written < n; g_modules_written++) {
        const unwind_module *m = modules_get((int)g_modules_written);
        put("M %x %lx %lx %lx ", m->id, (unsigned long)m->start, (unsigned long)m->end,
            (unsigned long)m->bias);
        put_path(m->path);
        if (m->build_id_len > 0) {
            put("B %x ", m->id);
            for (size_t i = 0; i < m->build_id_len; i++)
                put("%02x", m->build_id[i]);
            put("\n");
        }
    }
    for (const module_map *m; (m = modules_by_gen((uint32_t)g_maps_written)); g_maps_written++) {
        put("G %x %zx", m->gen, m->len);
        for (size_t i = 0; i < m->len; i++)
            put(" %x", m->r[i].mod->id);
        put("\n");
    }
}

/* Rewrite the spill as one snapshot: a new file beside it, renamed over it (both are ours:
 * the old one was created with O_EXCL). On any failure the old file stays as it was. */
static void compact(stack_table *t)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.new", g_path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0)
        return;
    int old_fd = g_fd;
    dev_t old_dev = g_dev;
    ino_t old_ino = g_ino;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        unlink(tmp);
        return;
    }
    g_dev = st.st_dev;
    g_ino = st.st_ino;
    size_t old_modules = g_modules_written, old_maps = g_maps_written;
    g_fd = fd;
    g_len = 0;
    g_file_bytes = 0;
    g_modules_written = g_maps_written = 0;
    put("flameprof-raw 1\nP %lx %x\n", (long)getpid(), g_freq);
    spill_modules_and_maps();
    stacks_foreach(t, spill_stack, (void *)1); /* whole weights: everything so far */
    flush_buf();
    struct stat old_st;
    bool old_ours = fstat(old_fd, &old_st) == 0 && old_st.st_dev == old_dev &&
                    old_st.st_ino == old_ino;
    if (!g_failed && rename(tmp, g_path) == 0) {
        if (old_ours)
            close(old_fd);
        stacks_foreach(t, mark_spilled, NULL);
        g_snapshot_bytes = g_file_bytes;
    } else {
        close(fd);
        unlink(tmp);
        g_fd = old_fd; /* the old file is intact and still complete up to its last spill */
        g_dev = old_dev;
        g_ino = old_ino;
        g_modules_written = old_modules;
        g_maps_written = old_maps;
        g_failed = false;
        g_snapshot_bytes = g_file_bytes; /* do not retry at every spill */
    }
}

void rawfile_spill(stack_table *t)
{
    if (g_fd < 0 || g_failed)
        return;
    uint64_t limit = COMPACT_FACTOR * g_snapshot_bytes;
    if (g_snapshot_bytes && g_file_bytes > (limit > COMPACT_MIN_BYTES ? limit : COMPACT_MIN_BYTES)) {
        compact(t);
        return;
    }
    spill_modules_and_maps();
    stacks_foreach(t, spill_stack, NULL);
    flush_buf();
    if (!g_snapshot_bytes)
        g_snapshot_bytes = g_file_bytes; /* the first spill holds everything so far */
}

void rawfile_close(bool remove)
{
    if (g_fd < 0)
        return;
    if (!remove) {
        put("E\n");
        flush_buf();
    }
    if (!fd_is_ours()) {
        abandon();
        return;
    }
    close(g_fd);
    g_fd = -1;
    if (remove)
        unlink(g_path);
}

void rawfile_after_fork_child(void)
{
    if (fd_is_ours())
        close(g_fd); /* unwritten bytes are the parent's: drop them */
    g_fd = -1;
    g_len = 0;
}

/* ---- reader ---- */

typedef struct reader {
    rawfile_error_fn on_error;
    void *ctx;
    size_t line_no;
    long bad;
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

static void read_stack(reader *r, char *p, stack_table *t, ring_sample *s)
{
    uint64_t v[7];
    if (!hexes(&p, v, 7) || v[0] == 0 || v[6] == 0 || v[6] > RING_MAX_DEPTH ||
        v[2] > UINT32_MAX || v[3] > UINT32_MAX || v[4] > UINT32_MAX || v[5] > 0xffff)
        return bad_line(r, "stack record: want S weight samples gen pm_gen jvm_gen flags "
                           "depth pcs...");
    s->gen = (uint32_t)v[2];
    s->jvm_gen = (uint32_t)v[4];
    s->flags = (uint16_t)v[5];
    s->depth = (uint16_t)v[6];
    if (!hexes(&p, s->pcs, s->depth) || *p)
        return bad_line(r, "stack record: depth does not match the addresses");
    if (stacks_merge(t, s, (uint32_t)v[3], v[0], v[1]) != 0)
        bad_line(r, "out of memory");
}

static bool read_header(FILE *in, reader *r, long *pid, unsigned *freq)
{
    char line[128];
    uint64_t v[2];
    char *p;
    if (!fgets(line, sizeof line, in) || strcmp(line, "flameprof-raw 1\n") != 0)
        return false;
    if (!fgets(line, sizeof line, in) || line[0] != 'P')
        return false;
    line[strcspn(line, "\n")] = 0;
    p = line + 1;
    if (!hexes(&p, v, 2) || v[0] > INT32_MAX || v[1] == 0 || v[1] > 100000)
        return false;
    *pid = (long)v[0];
    *freq = (unsigned)v[1];
    r->line_no = 2;
    return true;
}

long rawfile_read(FILE *in, stack_table *t, long *pid, unsigned *freq, bool *clean,
                  rawfile_error_fn on_error, void *ctx)
{
    reader r = { on_error, ctx, 0, 0 };
    *clean = false;
    if (!read_header(in, &r, pid, freq))
        return -1;
    ring_sample *s = malloc(sizeof *s);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (s && (n = getline(&line, &cap, in)) > 0) {
        r.line_no++;
        if (line[n - 1] != '\n')
            break; /* the last line, cut short by the crash */
        line[n - 1] = 0;
        if (memchr(line, 0, (size_t)n - 1))
            bad_line(&r, "NUL byte");
        else if (line[0] == 'M' && line[1] == ' ')
            read_module(&r, line + 1);
        else if (line[0] == 'B' && line[1] == ' ')
            read_build_id(&r, line + 1);
        else if (line[0] == 'G' && line[1] == ' ')
            read_map(&r, line + 1);
        else if (line[0] == 'S' && line[1] == ' ')
            read_stack(&r, line + 1, t, s);
        else if (strcmp(line, "E") == 0)
            *clean = true;
        else
            bad_line(&r, "unknown record");
    }
    bool ok = s != NULL;
    free(line);
    free(s);
    return ok ? r.bad : -1;
}
