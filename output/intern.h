/* intern.h - distinct byte strings, numbered 0, 1, 2, ... in order of first appearance.
 *
 * The converters (pprof, speedscope) name each distinct frame, function or location once
 * and refer to it by number. The table stores pointers into the caller's text, never
 * copies, so memory grows with the number of distinct strings; that text must outlive the
 * table. Internal to output/. */
#ifndef FLAMEPROF_INTERN_H
#define FLAMEPROF_INTERN_H

#include <stddef.h>
#include <stdint.h>

typedef struct intern_str {
    const char *s;
    size_t len;
    uint64_t hash;
} intern_str;

typedef struct intern_table {
    intern_str *strs; /* by number */
    size_t len, cap;
    uint32_t *slots; /* open addressing: number + 1, 0 for empty */
    size_t nslots;
} intern_table;

void intern_init(intern_table *t);
void intern_free(intern_table *t);

/* The number of s[0..len), added if new (*added set to 1, else 0; added may be NULL).
 * Returns -1 on allocation failure. */
long intern(intern_table *t, const char *s, size_t len, int *added);

/* The number of s[0..len), or -1 if it is not in the table. */
long intern_find(const intern_table *t, const char *s, size_t len);

#endif
