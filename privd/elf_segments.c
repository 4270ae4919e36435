#include "elf_segments.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define NATIVE_MACHINE EM_AARCH64
#else
#error "add this architecture's e_machine"
#endif

static bool read_exact(int fd, void *buf, size_t len, uint64_t off)
{
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

static int add(struct exec_segments *out, uint64_t off, uint64_t filesz, uint64_t file_size)
{
	if (filesz == 0)
		return 0;
	if (off > file_size || filesz > file_size - off || out->n == ELF_SEGMENTS_MAX_EXEC)
		return -ENOEXEC;
	out->seg[out->n].start = off;
	out->seg[out->n].end = off + filesz;
	out->n++;
	return 0;
}

int elf_exec_segments(int fd, struct exec_segments *out)
{
	memset(out, 0, sizeof(*out));
	struct stat st;
	Elf64_Ehdr eh;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (!read_exact(fd, &eh, sizeof(eh), 0) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != NATIVE_MACHINE ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > ELF_SEGMENTS_MAX_PHDRS)
		return -ENOEXEC;
	Elf64_Phdr ph[ELF_SEGMENTS_MAX_PHDRS];
	if (!read_exact(fd, ph, (size_t)eh.e_phnum * sizeof(ph[0]), eh.e_phoff))
		return -ENOEXEC;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !(ph[i].p_flags & PF_X))
			continue;
		int rc = add(out, ph[i].p_offset, ph[i].p_filesz, (uint64_t)st.st_size);
		if (rc)
			return rc;
	}
	return out->n ? 0 : -ENOEXEC;
}

bool elf_offset_is_code(const struct exec_segments *s, uint64_t offset)
{
	for (unsigned i = 0; i < s->n; i++)
		if (offset >= s->seg[i].start && offset < s->seg[i].end)
			return true;
	return false;
}
