/* self_peek.h - bytes of this process's memory that may be gone, copied without a fault.
 *
 * Off the signal handler, the profiler reads interpreters' objects the program may free and
 * unmap at any moment; process_vm_readv on our own pid copies them or fails (a freed page
 * gives EFAULT), where a plain load would crash the program. One system call a read. */
#ifndef FLAMEPROF_UTIL_SELF_PEEK_H
#define FLAMEPROF_UTIL_SELF_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include <unistd.h>

/* Copy len bytes at addr into buf; false if any of them is unreadable (or addr is 0). */
static inline bool util_self_peek(uint64_t addr, void *buf, size_t len)
{
    struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
    return addr && process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t)len;
}

static inline bool util_self_peek_u64(uint64_t addr, uint64_t *v)
{
    return util_self_peek(addr, v, sizeof *v);
}

#endif
