/* tests/symbols/runtime/src/csp_user.c — a user's file that happens to sit
 * under a folder called runtime/src/, with functions whose names start with
 * csp_: dumps keep their frames (test_symbols.c). chanlab's own frames are
 * told by address, never by such a name or path. */
#include "csp_user.h"

const char *const csp_user_file = __FILE__;

const int csp_user_wait_line = __LINE__ + 3;
__attribute__((noinline)) void csp_user_wait(csp_chan *c)
{
    csp_recv(c, NULL);
    __asm__ volatile("" ::: "memory");   /* keep this frame: no tail call */
}

const int csp_user_spawn_line = __LINE__ + 3;
__attribute__((noinline)) void csp_user_spawn(void (*fn)(void *), void *arg)
{
    csp_go(fn, arg, "user-spawned");
    __asm__ volatile("" ::: "memory");
}
