/* procname.c - argv[0]'s base name and --type, from /proc/self/cmdline. */
#include "procname.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

size_t procname_read_proc(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    size_t len = 0;
    ssize_t n;
    while (len + 1 < cap && (n = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    close(fd);
    buf[len] = 0;
    return len;
}

static void file_safe(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (; *in && n + 1 < cap; in++) {
        char c = *in;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '+' || c == '-';
        out[n] = ok && !(n == 0 && c == '.') ? c : '_';
        n++;
    }
    out[n] = 0;
}

void procname_read(char file[PROCNAME_FILE_MAX], char display[PROCNAME_DISPLAY_MAX])
{
    char buf[4096];
    size_t len = procname_read_proc("/proc/self/cmdline", buf, sizeof buf);
    const char *prog = NULL, *type = NULL;
    /* A process that retitled itself (setproctitle: Chromium's zygote children) has its
     * whole command line in argv[0], blank-separated: split it there too. */
    if (len && memchr(buf, ' ', strnlen(buf, len)))
        for (char *c = buf; *c; c++)
            if (*c == ' ')
                *c = 0;
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
        if (!prog && buf[i])
            prog = buf + i;
        else if (strncmp(buf + i, "--type=", 7) == 0 && buf[i + 7])
            type = buf + i + 7;
    }
    char comm[64];
    if (!prog && procname_read_proc("/proc/self/comm", comm, sizeof comm)) {
        comm[strcspn(comm, "\n")] = 0;
        prog = comm;
    }
    if (!prog || !*prog)
        prog = "process";
    /* A retitled process may have put blanks into argv[0] ("chromium --type=..."). */
    char base[64];
    const char *slash = strrchr(prog, '/');
    snprintf(base, sizeof base, "%.*s", (int)strcspn(slash ? slash + 1 : prog, " "),
             slash ? slash + 1 : prog);
    if (!*base)
        snprintf(base, sizeof base, "process");
    char joined[PROCNAME_DISPLAY_MAX], kind[24];
    snprintf(kind, sizeof kind, "%s", type ? type : "");
    snprintf(display, PROCNAME_DISPLAY_MAX, "%.63s%s%s", base, type ? " --type=" : "", kind);
    snprintf(joined, sizeof joined, "%.63s%s%s", base, type ? "-" : "", kind);
    for (char *c = display; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == ';')
            *c = '?'; /* a folded frame */
    file_safe(joined, file, PROCNAME_FILE_MAX);
}
