/* owner.c - the cached pid and the wipe-on-fork page. */
#include "owner.h"

#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static atomic_long owner_pid; /* 0: never claimed */
static volatile unsigned char *mark; /* MADV_WIPEONFORK page, or NULL if unavailable */

static long real_pid(void)
{
    return syscall(SYS_getpid); /* never a cached value: a raw clone child has none */
}

void owner_claim(void)
{
    if (!mark) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED && madvise(p, 4096, MADV_WIPEONFORK) == 0)
            mark = p;
        else if (p != MAP_FAILED)
            munmap(p, 4096);
    }
    if (mark)
        *mark = 1; /* wiped in every copy made from now on */
    atomic_store(&owner_pid, real_pid());
}

owner_kind owner_check(void)
{
    long owner = atomic_load(&owner_pid);
    if (owner == 0)
        return OWNER_SELF;
    /* The mark first: a child in a new pid namespace may have the very pid its parent has
     * in its own (Chromium's renderers are each pid 1, as their zygote is). */
    if (mark && *mark == 0)
        return OWNER_COPY;
    if (owner == real_pid())
        return OWNER_SELF;
    return OWNER_SHARED; /* the mark survived (shared memory), or there is no mark */
}

bool owner_is_self(void)
{
    return owner_check() == OWNER_SELF;
}
