/* empty_preload.c - a shared object that does nothing, for testing `flameprof record`'s
 * plumbing (library lookup, LD_PRELOAD, exit status) without the real profiler. */
int fp_test_empty_preload;
