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
#include "pynames.h"
#include "rtnames.h"
#include "threads.h"
#include "timeline.h"
#include <time.h>

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
static uint32_t g_cur_tid; /* the thread of the K records being written (H records) */
static bool g_names_all;   /* write every thread name (a new file), not only changes */
static bool g_any_tid;     /* some K record had a thread */
/* Compaction: deltas accumulate; once they outweigh a full snapshot several times over,
 * the file is rewritten as one snapshot, so a long run's spill stays proportional to its
 * distinct stacks, not to its duration. */
static uint64_t g_file_bytes, g_snapshot_bytes;
enum { COMPACT_FACTOR = 4, COMPACT_MIN_BYTES = 1 << 20 };

/* The timeline (T records) is not compacted: it is kept as written, up to g_tl_max bytes;
 * past that, a compaction drops the oldest slots until half of it is left. marks[i] says
 * how many timeline bytes the file held after the spill that wrote slots up to
 * marks[i].slot, which is where the cut can go. */
typedef struct tl_mark {
    uint32_t slot;  /* one past the latest slot written so far */
    uint64_t bytes; /* timeline bytes in the file once it was written */
} tl_mark;
enum { MAX_MARKS = 4096 };
static tl_mark g_marks[MAX_MARKS];
static size_t g_nmarks;
static uint64_t g_tl_bytes, g_tl_max = RAWFILE_DEFAULT_TIMELINE_MAX;
static uint32_t g_first_slot, g_end_slot; /* slots before first were dropped */
static size_t g_stacks_written;           /* K records: ids [0, this) */
static size_t g_py_written, g_rt_written;  /* Y and R records: name ids [0, this) */
static uint64_t g_start_unix_ns; /* the timeline's slot 0, on CLOCK_REALTIME */
static bool g_start_written;

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

static void put_start(void)
{
    if (g_start_unix_ns)
        put("O %lx %lx\n", (unsigned long)g_start_unix_ns, (unsigned long)TIMELINE_SLOT_NS);
    g_start_written = g_start_unix_ns != 0;
}

static unsigned g_mode, g_source;

void rawfile_set_mode(unsigned mode, unsigned source)
{
    g_mode = mode;
    g_source = source;
}

static void put_header(void)
{
    put("flameprof-raw 2\nP %lx %x %x %x\n", (long)getpid(), g_freq, g_mode, g_source);
    put_start();
}

void rawfile_set_start(uint64_t unix_ns)
{
    g_start_unix_ns = unix_ns;
    g_start_written = false;
}

/* The spill's path made absolute: it is removed, compacted and renamed at exit, after
 * the program may have changed directory (a pyenv shim's bash: `cd` in a subshell left
 * flameprof.bash.PID.raw behind, five a run, unlinked by the relative name elsewhere). */
static void anchor_path(void)
{
    char dir[PATH_MAX], abs[2 * PATH_MAX];
    if (g_path[0] == '/' || !getcwd(dir, sizeof dir))
        return;
    int n = snprintf(abs, sizeof abs, "%s/%s", dir, g_path);
    if (n > 0 && (size_t)n < sizeof g_path)
        memcpy(g_path, abs, (size_t)n + 1);
}

int rawfile_open(const char *stem, unsigned freq)
{
    if (!g_buf && !(g_buf = malloc(BUF_SIZE)))
        return -1;
    g_fd = outfile_create(stem, ".raw", g_path, sizeof g_path);
    if (g_fd < 0)
        return -1;
    anchor_path();
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
    g_nmarks = 0;
    g_tl_bytes = 0;
    g_first_slot = g_end_slot = 0;
    g_stacks_written = 0;
    g_py_written = g_rt_written = 0;
    g_start_written = false;
    g_names_all = true;
    put_header();
    flush_buf();
    return 0;
}

void rawfile_set_timeline_max(uint64_t bytes)
{
    g_tl_max = bytes;
}

uint64_t rawfile_timeline_dropped_s(void)
{
    return g_first_slot / TIMELINE_SLOTS_PER_S;
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

/* The stacks first seen since the last spill, once each, by id. */
static void spill_new_stacks(stack_table *t)
{
    for (; g_stacks_written < t->len; g_stacks_written++) {
        const stack_entry *e = stacks_get(t, (uint32_t)g_stacks_written);
        if (e->tid != g_cur_tid)
            put("H %x\n", e->tid);
        g_cur_tid = e->tid;
        g_any_tid |= e->tid != 0;
        put("K %x %x %x %x %x %x", e->id, e->gen, e->pm_gen, e->jvm_gen, e->flags, e->depth);
        for (size_t i = 0; i < e->depth; i++)
            put(" %lx", (unsigned long)e->pcs[i]);
        put("\n");
    }
}

/* The weight each stack gained since the last spill (full: its whole weight). */
static void spill_weights(stack_table *t, bool full)
{
    for (size_t id = 0; id < t->len; id++) {
        stack_entry *e = stacks_get(t, (uint32_t)id);
        uint64_t w = full ? e->weight : e->weight - e->spilled_weight;
        uint64_t n = full ? e->samples : e->samples - e->spilled_samples;
        if (w)
            put("W %x %lx %lx\n", e->id, (unsigned long)w, (unsigned long)n);
        if (!full) {
            e->spilled_weight = e->weight;
            e->spilled_samples = e->samples;
        }
    }
}

static void put_thread(uint32_t tid, const char *name, void *ctx)
{
    (void)ctx;
    put("N %x %s\n", tid, name); /* names hold no newline (threads.c) */
}

/* Interpreter frame names interned since the last spill, before the stacks that hold
 * them: Y for Python's (pynames.h), R for the runtimes' (rtnames.h). */
static void spill_frame_names(void)
{
    char name[1200];
    for (size_t n = pynames_count(); g_py_written < n; g_py_written++) {
        if (!pynames_get(PYNAMES_PC(g_py_written), name, sizeof name))
            snprintf(name, sizeof name, "[python]");
        put("Y %zx ", g_py_written);
        put_path(name);
    }
    for (size_t n = rtnames_count(); g_rt_written < n; g_rt_written++) {
        const char *s = rtnames_get((uint32_t)g_rt_written);
        put("R %zx ", g_rt_written);
        put_path(s ? s : "[runtime]");
    }
}

static void spill_modules_and_maps(void)
{
    spill_frame_names();
    threads_foreach_changed(g_names_all, put_thread, NULL);
    g_names_all = false;
    if (g_any_tid) /* each spill says its threads afresh, whatever the file's last state */
        put("H 0\n");
    g_cur_tid = 0;
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

static uint64_t bytes_out(void)
{
    return g_file_bytes + g_len;
}

/* Raw bytes (a line copied from the old file), however long. */
static void put_raw(const char *s, size_t n)
{
    while (n && g_fd >= 0 && !g_failed) {
        if (g_len == BUF_SIZE)
            flush_buf();
        size_t k = BUF_SIZE - g_len < n ? BUF_SIZE - g_len : n;
        memcpy(g_buf + g_len, s, k);
        g_len += k;
        s += k;
        n -= k;
    }
}

/* Copy the old file's T records of slots >= cutoff into the new one. Returns false if the
 * old file cannot be read (it is then kept as it is). */
static bool copy_timeline(dev_t dev, ino_t ino, uint32_t cutoff)
{
    int fd = open(g_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_dev != dev || st.st_ino != ino) {
        if (fd >= 0)
            close(fd);
        return false;
    }
    FILE *in = fdopen(fd, "r");
    if (!in) {
        close(fd);
        return false;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t before = bytes_out();
    while ((n = getline(&line, &cap, in)) > 0) {
        if (n < 3 || line[0] != 'T' || line[1] != ' ' || line[n - 1] != '\n')
            continue;
        if (strtoul(line + 2, NULL, 16) >= cutoff)
            put_raw(line, (size_t)n);
    }
    free(line);
    fclose(in);
    g_tl_bytes = bytes_out() - before;
    return true;
}

/* Forget the marks of dropped slots; the rest count bytes from the new file's timeline. */
static void drop_marks(uint32_t cutoff, uint64_t dropped_bytes)
{
    size_t k = 0;
    for (size_t i = 0; i < g_nmarks; i++)
        if (g_marks[i].slot > cutoff) {
            g_marks[k] = g_marks[i];
            g_marks[k++].bytes -= g_marks[i].bytes > dropped_bytes ? dropped_bytes
                                                                  : g_marks[i].bytes;
        }
    g_nmarks = k;
}

/* Where to cut so that about half of the timeline budget is left: 0 if nothing need go. */
static uint32_t timeline_cutoff(uint64_t *dropped_bytes)
{
    *dropped_bytes = 0;
    if (g_tl_bytes <= g_tl_max)
        return 0;
    for (size_t i = 0; i < g_nmarks; i++)
        if (g_tl_bytes - g_marks[i].bytes <= g_tl_max / 2) {
            *dropped_bytes = g_marks[i].bytes;
            return g_marks[i].slot;
        }
    *dropped_bytes = g_tl_bytes;
    return g_end_slot; /* one spill bigger than half the budget: keep nothing old */
}

/* Rewrite the spill as one snapshot: a new file beside it, renamed over it (both are ours:
 * the old one was created with O_EXCL): modules, every stack, whole weights, then the
 * timeline from cutoff on, copied from the old file. On any failure the old file stays
 * as it was. */
static void compact(stack_table *t, uint32_t cutoff)
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
    size_t old_modules = g_modules_written, old_maps = g_maps_written,
           old_stacks = g_stacks_written, old_py = g_py_written, old_rt = g_rt_written;
    uint64_t old_bytes = g_file_bytes, old_tl = g_tl_bytes;
    flush_buf();
    g_dev = st.st_dev;
    g_ino = st.st_ino;
    g_fd = fd;
    g_file_bytes = 0;
    g_modules_written = g_maps_written = g_stacks_written = 0;
    g_py_written = g_rt_written = 0;
    g_names_all = true;
    put_header();
    spill_modules_and_maps();
    spill_new_stacks(t);
    spill_weights(t, true); /* whole weights: everything so far */
    uint32_t first = cutoff > g_first_slot ? cutoff : g_first_slot;
    if (first)
        put("D %x\n", first);
    uint64_t snapshot = bytes_out();
    bool copied = copy_timeline(old_dev, old_ino, first);
    flush_buf();
    struct stat old_st;
    bool old_ours = fstat(old_fd, &old_st) == 0 && old_st.st_dev == old_dev &&
                    old_st.st_ino == old_ino;
    if (copied && !g_failed && rename(tmp, g_path) == 0) {
        if (old_ours)
            close(old_fd);
        g_snapshot_bytes = snapshot;
        g_first_slot = first;
        for (size_t id = 0; id < t->len; id++) {
            stack_entry *e = stacks_get(t, (uint32_t)id);
            e->spilled_weight = e->weight;
            e->spilled_samples = e->samples;
        }
    } else {
        close(fd);
        unlink(tmp);
        g_fd = old_fd; /* the old file is intact and still complete up to its last spill */
        g_dev = old_dev;
        g_ino = old_ino;
        g_modules_written = old_modules;
        g_maps_written = old_maps;
        g_stacks_written = old_stacks;
        g_py_written = old_py;
        g_rt_written = old_rt;
        g_file_bytes = old_bytes;
        g_tl_bytes = old_tl;
        g_failed = false;
        g_names_all = true; /* the names written to the discarded file: again, to the old */
        g_snapshot_bytes = g_file_bytes; /* do not retry at every spill */
        g_tl_max = g_tl_bytes * 2 > g_tl_max ? g_tl_bytes * 2 : g_tl_max;
        spill_modules_and_maps(); /* what this spill owes the old file */
        spill_new_stacks(t);
        spill_weights(t, false);
    }
}

/* One T record per slot: "T slot n id weight id weight...". */
static void spill_slot(void *ctx, uint32_t slot, const timeline_cell *c, size_t n)
{
    (void)ctx;
    put("T %x %zx", slot, n);
    for (size_t i = 0; i < n; i++)
        put(" %x %lx", c[i].id, (unsigned long)c[i].weight);
    put("\n");
    if (slot + 1 > g_end_slot)
        g_end_slot = slot + 1;
}

/* The cells of tl, slot by slot, then tl is emptied. */
static void spill_timeline(timeline *tl)
{
    timeline_finish(tl);
    uint64_t before = bytes_out();
    for (size_t i = 0, j; i < tl->len; i = j) {
        for (j = i + 1; j < tl->len && tl->cells[j].slot == tl->cells[i].slot; j++)
            ;
        if (tl->cells[i].slot >= g_first_slot)
            spill_slot(NULL, tl->cells[i].slot, tl->cells + i, j - i);
    }
    timeline_clear(tl);
    g_tl_bytes += bytes_out() - before;
    if (g_nmarks == MAX_MARKS) { /* a very long run: keep every other mark */
        for (size_t i = 0; i < MAX_MARKS / 2; i++)
            g_marks[i] = g_marks[2 * i + 1];
        g_nmarks = MAX_MARKS / 2;
    }
    g_marks[g_nmarks++] = (tl_mark){ g_end_slot, g_tl_bytes };
}

void rawfile_spill(stack_table *t, timeline *tl)
{
    if (g_fd < 0 || g_failed) {
        if (tl)
            timeline_clear(tl);
        return;
    }
    uint64_t dropped;
    uint32_t cutoff = timeline_cutoff(&dropped);
    uint64_t deltas = g_file_bytes - g_tl_bytes, limit = COMPACT_FACTOR * g_snapshot_bytes;
    if (cutoff || (g_snapshot_bytes &&
                   deltas > (limit > COMPACT_MIN_BYTES ? limit : COMPACT_MIN_BYTES))) {
        compact(t, cutoff);
        if (cutoff && g_first_slot == cutoff)
            drop_marks(cutoff, dropped);
    } else {
        if (!g_start_written)
            put_start();
        spill_modules_and_maps();
        spill_new_stacks(t);
        spill_weights(t, false);
    }
    if (tl)
        spill_timeline(tl);
    flush_buf();
    if (!g_snapshot_bytes)
        g_snapshot_bytes = g_file_bytes - g_tl_bytes; /* the first spill: everything so far */
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
