#include "inspect_client.h"

#include <elf.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "owner_channel.h"

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#error "add this architecture's e_machine"
#endif

static bool read_exact(int fd, void *buf, size_t len, uint64_t off)
{
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

static int add(struct exec_segments *out, uint64_t off, uint64_t filesz, uint64_t file_size)
{
	if (filesz && (off > file_size || filesz > file_size - off || out->n == ELF_SEGMENTS_MAX_EXEC))
		return -ENOEXEC;
	if (filesz) /* an empty segment holds no code */
		out->seg[out->n++] = (typeof(out->seg[0])){.start = off, .end = off + filesz};
	return 0;
}

int elf_exec_segments(int fd, struct exec_segments *out)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	Elf64_Ehdr eh;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (!read_exact(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != NATIVE_MACHINE ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > ELF_SEGMENTS_MAX_PHDRS)
		return -ENOEXEC;
	Elf64_Phdr ph[ELF_SEGMENTS_MAX_PHDRS];
	if (!read_exact(fd, ph, (size_t)eh.e_phnum * sizeof(ph[0]), eh.e_phoff))
		return -ENOEXEC;
	for (unsigned i = 0; i < eh.e_phnum; i++) /* add: 0 or -ENOEXEC */
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) &&
		    add(out, ph[i].p_offset, ph[i].p_filesz, (uint64_t)st.st_size) != 0)
			return -ENOEXEC;
	return out->n ? 0 : -ENOEXEC;
}

bool elf_offset_is_code(const struct exec_segments *s, uint64_t offset)
{
	for (unsigned i = 0; i < s->n; i++)
		if (offset >= s->seg[i].start && offset < s->seg[i].end)
			return true;
	return false;
}

struct inspect_cache_entry {
	uint64_t dev, ino, size;
	int64_t ctime_sec, ctime_nsec; /* not mtime: a file's owner sets that at will */
	uint8_t set_id;
	struct usm_inspect_rep answer;
};

int inspect_client_init(struct inspect_client *ic, int channel, int timeout_ms, uint32_t cache_max)
{
	*ic = (struct inspect_client){.channel = channel, .timeout_ms = timeout_ms,
				      .cache_max = cache_max,
				      .cache = calloc(cache_max, sizeof(struct inspect_cache_entry))};
	return ic->cache ? 0 : -ENOMEM;
}

static bool same_file(const struct inspect_cache_entry *e, const struct stat *st, uint8_t set_id)
{
	return e->dev == st->st_dev && e->ino == st->st_ino && e->size == (uint64_t)st->st_size &&
	       e->ctime_sec == st->st_ctim.tv_sec && e->ctime_nsec == st->st_ctim.tv_nsec &&
	       e->set_id == set_id;
}

static void refuse(struct usm_inspect_rep *out, int error, const char *reason)
{
	memset(out, 0, sizeof(*out));
	out->error = error;
	snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

/* Waits for the one answer, checks its shape; false (reason set) when
 * there is none. The owner's signals are blocked (its signalfd), so poll
 * is not interrupted. */
static bool receive(struct inspect_client *ic, int sock, const struct usm_inspect_req *req,
		    struct usm_inspect_rep *out)
{
	struct pollfd p = {sock, POLLIN, 0};
	if (poll(&p, 1, ic->timeout_ms) <= 0) {
		ic->timeouts++;
		refuse(out, -ETIMEDOUT, "inspect-timeout");
		return false;
	}
	/* One byte more than an answer: a longer datagram shows as too long. */
	static unsigned char buf[sizeof(struct usm_inspect_rep) + 1];
	ssize_t got = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
	memcpy(out, buf, sizeof(*out));
	if (got == (ssize_t)sizeof(*out) && usm_inspect_rep_valid(out, req->nfuncs, req->kind))
		return true;
	ic->failures++;
	refuse(out, -EPROTO, "inspect-failed");
	log_warn("inspector: %s", got <= 0 ? "no answer" : "malformed answer");
	return false;
}

/* Offsets are trusted only inside this file's executable segments. */
static bool offsets_are_code(int fd, const struct usm_inspect_rep *rep)
{
	struct exec_segments seg;
	bool read = false;
	for (unsigned i = 0; i < rep->nfuncs; i++) {
		if (!rep->funcs[i].found)
			continue;
		if (!read && elf_exec_segments(fd, &seg) != 0)
			return false;
		read = true;
		const struct usm_inspect_func *f = &rep->funcs[i]; /* its entry, then its RETs */
		for (unsigned r = 0; r <= f->nreturns; r++) /* nreturns <= MAX: rep_valid */
			if (!elf_offset_is_code(&seg, r ? f->returns[r - 1] : f->offset))
				return false;
	}
	return true;
}

static void ask_inspector(struct inspect_client *ic, int fd, uint16_t kind,
			  const struct probe_set *set, struct usm_inspect_rep *out)
{
	struct usm_inspect_req req = {.magic = USM_INSPECT_MAGIC, .kind = kind,
				      .nfuncs = (uint16_t)set->nfuncs};
	struct owner_msg m = {.type = OWNER_INSPECT};
	int sv[2];
	for (unsigned i = 0; i < set->nfuncs; i++) {
		snprintf(req.names[i], sizeof(req.names[i]), "%s", set->funcs[i].name);
		memcpy(req.via[i], set->funcs[i].via, sizeof(req.via[i]));
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		refuse(out, -errno, ""); /* our trouble, not the file's */
		return;
	}
	ic->inspections++;
	int fds[2] = {fd, sv[1]};
	int rc = send(sv[0], &req, sizeof(req), MSG_NOSIGNAL) == (ssize_t)sizeof(req) ? 0 : -errno;
	if (rc == 0)
		rc = owner_send(ic->channel, &m, fds, 2);
	close(sv[1]);
	if (rc != 0) {
		refuse(out, rc, "");
	} else if (receive(ic, sv[0], &req, out) && !offsets_are_code(fd, out)) {
		ic->failures++;
		log_warn("inspector answered offsets outside the file's code: refused");
		refuse(out, -EPROTO, "inspect-failed");
	} else if (out->error && !out->reason[0]) {
		snprintf(out->reason, sizeof(out->reason), "inspect-failed");
	}
	close(sv[0]);
}

void inspect_functions(struct inspect_client *ic, int fd, const struct stat *st,
		       const struct probe_set *set, uint16_t kind, struct usm_inspect_rep *out)
{
	for (uint32_t i = 0; i < ic->cache_count; i++) {
		if (same_file(&ic->cache[i], st, set->id)) {
			ic->cache_hits++;
			*out = ic->cache[i].answer; /* and, as a second wall, checked again: */
			if (!out->error && !offsets_are_code(fd, out))
				refuse(out, -EPROTO, "inspect-failed");
			return;
		}
	}
	ask_inspector(ic, fd, kind, set, out);
	/* Our own trouble (no socket, no supervisor) and timeouts (a busy
	 * machine) may pass: not cached, asked again next time. */
	if ((out->error && !out->reason[0]) || out->error == -ETIMEDOUT)
		return;
	uint32_t slot = ic->cache_count;
	if (slot < ic->cache_max) {
		ic->cache_count++;
	} else { /* full: the oldest goes */
		slot = ic->cache_next;
		ic->cache_next = (slot + 1) % ic->cache_max;
		ic->cache_evictions++;
	}
	ic->cache[slot] = (struct inspect_cache_entry){
		.dev = st->st_dev, .ino = st->st_ino, .size = (uint64_t)st->st_size,
		.ctime_sec = st->st_ctim.tv_sec, .ctime_nsec = st->st_ctim.tv_nsec,
		.set_id = set->id, .answer = *out};
}
