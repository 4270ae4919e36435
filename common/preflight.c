#include "preflight.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "landlock.h"

#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"

/* May a process of uid:gid, without supplementary groups, search a
 * directory of this owner and mode? (The kernel's order: owner, group,
 * others; the first class that matches decides.) */
static bool searchable(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* The directories a path goes through, as the kernel walks them: its
 * nearest existing ancestor with every symlink resolved (a link's target
 * has parents of its own), then the part still to be made. */
static bool resolved(const char *dir, char *out, size_t cap)
{
	char path[USM_CONFIG_STR_MAX], real[PATH_MAX];
	snprintf(path, sizeof(path), "%s", dir);
	size_t cut = strlen(path);
	while (!realpath(path, real)) {
		char *slash = strrchr(path, '/');
		if (errno != ENOENT || !slash || slash == path)
			return false;
		*slash = '\0';
		cut = (size_t)(slash - path);
	}
	return (size_t)snprintf(out, cap, "%s%s", strcmp(real, "/") ? real : "", dir + cut) < cap;
}

int usm_preflight_runtime_dir(const char *dir, const struct usm_config *cfg, char *msg, size_t cap)
{
	const struct usm_user *users[] = {&cfg->bpf_user, &cfg->collector_user, &cfg->api_user};
	char path[USM_CONFIG_STR_MAX], real[USM_CONFIG_STR_MAX];
	if (strlen(dir) >= sizeof(path) || !resolved(dir, real, sizeof(real)))
		return 0; /* the configuration or runtime_dir_prepare refuses such a runtime_dir */
	dir = real;
	size_t len = strlen(dir);
	/* "/", each parent in turn, then dir itself. */
	for (size_t end = 1; end <= len; end++) {
		if (end > 1 && end < len && dir[end] != '/')
			continue;
		memcpy(path, dir, end);
		path[end] = '\0';
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			return 0; /* what does not exist yet privd makes; what is not a
				   * directory, runtime_dir_prepare refuses */
		/* privd, root, makes, chowns and empties directories under these
		 * parents by path: one another user may write (without the
		 * sticky bit) could be swapped for a symlink to a directory of
		 * root's meanwhile. runtime_dir itself runtime_dir_prepare checks. */
		bool sticky = st.st_mode & S_ISVTX;
		if (end < len && (st.st_uid != 0 || (!sticky && ((st.st_mode & S_IWOTH) ||
								 ((st.st_mode & S_IWGRP) && st.st_gid != 0))))) {
			snprintf(msg, cap,
				 "runtime_dir %s: its %s %s can be written by a user other than root "
				 "(mode %04o, owner %u:%u), who could swap what privd prepares there; "
				 "choose a runtime_dir whose parents only root can write (the default "
				 "/run/usm)",
				 dir, strchr(dir + end + 1, '/') ? "ancestor" : "parent", path,
				 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
			return USM_EXIT_RUNTIME_DIR_UNSAFE;
		}
		for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
			if (searchable(&st, users[u]->uid, users[u]->gid))
				continue;
			const char *what = end == len		   ? ""
					   : strchr(dir + end + 1, '/') ? ": its ancestor "
									: ": its parent ";
			snprintf(msg, cap,
				 "runtime_dir %s%s%s is not searchable by the service users (%s is "
				 "uid %u; mode %04o, owner %u:%u); make it 0711 or choose another "
				 "runtime_dir",
				 dir, what, end == len ? "" : path, users[u]->spec, (unsigned)users[u]->uid,
				 (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)st.st_gid);
			return USM_EXIT_RUNTIME_DIR_UNREACHABLE;
		}
	}
	return 0;
}

int usm_preflight_writable(const char *dir, char *msg, size_t cap)
{
	char path[USM_CONFIG_STR_MAX];
	snprintf(path, sizeof(path), "%s", dir);
	struct statvfs vfs;
	/* The nearest existing directory is where runtime_dir will be made. */
	while (statvfs(path, &vfs) != 0) {
		char *slash = strrchr(path, '/');
		if (!slash || slash[1] == '\0')
			return 0; /* not even "/": nothing to judge */
		slash[slash == path] = '\0'; /* "/x" becomes "/" */
	}
	if (!(vfs.f_flag & ST_RDONLY))
		return 0;
	snprintf(msg, cap,
		 "runtime_dir %s: %s is on a read-only file system; choose a runtime_dir on a "
		 "writable one (the default /run/usm; under systemd, add it to ReadWritePaths=)",
		 dir, path);
	return USM_EXIT_RUNTIME_DIR_READ_ONLY;
}

/* The first port a process without CAP_NET_BIND_SERVICE may bind (the
 * kernel's own file); 1024, its default, if it cannot be read. The bind
 * below runs as root, which may bind any. */
static unsigned unprivileged_port_start(void)
{
	unsigned first = 1024;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
	if (f) {
		if (fscanf(f, "%u", &first) != 1)
			first = 1024;
		fclose(f);
	}
	return first;
}

int usm_preflight_api_listen(const char *listen, char *msg, size_t cap)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	bool v6 = listen[0] == '[';
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen - 2 * v6), listen + v6);
	/* Numeric only: privd, root here, looks nothing up (a name's answer
	 * comes from the network); apid reports a name it cannot bind. */
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICSERV | AI_NUMERICHOST},
			*ai;
	int rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc == EAI_NONAME)
		return 0;
	unsigned port = (unsigned)atoi(colon + 1), first = unprivileged_port_start();
	if (rc == 0 && port < first) {
		freeaddrinfo(ai);
		snprintf(msg, cap, "api_listen %s: usm-apid holds no capability and ports below %u "
			 "are privileged here (net.ipv4.ip_unprivileged_port_start); set api_listen to "
			 "a port of %u or above", listen, first, first);
		return USM_EXIT_API_ADDRESS_IN_USE;
	}
	if (rc != 0) {
		snprintf(msg, cap, "api_listen %s: cannot resolve %s (%s); set api_listen to an address "
			 "of this host", listen, host, gai_strerror(rc));
		return USM_EXIT_API_ADDRESS_IN_USE;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	int err = fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
			  bind(fd, ai->ai_addr, ai->ai_addrlen) != 0
		  ? errno
		  : 0;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	if (err == 0)
		return 0;
	if (err == EADDRINUSE)
		snprintf(msg, cap, "api_listen %s: the port is in use by another program; stop it or "
			 "set api_listen to a free port", listen);
	else
		snprintf(msg, cap, "api_listen %s: cannot bind it (%s); set api_listen to an address "
			 "of this host and a free port", listen, strerror(err));
	return USM_EXIT_API_ADDRESS_IN_USE;
}

int usm_preflight_btf(const char *vmlinux, char *msg, size_t cap)
{
	if (access(vmlinux, R_OK) == 0)
		return 0;
	snprintf(msg, cap, "the kernel has no BTF (%s: %s); run usm on a kernel built with "
		 "CONFIG_DEBUG_INFO_BTF=y (Debian's and most distributions' are)", vmlinux,
		 strerror(errno));
	return USM_EXIT_NO_BTF;
}

int usm_preflight_landlock(int abi, char *msg, size_t cap)
{
	if (abi >= 1)
		return 0;
	snprintf(msg, cap, "the kernel has no Landlock, which usm-collector and usm-apid confine "
		 "themselves with; boot Linux 5.13 or later with Landlock enabled "
		 "(CONFIG_SECURITY_LANDLOCK=y and landlock in lsm=)");
	return USM_EXIT_NO_LANDLOCK;
}

int usm_preflight_kernel(const struct usm_config *cfg, int tracefs_rc, bool kernel_multi,
			 bool sys_admin, char *msg, size_t cap)
{
	if (tracefs_rc != 0) {
		snprintf(msg, cap, "tracefs is not mounted and cannot be mounted on "
			 "/sys/kernel/tracing (%s); mount it (mount -t tracefs tracefs "
			 "/sys/kernel/tracing) or give usm-privd CAP_SYS_ADMIN",
			 strerror(-tracefs_rc));
		return USM_EXIT_NO_TRACEFS;
	}
	/* Classic perf-event uprobes are what is left without uprobe_multi. */
	if (!usm_config_need_process_monitor(cfg) || (cfg->uprobe_multi && kernel_multi) || sys_admin)
		return 0;
	if (cfg->uprobe_multi)
		snprintf(msg, cap, "the kernel has no uprobe_multi links (Linux 6.6 or later) and "
			 "classic uprobes need CAP_SYS_ADMIN, which usm-privd does not have; give "
			 "it CAP_SYS_ADMIN or run a newer kernel");
	else
		snprintf(msg, cap, "uprobe_multi = false asks for classic uprobes, which need "
			 "CAP_SYS_ADMIN, which usm-privd does not have; set uprobe_multi = true or "
			 "give it CAP_SYS_ADMIN");
	return USM_EXIT_NO_UPROBES;
}

/* Prints "usm-privd: MSG" on stderr if status is not 0; returns status. */
static int refuse(int status, const char *msg)
{
	if (status != 0)
		fprintf(stderr, "usm-privd: %s\n", msg);
	return status;
}

int usm_preflight(const struct usm_config *cfg)
{
	char msg[512];
	bool kernel = !usm_config_monitoring_disabled(cfg);
	int rc = usm_preflight_runtime_dir(cfg->runtime_dir, cfg, msg, sizeof(msg));
	if (rc == 0)
		rc = usm_preflight_writable(cfg->runtime_dir, msg, sizeof(msg));
	if (rc == 0)
		rc = usm_preflight_api_listen(cfg->api_listen, msg, sizeof(msg));
	if (rc == 0 && kernel)
		rc = usm_preflight_btf(BTF_VMLINUX, msg, sizeof(msg));
	if (rc == 0)
		rc = usm_preflight_landlock(usm_landlock_abi(), msg, sizeof(msg));
	return refuse(rc, msg);
}

int usm_preflight_root(const struct usm_config *cfg, int tracefs_rc, bool kernel_multi)
{
	char msg[512];
	cap_t caps = cap_get_proc();
	cap_flag_value_t sys_admin = CAP_CLEAR;
	if (caps)
		cap_get_flag(caps, CAP_SYS_ADMIN, CAP_PERMITTED, &sys_admin);
	cap_free(caps);
	return refuse(usm_preflight_kernel(cfg, tracefs_rc, kernel_multi, sys_admin == CAP_SET, msg,
					   sizeof(msg)),
		      msg);
}
