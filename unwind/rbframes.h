/* rbframes.h - Ruby's own frames, read from inside the signal handler (CRuby 3.1).
 *
 * The interrupted thread's execution context comes from libruby's TLS `ruby_current_ec`
 * (static TLS: a fixed offset from the thread pointer, measured off the handler). From
 * its current control frame to the end of its VM stack, each frame gives an iseq and pc
 * (bytecode) or a method entry (C function), recorded as rtframe.h words. The words are
 * spliced into the native stack in place of the frame that rb_vm_exec called
 * (vm_exec_core): control frames are grouped by VM_FRAME_FLAG_FINISH, one group per
 * rb_vm_exec on the native stack, leaf first.
 *
 * Fault-free: the context and the VM stack are read only where they lie inside the
 * writable mappings last published with rbframes_set_ranges (a miss asks for a new
 * snapshot through rbframes_ranges_stale); the heap objects the words point to are never
 * read here. Every loop is bounded. Configured (rbframes_enable) by core/rbnames.c after
 * its sanity checks; off by default and after rbframes_disable.
 *
 * rbframes_splice is async-signal-safe; the rest is for one thread off the handler. */
#ifndef FLAMEPROF_RBFRAMES_H
#define FLAMEPROF_RBFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

typedef struct rbframes_layout {
    uint32_t ec_vm_stack, ec_vm_stack_size, ec_cfp; /* in rb_execution_context_t */
    uint32_t cfp_size, cfp_pc, cfp_iseq, cfp_ep;    /* in rb_control_frame_t */
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

/* Publish the writable mappings (sorted, disjoint; kept until two more publications). */
void rbframes_set_ranges(unwind_ranges *rw);
/* Did a handler find memory outside the published ranges since the last publication? */
bool rbframes_ranges_stale(void);

/* Insert the current thread's Ruby frames into pcs[0..depth) (leaf first), at most max
 * words in all. Returns the new depth; *added tells whether any word was inserted.
 * Async-signal-safe. */
size_t rbframes_splice(uint64_t *pcs, size_t depth, size_t max, bool *added);

#endif
