/* frame_name.h - the one rule for the bytes a frame name may hold in a profile.
 *
 * Folded stacks are "frame;frame;... count\n", so a name must not hold ';' or a line
 * break, and the TSV and SVG writers want no other control bytes either. The rule,
 * wherever a name is made (symbols, perf maps, JVM methods): ';' becomes ':', as
 * FlameGraph's stackcollapse-perf.pl (--tidy-generic, the default) and inferno do, so a
 * name reads the same in their graphs and ours; a control byte (below 0x20, and DEL)
 * becomes '?'. All other bytes, UTF-8 included, stay. Pure: thread-safe and async-signal-safe. */
#ifndef FLAMEPROF_UTIL_FRAME_NAME_H
#define FLAMEPROF_UTIL_FRAME_NAME_H

/* The byte shown in a frame name in place of c. */
static inline char util_frame_char(unsigned char c)
{
    if (c == ';')
        return ':';
    return c < 0x20 || c == 0x7f ? '?' : (char)c;
}

/* flameprof's pprof files say, with this comment (Profile.comment), that each
 * Function.system_name is the whole folded frame (tags and location kept) while its name is
 * the bare function name: output/pprof.c writes it, input/pprof_read.c reads the folded
 * frame back from system_name when it is there. */
#define UTIL_PPROF_SYSTEM_NAME_COMMENT "flameprof: Function.system_name is the folded frame"

#endif
