/* csp_user.h — see csp_user.c. */
#ifndef CSP_USER_H
#define CSP_USER_H
#include "csp.h"
extern const char *const csp_user_file;
extern const int csp_user_wait_line, csp_user_spawn_line;
void csp_user_wait(csp_chan *c);
void csp_user_spawn(void (*fn)(void *), void *arg);
#endif
