/* input.c - format names and error reporting shared by the readers. See input.h. */
#include "input.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const format_names[] = {
    [INPUT_UNKNOWN] = "unknown",       [INPUT_FOLDED] = "folded",
    [INPUT_PERF_SCRIPT] = "perf",      [INPUT_PPROF] = "pprof",
    [INPUT_CPUPROFILE] = "cpuprofile", [INPUT_SPEEDSCOPE] = "speedscope",
};

input_format input_format_named(const char *name)
{
    for (size_t i = INPUT_FOLDED; i < sizeof(format_names) / sizeof(*format_names); i++)
        if (strcmp(name, format_names[i]) == 0)
            return (input_format)i;
    return INPUT_UNKNOWN;
}

const char *input_format_name(input_format f)
{
    return (size_t)f < sizeof(format_names) / sizeof(*format_names) ? format_names[f]
                                                                     : "unknown";
}

void input_error(const input_sink *sink, size_t line_no, const char *fmt, ...)
{
    if (!sink->on_error)
        return;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    sink->on_error(sink->err_ctx, line_no, msg);
}
