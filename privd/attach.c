#include "attach.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_read.h"
#include "ipc_codec.h"
#include "link_closer.h"
#include "log.h"
#include "http_capture.skel.h"
#include "usm_events.h"

/* Entry probes of a set: each function's entry and, for Go, its RETs. */
#define MAX_OFFSETS (ATTACH_MAX_FUNCS * (USM_INSPECT_MAX_RETURNS + 1))

struct attachment {
	uint64_t id;
	uint64_t dev, ino;
	uint8_t set_id, program_type;
	char path[USM_IPC_PATH_MAX];
	int multi_fds[2];       /* uprobe_multi links: entry, return; -1 unused */
	struct bpf_link **links; /* classic uprobes: nlinks of them */
	unsigned nlinks;
};

int attach_table_init(struct attach_table *t, uint32_t max)
{
	t->items = calloc(max, sizeof(*t->items));
	t->count = 0;
	t->max = max;
	t->next_id = 1;
	return t->items ? 0 : -ENOMEM;
}

static void release(struct attachment *a)
{
	for (int i = 0; i < 2; i++)
		if (a->multi_fds[i] >= 0)
			link_closer_push_fd(a->multi_fds[i]);
	for (unsigned i = 0; i < a->nlinks; i++)
		link_closer_push_link(a->links[i]);
	free(a->links);
	a->links = NULL;
	a->nlinks = 0;
	a->multi_fds[0] = a->multi_fds[1] = -1;
}

/* Function i is not probed: the via= function it calls was found. */
static bool replaced(const struct probe_set *set, const struct usm_inspect_rep *q, unsigned i)
{
	return set->funcs[i].replaced_by && q->funcs[set->funcs[i].replaced_by - 1].found;
}

/* Links every resolved function of the set (Go's: also each RET it asks
 * for, with the binary's offsets in the cookies), but one a via= function
 * replaces; all or nothing. */
static int link_set(struct attachment *a, const struct kernel *k, const struct probe_set *set,
		    const struct usm_inspect_rep *q, const char *fd_path)
{
	static uint64_t offsets[2][MAX_OFFSETS], cookies[2][MAX_OFFSETS];
	uint32_t n[2] = {0, 0};
	for (unsigned i = 0; i < set->nfuncs; i++) {
		const struct usm_inspect_func *f = &q->funcs[i];
		uint64_t cookie = ((uint64_t)set->id * USM_MAX_FUNCS + i) | usm_inspect_go_cookie(&q->go);
		bool on = f->found && !replaced(set, q, i);
		bool want[2] = {set->funcs[i].entry && on, set->funcs[i].ret && on};
		for (int dir = 0; dir < 2; dir++) {
			offsets[dir][n[dir]] = f->offset;
			cookies[dir][n[dir]] = cookie;
			n[dir] += want[dir];
		}
		for (unsigned r = 0; set->funcs[i].ret_insns && r < f->nreturns; r++, n[0]++) {
			offsets[0][n[0]] = f->returns[r];
			cookies[0][n[0]] = cookie | USM_GO_COOKIE_RET;
		}
	}
	struct bpf_program *progs[2] = {k->capture->progs.tls_entry, k->capture->progs.tls_return};
	if (!k->uprobe_multi && !(a->links = calloc(n[0] + n[1], sizeof(*a->links))))
		return -ENOMEM;
	for (int dir = 0; dir < 2; dir++) {
		if (n[dir] && k->uprobe_multi) {
			int fd = bpf_link_uprobe_multi(bpf_program__fd(progs[dir]), fd_path, offsets[dir],
						   cookies[dir], n[dir], dir == 1);
			if (fd < 0)
				return fd;
			a->multi_fds[dir] = fd;
		}
		for (uint32_t i = 0; !k->uprobe_multi && i < n[dir]; i++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = dir == 1,
				    .bpf_cookie = cookies[dir][i]);
			struct bpf_link *l = bpf_program__attach_uprobe_opts(progs[dir], -1, fd_path,
									     offsets[dir][i], &opts);
			if (!l)
				return -errno;
			a->links[a->nlinks++] = l;
		}
	}
	return 0;
}

static struct attachment *find(struct attach_table *t, uint64_t dev, uint64_t ino, uint8_t set)
{
	for (uint32_t i = 0; i < t->count; i++)
		if (t->items[i].dev == dev && t->items[i].ino == ino && t->items[i].set_id == set)
			return &t->items[i];
	return NULL;
}

struct wanted {
	const struct stat *st;
	const char *path;
};

/* On overlayfs maps name a file by its path and real inode, on another
 * device than stat's: then the inode and the path must both agree. */
static int is_file(const struct proc_mapping *m, void *ctx)
{
	const struct wanted *w = ctx;
	return m->ino == w->st->st_ino && (m->dev == w->st->st_dev || !strcmp(m->path, w->path));
}

/* Is the file pid's executable (exe) or, if not exe, a file it maps? A
 * maps file that cannot be read whole is a refusal. */
static bool used_by(uint32_t pid, const struct stat *st, const char *path, bool exe)
{
	char exe_link[64];
	struct stat est;
	struct wanted w = {st, path};
	snprintf(exe_link, sizeof(exe_link), "/proc/%u/exe", pid);
	if (stat(exe_link, &est) == 0 && est.st_dev == st->st_dev && est.st_ino == st->st_ino)
		return exe;
	return !exe && proc_maps_foreach(pid, is_file, &w) == 1;
}

/* "The file pid sees at path", opened with O_PATH (which reads nothing: a
 * FIFO or device is not opened for I/O) relative to /proc/PID/root, and
 * accepted only if its (dev, inode) is the process's executable (exe) or,
 * for a library, a file it maps. Path resolution needs no trust: whatever the path resolves to
 * must pass that check, which names one file on the host. Every failure,
 * a missing path included, is the same -EPERM; -ESRCH: no such process. */
static int open_in_process(uint32_t pid, const char *path, struct stat *st, bool exe)
{
	char root[64];
	snprintf(root, sizeof(root), "/proc/%u/root", pid);
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -EPERM;
	/* Relative to the process's root; O_PATH opens nothing for I/O. */
	const char *rel = path + strspn(path, "/");
	int fd = openat(rootfd, *rel ? rel : ".", O_PATH | O_CLOEXEC);
	close(rootfd);
	if (fd < 0)
		return -EPERM;
	if (fstat(fd, st) != 0 || !used_by(pid, st, path, exe)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Refuses with the file's own reason (the collector blocklists it). */
static int refuse(struct usm_attach_rep *rep, int error, const char *reason)
{
	rep->error = error;
	usm_copy_printable(rep->reason, sizeof(rep->reason), reason);
	return error;
}

/* Is the program type's feature on in privd's own configuration, and is
 * pid 0 (privd's own view) asked only for a resident library? (The
 * collector decides what to ask; privd decides what it grants.) */
static bool allowed(const struct usm_config *cfg, const struct usm_attach_req *req)
{
	const bool on[USM_PROG_TYPE_COUNT] = {
		[USM_PROG_SHARED_LIBRARIES] = cfg->enable_native_tls_monitoring,
		[USM_PROG_ISTIO] = cfg->enable_istio_monitoring,
		[USM_PROG_NODEJS] = cfg->enable_nodejs_monitoring,
		[USM_PROG_GO_TLS] = cfg->enable_go_tls_support,
	};
	if (req->program_type >= USM_PROG_TYPE_COUNT || !on[req->program_type])
		return false;
	if (req->pid != 0)
		return true;
	size_t len = strlen(req->path);
	for (const char *p = cfg->resident_libraries; *p && req->program_type == USM_PROG_SHARED_LIBRARIES;) {
		const char *end = strchrnul(p, ':');
		if ((size_t)(end - p) == len && memcmp(p, req->path, len) == 0)
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

/* The checked file, as an O_PATH fd: identity, type and size, before any
 * read open. Returns the fd, or -errno with rep filled. */
static int open_checked(const struct attach_context *ctx, const struct usm_attach_req *req,
			struct stat *st, struct usm_attach_rep *rep)
{
	char reason[64] = "";
	int fd = req->pid ? open_in_process(req->pid, req->path, st,
					    req->program_type != USM_PROG_SHARED_LIBRARIES)
			  : open(req->path, O_PATH | O_CLOEXEC);
	if (req->pid == 0 && fd >= 0 && fstat(fd, st) != 0) {
		close(fd);
		fd = -1;
	}
	if (req->pid == 0 && fd < 0) /* a resident library missing is not the file's fault */
		fd = errno == ENOENT ? -ENOENT : -EPERM;
	if (fd < 0)
		return rep->error = fd;
	/* From here the file is one the process uses: its identity may be told. */
	rep->dev = st->st_dev;
	rep->ino = st->st_ino;
	int rc = S_ISREG(st->st_mode) ? attach_policy_check(ctx->policy, req->set_id,
							     req->program_type, (uint64_t)st->st_size,
							     reason, sizeof(reason))
				      : refuse(rep, -EINVAL, "not-regular-file");
	if (rc == 0)
		return fd;
	if (!rep->reason[0])
		refuse(rep, rc, reason);
	close(fd);
	return rc;
}

/* The set's functions in the file, found by an inspector (never parsed
 * here) in a read-only reopening. 0, or -errno with rep filled. */
static int find_functions(const struct attach_context *ctx, int path_fd, const struct stat *st,
			  const struct probe_set *set, uint8_t type, struct usm_inspect_rep *q,
			  struct usm_attach_rep *rep)
{
	char self_path[64];
	snprintf(self_path, sizeof(self_path), "/proc/self/fd/%d", path_fd);
	/* O_NONBLOCK: a lease its owner holds must not stall privd (45 s). */
	int fd = open(self_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) /* not readable by bpf_user (see PRIVILEGES.md), or leased: not now */
		return errno == EWOULDBLOCK ? (rep->error = -EWOULDBLOCK) : refuse(rep, -errno, "unreadable");
	uint16_t kind = type == USM_PROG_GO_TLS ? USM_INSPECT_GO_TLS : USM_INSPECT_ELF_SYMBOLS;
	inspect_functions(ctx->inspector, fd, st, set, kind, q);
	close(fd);
	if (q->error)
		return refuse(rep, q->error, q->reason);
	for (unsigned i = 0; i < set->nfuncs; i++)
		if (set->funcs[i].required && !q->funcs[i].found && !replaced(set, q, i))
			return refuse(rep, -ENOENT, "no-symbols");
		else if (set->funcs[i].ret_insns && q->funcs[i].found &&
			 (q->funcs[i].nreturns > set->max_returns || !q->funcs[i].nreturns))
			return refuse(rep, -E2BIG, q->funcs[i].nreturns ? "too-many-returns" : "no-returns");
	return 0;
}

/* Links a new file's probes through the checked fd and records it. */
static void add_attachment(struct attach_table *t, const struct kernel *k,
			   const struct probe_set *set, const struct usm_inspect_rep *q, int fd,
			   const struct stat *st, const struct usm_attach_req *req,
			   struct usm_attach_rep *rep)
{
	struct attachment *a = &t->items[t->count];
	char fd_path[64];
	*a = (struct attachment){.dev = st->st_dev, .ino = st->st_ino, .set_id = req->set_id,
				 .program_type = req->program_type, .multi_fds = {-1, -1}};
	usm_copy_printable(a->path, sizeof(a->path), req->path);
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	int rc = link_set(a, k, set, q, fd_path);
	if (rc) {
		release(a);
		/* The kernel refusing these offsets in this file is the file's
		 * fault; lacking a permission or memory is ours: not blocked. */
		char reason[64];
		snprintf(reason, sizeof(reason), "attach: %s", strerror(-rc));
		rep->error = rc == -EINVAL || rc == -EFAULT || rc == -ENOEXEC ? refuse(rep, rc, reason)
									     : rc;
		log_warn("%s (pid %u): attaching %s failed: %s", req->path, req->pid, set->name,
			 strerror(-rc));
		return;
	}
	rep->attachment = a->id = t->next_id++;
	t->count++;
	rep->created = 1;
	log_info("attached %s to %s (dev %llu, inode %llu, pid %u): attachment %llu", set->name,
		 req->path, (unsigned long long)a->dev, (unsigned long long)a->ino, req->pid,
		 (unsigned long long)a->id);
}

void attach_file(struct attach_table *t, const struct attach_context *ctx,
		 const struct usm_attach_req *req, struct usm_attach_rep *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (!ctx->kernel->tls) {
		rep->error = -ENODEV; /* the TLS programs did not load: see the start error */
		return;
	}
	/* Meaning, before anything is opened; one answer for every refusal,
	 * so it tells nothing about any file. */
	struct stat st;
	bool library = req->program_type == USM_PROG_SHARED_LIBRARIES;
	int fd = req->set_id < ctx->policy->nsets && allowed(ctx->cfg, req) &&
			 (!library || attach_policy_set_for_library(ctx->policy, req->path) == req->set_id)
		 ? open_checked(ctx, req, &st, rep)
		 : (rep->error = -EPERM);
	if (fd == -EPERM)
		log_debug("attach %s (pid %u, type %u): refused", req->path, req->pid, req->program_type);
	if (fd < 0)
		return;
	const struct probe_set *set = &ctx->policy->sets[req->set_id];
	struct attachment *a = find(t, st.st_dev, st.st_ino, req->set_id);
	struct usm_inspect_rep q;
	if (a) {
		rep->attachment = a->id;
	} else if (t->count == t->max) {
		rep->error = -ENOSPC; /* our limit, not the file's fault */
	} else if (find_functions(ctx, fd, &st, set, req->program_type, &q, rep) == 0) {
		add_attachment(t, ctx->kernel, set, &q, fd, &st, req, rep);
	} else {
		log_info("%s (pid %u): not attaching %s: %s", req->path, req->pid, set->name,
			 rep->reason);
	}
	close(fd);
}

int detach_attachment(struct attach_table *t, uint64_t id)
{
	for (uint32_t i = 0; i < t->count; i++) {
		if (t->items[i].id != id)
			continue;
		log_info("detaching attachment %llu (%s)", (unsigned long long)id, t->items[i].path);
		release(&t->items[i]);
		t->items[i] = t->items[--t->count];
		return 0;
	}
	return -ENOENT;
}

size_t attach_list_page(const struct attach_table *t, uint64_t cursor, void *payload)
{
	struct usm_attachment_page *pg = payload;
	struct usm_attachment_record *r = (void *)(pg + 1);
	memset(pg, 0, sizeof(*pg));
	uint64_t i = cursor;
	for (; i < t->count && pg->count < USM_PAGE_MAX_RECORDS; i++) {
		const struct attachment *a = &t->items[i];
		r[pg->count] = (struct usm_attachment_record){.attachment = a->id, .dev = a->dev,
							      .ino = a->ino, .set_id = a->set_id,
							      .program_type = a->program_type};
		memcpy(r[pg->count++].path, a->path, sizeof(r->path));
	}
	pg->next_cursor = i < t->count ? i : 0;
	return sizeof(*pg) + pg->count * sizeof(*r);
}

void attach_release_all(struct attach_table *t)
{
	for (uint32_t i = 0; i < t->count; i++)
		release(&t->items[i]);
	t->count = 0;
}
