/* libFuzzer target: the ELF resolver as usm-inspector runs it, on any
 * bytes as the file it was handed (written to a memfd, the resolver's only
 * input). It must answer or refuse, never crash or read out of bounds; a
 * name it finds lies inside the file, and an error finds nothing.
 * Seeds: tests/fuzz/corpus/elf_symbols/ (tests/fuzz/make_elf_corpus.sh). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elf_symbols.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1; /* one memfd, rewritten per input */
	if (fd < 0 && (fd = memfd_create("fuzz-elf", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	/* names in the seeds: exported, versioned, static, and absent */
	struct elf_func_query q[] = { { .name = "SSL_read" }, { .name = "SSL_write" },
				      { .name = "f" },        { .name = "helper" },
				      { .name = "_start" },   { .name = "absent" } };
	const size_t n = sizeof(q) / sizeof(q[0]);
	char reason[64];
	int rc = elf_resolve_functions(fd, q, n, reason, sizeof(reason));
	if (rc > 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (q[i].found && (rc != 0 || q[i].offset >= size))
			abort();
	return 0;
}
