/* ruby_vm.c - the one CRuby entry point interposed: ruby_vm_destruct, so that the signal
 * handler stops reading the VM's stacks before the VM frees them (interpreter shutdown
 * while sampling). libruby calls it through its PLT, so our definition wins under
 * LD_PRELOAD; elsewhere (no Ruby) it is never called. The real one is looked up at load:
 * a forked child ends its VM too, and dlsym there could wait on a loader lock that another
 * thread of the parent held at the fork. */
#include <dlfcn.h>

#include "rbnames.h"

__attribute__((visibility("default"))) int ruby_vm_destruct(void *vm);

static int (*real_destruct)(void *);

__attribute__((constructor)) static void ruby_vm_resolve(void)
{
    real_destruct = (int (*)(void *))dlsym(RTLD_NEXT, "ruby_vm_destruct");
}

int ruby_vm_destruct(void *vm)
{
    rbnames_vm_ending();
    return real_destruct ? real_destruct(vm) : 0;
}
