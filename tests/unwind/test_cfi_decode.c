/* test_cfi_decode.c - the own .eh_frame decoder (unwind/ehframe.h) against elfutils: the
 * table of every module below is built both ways (cfi_build_using) and must be the same,
 * row for row. Modules: this machine's libc, ld.so, libm, libstdc++, libgcc_s, the vDSO
 * (in memory), node, libjvm.so, python3, Chromium and its libraries, and this program
 * (a missing one is named and passed over; libc must be there). The decoder must also
 * really be used: it may hand at most 1% of a module's FDEs to elfutils, and never a
 * whole module of these. Prints each module's build time both ways (figures, not checked). */
#include "cfi.h"

#include <fcntl.h>
#include <link.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static char libc_path[4096], ld_path[4096], libm_path[4096];

static int find_loaded(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size, (void)arg;
    const char *n = info->dlpi_name;
    if (strstr(n, "/libc.so"))
        snprintf(libc_path, sizeof libc_path, "%s", n);
    else if (strstr(n, "/ld-linux"))
        snprintf(ld_path, sizeof ld_path, "%s", n);
    else if (strstr(n, "/libm.so"))
        snprintf(libm_path, sizeof libm_path, "%s", n);
    return 0;
}

static double cpu_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* Field by field: a row's two bytes of tail padding are never written. */
static bool same_row(const cfi_row *a, const cfi_row *b)
{
    return a->pc == b->pc && a->cfa_off == b->cfa_off && a->fp_off == b->fp_off
           && a->bx_off == b->bx_off && a->kind == b->kind && a->pad == b->pad;
}

/* Builds elf's table both ways and compares them. Returns the number of FDEs seen. */
static uint64_t compare_module(const char *name, Elf *elf)
{
    cfi_build_stats ref_st, own_st;
    double t0 = cpu_ms();
    cfi_table *ref = cfi_build_using(elf, false, &ref_st);
    double t1 = cpu_ms();
    cfi_table *own = cfi_build_using(elf, true, &own_st);
    double t2 = cpu_ms();
    printf("%-64s %7llu FDEs %8zu rows  elfutils %7.1f ms  decoder %6.1f ms  (%llu FDEs "
           "left to elfutils%s)\n", name, (unsigned long long)own_st.fdes,
           ref ? ref->len : 0, t1 - t0, t2 - t1, (unsigned long long)own_st.elfutils,
           own_st.whole_module ? ", the whole module" : "");
    CHECKF((ref == NULL) == (own == NULL), "%s: a table one way only", name);
    if (ref && own) {
        CHECKF(ref->base == own->base && ref->len == own->len, "%s: base %llx/%llx rows %zu/%zu",
               name, (unsigned long long)ref->base, (unsigned long long)own->base, ref->len,
               own->len);
        size_t n = ref->len < own->len ? ref->len : own->len, bad = 0;
        for (size_t i = 0; i < n && bad < 5; i++) {
            cfi_row ra = cfi_row_at(ref, i), rb = cfi_row_at(own, i);
            const cfi_row *a = &ra, *b = &rb;
            if (!same_row(a, b)) {
                bad++;
                CHECKF(0, "%s row %zu: elfutils pc %#x kind %d cfa %d fp %d bx %d / decoder "
                       "pc %#x kind %d cfa %d fp %d bx %d", name, i, a->pc, a->kind,
                       a->cfa_off, a->fp_off, a->bx_off, b->pc, b->kind, b->cfa_off,
                       b->fp_off, b->bx_off);
            }
        }
    }
    CHECKF(!own_st.whole_module, "%s: the decoder declined the whole module", name);
    CHECKF(own_st.elfutils * 100 <= own_st.fdes, "%s: %llu of %llu FDEs left to elfutils",
           name, (unsigned long long)own_st.elfutils, (unsigned long long)own_st.fdes);
    cfi_free(ref);
    cfi_free(own);
    return own_st.fdes;
}

static bool compare_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("%-64s not installed here: passed over\n", path);
        return false;
    }
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    CHECKF(elf != NULL, "%s: not ELF", path);
    if (elf) {
        compare_module(path, elf);
        elf_end(elf);
    }
    close(fd);
    return elf != NULL;
}

int main(int argc, char **argv)
{
    elf_version(EV_CURRENT);
    volatile double keep_libm = sqrt((double)argc); /* libm loaded: compared too */
    (void)keep_libm;
    dl_iterate_phdr(find_loaded, NULL);
    if (libc_path[0] == '\0') {
        fprintf(stderr, "FATAL: libc not found among the loaded modules\n");
        return 1;
    }
    compare_file(libc_path);
    compare_file(ld_path);
    compare_file(libm_path);
    static const char *const others[] = {
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/usr/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/usr/bin/node",
        "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so",
        "/usr/bin/python3.11",
        "/usr/lib/chromium/chromium",
        "/usr/lib/chromium/libEGL.so",
        "/usr/lib/chromium/libGLESv2.so",
        "/usr/lib/chromium/libvk_swiftshader.so",
        "/usr/lib/chromium/chrome_crashpad_handler",
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        compare_file(others[i]);
    for (int i = 1; i < argc; i++) /* more modules named on the command line */
        compare_file(argv[i]);
    compare_file("/proc/self/exe");
    /* The vDSO, from memory, as modules.c reads it. */
    const unsigned char *vdso = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);
    if (vdso) {
        const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)vdso;
        size_t size = eh->e_shoff + (size_t)eh->e_shnum * eh->e_shentsize;
        Elf *elf = elf_memory((char *)vdso, size);
        CHECK(elf != NULL);
        if (elf) {
            compare_module("[vdso]", elf);
            elf_end(elf);
        }
    }
    return check_status("test_cfi_decode");
}
