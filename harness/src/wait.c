/* wait.c — harness_wait (harness.h), Go's synctest.Wait: returns once every
 * other task of the run is blocked or has ended.
 *
 * Controlled mode is exact: the scheduler parks the caller and runs it again
 * only when nothing else can run, before virtual time moves
 * (csp_sched_wait_idle). Free mode cannot know that a task on another thread
 * is about to block, so it polls: the other tasks all parked (not running,
 * not in a syscall) and the runtime's progress counter unchanged across three
 * polls 1 ms apart. Bounded: after about 3 s of polling it gives up and
 * returns false (a task that never blocks is the watchdog's to report). */
#include "quiet.h"
#include "state.h"

#include "csp_debug.h"
#include "csp_sched.h"

#include <time.h>

HARNESS_CODE bool harness_wait(void)
{
    if (csp_sched_active())
        return csp_sched_wait_idle();
    if (!harness__state)
        return false;
    const csp_task *self = csp_self();
    struct timespec ms = { 0, 1000 * 1000 };
    uint64_t last = 0;
    int stable = 0;
    for (long polls = 0; polls < 3000; polls++) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, self);
        bool idle = q.running == 0 && q.syscalls == 0;
        if (idle && q.progress == last)
            stable++;
        else
            stable = idle ? 1 : 0;
        last = q.progress;
        if (stable >= 3)
            return true;
        nanosleep(&ms, NULL);
    }
    return false;
}
