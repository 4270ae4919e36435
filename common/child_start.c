#include "child_start.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "landlock.h"
#include "log.h"
#include "sandbox.h"
#include "seccomp_install.h"
#include "signal_fd.h"

int usm_child_start(int argc, char **argv, const char *name, struct usm_config *cfg)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
	usm_log_init(name, USM_LOG_INFO);
	usm_config_defaults(cfg);

	unsigned index = 0;
	for (int i = 1; i < argc; i++) {
		struct usm_config_error err;
		if (strcmp(argv[i], "-o") != 0 || i + 1 == argc) {
			fprintf(stderr, "%s: usage: %s [-o key=value]... (started by usm-privd)\n",
				name, name);
			exit(2);
		}
		if (usm_config_set_option(cfg, argv[++i], ++index, &err) != 0) {
			fprintf(stderr, "%s: %s\n", name, err.msg);
			exit(2);
		}
	}
	usm_log_set_level(cfg->log_level);
	if (usm_require_unprivileged() != 0)
		exit(1);

	static const int handled[] = {SIGTERM, SIGINT, SIGHUP};
	int fd = usm_signal_fd(handled, sizeof(handled) / sizeof(handled[0]));
	if (fd < 0) {
		log_error("signalfd: %s", strerror(-fd));
		exit(1);
	}
	return fd;
}

void usm_child_confine(int install_rc, const char *policy_name, const struct usm_config *cfg)
{
	if (install_rc != 0) {
		log_error("cannot apply %s: %s", policy_name, strerror(-install_rc));
		exit(1);
	}
	log_debug("seccomp policy %s applied (%s mode)", policy_name,
		  cfg->seccomp == USM_SECCOMP_LOG ? "log" : "kill");
}


void usm_child_landlock(uint16_t bind_port, const char *socket_dir)
{
	int rc = usm_landlock_confine(bind_port, socket_dir);
	if (rc == -EOPNOTSUPP) {
		log_warn("the kernel has no Landlock: running with seccomp and no_new_privs only");
		return;
	}
	if (rc != 0) {
		log_error("cannot apply Landlock: %s", strerror(-rc));
		exit(1);
	}
	log_debug("Landlock applied (ABI %d): no file access%s, TCP bind on port %u only",
		  usm_landlock_abi(), socket_dir ? " but its socket" : "", bind_port);
}
