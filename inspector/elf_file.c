/* Opening an ELF file nobody vouches for. The contract and the checks are
 * in elf_file.h.
 *
 * The header is looked at before libelf is (preflight) so that libelf
 * never sizes an allocation from a section count above ELF_MAX_SECTIONS,
 * and every section header is checked against the file size before any
 * parser reads a section's data. */
#include "elf_file.h"

#include <elf.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#else
#error "elf_file.c: say which e_machine this architecture's uprobes take"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

#define MAX_PHDRS 65535 /* program headers looked at */

static pthread_once_t libelf_once = PTHREAD_ONCE_INIT;
static bool libelf_ready;

static void libelf_init(void) { libelf_ready = elf_version(EV_CURRENT) != EV_NONE; }

int elf_file_reason(int rc, char *reason, size_t reason_len, const char *word)
{
	if (reason && reason_len > 0)
		snprintf(reason, reason_len, "%s", word);
	return rc;
}

/* Reads up to len bytes at off; returns the count (short at end of file),
 * or -errno. */
static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

int elf_file_read(const struct elf_file *f, void *buf, size_t len, uint64_t off)
{
	if (off > f->file_size || len > f->file_size - off)
		return -EINVAL;
	ssize_t n = pread_full(f->fd, buf, len, off);
	return n < 0 ? (int)n : (size_t)n == len ? 0 : -EINVAL;
}

/* Before libelf sees the file: the identification, a whole header, and a
 * section count libelf may allocate for (libelf sizes its section array
 * from e_shnum, or with extended numbering from section 0's sh_size,
 * bounded only by the file size). */
static int preflight(int fd, uint64_t file_size, char *reason, size_t reason_len)
{
	union {
		unsigned char ident[EI_NIDENT];
		Elf32_Ehdr e32;
		Elf64_Ehdr e64;
	} h;
	ssize_t n = pread_full(fd, &h, sizeof(h), 0);
	if (n < 0)
		return elf_file_reason((int)n, reason, reason_len, "read");
	if ((size_t)n < SELFMAG || memcmp(h.ident, ELFMAG, SELFMAG) != 0)
		return elf_file_reason(-ENOEXEC, reason, reason_len, "not-elf");
	if ((size_t)n < EI_NIDENT)
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	bool is64 = h.ident[EI_CLASS] == ELFCLASS64;
	if ((!is64 && h.ident[EI_CLASS] != ELFCLASS32) || h.ident[EI_DATA] != HOST_DATA)
		return elf_file_reason(-ENOEXEC, reason, reason_len, "not-elf");
	if ((size_t)n < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");

	uint64_t shoff = is64 ? h.e64.e_shoff : h.e32.e_shoff;
	uint64_t shnum = is64 ? h.e64.e_shnum : h.e32.e_shnum;
	union {
		Elf32_Shdr s32;
		Elf64_Shdr s64;
	} s0;
	size_t shsize = is64 ? sizeof(s0.s64) : sizeof(s0.s32);
	if (shnum == 0 && shoff != 0) { /* extended numbering */
		if (shoff > file_size || file_size - shoff < shsize ||
		    pread_full(fd, &s0, shsize, shoff) != (ssize_t)shsize)
			return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
		shnum = is64 ? s0.s64.sh_size : s0.s32.sh_size;
	}
	/* A table that does not fit is damage; one that fits but is longer
	 * than the bound is a (sparse, or odd) file too large to look at. */
	if (shnum > 0 && (shoff > file_size || shnum > (file_size - shoff) / shsize))
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	if (shnum > ELF_MAX_SECTIONS)
		return elf_file_reason(-E2BIG, reason, reason_len, "too-large");
	return 0;
}

/* PT_LOAD segments, each checked to lie inside the file. */
static int read_segments(struct elf_file *f)
{
	size_t phnum;
	if (elf_getphdrnum(f->elf, &phnum) != 0 || phnum == 0 || phnum > MAX_PHDRS)
		return -EINVAL;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(f->elf, (int)i, &ph))
			return -EINVAL;
		if (ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset > f->file_size || ph.p_filesz > f->file_size - ph.p_offset ||
		    ph.p_filesz > UINT64_MAX - ph.p_vaddr)
			return -EINVAL;
		if (ph.p_filesz == 0)
			continue;
		if (f->nseg == ELF_FILE_MAX_SEGMENTS)
			return -EINVAL;
		f->seg[f->nseg++] = (struct elf_segment){ph.p_vaddr, ph.p_filesz, ph.p_offset,
							 (ph.p_flags & PF_X) != 0};
	}
	return 0;
}

bool elf_file_offset(const struct elf_file *f, uint64_t vaddr, uint64_t len, bool code,
		     uint64_t *offset)
{
	for (size_t i = 0; i < f->nseg; i++) {
		const struct elf_segment *s = &f->seg[i];
		if ((s->exec || !code) && vaddr >= s->vaddr && vaddr - s->vaddr < s->filesz &&
		    len <= s->filesz - (vaddr - s->vaddr)) {
			*offset = vaddr - s->vaddr + s->offset; /* inside the file: read_segments */
			return true;
		}
	}
	return false;
}

/* The header's meaning, the segments, and every section inside the file. */
static int check(struct elf_file *f, char *reason, size_t reason_len)
{
	if (elf_kind(f->elf) != ELF_K_ELF)
		return elf_file_reason(-ENOEXEC, reason, reason_len, "not-elf");
	GElf_Ehdr eh;
	if (!gelf_getehdr(f->elf, &eh))
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	int cls = gelf_getclass(f->elf);
	if ((cls != ELFCLASS64 && cls != ELFCLASS32) || eh.e_ident[EI_DATA] != HOST_DATA ||
	    eh.e_machine != HOST_MACHINE || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN))
		return elf_file_reason(-ENOEXEC, reason, reason_len, "not-elf");
	if (read_segments(f) < 0)
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	/* libelf shows a section header table that does not fit in the file
	 * as no sections at all; that is damage, not "no symbols". */
	size_t shnum;
	if (elf_getshdrnum(f->elf, &shnum) != 0 || (eh.e_shoff != 0 && shnum == 0))
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	if (shnum > 0 && (eh.e_shentsize != gelf_fsize(f->elf, ELF_T_SHDR, 1, EV_CURRENT) ||
			  eh.e_shoff > f->file_size ||
			  shnum > (f->file_size - eh.e_shoff) / eh.e_shentsize))
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		     (sh.sh_offset > f->file_size || sh.sh_size > f->file_size - sh.sh_offset)))
			return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	}
	return 0;
}

int elf_file_open(struct elf_file *f, int fd, char *reason, size_t reason_len)
{
	memset(f, 0, sizeof(*f));
	f->fd = fd;
	if (fd < 0)
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-argument");
	pthread_once(&libelf_once, libelf_init);
	if (!libelf_ready)
		return elf_file_reason(-EINVAL, reason, reason_len, "libelf");
	struct stat st;
	if (fstat(fd, &st) != 0)
		return elf_file_reason(-errno, reason, reason_len, "stat");
	if (!S_ISREG(st.st_mode) || st.st_size < 0)
		return elf_file_reason(-ENOEXEC, reason, reason_len, "not-elf");
	/* From the size alone: a sparse multi-GB file costs nothing to make. */
	if ((uint64_t)st.st_size > ELF_MAX_FILE_SIZE)
		return elf_file_reason(-E2BIG, reason, reason_len, "too-large");
	f->file_size = (uint64_t)st.st_size;
	int rc = preflight(fd, f->file_size, reason, reason_len);
	if (rc != 0)
		return rc;
	f->elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!f->elf)
		return elf_file_reason(-EINVAL, reason, reason_len, "bad-elf");
	rc = check(f, reason, reason_len);
	if (rc != 0)
		elf_file_close(f);
	return rc;
}

void elf_file_close(struct elf_file *f)
{
	if (f->elf)
		elf_end(f->elf);
	f->elf = NULL;
}

Elf_Scn *elf_file_section(const struct elf_file *f, const char *name, GElf_Shdr *sh)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(f->elf, &shstrndx) != 0)
		return NULL;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
		const char *n;
		if (gelf_getshdr(scn, sh) && (n = elf_strptr(f->elf, shstrndx, sh->sh_name)) &&
		    strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}
