#include "proc_read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int proc_read_link(uint32_t pid, const char *name, char *buf, size_t cap)
{
	char link[64];
	snprintf(link, sizeof(link), "/proc/%u/%s", pid, name);
	ssize_t n = readlink(link, buf, cap);
	if (n < 0)
		return -errno;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG; /* possibly cut: never used as complete */
	buf[n] = '\0';
	return 0;
}

/* "start-end perms offset MAJ:MIN inode   /path": fills m, or returns
 * false for anonymous, special or deleted mappings. */
static bool parse_line(char *line, struct proc_mapping *m)
{
	unsigned maj, min;
	unsigned long long ino;
	int off = 0;
	if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) != 3 || off == 0)
		return false;
	const char *path = line + off;
	size_t len = strlen(path);
	*m = (struct proc_mapping){makedev(maj, min), ino, path};
	return path[0] == '/' && ino != 0 && !(len >= 10 && strcmp(path + len - 10, " (deleted)") == 0);
}

int proc_maps_foreach(uint32_t pid, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx)
{
	char name[64];
	snprintf(name, sizeof(name), "/proc/%u/maps", pid);
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = proc_maps_read_fd(fd, fn, ctx);
	close(fd);
	return rc;
}

int proc_maps_read_fd(int fd, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx)
{
	/* The BPF owner serves one request at a time: one buffer will do. */
	static char buf[PROC_MAPS_LINE_MAX + 1];
	size_t len = 0, total = 0;
	unsigned lines = 0;
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0)
			return -errno;
		if ((total += (size_t)n) > PROC_MAPS_MAX_BYTES)
			return -EFBIG;
		len += (size_t)n;
		int rc = 0;
		char *start = buf, *nl;
		while (rc == 0 && (nl = memchr(start, '\n', len - (size_t)(start - buf))) != NULL) {
			*nl = '\0';
			struct proc_mapping m;
			if (++lines > PROC_MAPS_MAX_LINES)
				rc = -EFBIG;
			else if (parse_line(start, &m))
				rc = fn(&m, ctx);
			start = nl + 1;
		}
		len -= (size_t)(start - buf);
		memmove(buf, start, len);
		if (rc != 0)
			return rc;
		if (n == 0)
			return len ? -EIO : 0; /* a last line without its newline: cut */
		if (len == sizeof(buf) - 1)
			return -E2BIG; /* a line longer than any the kernel writes for a path */
	}
}
