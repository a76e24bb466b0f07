/* speedscope.c - the speedscope JSON file format. See speedscope.h. */
#include "speedscope.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frame_parse.h"
#include "intern.h"
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
static void write_frame(FILE *out, const char *s, size_t n)
{
    frame_parts fp;
    frame_parse(s, n, &fp);
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
    uint64_t total = 0;
    for (size_t i = 0; i < p->len; i++)
        total = p->entries[i].count > UINT64_MAX - total ? UINT64_MAX
                                                         : total + p->entries[i].count;

    fputs("{\"$schema\": \"https://www.speedscope.app/file-format-schema.json\",\n"
          "\"shared\": {\"frames\": [", out);
    for (size_t i = 0; i < frames.len; i++) {
        fputs(i ? ",\n" : "\n", out);
        write_frame(out, frames.strs[i].s, frames.strs[i].len);
    }
    fputs("]},\n\"profiles\": [{\"type\": \"sampled\", \"name\": ", out);
    speedscope_json_string(out, name, strlen(name));
    fprintf(out, ", \"unit\": \"none\", \"startValue\": 0, \"endValue\": %" PRIu64 ",\n"
                 "\"samples\": [", total);
    for (size_t i = 0; i < p->len; i++) {
        fputs(i ? ",\n[" : "\n[", out);
        size_t n;
        for (const char *f = p->entries[i].stack, *next; f; f = next) {
            next = frame_at(f, &n);
            /* Every frame was numbered in the first pass: this only looks it up. */
            fprintf(out, f == p->entries[i].stack ? "%ld" : ",%ld", intern(&frames, f, n, NULL));
        }
        putc(']', out);
    }
    fputs("],\n\"weights\": [", out);
    for (size_t i = 0; i < p->len; i++)
        fprintf(out, i ? ",%" PRIu64 : "%" PRIu64, p->entries[i].count);
    fputs("]}],\n\"name\": ", out);
    speedscope_json_string(out, name, strlen(name));
    fputs(", \"activeProfileIndex\": 0, \"exporter\": \"flameprof\"}\n", out);
    intern_free(&frames);
    return fflush(out) == EOF || ferror(out) ? -1 : 0;
}
