/* config.h - the FLAMEPROF_* environment, parsed and validated.
 *
 * Every variable is untrusted: a bad value produces one "flameprof:" line on stderr naming
 * the value and what is used instead, and the program runs on. */
#ifndef FLAMEPROF_CONFIG_H
#define FLAMEPROF_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONFIG_DEFAULT_FREQ 997 /* prime: does not beat against periodic work */
#define CONFIG_MIN_FREQ 1
#define CONFIG_MAX_FREQ 10000
#define CONFIG_DEFAULT_OUT "flameprof.%c.%p" /* flameprof.wl_mix.1234.svg */
#define CONFIG_DEFAULT_MIN_SAMPLES 10 /* below it, a descendant's profile is not written */
#define CONFIG_DEFAULT_STOP_WAIT 10 /* seconds; docker stop's grace period is 10 s */
#define CONFIG_MAX_STOP_WAIT 3600
#define CONFIG_DEFAULT_WALL_FREQ 97 /* wall mode samples every thread, idle or not: lower */

/* FLAMEPROF_MODE: what a sample's weight measures. */
typedef enum config_mode {
    CONFIG_MODE_CPU = 0, /* "cpu": each thread's CPU time (the default) */
    CONFIG_MODE_WALL,    /* "wall": elapsed time of every thread, running or waiting */
} config_mode;

/* FLAMEPROF_SOURCE: what drives CPU-mode samples. */
typedef enum config_source {
    CONFIG_SOURCE_TIMER = 0, /* "timer": timer_create per thread (tick-bound, overruns) */
    CONFIG_SOURCE_PERF,      /* "perf": perf_event task-clock per thread (beyond the tick) */
} config_source;

/* FLAMEPROF_FORMAT: the files a profile is written as, PREFIX + the ending. */
enum {
    CONFIG_FORMAT_FOLDED = 1u << 0,     /* "folded": PREFIX.folded */
    CONFIG_FORMAT_SVG = 1u << 1,        /* "svg": PREFIX.svg */
    CONFIG_FORMAT_PPROF = 1u << 2,      /* "pprof": PREFIX.pb.gz */
    CONFIG_FORMAT_SPEEDSCOPE = 1u << 3, /* "speedscope": PREFIX.speedscope.json */
    CONFIG_FORMAT_HEATMAP = 1u << 4,    /* "heatmap": PREFIX.heatmap.html */
    CONFIG_FORMAT_TIMELINE = 1u << 5,   /* "timeline": keep PREFIX.raw (the timeline) */
};
#define CONFIG_MAX_INTERVAL 86400 /* FLAMEPROF_INTERVAL: at most a day */
#define CONFIG_DEFAULT_FORMATS (CONFIG_FORMAT_SVG | CONFIG_FORMAT_FOLDED)

typedef struct config {
    unsigned freq;            /* FLAMEPROF_FREQ: samples per CPU-second per thread */
    char out[PATH_MAX - 64];  /* FLAMEPROF_OUT: output prefix, %p = pid, %c = program
                                 name (file-safe, e.g. chromium-renderer), %% = % */
    bool quiet;               /* FLAMEPROF_QUIET: no exit summary */
    unsigned stop_wait;       /* FLAMEPROF_STOP_WAIT: seconds an ending signal (or _exit)
                                 waits for the profile before the process ends anyway;
                                 0: no wait, the raw spill is what remains */
    unsigned formats;         /* FLAMEPROF_FORMAT: CONFIG_FORMAT_* bits; 0 means the
                                 default, so a zeroed config writes svg and folded */
    unsigned interval;        /* FLAMEPROF_INTERVAL: seconds per window, 0: none */
    unsigned long long timeline_max; /* FLAMEPROF_TIMELINE_MAX: bytes, 0: the default */
    bool empty_handler;       /* FLAMEPROF_BENCH=empty-handler: timers fire, handler does
                                 nothing (the benchmark's floor); nothing is written */
    char start_dir[PATH_MAX]; /* the working directory when the configuration was read
                                 (empty if unknown): relative outputs are written there
                                 even after the program changed directory */
    char tree[PATH_MAX - 128]; /* FLAMEPROF_TREE: the directory `flameprof record` gives
                                  every process of its tree; empty when not recording a
                                  tree. Each process writes NAME.PID.folded and NAME.PID.info
                                  there (record_tree.h reads them), whatever its size */
    unsigned min_samples;     /* FLAMEPROF_MIN_SAMPLES: a process started by the profiled
                                 program (not the program itself) with fewer samples
                                 writes no files (not with FLAMEPROF_TREE) */
    config_mode mode;         /* FLAMEPROF_MODE */
    config_source source;     /* FLAMEPROF_SOURCE (cpu mode only) */
    bool threads;             /* FLAMEPROF_THREADS: keep threads apart, a root frame
                                 "[name tid]" each (the default merges them) */
} config;

/* Reads the environment through getenv. Warnings go to stderr (one line each). */
void config_load(config *c);

/* Parse one value (exposed for tests). Each returns true if the text was valid; on false,
 * *out holds the fallback and why[0..cap) a short reason. */
bool config_parse_freq(const char *text, unsigned *out, char *why, size_t cap);
bool config_parse_stop_wait(const char *text, unsigned *out, char *why, size_t cap);
bool config_parse_bool(const char *text, bool *out, char *why, size_t cap);
bool config_parse_out(const char *text, char *out, size_t out_cap, char *why, size_t cap);

/* FLAMEPROF_INTERVAL: whole seconds 1..CONFIG_MAX_INTERVAL (unset, empty: 0, none). */
bool config_parse_interval(const char *text, unsigned *out, char *why, size_t cap);

/* FLAMEPROF_TIMELINE_MAX: bytes, with an optional K, M or G (powers of 1024), at least
 * 64K (unset, empty: 0, the default). */
bool config_parse_size(const char *text, unsigned long long *out, char *why, size_t cap);

/* FLAMEPROF_MODE ("cpu", "wall") and FLAMEPROF_SOURCE ("timer", "perf"); unset or empty
 * is the default. */
bool config_parse_mode(const char *text, config_mode *out, char *why, size_t cap);
bool config_parse_source(const char *text, config_source *out, char *why, size_t cap);

/* A comma-separated list of format names (any case, blanks around names allowed, empty
 * items ignored). Unknown names are left out and named in why; if no known name remains,
 * *out is CONFIG_DEFAULT_FORMATS. Unset or empty text is the default. */
bool config_parse_formats(const char *text, unsigned *out, char *why, size_t cap);

/* The names of the formats in formats, comma-separated ("folded,svg"), into dst. */
void config_format_names(unsigned formats, char *dst, size_t cap);

/* A relative path (an expanded FLAMEPROF_OUT) made absolute under cfg->start_dir when the
 * process has changed directory since (a wrapper script that cd's, a daemon's chdir("/")):
 * the profile goes where the user started the program, and a spill is removed from where
 * it was made. Unchanged otherwise (the summary shows the names as given). */
void config_anchor_path(const config *cfg, char *path, size_t cap);

/* Expand %p (pid), %c (name) and %% in prefix into dst. Returns false if it does not
 * fit. */
bool config_expand_out(const char *prefix, pid_t pid, const char *name, char *dst,
                       size_t cap);

#endif
