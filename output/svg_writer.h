/* svg_writer.h - the SVG writer's output: a large private buffer with hand-rolled number
 * formatting, because printf-ing four numbers per rect would be most of the render time on
 * big profiles; and text made safe for XML whatever the bytes. Internal to output/.
 *
 * A writer belongs to one rendering thread. err is set by any failed write and never
 * cleared: check it after the last sw_flush. */
#ifndef FLAMEPROF_SVG_WRITER_H
#define FLAMEPROF_SVG_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define SW_BUF_SIZE (1 << 16)

typedef struct svg_writer {
    FILE *f;
    size_t len;
    int err; /* a write to f failed */
    char buf[SW_BUF_SIZE];
} svg_writer;

/* Starts writing to f (the writer is large: allocate it, do not put it on the stack). */
void sw_init(svg_writer *w, FILE *f);

/* Hands the buffer to f (no fflush). */
void sw_flush(svg_writer *w);

/* sw_mem when s[0..n) does not fit in what is left of the buffer. */
void sw_mem_flush(svg_writer *w, const char *s, size_t n);

/* Bytes as they are: the caller has made them XML. Inline: a rect is a dozen of these, and
 * a call into svg_writer.c for each made rendering ~10% slower. */
static inline void sw_mem(svg_writer *w, const char *s, size_t n)
{
    if (n > SW_BUF_SIZE - w->len) {
        sw_mem_flush(w, s, n);
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static inline void sw_str(svg_writer *w, const char *s)
{
    sw_mem(w, s, strlen(s));
}

void sw_u64(svg_writer *w, uint64_t v);

/* 1234567 -> "1,234,567", as flamegraph.pl writes counts in titles. */
void sw_commas(svg_writer *w, uint64_t v);

/* v >= 0 rounded to 2 decimals, trailing zeros dropped: 12.5, 3, 0.07. */
void sw_fix(svg_writer *w, double v);

/* v >= 0 with exactly 2 decimals. */
void sw_dec2(svg_writer *w, double v);

/* part's share of total in percent with exactly 2 decimals, like flamegraph.pl's titles. */
void sw_pct(svg_writer *w, uint64_t part, uint64_t total);

/* "rgb(R,G,B)". */
void sw_rgb(svg_writer *w, const unsigned rgb[3]);

/* Writes at most max characters of s[0..n) as XML text (w NULL: only counts them) and
 * returns how many. Markup characters are escaped; control characters and bytes that are
 * not valid UTF-8 become '?', so any frame name, however hostile, keeps the document
 * well-formed. */
size_t sw_text(svg_writer *w, const char *s, size_t n, size_t max);

/* All of the NUL-terminated s, as sw_text. */
size_t sw_text_all(svg_writer *w, const char *s);

/* Share of total in percent (0 of an empty total). */
double sw_share(uint64_t part, uint64_t total);

/* v * 100 rounded half up, for v >= 0 (negative and NaN give 0). */
uint64_t sw_round100(double v);

#endif
