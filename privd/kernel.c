#include "kernel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "process_events.skel.h"
#include "tls_probes.skel.h"
#include "uprobe_multi.h"
#include "usm_events.h"


static void fail(struct kernel *k, int err, const char *what)
{
	if (k->start_error == 0) {
		k->start_error = err < 0 ? err : -EINVAL;
		snprintf(k->error, sizeof(k->error), "%s", what);
	}
	log_error("%s: %s", what, strerror(err < 0 ? -err : EINVAL));
}

__attribute__((format(printf, 2, 0))) static int libbpf_log(enum libbpf_print_level level,
							    const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && usm_log_get_level() < USM_LOG_DEBUG)
		return 0;
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	if (line[0])
		usm_log(level == LIBBPF_WARN ? USM_LOG_WARN : USM_LOG_DEBUG, "libbpf: %s", line);
	return 0;
}

/* The syscall tracepoints are found through tracefs. */
static void ensure_tracefs(void)
{
	struct stat st;
	if (stat("/sys/kernel/tracing/events", &st) == 0 ||
	    stat("/sys/kernel/debug/tracing/events", &st) == 0)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) == 0)
		log_info("mounted tracefs on /sys/kernel/tracing (the syscall tracepoints need it)");
	else
		log_warn("cannot mount tracefs on /sys/kernel/tracing: %s", strerror(errno));
}

/* uprobe_multi (kernel 6.6+): does the kernel accept a program with that
 * expected attach type? */
static bool probe_uprobe_multi(void)
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

static void load_tls_probes(struct kernel *k)
{
	struct tls_probes_bpf *skel = tls_probes_bpf__open();
	if (!skel) {
		fail(k, -errno, "opening the TLS probe programs");
		return;
	}
	if (k->uprobe_multi) {
		bpf_program__set_expected_attach_type(
			skel->progs.tls_entry, (enum bpf_attach_type)USM_BPF_TRACE_UPROBE_MULTI);
		bpf_program__set_expected_attach_type(
			skel->progs.tls_return, (enum bpf_attach_type)USM_BPF_TRACE_UPROBE_MULTI);
	}
	int err = tls_probes_bpf__load(skel);
	if (err) {
		fail(k, err, "loading the TLS probe programs");
		tls_probes_bpf__destroy(skel);
		return;
	}
	k->tls = skel;
}

void kernel_start(struct kernel *k, const struct usm_config *cfg, const struct attach_policy *policy,
		  pid_t self)
{
	memset(k, 0, sizeof(*k));
	libbpf_set_print(libbpf_log);
	if (!usm_config_need_process_monitor(cfg))
		return; /* clear-text HTTP capture arrives with its own issue */
	ensure_tracefs();
	k->uprobe_multi = cfg->uprobe_multi && probe_uprobe_multi();
	log_info("uprobes attach with %s", k->uprobe_multi ? "uprobe_multi links"
							    : "classic perf-event uprobes");
	start_process_monitor(k, policy, self);
	if (k->proc)
		load_tls_probes(k);
}

int kernel_proc_ring_fd(const struct kernel *k)
{
	return k->proc ? bpf_map__fd(k->proc->maps.proc_events) : -1;
}

int kernel_tls_entry_fd(const struct kernel *k)
{
	return k->tls ? bpf_program__fd(k->tls->progs.tls_entry) : -1;
}

int kernel_tls_return_fd(const struct kernel *k)
{
	return k->tls ? bpf_program__fd(k->tls->progs.tls_return) : -1;
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

uint64_t kernel_proc_events_lost(const struct kernel *k)
{
	return k->proc ? sum_percpu(bpf_map__fd(k->proc->maps.proc_events_lost), 1) : 0;
}

uint64_t kernel_probe_hits(const struct kernel *k)
{
	return k->tls ? sum_percpu(bpf_map__fd(k->tls->maps.probe_hits), USM_PROBE_SLOTS) : 0;
}

void kernel_stop(struct kernel *k)
{
	if (k->proc)
		process_events_bpf__destroy(k->proc);
	if (k->tls)
		tls_probes_bpf__destroy(k->tls);
	k->proc = NULL;
	k->tls = NULL;
}
