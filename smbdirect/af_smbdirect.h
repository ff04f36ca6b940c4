/* SPDX-License-Identifier: GPL-2.0 */
/* Internal declarations shared by the af_smbdirect source files. */
#ifndef _AF_SMBDIRECT_H
#define _AF_SMBDIRECT_H

#include <net/sock.h>
#include <linux/af_smbdirect.h>

extern int afsmbd_family;

/* Per-socket state; struct sock must come first (sk_alloc() contract). */
struct afsmbd_sock {
	struct sock sk;
};

static inline struct afsmbd_sock *afsmbd_sk(const struct sock *sk)
{
	return container_of(sk, struct afsmbd_sock, sk);
}

int afsmbd_socket_init(void);
void afsmbd_socket_exit(void);

#endif /* _AF_SMBDIRECT_H */
