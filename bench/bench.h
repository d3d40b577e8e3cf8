/* bench.h — what every C benchmark in bench/ shares: argument checking, the
 * clock, the result line, and pinning a thread to one CPU.
 *
 * Every program takes `ITERS [--split]` (only the ping-pongs accept --split),
 * rejects anything else with one line on stderr and exit status 2, and prints
 * one line on stdout: "WORKLOAD c iters=N ns/op=X". Header-only: every
 * function is static, so each program is one translation unit. */
#ifndef CHANLAB_BENCH_H
#define CHANLAB_BENCH_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_ITERS 4294967295ull

struct bench_args {
    uint64_t iters;
    bool split;          /* --split: pin the two threads to two different CPUs */
    int cpu[2];          /* with --split: the first two CPUs the process may use */
};

static inline void bench_usage_error(const char *prog, bool split_ok, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
static inline void bench_usage_error(const char *prog, bool split_ok, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (usage: %s ITERS%s)\n", prog, split_ok ? " [--split]" : "");
    exit(2);
}

/* A failed check of the benchmark's own result: the numbers would be lies. */
static inline void bench_fail(const char *prog, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));
static inline void bench_fail(const char *prog, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ITERS is decimal digits only (no sign, blanks or base prefix), 1..2^32-1. */
static inline bool bench_parse_iters(const char *s, uint64_t *out)
{
    if (s[0] < '0' || s[0] > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v == 0 || v > BENCH_MAX_ITERS)
        return false;
    *out = v;
    return true;
}

/* The first two CPUs in the process's affinity mask; false if there are fewer. */
static inline bool bench_two_cpus(int cpu[2])
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return false;
    int found = 0;
    for (int c = 0; c < CPU_SETSIZE && found < 2; c++)
        if (CPU_ISSET(c, &set))
            cpu[found++] = c;
    return found == 2;
}

static inline struct bench_args bench_parse(int argc, char **argv, bool split_ok)
{
    const char *prog = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
    prog = prog ? prog + 1 : (argc > 0 && argv[0] ? argv[0] : "bench");
    struct bench_args a = { 0, false, { -1, -1 } };
    if (argc < 2)
        bench_usage_error(prog, split_ok, "missing ITERS");
    if (!bench_parse_iters(argv[1], &a.iters))
        bench_usage_error(prog, split_ok,
                          "bad iteration count '%s': want an integer from 1 to %llu",
                          argv[1], BENCH_MAX_ITERS);
    for (int i = 2; i < argc; i++) {
        if (split_ok && strcmp(argv[i], "--split") == 0 && !a.split)
            a.split = true;
        else
            bench_usage_error(prog, split_ok, "unexpected argument '%s'", argv[i]);
    }
    if (a.split && !bench_two_cpus(a.cpu))
        bench_usage_error(prog, split_ok, "--split needs two CPUs in the affinity mask");
    return a;
}

/* Pins the calling thread to one CPU; a benchmark that asked for pinning and
 * did not get it must not report a number. */
static inline void bench_pin_self(const char *prog, int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (err != 0)
        bench_fail(prog, "pthread_setaffinity_np(cpu %d): %s", cpu, strerror(err));
}

/* The untimed share of a run: the same loop, a tenth as long, capped so that
 * short runs stay short. bench/go uses the same rule. */
static inline uint64_t bench_warmup(uint64_t iters)
{
    uint64_t w = iters / 10;
    return w > 100000 ? 100000 : w;
}

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void bench_report(const char *workload, uint64_t iters, uint64_t elapsed_ns)
{
    printf("%s c iters=%llu ns/op=%.1f\n", workload, (unsigned long long)iters,
           (double)elapsed_ns / (double)iters);
    fflush(stdout);
}

#endif /* CHANLAB_BENCH_H */
