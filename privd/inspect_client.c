#include "inspect_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "elf_segments.h"
#include "log.h"
#include "monotonic.h"
#include "owner_channel.h"

struct inspect_cache_entry {
	uint64_t dev, ino, size;
	int64_t mtime_sec, mtime_nsec;
	uint8_t set_id;
	struct inspect_answer answer;
};

int inspect_client_init(struct inspect_client *ic, int channel, int timeout_ms, uint32_t cache_max)
{
	memset(ic, 0, sizeof(*ic));
	ic->channel = channel;
	ic->timeout_ms = timeout_ms;
	ic->cache_max = cache_max;
	ic->cache = calloc(cache_max, sizeof(*ic->cache));
	return ic->cache ? 0 : -ENOMEM;
}

static bool same_file(const struct inspect_cache_entry *e, const struct stat *st, uint8_t set_id)
{
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == (uint64_t)st->st_size &&
	       e->mtime_sec == st->st_mtim.tv_sec && e->mtime_nsec == st->st_mtim.tv_nsec &&
	       e->set_id == set_id;
}

static void refuse(struct inspect_answer *out, int error, const char *reason)
{
	memset(out, 0, sizeof(*out));
	out->error = error;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

/* Waits for the one answer; false (reason set) when there is none. */
static bool receive(struct inspect_client *ic, int sock, uint16_t nfuncs, struct usm_inspect_rep *rep,
		    struct inspect_answer *out)
{
	int64_t deadline = (int64_t)usm_monotonic_ms() + ic->timeout_ms;
	for (;;) {
		int64_t left = deadline - (int64_t)usm_monotonic_ms();
		struct pollfd p = {sock, POLLIN, 0};
		int n = left > 0 ? poll(&p, 1, (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ic->timeouts++;
			refuse(out, -ETIMEDOUT, "inspect-timeout");
			return false;
		}
		break;
	}
	/* One byte more than an answer: a longer datagram shows as too long. */
	static unsigned char buf[sizeof(struct usm_inspect_rep) + 1];
	ssize_t got = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	if (got == (ssize_t)sizeof(*rep))
		memcpy(rep, buf, sizeof(*rep));
	if (got != (ssize_t)sizeof(*rep) || !usm_inspect_rep_valid(rep, nfuncs)) {
		ic->failures++;
		refuse(out, -EPROTO, "inspect-failed");
		log_warn("inspector: %s", got == 0 ? "exited without an answer"
				   : got < 0	   ? strerror(errno)
						   : "malformed answer");
		return false;
	}
	return true;
}

/* Offsets are trusted only inside this file's executable segments. */
static bool offsets_are_code(int fd, const struct usm_inspect_rep *rep)
{
	struct exec_segments seg;
	bool any = false;
	for (unsigned i = 0; i < rep->nfuncs; i++)
		any |= rep->funcs[i].found;
	if (!any)
		return true;
	if (elf_exec_segments(fd, &seg) != 0)
		return false;
	for (unsigned i = 0; i < rep->nfuncs; i++)
		if (rep->funcs[i].found && !elf_offset_is_code(&seg, rep->funcs[i].offset))
			return false;
	return true;
}

static void ask_inspector(struct inspect_client *ic, int fd, const char (*names)[USM_INSPECT_NAME_MAX],
			  uint16_t nfuncs, struct inspect_answer *out)
{
	struct usm_inspect_req req;
	static struct usm_inspect_rep rep;
	int sv[2];
	memset(&req, 0, sizeof(req));
	req.magic = USM_INSPECT_MAGIC;
	req.kind = USM_INSPECT_ELF_SYMBOLS;
	req.nfuncs = nfuncs;
	for (unsigned i = 0; i < nfuncs; i++)
		snprintf(req.names[i], sizeof(req.names[i]), "%s", names[i]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		refuse(out, -errno, ""); /* our trouble, not the file's */
		return;
	}
	ic->inspections++;
	struct owner_msg m = {.type = OWNER_INSPECT};
	int fds[2] = {fd, sv[1]};
	int rc = send(sv[0], &req, sizeof(req), MSG_NOSIGNAL) == (ssize_t)sizeof(req) ? 0 : -errno;
	if (rc == 0)
		rc = owner_send(ic->channel, &m, fds, 2);
	close(sv[1]);
	if (rc != 0)
		refuse(out, rc, "");
	else if (receive(ic, sv[0], nfuncs, &rep, out)) {
		if (!offsets_are_code(fd, &rep)) {
			ic->failures++;
			log_warn("inspector answered offsets outside the file's code: refused");
			refuse(out, -EPROTO, "inspect-failed");
		} else {
			memset(out, 0, sizeof(*out));
			out->error = rep.error;
			memcpy(out->reason, rep.reason, sizeof(out->reason));
			if (rep.error && !out->reason[0])
				snprintf(out->reason, sizeof(out->reason), "inspect-failed");
			out->nfuncs = rep.nfuncs;
			memcpy(out->funcs, rep.funcs, sizeof(out->funcs));
		}
	}
	close(sv[0]);
}

void inspect_functions(struct inspect_client *ic, int fd, const struct stat *st, uint8_t set_id,
		       const char (*names)[USM_INSPECT_NAME_MAX], uint16_t nfuncs,
		       struct inspect_answer *out)
{
	for (uint32_t i = 0; i < ic->cache_count; i++) {
		if (same_file(&ic->cache[i], st, set_id)) {
			ic->cache_hits++;
			*out = ic->cache[i].answer;
			return;
		}
	}
	ask_inspector(ic, fd, names, nfuncs, out);
	/* Our own trouble (no socket, no supervisor) and timeouts (a busy
	 * machine) may pass: not cached, asked again next time. */
	if ((out->error && !out->reason[0]) || out->error == -ETIMEDOUT)
		return;
	struct inspect_cache_entry *e;
	if (ic->cache_count < ic->cache_max) {
		e = &ic->cache[ic->cache_count++];
	} else {
		e = &ic->cache[ic->cache_next];
		ic->cache_next = (ic->cache_next + 1) % ic->cache_max;
		ic->cache_evictions++;
	}
	*e = (struct inspect_cache_entry){.dev = st->st_dev, .ino = st->st_ino,
					  .size = (uint64_t)st->st_size,
					  .mtime_sec = st->st_mtim.tv_sec,
					  .mtime_nsec = st->st_mtim.tv_nsec, .set_id = set_id,
					  .answer = *out};
}
