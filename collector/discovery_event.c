#include "discovery_event.h"

#include <stdint.h>
#include <string.h>

static bool fork_valid(const struct usm_fork_event *f, size_t size)
{
	return size == sizeof(*f) && f->pid != 0 && f->ppid != 0 && f->pid != f->ppid;
}

bool discovery_event_valid(const void *data, size_t size)
{
	uint32_t type;
	if (size < sizeof(type))
		return false;
	memcpy(&type, data, sizeof(type));
	if (type == USM_EVENT_FORK)
		return fork_valid(data, size);
	const struct usm_proc_event *e = data;
	if (size != sizeof(*e) || e->pid == 0)
		return false;
	switch (e->type) {
	case USM_EVENT_EXIT:
		return true;
	case USM_EVENT_EXEC:
	case USM_EVENT_LIB_OPEN:
		return e->path_len >= 2 && e->path_len <= sizeof(e->path) &&
		       e->path[e->path_len - 1] == '\0' && e->path[0] == '/';
	default:
		return false;
	}
}
