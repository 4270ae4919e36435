/* Spawning and supervising every other usm process: the collector and
 * apid, privd's BPF owner (forked by owner.c, reaped here) and the
 * inspectors it asks for. Each is exec'd through execveat() of a binary
 * opened and checked at start (regular, root's, writable by nobody else)
 * with /dev/null on stdin, privd's stderr, its passed fds at 3.., nothing
 * else open, its own uid/gid, no groups or capabilities, no_new_privs, a
 * parent-death signal and no environment but sanitizer options. A dead
 * child is restarted after a backoff doubling from 250 ms to 30 s, or
 * left down (failed, in /health) after more than child_max_restarts
 * deaths within child_restart_window. Inspectors are never restarted;
 * each ends itself at its deadline; at most SUPERVISOR_MAX_INSPECTORS run
 * at once. Each change of a child's state goes to the owner (HEALTH). */
#ifndef USM_PRIVD_SUPERVISOR_H
#define USM_PRIVD_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ipc_proto.h"

#define SUPERVISOR_MAX_ARGS 80
#define SUPERVISOR_MAX_PASSED_FDS 8
#define SUPERVISOR_DEATH_HISTORY 64
#define SUPERVISOR_MAX_INSPECTORS 8

_Static_assert(SUPERVISOR_DEATH_HISTORY > USM_MAX_CHILD_RESTARTS,
	       "a child_max_restarts larger than the deaths remembered could never trigger");

struct child {
	enum usm_role role;
	const char *name;
	int exe_fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;              /* 0 when not running */
	enum usm_proc_state state;
	int64_t up_since;       /* wall clock, Unix seconds */
	int64_t started_mono_ms;
	int64_t restart_at_ms;  /* monotonic; valid while RESTARTING */
	unsigned restarts;
	unsigned consecutive_failures;
	int last_exit;          /* exit code or 128+signal, -1 never exited */
	int64_t deaths_ms[SUPERVISOR_DEATH_HISTORY]; /* ring of recent deaths */
	unsigned ndeaths;
	int passed_fds[SUPERVISOR_MAX_PASSED_FDS]; /* become fds 3, 4, ... */
	unsigned npassed;
};

struct supervisor {
	const struct usm_config *cfg;
	char *argv_options[SUPERVISOR_MAX_ARGS]; /* "key=value" from the config */
	size_t noptions;
	int devnull_fd;
	pid_t self;
	int64_t privd_started;
	bool stopping;
	struct child children[2]; /* collector, apid */
	int inspector_exe_fd;
	pid_t inspectors[SUPERVISOR_MAX_INSPECTORS]; /* 0: a free slot */
	pid_t owner_pid;  /* the BPF owner; 0 once it exited */
	int owner_status; /* its wait status, once it exited */
	int channel;      /* to the BPF owner, -1 until it is forked */
};

/* Prepares the children's and the inspector's arguments; opens nothing. */
int supervisor_init(struct supervisor *sup, const struct usm_config *cfg);

/* Opens and checks the three binaries and /dev/null (after the owner is
 * forked, so that it never holds them). */
int supervisor_open_binaries(struct supervisor *sup);

int supervisor_start_all(struct supervisor *sup);

/* Reaps every exited process (call on SIGCHLD) and schedules restarts. */
void supervisor_reap(struct supervisor *sup);

/* Starts the children whose backoff has elapsed. */
void supervisor_tick(struct supervisor *sup);

/* Milliseconds until the next scheduled restart, or -1 if none. */
int supervisor_next_timeout_ms(const struct supervisor *sup);

/* Inspectors killed; SIGTERM to the children, SIGKILL after timeout_ms;
 * then the BPF owner the same way (a longer wait: it closes every link);
 * all reaped. */
void supervisor_stop_all(struct supervisor *sup, int timeout_ms);

/* Sends every process's state to the BPF owner (OWNER_HEALTH). */
void supervisor_publish_health(struct supervisor *sup);

/* fds: the file and the inspector's socket end (the caller closes its
 * copies). A failure is logged: the owner then sees no answer. */
void supervisor_spawn_inspector(struct supervisor *sup, const int fds[2]);

/* SIGKILL to the collector, which is then restarted as after any death. */
void supervisor_restart_collector(struct supervisor *sup);

#endif
