#include "runtime_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* Empties and removes dir/name without following symlinks: entries are
 * unlinked relative to an O_NOFOLLOW directory fd. Only sockets and plain
 * files are expected there; anything else is left and reported. */
static int remove_subdir(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) != 0)
			log_warn("runtime dir: cannot remove %s/%s: %s", name, de->d_name,
				 strerror(errno));
	}
	closedir(d);
	return unlinkat(dirfd, name, AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int make_subdir(int dirfd, const char *name, uid_t uid, gid_t gid)
{
	if (mkdirat(dirfd, name, 0700) != 0)
		return -errno;
	/* chown before widening the mode, so no moment exists where the
	 * directory is open to a group it is not meant for. */
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0 ||
	    fchmodat(dirfd, name, 02750, 0) != 0)
		return -errno;
	return 0;
}

int runtime_dir_prepare(const char *dir, uid_t bpf_uid, uid_t collector_uid, gid_t collector_gid,
			gid_t api_gid)
{
	int fd = mkdir(dir, 0755) != 0 && errno != EEXIST
			 ? -1
			 : open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		log_error("cannot create or open runtime_dir %s (a symlink or not a directory?): %s",
			  dir, strerror(e));
		return -e;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0) {
		rc = -errno;
	} else if (st.st_uid != 0 || (st.st_mode & 022)) {
		log_error("runtime_dir %s must be owned by root and writable by nobody else "
			  "(uid %u, mode %04o)",
			  dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
	}
	/* Leftovers of a previous run that did not stop cleanly. */
	if (rc == 0 && ((rc = remove_subdir(fd, "privd")) != 0 ||
			(rc = remove_subdir(fd, "collector")) != 0))
		log_error("cannot clean runtime_dir %s: %s", dir, strerror(-rc));
	if (rc == 0 && ((rc = make_subdir(fd, "privd", bpf_uid, collector_gid)) != 0 ||
			(rc = make_subdir(fd, "collector", collector_uid, api_gid)) != 0))
		log_error("cannot create the socket directories in %s: %s", dir, strerror(-rc));
	close(fd);
	return rc;
}

void runtime_dir_remove(const char *dir)
{
	/* The sockets went with their owners (the BPF owner unlinks its own;
	 * nng removes the collector's), and the supervisor may no longer
	 * list their directories: only empty directories are removed here.
	 * What a crash leaves, the next start cleans. */
	static const char *const subdirs[] = {"privd", "collector"};
	for (size_t i = 0; i < 2; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, subdirs[i]);
		if (rmdir(path) != 0 && errno != ENOENT)
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	if (rmdir(dir) != 0 && errno != ENOENT)
		log_debug("runtime_dir %s kept: %s", dir, strerror(errno));
}
