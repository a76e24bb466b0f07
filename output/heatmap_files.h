/* heatmap_files.h - the heatmap page's script, style sheet and body markup, as built into
 * the program from output/heatmap.js, heatmap.css and heatmap.html by tools/embed.py (their
 * leading comments left out). heatmap.c writes them into every heatmap page, with
 * viewer.h's texts, which draw and drive the selected range's flame graph.
 *
 * Constant data: safe from any thread. */
#ifndef FLAMEPROF_HEATMAP_FILES_H
#define FLAMEPROF_HEATMAP_FILES_H

#include <stddef.h>

extern const char heatmap_js[]; /* NUL-terminated */
extern const size_t heatmap_js_len;
extern const char heatmap_css[];
extern const size_t heatmap_css_len;
extern const char heatmap_html[];
extern const size_t heatmap_html_len;

#endif
