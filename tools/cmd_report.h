/* cmd_report.h - the `flameprof report` subcommand (raw spill -> folded + SVG). */
#ifndef FLAMEPROF_CMD_REPORT_H
#define FLAMEPROF_CMD_REPORT_H

/* argv[0] is "report". Returns 0, 1 (unreadable or not a raw file, write error) or 2. */
int cmd_report(int argc, char **argv);

#endif
