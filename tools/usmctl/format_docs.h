/* usm's state, traced files and blocked files as text for people, from
 * the API's documents (README "API"): GET /usm/stats with GET /health,
 * GET /debug/usm/traced_programs, GET /debug/usm/blocked_processes.
 *
 * Each checks the fields it prints and returns 0, -EBADMSG with a
 * one-line reason in err (the document is not in the documented shape:
 * usmctl exits USMCTL_EMALFORMED), or -EIO when the stream failed.
 * Members they do not print are not checked, so that documents may grow.
 * Pure but for the stream. */
#ifndef USMCTL_FORMAT_DOCS_H
#define USMCTL_FORMAT_DOCS_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#define FORMAT_PIDS_SHOWN 8 /* more pids than this show as "+N" */

/* now: for "up 3m", "last check 12 s ago". */
int format_status(FILE *f, const char *where, json_object *stats, json_object *health, time_t now,
		  char *err, size_t cap);
int format_traced(FILE *f, json_object *traced, char *err, size_t cap);
int format_blocked(FILE *f, json_object *blocked, char *err, size_t cap);

#endif
