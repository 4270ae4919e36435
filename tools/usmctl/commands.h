/* usmctl's commands. Each prints its result on stdout, one line on
 * stderr when it fails ("usmctl: ..."), and returns the exit status
 * (exit_status.h). */
#ifndef USMCTL_COMMANDS_H
#define USMCTL_COMMANDS_H

#include "api.h"
#include "cli.h"

/* GET /usm/stats and GET /health; --json: {"stats": ..., "health": ...}. */
int cmd_status(struct api *a, const struct usmctl_opts *o);
/* GET /debug/usm/traced_programs; --json: that document. */
int cmd_traced(struct api *a, const struct usmctl_opts *o);
/* GET /debug/usm/blocked_processes; --json: that document. */
int cmd_blocked(struct api *a, const struct usmctl_opts *o);
/* Two reads of GET /usm/http_stats interval apart, then the tables;
 * --json: table_to_json's document. */
int cmd_stats(struct api *a, const struct usmctl_opts *o);
/* top.c */
int cmd_top(struct api *a, const struct usmctl_opts *o);

/* Helpers the commands share. */
int cmd_fail(int status, const char *msg);
int cmd_print_json(json_object *doc);
void cmd_sleep_ms(unsigned ms);

#endif
