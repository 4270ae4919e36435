/* The start-up scan: running processes' executables and mapped files
 * matching the attach policy's library rules (each (dev, inode) once per
 * process), from /proc, a page at a time. The cursor is the next pid to
 * look at; a page never splits a process. usm's own processes and kernel
 * threads are left out. */
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
