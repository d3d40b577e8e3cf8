/* main.c — the `chanlab` program: chanlab_main (chanlab.c) is the whole
 * command, a function so that the command-line fuzzer can call it too. */
#include "cli.h"

int main(int argc, char **argv) { return chanlab_main(argc, argv); }
