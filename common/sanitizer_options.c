/* Linked into the three daemons and the e2e ipc_probe, never the unit tests.
 *
 * Sanitizer builds (the test build): LeakSanitizer's exit-time check stops
 * the world with ptrace, which the children's seccomp policies forbid and
 * which fails in privd once it dropped its capabilities (its warnings
 * would drown the logs). The unit tests keep leak checking. */
#if defined(__SANITIZE_ADDRESS__)
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "detect_leaks=0"; }
#endif
