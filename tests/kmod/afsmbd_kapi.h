/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel RDMA offload API of af_smbdirect.ko (symbol namespace
 * AFSMBD), as smbdirect/af_smbdirect.h declares it; kernel-doc in
 * smbdirect/mr.c and smbdirect/rw.c.  No header outside the module
 * publishes these yet, so a consumer repeats them.
 */
#ifndef AFSMBD_KAPI_H
#define AFSMBD_KAPI_H

#include <linux/net.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/af_smbdirect.h>

int afsmbd_register_iter(struct socket *sock, struct iov_iter *iter,
			 u32 access, struct smbdirect_buffer_desc *descs,
			 u32 max_descs, u32 *nr_descs, u64 *handle);
int afsmbd_deregister(struct socket *sock, u64 handle);
ssize_t afsmbd_rdma_xfer(struct socket *sock, struct iov_iter *iter,
			 const struct smbdirect_buffer_desc *descs,
			 u32 nr_descs, bool write);

#endif /* AFSMBD_KAPI_H */
