/* cmd_svg.h - `flameprof svg`: render folded stacks as an SVG flame graph; and the
 * flamegraph.pl-style options it shares with `flameprof diff`. */
#ifndef FLAMEPROF_CMD_SVG_H
#define FLAMEPROF_CMD_SVG_H

#include "cli_input.h"
#include "svg.h"

/* argv[0] is "svg". Returns 0, 1 (unreadable input, write error) or 2 (usage). */
int cmd_svg(int argc, char **argv);

/* Parses the options of `svg` (--title, --width, --minwidth, ... see its --help) into o,
 * which the caller has set to svg_options_default, the input options (CLI_INPUT_LONGOPTS)
 * into in (set to cli_input_defaults), and the operands into files[0..nfiles)
 * (NULL where not given); fewer than min_files operands is a usage error. cmd names the
 * subcommand in messages, help is printed for -h. Returns -1 to go on, else the exit
 * status to return (0 after --help). Uses getopt_long with opterr = 0. -o FILE sets
 * *output (else left NULL: standard output). */
int cmd_svg_args(const char *cmd, const char *help, int argc, char **argv, svg_options *o,
                 cli_input_opts *in, const char **files, int min_files, int nfiles,
                 const char **output);

/* Writes the SVG that emit(ctx, out) renders to output (cli_write_file), else to
 * standard output; returns the exit status. */
int cmd_svg_emit(const char *output, int (*emit)(void *ctx, FILE *out), void *ctx);

#endif
