/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Userspace stand-in for <linux/errno.h>. glibc's <errno.h> itself includes
 * <linux/errno.h>, so pull the real UAPI header in with include_next (it
 * has the same numbers the kernel uses) rather than shadowing it.
 */
#ifndef AFSMBD_SHIM_LINUX_ERRNO_H
#define AFSMBD_SHIM_LINUX_ERRNO_H

#include_next <linux/errno.h>
#include <errno.h>

#endif
