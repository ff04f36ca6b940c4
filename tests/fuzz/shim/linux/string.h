/* SPDX-License-Identifier: GPL-2.0 */
/* Userspace stand-in for <linux/string.h>. */
#ifndef AFSMBD_SHIM_LINUX_STRING_H
#define AFSMBD_SHIM_LINUX_STRING_H

#include <string.h>

#endif
