// SPDX-License-Identifier: Apache-2.0
/* empty-probes: attaches programs that do nothing but count themselves as
 * an entry and a return uprobe on each named function of one file, for
 * every process that maps it, and reports their hits. The HTTPS overhead
 * benchmark's floor: what any uprobe-based tool pays per call, whatever
 * its programs do.
 *
 *   empty-probes FILE FUNCTION...
 *
 * Prints "attached N" once the N probes are live. Then each line read on
 * stdin is answered with "ENTRY_HITS RETURN_HITS" (totals since attach);
 * end of input detaches and exits, so the probes never outlive the
 * benchmark that started them, even if it dies. Root (CAP_BPF and
 * CAP_PERFMON) required. Functions are resolved by name through libbpf
 * 1.1's bpf_program__attach_uprobe_opts (classic perf-event uprobes). */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "empty_probes.skel.h"

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

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: empty-probes FILE FUNCTION...\n");
		return 2;
	}
	const char *file = argv[1];
	int nfunc = argc - 2;
	libbpf_set_print(libbpf_quiet);

	struct empty_probes_bpf *skel = empty_probes_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty-probes: cannot load the programs: %s\n", strerror(errno));
		return 1;
	}
	struct bpf_link **links = calloc((size_t)nfunc * 2, sizeof(*links));
	int rc = links ? 0 : 1;
	for (int i = 0; i < nfunc * 2 && rc == 0; i++) {
		const char *func = argv[2 + i / 2];
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
		char line[64];
		while (fgets(line, sizeof(line), stdin)) {
			printf("%llu %llu\n", hits(skel, 0), hits(skel, 1));
			fflush(stdout);
		}
	}
	for (int i = 0; links && i < nfunc * 2; i++)
		bpf_link__destroy(links[i]);
	free(links);
	empty_probes_bpf__destroy(skel);
	return rc;
}
