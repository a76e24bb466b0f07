/* viewer.h - the flame graph viewer's script and style sheet, as built into the program.
 *
 * They live in output/viewer.js and output/viewer.css, where they are reviewed and tested
 * as JavaScript and CSS; tools/embed.py turns them into these arrays at build time (their
 * leading comments left out). svg.c writes them into every SVG: viewer_css inside <style>,
 * viewer_js inside a CDATA <script> after the constants it reads (see viewer.js). Any other
 * page that shows a flame graph (an HTML report) embeds the same texts.
 *
 * Constant data: safe from any thread. */
#ifndef FLAMEPROF_VIEWER_H
#define FLAMEPROF_VIEWER_H

#include <stddef.h>

extern const char viewer_js[];   /* NUL-terminated */
extern const size_t viewer_js_len;
extern const char viewer_css[];  /* NUL-terminated */
extern const size_t viewer_css_len;

#endif
