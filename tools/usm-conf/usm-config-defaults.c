/* usm-config-defaults: prints the configuration table's keys at their
 * defaults, one "key=value" a line in the table's order, exactly as
 * usm_config_to_args() renders them (common/config.h). The build turns
 * that into the installed usm.conf (gen_usm_conf.py), so the file lists
 * every key the parser knows with the default it applies, and cannot
 * drift from common/config.c. Runs on the build machine; not installed. */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int main(void)
{
	static struct usm_config cfg;
	char *args[USM_CONFIG_MAX_KEYS];
	size_t n;

	usm_config_defaults(&cfg);
	if (usm_config_to_args(&cfg, args, USM_CONFIG_MAX_KEYS, &n) != 0) {
		fprintf(stderr, "usm-config-defaults: cannot render the defaults\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s\n", args[i]);
		free(args[i]);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
