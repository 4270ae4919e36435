/* usm-inspector: reads one file nobody vouches for, so that no privileged
 * process has to (DESIGN.md). privd's BPF owner starts one per file, with
 * the exchange common/inspect_proto.h defines:
 *
 *   usm-inspector [-o key=value]...
 *
 * The options are the configuration's, in the -o form the other children
 * take, so privd can pass them the same way; only `seccomp` (kill|log,
 * default kill), `log_level` and `inspect_timeout_ms` (its deadline)
 * matter here, any other valid key is accepted and ignored. No
 * environment is read.
 *
 * Descriptors: 0 /dev/null, 1 and 2 the log, 3 the file (read-only),
 * 4 a SOCK_SEQPACKET socket; any other is closed at start.
 *
 * Order: options; refuse any privilege (uid 0, a capability, no
 * no_new_privs); rlimits; Landlock (no file access, no TCP); seccomp
 * (policy/inspector.policy); only then the request is read and the file
 * looked at. One answer, then exit.
 *
 * Exit status:
 *   0  one answer sent (a file that cannot be inspected is an answer,
 *      with error and reason set)
 *   1  would not or could not run: privileged, confinement failed, the
 *      socket failed; no answer
 *   2  refused, no answer: a bad command line, or a request that is not
 *      exactly one valid struct usm_inspect_req (another size, end of
 *      stream, ancillary data, usm_inspect_req_valid() false); one line
 *      on stderr says which
 *   killed: SIGSYS by seccomp (a call outside the policy), SIGXCPU or
 *      SIGKILL at the CPU limit, SIGALRM at its deadline: a real-time
 *      timer of inspect_timeout_ms armed before it reads anything, which
 *      it can neither disarm nor catch under its policy (no setitimer,
 *      no sigaction), so the kernel kills it there whatever the file
 *      does to it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "answer.h"
#include "child_start.h"
#include "seccomp_install.h"
#include "inspector_seccomp_filter.h"
#include "config.h"
#include "inspect_proto.h"
#include "landlock.h"
#include "log.h"
#include "sandbox.h"


#define NAME "usm-inspector"
#define MAX_FDS 8             /* 0-4, and Landlock's ruleset fd while it is built */
#define CPU_SECONDS 5         /* reading a 1 GiB file's tables takes well under one */
#define MEMORY_BYTES (512ULL << 20) /* ELF: 48 MiB of symbols + 256 MiB of names
				     * at most; Go: DWARF (192 MiB, kept to the
				     * end) and a function table (256 MiB) */

static void read_options(int argc, char **argv, struct usm_config *cfg)
{
	usm_config_defaults(cfg);
	unsigned index = 0;
	for (int i = 1; i < argc; i++) {
		struct usm_config_error err;
		if (strcmp(argv[i], "-o") != 0 || i + 1 == argc) {
			log_error("usage: " NAME " [-o key=value]... (started by usm-privd)");
			exit(2);
		}
		if (usm_config_set_option(cfg, argv[++i], ++index, &err) != 0) {
			log_error("%s", err.msg);
			exit(2);
		}
	}
	usm_log_set_level(cfg->log_level);
}

/* rlimits, a wall behind seccomp: no core dump of someone else's file, no
 * descriptors beyond the ones handed over, bounded CPU and (outside
 * sanitizer builds, whose shadow memory is reserved up front) memory. Not
 * RLIMIT_FSIZE: stderr may be a file, and writing past it would kill. */
static void limit_resources(void)
{
	int rc = usm_set_rlimit(RLIMIT_CORE, 0);
	if (rc == 0)
		rc = usm_set_rlimit(RLIMIT_NOFILE, MAX_FDS);
	if (rc == 0)
		rc = usm_set_rlimit(RLIMIT_CPU, CPU_SECONDS);
#if !defined(__SANITIZE_ADDRESS__)
	if (rc == 0)
		rc = usm_set_rlimit(RLIMIT_DATA, MEMORY_BYTES);
#endif
	if (rc != 0) {
		log_error("cannot set resource limits: %s", strerror(-rc));
		exit(1);
	}
}

static void confine(const struct usm_config *cfg)
{
	/* Only what the contract hands over, whatever the spawner leaked. */
	if (close_range(USM_INSPECT_SOCKET_FD + 1, ~0U, 0) != 0) {
		log_error("cannot close inherited descriptors: %s", strerror(errno));
		exit(1);
	}
	limit_resources();
	struct itimerval deadline = {
		.it_value = {cfg->inspect_timeout_ms / 1000, (cfg->inspect_timeout_ms % 1000) * 1000},
	};
	if (setitimer(ITIMER_REAL, &deadline, NULL) != 0) {
		log_error("cannot arm the deadline: %s", strerror(errno));
		exit(1);
	}
	int rc = usm_landlock_confine(0, NULL); /* no file access, no TCP bind or connect */
	if (rc == -EOPNOTSUPP) {
		log_warn("the kernel has no Landlock: running with seccomp and no_new_privs only");
	} else if (rc != 0) {
		log_error("cannot apply Landlock: %s", strerror(-rc));
		exit(1);
	}
	usm_child_confine(USM_SECCOMP_INSTALL(inspector, cfg->seccomp), "inspector.policy", cfg);
}

/* Exactly one struct usm_inspect_req, or exit: 1 if the socket failed, 2
 * (refused) for anything else. */
static void read_request(struct usm_inspect_req *req)
{
	union {
		struct usm_inspect_req req;
		char more[sizeof(struct usm_inspect_req) + 1]; /* to see a longer datagram */
	} in;
	struct iovec iov = { .iov_base = &in, .iov_len = sizeof(in) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	do
		n = recvmsg(USM_INSPECT_SOCKET_FD, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_error("cannot read the request: %s", strerror(errno));
		exit(1);
	}
	if ((size_t)n != sizeof(in.req) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		log_error("refused: a request of %zd bytes%s, want exactly %zu", n,
			  msg.msg_flags & MSG_CTRUNC ? " with ancillary data" : "", sizeof(in.req));
		exit(2);
	}
	if (!usm_inspect_req_valid(&in.req)) {
		log_error("refused: the request's magic, kind, count or names are not valid");
		exit(2);
	}
	*req = in.req;
}

static void send_answer(const struct usm_inspect_rep *rep)
{
	struct iovec iov = { .iov_base = (void *)rep, .iov_len = sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	do
		n = sendmsg(USM_INSPECT_SOCKET_FD, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rep)) {
		log_error("cannot send the answer: %s", n < 0 ? strerror(errno) : "short write");
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static struct usm_config cfg;
	static struct usm_inspect_req req;
	static struct usm_inspect_rep rep;

	prctl(PR_SET_NAME, NAME, 0, 0, 0);
	usm_log_init(NAME, USM_LOG_INFO);
	read_options(argc, argv, &cfg);
	if (usm_require_unprivileged() != 0)
		return 1;
	confine(&cfg);

	read_request(&req);
	inspect_answer(USM_INSPECT_FILE_FD, &req, &rep); /* req is valid: read_request */
	send_answer(&rep);
	if (rep.error != 0)
		log_debug("answered: %s (%s)", rep.reason, strerror(-rep.error));
	return 0;
}
