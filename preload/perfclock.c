/* perfclock.c - perf_event task-clock per thread (see perfclock.h). */
#include "perfclock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* fds we opened (sticky: see perfclock_is_ours), and which are open now. */
enum { KNOWN_FDS = 65536 };
static _Atomic unsigned char known[KNOWN_FDS / 8];
static unsigned char open_now[KNOWN_FDS / 8];
static atomic_uint n_open;
/* What our events are (perf's anonymous inode, the same for every event): a daemonizing
 * program closes every descriptor and may get one of our numbers back for its own file,
 * which we must then not close. */
static dev_t g_dev;
static ino_t g_ino;
static atomic_bool g_known_inode;

static bool still_an_event(int fd)
{
    struct stat st;
    return atomic_load(&g_known_inode) && fstat(fd, &st) == 0 && st.st_dev == g_dev &&
           st.st_ino == g_ino;
}

/* Ours and still one of our events: then closed; else the number is the program's now. */
static void close_if_event(int fd)
{
    if (still_an_event(fd))
        close(fd);
}

static int open_event(pid_t tid, long period_ns)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = (unsigned long long)period_ns;
    a.wakeup_events = 1; /* a signal at every overflow; no ring buffer is mapped */
    return (int)syscall(SYS_perf_event_open, &a, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

bool perfclock_probe(char *why, size_t cap)
{
    int fd = open_event(0, 1000000000L);
    if (fd < 0) {
        snprintf(why, cap, "%s", strerror(errno));
        return false;
    }
    close(fd);
    return true;
}

static bool under_cap(void)
{
    struct rlimit rl;
    unsigned limit = PERFCLOCK_MAX_FDS;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur / 2 < limit)
        limit = (unsigned)(rl.rlim_cur / 2);
    return atomic_load(&n_open) < limit;
}

int perfclock_open(pid_t tid, long period_ns, int signo)
{
    if (!under_cap()) {
        errno = EMFILE;
        return -1;
    }
    int fd = open_event(tid, period_ns);
    if (fd < 0)
        return -1;
    struct f_owner_ex owner = { F_OWNER_TID, tid };
    if (fd >= KNOWN_FDS || fcntl(fd, F_SETSIG, signo) != 0 ||
        fcntl(fd, F_SETOWN_EX, &owner) != 0) {
        close(fd);
        errno = EMFILE;
        return -1;
    }
    struct stat st;
    if (!atomic_load(&g_known_inode) && fstat(fd, &st) == 0) {
        g_dev = st.st_dev;
        g_ino = st.st_ino;
        atomic_store(&g_known_inode, true);
    }
    atomic_fetch_or(&known[fd / 8], (unsigned char)(1u << (fd % 8)));
    /* Last: from here on the overflows are signalled. */
    if (fcntl(fd, F_SETFL, O_ASYNC) != 0) {
        close(fd);
        return -1;
    }
    open_now[fd / 8] |= (unsigned char)(1u << (fd % 8));
    atomic_fetch_add(&n_open, 1);
    return fd;
}

void perfclock_close(int fd)
{
    if (fd < 0 || fd >= KNOWN_FDS)
        return;
    if (open_now[fd / 8] & (1u << (fd % 8))) {
        open_now[fd / 8] &= (unsigned char)~(1u << (fd % 8));
        atomic_fetch_sub(&n_open, 1);
    }
    close_if_event(fd);
}

bool perfclock_is_ours(const siginfo_t *si)
{
    if (si->si_code != POLL_IN && si->si_code != POLL_HUP)
        return false;
    int fd = si->si_fd;
    return fd >= 0 && fd < KNOWN_FDS &&
           (atomic_load_explicit(&known[fd / 8], memory_order_relaxed) & (1u << (fd % 8)));
}

unsigned perfclock_open_count(void)
{
    return atomic_load(&n_open);
}

void perfclock_forget_all_open(void)
{
    /* In every fork child: nothing to do unless perf events are in use (the CPU timers are
     * the default); then a byte of the set at a time. Neither scanning its 65,536 bits one
     * by one nor clearing its 8 KB (copies of the parent's pages) in every child: a shell
     * script's subshells paid both. */
    if (atomic_load(&n_open) == 0)
        return;
    for (size_t b = 0; b < sizeof open_now; b++) {
        for (unsigned k = 0; open_now[b] && k < 8; k++)
            if (open_now[b] & (1u << k))
                close_if_event((int)(b * 8 + k));
        if (open_now[b])
            open_now[b] = 0;
    }
    atomic_store(&n_open, 0);
}
