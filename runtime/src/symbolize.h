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

/* pc is a return address (looked up at pc - 1) unless exact. False when
 * nothing at all is known about pc (the fields then hold "?" and 0x...). */
bool csp__symbolize(uintptr_t pc, bool exact, csp_frame_info *out);

/* "    FUNC at FILE:LINE" per frame, leading runtime frames left out. */
void csp__print_stack(FILE *out, const uintptr_t *pcs, int n);
/* "created by FUNC at FILE:LINE" for csp_go's return address. */
void csp__print_created_by(FILE *out, uintptr_t pc);

#endif
