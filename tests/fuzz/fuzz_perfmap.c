/* libFuzzer target: the perf-map parser (symbolize/jitmap.h), fed untrusted text the way the
 * profiler reads /tmp/perf-PID.map: in two pieces (the file grows while it is read), then
 * names looked up (as pointers and as copies) at the generations the handler would have
 * recorded.
 *
 * Input: byte 0 chooses where the text is split; the rest is the map's text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jitmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint64_t sink;

/* Every name a lookup returns must be a readable, NUL-terminated string. */
static size_t touch(const char *name)
{
    return name ? strlen(name) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t split = size > 1 ? data[0] % size : 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (split > len)
        split = len;
    jitmap *m = jitmap_new();
    if (!m)
        return 0;
    jitmap_stats st = { 0 };
    /* The reader's loop: parse what is there, keep the unconsumed tail for later. */
    size_t used = jitmap_parse_perfmap(m, text, split, 0, NULL, NULL, &st);
    if (used > split)
        abort(); /* consumed more than it was given */
    size_t more = jitmap_parse_perfmap(m, text + used, len - used, used, NULL, NULL, &st);
    if (more > len - used)
        abort();
    uint32_t now = jitmap_current_gen(m);
    size_t sum = 0;
    /* Addresses from the input itself (hex numbers are where entries are), and the edges. */
    uint64_t pcs[8] = { 0, 1, UINT64_MAX, UINT64_MAX - 1 };
    for (size_t i = 0; i < 4; i++) {
        uint64_t v = 0;
        size_t at = (i * len) / 4;
        for (size_t k = 0; k < 8 && at + k < len; k++)
            v = (v << 8) | (uint8_t)text[at + k];
        pcs[4 + i] = v;
    }
    char small[7], big[5000];
    for (size_t i = 0; i < 8; i++) {
        /* The copying lookup, into a buffer too small for most names and one that fits. */
        if (jitmap_lookup_copy(m, pcs[i], now, small, sizeof small))
            sum += strlen(small);
        if (jitmap_lookup_copy(m, pcs[i], 0, big, sizeof big))
            sum += strlen(big);
        sum += touch(jitmap_lookup(m, pcs[i], now));
        sum += touch(jitmap_lookup(m, pcs[i], 0));
        sum += touch(jitmap_lookup(m, pcs[i], jitmap_gen_at(m, pcs[i] % (len + 2))));
    }
    for (size_t i = 0; i < 8; i++)
        jitmap_kill(m, pcs[i]);
    sum += touch(jitmap_lookup(m, pcs[4], jitmap_current_gen(m)));
    sum += jitmap_len(m);
    jitmap_free(m);
    sink += sum; /* keeps the lookups from being optimized away */
    return 0;
}
