/* The signals a daemon handles, read from a signalfd in its poll loop
 * rather than by handlers: blocked before any thread exists (nng's, the
 * link closer's), so that no thread takes them and they arrive on the fd.
 * privd (which adds SIGCHLD) and the unprivileged daemons share it. */
#ifndef USM_SIGNAL_FD_H
#define USM_SIGNAL_FD_H

#include <stddef.h>

/* Blocks signals[0..n) in the calling thread (and so in every thread it
 * creates later), ignores SIGPIPE (a peer gone is an error return, not a
 * death), and returns a non-blocking, close-on-exec signalfd for them, or
 * -errno. */
int usm_signal_fd(const int *signals, size_t n);

#endif
