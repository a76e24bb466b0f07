/* record_check.c - say when `flameprof record` cannot profile the command (record_check.h). */
#include "record_check.h"

#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "golang.h"
#include "record_mark.h"

/* cmd as execvp would find it, into out[PATH_MAX]; false if it is not found. */
static bool resolve(const char *cmd, char *out)
{
    if (strchr(cmd, '/'))
        return snprintf(out, PATH_MAX, "%s", cmd) < PATH_MAX && access(out, X_OK) == 0;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (snprintf(out, PATH_MAX, "%.*s%s%s", (int)n, p, n ? "/" : "", cmd) < PATH_MAX &&
            access(out, X_OK) == 0)
            return true;
        p += n + (end != NULL);
    }
    return false;
}

typedef enum { LINK_DYNAMIC, LINK_STATIC, LINK_STATIC_GO, LINK_UNKNOWN } link_kind;

/* An ELF executable without PT_INTERP is never seen by the dynamic loader. */
static link_kind linkage(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return LINK_UNKNOWN;
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    link_kind k = LINK_UNKNOWN;
    GElf_Ehdr eh;
    size_t nph;
    if (elf && elf_kind(elf) == ELF_K_ELF && gelf_getehdr(elf, &eh) &&
        (eh.e_type == ET_EXEC || eh.e_type == ET_DYN) && elf_getphdrnum(elf, &nph) == 0) {
        k = LINK_STATIC;
        for (size_t i = 0; i < nph; i++) {
            GElf_Phdr ph;
            if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_INTERP)
                k = LINK_DYNAMIC;
        }
        if (k == LINK_STATIC && golang_elf_is_go(elf))
            k = LINK_STATIC_GO;
    }
    if (elf)
        elf_end(elf);
    close(fd);
    return k;
}

/* The kernel sets AT_SECURE when the exec changes the user or group id: then the loader
 * ignores LD_PRELOAD (but for system libraries that are themselves setuid). */
static bool secure_exec(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && (((st.st_mode & S_ISUID) && st.st_uid != getuid()) ||
                                    ((st.st_mode & S_ISGID) && st.st_gid != getgid()));
}

void record_check_before(record_check *rc, const char *cmd)
{
    char path[PATH_MAX];
    rc->said = false;
    if (record_mark_create(rc->mark, sizeof rc->mark) != 0)
        rc->mark[0] = '\0';
    if (!resolve(cmd, path)) {
        rc->said = true; /* the exec will say it */
        return;
    }
    switch (linkage(path)) {
    case LINK_STATIC_GO:
        fprintf(stderr, "flameprof: %s is a statically linked Go program (CGO_ENABLED=0): "
                        "LD_PRELOAD cannot load the profiler into it, so it runs unprofiled; "
                        "use Go's own profiler (its net/http/pprof endpoint, or a "
                        "runtime/pprof CPU profile file): flameprof svg renders either (a URL "
                        "such as http://HOST/debug/pprof/profile?seconds=30, or the file); or "
                        "build it with CGO_ENABLED=1 to profile it here\n", cmd);
        rc->said = true;
        return;
    case LINK_STATIC:
        fprintf(stderr, "flameprof: %s is statically linked: LD_PRELOAD cannot load the "
                        "profiler into it, so it runs unprofiled; link it dynamically to "
                        "profile it here (or use perf record -g, which needs no preload)\n",
                cmd);
        rc->said = true;
        return;
    default:
        break;
    }
    if (secure_exec(path)) {
        fprintf(stderr, "flameprof: %s is set-user-ID or set-group-ID: the loader ignores "
                        "LD_PRELOAD in it, so it runs unprofiled; profile a copy without that "
                        "bit, or run it as its owner\n", cmd);
        rc->said = true;
    }
}

void record_check_after(record_check *rc, const char *cmd, int status)
{
    record_marks m;
    if (!rc->mark[0] || record_mark_collect(rc->mark, &m) != 0 || m.profiled > 0 || m.said > 0 ||
        rc->said)
        return;
    long loaded = m.loaded;
    if (loaded == 0)
        fprintf(stderr, "flameprof: no profile: no process of %s loaded the profiler (a "
                        "launcher may clear LD_PRELOAD from its children's environment, or run "
                        "static or set-user-ID programs); run the program itself under "
                        "flameprof record\n", cmd);
    else if (WIFSIGNALED(status))
        /* record has read every raw spill of the tree already: none held a sample. */
        fprintf(stderr, "flameprof: no profile: %s was killed by signal %d before it wrote "
                        "one or spilled a sample (the raw spill is appended about once a "
                        "second)\n", cmd, WTERMSIG(status));
    else
        fprintf(stderr, "flameprof: no profile: %ld process%s of %s loaded the profiler but "
                        "wrote none (each ran less than one sampling period of CPU, or started "
                        "programs without LD_PRELOAD in their environment)\n",
                loaded, loaded == 1 ? "" : "es", cmd);
}
