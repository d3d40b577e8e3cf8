/* clock.c — virtual time for a controlled run: the monotonic and real-time
 * clocks read a base (taken once, in the fork server, so every schedule sees
 * the same clocks) plus exec__vnow, which moves only when every thread is
 * blocked and one of them waits with a deadline (sched.c, advance_time), as
 * in Go's testing/synctest. A sleep is a block with a deadline; a sleep of
 * zero is a scheduling point. Other clocks (CPU time) stay real. */
#include "internal.h"

#include <errno.h>
#include <sys/time.h>
#include <unistd.h>

int64_t exec__vnow;
static int64_t mono_base, real_base;

static int64_t ns_of(const struct timespec *ts) { return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec; }

void exec__clock_init(void)
{
    struct timespec m, r;
    exec__real.clock_gettime(CLOCK_MONOTONIC, &m);
    exec__real.clock_gettime(CLOCK_REALTIME, &r);
    mono_base = ns_of(&m);
    real_base = ns_of(&r);
    exec__vnow = 0;
}

static bool virtual_clock(clockid_t c, int64_t *base)
{
    switch (c) {
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: case CLOCK_BOOTTIME:
        *base = mono_base;
        return true;
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_TAI:
        *base = real_base;
        return true;
    default:
        return false;
    }
}

int64_t exec__deadline(clockid_t clock, const struct timespec *abstime)
{
    int64_t base;
    if (!abstime || !virtual_clock(clock, &base))
        base = real_base;
    if (!abstime)
        return -1;
    int64_t d = ns_of(abstime) - base;
    return d < 0 ? 0 : d;
}

static void put(struct timespec *ts, int64_t ns)
{
    ts->tv_sec = (time_t)(ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

EXEC_API int clock_gettime(clockid_t c, struct timespec *ts)
{
    exec__resolve();
    int64_t base;
    if (!exec__me() || !virtual_clock(c, &base))
        return exec__real.clock_gettime(c, ts);
    put(ts, base + exec__vnow);
    return 0;
}

EXEC_API int gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
    exec__resolve();
    struct timespec ts;
    if (!exec__me()) {
        exec__real.clock_gettime(CLOCK_REALTIME, &ts);
    } else {
        put(&ts, real_base + exec__vnow);
    }
    struct timeval *out = tv;   /* glibc declares tv nonnull; callers pass NULL all the same */
    if (out) {
        out->tv_sec = ts.tv_sec;
        out->tv_usec = ts.tv_nsec / 1000;
    }
    (void)tz;
    return 0;
}

EXEC_API time_t time(time_t *t)
{
    exec__resolve();
    struct timespec ts;
    if (!exec__me())
        exec__real.clock_gettime(CLOCK_REALTIME, &ts);
    else
        put(&ts, real_base + exec__vnow);
    if (t)
        *t = ts.tv_sec;
    return ts.tv_sec;
}

/* Sleeps until virtual ns `until` (a scheduling point first). */
static void vsleep_until(int64_t until)
{
    exec__point_at("clock_nanosleep");
    if (until > exec__vnow)
        exec__block(EXEC_W_SLEEP, NULL, "sleep", until);
}

static int rel_sleep(const struct timespec *req, const char *call)
{
    if (req->tv_nsec < 0 || req->tv_nsec >= 1000000000 || req->tv_sec < 0)
        return EINVAL;
    exec__point_at(call);
    int64_t d = ns_of(req);
    if (d > 0)
        exec__block(EXEC_W_SLEEP, NULL, call, exec__vnow + d);
    return 0;
}

EXEC_API int nanosleep(const struct timespec *req, struct timespec *rem)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.nanosleep(req, rem);
    int rc = rel_sleep(req, "nanosleep");
    if (rc) {
        errno = rc;
        return -1;
    }
    if (rem)
        rem->tv_sec = 0, rem->tv_nsec = 0;
    return 0;
}

EXEC_API int clock_nanosleep(clockid_t c, int flags, const struct timespec *req, struct timespec *rem)
{
    exec__resolve();
    int64_t base;
    if (!exec__me() || !virtual_clock(c, &base))
        return exec__real.clock_nanosleep(c, flags, req, rem);
    if (flags & TIMER_ABSTIME) {
        vsleep_until(ns_of(req) - base);
        return 0;
    }
    int rc = rel_sleep(req, "clock_nanosleep");
    if (!rc && rem)
        rem->tv_sec = 0, rem->tv_nsec = 0;
    return rc;
}

EXEC_API int usleep(useconds_t us)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.usleep(us);
    struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000 };
    rel_sleep(&ts, "usleep");
    return 0;
}

EXEC_API unsigned sleep(unsigned s)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.sleep(s);
    struct timespec ts = { (time_t)s, 0 };
    rel_sleep(&ts, "sleep");
    return 0;
}
