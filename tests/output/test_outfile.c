/* test_outfile.c - atomic publication: never overwrite, never follow a symlink, never leave
 * a temporary file behind. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "outfile.h"

static char dir[] = "/tmp/fp-outfile-XXXXXX";

static int write_text(FILE *f, void *ctx)
{
    return fputs(ctx, f) == EOF ? -1 : 0;
}

static int write_fails(FILE *f, void *ctx)
{
    (void)ctx;
    fputs("partial", f);
    errno = ENOSPC;
    return -1;
}

static char *path(const char *name)
{
    static char buf[4][PATH_MAX];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", dir, name);
    return p;
}

static char *slurp(const char *file)
{
    static char buf[256];
    FILE *f = fopen(file, "r");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int entries(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlink(path(e->d_name));
    if (d)
        closedir(d);
}

static void test_names(void)
{
    char got[PATH_MAX], want[PATH_MAX];
    const char *stem = path("prof");
    CHECK(outfile_publish(stem, ".svg", write_text, "one", got, sizeof(got)) == 0);
    CHECK_STR(got, path("prof.svg"));
    CHECK_STR(slurp(got), "one");

    /* Taken: "<stem>.<pid><ext>", then "<stem>.<pid>.<n><ext>". The first file is intact. */
    CHECK(outfile_publish(stem, ".svg", write_text, "two", got, sizeof(got)) == 0);
    snprintf(want, sizeof(want), "%s.%ld.svg", stem, (long)getpid());
    CHECK_STR(got, want);
    CHECK_STR(slurp(got), "two");
    CHECK(outfile_publish(stem, ".svg", write_text, "three", got, sizeof(got)) == 0);
    snprintf(want, sizeof(want), "%s.%ld.1.svg", stem, (long)getpid());
    CHECK_STR(got, want);
    CHECK_STR(slurp(path("prof.svg")), "one");

    /* No extension; written may be NULL. */
    CHECK(outfile_publish(path("plain"), "", write_text, "x", NULL, 0) == 0);
    CHECK_STR(slurp(path("plain")), "x");
    CHECK(entries() == 4); /* and no temporary file left */

    /* The file is a regular file with the usual permissions, not mkstemp's 0600. */
    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    CHECK(stat(path("plain"), &st) == 0 && S_ISREG(st.st_mode) &&
          (st.st_mode & 0777) == (0666 & ~mask));
    empty_dir();
}

static void test_symlinks(void)
{
    char got[PATH_MAX], want[PATH_MAX];
    FILE *f = fopen(path("victim"), "w");
    fputs("keep", f);
    fclose(f);
    CHECK(symlink(path("victim"), path("link.svg")) == 0);
    CHECK(symlink(path("nowhere"), path("dangling.svg")) == 0);

    /* A symlink at the destination is neither followed nor replaced. */
    CHECK(outfile_publish(path("link"), ".svg", write_text, "new", got, sizeof(got)) == 0);
    snprintf(want, sizeof(want), "%s.%ld.svg", path("link"), (long)getpid());
    CHECK_STR(got, want);
    CHECK_STR(slurp(got), "new");
    CHECK_STR(slurp(path("victim")), "keep");
    struct stat st;
    CHECK(lstat(path("link.svg"), &st) == 0 && S_ISLNK(st.st_mode));

    /* Nor a dangling one: its target is not created. */
    CHECK(outfile_publish(path("dangling"), ".svg", write_text, "new", got, sizeof(got)) == 0);
    snprintf(want, sizeof(want), "%s.%ld.svg", path("dangling"), (long)getpid());
    CHECK_STR(got, want);
    CHECK(lstat(path("nowhere"), &st) == -1 && errno == ENOENT);
    CHECK(entries() == 5);
    empty_dir();
}

static void test_failures_leave_nothing(void)
{
    char got[PATH_MAX];
    errno = 0;
    CHECK(outfile_publish(path("fail"), ".svg", write_fails, NULL, got, sizeof(got)) == -1);
    CHECK(errno == ENOSPC);
    CHECK(entries() == 0);

    /* The caller's buffer cannot hold the name: refused before anything is published. */
    CHECK(outfile_publish(path("long-name"), ".svg", write_text, "x", got, 8) == -1);
    CHECK(errno == ERANGE);
    CHECK(entries() == 0);

    /* Missing directory. */
    CHECK(outfile_publish(path("no/such/dir/prof"), ".svg", write_text, "x", got, sizeof(got)) == -1);
    CHECK(errno == ENOENT);

    /* Every candidate taken: EEXIST, nothing overwritten, no temporary file left. */
    char name[64];
    FILE *f = fopen(path("busy.svg"), "w");
    fclose(f);
    snprintf(name, sizeof(name), "busy.%ld.svg", (long)getpid());
    f = fopen(path(name), "w");
    fclose(f);
    for (int i = 1; i <= 99; i++) {
        snprintf(name, sizeof(name), "busy.%ld.%d.svg", (long)getpid(), i);
        f = fopen(path(name), "w");
        fclose(f);
    }
    CHECK(entries() == 101);
    CHECK(outfile_publish(path("busy"), ".svg", write_text, "x", got, sizeof(got)) == -1);
    CHECK(errno == EEXIST);
    CHECK(entries() == 101);
    CHECK_STR(slurp(path("busy.svg")), "");
    empty_dir();

    CHECK(outfile_publish(NULL, ".svg", write_text, "x", got, sizeof(got)) == -1 && errno == EINVAL);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_names();
    test_symlinks();
    test_failures_leave_nothing();
    empty_dir();
    rmdir(dir);
    return check_status("test_outfile");
}
