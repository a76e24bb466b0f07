/* stripfix.h - the library the stripped-binary tests strip (stripped.py): its exported
 * entry points. Everything else in it is static, so that once stripped only its FDEs
 * name it. */
#ifndef STRIPFIX_H
#define STRIPFIX_H

#include <stdint.h>

/* Burns about alpha_ms in one internal function and beta_ms in another, each reached
 * from two call sites; returns the CPU milliseconds each took in *alpha and *beta. */
void stripfix_run(double alpha_ms, double beta_ms, double *alpha, double *beta);

/* A trivial exported function: the program calls it through its PLT in a tight loop. */
uint64_t stripfix_tiny(uint64_t x);

#endif
