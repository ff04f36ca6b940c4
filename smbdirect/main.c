// SPDX-License-Identifier: GPL-2.0
/* Module entry: the family number parameter, load and unload. */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include "af_smbdirect.h"

int afsmbd_family = AF_SMBDIRECT;
module_param_named(family, afsmbd_family, int, 0444);
MODULE_PARM_DESC(family, "socket family number to register (default "
		 __stringify(AF_SMBDIRECT) ")");

static int __init afsmbd_init(void)
{
	int err;

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
