#include "discovery.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "discovery_event.h"
#include "log.h"
#include "privd_client.h"
#include "proc_name.h"
#include "usm_events.h"

/* ---- registry ops: requests to privd ---- */

static void attach_through_privd(void *ctx, uint32_t pid, const char *path,
				 uint8_t program_type, struct path_id hint,
				 struct attach_outcome *out)
{
	struct collector *c = ctx;
	memset(out, 0, sizeof(*out));
	/* The set: the library rule's, gotls for Go, openssl for the others. */
	int set = program_type == USM_PROG_SHARED_LIBRARIES
			  ? attach_policy_set_for_library(&c->policy, path)
		  : program_type == USM_PROG_GO_TLS ? c->gotls_set
						    : c->openssl_set;
	if (set < 0) {
		out->rc = -ENOENT;
		return;
	}
	struct usm_attach_rep r;
	out->rc = c->last_attach_rc = privd_attach(c, pid, path, (uint8_t)set, program_type, hint, &r);
	if (out->rc != 0)
		return;
	out->rc = c->last_attach_rc = r.error;
	out->id = (struct path_id){r.dev, r.ino};
	out->attachment = r.attachment;
	memcpy(out->reason, r.reason, sizeof(out->reason));
}

static void detach_through_privd(void *ctx, uint64_t attachment)
{
	int rc = privd_detach(ctx, attachment);
	if (rc != 0 && rc != -ENOENT)
		log_warn("detaching attachment %llu failed: %s", (unsigned long long)attachment,
			 strerror(-rc));
}

const struct registry_ops discovery_registry_ops = {attach_through_privd, detach_through_privd};

/* ---- deciding what a file is ---- */

static bool own_process(const struct collector *c, uint32_t pid)
{
	return pid == c->self_pid || pid == c->privd_pid;
}

/* The program type for an executable, or -1 when it is not traced. With
 * Go TLS on, any other executable may be a Go program: only reading it
 * tells, which the inspector does (privd's ATTACH); one that is not is
 * blocked once per file ("not-go"), as a library without symbols is. */
static int executable_type(const struct collector *c, const char *path)
{
	size_t n = strlen(path);
	if (c->cfg.enable_nodejs_monitoring && n >= 5 && strcmp(path + n - 5, "/node") == 0)
		return c->openssl_set >= 0 ? USM_PROG_NODEJS : -1;
	if (c->cfg.enable_istio_monitoring && strcmp(path, c->cfg.envoy_path) == 0)
		return c->openssl_set >= 0 ? USM_PROG_ISTIO : -1;
	if (c->cfg.enable_go_tls_support && c->gotls_set >= 0)
		return USM_PROG_GO_TLS;
	return -1;
}

/* For a file attached because of a kernel event: how long after it. */
static void record_latency(struct collector *c, enum registry_result res, uint64_t event_ns)
{
	if (res != REGISTRY_ATTACHED || event_ns == 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* bpf_ktime_get_ns()'s clock */
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (now > event_ns)
		latency_add(&c->attach_latency, (now - event_ns) / 1000);
}

/* event_ns: the kernel event's time, 0 for the start-up scan. */
static void on_executable(struct collector *c, uint32_t pid, const char *path, struct path_id id,
			  uint64_t event_ns)
{
	int type = executable_type(c, path);
	if (type >= 0 && !own_process(c, pid))
		record_latency(c,
			       registry_register(c->registry, pid, path, (uint8_t)type, id,
						 usm_monotonic_ms()),
			       event_ns);
}

/* A library is opened before it is mapped, and privd attaches only files
 * a process maps (or executes): an ATTACH sent right after the open event
 * can race the loader's mmap and be refused (-EPERM, nothing blocked).
 * Such a refusal is asked again once, RETRY_AFTER_MS later; at most
 * RETRY_MAX wait at a time (beyond, counted in hook_failed as any
 * refusal). */
#define RETRY_AFTER_MS 2
#define RETRY_MAX 64

struct attach_retry {
	uint32_t pid;
	struct path_id id;
	uint64_t event_ns;
	int64_t at_ms;
	char path[USM_IPC_PATH_MAX];
};

/* retry: this is the one retry, not to be queued again. */
static void on_library(struct collector *c, uint32_t pid, const char *path, struct path_id id,
		       uint64_t event_ns, bool retry)
{
	if (!c->cfg.enable_native_tls_monitoring || own_process(c, pid))
		return;
	enum registry_result res = registry_register(c->registry, pid, path,
						     USM_PROG_SHARED_LIBRARIES, id, usm_monotonic_ms());
	record_latency(c, res, event_ns);
	if (res != REGISTRY_FAILED || c->last_attach_rc != -EPERM || retry || event_ns == 0)
		return;
	if (!c->retries && !(c->retries = calloc(RETRY_MAX, sizeof(*c->retries))))
		return;
	if (c->nretries == RETRY_MAX)
		return;
	struct attach_retry *r = &c->retries[c->nretries++];
	*r = (struct attach_retry){pid, id, event_ns, (int64_t)usm_monotonic_ms() + RETRY_AFTER_MS, ""};
	usm_copy_printable(r->path, sizeof(r->path), path);
}

int discovery_retry(struct collector *c)
{
	int64_t now = (int64_t)usm_monotonic_ms(), next = -1;
	for (unsigned i = 0; i < c->nretries;) {
		struct attach_retry r = c->retries[i];
		if (r.at_ms > now) {
			next = next < 0 || r.at_ms - now < next ? r.at_ms - now : next;
			i++;
			continue;
		}
		c->retries[i] = c->retries[--c->nretries];
		on_library(c, r.pid, r.path, r.id, r.event_ns, true);
	}
	return (int)next;
}

/* ---- start-up: adopt privd's attachments, then scan ---- */

static int adopt_attachments(struct collector *c)
{
	/* Attachments the registry cannot hold would never be detached: they
	 * are given back to privd once the listing is done (detaching while
	 * listing would shift privd's list under the cursor). */
	static struct privd_attachments page; /* about 13 KiB: kept off the stack */
	uint64_t *give_back = NULL;
	size_t ngive = 0;
	uint64_t cursor = 0;
	int rc = 0;
	do {
		rc = privd_list_page(c, cursor, &page);
		if (rc != 0)
			break;
		const struct usm_attachment_record *r = page.records;
		for (uint32_t i = 0; i < page.count; i++) {
			int err = registry_adopt(c->registry, (struct path_id){r[i].dev, r[i].ino},
						 r[i].program_type, r[i].path, r[i].attachment,
						 usm_monotonic_ms());
			if (err < 0 && err != -EEXIST) {
				uint64_t *grown = realloc(give_back, (ngive + 1) * sizeof(*grown));
				if (grown) {
					give_back = grown;
					give_back[ngive++] = r[i].attachment;
				}
			}
		}
		if (page.count)
			log_info("adopted %u attachment(s) privd already holds", page.count);
		cursor = page.next_cursor;
	} while (cursor != 0);
	for (size_t i = 0; i < ngive; i++)
		detach_through_privd(c, give_back[i]);
	free(give_back);
	return rc;
}

/* Scans from `first_pid`; with only_pid, stops after that pid's records. */
static int scan(struct collector *c, uint32_t first_pid, uint32_t only_pid, int only_type)
{
	static struct privd_scan_records page; /* about 13 KiB: kept off the stack */
	uint64_t cursor = first_pid;
	int registered = 0;
	do {
		int rc = privd_scan_page(c, cursor, &page);
		if (rc != 0)
			return rc;
		const struct usm_scan_record *r = page.records;
		for (uint32_t i = 0; i < page.count; i++) {
			if (only_pid && r[i].pid != only_pid)
				return registered;
			c->counters[USM_CTR_SCAN_PROCESSES]++;
			struct path_id id = {r[i].dev, r[i].ino};
			int type = r[i].kind == USM_SCAN_EXE ? executable_type(c, r[i].path)
							     : USM_PROG_SHARED_LIBRARIES;
			if (only_pid && type != only_type)
				continue;
			if (only_pid) {
				/* Control request: attach even if the feature is off. */
				enum registry_result res = registry_register(
					c->registry, r[i].pid, r[i].path, (uint8_t)type, id,
					usm_monotonic_ms());
				registered += res <= REGISTRY_PRESENT;
			} else if (r[i].kind == USM_SCAN_EXE) {
				on_executable(c, r[i].pid, r[i].path, id, 0);
			} else {
				on_library(c, r[i].pid, r[i].path, id, 0, false);
			}
		}
		cursor = page.next_cursor;
	} while (cursor != 0 && !(only_pid && cursor > only_pid));
	return registered;
}

/* resident_libraries: the system TLS libraries, attached now as privd sees
 * them (pid 0 in the request) and kept attached, so that a process that opens one finds
 * its probes already live. Attaching waits for a kernel RCU grace period
 * (bench/README.md, attach_coverage), longer than a short client such as
 * curl takes from opening libssl to its first TLS call. */
static void register_resident_libraries(struct collector *c)
{
	if (!c->cfg.enable_native_tls_monitoring)
		return;
	char list[sizeof(c->cfg.resident_libraries)];
	memcpy(list, c->cfg.resident_libraries, sizeof(list));
	char *save = NULL;
	for (char *path = strtok_r(list, ":", &save); path; path = strtok_r(NULL, ":", &save)) {
		if (attach_policy_set_for_library(&c->policy, path) < 0) {
			log_warn("resident library %s: no library rule of the attach policy matches "
				 "its name; not attached",
				 path);
			continue;
		}
		enum registry_result res = registry_register_resident(
			c->registry, 0, path, USM_PROG_SHARED_LIBRARIES, usm_monotonic_ms());
		if (res == REGISTRY_ATTACHED || res == REGISTRY_PRESENT)
			log_info("resident library %s: attached, kept attached", path);
		else
			log_warn("resident library %s: not attached (%s)", path,
				 res == REGISTRY_BLOCKED ? "blocked, see blocked_processes"
				 : res == REGISTRY_FULL	 ? "max_traced_files reached"
							 : "missing or unreadable");
	}
}

int discovery_start(struct collector *c)
{
	const struct probe_set *ssl = attach_policy_find_set(&c->policy, "openssl");
	const struct probe_set *go = attach_policy_find_set(&c->policy, "gotls");
	c->openssl_set = ssl ? ssl->id : -1;
	c->gotls_set = go ? go->id : -1;
	int rc = adopt_attachments(c);
	if (rc == 0)
		rc = scan(c, 1, 0, 0);
	if (rc < 0)
		return rc;
	register_resident_libraries(c);
	log_info("start-up scan done: %u traced file(s), %u blocked",
		 registry_traced_count(c->registry), registry_blocked_count(c->registry));
	return 0;
}

int discovery_attach_pid(struct collector *c, uint32_t pid, uint8_t program_type)
{
	/* The executable, whatever its name: the operator asked. */
	if ((program_type == USM_PROG_NODEJS || program_type == USM_PROG_ISTIO) && c->openssl_set < 0)
		return -ENOENT;
	if (program_type == USM_PROG_GO_TLS && c->gotls_set < 0)
		return -ENOENT;
	int n = scan(c, pid, pid, program_type);
	if (n == 0 && program_type != USM_PROG_SHARED_LIBRARIES) {
		/* executable_type() did not recognise it: register the exe as asked. */
		static struct privd_scan_records page; /* about 13 KiB: kept off the stack */
		int rc = privd_scan_page(c, pid, &page);
		if (rc != 0)
			return rc;
		const struct usm_scan_record *r = page.records;
		if (page.count > 0 && r[0].pid == pid && r[0].kind == USM_SCAN_EXE) {
			enum registry_result res =
				registry_register(c->registry, pid, r[0].path, program_type,
						  (struct path_id){r[0].dev, r[0].ino},
						  usm_monotonic_ms());
			n = res <= REGISTRY_PRESENT;
		}
	}
	return n;
}

/* ---- events ---- */

/* Kernel dev_t (MAJOR << 20 | MINOR) to the form stat(2) reports. */
static uint64_t user_dev(uint64_t kdev)
{
	return makedev((unsigned)(kdev >> 20), (unsigned)(kdev & 0xfffff));
}

/* The names an exec event carries: kept for the process's rows; a part
 * refused is said once per event, counted, and the process is named by
 * its command (or keeps the part that was valid). */
static void on_exec_names(struct collector *c, const struct usm_proc_event *e)
{
	struct proc_name n;
	char why[96];
	if (proc_name_from_event(e, &n, why, sizeof(why)) != 0) {
		c->counters[USM_CTR_SERVICE_NAMES_REJECTED]++;
		char comm[USM_COMM_LEN];
		usm_copy_printable(comm, sizeof(comm), e->comm);
		log_warn("pid %u (%s): %s; named by its command", e->pid, comm, why);
	}
	http_monitor_process_names(&c->http, e->pid, &n);
}

/* A child forked without exec runs its parent's image in its parent's
 * environment and cgroup: it is named as its parent. The kernel sends
 * this only for parents whose exec found something (usm_events.h); a
 * parent whose names the collector refused or did not keep is counted. */
static void on_fork(struct collector *c, const struct usm_fork_event *f)
{
	if (http_monitor_process_fork(&c->http, f->ppid, f->pid) == -ENOENT)
		c->counters[USM_CTR_FORKS_PARENT_UNNAMED]++;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	const struct usm_proc_event *e = data;
	if (!discovery_event_valid(data, size)) {
		/* the first one said in full: the counter says how many */
		if (c->counters[USM_CTR_PROC_EVENTS_MALFORMED] == 0)
			log_warn("discovery event refused (counted in proc_events_malformed): %zu "
				 "bytes, type %u, pid %u, path_len %u, comm %.16s, path %.64s",
				 size, size >= 4 ? e->type : 0, size >= 8 ? e->pid : 0,
				 size == sizeof(*e) ? e->path_len : 0, size == sizeof(*e) ? e->comm : "",
				 size == sizeof(*e) ? e->path : "");
		c->counters[USM_CTR_PROC_EVENTS_MALFORMED]++;
		return 0;
	}
	c->counters[USM_CTR_PROC_EVENTS]++;
	if (e->type == USM_EVENT_FORK) {
		on_fork(c, data);
		return 0;
	}
	struct path_id id = {user_dev(e->dev), e->ino};
	switch (e->type) {
	case USM_EVENT_EXEC:
		/* An exec replaces the image: what the old one mapped is gone. */
		registry_unregister(c->registry, e->pid, usm_monotonic_ms());
		on_exec_names(c, e);
		on_executable(c, e->pid, e->path, id, e->ktime_ns);
		break;
	case USM_EVENT_LIB_OPEN:
		on_library(c, e->pid, e->path, id, e->ktime_ns, false);
		break;
	case USM_EVENT_EXIT:
		registry_unregister(c->registry, e->pid, usm_monotonic_ms());
		/* The capture ring wakes us less often than this one: apply
		 * what it holds (the process's last reads, writes and closes
		 * were committed before its exit) before dropping the process. */
		while (http_monitor_consume(&c->http))
			;
		http_monitor_process_exit(&c->http, e->pid);
		break;
	}
	return 0;
}

int discovery_open_ring(struct collector *c, int fd)
{
	c->proc_ring = ring_buffer__new(fd, on_event, c, NULL);
	return c->proc_ring ? 0 : -errno;
}

static bool pid_alive(void *ctx, uint32_t pid)
{
	(void)ctx;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

unsigned discovery_prune(struct collector *c)
{
	http_monitor_prune_names(&c->http, pid_alive, c);
	return registry_prune(c->registry, pid_alive, c, usm_monotonic_ms());
}
