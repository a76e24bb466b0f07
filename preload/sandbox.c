/* sandbox.c - /proc/self/status, /proc/self/cmdline and the sealing prctl options. */
#include "sandbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "procname.h"

static int status_field(const char *status, const char *name)
{
    const char *p = strstr(status, name);
    return p ? atoi(p + strlen(name)) : -1;
}

bool sandbox_read(sandbox_state *out)
{
    char buf[4096];
    out->seccomp = out->no_new_privs = -1;
    if (procname_read_proc("/proc/self/status", buf, sizeof buf) == 0)
        return false;
    out->seccomp = status_field(buf, "\nSeccomp:");
    out->no_new_privs = status_field(buf, "\nNoNewPrivs:");
    return true;
}

bool sandbox_unchanged(const sandbox_state *then, char *why, size_t cap)
{
    sandbox_state now;
    if (!sandbox_read(&now)) {
        snprintf(why, cap, "/proc/self/status cannot be read (a sandbox: chroot or filter)");
        return false;
    }
    if (now.seccomp != then->seccomp) {
        snprintf(why, cap, "a seccomp filter was installed (Seccomp: %d -> %d)",
                 then->seccomp, now.seccomp);
        return false;
    }
    if (now.no_new_privs != then->no_new_privs) {
        snprintf(why, cap, "the process set NoNewPrivs (a sandbox is being sealed)");
        return false;
    }
    return true;
}

bool sandbox_single_threaded(char *why, size_t cap)
{
    char buf[4096];
    size_t len = procname_read_proc("/proc/self/cmdline", buf, sizeof buf);
    for (size_t i = 0; i < len; i += strlen(buf + i) + 1) {
        if (strcmp(buf + i, "--type=zygote") == 0) {
            snprintf(why, cap, "Chromium's zygote must stay single-threaded; its children "
                               "are profiled where their sandbox allows");
            return true;
        }
    }
    return false;
}

bool sandbox_prctl_seals(int option)
{
    return option == PR_SET_NO_NEW_PRIVS || option == PR_SET_SECCOMP;
}
