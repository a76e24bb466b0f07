/* symtest.h - what test_symbolize's files share: the loaded fixtures, the command line,
 * and the helpers that resolve, check and handle files (test_symbolize.c). */
#ifndef FLAMEPROF_SYMTEST_H
#define FLAMEPROF_SYMTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

/* One loaded fixture: where dlopen put it, and what it exports. */
typedef struct fixture {
    const char *path;
    void *handle;
    uint64_t bias;
} fixture;

/* The fixture files from the command line, and the test's temp dir. */
struct symtest_cfg {
    const char *lib, *stripped, *debug, *noid_lib, *noid_stripped, *noid_debug, *mini;
    const char *noaranges;
    char tmpdir[64];
};
extern struct symtest_cfg cfg;

uint64_t fixture_sym(const fixture *f, const char *name);
uint64_t fixture_static_addr(const fixture *f);
/* Resolves and checks the exact frame list; NULL-terminated, inlined from index 1. */
void expect_frames(symbolizer *s, int id, uint64_t pc, bool ret, size_t max,
                   const char *what, ...);
const char *name_of(symbolizer *s, int id, uint64_t pc, bool ret);
char *read_file(const char *path, size_t *size);
void write_file(const char *path, const void *data, size_t size);
void copy_file(const char *from, const char *to);
/* cfg.tmpdir/rel (eight rotating buffers). */
const char *tmp_path(const char *rel);
void remove_tree(const char *path);
/* The next of a xorshift64 sequence (the corruption tests' bytes). */
uint64_t xorshift(uint64_t *state);

/* The disk-cache tests (test_symbolize_disk.c); returns their failures. */
int test_disk_cache_all(const fixture *f);

#endif
