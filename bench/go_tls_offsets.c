// SPDX-License-Identifier: Apache-2.0
/* go-tls-offsets: where usm probes a Go program's crypto/tls, found by
 * the inspector's own code (inspector/go_binary.c, go_offsets.c,
 * go_code.c, elf_file.c, linked in unchanged), so that the floor of
 * go_tls_overhead probes exactly the places usm-privd does.
 *
 *   go-tls-offsets FILE FUNCTION...
 *
 * Asks what usm-privd asks the inspector for the gotls set (a GO_TLS
 * request with these names, in this order: policy/attach.policy's
 * `func gotls` lines) and prints the answer:
 *   go VERSION
 *   func NAME ENTRY_OFFSET RET_OFFSET...     (file offsets, 0x hex)
 *   missing NAME                             (not in the function table)
 * or, if the inspector would refuse the file, "error REASON" on stderr
 * and exit status 1. Runs unprivileged, as the inspector does; no
 * sandbox here (it reads bench's own Go server). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "go_binary.h"
#include "inspect_proto.h"

int main(int argc, char **argv)
{
	if (argc < 3 || argc - 2 > USM_INSPECT_MAX_FUNCS) {
		fprintf(stderr, "usage: go-tls-offsets FILE FUNCTION... (at most %d)\n",
			USM_INSPECT_MAX_FUNCS);
		return 2;
	}
	static struct usm_inspect_req req;
	static struct usm_inspect_rep rep;
	req.magic = USM_INSPECT_MAGIC;
	req.kind = USM_INSPECT_GO_TLS;
	req.nfuncs = (uint16_t)(argc - 2);
	for (int i = 2; i < argc; i++)
		snprintf(req.names[i - 2], USM_INSPECT_NAME_MAX, "%s", argv[i]);
	if (!usm_inspect_req_valid(&req)) {
		fprintf(stderr, "go-tls-offsets: not a valid request (names too long or odd)\n");
		return 2;
	}
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "go-tls-offsets: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* As inspector/answer.c: zeroed, magic and nfuncs set. */
	rep.magic = USM_INSPECT_MAGIC;
	rep.nfuncs = req.nfuncs;
	go_binary_answer(fd, &req, &rep);
	close(fd);
	if (!usm_inspect_rep_valid(&rep, req.nfuncs, req.kind)) {
		fprintf(stderr, "go-tls-offsets: the answer fails privd's shape check\n");
		return 1;
	}
	if (rep.error) {
		fprintf(stderr, "error %s (%s)\n", rep.reason, strerror(-rep.error));
		return 1;
	}
	printf("go %s\n", rep.go.version);
	for (unsigned i = 0; i < req.nfuncs; i++) {
		const struct usm_inspect_func *f = &rep.funcs[i];
		if (!f->found) {
			printf("missing %s\n", req.names[i]);
			continue;
		}
		printf("func %s 0x%llx", req.names[i], (unsigned long long)f->offset);
		for (unsigned r = 0; r < f->nreturns; r++)
			printf(" 0x%llx", (unsigned long long)f->returns[r]);
		printf("\n");
	}
	return 0;
}
