/* usm-privd's pre-flight checks: environments in which usm cannot run are
 * refused before anything starts (no directory made, no process forked,
 * nothing loaded), each with one line on stderr that names the problem
 * and its fix, and an exit status of its own (README, "Exit statuses"),
 * instead of children that die in a restart loop or an API that never
 * answers.
 *
 * Each check takes what it judges as arguments (paths, the Landlock ABI,
 * what privd found out as root), so the unit tests give it bad
 * environments this machine does not have. A check returns 0, or its
 * exit status with msg filled (without the "usm-privd: " prefix). Only
 * the port check has an effect: it binds the API's address for an
 * instant. The checks need no privilege; what only root can find out
 * (can tracefs be mounted, does the kernel take uprobe_multi links) privd
 * finds out itself and hands to usm_preflight_kernel(). */
#ifndef USM_PREFLIGHT_H
#define USM_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum usm_exit_status {
	USM_EXIT_OK = 0,
	USM_EXIT_FAILED = 1,              /* start-up failed otherwise (logged), or the BPF owner died */
	USM_EXIT_CONFIG = 2,              /* bad configuration or command line */
	USM_EXIT_RUNTIME_DIR_UNREACHABLE = 3, /* a service user cannot search runtime_dir or a parent */
	USM_EXIT_RUNTIME_DIR_READ_ONLY = 4,   /* runtime_dir is on a read-only file system */
	USM_EXIT_API_ADDRESS_IN_USE = 5,  /* api_listen cannot be bound: in use, or not this host's */
	USM_EXIT_NO_BTF = 6,              /* the kernel has no BTF (/sys/kernel/btf/vmlinux) */
	USM_EXIT_NO_TRACEFS = 7,          /* tracefs is not mounted and cannot be */
	USM_EXIT_NO_UPROBES = 8,          /* no uprobe_multi, and classic uprobes are not allowed */
	USM_EXIT_NO_LANDLOCK = 9,         /* the kernel has no Landlock */
	USM_EXIT_RUNTIME_DIR_UNSAFE = 10, /* a parent of runtime_dir another user can write */
};

/* Every service user that reaches runtime_dir (the BPF owner binds its
 * socket there, the collector binds and connects, apid connects) must be
 * able to search dir and each of its existing parents: by mode bits, as
 * the user's uid and primary gid only (children have no supplementary
 * groups; ACLs are not read). */
int usm_preflight_runtime_dir(const char *dir, const struct usm_config *cfg, char *msg, size_t cap);

/* dir, or its nearest existing parent, must be on a writable mount. */
int usm_preflight_writable(const char *dir, char *msg, size_t cap);

/* api_listen ("host:port", "[v6]:port") must be bindable now: a TCP
 * socket with SO_REUSEADDR, as nng's listener sets it, is bound and
 * closed at once. */
int usm_preflight_api_listen(const char *listen, char *msg, size_t cap);

/* The BPF objects are CO-RE: without the kernel's BTF (vmlinux, the
 * file's path) they cannot load. */
int usm_preflight_btf(const char *vmlinux, char *msg, size_t cap);

/* collector and apid confine themselves with Landlock: abi is what
 * usm_landlock_abi() answered (0: none). */
int usm_preflight_landlock(int abi, char *msg, size_t cap);

/* What privd found out as root: tracefs_rc, 0 if tracefs is mounted (or
 * privd just mounted it), else the mount's -errno; kernel_multi, whether
 * the kernel accepts a uprobe_multi program; sys_admin, whether privd
 * holds CAP_SYS_ADMIN (classic perf-event uprobes need it). */
int usm_preflight_kernel(const struct usm_config *cfg, int tracefs_rc, bool kernel_multi,
			 bool sys_admin, char *msg, size_t cap);

/* usm_preflight_kernel() with what privd found out as root and whether it
 * holds CAP_SYS_ADMIN, printed as usm_preflight() does; its status. */
int usm_preflight_root(const struct usm_config *cfg, int tracefs_rc, bool kernel_multi);

/* The checks above that need nothing from privd, in the order listed,
 * those about the kernel only when some monitoring is on. The first that
 * fails is printed as "usm-privd: MSG" on stderr; returns its status. */
int usm_preflight(const struct usm_config *cfg);

#endif
