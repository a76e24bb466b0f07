/* libFuzzer target: the .eh_frame decoder (unwind/ehframe.h), through cfi_build, on a
 * synthetic x86-64 ELF image whose .eh_frame and search table come from the input. The
 * table built with the decoder must be the one built with elfutils alone (a differential
 * check: the decoder declines what it cannot match, it never guesses), and neither may read
 * outside the image or allocate without bound (a hostile register number: the decoder
 * refuses the FDE rather than hand it to elfutils).
 *
 * Input: u16 n, then n search-table entries (i32 FDE start, u32 FDE offset, both relative
 * to the start of .eh_frame), then the .eh_frame bytes. */
#include <elf.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfi.h"
#include "ehframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Field by field: a row's tail padding is never written. */
static bool same_rows(const cfi_table *a, const cfi_table *b)
{
    if (a->base != b->base || a->len != b->len)
        return false;
    for (size_t i = 0; i < a->len; i++) {
        cfi_row x = cfi_row_at(a, i), y = cfi_row_at(b, i);
        if (x.pc != y.pc || x.cfa_off != y.cfa_off || x.fp_off != y.fp_off
            || x.bx_off != y.bx_off || x.kind != y.kind || x.pad != y.pad)
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = (size_t)(data[0] | data[1] << 8);
    if (n > (size - 2) / 8)
        n = (size - 2) / 8;
    const uint8_t *entries = data + 2, *frame = data + 2 + 8 * n;
    size_t frame_len = size - 2 - 8 * n;
    static const char names[] = "\0.eh_frame_hdr\0.eh_frame\0.shstrtab";
    /* Layout (file offset == address): ELF header, one program header, .eh_frame_hdr,
     * .eh_frame, the section names, four section headers. */
    size_t hdr_off = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), hdr_len = 12 + 8 * n;
    size_t frame_off = (hdr_off + hdr_len + 7) & ~(size_t)7;
    size_t names_off = frame_off + frame_len, sh_off = (names_off + sizeof names + 7) & ~7u;
    size_t total = sh_off + 4 * sizeof(Elf64_Shdr);
    uint8_t *img = calloc(1, total);
    if (!img)
        return 0;
    Elf64_Ehdr eh = { .e_type = ET_DYN, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                      .e_phoff = sizeof eh, .e_shoff = sh_off, .e_ehsize = sizeof eh,
                      .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1,
                      .e_shentsize = sizeof(Elf64_Shdr), .e_shnum = 4, .e_shstrndx = 3 };
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(img, &eh, sizeof eh);
    Elf64_Phdr ph = { .p_type = PT_GNU_EH_FRAME, .p_offset = hdr_off, .p_vaddr = hdr_off,
                      .p_filesz = hdr_len, .p_memsz = hdr_len, .p_align = 4 };
    memcpy(img + sizeof eh, &ph, sizeof ph);
    uint8_t *h = img + hdr_off;
    h[0] = 1;
    h[1] = 0x1b; /* pcrel sdata4 */
    h[2] = 0x03; /* udata4 */
    h[3] = 0x3b; /* datarel sdata4 */
    put32(h + 4, (uint32_t)(frame_off - (hdr_off + 4)));
    put32(h + 8, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        int32_t start, fde;
        memcpy(&start, entries + 8 * i, 4);
        memcpy(&fde, entries + 8 * i + 4, 4);
        put32(h + 12 + 8 * i, (uint32_t)((int64_t)frame_off + start - (int64_t)hdr_off));
        put32(h + 16 + 8 * i, (uint32_t)((int64_t)frame_off + fde - (int64_t)hdr_off));
    }
    memcpy(img + frame_off, frame, frame_len);
    memcpy(img + names_off, names, sizeof names);
    Elf64_Shdr sh[4] = {
        { 0 },
        { .sh_name = 1, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC, .sh_addr = hdr_off,
          .sh_offset = hdr_off, .sh_size = hdr_len, .sh_addralign = 4 },
        { .sh_name = 15, .sh_type = SHT_PROGBITS, .sh_flags = SHF_ALLOC, .sh_addr = frame_off,
          .sh_offset = frame_off, .sh_size = frame_len, .sh_addralign = 8 },
        { .sh_name = 25, .sh_type = SHT_STRTAB, .sh_offset = names_off,
          .sh_size = sizeof names, .sh_addralign = 1 },
    };
    memcpy(img + sh_off, sh, sizeof sh);
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)img, total);
    /* A module the decoder declines as a whole goes to elfutils alone, which a hostile
     * register number makes allocate gigabytes (as before the decoder): not fuzzed here. */
    static ehframe ef;
    util_eh_hdr table;
    if (elf && util_eh_hdr_find(elf, &table) && table.count > 0 && ehframe_open(&ef, elf, &table)) {
        cfi_build_stats st;
        cfi_table *own = cfi_build_using(elf, true, &st);
        /* Compared with elfutils where elfutils can run without gigabytes. */
        if (st.refused == 0 && st.huge == 0) {
            cfi_table *ref = cfi_build_using(elf, false, NULL);
            if ((own == NULL) != (ref == NULL) || (own && !same_rows(own, ref)))
                abort(); /* the decoder answered differently from elfutils */
            cfi_free(ref);
        }
        cfi_free(own);
    }
    if (elf)
        elf_end(elf);
    free(img);
    return 0;
}
