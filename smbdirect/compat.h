/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference af_smbdirect cares about (6.1 .. 7.x).
 * The rest of the code uses only the names defined here.
 */
#ifndef AFSMBD_COMPAT_H
#define AFSMBD_COMPAT_H

#include <linux/version.h>
#include <linux/net.h>
#include <net/sock.h>

/* 6.19 typed the address argument of bind() and connect(). */
#if KERNEL_VERSION(6, 19, 0) <= LINUX_VERSION_CODE
#define AFSMBD_UADDR	struct sockaddr_unsized
#else
#define AFSMBD_UADDR	struct sockaddr
#endif

/* 6.10 folded accept()'s flags and kern into struct proto_accept_arg. */
#if KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
#define AFSMBD_ACCEPT_ARGS	struct proto_accept_arg *arg
#define AFSMBD_ACCEPT_FLAGS	(arg->flags)
#define AFSMBD_ACCEPT_KERN	(arg->kern)
#else
#define AFSMBD_ACCEPT_ARGS	int flags, bool kern
#define AFSMBD_ACCEPT_FLAGS	(flags)
#define AFSMBD_ACCEPT_KERN	(kern)
#endif

/*
 * SOCK_CUSTOM_SOCKOPT (6.7) routes SOL_SOCKET to the family's setsockopt,
 * which lets us accept SO_REUSEPORT (the core refuses it for non-inet
 * families).  Before that the core's answer, EOPNOTSUPP, stands.  It is a
 * macro on some kernels and an enum member on others: test the version.
 */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
static inline void afsmbd_custom_sockopt(struct socket *sock)
{
	set_bit(SOCK_CUSTOM_SOCKOPT, &sock->flags);
}
#else
static inline void afsmbd_custom_sockopt(struct socket *sock)
{
}
#endif

/*
 * The symbol namespace of the in-kernel API: a string literal from 6.13
 * on, a bare word before (stringified after expansion, so it must not be
 * a macro itself).
 */
#if KERNEL_VERSION(6, 13, 0) <= LINUX_VERSION_CODE
#define AFSMBD_NS	"AFSMBD"
#else
#define AFSMBD_NS	AFSMBD
#endif

/* 6.10 dropped the source argument of __assign_str(). */
#if KERNEL_VERSION(6, 10, 0) <= LINUX_VERSION_CODE
#define AFSMBD_TRACE_ASSIGN_STR(dst, src)	__assign_str(dst)
#else
#define AFSMBD_TRACE_ASSIGN_STR(dst, src)	__assign_str(dst, src)
#endif

/* 6.7 gave struct proto the offset of an inet6 socket's ipv6_pinfo. */
#if KERNEL_VERSION(6, 7, 0) <= LINUX_VERSION_CODE
#define AFSMBD_PINFO_OFFSET(type, member) \
	.ipv6_pinfo_offset = offsetof(type, member),
#else
#define AFSMBD_PINFO_OFFSET(type, member)
#endif

/* The memory cgroup a socket charges (an accessor from 7.x on). */
static inline struct mem_cgroup *afsmbd_sk_memcg(const struct sock *sk)
{
	return sk->sk_memcg;
}

#endif /* AFSMBD_COMPAT_H */
