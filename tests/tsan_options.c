/* tsan_options.c — ThreadSanitizer defaults for the unit tests that fork.
 * TSan does not support starting threads in the child of a multi-threaded
 * fork and by default kills such a child ("die_after_fork"); the runtime's
 * contract is that a child can spawn tasks, so those tests turn that off
 * (TSan then ignores the child's accesses). Nothing here outside TSan builds. */
#if defined(__SANITIZE_THREAD__)
#define TESTS_UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TESTS_UNDER_TSAN 1
#endif
#endif

#ifdef TESTS_UNDER_TSAN
const char *__tsan_default_options(void);

const char *__tsan_default_options(void)
{
    return "die_after_fork=0";
}
#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int tsan_options_unused;
#endif
