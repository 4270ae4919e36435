/* The monitor's state as the seed defines it, and its start error.
 *
 *   Disabled     no monitoring feature is enabled in the configuration
 *   Running      started; events are consumed
 *   Not running  start failed: the error is kept and served, everything
 *                started so far has been stopped
 *   Stopped      stopped on request (shutdown)
 *
 * A start failure is worded as the seed words it: ENOMEM while attaching a
 * socket filter gets the net.core.optmem_max hint, anything else reads
 * "could not enable USM: <cause>". */
#ifndef USM_COLLECTOR_MONITOR_H
#define USM_COLLECTOR_MONITOR_H

#include <stdint.h>

#include "config.h"
#include "ipc_proto.h"

struct monitor {
	enum usm_monitor_state state;
	char error[256];
	int64_t started_at; /* Unix seconds */
	int64_t last_check; /* Unix seconds of the last consistency check, 0 never */
};

/* Disabled if the configuration enables nothing, else Running. */
void monitor_init(struct monitor *m, const struct usm_config *cfg);

/* Records a start failure (negative errno, what failed) and moves to
 * Not running. socket_filter: the failure was attaching a socket filter. */
void monitor_start_failed(struct monitor *m, int err, int socket_filter, const char *what);

void monitor_stopped(struct monitor *m);

void monitor_checked(struct monitor *m);

#endif
