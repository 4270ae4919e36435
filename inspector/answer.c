/* Request -> answer. The contract is in answer.h. */
#include "answer.h"

#include <errno.h>
#include <string.h>

#include "elf_symbols.h"
#include "go_binary.h"

int inspect_answer(int file_fd, const struct usm_inspect_req *req, struct usm_inspect_rep *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (!usm_inspect_req_valid(req))
		return -EINVAL;
	rep->magic = USM_INSPECT_MAGIC;
	rep->nfuncs = req->nfuncs;
	if (req->kind == USM_INSPECT_GO_TLS) {
		go_binary_answer(file_fd, req, rep);
		return 0;
	}
	struct elf_func_query q[USM_INSPECT_MAX_FUNCS];
	/* names are NUL-ended inside their arrays: usm_inspect_req_valid */
	for (unsigned i = 0; i < req->nfuncs; i++)
		q[i] = (struct elf_func_query){ .name = req->names[i] };

	rep->error = elf_resolve_functions(file_fd, q, req->nfuncs, rep->reason,
					   sizeof(rep->reason));
	for (unsigned i = 0; i < req->nfuncs; i++) {
		rep->funcs[i].found = q[i].found;
		rep->funcs[i].offset = q[i].found ? q[i].offset : 0;
	}
	return 0;
}
