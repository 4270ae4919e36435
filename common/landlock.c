#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's UAPI header stops at ABI 2; the later fields and rights. */
struct ruleset_attr_v6 {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4 */
	uint64_t scoped;             /* ABI 6 */
};

struct net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

#define FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#define NET_BIND_TCP (1ULL << 0)   /* ABI 4 */
#define NET_CONNECT_TCP (1ULL << 1)
#define SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define SCOPE_SIGNAL (1ULL << 1)
#define RULE_NET_PORT 2

int usm_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return abi < 0 ? 0 : (int)abi;
}

int usm_landlock_confine(uint16_t bind_port, const char *socket_dir)
{
	int abi = usm_landlock_abi();
	if (abi < 1)
		return -EOPNOTSUPP;
	struct ruleset_attr_v6 attr = {
		.handled_access_fs = ((LANDLOCK_ACCESS_FS_REFER << 1) - 1) | FS_TRUNCATE | FS_IOCTL_DEV,
		.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP,
		.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL,
	};
	size_t size = sizeof(attr);
	switch (abi) { /* drop what this kernel does not know */
	case 1:
		attr.handled_access_fs &= ~LANDLOCK_ACCESS_FS_REFER;
		/* fall through */
	case 2:
		attr.handled_access_fs &= ~FS_TRUNCATE;
		/* fall through */
	case 3:
		attr.handled_access_net = 0;
		size = offsetof(struct ruleset_attr_v6, handled_access_net);
		/* fall through */
	case 4:
		attr.handled_access_fs &= ~FS_IOCTL_DEV;
		/* fall through */
	case 5:
		attr.scoped = 0;
		if (size > offsetof(struct ruleset_attr_v6, scoped))
			size = offsetof(struct ruleset_attr_v6, scoped);
		/* fall through */
	default:
		break;
	}
	int fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (socket_dir) {
		struct landlock_path_beneath_attr beneath = {
			.allowed_access = LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_REMOVE_FILE,
			.parent_fd = open(socket_dir, O_PATH | O_DIRECTORY | O_CLOEXEC),
		};
		if (beneath.parent_fd < 0 ||
		    syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0) != 0)
			rc = -errno;
		if (beneath.parent_fd >= 0)
			close(beneath.parent_fd);
	}
	if (rc == 0 && bind_port != 0 && attr.handled_access_net) {
		struct net_port_attr port = {.allowed_access = NET_BIND_TCP, .port = bind_port};
		if (syscall(SYS_landlock_add_rule, fd, RULE_NET_PORT, &port, 0) != 0)
			rc = -errno;
	}
	if (rc == 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		rc = -errno;
	if (rc == 0 && syscall(SYS_landlock_restrict_self, fd, 0) != 0)
		rc = -errno;
	close(fd);
	return rc;
}
