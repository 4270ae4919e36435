#include "scan.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ipc_codec.h"
#include "log.h"
#include "proc_read.h"

#define MAX_RECORDS_PER_PROCESS (1 + ATTACH_MAX_LIBRARIES)
#define PROCESSES_PER_PAGE (USM_PAGE_MAX_RECORDS / MAX_RECORDS_PER_PROCESS)

struct page {
	struct usm_scan_page *hdr;
	struct usm_scan_record *rec;
	const struct attach_policy *policy;
	uint32_t pid, first; /* the process being scanned, its first record */
};

static void add(struct page *p, uint8_t kind, uint8_t set_id, uint64_t dev, uint64_t ino,
		const char *path)
{
	struct usm_scan_record *r = &p->rec[p->hdr->count++];
	*r = (struct usm_scan_record){.pid = p->pid, .kind = kind, .set_id = set_id, .dev = dev,
				      .ino = ino};
	usm_copy_printable(r->path, sizeof(r->path), path);
}

/* A kernel thread, a process gone, or a path longer than a message
 * carries: nothing to report (never a cut path). */
static void scan_exe(struct page *p)
{
	char link[64], path[USM_IPC_PATH_MAX];
	struct stat st;
	snprintf(link, sizeof(link), "/proc/%u/exe", p->pid);
	if (proc_read_link(p->pid, "exe", path, sizeof(path)) == 0 && stat(link, &st) == 0 &&
	    path[0] == '/')
		add(p, USM_SCAN_EXE, 0, st.st_dev, st.st_ino, path);
}

/* A mapped file matching a library rule, each (dev, inode) once. */
static int on_mapping(const struct proc_mapping *m, void *ctx)
{
	struct page *p = ctx;
	int set = attach_policy_set_for_library(p->policy, m->path);
	if (set < 0 || strlen(m->path) >= USM_IPC_PATH_MAX)
		return 0;
	for (uint32_t i = p->first; i < p->hdr->count; i++)
		if (p->rec[i].kind == USM_SCAN_LIBRARY && p->rec[i].dev == m->dev &&
		    p->rec[i].ino == m->ino)
			return 0;
	add(p, USM_SCAN_LIBRARY, (uint8_t)set, m->dev, m->ino, m->path);
	return p->hdr->count - p->first == MAX_RECORDS_PER_PROCESS; /* its room in the page */
}

/* The PROCESSES_PER_PAGE smallest pids at or after cursor, ascending:
 * /proc lists pids in no promised order, and this keeps pages from
 * skipping or repeating a process without holding every pid. */
static size_t next_pids(uint64_t cursor, uint32_t pids[PROCESSES_PER_PAGE])
{
	size_t n = 0;
	DIR *d = opendir("/proc");
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		if (*end != '\0' || pid == 0 || pid < cursor || pid > UINT32_MAX)
			continue;
		if (n == PROCESSES_PER_PAGE && pid >= pids[n - 1])
			continue;
		size_t i = n < PROCESSES_PER_PAGE ? n++ : n - 1;
		for (; i > 0 && pids[i - 1] > pid; i--)
			pids[i] = pids[i - 1];
		pids[i] = (uint32_t)pid;
	}
	if (d)
		closedir(d);
	return n;
}

size_t scan_page(const struct attach_policy *policy, uint64_t cursor, const pid_t *ignored,
		 size_t nignored, void *payload)
{
	struct page p = {payload, (struct usm_scan_record *)((struct usm_scan_page *)payload + 1),
			 policy, 0, 0};
	memset(p.hdr, 0, sizeof(*p.hdr));
	uint32_t pids[PROCESSES_PER_PAGE];
	size_t npids = next_pids(cursor, pids);
	for (size_t i = 0; i < npids; i++) {
		bool skip = false;
		for (size_t j = 0; j < nignored; j++)
			skip |= (pid_t)pids[i] == ignored[j];
		if (skip)
			continue;
		p.pid = pids[i];
		p.first = p.hdr->count;
		scan_exe(&p);
		int rc = proc_maps_foreach(pids[i], on_mapping, &p);
		if (rc < 0 && rc != -ENOENT && rc != -ESRCH)
			log_debug("scan: /proc/%u/maps: %s", pids[i], strerror(-rc));
	}
	p.hdr->next_cursor = npids == PROCESSES_PER_PAGE ? (uint64_t)pids[npids - 1] + 1 : 0;
	return sizeof(*p.hdr) + p.hdr->count * sizeof(*p.rec);
}
