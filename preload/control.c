/* control.c - the on-demand channel, opened before the aggregator thread starts and served
 * by it (control.h). */
#include "control.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rawfile.h"

enum { MAX_CLIENTS_A_POLL = 4 };

static int g_fd = -1;
static dev_t g_dev;
static ino_t g_ino;

/* Still our socket? A program that closed every descriptor may own the number now. */
static bool fd_is_ours(void)
{
    struct stat st;
    return g_fd >= 0 && fstat(g_fd, &st) == 0 && st.st_dev == g_dev && st.st_ino == g_ino;
}

void control_close(void)
{
    if (fd_is_ours())
        close(g_fd);
    g_fd = -1;
}

void control_open(void)
{
    control_close(); /* after fork: the parent's listener, under the parent's name */
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    size_t n = control_name(getpid(), a.sun_path, sizeof a.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || n == 0)
        goto fail;
    struct stat st;
    if (bind(fd, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) != 0 ||
        listen(fd, MAX_CLIENTS_A_POLL) != 0 || fstat(fd, &st) != 0)
        goto fail;
    g_fd = fd;
    g_dev = st.st_dev;
    g_ino = st.st_ino;
    return;
fail:
    if (fd >= 0)
        close(fd);
}

static void reply(int client, const char *word, int fd, unsigned long long size)
{
    char line[96];
    int n = fd >= 0 ? snprintf(line, sizeof line, CONTROL_PROTO " %s %llx\n", word, size)
                    : snprintf(line, sizeof line, CONTROL_PROTO " %s\n", word);
    struct iovec iov = { line, (size_t)n };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
    }
    (void)sendmsg(client, &m, MSG_DONTWAIT | MSG_NOSIGNAL); /* a fresh socket: room enough */
}

static void answer(int client, void (*spill)(void))
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(client, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != geteuid() && cred.uid != 0)) {
        reply(client, "denied", -1, 0);
        return;
    }
    spill();
    const char *path = rawfile_path();
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK) : -1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        reply(client, "none", -1, 0);
    } else {
        reply(client, "ok", fd, (unsigned long long)st.st_size);
    }
    if (fd >= 0)
        close(fd);
}

void control_poll(void (*spill)(void))
{
    if (g_fd < 0)
        return;
    if (!fd_is_ours()) {
        /* The program closed it (a daemon closing everything): not ours to close, and no
         * new socket from this thread, which would take a number the program may be about
         * to open (control.h). */
        g_fd = -1;
        return;
    }
    for (int i = 0; i < MAX_CLIENTS_A_POLL; i++) {
        int client = accept4(g_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0)
            return; /* EAGAIN: nobody is asking */
        answer(client, spill);
        close(client);
    }
}
