/* Process and TLS-library discovery: turns the start-up scan (privd's
 * SCAN pages) and the kernel's events (exec, library open, exit, from the
 * ring buffer at fd 3) into registry registrations.
 *
 * Which file gets which program type and probe set:
 *   a library whose name matches an attach-policy rule   shared_libraries (native TLS)
 *   an executable ending in "/node"                      nodejs (enable_nodejs_monitoring)
 *   an executable at envoy_path                          istio (enable_istio_monitoring)
 * usm's own processes (this one and privd) are skipped; privd refuses
 * them too. */
#ifndef USM_COLLECTOR_DISCOVERY_H
#define USM_COLLECTOR_DISCOVERY_H

#include "collector.h"

/* The registry's ops: attach and detach as requests to privd. */
extern const struct registry_ops discovery_registry_ops;

/* Rebuilds the registry from privd's attachments (after a restart), then
 * scans the running processes. Returns 0 or -errno (privd unreachable). */
int discovery_start(struct collector *c);

/* Opens the discovery ring buffer on the inherited fd; 0 or -errno. */
int discovery_open_ring(struct collector *c, int fd);

/* Registers pid's files of program_type, as found by a SCAN from pid
 * (control endpoint attach-pid). Returns files registered or -errno. */
int discovery_attach_pid(struct collector *c, uint32_t pid, uint8_t program_type);

/* Asks again for the libraries refused before they were mapped whose time
 * has come; returns ms until the next, or -1 if none waits. */
int discovery_retry(struct collector *c);

/* Removes pids that exited without an event we saw (periodic check). */
unsigned discovery_prune(struct collector *c);

#endif
