/* The inspector's one job, apart from the process around it (main.c): a
 * request, already checked with usm_inspect_req_valid(), and the file ->
 * the answer, as common/inspect_proto.h defines it.
 *
 * A file that cannot be inspected is an answer too (rep->error < 0 and
 * rep->reason from the resolver: "not-elf", "bad-elf", "too-large",
 * "not-go"...); the answer always passes
 * usm_inspect_rep_valid(rep, req->nfuncs, req->kind). ELF_SYMBOLS requests
 * go to elf_symbols.c, GO_TLS ones to go_binary.c. */
#ifndef USM_INSPECTOR_ANSWER_H
#define USM_INSPECTOR_ANSWER_H

#include "inspect_proto.h"

/* Fills *rep (zeroed first) by inspecting file_fd as req asks. Returns
 * 0, or -EINVAL (and an all-zero *rep) if req is not valid. */
int inspect_answer(int file_fd, const struct usm_inspect_req *req, struct usm_inspect_rep *rep);

#endif
