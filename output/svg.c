/* svg.c - interactive SVG flame graph from a folded profile. See svg.h.
 *
 * The document: header, viewer (viewer.h), one <g> per item of the layout (svg_layout.h),
 * coloured by svg_palette.h or, in a differential graph, by the change of share; written
 * through svg_writer.h. Everything drawn is integer or fixed-point, so identical input
 * gives identical bytes. */
#include "svg.h"

#include "shortname.h"
#include "svg_layout.h"
#include "svg_palette.h"
#include "svg_writer.h"
#include "viewer.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Geometry, in px. */
#define XPAD 10
#define FRAME_H 16       /* one row; the rect is one px shorter to separate rows */
#define FONT_W 7.08      /* average glyph width of 12px Verdana (~0.59 em) */
#define TITLE_PAD 36     /* space above the frames for the title and buttons */
#define SUBTITLE_PAD 18  /* extra space when there is a subtitle */
#define STATUS_PAD 34    /* space below the frames for the status line */

/* ======================================================================================
 * The document.
 * ====================================================================================== */

typedef struct doc {
    svg_writer *w;
    svg_palette pal;
    const char *countname;
    uint64_t total;
    double scale; /* px per sample */
    int width, height, ytop, ybot;
    bool inverted;
    const svg_diff *diff; /* differential graph, else NULL */
    double max_delta;     /* the largest change of share of any frame, in percent */
    bool full_labels;     /* labels from the full name, not its short form */
    char *lbuf;           /* scratch for a label's short form (shortname.h) */
    size_t lcap;
} doc;

/* The short form of a frame's name for its label (the tooltip keeps the full name), or
 * NULL when it is the name itself (or the scratch cannot grow: the full name then). */
static const char *short_label(doc *d, const char *name, size_t len, size_t *slen)
{
    if (d->full_labels)
        return NULL;
    if (len > d->lcap) {
        char *b = realloc(d->lbuf, len);
        if (b == NULL)
            return NULL;
        d->lbuf = b, d->lcap = len;
    }
    *slen = shortname(name, len, d->lbuf);
    return *slen == len && (len == 0 || memcmp(d->lbuf, name, len) == 0) ? NULL : d->lbuf;
}

/* ---- differential graphs ---- */

/* How a frame's share of its profile's samples changed from BEFORE to AFTER, in
 * percentage points. */
static double delta_of(const doc *d, const svg_item *it)
{
    return sw_share(it->ba.after, d->diff->after_total) -
           sw_share(it->ba.before, d->diff->before_total);
}

/* The sign of that change, exactly: after/A against before/B compared as integers, so
 * a frame whose share did not change is neutral whatever the float rounding. */
static int delta_sign(const doc *d, const svg_item *it)
{
    unsigned __int128 a = (unsigned __int128)it->ba.after * d->diff->before_total,
                      b = (unsigned __int128)it->ba.before * d->diff->after_total;
    if (!d->diff->after_total || !d->diff->before_total) /* a share of nothing is 0 */
        return d->diff->after_total ? (it->ba.after > 0) : -(it->ba.before > 0);
    return a > b ? 1 : a < b ? -1 : 0;
}

static double max_delta(const doc *d, const svg_layout *l)
{
    double m = 0;
    for (size_t i = 0; i < l->len; i++) {
        double v = delta_of(d, &l->it[i]);
        v = v < 0 ? -v : v;
        m = v > m ? v : m;
    }
    return m;
}

/* Red where the share grew, blue where it shrank, deeper with the size of the change
 * relative to the largest one in the graph; grey where it did not change. */
static void w_diff_color(svg_writer *w, const doc *d, const svg_item *it)
{
    int sign = delta_sign(d, it);
    double v = delta_of(d, it), t = d->max_delta > 0 ? (v < 0 ? -v : v) / d->max_delta : 0;
    unsigned pale = 220 - (unsigned)(sw_round100(t > 1 ? 1 : t) * 220 / 100);
    unsigned rgb[3] = { 220, 220, 220 };
    if (sign > 0)
        rgb[0] = 255, rgb[1] = rgb[2] = pale;
    else if (sign < 0)
        rgb[0] = rgb[1] = pale, rgb[2] = 255;
    sw_rgb(w, rgb);
}

/* "A UNIT, A%; before B UNIT, B%; +D%": AFTER's samples and share first, as the graph is
 * laid out by them, then BEFORE's, then the change of share in percentage points. */
static void w_diff_title(const doc *d, const svg_item *it)
{
    svg_writer *w = d->w;
    sw_commas(w, it->ba.after);
    sw_str(w, " ");
    sw_text_all(w, d->countname);
    sw_str(w, ", ");
    sw_pct(w, it->ba.after, d->diff->after_total);
    sw_str(w, "%; before ");
    sw_commas(w, it->ba.before);
    sw_str(w, " ");
    sw_text_all(w, d->countname);
    sw_str(w, ", ");
    sw_pct(w, it->ba.before, d->diff->before_total);
    double v = delta_of(d, it);
    int sign = delta_sign(d, it);
    sw_str(w, sign < 0 ? "%; -" : "%; +");
    sw_dec2(w, v < 0 ? -v : v);
    sw_str(w, "%");
}

/* The label: as much of the name as fits, ".." marking a cut, nothing below 3 chars. */
static void w_label(svg_writer *w, const char *name, size_t len, double px)
{
    double room = (px - 3) / FONT_W;
    if (!(room >= 3))
        return;
    size_t max = room > 1e6 ? 1000000 : (size_t)room;
    if (sw_text(NULL, name, len, max + 1) <= max) {
        sw_text(w, name, len, max);
    } else {
        sw_text(w, name, len, max - 2);
        sw_str(w, "..");
    }
}

static void w_palette_color(svg_writer *w, const char *name, size_t len, svg_palette pal)
{
    unsigned rgb[3];
    svg_palette_rgb(name, len, pal, rgb);
    sw_rgb(w, rgb);
}

static void w_frame(doc *d, const svg_item *it)
{
    svg_writer *w = d->w;
    double x = XPAD + (double)it->start * d->scale, px = (double)it->count * d->scale;
    int y = d->inverted ? d->ytop + (int)it->depth * FRAME_H : d->ybot - (int)it->depth * FRAME_H;

    sw_str(w, it->name ? "<g data-s=\"" : "<g class=\"agg\" data-s=\"");
    sw_u64(w, it->start);
    sw_str(w, "\" data-n=\"");
    sw_u64(w, it->count);
    if (d->diff) {
        sw_str(w, "\" data-b=\"");
        sw_u64(w, it->ba.before);
        sw_str(w, "\" data-a=\"");
        sw_u64(w, it->ba.after);
    }
    size_t slen = 0;
    const char *sname = it->name ? short_label(d, it->name, it->len, &slen) : NULL;
    if (sname) {
        sw_str(w, "\" data-l=\"");
        sw_text(w, sname, slen, SIZE_MAX);
    }
    sw_str(w, "\"><title>");
    if (it->name) {
        sw_text(w, it->name, it->len, SIZE_MAX);
    } else {
        sw_u64(w, it->nsmall);
        sw_str(w, " small frames");
    }
    sw_str(w, " (");
    if (d->diff) {
        w_diff_title(d, it);
    } else {
        sw_commas(w, it->count);
        sw_str(w, " ");
        sw_text_all(w, d->countname);
        sw_str(w, ", ");
        sw_pct(w, it->count, d->total);
        sw_str(w, "%");
    }
    sw_str(w, ")</title><rect x=\"");
    sw_fix(w, x);
    sw_str(w, "\" y=\"");
    sw_u64(w, (uint64_t)y);
    sw_str(w, "\" width=\"");
    sw_fix(w, px);
    sw_str(w, "\" height=\"");
    sw_u64(w, FRAME_H - 1);
    sw_str(w, "\" fill=\"");
    if (d->diff)
        w_diff_color(w, d, it);
    else if (it->name)
        w_palette_color(w, it->name, it->len, d->pal);
    else
        sw_str(w, "rgb(190,190,190)");
    sw_str(w, "\"/><text x=\"");
    sw_fix(w, x + 3);
    sw_str(w, "\" y=\"");
    sw_fix(w, y + 10.5);
    sw_str(w, "\">");
    if (sname)
        w_label(w, sname, slen, px);
    else if (it->name)
        w_label(w, it->name, it->len, px);
    sw_str(w, "</text></g>\n");
}

static void w_attr_num(svg_writer *w, const char *name, double v)
{
    sw_str(w, name);
    sw_str(w, "=\"");
    sw_fix(w, v);
    sw_str(w, "\"");
}

static void w_header(const doc *d, const svg_options *o, const char *title)
{
    svg_writer *w = d->w;
    sw_str(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<svg version=\"1.1\"");
    w_attr_num(w, " width", d->width);
    w_attr_num(w, " height", d->height);
    sw_str(w, " viewBox=\"0 0 ");
    sw_u64(w, (uint64_t)d->width);
    sw_str(w, " ");
    sw_u64(w, (uint64_t)d->height);
    sw_str(w, "\" onload=\"init(evt)\" xmlns=\"http://www.w3.org/2000/svg\">\n");
    sw_str(w, "<style type=\"text/css\">\n");
    sw_mem(w, viewer_css, viewer_css_len);
    sw_str(w, "</style>\n<script type=\"text/ecmascript\"><![CDATA[\n'use strict';\nvar W = ");
    sw_u64(w, (uint64_t)d->width);
    sw_str(w, ", XPAD = ");
    sw_u64(w, XPAD);
    sw_str(w, ", FH = ");
    sw_u64(w, FRAME_H);
    sw_str(w, ", FONTW = ");
    sw_fix(w, FONT_W);
    sw_str(w, ", INV = ");
    sw_str(w, d->inverted ? "true" : "false");
    sw_str(w, ", YTOP = ");
    sw_u64(w, (uint64_t)d->ytop);
    sw_str(w, ", YBOT = ");
    sw_u64(w, (uint64_t)d->ybot);
    sw_str(w, ", DIFF = ");
    sw_str(w, d->diff ? "true" : "false");
    sw_str(w, ", TOTAL = ");
    sw_u64(w, d->total);
    sw_str(w, ";\n");
    sw_mem(w, viewer_js, viewer_js_len);
    sw_str(w, "]]></script>\n"
             "<defs><linearGradient id=\"background\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
             "<stop stop-color=\"#eeeeee\" offset=\"5%\"/>"
             "<stop stop-color=\"#eeeeb0\" offset=\"95%\"/></linearGradient></defs>\n");
    sw_str(w, "<rect x=\"0\" y=\"0\"");
    w_attr_num(w, " width", d->width);
    w_attr_num(w, " height", d->height);
    sw_str(w, " fill=\"url(#background)\"/>\n<text id=\"title\"");
    w_attr_num(w, " x", d->width / 2.0);
    sw_str(w, " y=\"24\">");
    sw_text_all(w, title);
    sw_str(w, "</text>\n");
    if (o->subtitle) {
        sw_str(w, "<text id=\"subtitle\"");
        w_attr_num(w, " x", d->width / 2.0);
        sw_str(w, " y=\"42\">");
        sw_text_all(w, o->subtitle);
        sw_str(w, "</text>\n");
    }
    sw_str(w, "<text id=\"details\" x=\"10\"");
    w_attr_num(w, " y", d->height - 10);
    sw_str(w, "> </text>\n<text id=\"unzoom\" class=\"hide\" x=\"10\" y=\"24\">Reset Zoom</text>\n"
             "<text id=\"search\"");
    w_attr_num(w, " x", d->width - XPAD - 24);
    sw_str(w, " y=\"24\">Search</text>\n<text id=\"ignorecase\"");
    w_attr_num(w, " x", d->width - XPAD);
    sw_str(w, " y=\"24\">ic</text>\n<text id=\"matched\" class=\"hide\"");
    w_attr_num(w, " x", d->width - XPAD);
    w_attr_num(w, " y", d->height - 10);
    sw_str(w, "> </text>\n");
}

void svg_options_default(svg_options *o)
{
    memset(o, 0, sizeof(*o));
    o->title = "Flame Graph";
    o->countname = "samples";
    o->colors = "hot";
    o->width = 1200;
    o->minwidth = 0.1;
}

/* Both entry points: in is read only, never written through. */
static int render(const svg_entries *in, const svg_diff *diff, const svg_options *opt, FILE *out)
{
    svg_options o;
    svg_options_default(&o);
    if (opt)
        o = *opt;
    o.countname = o.countname ? o.countname : "samples";
    const char *title = o.title ? o.title : "Flame Graph";
    if (diff && strcmp(title, "Flame Graph") == 0)
        title = o.inverted ? "Differential Icicle Graph" : "Differential Flame Graph";
    else if (o.inverted && strcmp(title, "Flame Graph") == 0)
        title = "Icicle Graph"; /* as flamegraph.pl does */
    /* Widths below a few pads leave no room for frames; far above any screen they only
     * make the file explode. */
    int width = o.width < 100 ? 100 : o.width > 1000000 ? 1000000 : o.width;

    svg_layout l;
    memset(&l, 0, sizeof(l));
    uint64_t total = 0;
    svg_writer *w = malloc(sizeof(*w));
    int rc = -1;
    if (!w || svg_layout_build(&l, in, &o, width - 2 * XPAD, &total) < 0)
        goto done;

    doc d = { w, svg_palette_named(o.colors), o.countname, total, 0, width, 0, 0, 0, o.inverted,
              diff, 0, o.full_labels, NULL, 0 };
    if (diff)
        d.max_delta = max_delta(&d, &l);
    int ypad1 = TITLE_PAD + (o.subtitle ? SUBTITLE_PAD : 0);
    d.height = ((int)l.max_depth + 1) * FRAME_H + ypad1 + STATUS_PAD;
    d.ytop = ypad1;
    d.ybot = d.height - STATUS_PAD - FRAME_H;
    d.scale = total ? (double)(width - 2 * XPAD) / (double)total : 0;
    sw_init(w, out);
    w_header(&d, &o, title);
    sw_str(w, "<g id=\"frames\">\n");
    for (size_t i = 0; i < l.len; i++)
        w_frame(&d, &l.it[i]);
    sw_str(w, "</g>\n");
    free(d.lbuf);
    if (!total) {
        sw_str(w, "<text");
        w_attr_num(w, " x", width / 2.0);
        w_attr_num(w, " y", ypad1 + 12);
        sw_str(w, " text-anchor=\"middle\">ERROR: No stack counts found</text>\n");
    }
    sw_str(w, "</svg>\n");
    sw_flush(w);
    rc = w->err || fflush(out) == EOF || ferror(out) ? -1 : 0;
done:
    svg_layout_free(&l);
    free(w);
    return rc;
}

int svg_write(const folded_profile *p, const svg_options *opt, FILE *out)
{
    svg_entries v = { (char *)p->entries, p->len, sizeof(folded_entry), false };
    return render(&v, NULL, opt, out);
}

int svg_write_diff(const svg_diff *diff, const svg_options *opt, FILE *out)
{
    svg_entries v = { (char *)diff->entries, diff->len, sizeof(svg_diff_entry), true };
    return render(&v, diff, opt, out);
}
