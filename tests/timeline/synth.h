/* synth.h - what the synthetic timelines of test_timeline and heatmap_gen share: a
 * deterministic xorshift generator and a skewed pick among n stacks (a few hot ones, a long
 * tail), as a real program's samples fall. */
#ifndef FLAMEPROF_TEST_SYNTH_H
#define FLAMEPROF_TEST_SYNTH_H

#include <stdint.h>

static uint64_t synth_state = 88172645463325252ull;

static inline uint64_t synth_next(void)
{
    synth_state ^= synth_state << 13;
    synth_state ^= synth_state >> 7;
    synth_state ^= synth_state << 17;
    return synth_state;
}

/* A stack id in [0, n) for the random value r, low ids far more often; and a weight of 3
 * or 5 periods (~4: a 997 Hz timer checked on 250 Hz ticks). */
static inline uint32_t synth_stack(uint64_t r, unsigned n)
{
    return (uint32_t)((r % n) * (r % n) / n);
}

static inline uint32_t synth_weight(uint64_t r)
{
    return 3 + (uint32_t)(r >> 60 & 1) * 2;
}

#endif
