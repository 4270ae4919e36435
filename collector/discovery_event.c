#include "discovery_event.h"

bool discovery_event_valid(const struct usm_proc_event *e, size_t size)
{
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
