/* threads.c — the threads backend (free mode): a task is a pthread; the kernel
 * decides what runs; time is CLOCK_MONOTONIC; one timer thread fires timers.
 *
 * Parking: each task has a wake word (0 nothing posted, 1 posted, 2 the task
 * sleeps in futex_wait). ready() posts exactly once per park; park() consumes
 * the post, so a ready() that comes before the park is never lost.
 *
 * Timers: a binary min-heap ordered by (when, seq), protected by timer_lock,
 * served by one lazily started timer thread that is not a task. Timers due at
 * the same instant fire in an order chosen through choose(CSP_CHOOSE_TIMER).
 * Lock order: timer_lock, then a channel lock (a fire sends on its channel),
 * then the registry lock. */
#include "csp_debug.h"
#include "internal.h"
#include "timerheap.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(CSP_TSAN) || defined(CSP_ASAN)
#define TASK_STACK_SIZE (8u << 20)
#else
#define TASK_STACK_SIZE (1u << 20)
#endif

/* How long park() spins before sleeping: only worth it when the partner can
 * run on another CPU meanwhile; with one CPU, spinning only delays it. */
static _Atomic int park_spins = -1;

/* The process's CPUs (the main thread's affinity: `taskset -c 0 prog` gives
 * one; a thread pinning itself to one CPU still has partners elsewhere). */
static CSP_RT int park_spin_count(void)
{
    int n = atomic_load_explicit(&park_spins, memory_order_relaxed);
    if (n >= 0)
        return n;
    cpu_set_t set;
    n = sched_getaffinity(getpid(), sizeof set, &set) == 0 && CPU_COUNT(&set) > 1 ? 200 : 0;
    atomic_store_explicit(&park_spins, n, memory_order_relaxed);
    return n;
}

/* ---------------------------------------------------------------- Helpers */

static CSP_RT csp_duration threads_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (csp_duration)ts.tv_sec * CSP_SECOND + ts.tv_nsec;
}

/* The calling thread's stack, [*lo, *hi); left as they are if unknown. */
static CSP_RT void get_stack_bounds(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        *lo = (uintptr_t)addr;
        *hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&a);
}

static CSP_RT csp_task *threads_current(void) { return csp__current; }

/* An adopted thread leaves the registry when it exits (the key's destructor
 * runs at thread exit), so it never lingers as a phantom running task. */
static pthread_key_t adopted_key;
static pthread_once_t adopted_once = PTHREAD_ONCE_INIT;

static CSP_RT void adopted_exit(void *arg)
{
    csp_task *t = arg;
    atomic_store(&t->state, CSP_TASK_DEAD);
    csp__registry_remove(t);
    if (csp__current == t)
        csp__current = NULL;
    csp__task_free(t);
}

static CSP_RT void adopted_key_init(void) { pthread_key_create(&adopted_key, adopted_exit); }

static CSP_RT csp_task *threads_adopt(void)
{
    bool is_main = syscall(SYS_gettid) == getpid();
    csp_task *t = csp__task_alloc(is_main ? "main" : "thread");
    t->adopted = true;
    t->tid = (int)syscall(SYS_gettid);
    get_stack_bounds(&t->stack_lo, &t->stack_hi);
    csp__current = t;
    csp__registry_add(t);
    pthread_once(&adopted_once, adopted_key_init);
    pthread_setspecific(adopted_key, t);
    return t;
}

/* ------------------------------------------------------------------- Spawn */

/* Task threads are pooled, as Go keeps idle Ms: a thread whose task returned
 * waits on a bounded idle list for the next csp_go, which hands it the task
 * and wakes it; csp_go creates a thread only when the list is empty. An idle
 * thread exits after POOL_IDLE_NS without work, and at once when POOL_MAX_IDLE
 * threads already wait. Starting a thread costs a clone, a fresh stack to
 * fault in and, often, a malloc arena; a hand-off costs one futex wake.
 *
 * Invariants, under pool_lock: a worker is on the idle list iff `listed`;
 * pool_idle counts the list, and csp__runtime_threads counts each listed
 * worker as one of the runtime's own threads (so the harness's "OS threads
 * beyond the tasks and the runtime's" never counts an idle worker, and still
 * counts a program's own thread that never ends). A worker is listed only
 * after its last task's record is freed, and csp_go registers the task before
 * it takes a worker: at every instant a worker counts as a task, as idle, or
 * (briefly, while it moves between the two) as both or neither — never as a
 * leaked thread for longer than the harness's 100 ms of retries.
 * csp_go unlists a worker before it writes `task` and posts `wake`: a worker
 * that times out and finds itself unlisted has a task coming and waits for it.
 *
 * What a task does not inherit from the thread's previous task: csp__current,
 * the tid and stack bounds in its record, errno. A task that leaves its
 * thread with another signal mask or CPU affinity than the thread was made
 * with ends the thread instead of pooling it (as Go ends a thread whose
 * goroutine exits locked to it). The program's own thread-local variables keep
 * their values from task to task, as in any thread pool.
 *
 * Under ThreadSanitizer there is no pool: a thread per task, because TSan's
 * reports and its per-thread history name threads, and a reused thread would
 * merge two tasks' histories. Under AddressSanitizer the pool stays (the asan
 * preset passes); one caveat: an idle thread's timed exit is not tied to
 * anything the program does, and clang 14's ASan can hang a child forked
 * while another thread is on its way out (tests/testutil.c waits for such
 * threads before it forks, but not for one that times out just after). */
#ifdef CSP_TSAN
#define POOL_MAX_IDLE 0
#else
#define POOL_MAX_IDLE 256
#endif
#define POOL_IDLE_NS (1 * CSP_SECOND)

typedef struct pool_worker {
    /* Under pool_lock. */
    struct pool_worker *next, *prev;
    bool listed;
    /* Written by csp_go before it posts `wake`; read by the worker after. */
    csp_task *task;
    _Atomic int wake;            /* 0 none, 1 posted, 2 worker asleep: as a task's */
    /* The worker's own. */
    int tid;
    uintptr_t stack_lo, stack_hi;
    sigset_t sigmask;            /* as the thread was made */
    cpu_set_t cpus;
} pool_worker;

static csp_lock pool_lock = CSP_LOCK_INIT;
static pool_worker *pool_head;   /* most recently idle first: its stack is warm */
static int pool_idle;
static _Atomic int pool_idle_count;   /* pool_idle, for csp_debug_idle_threads */

static CSP_RT void pool_unlist(pool_worker *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        pool_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->next = w->prev = NULL;
    w->listed = false;
    pool_idle--;
    atomic_store_explicit(&pool_idle_count, pool_idle, memory_order_relaxed);
    atomic_fetch_sub(&csp__runtime_threads, 1);
}

/* An idle worker for csp_go, unlisted, or NULL. */
static CSP_RT pool_worker *pool_take(void)
{
    if (POOL_MAX_IDLE == 0 || !atomic_load_explicit(&pool_idle_count, memory_order_relaxed))
        return NULL;
    csp_lock_acquire(&pool_lock);
    pool_worker *w = pool_head;
    if (w)
        pool_unlist(w);
    csp_lock_release(&pool_lock);
    return w;
}

static CSP_RT void thread_state(sigset_t *mask, cpu_set_t *cpus)
{
    memset(mask, 0, sizeof *mask);
    memset(cpus, 0, sizeof *cpus);
    pthread_sigmask(SIG_BLOCK, NULL, mask);
    sched_getaffinity(0, sizeof *cpus, cpus);
}

/* Whether the thread is as it was made (the task changed nothing that the
 * next task would inherit and that we know of). */
static CSP_RT bool thread_unchanged(const pool_worker *w)
{
    sigset_t mask;
    cpu_set_t cpus;
    thread_state(&mask, &cpus);
    return !memcmp(&mask, &w->sigmask, sizeof mask) && !memcmp(&cpus, &w->cpus, sizeof cpus);
}

/* Lists w and waits for a task: true with w->task set, false when the worker
 * should end (the list is full, or it stayed idle for POOL_IDLE_NS). */
static CSP_RT bool pool_wait(pool_worker *w)
{
    csp_lock_acquire(&pool_lock);
    if (pool_idle >= POOL_MAX_IDLE) {
        csp_lock_release(&pool_lock);
        return false;
    }
    w->task = NULL;
    w->prev = NULL;
    w->next = pool_head;
    if (pool_head)
        pool_head->prev = w;
    pool_head = w;
    w->listed = true;
    pool_idle++;
    atomic_store_explicit(&pool_idle_count, pool_idle, memory_order_relaxed);
    atomic_fetch_add(&csp__runtime_threads, 1);
    csp_lock_release(&pool_lock);

    csp_duration deadline = threads_now() + POOL_IDLE_NS;
    bool forever = false;        /* unlisted by csp_go: the task is coming */
    for (;;) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&w->wake, &expected, 2) || expected == 2) {
            csp_duration left = deadline - threads_now();
            csp__futex_wait(&w->wake, 2, forever ? -1 : left > 0 ? left : 0);
        }
        if (atomic_load_explicit(&w->wake, memory_order_acquire) == 1)
            break;
        if (!forever && threads_now() >= deadline) {
            csp_lock_acquire(&pool_lock);
            bool listed = w->listed;
            if (listed)
                pool_unlist(w);
            csp_lock_release(&pool_lock);
            if (listed)
                return false;
            forever = true;
        }
    }
    atomic_store_explicit(&w->wake, 0, memory_order_relaxed);
    return true;
}

static CSP_RT void run_task(pool_worker *w, csp_task *t)
{
    csp__current = t;
    t->tid = w->tid;
    t->stack_lo = w->stack_lo;
    t->stack_hi = w->stack_hi;
    errno = 0;
    csp__event(CSP_DEBUG_EVENT_RUN, t->id, 0, NULL, NULL);
    t->fn(t->arg);
    csp__event(CSP_DEBUG_EVENT_EXIT, t->id, 0, NULL, NULL);
    csp_duration now = threads_now();
    if (csp__task_exit_hook)
        csp__task_exit_hook(t->id, now);
    atomic_store(&t->state, CSP_TASK_DEAD);
    atomic_store(&csp__last_task_exit, now);
    csp__registry_remove(t);   /* counts the exit as progress */
    csp__current = NULL;
    csp__task_free(t);
}

static CSP_RT void *task_thread_main(void *arg)
{
    pool_worker w;
    memset(&w, 0, sizeof w);
    w.task = arg;
    w.tid = (int)syscall(SYS_gettid);
    get_stack_bounds(&w.stack_lo, &w.stack_hi);
    if (POOL_MAX_IDLE > 0)
        thread_state(&w.sigmask, &w.cpus);
    for (;;) {
        run_task(&w, w.task);
        if (POOL_MAX_IDLE == 0 || !thread_unchanged(&w) || !pool_wait(&w))
            break;
    }
    return NULL;
}

/* The watchdog (below): started at the first csp_go or park. */
static _Atomic int watcher_started;
static CSP_RT void start_watcher(void);

static CSP_RT void threads_spawn(csp_task *t)
{
    if (!atomic_load_explicit(&watcher_started, memory_order_relaxed))
        start_watcher();
    pool_worker *w = pool_take();
    if (w) {
        w->task = t;
        if (atomic_exchange(&w->wake, 1) == 2)
            csp__futex_wake(&w->wake, 1);
        return;
    }
    pthread_attr_t a;
    pthread_t th;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, TASK_STACK_SIZE);
    int err = pthread_create(&th, &a, task_thread_main, t);
    pthread_attr_destroy(&a);
    if (err) {
        csp__registry_remove(t);
        const char *name = t->name;
        csp__task_free(t);
        csp_panic("csp_go: cannot start task \"%s\": %s", name, strerror(err));
    }
}

CSP_RT int csp_debug_idle_threads(void) { return atomic_load(&pool_idle_count); }

/* ------------------------------------------------------------- Watchdog */

/* The runtime alone, like Go's (DESIGN-level, issue 9.7): a program run
 * without the harness gets Go's two last-resort reports.
 *  - Every task blocked in the runtime, none in a syscall, no timer that
 *    could wake one, and no progress across three polls 50 ms apart:
 *    "fatal error: all tasks are asleep - deadlock!", the all-task dump on
 *    stderr, exit status 2. A thread that never called into the runtime is
 *    not a task and is not seen (as cgo threads are not, in Go).
 *  - SIGQUIT (when the program left it at its default): "SIGQUIT: quit",
 *    the dump, exit status 2 (GOTRACEBACK's default). Under ThreadSanitizer
 *    the signal can wait until the thread it landed on next enters one of
 *    TSan's interceptors (a task parked on the futex does not), so the dump
 *    may come late there.
 * The watcher is one thread, started at the first csp_go or park, never in
 * a supervised process (csp_debug_set_supervised: the harness, which judges
 * deadlocks itself, and whose parent must not start threads). */
static _Atomic int supervised;
static volatile sig_atomic_t quit_requested;

static CSP_RT void on_sigquit(int sig)
{
    (void)sig;
    quit_requested = 1;
}

static CSP_RT void *watcher_main(void *arg)
{
    (void)arg;
    uint64_t last = 0;
    int still = 0;
    struct timespec poll = { 0, 50 * 1000 * 1000 };
    for (;;) {
        nanosleep(&poll, NULL);
        if (atomic_load(&supervised))
            continue;
        if (quit_requested) {
            fflush(stdout);
            fprintf(stderr, "SIGQUIT: quit\n\n");
            csp__dump_tasks(stderr);
            fflush(stderr);
            _exit(2);
        }
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        bool asleep = q.tasks > 0 && q.running == 0 && q.syscalls == 0 && q.wakeable_timers == 0;
        still = asleep ? (q.progress == last ? still + 1 : 1) : 0;
        last = q.progress;
        if (still >= 3) {
            fflush(stdout);
            fprintf(stderr, "fatal error: all tasks are asleep - deadlock!\n\n");
            csp__dump_tasks(stderr);
            fflush(stderr);
            _exit(2);
        }
    }
    return NULL;
}

static CSP_RT void start_watcher(void)
{
    int expected = 0;
    if (atomic_load_explicit(&watcher_started, memory_order_relaxed) || atomic_load(&supervised) ||
        !atomic_compare_exchange_strong(&watcher_started, &expected, 1))
        return;
    struct sigaction old;
    if (sigaction(SIGQUIT, NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
        !(old.sa_flags & SA_SIGINFO)) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigquit;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGQUIT, &sa, NULL);
    }
    pthread_attr_t a;
    pthread_t th;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256u << 10);
    if (pthread_create(&th, &a, watcher_main, NULL) == 0)
        atomic_fetch_add(&csp__runtime_threads, 1);
    pthread_attr_destroy(&a);
}

CSP_RT void csp_debug_set_supervised(bool on) { atomic_store(&supervised, on ? 1 : 0); }

/* ----------------------------------------------------------- Park / ready */

static CSP_RT void threads_park(void (*unlock)(void *), void *arg)
{
    csp_task *t = csp__current;
    if (!atomic_load_explicit(&watcher_started, memory_order_relaxed))
        start_watcher();
    atomic_store(&t->state, CSP_TASK_PARKED);
    if (unlock)
        unlock(arg);
    /* Spin briefly: a partner on the other core often answers within a
     * few microseconds, much sooner than a futex sleep and wake. */
    int spins = park_spin_count();
    for (int i = 0; i < spins; i++) {
        if (atomic_load_explicit(&t->wake, memory_order_acquire) == 1)
            goto consumed;
        csp__cpu_relax();
    }
    /* One CPU: the partner cannot answer while we spin, but it is often
     * runnable (we just woke it, or it was preempted mid-operation). Letting
     * it run first saves a futex sleep and wake when it answers at once. */
    for (int i = 0; spins == 0 && i < 2; i++) {
        if (atomic_load_explicit(&t->wake, memory_order_acquire) == 1)
            goto consumed;
        sched_yield();
    }
    for (;;) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&t->wake, &expected, 2) || expected == 2)
            csp__futex_wait(&t->wake, 2, -1);
        if (atomic_load_explicit(&t->wake, memory_order_acquire) == 1)
            break;
    }
consumed:
    atomic_store_explicit(&t->wake, 0, memory_order_relaxed);
    atomic_store(&t->state, CSP_TASK_RUNNING);
    csp__event(CSP_DEBUG_EVENT_RUN, t->id, 0, NULL, NULL);
}

static CSP_RT void threads_ready(csp_task *t)
{
    if (atomic_exchange(&t->wake, 1) == 2)
        csp__futex_wake(&t->wake, 1);
}

/* ------------------------------------------------------------------ Noise */

/* Optional schedule noise at sync points (free mode): a permille chance of a
 * yield or a short sleep. Off unless the harness turns it on. */
static _Atomic unsigned noise_permille;

CSP_RT void csp__threads_set_noise(unsigned permille)
{
    atomic_store(&noise_permille, permille > 1000 ? 1000 : permille);
}

/* Stack requests answered at scheduling points (csp_debug_stack_request):
 * by the task asked for, on the thread asked for. The tid alone would not do:
 * a pooled thread may run another task by the time it answers. */
static _Atomic int stack_want_tid;
static _Atomic uint64_t stack_want_task;
static _Atomic int stack_answer_n;
static uintptr_t stack_answer[CSP_MAX_PCS];

CSP_RT void csp_debug_stack_request(int tid, uint64_t task)
{
    atomic_store(&stack_answer_n, 0);
    atomic_store(&stack_want_task, task);
    atomic_store(&stack_want_tid, tid);
}

CSP_RT int csp_debug_stack_answer(uintptr_t *pcs, int max)
{
    int n = atomic_load(&stack_answer_n);
    for (int i = 0; i < n && i < max; i++)
        pcs[i] = ((volatile uintptr_t *)stack_answer)[i];
    return n < max ? n : max;
}

static CSP_RT __attribute__((noinline)) void answer_stack_request(void)
{
    if (atomic_load(&stack_want_task) != csp__current->id)
        return;
    int expected = csp__current->tid;
    if (!atomic_compare_exchange_strong(&stack_want_tid, &expected, 0))
        return;
    int n = csp__capture_stack(stack_answer, CSP_MAX_PCS, 1);
    atomic_store(&stack_answer_n, n > 0 ? n : 1);
}

static CSP_RT void threads_point(enum csp_point p)
{
    /* One relaxed load on the hot path; a request is rare. */
    if (atomic_load_explicit(&stack_want_tid, memory_order_relaxed) && csp__current &&
        atomic_load_explicit(&stack_want_tid, memory_order_relaxed) == csp__current->tid)
        answer_stack_request();
    unsigned n = atomic_load_explicit(&noise_permille, memory_order_relaxed);
    if (n == 0 || p == CSP_POINT_YIELD) {
        if (p == CSP_POINT_YIELD)
            sched_yield();
        return;
    }
    uint64_t r = csp__rand(csp__current);
    if (r % 1000 < n) {
        if (r & (1u << 20))
            sched_yield();
        else
            usleep((useconds_t)((r >> 32) % 200));
    }
}

static __thread uint64_t foreign_rng = 0x853c49e6748fea9bull;

static CSP_RT size_t threads_choose(size_t k, enum csp_choice what)
{
    (void)what;
    if (k <= 1)
        return 0;
    csp_task *t = csp__current;
    uint64_t r;
    if (t) {
        r = csp__rand(t);
    } else {
        uint64_t x = foreign_rng;
        x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
        foreign_rng = x;
        r = x * 0x2545f4914f6cdd1dull;
    }
    return (size_t)((r >> 11) % k);
}

/* ----------------------------------------------------------------- Timers */

static csp_lock timer_lock = CSP_LOCK_INIT;
static csp_timerheap heap;        /* under timer_lock */
static bool timer_thread_running;
static _Atomic int timer_wake_word;

/* Fires every timer due at the earliest deadline, in a chosen order. */
static CSP_RT void fire_due_batch(csp_duration now)
{
    csp_timer *batch[64];
    size_t n = csp__th_pop_earliest(&heap, batch, 64);
    while (n > 0) {
        size_t i = n > 1 ? threads_choose(n, CSP_CHOOSE_TIMER) : 0;
        csp_timer *tm = batch[i];
        batch[i] = batch[--n];
        /* Decide before firing: a sleep timer lives on the sleeper's stack,
         * which may be gone the moment the fire readies it. */
        bool periodic = tm->period > 0;
        csp__timer_fire(tm, now);
        if (periodic && tm->heap_index < 0)
            csp__th_rearm(&heap, tm, now);
    }
}

static CSP_RT void *timer_thread_main(void *arg)
{
    (void)arg;
    csp_lock_acquire(&timer_lock);
    for (;;) {
        csp_duration now = threads_now();
        while (heap.len > 0 && heap.a[0]->when <= now)
            fire_due_batch(now);
        int64_t timeout = heap.len > 0 ? heap.a[0]->when - now : -1;
        int seen = atomic_load(&timer_wake_word);
        csp_lock_release(&timer_lock);
        csp__futex_wait(&timer_wake_word, seen, timeout);
        csp_lock_acquire(&timer_lock);
    }
    return NULL;
}

/* Under timer_lock. */
static CSP_RT void start_timer_thread(void)
{
    if (timer_thread_running)
        return;
    pthread_attr_t a;
    pthread_t th;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 256u << 10);
    int err = pthread_create(&th, &a, timer_thread_main, NULL);
    pthread_attr_destroy(&a);
    if (err) {
        fprintf(stderr, "chanlab runtime: cannot start the timer thread: %s\n", strerror(err));
        abort();
    }
    timer_thread_running = true;
    atomic_fetch_add(&csp__runtime_threads, 1);
}

static CSP_RT void threads_timer_arm(csp_timer *tm)
{
    csp_lock_acquire(&timer_lock);
    CSP_ASSERT(tm->heap_index < 0);
    csp__th_push(&heap, tm);
    start_timer_thread();
    bool first = heap.a[0] == tm;
    csp_lock_release(&timer_lock);
    if (first) {
        atomic_fetch_add(&timer_wake_word, 1);
        csp__futex_wake(&timer_wake_word, 1);
    }
}

static CSP_RT bool threads_timer_disarm(csp_timer *tm)
{
    csp_lock_acquire(&timer_lock);
    bool armed = tm->heap_index >= 0;
    if (armed)
        csp__th_remove(&heap, tm);
    /* A periodic timer being fired right now is not in the heap; marking it
     * with period 0 would race with the fire loop, which holds timer_lock —
     * so it cannot be firing now: we hold the lock. */
    csp_lock_release(&timer_lock);
    return armed;
}

/* The armed timers, for leak checks: calls fn for each, under timer_lock. */
static CSP_RT void threads_timer_foreach(void (*fn)(const csp_timer *tm, void *arg), void *arg)
{
    csp_lock_acquire(&timer_lock);
    for (size_t i = 0; i < heap.len; i++)
        fn(heap.a[i], arg);
    csp_lock_release(&timer_lock);
}

/* ------------------------------------------------------------------ Panic */


/* ------------------------------------------------------------------- Fork */

/* Lock order: timers, objects (channels, wait groups, mutexes), registry,
 * the pool (a leaf: nothing is taken while it is held). */
static CSP_RT void fork_prepare(void)
{
    csp_lock_acquire(&timer_lock);
    csp__objects_fork_prepare();
    csp__registry_lock();
    csp_lock_acquire(&pool_lock);
}

static CSP_RT void fork_parent(void)
{
    csp_lock_release(&pool_lock);
    csp__registry_unlock();
    csp__objects_fork_parent();
    csp_lock_release(&timer_lock);
}

/* In the child: sleep timers belong to the parent's other tasks, and live on
 * their stacks, which the child's new threads will reuse. Drop them. */
static CSP_RT bool is_sleep_timer(const csp_timer *tm) { return tm->kind == CSP_TIMER_WAKE; }

static CSP_RT void fork_child(void)
{
    csp_task *self = csp__current;
    if (self)
        self->tid = (int)syscall(SYS_gettid);
    csp__registry_after_fork_child(self);
    csp__objects_fork_child();
    csp__th_filter(&heap, is_sleep_timer);
    atomic_store(&park_spins, -1);   /* the child may have other CPUs */
    park_spin_count();
    atomic_store(&timer_lock.v, 0);
    /* The idle workers did not come along (a worker running the forking
     * task did: it is not on the list). */
    pool_head = NULL;
    pool_idle = 0;
    atomic_store(&pool_idle_count, 0);
    atomic_store(&pool_lock.v, 0);
    timer_thread_running = false;
    atomic_store(&csp__runtime_threads, 0);
    atomic_store(&watcher_started, 0);   /* the watcher did not come along */
    if (heap.len > 0) {
        csp_lock_acquire(&timer_lock);
        start_timer_thread();
        csp_lock_release(&timer_lock);
    }
}

__attribute__((constructor)) static CSP_RT void threads_backend_init(void)
{
    park_spin_count();   /* before any thread pins itself */
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

const csp_backend csp__threads_backend = {
    .name = "threads",
    .current = threads_current,
    .adopt = threads_adopt,
    .spawn = threads_spawn,
    .park = threads_park,
    .ready = threads_ready,
    .point = threads_point,
    .now = threads_now,
    .timer_arm = threads_timer_arm,
    .timer_disarm = threads_timer_disarm,
    .timer_foreach = threads_timer_foreach,
    .choose = threads_choose,
    .panic = csp__panic_abort,
};
