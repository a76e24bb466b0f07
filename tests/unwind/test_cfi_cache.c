/* test_cfi_cache.c - CFI tables kept on disk (unwind/cfi_cache.h): the table read back is
 * the one built, row for row and lookup for lookup; a file made for another file (here:
 * a copy of libc, another inode), a truncated or disordered one, or caching turned off
 * gives no table. Run on this machine's libc. */
#include "cfi_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <elfutils/libdwelf.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

static char libc_path[4096];

/* The program's allocator as Chromium's is (PartitionAlloc replaces malloc and traps on a
 * 2 MB-aligned posix_memalign): asked for such an alignment, this one refuses and counts.
 * A big module's table (2 MB pages) must come from our own mapping instead. */
static int huge_aligned_asks;

int posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment >= (1u << 20)) {
        huge_aligned_asks++;
        return ENOMEM;
    }
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)))
        return EINVAL;
    void *p = aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* A table past 2 MB (a million rows over 600 MB of code): mapped, aligned, released. */
static void check_big_table(void)
{
    cfi_table *t = cfi_alloc(0x1000, 1000000, 4, 600u << 20);
    CHECKF(t != NULL && t->mapped >= (2u << 20) && ((uintptr_t)t & ((2u << 20) - 1)) == 0 &&
               huge_aligned_asks == 0,
           "a 2 MB table: %s, mapped %zu, %d 2 MB-aligned asks of the program's allocator",
           t ? "made" : "none", t ? t->mapped : 0, huge_aligned_asks);
    cfi_free(t);
    /* The index's granule follows the rows' density: 512 bytes for dense code, coarser
     * where rows are sparse (up to 4 KB: Chromium's 63,000 rows over 236 MB). */
    cfi_table *dense = cfi_alloc(0x1000, 10000, 4, 1u << 20);
    cfi_table *sparse = cfi_alloc(0x1000, 63000, 4, 236u << 20);
    CHECKF(dense && dense->shift == 9 && sparse && sparse->shift == 12,
           "index granules: dense 2^%u, sparse 2^%u (%zu entries)", dense ? dense->shift : 0,
           sparse ? sparse->shift : 0, sparse ? sparse->pages : 0);
    cfi_free(dense);
    cfi_free(sparse);
}

static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    if (strstr(info->dlpi_name, "/libc.so") == NULL)
        return 0;
    snprintf(libc_path, sizeof libc_path, "%s", info->dlpi_name);
    return 1;
}

typedef struct module_file {
    int fd;
    Elf *elf;
    const void *id;
    size_t idlen;
} module_file;

static module_file module_open(const char *path)
{
    module_file m = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
    m.elf = m.fd >= 0 ? elf_begin(m.fd, ELF_C_READ_MMAP, NULL) : NULL;
    ssize_t n = m.elf ? dwelf_elf_gnu_build_id(m.elf, &m.id) : -1;
    if (n <= 0) {
        fprintf(stderr, "FATAL: %s: no build-id\n", path);
        exit(2);
    }
    m.idlen = (size_t)n;
    return m;
}

static void module_close(module_file *m)
{
    elf_end(m->elf);
    close(m->fd);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, out);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
}

static bool same_table(const cfi_table *a, const cfi_table *b)
{
    if (a == NULL || b == NULL || a->base != b->base || a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        cfi_row x = cfi_row_at(a, i), y = cfi_row_at(b, i);
        if (memcmp(&x, &y, sizeof x) != 0)
            return false;
    }
    uint64_t end = a->base + a->pc[a->len - 1] + 4096;
    for (uint64_t x = a->base > 64 ? a->base - 64 : 0; x < end; x += 7) {
        cfi_row ra, rb;
        bool ha = cfi_lookup(a, x, &ra), hb = cfi_lookup(b, x, &rb);
        if (ha != hb || (ha && memcmp(&ra, &rb, sizeof ra) != 0))
            return false;
    }
    return true;
}

/* The cache file replaced by the first n bytes of data, then read back for m. */
static cfi_table *load_written(const module_file *m, const char *path, const char *data,
                               size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(data, 1, n, f);
        fclose(f);
    }
    return cfi_cache_load(m->fd, m->id, m->idlen);
}

int main(void)
{
    elf_version(EV_CURRENT);
    check_big_table();
    dl_iterate_phdr(find_libc, NULL);
    if (libc_path[0] == '\0') {
        fprintf(stderr, "SKIP: libc not found\n");
        return 77;
    }
    char dir[] = "/tmp/cficache.XXXXXX";
    if (mkdtemp(dir) == NULL)
        return 2;
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("FLAMEPROF_SYMCACHE");
    module_file libc = module_open(libc_path);
    cfi_table *built = cfi_build(libc.elf);
    CHECKF(built != NULL && built->len > 1000, "libc's table: %zu rows", built ? built->len : 0);
    CHECKF(cfi_cache_load(libc.fd, libc.id, libc.idlen) == NULL, "a table before any was stored");
    cfi_cache_store(libc.fd, libc.id, libc.idlen, built);
    cfi_table *loaded = cfi_cache_load(libc.fd, libc.id, libc.idlen);
    CHECKF(same_table(built, loaded), "the table read back differs from the one built");
    cfi_free(loaded);

    /* Another file with the same build-id (a copy: another inode) is not served. */
    char copy[64];
    snprintf(copy, sizeof copy, "%s/libc-copy.so", dir);
    copy_file(libc_path, copy);
    module_file other = module_open(copy);
    CHECKF(cfi_cache_load(other.fd, other.id, other.idlen) == NULL, "served to another file");
    module_close(&other);
    unlink(copy);

    /* An image that is no file (the vDSO) is kept under an all-zero stat, and served only
     * for that: not for a file with the same build-id. */
    struct stat none, libc_st;
    memset(&none, 0, sizeof none);
    const unsigned char fake_id[20] = { 0xfe, 0xed, 0xfa, 0xce };
    cfi_cache_store_stat(&none, fake_id, sizeof fake_id, built);
    cfi_table *image = cfi_cache_load_stat(&none, fake_id, sizeof fake_id);
    CHECKF(same_table(built, image), "a table kept for an image comes back whole");
    cfi_free(image);
    CHECKF(fstat(libc.fd, &libc_st) == 0 &&
               cfi_cache_load_stat(&libc_st, fake_id, sizeof fake_id) == NULL,
           "an image's table served to a file with its build-id");

    /* Damaged files: truncated (to a whole number of rows or not), rows out of order. */
    char path[4096];
    snprintf(path, sizeof path, "%s/flameprof/", dir);
    for (size_t i = 0; i < libc.idlen; i++)
        snprintf(path + strlen(path), sizeof path - strlen(path), "%02x",
                 ((const unsigned char *)libc.id)[i]);
    strcat(path, ".cfi");
    struct stat st;
    CHECKF(stat(path, &st) == 0, "no cache file at %s", path);
    FILE *f = fopen(path, "rb");
    size_t size = (size_t)st.st_size;
    char *data = malloc(size);
    CHECK(f != NULL && fread(data, 1, size, f) == size);
    if (f)
        fclose(f);
    size_t cuts[] = { 0, 8, 100, size / 2, size - sizeof(cfi_row), size - 2, size - 1 };
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        loaded = load_written(&libc, path, data, cuts[i]);
        CHECKF(loaded == NULL, "a file cut to %zu bytes was served", cuts[i]);
        cfi_free(loaded);
    }
    /* The file ends with the pcs (4 bytes a row), the page index (4 bytes a page), then the
     * rule indexes (2 bytes a row). */
    char *rules = data + size - built->len * 2, *index = rules - built->pages * 4;
    char *pcs = index - built->len * 4;
    CHECKF(memcmp(index, built->page_first, built->pages * 4) == 0,
           "the page index is not kept between the pcs and the rule indexes");
    /* A page's entry one row off (in range, but not the last row at or before the page). */
    size_t page = built->pages / 2;
    uint32_t entry, off_by_one;
    memcpy(&entry, index + page * 4, 4);
    off_by_one = entry + 1 < built->len ? entry + 1 : entry - 1;
    memcpy(index + page * 4, &off_by_one, 4);
    loaded = load_written(&libc, path, data, size);
    CHECKF(loaded == NULL, "a page index one row off was served");
    cfi_free(loaded);
    memcpy(index + page * 4, &entry, 4);
    uint32_t p[2];
    memcpy(p, pcs + (built->len - 2) * 4, sizeof p);
    uint32_t swapped[2] = { p[1], p[0] };
    memcpy(pcs + (built->len - 2) * 4, swapped, sizeof swapped);
    loaded = load_written(&libc, path, data, size);
    CHECKF(loaded == NULL, "rows out of order were served");
    cfi_free(loaded);
    memcpy(pcs + (built->len - 2) * 4, p, sizeof p);
    uint16_t bad = (uint16_t)built->nrules, good;
    memcpy(&good, rules + 2, sizeof good);
    memcpy(rules + 2, &bad, sizeof bad);
    loaded = load_written(&libc, path, data, size);
    CHECKF(loaded == NULL, "a rule index past the rules was served");
    cfi_free(loaded);
    memcpy(rules + 2, &good, sizeof good);
    loaded = load_written(&libc, path, data, size);
    CHECKF(same_table(built, loaded), "the file restored was not served as built");
    cfi_free(loaded);
    free(data);
    unlink(path);

    setenv("FLAMEPROF_SYMCACHE", "0", 1);
    cfi_cache_store(libc.fd, libc.id, libc.idlen, built);
    CHECKF(stat(path, &st) != 0, "stored with FLAMEPROF_SYMCACHE=0");
    cfi_free(built);
    module_close(&libc);
    char sub[64];
    snprintf(sub, sizeof sub, "%s/flameprof", dir);
    rmdir(sub);
    rmdir(dir);
    return check_status("test_cfi_cache");
}
