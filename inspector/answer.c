/* Request -> answer. The contract is in answer.h. */
#include "answer.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "elf_callees.h"
#include "elf_symbols.h"
#include "go_binary.h"

/* The request's via= functions, through their two callers
 * (elf_callees.h), always: a symbol of that name is not enough (node's
 * OpenSSL has an out-of-line ssl_read_internal and a copy inlined into
 * SSL_read, so probing it instead of SSL_read would miss SSL_read's
 * calls), and where there is one it must agree. One found at the offset
 * of another function of the answer is not taken: two roles on one
 * function would capture each call twice, or the wrong way. A file that
 * cannot be read again (it was just read) leaves them not found. */
static void find_through_callers(int file_fd, const struct usm_inspect_req *req,
				 struct usm_inspect_rep *rep)
{
	bool derived[USM_INSPECT_MAX_FUNCS] = {false};
	for (unsigned i = 0; i < req->nfuncs; i++) {
		const uint8_t *via = req->via[i]; /* valid: usm_inspect_req_valid */
		struct usm_inspect_func *a = &rep->funcs[via[0] ? via[0] - 1 : 0];
		struct usm_inspect_func *b = &rep->funcs[via[0] ? via[1] - 1 : 0];
		char reason[USM_INSPECT_REASON_MAX];
		uint64_t callee;
		if (!via[0])
			continue;
		if (a->found && b->found &&
		    elf_common_callee(file_fd, a->offset, b->offset, &callee, reason,
				      sizeof(reason)) == 0 &&
		    (!rep->funcs[i].found || rep->funcs[i].offset == callee)) {
			rep->funcs[i] = (struct usm_inspect_func){.offset = callee, .found = 1};
			derived[i] = true;
		} else {
			rep->funcs[i] = (struct usm_inspect_func){0};
		}
	}
	bool shared[USM_INSPECT_MAX_FUNCS] = {false};
	for (unsigned i = 0; i < req->nfuncs; i++)
		for (unsigned j = 0; derived[i] && j < req->nfuncs; j++)
			shared[i] |= j != i && rep->funcs[j].found &&
				     rep->funcs[j].offset == rep->funcs[i].offset;
	for (unsigned i = 0; i < req->nfuncs; i++)
		if (shared[i])
			rep->funcs[i] = (struct usm_inspect_func){0};
}

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
	if (rep->error == 0)
		find_through_callers(file_fd, req, rep);
	return 0;
}
