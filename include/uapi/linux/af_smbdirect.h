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

/*
 * Options at level SOL_SMBDIRECT.
 *
 * SMBDIRECT_KEEPALIVE_INTERVAL  __u32 seconds, get/set.  Idle time before an
 *	empty message with RESPONSE_REQUESTED; the connection fails with
 *	ETIMEDOUT if nothing arrives during the next interval.  0 disables.
 *	Default from the module parameter keepalive_interval (120).
 * SMBDIRECT_INFO  struct smbdirect_info, get only: negotiated parameters,
 *	current credits and counters.
 */
#define SMBDIRECT_KEEPALIVE_INTERVAL	1
#define SMBDIRECT_INFO			2

struct smbdirect_info {
	__u32 state;			/* internal phase, 6 = connected */
	__u16 version;			/* 0x0100 once negotiated */
	__u16 recv_credit_max;
	__u16 send_credit_target;
	__u16 recv_credit_target;	/* peer's latest CreditsRequested */
	__u32 max_send_size;
	__u32 max_recv_size;
	__u32 max_fragmented_send_size;
	__u32 max_fragmented_recv_size;
	__u32 max_read_write_size;
	__u32 send_credits;		/* credits we hold */
	__u32 recv_credits;		/* credits the peer holds */
	__u32 recv_posted;
	__u32 keepalive_interval;
	__u32 reserved;
	__u64 tx_msgs;
	__u64 rx_msgs;
	__u64 tx_bytes;			/* payload bytes */
	__u64 rx_bytes;
	__u64 tx_empty_msgs;		/* credit grants, keepalives */
	__u64 credit_waits;		/* sends held back for credits */
};

/* Direct-TCP framing: each PDU is preceded by this many bytes of length. */
#define SMBDIRECT_FRAME_HDR_LEN	4

#endif /* _UAPI_LINUX_AF_SMBDIRECT_H */
