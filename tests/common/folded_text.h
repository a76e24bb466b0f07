/* folded_text.h - C tests: a folded profile parsed from a string, and output captured in
 * memory. Header-only; CHECK (check.h) counts failures. */
#ifndef FLAMEPROF_TEST_FOLDED_TEXT_H
#define FLAMEPROF_TEST_FOLDED_TEXT_H

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "folded.h"

/* p (initialised here) = the folded stacks in text[0..len). */
static inline void folded_text_load(folded_profile *p, const char *text, size_t len)
{
    folded_init(p);
    FILE *f = fmemopen((void *)text, len, "r");
    CHECK(f && folded_parse(f, p, NULL, NULL) == 0);
    if (f)
        fclose(f);
}

#endif
