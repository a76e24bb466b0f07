/* gonames.c - Go function names from .gopclntab; see gonames.h. */
#include "gonames.h"

#include <gelf.h>
#include <string.h>

/* A Go program's .gopclntab section's data, else (a position-independent one: the table is
 * in .data.rel.ro) that section's, into *relro; and the address of .text, where a
 * relocatable table counts from. False, no data read, for a file Go's linker did not
 * write (no section of Go's: its build id, build info or table). */
static bool go_sections(Elf *elf, Elf_Data **pcln, Elf_Data **relro, uint64_t *text)
{
    size_t shstr;
    Elf_Scn *pcln_scn = NULL, *relro_scn = NULL;
    bool go = false;
    *pcln = *relro = NULL;
    *text = 0;
    if (elf_getshdrstrndx(elf, &shstr) != 0)
        return false;
    for (Elf_Scn *sc = NULL; (sc = elf_nextscn(elf, sc));) {
        GElf_Shdr sh;
        const char *n;
        if (!gelf_getshdr(sc, &sh) || !(n = elf_strptr(elf, shstr, sh.sh_name)))
            continue;
        go = go || !strcmp(n, ".note.go.buildid") || !strcmp(n, ".go.buildinfo");
        if (!strcmp(n, ".gopclntab") && sh.sh_type == SHT_PROGBITS)
            pcln_scn = sc;
        else if (!strcmp(n, ".data.rel.ro") && sh.sh_type == SHT_PROGBITS)
            relro_scn = sc;
        else if (!strcmp(n, ".text"))
            *text = sh.sh_addr;
    }
    if (!go && !pcln_scn)
        return false;
    if (pcln_scn)
        *pcln = elf_getdata(pcln_scn, NULL);
    else if (relro_scn)
        *relro = elf_getdata(relro_scn, NULL);
    return true;
}

static bool has_data(const Elf_Data *d)
{
    return d && d->d_buf && d->d_size > 0;
}

/* m's table, read on the first call; NULL for a module that is no Go program. */
static const util_gopclntab *go_table(symbolize_module *m)
{
    if (!m->go_tried) {
        m->go_tried = true;
        Elf_Data *d, *relro;
        uint64_t text;
        if (!m->main_elf || !go_sections(m->main_elf, &d, &relro, &text))
            return NULL;
        if (has_data(d))
            util_gopclntab_init(&m->go, d->d_buf, d->d_size, 0);
        else if (has_data(relro))
            util_gopclntab_scan(&m->go, relro->d_buf, relro->d_size, 0);
        /* A text start the file leaves to a relocation (0 until loaded): .text's. */
        if (m->go.base && !m->go.text && text)
            util_gopclntab_init(&m->go, m->go.base, m->go.len, text);
    }
    return m->go.base ? &m->go : NULL;
}

const char *symbolize_goname(symbolizer *s, symbolize_module *m, uint64_t a,
                             symbolize_span *span)
{
    const util_gopclntab *t = go_table(m);
    uint64_t lo, hi;
    const char *raw = t && a >= m->bias ? util_gopclntab_name_at(t, a - m->bias, &lo, &hi) : NULL;
    if (!raw)
        return NULL;
    span->lo = lo + m->bias;
    span->hi = hi + m->bias;
    return symbolize_display_name(s, raw);
}
