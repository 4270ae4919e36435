#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ipc_codec.h"

#define MAX_RECORDS_PER_PROCESS (1 + ATTACH_MAX_LIBRARIES)

struct page {
	struct usm_scan_page *hdr;
	struct usm_scan_record *rec;
};

static void add(struct page *p, uint32_t pid, uint8_t kind, uint8_t set_id, uint64_t dev,
		uint64_t ino, const char *path)
{
	struct usm_scan_record *r = &p->rec[p->hdr->count++];
	memset(r, 0, sizeof(*r));
	r->pid = pid;
	r->kind = kind;
	r->set_id = set_id;
	r->dev = dev;
	r->ino = ino;
	usm_copy_printable(r->path, sizeof(r->path), path);
}

static void scan_exe(struct page *p, uint32_t pid)
{
	char link[64], path[USM_IPC_PATH_MAX];
	struct stat st;
	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	ssize_t n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0 || stat(link, &st) != 0)
		return; /* kernel thread, or gone */
	path[n] = '\0';
	if (path[0] == '/')
		add(p, pid, USM_SCAN_EXE, 0, st.st_dev, st.st_ino, path);
}

/* Mapped files matching a library rule, each file once. Lines read:
 * "start-end perms offset MAJ:MIN inode   /path". */
static void scan_maps(struct page *p, const struct attach_policy *policy, uint32_t pid,
		      unsigned budget)
{
	char name[64];
	snprintf(name, sizeof(name), "/proc/%u/maps", pid);
	FILE *f = fopen(name, "re");
	if (!f)
		return;
	char line[512];
	uint64_t seen[MAX_RECORDS_PER_PROCESS];
	unsigned nseen = 0;
	while (budget > 0 && fgets(line, sizeof(line), f)) {
		unsigned maj, min;
		unsigned long long ino;
		int off = 0;
		if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &min, &ino, &off) != 3 || off == 0)
			continue;
		char *path = line + off;
		path[strcspn(path, "\n")] = '\0';
		if (path[0] != '/' || ino == 0 || strstr(path, " (deleted)"))
			continue;
		int set = attach_policy_set_for_library(policy, path);
		if (set < 0)
			continue;
		bool dup = false;
		for (unsigned i = 0; i < nseen; i++)
			dup |= seen[i] == ino;
		if (dup)
			continue;
		seen[nseen++] = ino;
		add(p, pid, USM_SCAN_LIBRARY, (uint8_t)set, makedev(maj, min), ino, path);
		budget--;
	}
	fclose(f);
}

static int compare_pid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

size_t scan_page(const struct attach_policy *policy, uint64_t cursor, const pid_t *ignored,
		 size_t nignored, void *payload)
{
	struct page p = {payload, (struct usm_scan_record *)((struct usm_scan_page *)payload + 1)};
	memset(p.hdr, 0, sizeof(*p.hdr));

	/* /proc lists pids in no promised order: collect those at or after
	 * the cursor, sorted, so pages neither skip nor repeat a process. */
	static uint32_t pids[1 << 16];
	size_t npids = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL && npids < sizeof(pids) / sizeof(pids[0])) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		if (*end == '\0' && pid > 0 && pid >= cursor && pid <= UINT32_MAX)
			pids[npids++] = (uint32_t)pid;
	}
	if (d)
		closedir(d);
	qsort(pids, npids, sizeof(pids[0]), compare_pid);

	size_t i = 0;
	for (; i < npids; i++) {
		if (USM_PAGE_MAX_RECORDS - p.hdr->count < MAX_RECORDS_PER_PROCESS)
			break;
		bool skip = false;
		for (size_t j = 0; j < nignored; j++)
			skip |= (pid_t)pids[i] == ignored[j];
		if (skip)
			continue;
		scan_exe(&p, pids[i]);
		scan_maps(&p, policy, pids[i], MAX_RECORDS_PER_PROCESS - 1);
	}
	p.hdr->next_cursor = i < npids ? pids[i] : 0;
	return sizeof(*p.hdr) + p.hdr->count * sizeof(*p.rec);
}
