/* http.c - fetch a profile with libcurl. See http.h. */
#include "http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define HTTP_MAX_BYTES (1L << 30)

bool http_is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

long http_url_seconds(const char *url)
{
    const char *q = strchr(url, '?');
    while (q) {
        q++;
        if (strncmp(q, "seconds=", 8) == 0) {
            long v = strtol(q + 8, NULL, 10);
            return v > 0 && v < 86400 ? v : 0;
        }
        q = strchr(q, '&');
    }
    return 0;
}

typedef struct sink_fd {
    int fd;
    long written;
    bool failed;
} sink_fd;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    sink_fd *s = ctx;
    size_t len = size * n, done = 0;
    while (done < len) {
        ssize_t w = write(s->fd, data + done, len - done);
        if (w <= 0) {
            s->failed = true;
            return 0; /* curl stops with CURLE_WRITE_ERROR */
        }
        done += (size_t)w;
    }
    s->written += (long)len;
    return len;
}

/* The first line of a non-200 answer, printable, for the message. */
static void answer_start(int fd, char *out, size_t cap)
{
    char b[120];
    ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
    size_t k = 0;
    for (ssize_t i = 0; i < n && b[i] != '\n' && k + 1 < cap; i++)
        out[k++] = isprint((unsigned char)b[i]) ? b[i] : '?';
    out[k] = '\0';
}

int http_fetch(const char *url, long margin_s, char *err, size_t errlen)
{
    static bool inited;
    if (!inited && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "cannot initialize libcurl");
        return -1;
    }
    inited = true;
    int fd = memfd_create("flameprof-http", MFD_CLOEXEC);
    CURL *c = fd >= 0 ? curl_easy_init() : NULL;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    sink_fd body = { fd, 0, false };
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, http_url_seconds(url) + margin_s);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BYTES);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "flameprof");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "%s", body.failed ? "cannot store the answer"
                                   : *curl_err ? curl_err : curl_easy_strerror(rc));
    } else if (status != 200) {
        char start[100];
        answer_start(fd, start, sizeof(start));
        snprintf(err, errlen, "HTTP status %ld%s%s", status, *start ? ": " : "", start);
    } else if (body.written == 0) {
        snprintf(err, errlen, "empty answer");
    } else if (lseek(fd, 0, SEEK_SET) == 0) {
        return fd;
    } else {
        snprintf(err, errlen, "cannot read the answer back");
    }
    close(fd);
    return -1;
}
