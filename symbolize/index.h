/* index.h - the two ways symbolize/ finds things: by key (a hash index over a caller's
 * array) and by address (binary search over sorted [lo, hi) spans).
 *
 * One implementation of each serves names, modules, CUs, functions, DWARF name aliases
 * and the address cache (by key), and symbols, CU ranges, function ranges and inline
 * scopes (by address). Internal to symbolize/.
 *
 * No global state: safe from any thread on distinct tables; a table itself is not
 * locked (the symbolizer that owns it is used by one thread at a time). Not
 * async-signal-safe (symbolize_htab_insert allocates). */
#ifndef FLAMEPROF_SYMBOLIZE_INDEX_H
#define FLAMEPROF_SYMBOLIZE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 32-bit hashes: splitmix64's finalizer for integers and addresses, FNV-1a then that
 * finalizer for bytes. */
uint32_t symbolize_hash64(uint64_t x);
uint32_t symbolize_hash_str(const char *s, size_t len);

/* Open-addressing index: maps a 32-bit hash plus a caller equality test to an element
 * index of some caller-owned array. Zero-initialized means empty; free(slots) frees it. */
typedef struct symbolize_slot {
    uint32_t hash;
    uint32_t idx1; /* element index + 1; 0 marks an empty slot */
} symbolize_slot;

typedef struct symbolize_htab {
    symbolize_slot *slots;
    size_t cap, count;
} symbolize_htab;

/* Whether element idx of the caller's array (reached through ctx) has key `key`. */
typedef bool (*symbolize_eq_fn)(const void *ctx, uint32_t idx, const void *key);

/* The slot holding an element with this hash for which eq is true, or NULL. The caller
 * may rewrite the slot's idx1 (re-pointing a key at a newer element). */
symbolize_slot *symbolize_htab_find(const symbolize_htab *t, uint32_t hash,
                                    symbolize_eq_fn eq, const void *ctx, const void *key);

/* Adds element idx under hash (no duplicate check). False on allocation failure, with
 * the index unchanged. */
bool symbolize_htab_insert(symbolize_htab *t, uint32_t hash, uint32_t idx);

/* [lo, hi): the first member of everything looked up by address, so that one binary
 * search serves every array of such elements. */
typedef struct symbolize_span {
    uint64_t lo, hi;
} symbolize_span;

/* Index of the element of base[0..n) (each `stride` bytes, starting with a
 * symbolize_span, sorted by lo) whose span holds a, or SIZE_MAX. */
size_t symbolize_span_find(const void *base, size_t n, size_t stride, uint64_t a);

/* qsort comparator for such arrays: by lo. */
int symbolize_span_cmp(const void *pa, const void *pb);

#endif
