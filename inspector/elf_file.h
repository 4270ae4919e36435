/* An ELF file nobody vouches for, opened for reading with libelf through
 * an already open fd, after the checks every inspector parser relies on.
 * Only the unprivileged usm-inspector runs it (DESIGN.md).
 *
 * elf_file_open() accepts a file only if:
 *   - it is a regular file of at most ELF_MAX_FILE_SIZE bytes (a sparse
 *     multi-GB file is refused from its size alone);
 *   - its header is a 32/64-bit executable or shared object of this
 *     machine and byte order, with at most ELF_MAX_SECTIONS sections
 *     (extended numbering included), checked before libelf allocates for
 *     them;
 *   - at most 65535 program headers, every PT_LOAD (at most
 *     ELF_FILE_MAX_SEGMENTS) inside the file;
 *   - every section but SHT_NOBITS/SHT_NULL inside the file.
 * libelf reads with ELF_C_READ (pread into its own buffers) rather than
 * mmap: the owner can truncate a mapped file under us (SIGBUS).
 *
 * Errors carry a reason word for the blocklist:
 *   -ENOEXEC "not-elf"   not an ELF file of this machine
 *   -EINVAL  "bad-elf"   malformed or truncated
 *   -E2BIG   "too-large" above a bound
 *   -ENOMEM  "no-memory"; -EINVAL "libelf"; -errno "stat", "read" */
#ifndef USM_INSPECTOR_ELF_FILE_H
#define USM_INSPECTOR_ELF_FILE_H

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ELF_MAX_FILE_SIZE (1ULL << 30) /* 1 GiB */
#define ELF_MAX_SECTIONS 4096
#define ELF_FILE_MAX_SEGMENTS 64 /* PT_LOADs; real files have 2 to 5 */

struct elf_segment {
	uint64_t vaddr, filesz, offset;
	bool exec;
};

struct elf_file {
	Elf *elf;
	int fd;
	uint64_t file_size;
	size_t nseg;
	struct elf_segment seg[ELF_FILE_MAX_SEGMENTS];
};

/* 0 with *f ready (close it with elf_file_close), or -errno with the
 * reason written (reason_len bytes) and nothing to close. */
int elf_file_open(struct elf_file *f, int fd, char *reason, size_t reason_len);
void elf_file_close(struct elf_file *f);

/* The file offset of [vaddr, vaddr + len) when it lies in one PT_LOAD
 * segment's file bytes (an executable one if code). */
bool elf_file_offset(const struct elf_file *f, uint64_t vaddr, uint64_t len, bool code,
		     uint64_t *offset);

/* The section named `name` (its header in *sh), or NULL. */
Elf_Scn *elf_file_section(const struct elf_file *f, const char *name, GElf_Shdr *sh);

/* Reads exactly len bytes at file offset off: 0, or -EINVAL (outside the
 * file, or short) or -errno. */
int elf_file_read(const struct elf_file *f, void *buf, size_t len, uint64_t off);

/* Writes word into reason and returns rc (a helper for the parsers'
 * error paths). */
int elf_file_reason(int rc, char *reason, size_t reason_len, const char *word);

#endif
