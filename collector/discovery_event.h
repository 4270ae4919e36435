/* Checking one discovery event from the ring buffer before it is used.
 * The kernel side is ours, but the bytes still cross a boundary: a record
 * of the wrong size or type, an unterminated or relative path, or pid 0 is
 * rejected (the caller counts it as malformed). */
#ifndef USM_COLLECTOR_DISCOVERY_EVENT_H
#define USM_COLLECTOR_DISCOVERY_EVENT_H

#include <stdbool.h>
#include <stddef.h>

#include "usm_events.h"

bool discovery_event_valid(const struct usm_proc_event *e, size_t size);

#endif
