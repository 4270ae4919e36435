#include "attach_target.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "proc_read.h"

struct wanted {
	uint64_t dev, ino;
};

static int is_wanted(const struct proc_mapping *m, void *ctx)
{
	const struct wanted *w = ctx;
	return m->dev == w->dev && m->ino == w->ino;
}

static bool used_by(uint32_t pid, const struct stat *st)
{
	char exe[64];
	struct stat est;
	snprintf(exe, sizeof(exe), "/proc/%u/exe", pid);
	if (stat(exe, &est) == 0 && est.st_dev == st->st_dev && est.st_ino == st->st_ino)
		return true;
	struct wanted w = {st->st_dev, st->st_ino};
	int rc = proc_maps_foreach(pid, is_wanted, &w);
	if (rc < 0)
		log_debug("attach: /proc/%u/maps: %s", pid, strerror(-rc));
	return rc == 1;
}

int attach_target_open(uint32_t pid, const char *path, struct stat *st)
{
	char root[64];
	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -EPERM;
	/* Relative to the process's root; O_PATH opens nothing for I/O. */
	while (*path == '/')
		path++;
	int fd = openat(rootfd, *path ? path : ".", O_PATH | O_CLOEXEC);
	close(rootfd);
	if (fd < 0)
		return -EPERM;
	if (fstat(fd, st) != 0 || !used_by(pid, st)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}
