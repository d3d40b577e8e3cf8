/* test_symbols.c — symbols a user can trust (issue 9): inlined calls are
 * frames of their own ("ab at ...:63" inlined into "abba at ...:70", as
 * `eu-addr2line -i` shows them), and chanlab's own frames are dropped by
 * address, so a user's csp_something in a file under a folder called
 * runtime/src/ keeps its frames. Built twice, at -O0 and at -O2
 * (tests/symbols.cmake); each build checks free and controlled mode. */
#include "harness_util.h"

#include "csp_debug.h"
#include "runtime/src/csp_user.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static const int ab_line = __LINE__ + 3;
ALWAYS_INLINE void ab(csp_chan *c)
{
    csp_recv(c, NULL);
    HU_KEEP_FRAME();
}

static const int abba_line = __LINE__ + 3;
static HU_NOINLINE void abba(csp_chan *c)
{
    ab(c);
    HU_KEEP_FRAME();
}

static void inlined_waiter(void *arg)
{
    abba(arg);
    HU_KEEP_FRAME();
}

static void user_waiter(void *arg)
{
    csp_user_wait(arg);
    HU_KEEP_FRAME();
}

static const int spawn_line = __LINE__ + 3;
ALWAYS_INLINE void spawn_inlined(csp_chan *c)
{
    csp_go(inlined_waiter, c, "inlined");
    HU_KEEP_FRAME();
}

static HU_NOINLINE void spawner(csp_chan *c)
{
    spawn_inlined(c);
    HU_KEEP_FRAME();
}

/* Every task waits on a channel nobody sends on: DEADLOCK, with a dump. */
static void deadlock_entry(void *arg)
{
    csp_chan *c = csp_chan_make(0, 0, "never");
    spawner(c);
    csp_user_spawn(user_waiter, c);
    csp_recv(c, NULL);
    HU_KEEP_FRAME();
}

static void check_dump(harness_mode mode)
{
    harness_options o = hu_options();
    o.mode = mode;
    harness_result r = {0};
    hu_run(deadlock_entry, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_DEADLOCK);

    char want[1024];
    /* The inlined call and the function it was inlined into, in order. */
    snprintf(want, sizeof want, "    ab at %s:%d\n    abba at %s:%d\n", __FILE__, ab_line,
             __FILE__, abba_line);
    hu_assert_contains(&r, r.dump, want);
    snprintf(want, sizeof want, "created by spawn_inlined at %s:%d\n", __FILE__, spawn_line);
    hu_assert_contains(&r, r.dump, want);
    /* The user's csp_ functions under runtime/src/ are the user's. */
    snprintf(want, sizeof want, "    csp_user_wait at %s:%d\n", csp_user_file, csp_user_wait_line);
    hu_assert_contains(&r, r.dump, want);
    snprintf(want, sizeof want, "created by csp_user_spawn at %s:%d\n", csp_user_file,
             csp_user_spawn_line);
    hu_assert_contains(&r, r.dump, want);
    /* ... and chanlab's own frames are not shown. */
    if (strstr(r.dump, "csp_recv") || strstr(r.dump, "harness/src/") ||
        strstr(r.dump, "chan.c:")) {
        hu_print_result(&r, false);
        fail_msg("a library frame is in the dump");
    }
    harness_result_free(&r);
}

static void test_free_mode_dump(void **state) { check_dump(HARNESS_FREE); }
static void test_controlled_mode_dump(void **state) { check_dump(HARNESS_CONTROLLED); }

/* The address rule itself: the runtime's and the harness's code is
 * chanlab's, the user's csp_-named function is not (pc + 1: a return
 * address inside the function). */
static void test_library_pc(void **state)
{
    assert_true(csp_debug_library_pc((uintptr_t)csp_recv + 1));
    assert_true(csp_debug_library_pc((uintptr_t)harness_run + 1));
    assert_false(csp_debug_library_pc((uintptr_t)csp_user_wait + 1));
    assert_false(csp_debug_library_pc((uintptr_t)abba + 1));
    assert_false(csp_debug_library_pc((uintptr_t)check_dump + 1));
}

int main(void)
{
    hu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_library_pc),
        cmocka_unit_test(test_free_mode_dump),
        cmocka_unit_test(test_controlled_mode_dump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
