// SPDX-License-Identifier: Apache-2.0
/* empty-probes: attaches programs that do nothing but count themselves,
 * for every process that maps one file, and reports their hits. The
 * floor of the overhead benchmarks: what any uprobe-based tool pays per
 * call, whatever its programs do.
 *
 *   empty-probes FILE FUNCTION...
 *       an entry and a return uprobe on each named function (resolved by
 *       libbpf 1.1's bpf_program__attach_uprobe_opts; classic perf-event
 *       uprobes): https_overhead's floor on libssl.
 *   empty-probes --offsets FILE OFFSET...
 *       an entry uprobe at each file offset (decimal or 0x hex), as usm
 *       attaches Go's crypto/tls: no return probes (a uretprobe breaks
 *       Go's moving stacks; usm probes each RET instruction with an entry
 *       probe instead). All offsets in one uprobe_multi link, as usm-privd
 *       links them when the kernel has uprobe_multi (6.6+), else one
 *       classic uprobe each, as usm-privd falls back; --classic forces
 *       the latter. go_tls_overhead's floor.
 *
 * Prints "attached N" once the N probes are live (and "multi" or
 * "classic" after N in offset mode). Then each line read on stdin is
 * answered with "ENTRY_HITS RETURN_HITS" (totals since attach; offset
 * mode has entry hits only); end of input detaches and exits, so the
 * probes never outlive the benchmark that started them, even if it dies.
 * Root (CAP_BPF and CAP_PERFMON) required. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "empty_probes.skel.h"

#define MAX_OFFSETS 1024
#define BPF_TRACE_UPROBE_MULTI_ 48 /* enum bpf_attach_type, kernel 6.6; not in libbpf 1.1 */

/* union bpf_attr's link_create for uprobe_multi, as kernel 6.6 lays it
 * out (privd/kernel.c has the same). */
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

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

/* Sum of one slot of the per-CPU hits map. */
static unsigned long long hits(struct empty_probes_bpf *skel, __u32 slot)
{
	int ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return 0;
	__u64 *values = calloc((size_t)ncpu, sizeof(*values));
	unsigned long long sum = 0;
	if (values && bpf_map__lookup_elem(skel->maps.hits, &slot, sizeof(slot), values,
					   sizeof(*values) * (size_t)ncpu, 0) == 0)
		for (int i = 0; i < ncpu; i++)
			sum += values[i];
	free(values);
	return sum;
}

/* Answers each line on stdin with the totals until end of input. */
static void serve(struct empty_probes_bpf *skel)
{
	char line[64];
	while (fgets(line, sizeof(line), stdin)) {
		printf("%llu %llu\n", hits(skel, 0), hits(skel, 1));
		fflush(stdout);
	}
}

/* Does the kernel load a program for uprobe_multi links (6.6+)? The
 * same test as privd's uprobe_multi_supported(). */
static bool uprobe_multi_supported(void)
{
	struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		    .expected_attach_type = (enum bpf_attach_type)BPF_TRACE_UPROBE_MULTI_);
	int fd = bpf_prog_load(BPF_PROG_TYPE_KPROBE, "probe_multi", "GPL", insns, 2, &opts);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int link_uprobe_multi(int prog_fd, const char *path, const uint64_t *offsets, uint32_t n)
{
	struct uprobe_multi_attr attr;
	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = BPF_TRACE_UPROBE_MULTI_;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cnt = n;
	int fd = (int)syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof(attr));
	return fd < 0 ? -errno : fd;
}

static int by_name(const char *file, char **funcs, int nfunc)
{
	struct empty_probes_bpf *skel = empty_probes_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty-probes: cannot load the programs: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_link **links = calloc((size_t)nfunc * 2, sizeof(*links));
	int rc = links ? 0 : 1;
	for (int i = 0; i < nfunc * 2 && rc == 0; i++) {
		const char *func = funcs[i / 2];
		bool ret = i % 2;
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = ret);
		links[i] = bpf_program__attach_uprobe_opts(ret ? skel->progs.empty_return
							       : skel->progs.empty_entry,
							   -1 /* every process */, file, 0, &opts);
		if (!links[i]) {
			fprintf(stderr, "empty-probes: %s probe on %s in %s: %s\n",
				ret ? "return" : "entry", func, file, strerror(errno));
			rc = 1;
		}
	}
	if (rc == 0) {
		printf("attached %d\n", nfunc * 2);
		fflush(stdout);
		serve(skel);
	}
	for (int i = 0; links && i < nfunc * 2; i++)
		bpf_link__destroy(links[i]);
	free(links);
	empty_probes_bpf__destroy(skel);
	return rc;
}

static int by_offset(const char *file, char **args, int n, bool classic)
{
	static uint64_t offsets[MAX_OFFSETS];
	if (n > MAX_OFFSETS) {
		fprintf(stderr, "empty-probes: at most %d offsets\n", MAX_OFFSETS);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		char *end;
		errno = 0;
		offsets[i] = strtoull(args[i], &end, 0);
		if (errno || *end || end == args[i]) {
			fprintf(stderr, "empty-probes: not an offset: %s\n", args[i]);
			return 2;
		}
	}
	bool multi = !classic && uprobe_multi_supported();
	struct empty_probes_bpf *skel = empty_probes_bpf__open();
	int err = skel ? 0 : -errno;
	if (err == 0 && multi)
		err = bpf_program__set_expected_attach_type(
			skel->progs.empty_entry, (enum bpf_attach_type)BPF_TRACE_UPROBE_MULTI_);
	if (err == 0)
		err = bpf_program__set_autoload(skel->progs.empty_return, false);
	if (err == 0)
		err = empty_probes_bpf__load(skel);
	if (err) {
		fprintf(stderr, "empty-probes: cannot load the programs: %s\n", strerror(-err));
		empty_probes_bpf__destroy(skel);
		return 1;
	}
	int multi_fd = -1, rc = 0, nlinks = 0;
	struct bpf_link **links = NULL;
	if (multi) {
		multi_fd = link_uprobe_multi(bpf_program__fd(skel->progs.empty_entry), file, offsets,
					     (uint32_t)n);
		if (multi_fd < 0) {
			fprintf(stderr, "empty-probes: uprobe_multi link on %s: %s\n", file,
				strerror(-multi_fd));
			rc = 1;
		}
	} else if (!(links = calloc((size_t)n, sizeof(*links)))) {
		rc = 1;
	}
	for (int i = 0; !multi && rc == 0 && i < n; i++, nlinks++) {
		links[i] = bpf_program__attach_uprobe_opts(skel->progs.empty_entry, -1, file,
							   (size_t)offsets[i], NULL);
		if (!links[i]) {
			fprintf(stderr, "empty-probes: entry probe at 0x%llx in %s: %s\n",
				(unsigned long long)offsets[i], file, strerror(errno));
			rc = 1;
		}
	}
	if (rc == 0) {
		printf("attached %d %s\n", n, multi ? "multi" : "classic");
		fflush(stdout);
		serve(skel);
	}
	if (multi_fd >= 0)
		close(multi_fd);
	for (int i = 0; i < nlinks; i++)
		bpf_link__destroy(links[i]);
	free(links);
	empty_probes_bpf__destroy(skel);
	return rc;
}

int main(int argc, char **argv)
{
	libbpf_set_print(libbpf_quiet);
	bool offsets = argc > 1 && strcmp(argv[1], "--offsets") == 0;
	bool classic = offsets && argc > 2 && strcmp(argv[2], "--classic") == 0;
	int first = 1 + offsets + classic; /* FILE */
	if (argc < first + 2) {
		fprintf(stderr, "usage: empty-probes FILE FUNCTION...\n"
				"       empty-probes --offsets [--classic] FILE OFFSET...\n");
		return 2;
	}
	return offsets ? by_offset(argv[first], argv + first + 1, argc - first - 1, classic)
		       : by_name(argv[first], argv + first + 1, argc - first - 1);
}
