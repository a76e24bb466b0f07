/* json_in.c - jansson documents from input streams, frame names. See json_in.h. */
#include "json_in.h"

#include "frame_name.h"

#include <stdlib.h>
#include <string.h>

/* The document is built whole (several times its size in memory): a bigger one, a gzip
 * bomb say, is refused rather than let it take the machine. */
#define JSON_IN_MAX_BYTES (1ul << 30)

typedef struct json_feed {
    input_stream *in;
    size_t fed;
    bool too_big;
} json_feed;

static size_t load_chunk(void *buf, size_t n, void *ctx)
{
    json_feed *f = ctx;
    ssize_t got = input_stream_read(f->in, buf, n);
    if (got < 0)
        return (size_t)-1;
    f->fed += (size_t)got;
    if (f->fed > JSON_IN_MAX_BYTES) {
        f->too_big = true;
        return (size_t)-1;
    }
    return (size_t)got;
}

json_t *json_in_load(input_stream *in, const input_sink *sink)
{
    json_error_t e;
    json_feed feed = { in, 0, false };
    json_t *doc = json_load_callback(load_chunk, &feed, JSON_REJECT_DUPLICATES, &e);
    if (!doc) {
        if (feed.too_big)
            input_error(sink, 0, "JSON of more than 1 GB: not read");
        else if (in->err)
            input_error(sink, 0, "%s", input_stream_error(in));
        else
            input_error(sink, (size_t)(e.line > 0 ? e.line : 0), "JSON: %s (column %d)",
                        e.text, e.column);
    }
    return doc;
}

int json_text_frame(input_buf *t, const char *name, size_t n)
{
    if (t->len && input_buf_put(t, ";", 1) < 0)
        return -1;
    if (n == 0)
        return input_buf_put(t, "[unknown]", 9);
    size_t at = t->len;
    if (input_buf_put(t, name, n) < 0)
        return -1;
    for (size_t i = at; i < t->len; i++)
        t->s[i] = util_frame_char((unsigned char)t->s[i]);
    return 0;
}

bool json_in_number(const json_t *v, double *out)
{
    if (json_is_integer(v))
        *out = (double)json_integer_value(v);
    else if (json_is_real(v))
        *out = json_real_value(v);
    else
        return false;
    return true;
}

double json_in_ns_per(const char *unit)
{
    static const struct { const char *name; double ns; } units[] = {
        { "nanoseconds", 1 }, { "microseconds", 1e3 }, { "milliseconds", 1e6 },
        { "seconds", 1e9 },
    };
    for (size_t i = 0; unit && i < sizeof(units) / sizeof(*units); i++)
        if (strcmp(unit, units[i].name) == 0)
            return units[i].ns;
    return 0;
}
