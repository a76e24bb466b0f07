/* test_symbolize_disk.c - test_symbolize's disk-cache tests (symbolize/diskcache.h): frames
 * served from the file, refused once the debug file changed or the file is corrupt, whole
 * modules filled by the second process, symbols-only modules. */
#include "symbolize.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "symtest.h"

/* The one cache file in $XDG_CACHE_HOME/flameprof (the test sets it to a temp dir), or
 * NULL if there is none. */
static const char *disk_cache_file(void)
{
    static char path[1024];
    DIR *d = opendir(tmp_path("xdg/flameprof"));
    const char *found = NULL;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        if (strstr(e->d_name, ".sym") != NULL && strstr(e->d_name, ".tmp") == NULL) {
            snprintf(path, sizeof path, "%s/%s", tmp_path("xdg/flameprof"), e->d_name);
            found = path;
        }
    if (d != NULL)
        closedir(d);
    return found;
}

/* Resolves the depth-2 inline pc of the stripped copy in dir (its debug file beside it). */
static void disk_expect(const fixture *f, uint64_t pc, const char *inner, const char *what)
{
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, tmp_path("dc/libsymfix_stripped.so"), f->bias, NULL, 0);
    expect_frames(s, 1, pc, false, 16, what, "symfix_outer", "symfix_inlined_helper", inner,
                  NULL);
    expect_frames(s, 1, pc + 1, true, 16, what, "symfix_outer", "symfix_inlined_helper", inner,
                  NULL);
    symbolize_free(s);
}

/* Resolves pc in the stripped copy in dc/ with a fresh symbolizer (one process). */
static void disk_resolve(const fixture *f, uint64_t pc)
{
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, tmp_path("dc/libsymfix_stripped.so"), f->bias, NULL, 0);
    name_of(s, 1, pc, false);
    symbolize_free(s);
}

/* The first process to miss keeps only its own functions; the second fills the whole
 * module, so a third gets a function no process sampled from the file (its name edited
 * there shows through), and the file is read, not the DWARF. */
static void test_disk_cache_whole(const fixture *f)
{
    uint64_t pc = *(uintptr_t *)dlsym(f->handle, "symfix_inline2_pc");
    uint64_t other = fixture_sym(f, "_ZN4core3fmt5write17h0123456789abcdefE");
    remove_tree(tmp_path("xdg"));
    disk_resolve(f, pc);
    const char *file = disk_cache_file();
    size_t size = 0;
    char *data = file != NULL ? read_file(file, &size) : NULL;
    CHECKF(data != NULL && memmem(data, size, "symfix_static_leaf", 18) == NULL,
           "disk cache: the first process wrote more than its own functions");
    free(data);
    disk_resolve(f, other);
    file = disk_cache_file();
    data = file != NULL ? read_file(file, &size) : NULL;
    char *at = data != NULL ? memmem(data, size, "symfix_static_leaf", 18) : NULL;
    CHECKF(at != NULL, "disk cache: the second miss did not fill the whole module");
    if (at != NULL) {
        memcpy(at, "symfix_STATIC_leaf", 18);
        write_file(file, data, size);
        symbolizer *s = symbolize_new();
        symbolize_add_module(s, 1, tmp_path("dc/libsymfix_stripped.so"), f->bias, NULL, 0);
        expect_frames(s, 1, fixture_static_addr(f), false, 16, "disk cache: whole module",
                      "symfix_STATIC_leaf", NULL);
        symbolize_free(s);
    }
    free(data);
    remove_tree(tmp_path("xdg"));
}

/* A module with neither DWARF nor a debug file is cached too, named by its symbols, FDEs
 * and PLT stubs: once the second process filled the file, every address around its code is
 * named from the file exactly as without any cache (a name edited in the file shows
 * through); when a debug file appears beside it, the file is no longer used. */
static void test_disk_cache_symbols_only(const fixture *f)
{
    remove_tree(tmp_path("xdg"));
    mkdir(tmp_path("so"), 0700);
    copy_file(cfg.stripped, tmp_path("so/libsymfix_stripped.so"));
    const char *p = tmp_path("so/libsymfix_stripped.so");
    uint64_t st = fixture_static_addr(f), outer = fixture_sym(f, "symfix_outer");
    uint64_t lo = (st < outer ? st : outer) & ~(uint64_t)0xfff, span = 0x3000;
    char **want = calloc(2 * span, sizeof *want); /* [2i] as sampled, [2i+1] as returned to */
    setenv("FLAMEPROF_SYMCACHE", "0", 1);
    symbolizer *s = symbolize_new();
    symbolize_add_module(s, 1, p, f->bias, NULL, 0);
    for (uint64_t i = 0; i < 2 * span; i++)
        want[i] = strdup(name_of(s, 1, lo + i / 2, i % 2));
    symbolize_free(s);
    unsetenv("FLAMEPROF_SYMCACHE");
    for (int proc = 0; proc < 2; proc++) { /* the first keeps its own, the second fills */
        s = symbolize_new();
        symbolize_add_module(s, 1, p, f->bias, NULL, 0);
        name_of(s, 1, proc == 0 ? st : outer, false);
        symbolize_free(s);
    }
    const char *file = disk_cache_file();
    size_t size = 0;
    char *data = file != NULL ? read_file(file, &size) : NULL;
    char *at = data != NULL ? memmem(data, size, "symfix_outer", 12) : NULL;
    CHECKF(at != NULL, "symbols-only cache: no file, or no symbol in it");
    if (at != NULL) {
        memcpy(at, "symfix_OUTER", 12);
        write_file(file, data, size);
    }
    /* Twice: the first sweep's misses (code no symbol or FDE names) are kept by offset and
     * read back by the second, for a return address too (named by its own pc). */
    size_t differ = 0;
    for (int sweep = 0; sweep < 2; sweep++) {
        s = symbolize_new();
        symbolize_add_module(s, 1, p, f->bias, NULL, 0);
        for (uint64_t i = 0; i < 2 * span; i++) {
            const char *got = name_of(s, 1, lo + i / 2, i % 2);
            bool edited = strcmp(want[i], "symfix_outer") == 0 && got
                          && strcmp(got, "symfix_OUTER") == 0;
            if ((got == NULL || (strcmp(got, want[i]) != 0 && !edited)) && differ++ < 3)
                fprintf(stderr, "# %#" PRIx64 "%s: \"%s\" from the file, \"%s\" without\n",
                        lo + i / 2 - f->bias, i % 2 ? " returned to" : "", got ? got : "-",
                        want[i]);
        }
        if (sweep == 0)
            symbolize_free(s);
    }
    CHECKF(differ == 0, "symbols-only cache: %zu of %" PRIu64 " addresses named otherwise", differ,
           4 * span);
    expect_frames(s, 1, outer, false, 16, "symbols-only cache: served from the file",
                  "symfix_OUTER", NULL);
    symbolize_free(s);
    copy_file(cfg.debug, tmp_path("so/libsymfix.so.debug"));
    s = symbolize_new();
    symbolize_add_module(s, 1, p, f->bias, NULL, 0);
    expect_frames(s, 1, st, false, 16, "symbols-only cache: unused once a debug file is there",
                  "symfix_static_leaf", NULL);
    symbolize_free(s);
    for (uint64_t i = 0; i < 2 * span; i++)
        free(want[i]);
    free(want);
    free(data);
    remove_tree(tmp_path("xdg"));
}

/* A second symbolizer gets the frames from the file (a name edited in the file shows
 * through); after the debug file changed, or with a corrupt file, the DWARF answers
 * again; FLAMEPROF_SYMCACHE=0 writes nothing. */
static void test_disk_cache(const fixture *f)
{
    uint64_t pc = *(uintptr_t *)dlsym(f->handle, "symfix_inline2_pc");
    remove_tree(tmp_path("xdg")); /* earlier tests' files (fuzzed copies have odd build-ids) */
    mkdir(tmp_path("dc"), 0700);
    copy_file(cfg.stripped, tmp_path("dc/libsymfix_stripped.so"));
    copy_file(cfg.debug, tmp_path("dc/libsymfix.so.debug"));
    disk_expect(f, pc, "symfix_inner_helper", "disk cache: cold");
    const char *file = disk_cache_file();
    CHECKF(file != NULL, "disk cache: no file written");
    if (file == NULL)
        return;
    size_t size;
    char *data = read_file(file, &size), *at = memmem(data, size, "symfix_inner_helper", 19);
    CHECKF(at != NULL, "disk cache: the file does not hold the inlined name");
    if (at != NULL)
        memcpy(at, "symfix_INNER_helper", 19);
    write_file(file, data, size);
    disk_expect(f, pc, "symfix_INNER_helper", "disk cache: served from the file");
    /* A debug file changed since (here: its mtime) makes the whole file a miss. */
    struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    utimensat(AT_FDCWD, tmp_path("dc/libsymfix.so.debug"), old, 0);
    disk_expect(f, pc, "symfix_inner_helper", "disk cache: debug file changed");
    /* Corrupt cache files: truncated anywhere, or bytes flipped, never a crash. */
    file = disk_cache_file();
    free(data);
    data = read_file(file, &size);
    uint64_t rng = 0x243f6a8885a308d3ULL;
    for (int iter = 0; iter < 60 && size > 0; iter++) {
        char *copy = malloc(size);
        memcpy(copy, data, size);
        size_t len = iter < 30 ? (size * (size_t)iter) / 30 : size;
        for (int k = 0; iter >= 30 && k < 4; k++)
            copy[xorshift(&rng) % size] = (char)xorshift(&rng);
        write_file(file, copy, len);
        symbolizer *s = symbolize_new();
        symbolize_add_module(s, 1, tmp_path("dc/libsymfix_stripped.so"), f->bias, NULL, 0);
        CHECKF(name_of(s, 1, pc, false) != NULL, "disk cache: corrupt file %d", iter);
        symbolize_free(s);
        free(copy);
    }
    free(data);
    remove_tree(tmp_path("xdg"));
    setenv("FLAMEPROF_SYMCACHE", "0", 1);
    disk_expect(f, pc, "symfix_inner_helper", "disk cache: turned off");
    CHECKF(disk_cache_file() == NULL, "disk cache: written with FLAMEPROF_SYMCACHE=0");
    unsetenv("FLAMEPROF_SYMCACHE");
}


int test_disk_cache_all(const fixture *f)
{
    test_disk_cache(f);
    test_disk_cache_whole(f);
    test_disk_cache_symbols_only(f);
    return check_failures;
}
