/* lib_churn: the churn test's short processes (tests/e2e/test_churn.py).
 *
 *   lib_churn PARALLEL COUNT HOLD_MS LIB [LIB...]
 *
 * Forks COUNT children, at most PARALLEL alive at once; child i dlopen()s
 * LIB[i % number of LIBs] (the open usm's discovery sees), stays HOLD_MS
 * and exits. Children are forks, not new programs: a fork costs a fraction
 * of an exec, which keeps 10,000 of them within the test's time on two
 * CPUs, and each is still a process with its own pid, its own open and
 * mapping of the library, and its own exit.
 *
 * Prints "started N failed M": M children could not load their library.
 * Exit status 0, or 1 when a fork or wait failed. */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void child(const char *lib, long hold_ms)
{
	if (!dlopen(lib, RTLD_NOW | RTLD_LOCAL))
		_exit(2);
	if (hold_ms > 0) {
		struct timespec ts = {hold_ms / 1000, (hold_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

/* Reaps one child, adding 1 to *failed if it could not load its library;
 * exits on a wait error (there is no child left to wait for: a bug). */
static void reap(long *failed)
{
	int status;
	pid_t pid;
	while ((pid = wait(&status)) < 0 && errno == EINTR)
		;
	if (pid < 0) {
		perror("lib_churn: wait");
		exit(1);
	}
	*failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: lib_churn PARALLEL COUNT HOLD_MS LIB [LIB...]\n");
		return 2;
	}
	long parallel = strtol(argv[1], NULL, 10), count = strtol(argv[2], NULL, 10);
	long hold_ms = strtol(argv[3], NULL, 10);
	char **libs = argv + 4;
	int nlibs = argc - 4;
	if (parallel < 1 || count < 0 || hold_ms < 0) {
		fprintf(stderr, "lib_churn: bad PARALLEL, COUNT or HOLD_MS\n");
		return 2;
	}
	long alive = 0, started = 0, failed = 0;
	for (long i = 0; i < count; i++) {
		if (alive == parallel) {
			reap(&failed);
			alive--;
		}
		pid_t pid = fork();
		if (pid < 0) {
			perror("lib_churn: fork");
			return 1;
		}
		if (pid == 0)
			child(libs[i % nlibs], hold_ms);
		alive++;
		started++;
	}
	for (; alive > 0; alive--)
		reap(&failed);
	printf("started %ld failed %ld\n", started, failed);
	return 0;
}
