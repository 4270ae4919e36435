/* Bounded reads of another process's /proc entries (CAP_SYS_PTRACE lets
 * the BPF owner read them for other users' processes). A value that does
 * not fit is an error, never data: a link longer than its buffer is
 * -ENAMETOOLONG; a maps line longer than PROC_MAPS_LINE_MAX is -E2BIG and
 * ends the read (a long file name can never be split into a forged second
 * line); more than PROC_MAPS_MAX_BYTES or _LINES is -EFBIG; a last line
 * without its newline, -EIO. */
#ifndef USM_PRIVD_PROC_READ_H
#define USM_PRIVD_PROC_READ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_MAPS_LINE_MAX 4352        /* PATH_MAX plus the fields before it */
#define PROC_MAPS_MAX_BYTES (8u << 20) /* per process */
#define PROC_MAPS_MAX_LINES 65536u     /* the kernel's default vm.max_map_count */

/* readlink("/proc/PID/NAME") into buf (capacity cap), NUL-terminated.
 * 0, -ENAMETOOLONG when it does not fit, or -errno. */
int proc_read_link(uint32_t pid, const char *name, char *buf, size_t cap);

/* One file-backed mapping: device as stat(2) reports it, inode, and the
 * path as /proc/PID/maps prints it (no " (deleted)" suffix: those are
 * skipped). */
struct proc_mapping {
	uint64_t dev;
	uint64_t ino;
	const char *path;
};

/* Calls fn for each file-backed mapping (absolute path, inode != 0, not
 * deleted), in file order, with repeats. fn returns 0 to go on, anything
 * else to stop (returned as is). Returns 0 at the end, fn's value, or a
 * negative errno (see the header comment). */
int proc_maps_foreach(uint32_t pid, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx);

/* The same, over an open maps file (what the tests feed). */
int proc_maps_read_fd(int fd, int (*fn)(const struct proc_mapping *m, void *ctx), void *ctx);

#endif
