#include "monitor.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ipc_codec.h"
#include "log.h"

void monitor_init(struct monitor *m, const struct usm_config *cfg)
{
	memset(m, 0, sizeof(*m));
	m->started_at = time(NULL);
	m->state = usm_config_monitoring_disabled(cfg) ? USM_STATE_DISABLED : USM_STATE_RUNNING;
}

void monitor_start_failed(struct monitor *m, int err, int socket_filter, const char *what)
{
	char text[sizeof(m->error)];
	if (err == -ENOMEM && socket_filter)
		snprintf(text, sizeof(text),
			 "could not enable usm monitoring: not enough memory to attach http ebpf "
			 "socket filter. please consider raising the limit via sysctl -w "
			 "net.core.optmem_max=<LIMIT>");
	else
		snprintf(text, sizeof(text), "could not enable USM: %s: %s", what, strerror(-err));
	usm_copy_printable(m->error, sizeof(m->error), text);
	m->state = USM_STATE_NOT_RUNNING;
	log_error("%s", m->error);
}

void monitor_stopped(struct monitor *m)
{
	if (m->state == USM_STATE_RUNNING)
		m->state = USM_STATE_STOPPED;
}

void monitor_checked(struct monitor *m) { m->last_check = time(NULL); }
