/* speedscope.c - the speedscope JSON file format. See speedscope.h. */
#include "speedscope.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame_source.h"
#include "intern.h"
#include "thread_root.h"
#include "utf8.h"

void speedscope_json_string(FILE *out, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    putc('"', out);
    size_t i = 0;
    while (i < n) {
        size_t k = i; /* the plain run, in one write */
        while (k < n && s[k] >= 0x20 && s[k] < 0x80 && s[k] != '"' && s[k] != '\\' &&
               s[k] != '<')
            k++;
        fwrite(str + i, 1, k - i, out);
        if (k == n)
            break;
        unsigned c = s[k];
        size_t len = 1;
        if (c == '"' || c == '\\') {
            putc('\\', out);
            putc((int)c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c < 0x20 || c == '<') { /* '<': the string may sit in an HTML <script> */
            char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], '\0' };
            fputs(esc, out);
        } else if ((len = utf8_len(s + k, n - k)) != 0) {
            fwrite(str + k, 1, len, out);
        } else {
            fputs(UTF8_REPLACEMENT, out);
            len = 1;
        }
        i = k + len;
    }
    putc('"', out);
}

/* The frame starting at f: its length in *len, and the next frame or NULL after the last. */
static const char *frame_at(const char *f, size_t *len)
{
    const char *semi = strchr(f, ';');
    *len = semi ? (size_t)(semi - f) : strlen(f);
    return semi ? semi + 1 : NULL;
}

/* One shared frame: the function's name, its source where the name tells it, and the
 * whole folded frame under "folded" when the name is not all of it (see speedscope.h). */
static void write_frame(FILE *out, const frame_sources *fs, const char *s, size_t n)
{
    frame_parts fp;
    frame_source_parse(fs, s, n, &fp);
    fputs("{\"name\": ", out);
    speedscope_json_string(out, fp.name, fp.name_len);
    if (fp.file) {
        fputs(", \"file\": ", out);
        speedscope_json_string(out, fp.file, fp.file_len);
    }
    if (fp.line > 0)
        fprintf(out, ", \"line\": %ld", fp.line);
    if (fp.col > 0)
        fprintf(out, ", \"col\": %ld", fp.col);
    if (fp.name != s || fp.name_len != n) {
        fputs(", \"folded\": ", out);
        speedscope_json_string(out, s, n);
    }
    putc('}', out);
}

/* One sampled profile of the entries idx[0..n) of p (all of p, in order, when idx is NULL).
 * A thread's view (view) leaves out each stack's first frame, its thread root, and says so
 * with "flameprofView" (speedscope ignores it; input/speedscope_read.c skips such views). */
static void write_profile(FILE *out, intern_table *frames, const folded_profile *p,
                          const size_t *idx, size_t n, const char *name, size_t name_len,
                          bool view)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t c = p->entries[idx ? idx[i] : i].count;
        total = c > UINT64_MAX - total ? UINT64_MAX : total + c;
    }
    fputs("{\"type\": \"sampled\", \"name\": ", out);
    speedscope_json_string(out, name, name_len);
    if (view)
        fputs(", \"flameprofView\": \"thread\"", out);
    fprintf(out, ", \"unit\": \"none\", \"startValue\": 0, \"endValue\": %" PRIu64 ",\n"
                 "\"samples\": [", total);
    for (size_t i = 0; i < n; i++) {
        fputs(i ? ",\n[" : "\n[", out);
        size_t len;
        const char *first = p->entries[idx ? idx[i] : i].stack;
        if (view)
            first = frame_at(first, &len); /* NULL: the root alone, an empty sample */
        for (const char *f = first, *next; f; f = next) {
            next = frame_at(f, &len);
            /* Every frame was numbered in the first pass: this only looks it up. */
            fprintf(out, f == first ? "%ld" : ",%ld", intern(frames, f, len, NULL));
        }
        putc(']', out);
    }
    fputs("],\n\"weights\": [", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, i ? ",%" PRIu64 : "%" PRIu64, p->entries[idx ? idx[i] : i].count);
    fputs("]}", out);
}

/* After the merged profile, one view per thread root "[name tid]" (threads kept apart),
 * named "name (tid)", in order of first appearance. Returns 0, or -1 out of memory. */
static int write_thread_views(FILE *out, intern_table *frames, const folded_profile *p)
{
    intern_table roots;
    intern_init(&roots);
    long *root_of = malloc((p->len + 1) * sizeof(*root_of));
    size_t *order = malloc((p->len + 1) * sizeof(*order)), *start = NULL;
    char *name = NULL;
    int rc = root_of && order ? 0 : -1;
    for (size_t i = 0; i < p->len && rc == 0; i++) {
        size_t n;
        const char *s = p->entries[i].stack;
        frame_at(s, &n);
        root_of[i] = util_thread_root(s, n, NULL) ? intern(&roots, s, n, NULL) : -1;
        rc = root_of[i] < -1 ? -1 : 0;
    }
    if (rc == 0 && roots.len) {
        start = calloc(roots.len + 1, sizeof(*start));
        rc = start ? 0 : -1;
    }
    if (rc == 0 && roots.len) {
        /* Counting sort: each thread's entries together, in p's order. */
        for (size_t i = 0; i < p->len; i++)
            if (root_of[i] >= 0)
                start[root_of[i] + 1]++;
        for (size_t r = 0; r < roots.len; r++)
            start[r + 1] += start[r];
        for (size_t i = 0; i < p->len; i++)
            if (root_of[i] >= 0)
                order[start[root_of[i]]++] = i;
        for (size_t r = roots.len; r > 0; r--) /* back to each group's first index */
            start[r] = start[r - 1];
        start[0] = 0;
    }
    for (size_t r = 0; r < roots.len && rc == 0; r++) {
        /* "[name tid]" -> "name (tid)": as long, the digits start after the last ' '. */
        const char *s = roots.strs[r].s;
        size_t n = roots.strs[r].len, d = 0;
        util_thread_root(s, n, &d);
        free(name);
        if (!(name = malloc(n))) {
            rc = -1;
            break;
        }
        memcpy(name, s + 1, d - 2);
        name[d - 2] = ' ';
        name[d - 1] = '(';
        memcpy(name + d, s + d, n - 1 - d);
        name[n - 1] = ')';
        fputs(",\n", out);
        write_profile(out, frames, p, order + start[r], start[r + 1] - start[r], name, n, true);
    }
    free(name);
    free(start);
    free(order);
    free(root_of);
    intern_free(&roots);
    return rc;
}

int speedscope_write(const folded_profile *p, const char *name, FILE *out)
{
    if (!name)
        name = "flameprof";
    intern_table frames;
    intern_init(&frames);
    bool oom = false;
    /* First pass: number the frames, so that the samples, second, can refer to them. */
    for (size_t i = 0; i < p->len && !oom; i++) {
        size_t n;
        for (const char *f = p->entries[i].stack, *next; f && !oom; f = next) {
            next = frame_at(f, &n);
            oom = intern(&frames, f, n, NULL) < 0;
        }
    }
    if (oom) {
        intern_free(&frames);
        return -1;
    }
    fputs("{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n"
          "\"shared\": {\"frames\": [", out);
    for (size_t i = 0; i < frames.len; i++) {
        fputs(i ? ",\n" : "\n", out);
        write_frame(out, p->sources, frames.strs[i].s, frames.strs[i].len);
    }
    fputs("]},\n\"profiles\": [", out);
    write_profile(out, &frames, p, NULL, p->len, name, strlen(name), false);
    int rc = write_thread_views(out, &frames, p);
    fputs("],\n\"name\": ", out);
    speedscope_json_string(out, name, strlen(name));
    fputs(", \"activeProfileIndex\": 0, \"exporter\": \"flameprof\"}\n", out);
    intern_free(&frames);
    return rc < 0 || fflush(out) == EOF || ferror(out) ? -1 : 0;
}
