// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream series' entry point: socket(AF_INET or AF_INET6,
 * SOCK_STREAM, IPPROTO_SMBDIRECT) gives the same socket as AF_SMBDIRECT,
 * through the same proto_ops, so programs written for that interface run
 * on stock kernels with this module (as MPTCP and SMC register theirs).
 * inet_create()/inet6_create() allocate the sock from our protos and call
 * their init, which makes it one of ours.  A kernel whose uapi defines
 * IPPROTO_SMBDIRECT has its own entry point, and nothing is registered.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <net/protocol.h>
#include <net/ipv6.h>
#include <net/transp_v6.h>
#include "af_smbdirect.h"
#include "compat.h"

#ifndef AFSMBD_KERNEL_IPPROTO

static bool ipproto = true;
module_param(ipproto, bool, 0444);
MODULE_PARM_DESC(ipproto,
		 "also serve socket(AF_INET/AF_INET6, SOCK_STREAM, IPPROTO_SMBDIRECT) (Y)");

/*
 * Copies of the family's ops differing only in .family, made once at
 * module init: checkpatch's CONST_STRUCT is ignored for this file.
 */
static struct proto_ops afsmbd_inet_ops __ro_after_init;
static struct proto_ops afsmbd_inet6_ops __ro_after_init;
static bool afsmbd_inet_up;

static int afsmbd_inet_init(struct sock *sk)
{
	afsmbd_custom_sockopt(sk->sk_socket);
	afsmbd_sock_init(sk);
	return 0;
}

static struct proto afsmbd_inet_proto = {
	.name		= "SMBDIRECT-IN",
	.owner		= THIS_MODULE,
	.init		= afsmbd_inet_init,
	.obj_size	= sizeof(struct afsmbd_sock),
};

static struct proto afsmbd_inet6_proto = {
	.name		= "SMBDIRECT-IN6",
	.owner		= THIS_MODULE,
	.init		= afsmbd_inet_init,
	.obj_size	= sizeof(struct afsmbd_sock6),
	AFSMBD_PINFO_OFFSET(struct afsmbd_sock6, inet6)
};

static struct inet_protosw afsmbd_protosw = {
	.type		= SOCK_STREAM,
	.protocol	= IPPROTO_SMBDIRECT,
	.prot		= &afsmbd_inet_proto,
	.ops		= &afsmbd_inet_ops,
};

static struct inet_protosw afsmbd_protosw6 = {
	.type		= SOCK_STREAM,
	.protocol	= IPPROTO_SMBDIRECT,
	.prot		= &afsmbd_inet6_proto,
	.ops		= &afsmbd_inet6_ops,
};

/**
 * afsmbd_inet_child() - inet details of a listener's new child
 * @sk: child allocated from its listener's proto
 */
void afsmbd_inet_child(struct sock *sk)
{
	/* As inet6_create() does, for code that reaches ipv6_pinfo. */
	if (sk->sk_prot == &afsmbd_inet6_proto)
		inet_sk(sk)->pinet6 = &((struct afsmbd_sock6 *)sk)->inet6;
}

/**
 * afsmbd_inet_init_entry() - register the IPPROTO_SMBDIRECT entry point
 * @ops: the AF_SMBDIRECT proto_ops to share
 *
 * Return: 0 or a negative errno.
 */
int afsmbd_inet_init_entry(const struct proto_ops *ops)
{
	int err;

	if (!ipproto)
		return 0;
	afsmbd_inet_ops = *ops;
	afsmbd_inet_ops.family = PF_INET;
	afsmbd_inet6_ops = *ops;
	afsmbd_inet6_ops.family = PF_INET6;
	err = proto_register(&afsmbd_inet_proto, 1);
	if (err)
		return err;
	err = proto_register(&afsmbd_inet6_proto, 1);
	if (err) {
		proto_unregister(&afsmbd_inet_proto);
		return err;
	}
	inet_register_protosw(&afsmbd_protosw);
	err = inet6_register_protosw(&afsmbd_protosw6);
	if (err) {
		inet_unregister_protosw(&afsmbd_protosw);
		proto_unregister(&afsmbd_inet6_proto);
		proto_unregister(&afsmbd_inet_proto);
		return err;
	}
	afsmbd_inet_up = true;
	return 0;
}

/**
 * afsmbd_inet_exit_entry() - unregister it
 */
void afsmbd_inet_exit_entry(void)
{
	if (!afsmbd_inet_up)
		return;
	inet6_unregister_protosw(&afsmbd_protosw6);
	inet_unregister_protosw(&afsmbd_protosw);
	proto_unregister(&afsmbd_inet6_proto);
	proto_unregister(&afsmbd_inet_proto);
	afsmbd_inet_up = false;
}

/* Autoload as inet_create() asks: net-pf-%d-proto-%d-type-%d (SOCK_STREAM
 * is an enum, which __stringify cannot spell).
 */
MODULE_ALIAS("net-pf-" __stringify(PF_INET) "-proto-"
	     __stringify(IPPROTO_SMBDIRECT) "-type-1");
MODULE_ALIAS("net-pf-" __stringify(PF_INET6) "-proto-"
	     __stringify(IPPROTO_SMBDIRECT) "-type-1");

#else /* the kernel serves IPPROTO_SMBDIRECT itself */

void afsmbd_inet_child(struct sock *sk)
{
}

int afsmbd_inet_init_entry(const struct proto_ops *ops)
{
	pr_info("the kernel has its own IPPROTO_SMBDIRECT; serving AF_SMBDIRECT only\n");
	return 0;
}

void afsmbd_inet_exit_entry(void)
{
}

#endif
