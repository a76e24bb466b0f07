/* svg_palette.h - frame colours: a pure function of the frame name, so a function keeps
 * its colour across runs and across graphs. Tags added by stack collapsers (_[k] kernel,
 * _[j] JIT, _[i] inlined, _[0] interpreted Java; _[p] Python and _[r] Ruby frames read
 * from their interpreters, coloured as JIT code) win in every palette. Internal to
 * output/; pure functions, safe from any thread. */
#ifndef FLAMEPROF_SVG_PALETTE_H
#define FLAMEPROF_SVG_PALETTE_H

#include <stddef.h>

typedef enum svg_palette { PAL_HOT, PAL_JAVA, PAL_JS } svg_palette;

/* The palette svg_options.colors names: "java", "js", else (NULL too) hot. */
svg_palette svg_palette_named(const char *name);

/* The colour of the frame named s[0..n), as 0..255 red, green, blue. */
void svg_palette_rgb(const char *s, size_t n, svg_palette pal, unsigned rgb[3]);

#endif
