/* rbnames.h - CRuby 3.1 in this process: its frame layout, checked, and the names of the
 * Ruby frames the handler recorded (unwind/rbframes.h).
 *
 * At start (the preload constructor, on the main thread; not with FLAMEPROF_RUBY=0) it finds libruby by its exported
 * `ruby_version`, `ruby_current_ec` (TLS) and `rb_vm_exec`; a version without a layout
 * table here gets one "flameprof:" line and no Ruby frames (never a guess). Once the VM
 * runs, the aggregator's poll checks the layout on the main thread's own frames (the
 * root frame is the VM's dummy frame, every bytecode frame's iseq is an iseq whose label
 * is a String) before the handler reads anything; a failed check is one line too.
 *
 * Names are resolved by the aggregator soon after each sample (within a tick, ~10 ms),
 * reading Ruby's heap with process_vm_readv on ourselves, which fails instead of faulting
 * on freed memory, so a sample's iseq is named as of the sample: an iseq is checked to
 * still be an iseq whose code holds the sampled pc. Names follow Ruby 3.4's backtraces
 * (3.1's own omit the class): "Foo#bar (/app/x.rb:3)" with the method's first line,
 * "block in Foo#bar (...)", "<main> (/app/x.rb)", C functions by the name they were
 * called by ("Integer#times"). The class is the method entry's owner, by its
 * "__classpath__" ivar (whose ID is learnt at start from Object's); anonymous and
 * singleton classes add none. C function names come from rb_id2str, which only reads
 * the symbol table while one Ractor runs (none are named once Ractors start).
 *
 * Threads: rbnames_init in the constructor; rbnames_poll and rbnames_resolve on the
 * aggregator thread only; rbnames_vm_ending on the thread ending the VM. */
#ifndef FLAMEPROF_RBNAMES_H
#define FLAMEPROF_RBNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void rbnames_init(bool quiet);

/* Publish writable mappings when the handler asked, run the start check. Cheap when
 * there is nothing to do. */
void rbnames_poll(void);

/* Replace the Ruby words of pcs[0..depth) by name words (rtframe.h); returns the new
 * depth. */
size_t rbnames_resolve(uint64_t *pcs, size_t depth);

/* The VM is about to free its stacks: stop reading them. */
void rbnames_vm_ending(void);

#endif
