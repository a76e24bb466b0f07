/* cmd_convert.h - `flameprof convert`: folded stacks to pprof or speedscope. */
#ifndef FLAMEPROF_CMD_CONVERT_H
#define FLAMEPROF_CMD_CONVERT_H

int cmd_convert(int argc, char **argv);

#endif
