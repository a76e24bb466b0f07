/* modules.c - module registry and generation-stamped module maps. */
#include "modules.h"

#include "cfi_cache.h"

#include "array.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static unwind_module **registry; /* all modules ever seen, by id */
static size_t registry_len, registry_cap;
static const module_map **maps;  /* all maps ever published, by generation */
static size_t maps_len, maps_cap;
static _Atomic(const module_map *) current_map;

typedef struct seen_module {
    char *path;
    uint64_t start, end, bias;
    const void *image; /* the vDSO */
    size_t image_size;
    unsigned char build_id[MODULE_BUILD_ID_MAX]; /* read from the loaded image's notes */
    size_t build_id_len;                         /* 0: none found there */
} seen_module;

typedef struct scan {
    seen_module *v;
    size_t len, cap;
    uintptr_t vdso;
} scan;

static char *module_path(const char *name)
{
    char buf[PATH_MAX];
    if (!name || !*name) {
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0)
            return strdup("[main]");
        buf[n] = 0;
        return strdup(buf);
    }
    if (name[0] != '/' && realpath(name, buf))
        return strdup(buf);
    return strdup(name);
}

/* Is [vaddr, vaddr + len) inside the file-backed part of one of the image's PT_LOADs? */
static bool in_loaded(const struct dl_phdr_info *info, uint64_t vaddr, uint64_t len)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && vaddr >= ph->p_vaddr && len <= ph->p_filesz &&
            vaddr - ph->p_vaddr <= ph->p_filesz - len)
            return true;
    }
    return false;
}

size_t modules_image_build_id(const struct dl_phdr_info *info, unsigned char *out, size_t cap)
{
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE || !in_loaded(info, ph->p_vaddr, ph->p_filesz))
            continue;
        const unsigned char *p = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
        uint64_t align = ph->p_align == 8 ? 8 : 4, off = 0, n = ph->p_filesz;
        while (n - off >= sizeof(ElfW(Nhdr))) {
            ElfW(Nhdr) nh;
            memcpy(&nh, p + off, sizeof nh);
            uint64_t name_at = off + sizeof nh;
            uint64_t desc_at = (name_at + nh.n_namesz + align - 1) & ~(align - 1);
            if (nh.n_namesz > n || nh.n_descsz > n || desc_at > n || nh.n_descsz > n - desc_at)
                break;
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                memcmp(p + name_at, "GNU", 4) == 0 && nh.n_descsz > 0 && nh.n_descsz <= cap) {
                memcpy(out, p + desc_at, nh.n_descsz);
                return nh.n_descsz;
            }
            off = (desc_at + nh.n_descsz + align - 1) & ~(align - 1);
        }
    }
    return 0;
}

/* Runs under the loader lock: only records what it sees. */
static int scan_one(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    scan *sc = arg;
    uint64_t lo = UINT64_MAX, hi = 0, image_size = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        uint64_t s = info->dlpi_addr + ph->p_vaddr, e = s + ph->p_memsz;
        lo = s < lo ? s : lo;
        hi = e > hi ? e : hi;
        if (ph->p_offset + ph->p_filesz > image_size)
            image_size = ph->p_offset + ph->p_filesz;
    }
    if (hi <= lo)
        return 0;
    if (!UTIL_RESERVE(sc->v, sc->cap, sc->len + 1))
        return 1;
    bool is_vdso = sc->vdso && lo <= sc->vdso && sc->vdso < hi;
    seen_module *m = &sc->v[sc->len++];
    *m = (seen_module){ .start = lo, .end = hi, .bias = info->dlpi_addr };
    m->path = is_vdso ? strdup("[vdso]") : module_path(info->dlpi_name);
    m->build_id_len = modules_image_build_id(info, m->build_id, sizeof m->build_id);
    if (is_vdso) {
        /* The image runs to its section headers, past the last loaded byte. */
        const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)sc->vdso;
        uint64_t sh_end = eh->e_shoff + (uint64_t)eh->e_shnum * eh->e_shentsize;
        if (sh_end > image_size && sc->vdso + sh_end <= hi)
            image_size = sh_end;
        m->image = (const void *)sc->vdso;
        m->image_size = image_size;
    }
    return 0;
}

static Elf *module_open_elf(const seen_module *s, int *fd)
{
    *fd = -1;
    if (s->image)
        return elf_memory((char *)s->image, s->image_size);
    /* O_NONBLOCK and a regular file only: a FIFO where a library was must not hang us. */
    *fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (*fd >= 0 && (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(*fd);
        *fd = -1;
    }
    return *fd < 0 ? NULL : elf_begin(*fd, ELF_C_READ_MMAP, NULL);
}

/* The table from the module's file (or the vDSO's image), kept in the cache when the file's
 * build-id is the loaded image's; the build-id from the file where memory had none (then
 * the cache is looked in here: module_inspect could not). */
static cfi_table *module_build(const seen_module *s, unwind_module *m)
{
    int fd;
    Elf *elf = module_open_elf(s, &fd);
    const void *id = NULL;
    ssize_t len = elf ? dwelf_elf_gnu_build_id(elf, &id) : -1;
    bool looked = m->build_id_len > 0;
    bool same = len > 0 && (size_t)len == m->build_id_len &&
                memcmp(id, m->build_id, m->build_id_len) == 0;
    if (!looked && len > 0 && (size_t)len <= sizeof m->build_id) {
        memcpy(m->build_id, id, (size_t)len);
        m->build_id_len = (size_t)len;
        same = true;
    }
    cfi_table *t = fd >= 0 && same && !looked ? cfi_cache_load(fd, id, (size_t)len) : NULL;
    if (t == NULL && elf != NULL) {
        t = cfi_build(elf);
        struct stat none;
        memset(&none, 0, sizeof none); /* the vDSO's identity (cfi_cache.h) */
        if (fd >= 0 && same)
            cfi_cache_store(fd, id, (size_t)len, t);
        else if (s->image && same)
            cfi_cache_store_stat(&none, id, (size_t)len, t);
    }
    if (elf)
        elf_end(elf);
    if (fd >= 0)
        close(fd);
    return t;
}

/* The CFI table, built at once, even for big modules (node's binary: most of a second):
 * building them later on the aggregator thread left the first second's samples in code
 * without frame pointers unwound by guesswork, and node's JIT-churn test saw it. With a
 * build-id read from memory, a table cached by an earlier process is found with one
 * stat() of the file: opening and mapping it to read its build-id was ~30% of the start-up
 * work for a small program's dozen modules. The vDSO's table is cached by build-id too
 * (built from memory in every process, it was another ~60 us of each start). */
static void module_inspect(const seen_module *s, unwind_module *m)
{
    memcpy(m->build_id, s->build_id, s->build_id_len);
    m->build_id_len = s->build_id_len;
    struct stat st;
    memset(&st, 0, sizeof st); /* the vDSO's: no file (cfi_cache.h) */
    cfi_table *t = NULL;
    if (m->build_id_len > 0 &&
        (s->image || (stat(s->path, &st) == 0 && S_ISREG(st.st_mode))))
        t = cfi_cache_load_stat(&st, m->build_id, m->build_id_len);
    if (t == NULL)
        t = module_build(s, m);
    atomic_init(&m->cfi, t);
}

static unwind_module *registry_find(const seen_module *s)
{
    for (size_t i = registry_len; i-- > 0;) {
        unwind_module *m = registry[i];
        if (m->start == s->start && m->end == s->end && m->bias == s->bias &&
            strcmp(m->path, s->path) == 0)
            return m;
    }
    return NULL;
}

static unwind_module *registry_add(seen_module *s)
{
    if (!UTIL_RESERVE(registry, registry_cap, registry_len + 1))
        return NULL;
    unwind_module *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    *m = (unwind_module){ .id = (int)registry_len, .start = s->start, .end = s->end,
                          .bias = s->bias, .path = s->path, .image = s->image,
                          .image_size = s->image_size };
    module_inspect(s, m);
    s->path = NULL; /* now owned by the module */
    registry[registry_len++] = m;
    return m;
}

static int by_start(const void *a, const void *b)
{
    const module_range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

_Static_assert(sizeof(module_range) == 64, "a module's range is one cache line");

/* The range of module mod, its table as it is now. */
static module_range range_of(const unwind_module *mod)
{
    const cfi_table *t = module_cfi(mod);
    return (module_range){ mod->start, mod->end, mod, mod->bias + (t ? t->base : 0),
                           cfi_view_of(t) };
}

static void publish(const unwind_module **mods, size_t n)
{
    if (!UTIL_RESERVE(maps, maps_cap, maps_len + 1))
        return;
    /* Aligned by hand (maps are never freed): each range one line. */
    char *block = malloc(sizeof(module_map) + n * sizeof(module_range) + 63);
    if (!block)
        return;
    module_map *m = (module_map *)(block + (-(uintptr_t)block & 63));
    m->gen = (uint32_t)maps_len;
    m->len = n;
    for (size_t i = 0; i < n; i++)
        m->r[i] = range_of(mods[i]);
    qsort(m->r, n, sizeof m->r[0], by_start);
    maps[maps_len++] = m;
    atomic_store_explicit(&current_map, m, memory_order_release);
}

void modules_refresh(void)
{
    elf_version(EV_CURRENT);
    scan sc = { .vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR) };
    dl_iterate_phdr(scan_one, &sc);
    const unwind_module **mods = calloc(sc.len ? sc.len : 1, sizeof *mods);
    pthread_mutex_lock(&registry_lock);
    size_t n = 0;
    for (size_t i = 0; mods && i < sc.len; i++) {
        if (!sc.v[i].path)
            continue;
        const unwind_module *m = registry_find(&sc.v[i]);
        if (!m)
            m = registry_add(&sc.v[i]);
        if (m)
            mods[n++] = m;
    }
    if (mods)
        publish(mods, n);
    pthread_mutex_unlock(&registry_lock);
    for (size_t i = 0; i < sc.len; i++)
        free(sc.v[i].path);
    free(sc.v);
    free(mods);
}

void modules_release_cfi(void)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_len; i++)
        cfi_free((cfi_table *)atomic_exchange_explicit(&registry[i]->cfi, NULL,
                                                        memory_order_acq_rel));
    pthread_mutex_unlock(&registry_lock);
}

const cfi_table *module_cfi(const unwind_module *m)
{
    return atomic_load_explicit(&((unwind_module *)m)->cfi, memory_order_acquire);
}

const module_map *modules_current(void)
{
    return atomic_load_explicit(&current_map, memory_order_acquire);
}

const module_range *module_map_range(const module_map *m, uint64_t pc)
{
    if (!m)
        return NULL;
    size_t lo = 0, hi = m->len; /* last module with start <= pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->r[mid].start <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && pc < m->r[lo - 1].end ? &m->r[lo - 1] : NULL;
}

const unwind_module *module_map_find(const module_map *m, uint64_t pc)
{
    const module_range *r = module_map_range(m, pc);
    return r ? r->mod : NULL;
}

const module_map *modules_by_gen(uint32_t gen)
{
    pthread_mutex_lock(&registry_lock);
    const module_map *m = gen < maps_len ? maps[gen] : NULL;
    pthread_mutex_unlock(&registry_lock);
    return m;
}

size_t modules_count(void)
{
    pthread_mutex_lock(&registry_lock);
    size_t n = registry_len;
    pthread_mutex_unlock(&registry_lock);
    return n;
}

const unwind_module *modules_get(int id)
{
    pthread_mutex_lock(&registry_lock);
    const unwind_module *m = id >= 0 && (size_t)id < registry_len ? registry[id] : NULL;
    pthread_mutex_unlock(&registry_lock);
    return m;
}

int modules_restore(int id, const char *path, uint64_t start, uint64_t end, uint64_t bias)
{
    seen_module s = { .path = strdup(path), .start = start, .end = end, .bias = bias };
    pthread_mutex_lock(&registry_lock);
    unwind_module *m = NULL;
    if (s.path && id >= 0 && (size_t)id < registry_len) {
        const unwind_module *old = registry[id];
        bool same = old->start == start && old->end == end && old->bias == bias &&
                    strcmp(old->path, path) == 0;
        pthread_mutex_unlock(&registry_lock);
        free(s.path);
        return same ? 0 : -1;
    }
    if (s.path && id == (int)registry_len && start < end) {
        if (UTIL_RESERVE(registry, registry_cap, registry_len + 1) && (m = calloc(1, sizeof *m))) {
            *m = (unwind_module){ .id = id, .start = start, .end = end, .bias = bias,
                                  .path = s.path };
            registry[registry_len++] = m;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    if (!m)
        free(s.path);
    return m ? 0 : -1;
}

/* This process's vDSO, if its build-id is build_id[0..len): the same kernel's vDSO, which
 * names the frames of a profiled process's (its image died with it). */
static bool own_vdso(const unsigned char *build_id, size_t len, const void **image,
                     size_t *size)
{
    scan sc = { .vdso = (uintptr_t)getauxval(AT_SYSINFO_EHDR) };
    if (!sc.vdso || !len)
        return false;
    dl_iterate_phdr(scan_one, &sc);
    bool same = false;
    for (size_t i = 0; i < sc.len; i++) {
        if (sc.v[i].image && !same) {
            elf_version(EV_CURRENT);
            Elf *e = elf_memory((char *)sc.v[i].image, sc.v[i].image_size);
            const void *id = NULL;
            ssize_t n = e ? dwelf_elf_gnu_build_id(e, &id) : -1;
            same = n > 0 && (size_t)n == len && memcmp(id, build_id, len) == 0;
            *image = sc.v[i].image;
            *size = sc.v[i].image_size;
            elf_end(e);
        }
        free(sc.v[i].path);
    }
    free(sc.v);
    return same;
}

int modules_restore_build_id(int id, const unsigned char *build_id, size_t len)
{
    pthread_mutex_lock(&registry_lock);
    unwind_module *m = id >= 0 && (size_t)id < registry_len ? registry[id] : NULL;
    bool vdso = m && !m->image && m->path && strcmp(m->path, "[vdso]") == 0;
    pthread_mutex_unlock(&registry_lock);
    const void *image = NULL;
    size_t size = 0;
    if (vdso && !own_vdso(build_id, len, &image, &size))
        image = NULL; /* the loader lock is never taken under the registry's */
    pthread_mutex_lock(&registry_lock);
    if (m && len <= sizeof m->build_id) {
        memcpy(m->build_id, build_id, len);
        m->build_id_len = len;
        if (image) {
            m->image = image;
            m->image_size = size;
        }
    }
    pthread_mutex_unlock(&registry_lock);
    return m && len <= sizeof m->build_id ? 0 : -1;
}

int modules_restore_map(uint32_t gen, const int *ids, size_t n)
{
    const unwind_module **mods = calloc(n ? n : 1, sizeof *mods);
    int rc = -1;
    pthread_mutex_lock(&registry_lock);
    if (gen < maps_len && maps[gen]->len == n) { /* restored before: the same map again */
        pthread_mutex_unlock(&registry_lock);
        free(mods);
        return 0;
    }
    bool ok = mods && gen == maps_len;
    for (size_t i = 0; ok && i < n; i++) {
        ok = ids[i] >= 0 && (size_t)ids[i] < registry_len;
        if (ok)
            mods[i] = registry[ids[i]];
    }
    /* A map's modules must not overlap: module_map_find relies on it. */
    if (ok) {
        publish(mods, n);
        const module_map *m = maps_len ? maps[maps_len - 1] : NULL;
        for (size_t i = 1; m && i < m->len; i++)
            ok = ok && m->r[i - 1].end <= m->r[i].start;
        rc = ok && m && m->gen == gen ? 0 : -1;
    }
    pthread_mutex_unlock(&registry_lock);
    free(mods);
    return rc;
}

void modules_after_fork_child(void)
{
    pthread_mutex_init(&registry_lock, NULL);
}
