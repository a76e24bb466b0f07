/* cmd_report.h - the `flameprof report` subcommand (raw spill -> the chosen formats, whole
 * or for a time range) and `flameprof heatmap` (raw spill -> heatmap page). */
#ifndef FLAMEPROF_CMD_REPORT_H
#define FLAMEPROF_CMD_REPORT_H

/* argv[0] is "report" / "heatmap". Return 0, 1 (unreadable or not a raw file, no
 * timeline, write error) or 2 (usage). */
int cmd_report(int argc, char **argv);
int cmd_heatmap(int argc, char **argv);

#endif
