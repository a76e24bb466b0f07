/* demo.c - the bundled demo program: a little "service" that parses, hashes, compresses
 * and renders, on two threads, for about two CPU-seconds. Built -O2 without frame
 * pointers, like most production code, so its flame graph shows what CFI unwinding gets. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t sink;

__attribute__((noinline)) static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

__attribute__((noinline)) static void parse_request(char *buf, size_t n, int round)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (i * 31 + (size_t)round) % 26);
    sink += hash_bytes(buf, n);
}

__attribute__((noinline)) static size_t compress_block(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && in[i + run] == in[i] && run < 255)
            run++;
        out[o++] = in[i];
        out[o++] = (char)run;
        i += run;
    }
    return o;
}

static int compare_keys(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

__attribute__((noinline)) static double render_pixel(int x, int y)
{
    return sin(x * 0.01) * cos(y * 0.01) + sqrt((double)(x * x + y * y));
}

__attribute__((noinline)) static void render_frame(void)
{
    double acc = 0;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 200; x++)
            acc += render_pixel(x, y);
    sink += (uint64_t)acc;
}

__attribute__((noinline)) static void handle_request(int round)
{
    char buf[4096], out[8192];
    parse_request(buf, sizeof buf, round);
    sink += compress_block(buf, sizeof buf, out);
    int keys[256];
    for (int i = 0; i < 256; i++)
        keys[i] = (int)((unsigned char)buf[i] * 7919u % 1000u);
    qsort(keys, 256, sizeof keys[0], compare_keys);
    sink += (uint64_t)keys[0];
}

static void *renderer(void *arg)
{
    int frames = *(int *)arg;
    for (int i = 0; i < frames; i++)
        render_frame();
    return NULL;
}

__attribute__((noinline)) static void serve(int requests)
{
    for (int i = 0; i < requests; i++)
        handle_request(i);
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1 || scale > 100)
        scale = 1;
    int frames = 400 * scale;
    pthread_t t;
    pthread_create(&t, NULL, renderer, &frames);
    serve(40000 * scale);
    pthread_join(t, NULL);
    printf("demo: done (%llu)\n", (unsigned long long)sink);
    return 0;
}
