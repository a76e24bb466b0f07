/* cmd_report.h - the `flameprof report` subcommand (raw spill -> folded + SVG). */
#ifndef FLAMEPROF_CMD_REPORT_H
#define FLAMEPROF_CMD_REPORT_H

int cmd_report(int argc, char **argv);

#endif
