/* report_stream.c - the terminal as stderr again for the exit report (see the header). */
#include "report_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

static bool g_stderr_tty; /* descriptor 2 was a terminal at start */

void report_stream_note_start(void)
{
    int saved = errno;
    g_stderr_tty = isatty(STDERR_FILENO);
    errno = saved; /* isatty sets ENOTTY: the program's errno is not ours to change */
}

void report_stream_restore(void)
{
    if (!g_stderr_tty || fcntl(STDERR_FILENO, F_GETFD) >= 0 || errno != EBADF)
        return;
    int fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (fd != STDERR_FILENO) {
        int ok = dup3(fd, STDERR_FILENO, O_CLOEXEC);
        close(fd);
        if (ok < 0)
            return;
    }
    /* glibc's stderr is a variable a program may set (the GNU C Library manual, "Standard
     * Streams"); the stream the program fclosed is not touched again. */
    FILE *f = fdopen(STDERR_FILENO, "w");
    if (!f)
        return;
    setvbuf(f, NULL, _IONBF, 0);
    stderr = f;
}
