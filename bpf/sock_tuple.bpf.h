/* From a file descriptor of the current task to its TCP socket and the
 * connection's addresses, read in the kernel (CO-RE) so that TLS and
 * clear-text events carry the same tuple. Included by http_capture.bpf.c
 * only. */
#ifndef USM_SOCK_TUPLE_BPF_H
#define USM_SOCK_TUPLE_BPF_H

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "usm_events.h"

/* Not in vmlinux.h (macros in the kernel's headers). */
#define USM_S_IFMT 0170000
#define USM_S_IFSOCK 0140000
#define USM_SOCK_STREAM 1
#define USM_AF_INET 2
#define USM_AF_INET6 10
#define USM_IPPROTO_TCP 6

/* The struct sock behind fd if fd is a stream socket, else NULL. Every
 * step is a checked kernel read: a racing close yields NULL or a stale
 * pointer whose tuple check below fails, never a fault. */
static __always_inline struct sock *fd_to_sock(int fd)
{
	if (fd < 0)
		return NULL;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) != 0 || !f)
		return NULL;
	if ((BPF_CORE_READ(f, f_inode, i_mode) & USM_S_IFMT) != USM_S_IFSOCK)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != USM_SOCK_STREAM)
		return NULL;
	return BPF_CORE_READ(sock, sk);
}

/* Fills t from a TCP socket over IPv4 or IPv6; false for anything else
 * (unix stream sockets, SCTP...), a socket not connected yet, or one
 * closed already. */
static __always_inline bool sock_tuple(struct sock *sk, struct usm_conn_tuple *t)
{
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != USM_IPPROTO_TCP)
		return false;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == USM_AF_INET) {
		__u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memcpy(t->laddr, &l, 4);
		__builtin_memcpy(t->raddr, &r, 4);
	} else if (family == USM_AF_INET6) {
		BPF_CORE_READ_INTO(&t->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&t->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		/* A dual-stack socket talking IPv4 (::ffff:a.b.c.d): report it
		 * as the IPv4 connection its peer sees, so that both ends of
		 * one connection carry the same kind of tuple. */
		__u32 w0, w1, w2;
		__builtin_memcpy(&w0, t->raddr, 4);
		__builtin_memcpy(&w1, t->raddr + 4, 4);
		__builtin_memcpy(&w2, t->raddr + 8, 4);
		if (w0 == 0 && w1 == 0 && w2 == bpf_htonl(0xffff)) {
			__builtin_memcpy(t->laddr, t->laddr + 12, 4);
			__builtin_memcpy(t->raddr, t->raddr + 12, 4);
			__builtin_memset(t->laddr + 4, 0, 12);
			__builtin_memset(t->raddr + 4, 0, 12);
			family = USM_AF_INET;
		}
	} else {
		return false;
	}
	t->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	t->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (t->rport == 0 || t->lport == 0)
		return false; /* listening, not connected, or closed (port released) */
	t->family = (__u8)family;
	return true;
}

#endif
