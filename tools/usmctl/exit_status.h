/* usmctl's exit statuses: one per kind of failure, so that scripts can
 * tell "usm is not running" from "something else answers on that port"
 * without parsing the message. The README lists them. */
#ifndef USMCTL_EXIT_STATUS_H
#define USMCTL_EXIT_STATUS_H

enum usmctl_exit {
	USMCTL_OK = 0,
	USMCTL_EFAIL = 1,	/* usmctl itself failed (memory, terminal) */
	USMCTL_EUSAGE = 2,	/* bad command line */
	USMCTL_ENOTRUNNING = 3, /* nothing answers at the address: usm is not running there */
	USMCTL_ENOTUSM = 4,	/* something answers that is not usm's API (not HTTP, not JSON) */
	USMCTL_EMALFORMED = 5,	/* JSON that does not parse, or not in the documented shape */
	USMCTL_EAPI = 6,	/* usm's API answered with an error ({"error": ..., "status": N}) */
};

#endif
