/* Struct offsets of a Go program, from DWARF or the verified table. The
 * contract is in go_offsets.h.
 *
 * The chain the capture programs follow (bpf/http_capture.bpf.c):
 *   goroutine id   *(R14 + goid)                 R14 is the running g
 *   the socket     tls.Conn --conn--> net.Conn interface {itab, data}
 *                  data: *net.TCPConn --netfd--> *net.netFD
 *                  netFD --sysfd--> the fd (netFD.pfd.Sysfd)
 *                  netFD.family, netFD.sotype: checked to be an IPv4/6
 *                  stream socket before the fd is trusted */
#include "go_offsets.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <string.h>

/* Go 1.minor -> offsets, verified with that version's DWARF. */
static const struct {
	int minor;
	struct usm_inspect_go go;
} verified[] = {
	/* go1.19.8, Debian 12 golang-go: runtime.g.goid 152; tls.Conn.conn 0;
	 * net.TCPConn.conn 0 + net.conn.fd 0; net.netFD.pfd 0 +
	 * internal/poll.FD.Sysfd 16; net.netFD.family 56, sotype 64. */
	{19, {.goid = 152, .conn = 0, .netfd = 0, .sysfd = 16, .family = 56}},
};

int go_offsets_from_table(int minor, struct usm_inspect_go *out)
{
	for (size_t i = 0; i < sizeof(verified) / sizeof(verified[0]); i++) {
		if (verified[i].minor == minor) {
			char version[sizeof(out->version)];
			memcpy(version, out->version, sizeof(version));
			*out = verified[i].go;
			memcpy(out->version, version, sizeof(version));
			return 0;
		}
	}
	return -ENOENT;
}

enum { T_G, T_TLS_CONN, T_TCPCONN, T_NET_CONN, T_NETFD, T_POLL_FD, T_COUNT };
static const char *const type_names[T_COUNT] = {
	"runtime.g", "crypto/tls.Conn", "net.TCPConn", "net.conn", "net.netFD", "internal/poll.FD",
};

/* member name -> its offset, for the members asked of each type */
static const struct {
	int type;
	const char *member;
} wanted[] = {
	{T_G, "goid"}, {T_TLS_CONN, "conn"}, {T_TCPCONN, "conn"}, {T_NET_CONN, "fd"},
	{T_NETFD, "pfd"}, {T_NETFD, "family"}, {T_NETFD, "sotype"}, {T_POLL_FD, "Sysfd"},
};
#define NWANTED (sizeof(wanted) / sizeof(wanted[0]))

/* The members of one structure type, into found[] (-1: not seen). */
static void read_members(Dwarf_Die *st, int type, long *found)
{
	Dwarf_Die m;
	if (dwarf_child(st, &m) != 0)
		return;
	do {
		const char *name = dwarf_tag(&m) == DW_TAG_member ? dwarf_diename(&m) : NULL;
		for (size_t i = 0; name && i < NWANTED; i++) {
			Dwarf_Attribute a;
			Dwarf_Word w;
			if (wanted[i].type == type && found[i] < 0 && strcmp(name, wanted[i].member) == 0 &&
			    dwarf_attr(&m, DW_AT_data_member_location, &a) &&
			    dwarf_formudata(&a, &w) == 0 && w < 4096)
				found[i] = (long)w;
		}
	} while (dwarf_siblingof(&m, &m) == 0);
}

/* What libdw will hold once it has decompressed every debug section (it
 * does so in dwarf_begin_elf, up to ~1000x the stored size, and does not
 * survive a failed allocation later): above GO_MAX_DWARF bytes in all,
 * DWARF is not read. Sizes come from the compression headers, ELF's
 * (SHF_COMPRESSED) or the older ".zdebug_" form ("ZLIB" and a big-endian
 * 64-bit size). */
static bool dwarf_fits(const struct elf_file *f)
{
	size_t shstrndx;
	uint64_t total = 0;
	Elf_Scn *scn = NULL;
	if (elf_getshdrstrndx(f->elf, &shstrndx) != 0)
		return false;
	while ((scn = elf_nextscn(f->elf, scn)) != NULL) {
		GElf_Shdr sh;
		const char *n;
		if (!gelf_getshdr(scn, &sh) || !(n = elf_strptr(f->elf, shstrndx, sh.sh_name)))
			return false;
		if (strncmp(n, ".debug_", 7) != 0 && strncmp(n, ".zdebug_", 8) != 0)
			continue;
		uint64_t size = sh.sh_size;
		Elf64_Chdr ch;
		unsigned char z[12];
		if ((sh.sh_flags & SHF_COMPRESSED) &&
		    elf_file_read(f, &ch, sizeof(ch), sh.sh_offset) == 0) {
			size = ch.ch_size;
		} else if (n[1] == 'z' && elf_file_read(f, z, sizeof(z), sh.sh_offset) == 0 &&
			   memcmp(z, "ZLIB", 4) == 0) {
			memcpy(&size, z + 4, sizeof(size));
			size = __builtin_bswap64(size);
		}
		if (size > GO_MAX_DWARF || (total += size) > GO_MAX_DWARF)
			return false;
	}
	return true;
}

int go_offsets_from_dwarf(const struct elf_file *f, struct usm_inspect_go *out)
{
	if (!dwarf_fits(f))
		return -ENOENT;
	Dwarf *dw = dwarf_begin_elf(f->elf, DWARF_C_READ, NULL);
	if (!dw)
		return -ENOENT;
	/* Never a supplementary file: "alt" forms (.gnu_debugaltlink) read
	 * this one, so libdw opens nothing (the inspector may not). */
	dwarf_setalt(dw, dw);
	long found[NWANTED];
	bool seen[T_COUNT] = {false};
	for (size_t i = 0; i < NWANTED; i++)
		found[i] = -1;
	Dwarf_Off off = 0, next;
	size_t header_size, dies = 0, cus = 0;
	unsigned nseen = 0;
	while (nseen < T_COUNT && dwarf_nextcu(dw, off, &next, &header_size, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		if (dwarf_offdie(dw, off + header_size, &cu) && dwarf_child(&cu, &die) == 0) {
			do {
				const char *name = dwarf_tag(&die) == DW_TAG_structure_type
							   ? dwarf_diename(&die) : NULL;
				for (int t = 0; name && t < T_COUNT; t++) {
					if (!seen[t] && strcmp(name, type_names[t]) == 0) {
						seen[t] = true;
						nseen++;
						read_members(&die, t, found);
					}
				}
			} while (++dies < GO_DWARF_MAX_DIES && dwarf_siblingof(&die, &die) == 0);
		}
		if (dies >= GO_DWARF_MAX_DIES || ++cus >= GO_DWARF_MAX_CUS)
			break;
		off = next;
	}
	dwarf_end(dw);
	for (size_t i = 0; i < NWANTED; i++)
		if (found[i] < 0)
			return -ENOENT;
	/* found[] in wanted[]'s order */
	struct usm_inspect_go g = {.goid = (uint16_t)found[0], .conn = (uint16_t)found[1],
				   .netfd = (uint16_t)(found[2] + found[3]),
				   .sysfd = (uint16_t)(found[4] + found[7]),
				   .family = (uint16_t)found[5]};
	memcpy(g.version, out->version, sizeof(g.version));
	/* sotype must follow family: the capture programs read both as one pair */
	if (found[6] != found[5] + 8 || !usm_inspect_go_valid(&g, USM_INSPECT_GO_TLS))
		return -ENOENT;
	*out = g;
	return 0;
}
