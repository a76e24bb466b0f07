/* exec_list.c - the execl family (execl, execlp, execle) as the vector calls they stand
 * for.
 *
 * Why ours: glibc's execl* call its internal execve, not the exported one, so a program
 * exec'ing through them would replace its image without the profile being written. Here
 * the variadic list is gathered into a vector and passed to execve or execvpe, the
 * interposed ones in preload.c, which write the profile first (and resume it if the exec
 * fails). No state of its own; errno is the exec's. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define FP_EXPORT __attribute__((visibility("default")))

/* The execl family: collect the variadic arguments, then take the vector path. */
static char **collect_args(const char *arg0, va_list ap, char ***envp)
{
    va_list count;
    va_copy(count, ap);
    size_t n = 1;
    while (va_arg(count, char *))
        n++;
    va_end(count);
    char **argv = malloc((n + 1) * sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)arg0;
    for (size_t i = 1; i <= n; i++)
        argv[i] = va_arg(ap, char *); /* the last one read is the terminating NULL */
    if (envp)
        *envp = va_arg(ap, char **);
    return argv;
}

/* One execl-family call: the list gathered into a vector, then the vector call (through
 * our own execve/execvpe, so the profile is written first). errno is the exec's. */
static int exec_list(const char *file, const char *arg, va_list ap, bool search, bool has_env)
{
    char **envp = environ;
    char **argv = collect_args(arg, ap, has_env ? &envp : NULL);
    if (!argv) {
        errno = ENOMEM;
        return -1;
    }
    int rc = search ? execvpe(file, argv, envp) : execve(file, argv, envp);
    int saved_errno = errno;
    free(argv);
    errno = saved_errno;
    return rc;
}

FP_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = exec_list(path, arg, ap, false, false);
    va_end(ap);
    return rc;
}

FP_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = exec_list(file, arg, ap, true, false);
    va_end(ap);
    return rc;
}

FP_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    va_start(ap, arg);
    int rc = exec_list(path, arg, ap, false, true);
    va_end(ap);
    return rc;
}
