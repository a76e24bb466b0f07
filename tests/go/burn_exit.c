/* burn_exit - burns ~0.1 s of CPU, prints one line, exits with the status given (argv[1]).
 * Built statically (a program LD_PRELOAD cannot reach) and dynamically (made set-user-ID by
 * the test, or started by a launcher that drops LD_PRELOAD). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    volatile double x = 0;
    for (long i = 0; i < 30000000; i++)
        x += (double)i;
    printf("burn_exit %d\n", x > 0);
    return argc > 1 ? atoi(argv[1]) : 0;
}
