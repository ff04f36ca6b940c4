// SPDX-License-Identifier: GPL-2.0
/* Socket layer: the AF_SMBDIRECT family, socket creation and proto_ops. */

#include <linux/module.h>
#include <linux/net.h>
#include <linux/in.h>
#include <net/sock.h>
#include "af_smbdirect.h"

static struct proto afsmbd_proto = {
	.name		= "SMBDIRECT",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct afsmbd_sock),
};

static int afsmbd_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	sock_orphan(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static const struct proto_ops afsmbd_stream_ops = {
	.family		= AF_SMBDIRECT,	/* patched to the module parameter */
	.owner		= THIS_MODULE,
	.release	= afsmbd_release,
	.bind		= sock_no_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= sock_no_getname,
	.poll		= datagram_poll,
	.ioctl		= sock_no_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= sock_no_shutdown,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
};

/* Copy of the ops carrying the family number in force. */
static struct proto_ops afsmbd_ops __ro_after_init;

static int afsmbd_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	/* 0 or IPPROTO_TCP, so code written for TCP can pass its protocol. */
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, afsmbd_family, GFP_KERNEL, &afsmbd_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock->ops = &afsmbd_ops;
	sock_init_data(sock, sk);
	sk->sk_protocol = IPPROTO_TCP;
	return 0;
}

static struct net_proto_family afsmbd_family_ops = {
	.owner	= THIS_MODULE,
	.create	= afsmbd_create,
};

int afsmbd_socket_init(void)
{
	int err;

	afsmbd_ops = afsmbd_stream_ops;
	afsmbd_ops.family = afsmbd_family;
	afsmbd_family_ops.family = afsmbd_family;

	err = proto_register(&afsmbd_proto, 1);
	if (err)
		return err;
	err = sock_register(&afsmbd_family_ops);
	if (err)
		proto_unregister(&afsmbd_proto);
	return err;
}

void afsmbd_socket_exit(void)
{
	sock_unregister(afsmbd_family);
	proto_unregister(&afsmbd_proto);
}
