/* libFuzzer target: the seccomp policy parser on arbitrary text. It must
 * return an error with a message, or a policy that compiles; never crash,
 * never read out of bounds. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seccomp_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct usm_policy *policy = NULL;
	struct usm_policy_error err;
	memset(&err, 0, sizeof(err));
	int rc = usm_policy_parse((const char *)data, size, "fuzz.policy", &policy, &err);
	if (rc == 0) {
		scmp_filter_ctx ctx;
		if (usm_policy_build(policy, SCMP_ACT_KILL_PROCESS, &ctx) == 0)
			seccomp_release(ctx);
		usm_policy_free(policy);
	} else if (err.msg[0] == '\0' || memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort(); /* every refusal says why */
	}
	return 0;
}
