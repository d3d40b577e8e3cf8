/* exec_wire.h — what `chanlab exec` (cli/exec.c) and the preload library
 * (libchanlab_exec.so) say to each other. Both sides are built from this one
 * header in one tree, so records cross the pipe as these structs, preceded by
 * a magic that names the layout's version.
 *
 * chanlab → program: the environment.
 *   CHANLAB_EXEC  "fd=N strategy=S schedules=N seed=S max_steps=N timeout_ms=N
 *                  spin_ms=N [replay=SCHEDULE]": fd is the write end of the
 *                  pipe below. Without CHANLAB_EXEC the library does nothing.
 * program → chanlab: on fd, one exec_hello, then one exec_summary, then for
 *   the reported run its threads (exec_thread × nthreads) and its strings
 *   (schedule, explicit schedule, note, stdout, stderr, reference stdout, in
 *   that order, each exactly the length the summary gives). The program then
 *   waits until chanlab closes its end (chanlab symbolizes the run's
 *   addresses against /proc/PID of the still-living fork server). */
#ifndef CHANLAB_EXEC_WIRE_H
#define CHANLAB_EXEC_WIRE_H

#include <stdint.h>

#define EXEC_WIRE_MAGIC 0x63686c6578656302ull   /* "chlexec" 02 */
#define EXEC_MAX_PCS 48

/* What a thread is doing when the record is taken. */
enum exec_thread_state { EXEC_T_RUNNABLE, EXEC_T_BLOCKED, EXEC_T_DONE, EXEC_T_RUNNING };

/* What a blocked thread waits for (exec_thread.wait). */
enum exec_wait {
    EXEC_W_NONE, EXEC_W_MUTEX, EXEC_W_COND, EXEC_W_RDLOCK, EXEC_W_WRLOCK, EXEC_W_SEM,
    EXEC_W_BARRIER, EXEC_W_JOIN, EXEC_W_SLEEP, EXEC_W_ONCE, EXEC_W_SPIN, EXEC_W_FOREVER,
};

/* The run's ending as the library saw it (exec_summary.ending). */
enum exec_ending {
    EXEC_END_EXIT,        /* the process exited (status in exec_summary.status) */
    EXEC_END_DEADLOCK,    /* every live thread blocked, no timer to wake one */
    EXEC_END_STEPS,       /* past the step bound, fair continuation included */
    EXEC_END_SPIN,        /* a thread ran past the spin bound without a scheduling point */
    EXEC_END_TIMEOUT,     /* the schedule's wall-clock bound */
    EXEC_END_ERROR,       /* the schedule did not fit the program, or the library failed */
};

typedef struct {
    uint64_t magic;
    int32_t pid;           /* the fork server: its maps are every run's maps */
    uint32_t pad;
} exec_hello;

typedef struct {
    uint64_t magic;
    uint32_t verdict;      /* harness_verdict */
    uint32_t schedules_run;
    uint32_t run;          /* the reported run (the first failing one, or the last) */
    uint32_t ending;       /* exec_ending of the reported run */
    int32_t status;        /* its wait status */
    uint32_t exhausted;    /* EXHAUSTIVE covered its bounded tree */
    uint32_t leaked;       /* threads alive at exit (LEAK) */
    uint32_t nthreads;     /* exec_thread records that follow */
    uint32_t spinning;     /* the id of the thread past the spin bound, or 0 */
    uint32_t preemption_bound;
    uint64_t steps;        /* scheduling points of the reported run */
    uint64_t decisions;
    uint64_t vtime_ns;     /* virtual time at its end */
    double seconds;        /* wall time of all runs */
    uint32_t len_schedule, len_explicit, len_note, len_stdout, len_stderr, len_refout;
} exec_summary;

typedef struct {
    uint32_t id;           /* 1 is main */
    uint32_t state;        /* exec_thread_state */
    uint32_t wait;         /* exec_wait, when blocked */
    uint32_t owner;        /* the thread holding the object (mutex, write lock), or 0 */
    uint32_t creator;      /* the thread that created it (0 for main) */
    uint32_t npcs;
    uint32_t detached, pad;
    uint64_t object;       /* the object's address */
    uint64_t start_fn;     /* the start routine (0 for main) */
    uint64_t created_at;   /* return address in pthread_create's caller */
    int64_t value;         /* a semaphore's value, a barrier's count, a join's target id */
    int64_t deadline_ns;   /* virtual deadline of a timed wait, or -1 */
    char call[40];         /* "pthread_mutex_lock" */
    char name[16];         /* pthread_setname_np's name, or empty */
    uint64_t pcs[EXEC_MAX_PCS];
} exec_thread;

#endif
