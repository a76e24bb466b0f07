/* rtnames.h - the names of interpreter frames, interned: a name id stands in a sample's
 * pcs as an RTFRAME_NAME word (unwind/rtframe.h) and becomes text in the report.
 *
 * A name carries its palette tag ("foo (/app/x.rb:3)_[r]"): see output/svg_palette.h.
 * Thread-safe (one mutex, held across fork): the aggregator interns, the report reads.
 * Not async-signal-safe. */
#ifndef FLAMEPROF_RTNAMES_H
#define FLAMEPROF_RTNAMES_H

#include <stddef.h>
#include <stdint.h>

/* The id of name (len bytes, no NUL needed), adding it if new; UINT32_MAX if memory is
 * short. */
uint32_t rtnames_intern(const char *name, size_t len);

/* How many ids have been handed out (0 .. count-1), for the raw spill. */
size_t rtnames_count(void);

/* The name of id, or NULL; valid until the process ends. */
const char *rtnames_get(uint32_t id);

#endif
