/* stripfix_main.c - the program of the stripped-binary tests (stripped.py): 2:1 CPU
 * between the library's two internal functions, then a tight loop of calls through the
 * PLT. Prints the CPU milliseconds each part took: "alpha BETA tiny". */
#include "stripfix.h"

#include "burn.h"

#include <stdio.h>
#include <stdlib.h>

static double cpu_ms(void)
{
    return burn_thread_cpu() * 1e3;
}

int main(int argc, char **argv)
{
    double scale = argc > 1 ? atof(argv[1]) : 1.0;
    double alpha, beta;
    stripfix_run(600 * scale, 300 * scale, &alpha, &beta);
    double t0 = cpu_ms();
    volatile uint64_t sink = 1;
    uint64_t x = sink;
    while (cpu_ms() - t0 < 300 * scale)
        for (int i = 0; i < 100000; i++)
            x = stripfix_tiny(x);
    sink = x;
    printf("%.1f %.1f %.1f\n", alpha, beta, cpu_ms() - t0);
    return 0;
}
