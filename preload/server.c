/* server.c — the fork server of libchanlab_exec.so and its wire to
 * `chanlab exec` (exec_wire.h).
 *
 * The program is started once, with this library preloaded. Its _start
 * calls __libc_start_main, which we stand in front of: there, before the
 * program's own constructors and main, the process is still single-threaded
 * and becomes the server. For every schedule it forks a child; the child
 * takes the baton as thread 1 and goes on into the real __libc_start_main
 * (constructors, main) under control, its stdout and stderr going to memory
 * files. The strategy's state (harness/src/strategy.c, the same code and
 * schedule strings as controlled mode) lives in the server; each child
 * inherits it by fork and leaves its decisions in a shared mapping, from
 * which the server plans the next schedule (PCT's length estimate,
 * EXHAUSTIVE's backtracking). The server judges each run (the child's own
 * ending, its wait status, its stderr, its stdout against the first run's)
 * and sends the first failing run, or the last, to chanlab.
 *
 * Sanitizers (DESIGN §9). The interposers reach libc through
 * dlsym(RTLD_NEXT), i.e. the next definition after this library:
 *  - clang links ThreadSanitizer's runtime into the executable, which comes
 *    before any preloaded library: the program's pthread_mutex_lock is
 *    TSan's interceptor, whose REAL(pthread_mutex_lock) (its own dlsym
 *    RTLD_NEXT) is ours, and ours calls libc's. TSan sees every call as
 *    the program made it and records its happens-before edges; our hand-off
 *    is raw futexes, which TSan does not see, so it adds no edge of its own
 *    and races between threads stay visible. When the model grants a lock
 *    the real object is locked too, uncontended: whichever of us stands
 *    first, the lock a sanitizer sees is a real, successful one.
 *  - TSan's pthread_create waits for the new thread to have started
 *    (its ThreadStart) before it returns; our trampoline sits outside
 *    TSan's start function and would wait for the baton first, so for
 *    TSan's start routine the new thread is let through to the program's
 *    start routine, where it waits (see sync.c, pthread_create).
 *  - ASan's interceptors stand in front of ours the same way; ASan checks
 *    that its runtime comes first in the library list, which a statically
 *    linked runtime (clang's default) always does.
 *  - A sanitizer's report goes to stderr, which the server reads: TSan's
 *    "WARNING: ThreadSanitizer:" is RACE, ASan's and UBSan's errors CRASH.
 *  - The server forks through the first "fork" in the global scope (TSan's
 *    interceptor when present), so a sanitizer's runtime keeps its state
 *    consistent in the child. */
#include "internal.h"
#include "strategy.h"

#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

exec_real exec__real;
bool exec__controlled;
bool exec__spurious = true;
exec_shared *exec__shared;
static harness_decision *shared_dec;   /* the decision record of the run (slot) in this child */
static size_t shared_cap;
static harness_strategy_state st;
static pid_t (*server_fork)(void);

#define SIG_SPIN (SIGRTMAX - 3)

/* ------------------------------------------------------------- Resolving */

#define R(field, name) exec__real.field = dlsym(RTLD_NEXT, name)

void exec__resolve(void)
{
    if (exec__real.mutex_lock)
        return;
    R(create, "pthread_create"); R(join, "pthread_join"); R(detach, "pthread_detach");
    R(exit, "pthread_exit");
    R(mutex_init, "pthread_mutex_init"); R(mutex_trylock, "pthread_mutex_trylock");
    R(mutex_unlock, "pthread_mutex_unlock");
    R(cond_init, "pthread_cond_init"); R(cond_wait, "pthread_cond_wait");
    R(cond_timedwait, "pthread_cond_timedwait"); R(cond_signal, "pthread_cond_signal");
    R(cond_broadcast, "pthread_cond_broadcast");
    R(rw_rdlock, "pthread_rwlock_rdlock"); R(rw_wrlock, "pthread_rwlock_wrlock");
    R(rw_tryrdlock, "pthread_rwlock_tryrdlock"); R(rw_trywrlock, "pthread_rwlock_trywrlock");
    R(rw_unlock, "pthread_rwlock_unlock");
    R(sem_init, "sem_init"); R(sem_wait, "sem_wait"); R(sem_trywait, "sem_trywait");
    R(sem_timedwait, "sem_timedwait"); R(sem_post, "sem_post"); R(sem_getvalue, "sem_getvalue");
    R(barrier_init, "pthread_barrier_init"); R(barrier_wait, "pthread_barrier_wait");
    R(spin_lock, "pthread_spin_lock"); R(spin_trylock, "pthread_spin_trylock");
    R(spin_unlock, "pthread_spin_unlock");
    R(once, "pthread_once"); R(sched_yield, "sched_yield");
    R(clock_gettime, "clock_gettime"); R(nanosleep, "nanosleep"); R(clock_nanosleep, "clock_nanosleep");
    R(sleep, "sleep"); R(usleep, "usleep");
    R(exit_process, "exit");
    R(libc_start_main, "__libc_start_main");
    /* fork: our interposer's is libc's (a sanitizer's fork interceptor in
     * front of us calls it as its REAL fork); the server's own is the first
     * in the global scope that is not ours (that interceptor, if any). */
    R(fork, "fork");
    void *f = dlsym(RTLD_DEFAULT, "fork");
    Dl_info a, b;
    if (!f || (dladdr(f, &a) && dladdr((void *)exec__resolve, &b) && a.dli_fbase == b.dli_fbase))
        f = (void *)exec__real.fork;
    server_fork = (pid_t (*)(void))f;
    R(mutex_lock, "pthread_mutex_lock");   /* last: the "resolved" flag */
}

/* -------------------------------------------------- What strategy.c needs */

void *csp_tool_alloc(size_t n)
{
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *csp_tool_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

void csp_tool_free(void *p) { free(p); }

void harness__buf_putn(harness_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->buf = csp_tool_realloc(b->buf, cap);
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

void harness__buf_puts(harness_buf *b, const char *s) { harness__buf_putn(b, s, strlen(s)); }

void harness__buf_printf(harness_buf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        harness__buf_putn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ------------------------------------------------ The run's strategy hooks */

size_t exec__decide(csp_decision_kind kind, size_t n, const uint64_t *ids, int current)
{
    size_t pick = st.hooks.decide(st.hooks.ctx, kind, n, ids, current);
    if (pick >= n)
        exec__end_run(EXEC_END_ERROR, st.error ? st.error : "the strategy stopped the run");
    return pick;
}

void exec__spawned(uint64_t id)
{
    if (st.hooks.spawned)
        st.hooks.spawned(st.hooks.ctx, id);
}

uint64_t exec__step_limit(void) { return harness__strategy_step_limit(&st); }

void exec__note_decision(void)
{
    exec_shared *sh = exec__shared;
    if (st.ndec > shared_cap)
        exec__end_run(EXEC_END_ERROR, "more decisions than the schedule record holds");
    if (st.ndec)
        shared_dec[st.ndec - 1] = st.dec[st.ndec - 1];
    sh->ndec = st.ndec;
    sh->decisions = st.ndec;
    sh->pct_step = st.pct_step;
}

/* ---------------------------------------------------------------- Config */

typedef struct {
    int fd;
    harness_strategy strategy;
    unsigned schedules;
    uint64_t seed, max_steps;
    int64_t timeout_ms, spin_ms;
    const char *replay;
    unsigned preemption_bound, pct_depth;
} exec_config;

static bool parse_config(char *s, exec_config *c)
{
    *c = (exec_config){ .fd = -1, .strategy = HARNESS_RANDOM, .schedules = 100, .seed = 1,
                        .max_steps = 100000, .timeout_ms = 10000, .spin_ms = 2000,
                        .preemption_bound = 2, .pct_depth = 3 };
    for (char *save = NULL, *tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return false;
        *eq++ = 0;
        if (!strcmp(tok, "fd"))
            c->fd = atoi(eq);
        else if (!strcmp(tok, "strategy"))
            c->strategy = !strcmp(eq, "pct") ? HARNESS_PCT : !strcmp(eq, "exhaustive") ? HARNESS_EXHAUSTIVE
                                                                                      : HARNESS_RANDOM;
        else if (!strcmp(tok, "schedules"))
            c->schedules = (unsigned)strtoul(eq, NULL, 10);
        else if (!strcmp(tok, "seed"))
            c->seed = strtoull(eq, NULL, 10);
        else if (!strcmp(tok, "max_steps"))
            c->max_steps = strtoull(eq, NULL, 10);
        else if (!strcmp(tok, "timeout_ms"))
            c->timeout_ms = strtoll(eq, NULL, 10);
        else if (!strcmp(tok, "spin_ms"))
            c->spin_ms = strtoll(eq, NULL, 10);
        else if (!strcmp(tok, "replay"))
            c->replay = eq;
        else if (!strcmp(tok, "preemption_bound"))
            c->preemption_bound = (unsigned)strtoul(eq, NULL, 10);
        else if (!strcmp(tok, "spurious"))
            exec__spurious = atoi(eq) != 0;
    }
    return c->fd >= 0 && c->schedules >= 1;
}

/* ------------------------------------------------------------ The child */

/* A thread past the spin bound: its stack, taken where it runs. */
static void on_spin_signal(int sig)
{
    (void)sig;
    exec__shared->spin_npcs = exec__backtrace(exec__shared->spin_pcs, EXEC_MAX_PCS);
    /* This thread holds the baton: the others, parked, write their stacks. */
    exec__record_threads(true);
    void exec__describe_waits(exec_shared *sh);
    exec__describe_waits(exec__shared);
    atomic_store(&exec__shared->spin_captured, 1);
}

/* A crash: the faulting thread's stack, every thread's state; then the
 * signal's default action. */
static void on_crash(int sig)
{
    exec_xthread *me = exec__me();
    if (me)
        me->npcs = exec__backtrace(me->pcs, EXEC_MAX_PCS);
    exec__record_threads(false);
    void exec__describe_waits(exec_shared *sh);
    exec__describe_waits(exec__shared);
    signal(sig, SIG_DFL);
    raise(sig);
}

void exec__sched_init(void);

/* One CPU for the whole child: a hand-off is then a context switch on
 * that CPU, not a wake-up sent to another (several times cheaper). */
static void pin(unsigned run)
{
    cpu_set_t all, one;
    if (sched_getaffinity(0, sizeof all, &all) != 0 || CPU_COUNT(&all) < 1)
        return;
    int k = (int)(run % (unsigned)CPU_COUNT(&all));
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &all) && k-- == 0) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            sched_setaffinity(0, sizeof one, &one);
            return;
        }
}

/* Standard input redirected from a file: every schedule reads it from where
 * the program found it (its own open file, its own offset), not from where
 * the schedule before left the shared one. A pipe or a terminal stays shared
 * (its contents can be read once only). */
static off_t stdin_start = -1;

static void child_stdin(void)
{
    if (stdin_start < 0)
        return;
    int fd = open("/proc/self/fd/0", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    lseek(fd, stdin_start, SEEK_SET);
    dup2(fd, 0);   /* dup2's copy is not close-on-exec */
    close(fd);
}

static void child_setup(int out, int err, unsigned run)
{
    pin(run);
    child_stdin();
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    exec__controlled = true;
    exec__clock_init();
    exec__sched_init();
    struct sigaction sa = { .sa_handler = on_spin_signal };
    sigaction(SIG_SPIN, &sa, NULL);
    static const int crash[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    for (size_t i = 0; i < sizeof crash / sizeof *crash; i++) {
        struct sigaction old;
        if (sigaction(crash[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            struct sigaction c = { .sa_handler = on_crash, .sa_flags = SA_NODEFER };
            sigaction(crash[i], &c, NULL);
        }
    }
}

/* ----------------------------------------------------------- The server */

static double now_s(void)
{
    struct timespec t;
    exec__real.clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Waits for the child; a child past the spin or wall bound gets its running
 * thread's stack taken and is killed. Returns the ending the server saw
 * (EXIT unless it killed the child). */
/* The CPU time the child has used, in seconds (wall time if unreadable). */
static double cpu_s(clockid_t cid, bool have)
{
    struct timespec t;
    if (!have || exec__real.clock_gettime(cid, &t) != 0)
        return now_s();
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The spin bound counts the child's CPU time since its last scheduling
 * point, not wall time: on a loaded machine a child that is merely not
 * scheduled is not spinning. (A thread blocked outside pthreads uses no CPU:
 * the wall-clock timeout catches it.) */
static uint32_t wait_child(pid_t pid, int *status, const exec_config *c)
{
    int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
    clockid_t cid;
    bool have_cpu = clock_getcpuclockid(pid, &cid) == 0;
    double start = now_s(), last_change = cpu_s(cid, have_cpu);
    uint64_t last_steps = 0;
    for (;;) {
        if (pfd >= 0) {
            struct pollfd p = { pfd, POLLIN, 0 };
            poll(&p, 1, 20);
        } else {
            struct timespec ts = { 0, 200000 };
            exec__real.nanosleep(&ts, NULL);
        }
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid) {
            if (pfd >= 0)
                close(pfd);
            return EXEC_END_EXIT;
        }
        double t = now_s(), cpu = cpu_s(cid, have_cpu);
        uint64_t s = atomic_load(&exec__shared->steps);
        if (s != last_steps) {
            last_steps = s;
            last_change = cpu;
        }
        bool spin = c->spin_ms > 0 && (cpu - last_change) * 1000 > (double)c->spin_ms;
        bool wall = c->timeout_ms > 0 && (t - start) * 1000 > (double)c->timeout_ms;
        if (spin || wall) {
            pid_t tid = atomic_load(&exec__shared->running_tid);
            if (tid > 0)
                syscall(SYS_tgkill, pid, tid, SIG_SPIN);
            for (int i = 0; i < 100 && !atomic_load(&exec__shared->spin_captured); i++) {
                struct timespec ts = { 0, 2000000 };
                exec__real.nanosleep(&ts, NULL);
            }
            kill(pid, SIGKILL);
            waitpid(pid, status, 0);
            if (pfd >= 0)
                close(pfd);
            return spin ? EXEC_END_SPIN : EXEC_END_TIMEOUT;
        }
    }
}

static char *read_file(int fd, size_t *len)
{
    off_t n = lseek(fd, 0, SEEK_END);
    char *buf = malloc((size_t)(n > 0 ? n : 0) + 1);
    size_t got = 0;
    if (buf && n > 0) {
        while (got < (size_t)n) {
            ssize_t k = pread(fd, buf + got, (size_t)n - got, (off_t)got);
            if (k <= 0)
                break;
            got += (size_t)k;
        }
    }
    if (buf)
        buf[got] = 0;
    *len = got;
    return buf;
}

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        c += k;
        n -= (size_t)k;
    }
}

/* The tail of a text at most max long (a report needs the end of stderr). */
static const char *tail(const char *s, size_t n, size_t max, size_t *out)
{
    *out = n > max ? max : n;
    return s + (n - *out);
}

static uint32_t judge(const exec_shared *sh, uint32_t ending, int status, const char *err,
                      uint64_t outhash, bool have_ref, uint64_t refhash)
{
    if (ending == EXEC_END_DEADLOCK)
        return HARNESS_DEADLOCK;
    if (ending == EXEC_END_STEPS || ending == EXEC_END_SPIN || ending == EXEC_END_TIMEOUT)
        return HARNESS_HANG;
    /* TSan's lock-order report is a deadlock waiting to happen; its other
     * reports (data races above all) are races. */
    if (strstr(err, "WARNING: ThreadSanitizer: lock-order-inversion"))
        return HARNESS_DEADLOCK;
    if (strstr(err, "WARNING: ThreadSanitizer:"))
        return HARNESS_RACE;
    if (strstr(err, "ERROR: AddressSanitizer") || strstr(err, "ERROR: LeakSanitizer") ||
        strstr(err, "runtime error:"))
        return HARNESS_CRASH;
    if (WIFSIGNALED(status))
        return HARNESS_CRASH;
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return HARNESS_WRONG_RESULT;
    if (sh->leaked)
        return HARNESS_LEAK;
    if (have_ref && outhash != refhash)
        return HARNESS_NONDETERMINISTIC;
    return HARNESS_PASS;
}

static void send_report(int fd, const exec_summary *sum, const exec_thread *threads, const char *sched,
                        const char *expl, const char *note, const char *out, const char *err,
                        const char *ref)
{
    write_all(fd, sum, sizeof *sum);
    write_all(fd, threads, sum->nthreads * sizeof *threads);
    write_all(fd, sched, sum->len_schedule);
    write_all(fd, expl, sum->len_explicit);
    write_all(fd, note, sum->len_note);
    write_all(fd, out, sum->len_stdout);
    write_all(fd, err, sum->len_stderr);
    write_all(fd, ref, sum->len_refout);
}

#define TEXT_MAX (64 * 1024)

/* A schedule in flight: its child, and the shared page, decision record and
 * output files it writes. Random and PCT runs are independent of each other,
 * so several are in flight at once (two per CPU); EXHAUSTIVE plans each run from
 * the last, and a replay is one run, so they run one at a time. Runs are
 * begun and finished in order — run i+2 begins after run i has finished —
 * so what the strategy learns (PCT's length estimate) is the same however
 * the children are timed, and a search is reproducible from its seed.
 * CHANLAB_EXEC_DEPTH overrides the number in flight (for measurements). */
typedef struct {
    pid_t pid;
    unsigned run;
    exec_shared *shared;
    harness_decision *dec;
    int outfd, errfd;
    char *schedule;            /* the short form, taken when the run began */
} exec_slot;

#define SLOTS 8

static bool slot_init(exec_slot *sl)
{
    memset(sl, 0, sizeof *sl);
    sl->shared = mmap(NULL, sizeof *sl->shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sl->dec = mmap(NULL, shared_cap * sizeof *sl->dec, PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    sl->outfd = memfd_create("chanlab-stdout", 0);
    sl->errfd = memfd_create("chanlab-stderr", 0);
    return sl->shared != MAP_FAILED && sl->dec != MAP_FAILED && sl->outfd >= 0 && sl->errfd >= 0;
}

static void copy_decisions(const exec_slot *sl)
{
    size_t n = (size_t)sl->shared->ndec;
    if (n > st.capdec) {
        st.dec = csp_tool_realloc(st.dec, n * sizeof *st.dec);
        st.capdec = n;
    }
    memcpy(st.dec, sl->dec, n * sizeof *st.dec);
    st.ndec = n;
    st.pct_step = sl->shared->pct_step;
}

/* Begins run `run` in slot sl; returns in the child only (true). */
static bool start(exec_slot *sl, unsigned run, int wire)
{
    harness__strategy_begin_run(&st, run);
    free(sl->schedule);
    sl->schedule = harness__schedule_short(&st);
    sl->run = run;
    memset(sl->shared, 0, offsetof(exec_shared, threads));
    /* Emptied, and the shared offset back at 0 (the children write
     * through the server's open file description). */
    if (ftruncate(sl->outfd, 0) != 0 || ftruncate(sl->errfd, 0) != 0)
        _exit(2);
    lseek(sl->outfd, 0, SEEK_SET);
    lseek(sl->errfd, 0, SEEK_SET);
    exec__shared = sl->shared;
    shared_dec = sl->dec;
    fflush(NULL);
    sl->pid = server_fork();
    if (sl->pid == 0) {
        close(wire);
        child_setup(sl->outfd, sl->errfd, run);
        return true;
    }
    return false;
}

typedef struct {
    uint32_t verdict, ending;
    int status;
    const char *error;
    char *out, *err;
    size_t nout, nerr;
    uint64_t hash;
} exec_outcome;

/* Waits for the slot's child and judges its run. */
static void finish(exec_slot *sl, const exec_config *c, exec_outcome *oc, bool have_ref, uint64_t refhash)
{
    exec__shared = sl->shared;
    memset(oc, 0, sizeof *oc);
    oc->ending = sl->pid < 0 ? EXEC_END_ERROR : wait_child(sl->pid, &oc->status, c);
    if (oc->ending == EXEC_END_EXIT && sl->shared->ending)
        oc->ending = sl->shared->ending;
    copy_decisions(sl);
    oc->out = read_file(sl->outfd, &oc->nout);
    oc->err = read_file(sl->errfd, &oc->nerr);
    oc->hash = hash(oc->out, oc->nout);
    if (oc->ending == EXEC_END_ERROR)
        oc->error = sl->shared->error[0] ? sl->shared->error : "fork failed";
    if (!oc->error && st.replaying_explicit && st.ndec < st.nprefix) {
        snprintf(st.errbuf, sizeof st.errbuf,
                 "the schedule does not fit the program: the run ended after %zu decisions, "
                 "the schedule has %zu", st.ndec, st.nprefix);
        oc->error = st.errbuf;
        oc->ending = EXEC_END_ERROR;
    }
    oc->verdict = oc->error ? HARNESS_PASS
                            : judge(sl->shared, oc->ending, oc->status, oc->err, oc->hash, have_ref, refhash);
}

static void report(int wire, exec_slot *sl, const exec_outcome *oc, unsigned schedules_run, bool exhausted,
                   double seconds, const exec_config *c, const char *ref, size_t nref)
{
    exec_shared *sh = sl->shared;
    char *expl = oc->error ? strdup("") : harness__schedule_explicit(&st);
    /* Random and PCT runs have a short name, taken when the run began; any
     * other run is named by its decisions. */
    bool short_form = !st.replaying_explicit && (st.strategy == HARNESS_RANDOM || st.strategy == HARNESS_PCT);
    const char *sched = oc->error ? "" : short_form ? sl->schedule : expl;
    exec_summary sum = { .magic = EXEC_WIRE_MAGIC, .preemption_bound = c->preemption_bound };
    sum.verdict = oc->verdict;
    sum.schedules_run = schedules_run;
    sum.run = sl->run;
    sum.ending = oc->ending;
    sum.status = oc->status;
    sum.exhausted = exhausted;
    sum.leaked = sh->leaked;
    sum.nthreads = oc->verdict == HARNESS_PASS ? 0 : sh->nthreads;
    sum.steps = atomic_load(&sh->steps);
    sum.decisions = sh->decisions;
    sum.vtime_ns = sh->vtime;
    sum.seconds = seconds;
    if (oc->ending == EXEC_END_SPIN || oc->ending == EXEC_END_TIMEOUT) {
        sum.spinning = atomic_load(&sh->running_id);
        if (!atomic_load(&sh->spin_captured)) {   /* the signal was not served */
            sh->nthreads = 1;
            memset(&sh->threads[0], 0, sizeof sh->threads[0]);
            sh->threads[0].id = sum.spinning;
        }
        sum.nthreads = sh->nthreads;
        for (uint32_t k = 0; k < sum.nthreads; k++) {
            exec_thread *r = &sh->threads[k];
            if (r->id == sum.spinning) {
                r->state = EXEC_T_RUNNING;
                r->npcs = sh->spin_npcs;
                memcpy(r->pcs, sh->spin_pcs, sizeof r->pcs);
            }
        }
    }
    size_t lo, le, lr;
    const char *to = tail(oc->out, oc->nout, TEXT_MAX, &lo), *te = tail(oc->err, oc->nerr, TEXT_MAX, &le);
    const char *tr = tail(ref ? ref : "", ref ? nref : 0, TEXT_MAX, &lr);
    if (oc->verdict != HARNESS_NONDETERMINISTIC)
        lr = 0;
    sum.len_schedule = (uint32_t)strlen(sched);
    sum.len_explicit = (uint32_t)strlen(expl);
    sum.len_note = oc->error ? (uint32_t)strlen(oc->error) : 0;
    sum.len_stdout = (uint32_t)lo;
    sum.len_stderr = (uint32_t)le;
    sum.len_refout = (uint32_t)lr;
    send_report(wire, &sum, sh->threads, sched, expl, oc->error ? oc->error : "", to, te, tr);
    free(expl);
}

/* Runs every schedule; returns in the child only. */
static void serve(exec_config *c)
{
    exec_hello hello = { EXEC_WIRE_MAGIC, getpid(), 0 };
    write_all(c->fd, &hello, sizeof hello);
    /* What strategy.c reads of harness_options (harness_defaults' values
     * where chanlab exec has no option of its own). */
    harness_options o;
    memset(&o, 0, sizeof o);
    o.mode = HARNESS_CONTROLLED;
    o.pct_depth = c->pct_depth;
    o.choice_bound = 2;
    o.strategy = c->strategy;
    o.seed = c->seed;
    o.schedules = c->schedules;
    o.max_steps = c->max_steps;
    o.preemption_bound = c->preemption_bound;
    /* No partial-order reduction: the reduction needs what each step
     * touched (csp_sched_hooks.access), which this scheduler does not
     * report yet; without it every step would look independent. */
    o.no_reduction = true;
    harness__strategy_init(&st, &o);
    const char *perr = c->replay ? harness__schedule_parse(c->replay, &st) : NULL;
    shared_cap = (size_t)(4 * (c->max_steps ? c->max_steps : 1000000) + 4096);
    /* Static, like everything the server allocates before a fork: the
     * child's LeakSanitizer (an ASan build) then finds it referenced. */
    static exec_slot slots[SLOTS];
    unsigned depth = 1;
    if (!c->replay && c->strategy != HARNESS_EXHAUSTIVE) {
        /* Two runs per CPU (each child pinned to one, pin()): while one
         * forks or exits, the other has the CPU (measured on 2 vCPUs:
         * depth 1, 2, 3, 4 ran 510, 1085, 1366, 1520 schedules/s). */
        cpu_set_t cpus;
        depth = sched_getaffinity(0, sizeof cpus, &cpus) == 0 ? 2 * (unsigned)CPU_COUNT(&cpus) : 2;
        const char *d = getenv("CHANLAB_EXEC_DEPTH");
        if (d && atoi(d) > 0)
            depth = (unsigned)atoi(d);
        if (depth > SLOTS)
            depth = SLOTS;
    }
    bool ok = true;
    for (unsigned k = 0; k < depth; k++)
        ok = slot_init(&slots[k]) && ok;
    if (perr || !ok) {
        const char *why = perr ? perr : "the fork server could not set up (mmap, memfd_create)";
        exec_summary sum = { .magic = EXEC_WIRE_MAGIC, .ending = EXEC_END_ERROR };
        sum.len_note = (uint32_t)strlen(why);
        send_report(c->fd, &sum, NULL, "", "", why, "", "", "");
        _exit(2);
    }
    {   /* glibc's backtrace loads libgcc_s on first use: here, not in a child */
        void *warm[4];
        backtrace(warm, 4);
        struct stat sb;
        if (fstat(0, &sb) == 0 && S_ISREG(sb.st_mode))
            stdin_start = lseek(0, 0, SEEK_CUR);
        exec__lib_bounds();
    }
    double t0 = now_s();
    unsigned runs = c->replay ? 1 : c->schedules;
    static char *ref;
    size_t nref = 0;
    uint64_t refhash = 0;
    bool have_ref = false;
    unsigned next = 1, finished = 0, learned = 0;
    uint64_t pct_steps[SLOTS];   /* random, PCT: what end_run learns from run k, at [k % SLOTS] */
    bool deferred = depth > 1 || (!c->replay && c->strategy != HARNESS_EXHAUSTIVE);
    for (;;) {
        /* Keep `depth` runs in flight, begun in order. Random and PCT runs
         * learn from run k only when run k + SLOTS begins, however many are
         * in flight: the search is the same on any number of CPUs. */
        while (next <= runs && next - 1 - finished < depth) {
            while (deferred && learned + SLOTS < next) {
                learned++;
                unsigned begun = st.run;
                st.run = learned;
                st.pct_step = pct_steps[learned % SLOTS];
                harness__strategy_end_run(&st);
                st.run = begun;
            }
            exec_slot *sl = &slots[(next - 1) % depth];
            if (start(sl, st.replay_run ? st.replay_run : next, c->fd))
                return;   /* the child */
            next++;
        }
        if (finished == next - 1)
            break;
        exec_slot *sl = &slots[finished % depth];
        exec_outcome oc;
        finish(sl, c, &oc, have_ref, refhash);
        finished++;
        bool more = true;
        if (deferred)
            pct_steps[sl->run % SLOTS] = st.pct_step;
        else
            more = harness__strategy_end_run(&st);
        bool exhausted = !more && c->strategy == HARNESS_EXHAUSTIVE && !c->replay;
        if (oc.verdict == HARNESS_PASS && !oc.error && !have_ref) {
            ref = malloc(oc.nout + 1);
            memcpy(ref, oc.out, oc.nout + 1);
            nref = oc.nout;
            refhash = oc.hash;
            have_ref = true;
        }
        if (oc.error || oc.verdict != HARNESS_PASS || !more || finished == runs) {
            /* The runs begun after this one are not reported: stop them. */
            for (unsigned k = finished; k < next - 1; k++) {
                exec_slot *other = &slots[k % depth];
                kill(other->pid, SIGKILL);
                waitpid(other->pid, NULL, 0);
            }
            report(c->fd, sl, &oc, finished, exhausted, now_s() - t0, c, ref, nref);
            free(oc.out);
            free(oc.err);
            break;
        }
        free(oc.out);
        free(oc.err);
    }
    /* chanlab symbolizes against this process's maps: stay until it is done. */
    char b;
    while (read(c->fd, &b, 1) > 0 || errno == EINTR)
        ;
    _exit(0);
}

/* ------------------------------------------------------------ Entry point */

static int (*program_main)(int, char **, char **);

static int main_under_control(int argc, char **argv, char **envp)
{
    int rc = program_main(argc, argv, envp);
    exec__exiting();
    return rc;
}

EXEC_API int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
                               void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                               void *stack_end);
EXEC_API int __libc_start_main(int (*main)(int, char **, char **), int argc, char **argv,
                               void (*init)(void), void (*fini)(void), void (*rtld_fini)(void),
                               void *stack_end)
{
    exec__resolve();
    const char *cfg = getenv("CHANLAB_EXEC");
    if (cfg && !exec__controlled) {
        static char copy[8192];
        exec_config c;
        snprintf(copy, sizeof copy, "%s", cfg);
        unsetenv("CHANLAB_EXEC");
        unsetenv("LD_PRELOAD");   /* the program's own children run as they are */
        if (parse_config(copy, &c)) {
            serve(&c);   /* returns in each child */
            program_main = main;
            main = main_under_control;
        }
    }
    return exec__real.libc_start_main(main, argc, argv, init, fini, rtld_fini, stack_end);
}

EXEC_API void exit(int status)
{
    exec__resolve();
    if (exec__me())
        exec__exiting();
    exec__real.exit_process(status);
}

/* A program that forks: the child runs free (the scheduler's threads are not
 * in it); the run carries a note. */
EXEC_API pid_t fork(void)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.fork();
    exec__point();
    pid_t p = exec__real.fork();
    if (p == 0)
        exec__controlled = false;
    return p;
}
