/* crawl_site.c — serves crawlsite.h's generated site on 127.0.0.1 for the
 * demo's test and the benchmark: prints the root URL on a line of its own,
 * then serves until standard input reaches end of file (or this process
 * dies: the server goes with it).
 *     crawl_site [LATENCY_MS]   (default 0) */
#include "crawlsite.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    const char *root = crawlsite_server_start(ms * CSP_MILLISECOND);
    if (!root)
        return 1;
    printf("%s\n", root);
    fflush(stdout);
    char b[256];
    while (read(STDIN_FILENO, b, sizeof b) > 0)
        ;
    return 0;
}
