/* frame_source.c - frame name -> source position. See frame_source.h. */
#include "frame_source.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "intern.h"

typedef struct source_pos {
    char *file;
    unsigned line;
} source_pos;

struct frame_sources {
    intern_table names; /* the keys point at copies held in keys */
    char **keys;
    source_pos *pos;    /* by name number */
    size_t cap, keys_cap;
};

frame_sources *frame_sources_new(void)
{
    frame_sources *fs = calloc(1, sizeof *fs);
    if (fs)
        intern_init(&fs->names);
    return fs;
}

void frame_sources_free(frame_sources *fs)
{
    if (!fs)
        return;
    for (size_t i = 0; i < fs->names.len; i++) {
        free(fs->keys[i]);
        free(fs->pos[i].file);
    }
    free(fs->keys);
    free(fs->pos);
    intern_free(&fs->names);
    free(fs);
}

static size_t key_len(const char *s, size_t n)
{
    return n > 4 && memcmp(s + n - 4, "_[i]", 4) == 0 ? n - 4 : n;
}

/* Whether (file, line) sorts before p's position. */
static bool before(const char *file, unsigned line, const source_pos *p)
{
    int c = strcmp(file, p->file);
    return c < 0 || (c == 0 && line < p->line);
}

int frame_sources_add(frame_sources *fs, const char *frame, size_t n, const char *file,
                      unsigned line)
{
    if (!fs || !file || !*file)
        return 0;
    n = key_len(frame, n);
    long id = intern_find(&fs->names, frame, n);
    if (id >= 0) {
        source_pos *p = &fs->pos[id];
        if (!before(file, line, p))
            return 0;
        char *copy = strdup(file);
        if (!copy)
            return -1;
        free(p->file);
        *p = (source_pos){ copy, line };
        return 0;
    }
    char *key = malloc(n + 1), *copy = strdup(file);
    if (!key || !copy || !UTIL_RESERVE(fs->keys, fs->keys_cap, fs->names.len + 1)
        || !UTIL_RESERVE(fs->pos, fs->cap, fs->names.len + 1)) {
        free(key);
        free(copy);
        return -1;
    }
    memcpy(key, frame, n);
    key[n] = 0;
    id = intern(&fs->names, key, n, NULL);
    if (id < 0) {
        free(key);
        free(copy);
        return -1;
    }
    fs->keys[id] = key;
    fs->pos[id] = (source_pos){ copy, line };
    return 0;
}

bool frame_sources_get(const frame_sources *fs, const char *frame, size_t n,
                       const char **file, unsigned *line)
{
    if (!fs || !fs->names.len)
        return false;
    long id = intern_find(&fs->names, frame, key_len(frame, n));
    if (id < 0)
        return false;
    *file = fs->pos[id].file;
    *line = fs->pos[id].line;
    return true;
}

int frame_sources_merge(frame_sources *dst, const frame_sources *src)
{
    for (size_t i = 0; src && i < src->names.len; i++)
        if (frame_sources_add(dst, src->keys[i], src->names.strs[i].len, src->pos[i].file,
                              src->pos[i].line) != 0)
            return -1;
    return 0;
}

/* Whether s can sit in a field of the text form (no tab, newline or other control). */
static bool plain(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

int frame_sources_write(const frame_sources *fs, FILE *out)
{
    for (size_t i = 0; fs && i < fs->names.len; i++)
        if (plain(fs->pos[i].file) && plain(fs->keys[i]))
            fprintf(out, "%u\t%s\t%s\n", fs->pos[i].line, fs->pos[i].file, fs->keys[i]);
    return fflush(out) == EOF || ferror(out) ? -1 : 0;
}

/* One "LINE\tFILE\tFRAME" line (newline removed): false if malformed. */
static bool parse_line(char *s, unsigned *line, char **file, char **frame)
{
    unsigned long v = 0;
    char *p = s;
    while (*p >= '0' && *p <= '9' && v <= UINT32_MAX)
        v = v * 10 + (unsigned long)(*p++ - '0');
    if (p == s || *p != '\t' || v > UINT32_MAX)
        return false;
    *file = p + 1;
    char *tab = strchr(*file, '\t');
    if (!tab || tab == *file || !tab[1] || !plain(tab + 1))
        return false;
    *tab = 0;
    *frame = tab + 1;
    *line = (unsigned)v;
    return plain(*file);
}

long frame_sources_read(frame_sources *fs, FILE *in)
{
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    long bad = 0;
    while ((n = getline(&buf, &cap, in)) > 0) {
        if (buf[n - 1] == '\n')
            buf[--n] = 0;
        unsigned line;
        char *file, *frame;
        if ((size_t)n != strlen(buf) || !parse_line(buf, &line, &file, &frame)) {
            bad++;
            continue;
        }
        if (frame_sources_add(fs, frame, strlen(frame), file, line) != 0) {
            bad = -1;
            break;
        }
    }
    free(buf);
    return ferror(in) ? -1 : bad;
}

size_t frame_sources_count(const frame_sources *fs)
{
    return fs ? fs->names.len : 0;
}

void frame_source_parse(const frame_sources *fs, const char *s, size_t n, frame_parts *out)
{
    frame_parse(s, n, out);
    const char *file;
    unsigned line;
    if (out->file || !frame_sources_get(fs, s, n, &file, &line))
        return;
    out->file = file;
    out->file_len = strlen(file);
    out->line = line;
}
