// fixture_cpp.cpp - C++ half of the symbolize test library: a method in a namespace
// (to check demangling) and an inlined member function (DWARF linkage names).
#include "fixture.h"

uintptr_t symfix_cpp_inline_pc;

namespace ns {

class Klass {
public:
    int method(int x);
    inline __attribute__((always_inline)) int helper(int x)
    {
        uintptr_t pc;
        SYMFIX_HERE(pc);
        symfix_cpp_inline_pc = pc;
        value_ += x;
        return value_ * 5;
    }

private:
    volatile int value_ = 0;
};

__attribute__((noinline)) int Klass::method(int x)
{
    return helper(x) + 1;
}

} // namespace ns

extern "C" int symfix_cpp_run(int x)
{
    ns::Klass k;
    return k.method(x);
}
