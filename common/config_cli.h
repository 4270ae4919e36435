/* usm-privd's command line, read into a configuration.
 *
 * usm_config_from_args(): -c FILE, then every -o key=value in order, then
 * the users resolved and checked (two different non-root users with
 * different groups). --help prints usage(stdout) and exits 0, --version
 * prints "PROG VERSION" and exits 0; any error prints "PROG: FILE:LINE:
 * message" (or "-o:N:") and exits 2, before anything has started. */
#ifndef USM_CONFIG_CLI_H
#define USM_CONFIG_CLI_H

#include <stdio.h>

#include "config.h"

void usm_config_from_args(int argc, char **argv, const char *prog, void (*usage)(FILE *),
			  struct usm_config *cfg);

#endif
