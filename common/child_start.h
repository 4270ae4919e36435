/* Start-up shared by the unprivileged daemons (collector, apid), which
 * privd execs with the effective configuration as `-o key=value` options.
 *
 * usm_child_start(): names the process (execveat leaves the comm as the fd
 * number), reads the options into cfg (exit 2 on a bad one: privd passed
 * what it validated, so this is a bug or a hand start), sets up logging,
 * and refuses to continue with any privilege (usm_require_unprivileged).
 * Also blocks SIGTERM/SIGINT/SIGHUP and returns a signalfd for them:
 * signals must be blocked before nng starts its threads. */
#ifndef USM_CHILD_START_H
#define USM_CHILD_START_H

#include <stdint.h>

#include "config.h"

int usm_child_start(int argc, char **argv, const char *name, struct usm_config *cfg);

/* Landlock: no file access (but its socket in socket_dir, if not NULL),
 * TCP bind only on bind_port (0: none), no TCP connect. Call before nng
 * starts threads. Exits on failure, except on a kernel without Landlock
 * (logged; seccomp still applies). */
void usm_child_landlock(uint16_t bind_port, const char *socket_dir);

/* Takes what installing the daemon's compiled seccomp policy returned
 * (USM_SECCOMP_INSTALL, common/seccomp_install.h) and exits the process on
 * failure: a daemon never runs unconfined. */
void usm_child_confine(int install_rc, const char *policy_name, const struct usm_config *cfg);

#endif
