/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * af_smbdirect: SMB3 over RDMA (SMB-Direct, [MS-SMBD]) as a socket family.
 *
 * Userspace uses the family like TCP: bind/listen/accept/connect take
 * struct sockaddr_in or sockaddr_in6, and the byte stream carries SMB3's
 * Direct-TCP framing (a 4-byte big-endian length before each PDU).
 *
 * Named after the module: Linux 7.x has a kernel-internal <linux/smbdirect.h>
 * for its own SMB-Direct engine, and the two must never shadow each other.
 */
#ifndef _UAPI_LINUX_AF_SMBDIRECT_H
#define _UAPI_LINUX_AF_SMBDIRECT_H

#include <linux/types.h>

/*
 * Default socket family number.  AF_MAX is 46 on every supported kernel and
 * sock_register() refuses numbers at or above it, so the family reuses
 * AF_ECONET's number, whose code left mainline in Linux 3.5.  The module
 * parameter "family" can move it; the number in force is in
 * /sys/module/af_smbdirect/parameters/family.
 */
#define AF_SMBDIRECT		19
#define PF_SMBDIRECT		AF_SMBDIRECT

/* Socket option level; 289 matches the upstream IPPROTO_SMBDIRECT series. */
#define SOL_SMBDIRECT		289

/* Direct-TCP framing: each PDU is preceded by this many bytes of length. */
#define SMBDIRECT_FRAME_HDR_LEN	4

#endif /* _UAPI_LINUX_AF_SMBDIRECT_H */
