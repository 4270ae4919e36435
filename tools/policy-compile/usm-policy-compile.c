/* usm-policy-compile: the build step that compiles usm's policies into C
 * (policy_compile.h). Runs on the build machine; policy/meson.build calls
 * it once per policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy_compile.h"

static const char usage_text[] =
	"usage: usm-policy-compile seccomp POLICY NAME OUT.c OUT.h\n"
	"       usm-policy-compile attach POLICY OUT.c\n"
	"\n"
	"seccomp: compiles a seccomp policy (policy/NAME.policy) into the classic BPF\n"
	"         programs libseccomp generates for it, in kill and in log mode:\n"
	"         usm_filter_NAME_kill[], usm_filter_NAME_log[] and their _len,\n"
	"         defined in OUT.c and declared in OUT.h.\n"
	"attach:  compiles the attach policy into usm_attach_policy_compiled\n"
	"         (common/attach_policy.h), defined in OUT.c.\n"
	"\n"
	"A refused policy is reported as FILE:LINE: message; the exit status is then 1\n"
	"and no output file is left behind. Bad usage exits 2.\n";

const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

FILE *output_open(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fprintf(stderr, "usm-policy-compile: %s: %s\n", path, strerror(errno));
	return f;
}

int output_close(FILE *f, const char *path, int rc)
{
	int io = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && io == 0)
		io = -errno;
	if (io < 0)
		fprintf(stderr, "usm-policy-compile: %s: %s\n", path, strerror(-io));
	if (rc == 0)
		rc = io;
	if (rc < 0)
		unlink(path);
	return rc;
}

int main(int argc, char *argv[])
{
	int rc;
	if (argc == 6 && strcmp(argv[1], "seccomp") == 0)
		rc = compile_seccomp(argv[2], argv[3], argv[4], argv[5]);
	else if (argc == 4 && strcmp(argv[1], "attach") == 0)
		rc = compile_attach(argv[2], argv[3]);
	else {
		fputs(usage_text, stderr);
		return 2;
	}
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
