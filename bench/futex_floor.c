/* futex_floor.c — the floor for a thread hand-off on this machine: two pthreads
 * bounce a counter through one futex word, with no runtime in between. Each
 * round trip is two stores, two FUTEX_WAKEs and (usually) two FUTEX_WAITs; no
 * spinning, so it is the cost of one thread waking another and going to sleep,
 * twice. The csp ping-pong (pingpong.c) does the same work through channels.
 *
 * Usage: futex_floor ITERS [--split]   (--split: one thread per CPU) */
#include "bench.h"

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *prog = "futex_floor";

/* The ball. Odd: the pong thread's turn (it adds 1); even: the main thread's.
 * UINT32_MAX tells the pong thread to stop. */
static _Atomic uint32_t ball;
static struct bench_args args;

static void futex_wait(_Atomic uint32_t *word, uint32_t expected)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Waits until the ball is no longer `held` and returns its new value. */
static uint32_t wait_change(uint32_t held)
{
    uint32_t v;
    while ((v = atomic_load_explicit(&ball, memory_order_acquire)) == held)
        futex_wait(&ball, held);
    return v;
}

static void throw_ball(uint32_t v)
{
    atomic_store_explicit(&ball, v, memory_order_release);
    futex_wake(&ball);
}

static void *pong(void *unused)
{
    (void)unused;
    if (args.split)
        bench_pin_self(prog, args.cpu[1]);
    uint32_t held = 0;
    for (;;) {
        uint32_t v = wait_change(held);
        if (v == UINT32_MAX)
            return NULL;
        held = v + 1;
        throw_ball(held);
    }
}

/* One round trip per iteration; the ball wraps within 32 bits, skipping the
 * stop value, because both sides only compare it with the value last seen. */
static void rounds(uint64_t n, uint32_t *held)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t sent = *held + 1;
        if (sent == UINT32_MAX)
            sent = 1;          /* odd, not the stop value; 0 is even, never held here */
        throw_ball(sent);
        uint32_t back = wait_change(sent);
        if (back != sent + 1)
            bench_fail(prog, "threw %u, got back %u", sent, back);
        *held = back;
    }
}

int main(int argc, char **argv)
{
    args = bench_parse(argc, argv, true);
    if (args.split)
        bench_pin_self(prog, args.cpu[0]);
    pthread_t t;
    int err = pthread_create(&t, NULL, pong, NULL);
    if (err != 0)
        bench_fail(prog, "pthread_create: %s", strerror(err));

    uint32_t held = 0;
    rounds(bench_warmup(args.iters), &held);
    uint64_t start = bench_now_ns();
    rounds(args.iters, &held);
    uint64_t elapsed = bench_now_ns() - start;

    throw_ball(UINT32_MAX);
    pthread_join(t, NULL);
    bench_report("futex", args.iters, elapsed);
    return 0;
}
