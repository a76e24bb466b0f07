/* stream.c - plain or gzip'ed bytes, peeks and lines. See stream.h. */
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#define STREAM_CHUNK (1u << 18)
#define STREAM_MAX_LINE (64u << 20) /* a longer "line" is not text this reads */

static int stream_init(input_stream *s, gzFile gz)
{
    memset(s, 0, sizeof(*s));
    if (!gz)
        return -1;
    gzbuffer(gz, STREAM_CHUNK);
    s->gz = gz;
    return 0;
}

int input_stream_open(input_stream *s, const char *path)
{
    if (!path || strcmp(path, "-") == 0) {
        int fd = dup(STDIN_FILENO);
        return fd < 0 ? -1 : input_stream_fd(s, fd);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd < 0 ? -1 : input_stream_fd(s, fd);
}

int input_stream_fd(input_stream *s, int fd)
{
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        errno = ENOMEM;
    }
    return stream_init(s, gz);
}

int input_stream_mem(input_stream *s, const void *data, size_t len)
{
    int fd = memfd_create("flameprof-input", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    return input_stream_fd(s, fd);
}

void input_stream_close(input_stream *s)
{
    if (s->gz)
        gzclose_r(s->gz);
    free(s->buf);
    memset(s, 0, sizeof(*s));
}

/* Makes room for at least want more bytes after len, moving the unread part to the front. */
static int make_room(input_stream *s, size_t want)
{
    if (s->pos > 0) {
        memmove(s->buf, s->buf + s->pos, s->len - s->pos);
        s->len -= s->pos;
        s->pos = 0;
    }
    if (s->cap - s->len >= want)
        return 0;
    size_t cap = s->cap ? s->cap : STREAM_CHUNK;
    while (cap - s->len < want) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    char *b = realloc(s->buf, cap);
    if (!b)
        return -1;
    s->buf = b;
    s->cap = cap;
    return 0;
}

/* Appends up to one chunk to the buffer. Returns bytes added, 0 at the end, -1 on error. */
static ssize_t fill(input_stream *s)
{
    if (s->eof)
        return 0;
    if (make_room(s, STREAM_CHUNK) < 0) {
        s->err = ENOMEM;
        return -1;
    }
    int n = gzread(s->gz, s->buf + s->len, (unsigned)(s->cap - s->len));
    if (n < 0) {
        int zerr;
        gzerror(s->gz, &zerr);
        s->err = zerr == Z_ERRNO ? (errno ? errno : EIO) : -1;
        return -1;
    }
    if (n == 0)
        s->eof = true;
    s->len += (size_t)n;
    return n;
}

size_t input_stream_peek(input_stream *s, const char **head, size_t want)
{
    while (s->len - s->pos < want && fill(s) > 0)
        ;
    *head = s->buf ? s->buf + s->pos : "";
    size_t have = s->len - s->pos;
    return have < want ? have : want;
}

ssize_t input_stream_read(input_stream *s, void *dst, size_t n)
{
    if (s->pos == s->len) {
        ssize_t got = fill(s);
        if (got <= 0)
            return got;
    }
    size_t have = s->len - s->pos;
    if (n > have)
        n = have;
    memcpy(dst, s->buf + s->pos, n);
    s->pos += n;
    return (ssize_t)n;
}

int input_stream_line(input_stream *s, char **line, size_t *len)
{
    size_t scanned = s->pos;
    for (;;) {
        char *nl = scanned < s->len ? memchr(s->buf + scanned, '\n', s->len - scanned) : NULL;
        if (nl) {
            *line = s->buf + s->pos;
            *len = (size_t)(nl - *line);
            s->pos = (size_t)(nl - s->buf) + 1;
            s->line_no++;
            return 1;
        }
        if (s->len - s->pos > STREAM_MAX_LINE) {
            s->err = EFBIG;
            return -1;
        }
        ssize_t got = fill(s); /* may move the unread part to the front */
        if (got < 0)
            return -1;
        if (got == 0) {
            if (s->pos == s->len)
                return 0;
            *line = s->buf + s->pos; /* a last line without '\n' */
            *len = s->len - s->pos;
            s->pos = s->len;
            s->line_no++;
            return 1;
        }
        scanned = s->len - (size_t)got; /* all before the new bytes had no '\n' */
    }
}

const char *input_stream_error(const input_stream *s)
{
    if (s->err == -1)
        return "corrupt gzip data";
    return s->err == EFBIG ? "a line longer than 64 MB" : strerror(s->err ? s->err : EIO);
}
