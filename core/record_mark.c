/* record_mark.c - the loaded-at-all marker between `flameprof record` and the library. */
#include "record_mark.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void record_mark(char what)
{
    const char *path = getenv(RECORD_MARK_ENV);
    if (!path || !*path)
        return;
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    char line[32];
    int n = snprintf(line, sizeof line, "%c %ld\n", what, (long)getpid());
    if (write(fd, line, (size_t)n) != n) {
        /* nothing to do: record will say nothing was profiled, which is the safe side */
    }
    close(fd);
}

int record_mark_create(char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir)
        dir = "/tmp";
    if (snprintf(path, cap, "%s/flameprof-record.XXXXXX", dir) >= (int)cap)
        return -1;
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    if (setenv(RECORD_MARK_ENV, path, 1) != 0) {
        unlink(path);
        return -1;
    }
    return 0;
}

int record_mark_collect(const char *path, record_marks *out)
{
    FILE *f = fopen(path, "r");
    unlink(path);
    *out = (record_marks){ 0, 0, 0 };
    if (!f)
        return -1;
    char line[64];
    while (fgets(line, sizeof line, f)) {
        out->loaded += line[0] == RECORD_MARK_LOADED;
        out->profiled += line[0] == RECORD_MARK_PROFILED;
        out->said += line[0] == RECORD_MARK_SAID;
    }
    fclose(f);
    return 0;
}
