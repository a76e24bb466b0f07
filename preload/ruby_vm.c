/* ruby_vm.c - the one CRuby entry point interposed: ruby_vm_destruct, so that the signal
 * handler stops reading the VM's stacks before the VM frees them (interpreter shutdown
 * while sampling). libruby calls it through its PLT, so our definition wins under
 * LD_PRELOAD; elsewhere (no Ruby) it is never called. */
#include <dlfcn.h>

#include "rbnames.h"

__attribute__((visibility("default"))) int ruby_vm_destruct(void *vm);

int ruby_vm_destruct(void *vm)
{
    rbnames_vm_ending();
    int (*real)(void *) = (int (*)(void *))dlsym(RTLD_NEXT, "ruby_vm_destruct");
    return real ? real(vm) : 0;
}
