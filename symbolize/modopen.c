/* modopen.c - a module's file opened and reported to its own Dwfl; see modopen.h. */
#include "modopen.h"

#include "debugfile.h"
#include "symtab.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Dwfl find_elf: hands over the Elf that symbolize_module_load opened; never searches. */
static int symbolize_find_elf(Dwfl_Module *mod, void **userdata, const char *modname,
                              Dwarf_Addr base, char **file_name, Elf **elfp)
{
    (void)mod, (void)modname, (void)base;
    symbolize_module *m = *userdata;
    if (m == NULL || m->pending_elf == NULL)
        return -1;
    *elfp = m->pending_elf;
    m->pending_elf = NULL;
    int fd = m->pending_fd;
    m->pending_fd = -1;
    const char *path = m->fetched_path != NULL ? m->fetched_path : m->path;
    if (m->image == NULL && path != NULL)
        *file_name = strdup(path); /* lets dwfl name the file; it frees it */
    return fd;
}

/* Dwfl find_debuginfo: disk only (debugfile.h). */
static int symbolize_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
                                    Dwarf_Addr base, const char *file_name,
                                    const char *debuglink_file, GElf_Word debuglink_crc,
                                    char **debuginfo_file_name)
{
    (void)mod, (void)modname, (void)base;
    symbolize_module *m = *userdata;
    if (m == NULL || m->main_elf == NULL)
        return -1;
    return symbolize_debugfile_open(m->main_elf, file_name, debuglink_file, debuglink_crc,
                                    m->fetch, m->fetch_ctx, debuginfo_file_name);
}

static const Dwfl_Callbacks symbolize_callbacks = {
    .find_elf = symbolize_find_elf,
    .find_debuginfo = symbolize_find_debuginfo,
    /* Only reached for ET_REL, which we refuse; set so a surprise cannot call NULL. */
    .section_address = dwfl_offline_section_address,
};

/* Address range dwfl will compute for this ELF: from the first PT_LOAD's p_vaddr rounded
 * down to its alignment (dwfl's own rule, so its bias comes out equal to ours) to the
 * highest segment end. Only executables and shared objects: ET_REL would need section
 * placement and ET_CORE is not code. */
static bool symbolize_load_range(Elf *e, uint64_t *lo, uint64_t *hi)
{
    GElf_Ehdr eh;
    size_t phnum;
    if (gelf_getehdr(e, &eh) == NULL || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
        || elf_getphdrnum(e, &phnum) != 0)
        return false;
    bool seen = false;
    *lo = *hi = 0;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) == NULL)
            return false;
        if (ph.p_type != PT_LOAD)
            continue;
        if (!seen)
            *lo = ph.p_vaddr & -ph.p_align;
        seen = true;
        if (ph.p_vaddr + ph.p_memsz < ph.p_vaddr)
            return false;
        if (ph.p_vaddr + ph.p_memsz > *hi)
            *hi = ph.p_vaddr + ph.p_memsz;
    }
    return seen && *hi > *lo;
}

static bool symbolize_open_elf(symbolize_module *m)
{
    if (m->image != NULL) {
        m->pending_elf = elf_memory(m->image, m->image_size);
        return m->pending_elf != NULL;
    }
    const char *path = m->fetched_path != NULL ? m->fetched_path : m->path;
    if (path == NULL)
        return false;
    int fd = symbolize_open_regular(path);
    if (fd < 0)
        return false;
    m->pending_elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (m->pending_elf == NULL || elf_kind(m->pending_elf) != ELF_K_ELF) {
        elf_end(m->pending_elf);
        m->pending_elf = NULL;
        close(fd);
        return false;
    }
    /* The file is mapped whole (or, if mmap failed, read in now), so the descriptor can go:
     * a host with hundreds of libraries must not run out of descriptors at exit. */
    if (elf_cntl(m->pending_elf, ELF_C_FDREAD) == 0)
        close(fd);
    else
        m->pending_fd = fd;
    return true;
}

/* Releases whatever dwfl never took over (find_elf not reached), then the Dwfl itself. */
void symbolize_module_close(symbolize_module *m)
{
    if (m->pending_elf != NULL)
        elf_end(m->pending_elf);
    if (m->pending_fd >= 0)
        close(m->pending_fd);
    m->pending_elf = NULL;
    m->pending_fd = -1;
    if (m->dwfl != NULL)
        dwfl_end(m->dwfl);
    m->dwfl = NULL;
    m->dmod = NULL;
    m->main_elf = NULL;
    m->pages = (symbolize_filepages){ 0 }; /* unmapped with the Elf */
}

/* Whether the opened file is the one profiled: the same build-id, when one was given. */
static bool symbolize_is_profiled_file(const symbolize_module *m)
{
    if (m->want_id_len == 0 || m->image != NULL)
        return true;
    const void *id = NULL;
    ssize_t n = dwelf_elf_gnu_build_id(m->pending_elf, &id);
    return n > 0 && (size_t)n == m->want_id_len && memcmp(id, m->want_id, m->want_id_len) == 0;
}

/* Opens the module's file: the one at its path if it is the one profiled, else the one
 * the fetch function gives for the profiled build-id. m->changed when neither. */
static bool symbolize_open_profiled(symbolize_module *m)
{
    if (!symbolize_open_elf(m))
        return false;
    if (symbolize_is_profiled_file(m))
        return true;
    symbolize_module_close(m);
    char *path = NULL;
    int fd = m->fetch != NULL ? m->fetch(m->fetch_ctx, true, m->want_id, m->want_id_len, &path)
                              : -1;
    if (fd >= 0) {
        close(fd); /* reopened by name, the way every module file is */
        m->fetched_path = path;
    } else {
        free(path);
    }
    m->changed = !(fd >= 0 && symbolize_open_elf(m) && symbolize_is_profiled_file(m));
    return !m->changed;
}

/* One Dwfl per module, so modules loaded at the same addresses at different times never
 * shadow each other. The module is reported with dwfl_report_module and our find_elf
 * hands over an Elf we opened (O_CLOEXEC, no transparent decompression), which keeps the
 * ownership of fd and Elf unambiguous on every failure path. */
static bool symbolize_module_report(symbolize_module *m)
{
    uint64_t lo, hi;
    if (!symbolize_open_profiled(m) || !symbolize_load_range(m->pending_elf, &lo, &hi)
        || m->bias + lo < m->bias || m->bias + hi < m->bias)
        return false;
    m->main_elf = m->pending_elf;
    m->dwfl = dwfl_begin(&symbolize_callbacks);
    if (m->dwfl == NULL)
        return false;
    dwfl_report_begin(m->dwfl);
    Dwfl_Module *d = dwfl_report_module(m->dwfl, m->base, m->bias + lo, m->bias + hi);
    void **userdata = NULL;
    if (d != NULL && dwfl_module_info(d, &userdata, NULL, NULL, NULL, NULL, NULL, NULL) != NULL)
        *userdata = m;
    if (dwfl_report_end(m->dwfl, NULL, NULL) != 0 || d == NULL || userdata == NULL)
        return false;
    GElf_Addr bias = 0;
    if (dwfl_module_getelf(d, &bias) != m->main_elf || bias != m->bias)
        return false;
    m->dmod = d;
    return true;
}

void symbolize_module_load(symbolize_module *m)
{
    if (!symbolize_module_report(m)) {
        symbolize_module_close(m);
        m->state = SYMBOLIZE_BROKEN;
        return;
    }
    symbolize_symtab_build(m);
    symbolize_filepages_drop(&m->pages, m->main_elf); /* the whole symbol table: read once */
    m->state = SYMBOLIZE_READY;
}
