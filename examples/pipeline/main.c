/* main.c — prints the sum of the squares of 0..n-1 (n from argv, default 10). */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 10;
    printf("%ld\n", pipeline_sum_squares(n));
    return 0;
}
