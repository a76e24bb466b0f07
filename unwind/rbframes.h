/* rbframes.h - Ruby's own frames, read from inside the signal handler (CRuby 3.1).
 *
 * The interrupted thread's execution context comes from libruby's TLS `ruby_current_ec`
 * (static TLS: a fixed offset from the thread pointer, measured off the handler). From
 * its current control frame to the end of its VM stack, each frame gives an iseq and pc
 * (bytecode) or a method entry and the ID it was called by (C function), recorded as
 * rtframe.h words. A bytecode
 * frame also gets its identity (rbframes_ident): a hash of its iseq's label's and path's
 * characters and its first line, read while the running frame keeps them alive, so that
 * the aggregator, which names the iseq later while the program runs on, keeps a name only
 * if the text it reads hashes the same (an iseq freed and its memory reused is never
 * named after what lives there now). The words are
 * spliced into the native stack in place of the frame that rb_vm_exec called
 * (vm_exec_core): control frames are grouped by VM_FRAME_FLAG_FINISH, one group per
 * rb_vm_exec on the native stack, leaf first.
 *
 * Fault-free: the context and the VM stack are read only where they lie inside the
 * writable mappings last published with rbframes_set_ranges (a miss asks for a new
 * snapshot through rbframes_ranges_stale); so are the heap objects read for the identity
 * (the iseq, its body, the label and path Strings, at most RBFRAMES_STR_MAX bytes each; a
 * recursion reuses the frame before's), except that those outside the ranges (new heap
 * pages, at start mostly) are read through process_vm_readv, which fails instead of
 * faulting, at most 24 times a sample. Every loop is bounded. Configured (rbframes_enable) by core/rbnames.c after
 * its sanity checks; off by default and after rbframes_disable.
 *
 * rbframes_splice is async-signal-safe (system calls: only those reads); the rest is for
 * one thread off the handler. */
#ifndef FLAMEPROF_RBFRAMES_H
#define FLAMEPROF_RBFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text_hash.h"
#include "unwind.h"

typedef struct rbframes_layout {
    uint32_t ec_vm_stack, ec_vm_stack_size, ec_cfp; /* in rb_execution_context_t */
    uint32_t cfp_size, cfp_pc, cfp_iseq, cfp_ep;    /* in rb_control_frame_t */
    uint32_t iseq_body;                             /* in rb_iseq_t */
    uint32_t body_pathobj, body_label, body_lineno; /* in rb_iseq_constant_body */
    uint32_t me_called_id;                          /* in rb_callable_method_entry_t */
} rbframes_layout;

typedef struct rbframes_cfg {
    int64_t tls_off;          /* &ruby_current_ec - thread pointer */
    uint64_t vm_exec_lo, vm_exec_hi; /* rb_vm_exec's code */
    rbframes_layout lay;
} rbframes_cfg;

/* VM frame flags (ep[0]), the same in CRuby 3.0-3.3. */
enum {
    RB_FRAME_MAGIC_MASK = 0x7fff0001,
    RB_FRAME_MAGIC_TOP = 0x44440001,
    RB_FRAME_MAGIC_CFUNC = 0x55550001,
    RB_FRAME_MAGIC_DUMMY = 0x79990001,
    RB_FRAME_FLAG_FINISH = 0x0020,
    RB_FRAME_FLAG_CFRAME = 0x0080,
    RB_ENV_FLAG_LOCAL = 0x0002,
};

/* Object headers, the same in CRuby 3.0-3.3 (without variable-width allocation). */
enum {
    RB_T_MASK = 0x1f, RB_T_STRING = 0x05, RB_T_ARRAY = 0x07, RB_T_IMEMO = 0x1a,
    RB_IMEMO_MENT = 6, RB_IMEMO_ISEQ = 7,
    RB_FL_NOEMBED = 1 << 13, /* RSTRING_NOEMBED; RARRAY_EMBED_FLAG is the same bit */
};

/* Bytes of a label or path the identity covers (and the name shows): a longer one is cut. */
#define RBFRAMES_STR_MAX 511

/* Where the String at str keeps its bytes, from its first 4 words h (flags, klass, then
 * len and ptr or the bytes); *len cut to RBFRAMES_STR_MAX. false: not a String. */
static inline bool rbframes_string_span(uint64_t str, const uint64_t h[4], uint64_t *ptr,
                                        uint64_t *len)
{
    if ((h[0] & RB_T_MASK) != RB_T_STRING)
        return false;
    *len = h[0] & RB_FL_NOEMBED ? h[2] : (h[0] >> 14) & 31;
    *ptr = h[0] & RB_FL_NOEMBED ? h[3] : str + 16;
    if (*len > RBFRAMES_STR_MAX)
        *len = RBFRAMES_STR_MAX;
    return true;
}

/* An iseq's pathobj is a String, or an Array [path, realpath]: from its first 5 words h,
 * where the String to show lies (*at: the String itself, else the word holding it). */
static inline bool rbframes_path_string(uint64_t pathobj, const uint64_t h[5], uint64_t *at,
                                        bool *indirect)
{
    *indirect = (h[0] & RB_T_MASK) == RB_T_ARRAY;
    if (!*indirect)
        *at = pathobj;
    else /* RARRAY_EMBED_FLAG: the elements are inline */
        *at = h[0] & RB_FL_NOEMBED ? pathobj + 16 : h[4];
    return *indirect || (h[0] & RB_T_MASK) == RB_T_STRING;
}

/* A bytecode frame's identity (an RTFRAME_RB_TEXT value): the text hashes
 * (util/text_hash.h, one byte a character) of its label's and path's bytes, and its
 * first line (the body's lineno VALUE). */
static inline uint64_t rbframes_ident(uint64_t label_hash, uint64_t path_hash, uint64_t lineno)
{
    return util_text_hash_mix(util_text_hash_pair(label_hash, path_hash), lineno) &
           ((1ull << 56) - 1);
}

/* The thread pointer (%fs base), as the handler reads it. */
uint64_t rbframes_thread_pointer(void);

void rbframes_enable(const rbframes_cfg *cfg);
/* Stop reading and wait (bounded) for handlers that are reading now: before the VM frees
 * its stacks (ruby_vm_destruct). */
void rbframes_disable(void);
bool rbframes_enabled(void);

/* In a fork child: handlers that were running on the parent's other threads never end
 * here; forget them (their in-flight count, their scratch). */
void rbframes_after_fork_child(void);

/* Publish the writable mappings and the other readable ones (ro, may be NULL: where
 * Strings' bytes may lie too), each sorted and disjoint, owned from here on (kept until
 * two more publications). */
void rbframes_set_ranges(unwind_ranges *rw, unwind_ranges *ro);
/* Did a handler find memory outside the published ranges since the last publication? */
bool rbframes_ranges_stale(void);

/* Insert the current thread's Ruby frames into pcs[0..depth) (leaf first), at most max
 * words in all. Returns the new depth; *added tells whether any word was inserted.
 * Async-signal-safe. */
size_t rbframes_splice(uint64_t *pcs, size_t depth, size_t max, bool *added);

#endif
