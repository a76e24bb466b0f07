/* cmd_diff.c - `flameprof diff`: a differential flame graph of two folded profiles. */
#include "cmd_diff.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_input.h"
#include "cmd_svg.h"
#include "diff.h"
#include "folded.h"
#include "svg.h"

static const char diff_help[] =
    "Usage: flameprof diff [OPTIONS] BEFORE AFTER\n"
    "\n"
    "Render a differential flame graph as SVG on standard output: laid out by AFTER's\n"
    "samples, each frame red where its share of the samples grew from BEFORE to AFTER and\n"
    "blue where it shrank, the deeper the larger the change; grey where it did not change.\n"
    "Hover a frame for both counts, both shares and the change (in percentage points).\n"
    "\n"
    "Paths that only BEFORE has are kept, not lost: each is drawn where it would sort, with\n"
    "BEFORE's samples scaled to AFTER's total. So a frame is as wide as its samples in\n"
    "AFTER plus those of the paths under it that disappeared.\n"
    "\n"
    "BEFORE and AFTER are profiles of any format flameprof reads (see below), each detected\n"
    "on its own: 'flameprof diff before.pprof after.folded' works. Either may be '-' for\n"
    "standard input. OPTIONS are those of 'flameprof svg'\n"
    "(--title, --subtitle, --width, --minwidth, --countname, --inverted, --reverse,\n"
    "--full-labels, -o FILE); --colors\n"
    "is accepted and ignored. The default subtitle names both files and their totals.\n"
    "The filters below apply to both profiles alike.\n"
    CLI_FILTER_HELP;

static int emit_diff(void *ctx, FILE *out)
{
    const void *const *cp = ctx; /* { svg_diff, svg_options } */
    return svg_write_diff(cp[0], cp[1], out);
}

int cmd_diff(int argc, char **argv)
{
    svg_options o;
    svg_options_default(&o);
    const char *files[2] = { NULL, NULL };
    cli_input_opts in;
    cli_input_defaults(&in);
    const char *output = NULL;
    int rc = cmd_svg_args("diff", diff_help, argc, argv, &o, &in, files, 2, 2, &output);
    if (rc >= 0)
        return rc;
    if (strcmp(files[0], "-") == 0 && strcmp(files[1], "-") == 0) {
        cli_usage_error("diff", "%s", "only one of the files can be standard input");
        return EXIT_USAGE;
    }
    folded_profile before, after;
    folded_init(&before);
    folded_init(&after);
    svg_diff d = { NULL, 0, 0, 0 };
    char subtitle[512], subtitle2[4096];
    rc = 1;
    if (cli_read_profile(files[0], &in, &before) != 0 ||
        cli_read_profile(files[1], &in, &after) != 0)
        goto done;
    char desc_before[1024] = "";
    if (cli_filter_apply("diff", &before) != 0)
        goto done;
    if (filter_active(cli_filter()))
        filter_describe(cli_filter(), desc_before, sizeof desc_before);
    if (cli_filter_apply("diff", &after) != 0)
        goto done;
    if (diff_build(&before, &after, &d) < 0) {
        fprintf(stderr, "flameprof: diff: out of memory\n");
        goto done;
    }
    if (!o.subtitle) {
        snprintf(subtitle, sizeof(subtitle), "before: %s (%llu), after: %s (%llu); red grew, "
                 "blue shrank", files[0], (unsigned long long)before.total, files[1],
                 (unsigned long long)after.total);
        o.subtitle = subtitle;
    }
    char filtered[2048];
    if (desc_before[0]) /* the filter's counts are AFTER's: say BEFORE's too */
        snprintf(filtered, sizeof filtered, "%s - before %s", o.subtitle, desc_before);
    o.subtitle = cli_filter_subtitle(desc_before[0] ? filtered : o.subtitle, subtitle2,
                                     sizeof subtitle2);
    const void *ctx[2] = { &d, &o };
    rc = cmd_svg_emit(output, emit_diff, (void *)ctx);
done:
    diff_free(&d);
    folded_free(&before);
    folded_free(&after);
    return rc;
}
