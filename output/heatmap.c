/* heatmap.c - the heatmap page (see heatmap.h): data encoding, then the embedded page. */
#include "heatmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "heatmap_files.h"
#include "intern.h"
#include "speedscope.h"
#include "svg_palette.h"
#include "viewer.h"

typedef struct bytes {
    unsigned char *p;
    size_t len, cap;
    bool oom;
} bytes;

static void put_byte(bytes *b, unsigned char c)
{
    if (b->len == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1 << 16;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    b->p[b->len++] = c;
}

static void put_varint(bytes *b, uint64_t v)
{
    while (v >= 0x80) {
        put_byte(b, (unsigned char)(v | 0x80));
        v >>= 7;
    }
    put_byte(b, (unsigned char)v);
}

static void write_base64(const bytes *b, FILE *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char q[4];
    for (size_t i = 0; i < b->len; i += 3) {
        uint32_t v = (uint32_t)b->p[i] << 16;
        size_t n = b->len - i < 3 ? b->len - i : 3;
        if (n > 1)
            v |= (uint32_t)b->p[i + 1] << 8;
        if (n > 2)
            v |= b->p[i + 2];
        q[0] = a[v >> 18];
        q[1] = a[(v >> 12) & 63];
        q[2] = n > 1 ? a[(v >> 6) & 63] : '=';
        q[3] = n > 2 ? a[v & 63] : '=';
        fwrite(q, 1, 4, out);
    }
}

/* The slots, first_slot to the last one with samples: per slot n, then n (id delta, weight)
 * pairs, ids ascending. */
static void encode_slots(const heatmap_input *in, bytes *b, uint32_t *end)
{
    *end = in->ncells ? in->cells[in->ncells - 1].slot + 1 : in->first_slot;
    size_t i = 0;
    for (uint32_t s = in->first_slot; s < *end; s++) {
        while (i < in->ncells && in->cells[i].slot < s)
            i++;
        size_t j = i;
        while (j < in->ncells && in->cells[j].slot == s)
            j++;
        put_varint(b, j - i);
        for (uint32_t prev = 0; i < j; i++) {
            put_varint(b, in->cells[i].id - prev);
            put_varint(b, in->cells[i].weight);
            prev = in->cells[i].id;
        }
    }
}

/* A JSON string ('<' is escaped: no "</script>" can end the data early). */
static void json_str(FILE *out, const char *s, size_t n)
{
    speedscope_json_string(out, s, n);
}

typedef struct node_key {
    uint32_t parent, frame;
} node_key;

/* Frames and the stack tree: F names, C colours, N (parent + 1, frame) pairs, S node of
 * each stack id (-1: none). */
static int write_tree(const heatmap_input *in, FILE *out)
{
    size_t nframes = 0;
    for (size_t i = 0; i < in->nstacks; i++)
        if (in->stacks[i])
            for (const char *p = in->stacks[i]; p; p = strchr(p + 1, ';'))
                nframes++;
    node_key *keys = malloc((nframes ? nframes : 1) * sizeof *keys);
    long *node_of = malloc((in->nstacks ? in->nstacks : 1) * sizeof *node_of);
    intern_table names, nodes;
    intern_init(&names);
    intern_init(&nodes);
    int rc = keys && node_of ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < in->nstacks; i++) {
        long node = -1;
        for (const char *f = in->stacks[i]; f && rc == 0;) {
            const char *semi = strchr(f, ';');
            size_t len = semi ? (size_t)(semi - f) : strlen(f);
            long name = intern(&names, f, len, NULL);
            node_key *k = &keys[nodes.len];
            *k = (node_key){ (uint32_t)(node + 1), (uint32_t)name };
            node = name < 0 ? -1 : intern(&nodes, (const char *)k, sizeof *k, NULL);
            rc = node < 0 ? -1 : 0;
            f = semi ? semi + 1 : NULL;
        }
        node_of[i] = node;
    }
    if (rc == 0) {
        fputs("{\"F\":[", out);
        for (size_t i = 0; i < names.len; i++) {
            fputs(i ? "," : "", out);
            json_str(out, names.strs[i].s, names.strs[i].len);
        }
        fputs("],\n\"C\":[", out);
        for (size_t i = 0; i < names.len; i++) {
            unsigned rgb[3];
            svg_palette_rgb(names.strs[i].s, names.strs[i].len, PAL_HOT, rgb);
            fprintf(out, "%s%u", i ? "," : "", rgb[0] << 16 | rgb[1] << 8 | rgb[2]);
        }
        fputs("],\n\"N\":[", out);
        for (size_t i = 0; i < nodes.len; i++) {
            const node_key *k = (const node_key *)nodes.strs[i].s;
            fprintf(out, "%s%u,%u", i ? "," : "", k->parent, k->frame);
        }
        fputs("],\n\"S\":[", out);
        for (size_t i = 0; i < in->nstacks; i++)
            fprintf(out, "%s%ld", i ? "," : "", node_of[i]);
        fputs("],\n", out);
    }
    intern_free(&names);
    intern_free(&nodes);
    free(keys);
    free(node_of);
    return rc;
}

static void html_text(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", out);
        else if (*s == '&')
            fputs("&amp;", out);
        else
            putc(*s, out);
    }
}

int heatmap_write(const heatmap_input *in, FILE *out)
{
    bytes b = { 0 };
    uint32_t end;
    encode_slots(in, &b, &end);
    if (b.oom) {
        free(b.p);
        return -1;
    }
    fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Heatmap: ", out);
    html_text(out, in->title ? in->title : "flameprof");
    fputs("</title>\n<style>\n", out);
    fwrite(viewer_css, 1, viewer_css_len, out);
    fwrite(heatmap_css, 1, heatmap_css_len, out);
    fputs("</style></head>\n<body>\n", out);
    fwrite(heatmap_html, 1, heatmap_html_len, out);
    fputs("<script id=\"fpdata\" type=\"application/json\">", out);
    int rc = write_tree(in, out);
    fprintf(out, "\"title\":");
    json_str(out, in->title ? in->title : "flameprof", strlen(in->title ? in->title : "flameprof"));
    fprintf(out, ",\"first\":%u,\"end\":%u,\"start_ms\":%llu,\"freq\":%u,\"slot_ms\":20,\n\"T\":\"",
            in->first_slot, end, (unsigned long long)(in->start_unix_ns / 1000000u), in->freq);
    write_base64(&b, out);
    fputs("\"}</script>\n<script>\n'use strict';\n", out);
    fwrite(viewer_js, 1, viewer_js_len, out);
    fputs("</script>\n<script>\n'use strict';\n", out);
    fwrite(heatmap_js, 1, heatmap_js_len, out);
    fputs("</script>\n</body></html>\n", out);
    free(b.p);
    return rc != 0 || fflush(out) == EOF || ferror(out) ? -1 : 0;
}
