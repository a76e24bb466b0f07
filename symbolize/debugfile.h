/* debugfile.h - finding a module's separate debug file on this machine's disk.
 *
 * Distributions strip symbols and DWARF into /usr/lib/debug. A candidate is looked for
 * where gdb and elfutils look: /usr/lib/debug/.build-id/xx/yyyy.debug, then the
 * .gnu_debuglink name beside the module, in its .debug/ and under /usr/lib/debug (for
 * both the registered and the symlink-resolved directory). It is accepted by build-id
 * when both files carry one (a mismatch is final), otherwise only by the debuglink's
 * CRC over the whole candidate; the module file itself is never its own debug file.
 *
 * Never the network by itself: elfutils' own lookup (dwfl_standard_find_debuginfo) dlopens
 * libdebuginfod, which pulls in libcurl and OpenSSL and crashed inside node at exit. Only
 * a fetch function the caller installed (the flameprof command's debuginfod client) is
 * asked, after the disk, and what it returns is checked by build-id like any candidate.
 *
 * Thread-safe (no state but a CRC table built once under pthread_once). Not
 * async-signal-safe: it opens, maps and reads files. Internal to symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_DEBUGFILE_H
#define FLAMEPROF_SYMBOLIZE_DEBUGFILE_H

#include "symbolize.h"

#include <gelf.h>

/* Opens path read-only if it is a regular file, else -1. O_NONBLOCK: a FIFO planted where
 * a module or debug file was expected must not hang the process at exit. */
int symbolize_open_regular(const char *path);

/* The Dwfl find_debuginfo callback's work for the module whose ELF is main_elf, read from
 * file_name (may be NULL). debuglink_file/debuglink_crc are what dwfl passes: NULL for a
 * lookup by build-id only. A request whose link is not main_elf's own (dwfl asks for a
 * dwz alternate file that way) is declined, so libdw looks for the alternate itself.
 * fetch (may be NULL) is asked for main_elf's build-id when the disk has no match.
 * Returns an open descriptor of the accepted file and sets *name_out to its malloc'd path
 * (both handed to dwfl), or -1. */
int symbolize_debugfile_open(Elf *main_elf, const char *file_name, const char *debuglink_file,
                             GElf_Word debuglink_crc, symbolize_fetch_fn fetch,
                             void *fetch_ctx, char **name_out);

/* Whether the disk holds a debug file the open above would accept for the module file at
 * file_name, of that build-id (may be empty) and .gnu_debuglink (may be NULL): a cache of
 * names read from a module's symbol tables alone is stale once one appeared. */
bool symbolize_debugfile_found(const char *file_name, const unsigned char *build_id,
                               size_t build_id_len, const char *debuglink_file,
                               uint32_t debuglink_crc);

#endif
