#include "kernel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "http_capture.skel.h"
#include "libbpf_log.h"
#include "link_closer.h"
#include "process_events.skel.h"
#include "usm_events.h"


/* union bpf_attr's link_create, as kernel 6.6 lays it out. */
struct uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;
	uint32_t attach_type;
	uint32_t flags;
	uint64_t path;
	uint64_t offsets;
	uint64_t ref_ctr_offsets;
	uint64_t cookies;
	uint32_t cnt;
	uint32_t multi_flags;
	uint32_t pid;
	uint32_t pad;
};

#define USM_BPF_F_UPROBE_MULTI_RETURN 1u

int bpf_link_uprobe_multi(int prog_fd, const char *path, const uint64_t *offsets,
			  const uint64_t *cookies, uint32_t n, bool ret)
{
	struct uprobe_multi_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = USM_BPF_TRACE_UPROBE_MULTI;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cookies = (uint64_t)(uintptr_t)cookies;
	attr.cnt = n;
	attr.multi_flags = ret ? USM_BPF_F_UPROBE_MULTI_RETURN : 0;
	int fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

bool uprobe_multi_supported(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = (enum bpf_attach_type)USM_BPF_TRACE_UPROBE_MULTI);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "usm_probe", "GPL", insns, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void fail(struct kernel *k, int err, const char *what)
{
	if (k->start_error == 0) {
		k->start_error = err < 0 ? err : -EINVAL;
		snprintf(k->error, sizeof(k->error), "%s", what);
	}
	log_error("%s: %s", what, strerror(err < 0 ? -err : EINVAL));
}

static void start_process_monitor(struct kernel *k, const struct attach_policy *policy, pid_t self)
{
	struct process_events_bpf *skel = process_events_bpf__open();
	if (!skel) {
		fail(k, -errno, "opening the process events program");
		return;
	}
	skel->rodata->ignored_tgid = (uint32_t)self;
	unsigned n = 0;
	for (unsigned i = 0; i < policy->nlibraries && n < USM_MAX_LIB_RULES; i++, n++) {
		memcpy((char *)skel->rodata->lib_prefix[n], policy->libraries[i].prefix,
		       USM_LIB_PREFIX_MAX);
		skel->rodata->lib_set[n] = policy->libraries[i].set_id;
	}
	skel->rodata->nlib_rules = n;
	int err = process_events_bpf__load(skel);
	if (err == 0)
		err = process_events_bpf__attach(skel);
	if (err) {
		fail(k, err, "loading the process events program");
		process_events_bpf__destroy(skel);
		return;
	}
	k->proc = skel;
}

/* The capture programs: TLS probes (linked to files by attach.c) and the
 * socket syscall tracepoints, attached here. */
static void load_capture(struct kernel *k, const struct usm_config *cfg,
			 const struct attach_policy *policy, pid_t self)
{
	struct http_capture_bpf *skel = http_capture_bpf__open();
	if (!skel) {
		fail(k, -errno, "opening the HTTP capture programs");
		return;
	}
	for (unsigned i = 0; i < policy->nsets; i++)
		for (unsigned f = 0; f < policy->sets[i].nfuncs; f++)
			skel->rodata->tls_role[i * USM_MAX_FUNCS + f] = policy->sets[i].funcs[f].role;
	skel->rodata->capture_bytes = cfg->http_capture_bytes;
	skel->rodata->capture_plaintext = cfg->enable_http_monitoring;
	skel->rodata->ignored_tgid = (uint32_t)self;
	skel->rodata->ignored_uid[0] = cfg->collector_user.uid;
	skel->rodata->ignored_uid[1] = cfg->api_user.uid;
	skel->rodata->ignored_port = (uint16_t)atoi(strrchr(cfg->api_listen, ':') + 1);
	uint32_t ring = 1u << 20; /* a power of two, at least what was asked */
	while (ring < cfg->http_ring_buffer_mb << 20)
		ring <<= 1;
	int err = bpf_map__set_max_entries(skel->maps.http_events, ring);
	for (int i = 0; i < 2 && k->uprobe_multi && err == 0; i++)
		err = bpf_program__set_expected_attach_type(
			i ? skel->progs.tls_return : skel->progs.tls_entry,
			(enum bpf_attach_type)USM_BPF_TRACE_UPROBE_MULTI);
	struct bpf_program *p; /* without clear text, the syscall programs only bind TLS sessions */
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoattach(p, cfg->enable_http_monitoring ||
						       !strstr(bpf_program__section_name(p), "sys_exit"));
	if (err == 0)
		err = http_capture_bpf__load(skel);
	if (err == 0)
		err = http_capture_bpf__attach(skel);
	if (err) {
		fail(k, err, "loading the HTTP capture programs");
		http_capture_bpf__destroy(skel);
		return;
	}
	k->capture = skel;
	k->tls = usm_config_need_process_monitor(cfg);
}

void kernel_start(struct kernel *k, const struct usm_config *cfg, const struct attach_policy *policy,
		  pid_t self)
{
	memset(k, 0, sizeof(*k));
	usm_libbpf_log_init();
	if (usm_config_monitoring_disabled(cfg))
		return;
	k->uprobe_multi = cfg->uprobe_multi && uprobe_multi_supported();
	log_info("uprobes attach with %s", k->uprobe_multi ? "uprobe_multi links"
							    : "classic perf-event uprobes");
	/* The process monitor runs with clear-text capture alone too: the
	 * collector drops an exited process's connections on its exit event. */
	start_process_monitor(k, policy, self);
	if (k->proc)
		load_capture(k, cfg, policy, self);
}

unsigned kernel_ring_fds(const struct kernel *k, int fds[2])
{
	fds[0] = k->proc ? bpf_map__fd(k->proc->maps.proc_events) : -1;
	fds[1] = k->capture ? bpf_map__fd(k->capture->maps.http_events) : -1;
	return (fds[0] >= 0) + (fds[0] >= 0 && fds[1] >= 0);
}

/* Sum of a per-CPU u64 array's slots [0, nslots). */
static uint64_t sum_percpu(int map_fd, uint32_t nslots)
{
	int ncpu = libbpf_num_possible_cpus();
	if (map_fd < 0 || ncpu <= 0 || ncpu > 4096)
		return 0;
	static uint64_t values[4096];
	uint64_t total = 0;
	for (uint32_t key = 0; key < nslots; key++) {
		if (bpf_map_lookup_elem(map_fd, &key, values) != 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			total += values[c];
	}
	return total;
}

void kernel_counters(const struct kernel *k, struct usm_privd_status *s)
{
	if (k->proc)
		s->proc_events_lost = sum_percpu(bpf_map__fd(k->proc->maps.proc_events_lost), 1);
	if (k->capture) {
		s->http_events_lost = sum_percpu(bpf_map__fd(k->capture->maps.http_events_lost), 1);
		s->probe_hits = sum_percpu(bpf_map__fd(k->capture->maps.probe_hits), USM_PROBE_SLOTS);
	}
}

void kernel_stop(struct kernel *k)
{
	/* Uprobe and classic tracepoint links wait for a grace period when
	 * they close: close them all at once, in parallel (DESIGN.md). */
	if (k->proc)
		link_closer_push_skeleton_links(k->proc->skeleton);
	if (k->capture)
		link_closer_push_skeleton_links(k->capture->skeleton);
	link_closer_drain_and_stop();
	if (k->proc)
		process_events_bpf__destroy(k->proc);
	if (k->capture)
		http_capture_bpf__destroy(k->capture);
}
