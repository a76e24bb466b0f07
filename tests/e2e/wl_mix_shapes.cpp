// The C++ part of wl_mix: a virtual method in a namespace, whose demangled name
// `geo::Square::area(int) const` the profile must show.
#include "wl_common.h"

namespace geo {

struct Shape {
    virtual ~Shape() = default;
    virtual uint64_t area(int scale) const = 0;
};

struct Square : Shape {
    long iters;
    explicit Square(long n) : iters(n) {}
    // noinline: a devirtualized, inlined call would make this an inlined frame instead.
    __attribute__((noinline)) uint64_t area(int scale) const override
    {
        BURN(iters * scale, 4);
        return burn_sink;
    }
};

} // namespace geo

extern "C" BURN_NOIPA uint64_t cpp_work(long iters)
{
    const geo::Square sq(iters);
    const geo::Shape &s = sq;
    return s.area(1);
}
