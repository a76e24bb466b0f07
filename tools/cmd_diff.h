/* cmd_diff.h - `flameprof diff`: differential flame graph (SVG) of BEFORE and AFTER
 * folded profiles. */
#ifndef FLAMEPROF_CMD_DIFF_H
#define FLAMEPROF_CMD_DIFF_H

/* argv[0] is "diff". Returns 0, 1 (unreadable input, out of memory, write error) or 2. */
int cmd_diff(int argc, char **argv);

#endif
