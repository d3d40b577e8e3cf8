/* symbolize.h — addresses to "function at file:line" with elfutils libdw.
 * Not async-signal-safe: call it from ordinary code only (a parent process
 * symbolizes a child's addresses; the same binary maps at the same place
 * after fork). */
#ifndef CSP_SYMBOLIZE_H
#define CSP_SYMBOLIZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    char func[128];
    char file[256];
    int line;
} csp_frame_info;

/* Frames one pc stands for once inlining is undone: out[0] the innermost
 * function (where pc really is), then each function it was inlined into,
 * with the call site's line. */
#define CSP_MAX_INLINE 8

/* pc is a return address (looked up at pc - 1) unless exact. Returns the
 * number of frames filled (at most max), 0 when nothing at all is known
 * about pc (out[0] then holds "0x..." in "?"). */
int csp__symbolize_frames(uintptr_t pc, bool exact, csp_frame_info *out, int max);
/* The innermost frame only; false when nothing is known about pc. */
bool csp__symbolize(uintptr_t pc, bool exact, csp_frame_info *out);

/* True when pc lies in chanlab's own code (csp_debug_library_pc). */
bool csp__library_pc(uintptr_t pc, bool exact);

/* "    FUNC at FILE:LINE" per frame (inlined calls expanded), leading
 * library frames left out, ending where library code starts again. */
void csp__print_stack(FILE *out, const uintptr_t *pcs, int n);
/* "created by FUNC at FILE:LINE" for csp_go's return address. */
void csp__print_created_by(FILE *out, uintptr_t pc);

#endif
