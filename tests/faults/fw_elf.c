/* fw_elf - a library that was profiled, then unloaded, and whose file is no longer what it
 * was when the profiler symbolizes at exit (issue 5, "ELF files: truncated or corrupt modules
 * and debug files").
 *
 * usage: fw_elf MODE LIB [TARGET]
 *   dlopens LIB, burns ~0.5 s of CPU in its fixture_burn, dlcloses it, makes sure it is no
 *   longer mapped (a mapped file must never be changed: that is SIGBUS, not a test), then
 *   replaces TARGET (default LIB; a debug file when testing those) according to MODE, burns
 *   0.3 s in elf_main_burn and returns 0:
 *     gone      removed
 *     empty     an empty file
 *     header    only the first 64 bytes (the ELF header)
 *     half      the first half of the file
 *     garbage   as many pseudo-random bytes as the original
 *     elfjunk   the original ELF header with section and program header tables pointing far
 *               past the end, then garbage
 *     dir       a directory
 *     fifo      a FIFO nobody writes (opening it for reading blocks)
 *   The replacement is a new file: the old inode is never written. */
#include "fw_common.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

BURNER(elf_main_burn, 51)

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        perror(path);
        exit(2);
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf)
        exit(2);
    *len = n;
    return buf;
}

static void write_file(const char *path, const unsigned char *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
    if (fd < 0 || (n && write(fd, p, n) != (ssize_t)n) || close(fd) != 0) {
        perror(path);
        exit(2);
    }
}

static bool still_mapped(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[4096 + 128];
    bool found = false;
    size_t n = strlen(path);
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        size_t l = strlen(line);
        if (l >= n && strcmp(line + l - n, path) == 0)
            found = true;
    }
    if (f)
        fclose(f);
    return found;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODE LIB [TARGET]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *lib = argv[2], *target = argc > 3 ? argv[3] : argv[2];
    void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "fw_elf: dlopen: %s\n", dlerror());
        return 2;
    }
    uint64_t (*fn)(long);
    *(void **)&fn = dlsym(h, "fixture_burn");
    if (!fn) {
        fprintf(stderr, "fw_elf: dlsym: %s\n", dlerror());
        return 2;
    }
    double end = burn_thread_cpu() + 0.5;
    while (burn_thread_cpu() < end)
        fn(FW_CHUNK);
    if (dlclose(h) != 0) {
        fprintf(stderr, "fw_elf: dlclose: %s\n", dlerror());
        return 2;
    }
    /* Let the profiler's background thread see the unload (it polls every 10 ms), as it
     * would in a program that goes on working. */
    struct timespec ts = { 0, 50000000 };
    nanosleep(&ts, NULL);
    if (still_mapped(lib)) {
        fprintf(stderr, "fw_elf: %s is still mapped after dlclose: not corrupting it\n", lib);
        return 4;
    }
    size_t len;
    unsigned char *orig = read_all(target, &len);
    if (unlink(target) != 0) {
        perror(target);
        return 2;
    }
    unsigned char *junk = malloc(len + 1);
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        junk[i] = (unsigned char)x;
    }
    if (strcmp(mode, "gone") == 0) {
        /* nothing more */
    } else if (strcmp(mode, "empty") == 0) {
        write_file(target, NULL, 0);
    } else if (strcmp(mode, "header") == 0) {
        write_file(target, orig, len < 64 ? len : 64);
    } else if (strcmp(mode, "half") == 0) {
        write_file(target, orig, len / 2);
    } else if (strcmp(mode, "garbage") == 0) {
        write_file(target, junk, len);
    } else if (strcmp(mode, "elfjunk") == 0) {
        Elf64_Ehdr eh;
        memcpy(&eh, orig, sizeof eh);
        eh.e_shoff = (Elf64_Off)len * 16 + 0x1000;
        eh.e_shnum = 0xfff0;
        eh.e_phoff = (Elf64_Off)len * 8;
        eh.e_phnum = 0xfff0;
        eh.e_shstrndx = 0xfff0 - 1;
        memcpy(junk, &eh, sizeof eh);
        write_file(target, junk, len);
    } else if (strcmp(mode, "dir") == 0) {
        if (mkdir(target, 0755) != 0) {
            perror("mkdir");
            return 2;
        }
    } else if (strcmp(mode, "fifo") == 0) {
        if (mkfifo(target, 0644) != 0) {
            perror("mkfifo");
            return 2;
        }
    } else {
        fprintf(stderr, "fw_elf: unknown mode %s\n", mode);
        return 2;
    }
    free(orig);
    free(junk);
    end = burn_thread_cpu() + 0.3;
    while (burn_thread_cpu() < end)
        elf_main_burn(FW_CHUNK);
    FW_SAY("fw_elf %s: done\n", mode);
    return 0;
}
