/* The start-up scan: the running processes' executables and the mapped
 * files that match the attach policy's library rules, read from /proc
 * (which only privd can read for every process), a page at a time.
 *
 * The cursor is the next pid to look at (0 or 1 to start); a page never
 * splits one process's records across pages. usm's own processes are
 * left out, and so are kernel threads (no executable). */
#ifndef USM_PRIVD_SCAN_H
#define USM_PRIVD_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "attach_policy.h"

/* Returns the payload size of the SCAN_REP page written to payload. */
size_t scan_page(const struct attach_policy *policy, uint64_t cursor, const pid_t *ignored,
		 size_t nignored, void *payload);

#endif
