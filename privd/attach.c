#include "attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "link_closer.h"
#include "uprobe_multi.h"
#include "elf_symbols.h"
#include "ipc_codec.h"
#include "log.h"
#include "http_capture.skel.h"
#include "usm_events.h"

#define MAX_LINKS (ATTACH_MAX_FUNCS * 2)

struct attachment {
	uint64_t id;
	uint64_t dev, ino;
	uint8_t set_id, program_type;
	char path[USM_IPC_PATH_MAX];
	int multi_fds[2];              /* uprobe_multi links: entry, return; -1 unused */
	struct bpf_link *links[MAX_LINKS]; /* classic uprobes */
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
	a->nlinks = 0;
	a->multi_fds[0] = a->multi_fds[1] = -1;
}

/* Links every resolved function of the set; all or nothing. */
static int link_set(struct attachment *a, const struct kernel *k, const struct probe_set *set,
		    const struct elf_func_query *q, const char *fd_path)
{
	uint64_t offsets[2][ATTACH_MAX_FUNCS], cookies[2][ATTACH_MAX_FUNCS];
	uint32_t n[2] = {0, 0};
	for (unsigned i = 0; i < set->nfuncs; i++) {
		if (!q[i].found)
			continue;
		uint64_t cookie = (uint64_t)set->id * USM_MAX_FUNCS + i;
		bool want[2] = {set->funcs[i].entry, set->funcs[i].ret};
		for (int dir = 0; dir < 2; dir++) {
			if (!want[dir])
				continue;
			offsets[dir][n[dir]] = q[i].offset;
			cookies[dir][n[dir]++] = cookie;
		}
	}
	int prog[2] = {kernel_tls_prog_fd(k, false), kernel_tls_prog_fd(k, true)};
	for (int dir = 0; dir < 2; dir++) {
		if (n[dir] == 0)
			continue;
		if (k->uprobe_multi) {
			int fd = bpf_link_uprobe_multi(prog[dir], fd_path, offsets[dir], cookies[dir], n[dir],
						   dir == 1);
			if (fd < 0)
				return fd;
			a->multi_fds[dir] = fd;
			continue;
		}
		struct bpf_program *p = dir ? k->capture->progs.tls_return : k->capture->progs.tls_entry;
		for (uint32_t i = 0; i < n[dir]; i++) {
			LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = dir == 1,
				    .bpf_cookie = cookies[dir][i]);
			struct bpf_link *l =
				bpf_program__attach_uprobe_opts(p, -1, fd_path, offsets[dir][i], &opts);
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

/* Opens what pid (0: privd itself) sees at path, resolved in its root. */
static int open_in_process(uint32_t pid, const char *path)
{
	char root[64];
	snprintf(root, sizeof(root), "/proc/%u/root", pid ? pid : (uint32_t)getpid());
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	int err = errno;
	close(rootfd);
	return fd < 0 ? -err : fd;
}

static void set_reason(struct usm_attach_rep *rep, const char *reason)
{
	usm_copy_printable(rep->reason, sizeof(rep->reason), reason);
}

void attach_file(struct attach_table *t, const struct kernel *k, const struct attach_policy *policy,
		 const struct usm_attach_req *req, struct usm_attach_rep *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (!k->tls) {
		rep->error = -ENODEV; /* the TLS programs did not load: see the start error */
		return;
	}
	if (req->set_id >= policy->nsets) {
		rep->error = -EINVAL;
		return;
	}
	const struct probe_set *set = &policy->sets[req->set_id];
	int fd = open_in_process(req->pid, req->path);
	if (fd < 0) {
		rep->error = fd; /* the process or the file vanished: not the file's fault */
		return;
	}
	struct stat st;
	char reason[64] = "";
	if (fstat(fd, &st) != 0) {
		rep->error = -errno;
		goto out;
	}
	rep->dev = st.st_dev;
	rep->ino = st.st_ino;
	if (!S_ISREG(st.st_mode)) {
		rep->error = -EINVAL;
		set_reason(rep, "not-regular-file");
		goto out;
	}
	int rc = attach_policy_check(policy, req->set_id, req->program_type, (uint64_t)st.st_size,
				     reason, sizeof(reason));
	if (rc) {
		rep->error = rc;
		set_reason(rep, reason);
		goto out;
	}
	struct attachment *a = find(t, st.st_dev, st.st_ino, req->set_id);
	if (a) {
		rep->attachment = a->id;
		goto out;
	}
	if (t->count == t->max) {
		rep->error = -ENOSPC; /* our limit, not the file's fault */
		goto out;
	}

	struct elf_func_query q[ATTACH_MAX_FUNCS];
	for (unsigned i = 0; i < set->nfuncs; i++)
		q[i] = (struct elf_func_query){.name = set->funcs[i].name};
	rc = elf_resolve_functions(fd, q, set->nfuncs, reason, sizeof(reason));
	if (rc) {
		rep->error = rc;
		set_reason(rep, reason[0] ? reason : "bad-elf");
		goto out;
	}
	for (unsigned i = 0; i < set->nfuncs; i++) {
		if (set->funcs[i].required && !q[i].found) {
			rep->error = -ENOENT;
			set_reason(rep, "no-symbols");
			log_info("%s (pid %u): no %s: not attaching %s", req->path, req->pid,
				 set->funcs[i].name, set->name);
			goto out;
		}
	}

	a = &t->items[t->count];
	memset(a, 0, sizeof(*a));
	a->multi_fds[0] = a->multi_fds[1] = -1;
	char fd_path[64];
	snprintf(fd_path, sizeof(fd_path), "/proc/self/fd/%d", fd);
	rc = link_set(a, k, set, q, fd_path);
	if (rc) {
		release(a);
		rep->error = rc;
		/* The kernel refusing these offsets in this file is the file's
		 * fault; lacking a permission or memory is ours: not blocked. */
		if (rc == -EINVAL || rc == -EFAULT || rc == -ENOEXEC) {
			snprintf(reason, sizeof(reason), "attach: %s", strerror(-rc));
			set_reason(rep, reason);
		}
		log_warn("%s (pid %u): attaching %s failed: %s", req->path, req->pid, set->name,
			 strerror(-rc));
		goto out;
	}
	a->id = t->next_id++;
	a->dev = st.st_dev;
	a->ino = st.st_ino;
	a->set_id = req->set_id;
	a->program_type = req->program_type;
	usm_copy_printable(a->path, sizeof(a->path), req->path);
	t->count++;
	rep->attachment = a->id;
	rep->created = 1;
	log_info("attached %s to %s (dev %llu, inode %llu, pid %u): attachment %llu", set->name,
		 req->path, (unsigned long long)a->dev, (unsigned long long)a->ino, req->pid,
		 (unsigned long long)a->id);
out:
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
		struct usm_attachment_record *rec = &r[pg->count++];
		memset(rec, 0, sizeof(*rec));
		rec->attachment = a->id;
		rec->dev = a->dev;
		rec->ino = a->ino;
		rec->set_id = a->set_id;
		rec->program_type = a->program_type;
		memcpy(rec->path, a->path, sizeof(rec->path));
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
