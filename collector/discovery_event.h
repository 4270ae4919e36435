/* Checking one discovery event from the ring buffer before it is used.
 * The kernel side is ours, but the bytes still cross a boundary: a record
 * of the wrong size or type, an unterminated or relative path, or pid 0 is
 * rejected (the caller counts it as malformed). A FORK record is a
 * struct usm_fork_event, told apart by its type, and needs both pids, not
 * equal; every other type is a struct usm_proc_event. */
#ifndef USM_COLLECTOR_DISCOVERY_EVENT_H
#define USM_COLLECTOR_DISCOVERY_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "usm_events.h"

/* data: a record as the ring buffer gives it (8-byte aligned). */
bool discovery_event_valid(const void *data, size_t size);

#endif
