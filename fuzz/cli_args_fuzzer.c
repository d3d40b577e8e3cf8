/* cli_args_fuzzer.c — the `chanlab` command line. The input is the
 * arguments, separated by NUL bytes (at most 32 of at most 256 bytes each);
 * chanlab_main checks them with cli_check_only set (every verb stops before
 * it runs, reads or writes anything) and cli_exit jumping back here. Any
 * outcome is fine — 0, 1, bad usage (2) with its one line, --help (0) —
 * except a crash, a sanitizer report, or bad usage that says nothing or
 * says it on more than one line. */
#include "cli.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static jmp_buf back;

static void jump_back(int status) { longjmp(back, status + 1); }

/* stderr into a memory file for each input: bad usage must say one line. */
static char errbuf[1 << 16];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cli_check_only = true;
    cli_exit = jump_back;
    /* Help texts and tables on stdout are not what is checked here. */
    if (!freopen("/dev/null", "w", stdout))
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum { MAX_ARGS = 32, MAX_ARG = 256 };
    static char args[MAX_ARGS][MAX_ARG + 1];
    char *argv[MAX_ARGS + 2];
    int argc = 0;
    argv[argc++] = "chanlab";
    size_t i = 0;
    while (i <= size && argc <= MAX_ARGS) {
        const uint8_t *end = memchr(data + i, 0, size - i);
        size_t n = end ? (size_t)(end - (data + i)) : size - i;
        size_t k = n < MAX_ARG ? n : MAX_ARG;
        memcpy(args[argc - 1], data + i, k);
        args[argc - 1][k] = 0;
        argv[argc] = args[argc - 1];
        argc++;
        i += n + 1;
    }
    argv[argc] = NULL;

    FILE *err = fmemopen(errbuf, sizeof errbuf, "w");
    if (!err)
        abort();
    FILE *saved = stderr;
    stderr = err;
    verb = NULL;
    volatile int status;
    int jumped = setjmp(back);
    if (jumped)
        status = jumped - 1;
    else
        status = chanlab_main(argc, argv);
    fflush(err);
    long len = ftell(err);
    fclose(err);
    stderr = saved;
    if (status == 2) {
        const char *nl = memchr(errbuf, '\n', (size_t)(len > 0 ? len : 0));
        if (len <= 0 || !nl || nl != errbuf + len - 1) {
            fprintf(stderr, "bad usage must be one line on stderr; it was %ld bytes: %.*s\n", len,
                    (int)(len > 0 ? len : 0), errbuf);
            abort();
        }
    }
    return 0;
}
