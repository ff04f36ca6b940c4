// SPDX-License-Identifier: GPL-2.0
/* Module entry: the family number parameter, load and unload. */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include "af_smbdirect.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

int afsmbd_family = AF_SMBDIRECT;
module_param_named(family, afsmbd_family, int, 0444);
MODULE_PARM_DESC(family, "socket family number to register (default "
		 __stringify(AF_SMBDIRECT) ")");

/* Bytes the members of struct smbdirect_info take, holes not counted. */
#define AFSMBD_INFO_F(m) sizeof_field(struct smbdirect_info, m)
#define AFSMBD_INFO_MEMBERS \
	(AFSMBD_INFO_F(state) + AFSMBD_INFO_F(version) + \
	 AFSMBD_INFO_F(recv_credit_max) + AFSMBD_INFO_F(send_credit_target) + \
	 AFSMBD_INFO_F(recv_credit_target) + AFSMBD_INFO_F(max_send_size) + \
	 AFSMBD_INFO_F(max_recv_size) + \
	 AFSMBD_INFO_F(max_fragmented_send_size) + \
	 AFSMBD_INFO_F(max_fragmented_recv_size) + \
	 AFSMBD_INFO_F(max_read_write_size) + AFSMBD_INFO_F(send_credits) + \
	 AFSMBD_INFO_F(recv_credits) + AFSMBD_INFO_F(recv_posted) + \
	 AFSMBD_INFO_F(keepalive_interval) + AFSMBD_INFO_F(reserved) + \
	 AFSMBD_INFO_F(pad0) + AFSMBD_INFO_F(tx_msgs) + \
	 AFSMBD_INFO_F(rx_msgs) + AFSMBD_INFO_F(tx_bytes) + \
	 AFSMBD_INFO_F(rx_bytes) + AFSMBD_INFO_F(tx_empty_msgs) + \
	 AFSMBD_INFO_F(credit_waits) + AFSMBD_INFO_F(transport) + \
	 AFSMBD_INFO_F(port_num) + AFSMBD_INFO_F(device) + \
	 AFSMBD_INFO_F(tx_pdus) + AFSMBD_INFO_F(rx_pdus) + \
	 AFSMBD_INFO_F(tx_credits_granted) + \
	 AFSMBD_INFO_F(rx_credits_granted) + AFSMBD_INFO_F(keepalives) + \
	 AFSMBD_INFO_F(violations) + AFSMBD_INFO_F(buffer_bytes) + \
	 AFSMBD_INFO_F(rdma_write_bytes) + AFSMBD_INFO_F(rdma_read_bytes) + \
	 AFSMBD_INFO_F(registered_bytes) + AFSMBD_INFO_F(remote_invalidations))

/*
 * SMBDIRECT_INFO goes as bytes to 32-bit programs too, and i386 aligns
 * __u64 to 4: the layout is the same for both only while the struct has
 * no implicit padding, inside or at its tail.  x86_64 offsets are fixed
 * ABI; a member added at the end must be added to the sum as well.
 */
static void __init afsmbd_check_abi(void)
{
	BUILD_BUG_ON(sizeof(struct smbdirect_info) != 264);
	BUILD_BUG_ON(sizeof(struct smbdirect_info) != AFSMBD_INFO_MEMBERS);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, tx_msgs) != 56);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, credit_waits) != 96);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, transport) != 104);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, device) != 112);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, tx_pdus) != 176);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, violations) != 216);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, buffer_bytes) != 224);
	BUILD_BUG_ON(offsetof(struct smbdirect_info, remote_invalidations) != 256);
	BUILD_BUG_ON(sizeof(struct smbdirect_register) != 48);
	BUILD_BUG_ON(sizeof(struct smbdirect_rdma) != 40);
	BUILD_BUG_ON(sizeof(struct smbdirect_buffer_desc) != 16);
}

static int __init afsmbd_init(void)
{
	int err;

	afsmbd_check_abi();

	/* Numbers at or above NPROTO would be refused by sock_register(). */
	if (afsmbd_family <= AF_UNSPEC || afsmbd_family >= NPROTO) {
		pr_err("family=%d is out of range 1..%d\n", afsmbd_family,
		       NPROTO - 1);
		return -EINVAL;
	}

	err = afsmbd_socket_init();
	if (err == -EEXIST)
		pr_err("socket family %d is already registered by another module; load with family=<free number>\n",
		       afsmbd_family);
	else if (err)
		pr_err("cannot register socket family %d: %d\n", afsmbd_family,
		       err);
	else
		pr_info("registered socket family %d\n", afsmbd_family);
	return err;
}

static void __exit afsmbd_exit(void)
{
	afsmbd_socket_exit();
	pr_info("unregistered socket family %d\n", afsmbd_family);
}

module_init(afsmbd_init);
module_exit(afsmbd_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("SMB-Direct (SMB3 over RDMA) socket family");
MODULE_ALIAS_NETPROTO(AF_SMBDIRECT);
