/* shortname.h - the short form of a demangled C++ or Rust name, for labels that must fit a
 * frame: template arguments, parameter lists, a function template's return type and the
 * qualifiers after the parameters dropped; the path kept.
 *
 *   node::CreateEnvironment(node::IsolateData*, v8::Local<v8::Context>, ...)
 *                                       -> node::CreateEnvironment
 *   std::vector<int, std::allocator<int> >::push_back(int const&)  -> std::vector::push_back
 *   void foo<int>(int)                  -> foo
 *   Foo::operator()(int) const          -> Foo::operator()
 *   bool operator< <int>(A const&, A const&) -> operator<
 *   f()::{lambda(int)#1}::operator()(int) const -> f::{lambda(int)#1}::operator()
 *   (anonymous namespace)::g()          -> (anonymous namespace)::g
 *   <alloc::boxed::Box<T> as core::ops::FnOnce<()>>::call_once (Rust)
 *                                       -> <alloc::boxed::Box as core::ops::FnOnce>::call_once
 *
 * Only C++ and Rust names are shortened (a "::" path, or "f(int)"); any other name (C, Go,
 * Java, JavaScript "fn (file:line)", Python) is returned as is, as is a name the rules
 * would leave empty. Pure functions: thread-safe, no allocation, async-signal-safe. */
#ifndef FLAMEPROF_OUTPUT_SHORTNAME_H
#define FLAMEPROF_OUTPUT_SHORTNAME_H

#include <stddef.h>

#include "folded.h"

/* Writes the short form of name[0..len) to out (never more than len bytes, not
 * NUL-terminated; out may not alias name) and returns its length. */
size_t shortname(const char *name, size_t len, char *out);

/* Every frame of p in its short form, stacks that become equal merged (folded_finish).
 * The renderers' --short-names. Returns 0, or -1 on allocation failure (p unchanged).
 * Allocates: not for the signal handler. */
int shortname_profile(folded_profile *p);

#endif
