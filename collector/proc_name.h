/* The names a process chose, from its exec event (bpf/usm_events.h):
 * checked and turned into what rows carry.
 *
 * Contract:
 * - service: the event's value of OTEL_SERVICE_NAME (else DD_SERVICE).
 *   An empty value is no value (the command names the process). A value
 *   is refused when it has a control character (below 0x20, or 0x7f):
 *   -EILSEQ; or more than USM_SERVICE_MAX - 1 bytes (or no NUL in the
 *   field): -E2BIG. Bytes from 0x80 are kept (UTF-8 names); apid turns
 *   what is not valid UTF-8 into U+FFFD.
 * - container_id: the first of the event's cgroup names, leaf first, that
 *   is a container runtime's: 64 lowercase hex digits, alone or after a
 *   '-' (docker-, cri-containerd-, crio-, libpod-...), optionally followed
 *   by ".scope". A cgroup name without a NUL in its field is refused
 *   (-EINVAL); names that hold no id are not an error.
 * - proc_name_from_event() fills what is valid even when a part is
 *   refused, and returns 0 or the first refusal's -errno with `why` (if
 *   not NULL) saying which part and why, for the log line. */
#ifndef USM_COLLECTOR_PROC_NAME_H
#define USM_COLLECTOR_PROC_NAME_H

#include <stddef.h>

#include "ipc_proto.h"
#include "usm_events.h"

_Static_assert(USM_SERVICE_READ > USM_SERVICE_MAX, "the kernel reads past the bound");
_Static_assert(USM_CONTAINER_ID_MAX > USM_CONTAINER_ID_LEN, "room for the NUL");

struct proc_name {
	char service[USM_SERVICE_MAX];           /* "" none: the command names it */
	char container_id[USM_CONTAINER_ID_MAX]; /* "" not in a container */
};

/* Checks raw (cap bytes) as a service name into out: 0, -ENOENT (empty),
 * -E2BIG, -EILSEQ; out is "" unless 0. */
int proc_name_service(const char *raw, size_t cap, char out[USM_SERVICE_MAX]);

/* The container id in one cgroup name: 0 (out set) or -ENOENT. */
int proc_name_container_id(const char *name, char out[USM_CONTAINER_ID_MAX]);

/* The event's names (an EXEC event the caller already validated). */
int proc_name_from_event(const struct usm_proc_event *e, struct proc_name *out, char *why,
			 size_t why_cap);

#endif
