/* http.h - a profile fetched over HTTP(S) with libcurl: pprof endpoints such as Go's
 * net/http/pprof (`/debug/pprof/profile?seconds=N`). Used by the flameprof command only.
 *
 * The answer is written to an anonymous file, which the readers then read like any file
 * (gzip'ed or not). A ?seconds=N in the URL is the time the server takes to answer: the
 * timeout is N plus the caller's margin. Only http and https, at most 5 redirects, at
 * most 1 GB. Not thread-safe (curl's global init on first use). */
#ifndef FLAMEPROF_HTTP_H
#define FLAMEPROF_HTTP_H

#include <stdbool.h>
#include <stddef.h>

/* s starts with http:// or https:// (any case). */
bool http_is_url(const char *s);

/* The N of a "seconds=N" query parameter, else 0. */
long http_url_seconds(const char *url);

/* Fetches url; the connection may take 10 s, the whole transfer seconds + margin_s.
 * Returns a file descriptor at offset 0 holding the body of a 200 answer, or -1 with a
 * one-line reason in err (the HTTP status and the start of the answer for other statuses,
 * curl's message for network errors). */
int http_fetch(const char *url, long margin_s, char *err, size_t errlen);

#endif
