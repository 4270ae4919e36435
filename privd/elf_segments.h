/* The one thing the BPF owner reads of a file itself: where its executable
 * code is. The inspector's answer (function offsets) is trusted only for
 * offsets inside an executable PT_LOAD segment of the very file privd
 * handed it, so a lying inspector can at worst misplace probes inside
 * that file's code.
 *
 * Reads the ELF header and the program headers only, with pread, bounded:
 * a 64-bit (or 32-bit) ELF of the machine privd runs on, at most
 * ELF_SEGMENTS_MAX_PHDRS program headers, each segment inside the file
 * (size from fstat). */
#ifndef USM_PRIVD_ELF_SEGMENTS_H
#define USM_PRIVD_ELF_SEGMENTS_H

#include <stdbool.h>
#include <stdint.h>

#define ELF_SEGMENTS_MAX_PHDRS 64
#define ELF_SEGMENTS_MAX_EXEC 16

struct exec_segments {
	unsigned n;
	struct {
		uint64_t start, end; /* file offsets [start, end) */
	} seg[ELF_SEGMENTS_MAX_EXEC];
};

/* 0, or -ENOEXEC (not an ELF of this machine, or malformed headers). */
int elf_exec_segments(int fd, struct exec_segments *out);

bool elf_offset_is_code(const struct exec_segments *s, uint64_t offset);

#endif
