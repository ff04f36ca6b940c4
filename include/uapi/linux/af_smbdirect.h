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
 * Options at level SOL_SMBDIRECT.  Values are __u32 unless noted.
 *
 * SMBDIRECT_KEEPALIVE_INTERVAL  seconds, get/set at any time.  Idle time
 *	before an empty message with RESPONSE_REQUESTED; the connection fails
 *	with ETIMEDOUT if nothing arrives during the next interval, or
 *	sooner once the transport's retries of the keepalive itself run out
 *	(ack_timeout x 7, about 7.5 s).  0 disables.  Default: module
 *	parameter keepalive_interval (120).
 * SMBDIRECT_INFO  struct smbdirect_info, get only: negotiated parameters,
 *	the RDMA device, credits and counters.  Readable after the
 *	connection failed, so the counters explain why.  The structure only
 *	grows at its end; a shorter optlen gets a prefix.
 *
 * Local limits, offered in the negotiate exchange.  Settable while the
 * socket is neither connecting nor connected (EISCONN otherwise); on a
 * listener they apply to connections that arrive afterwards.  A value out
 * of range, or one that breaks [MS-SMBD]'s rules together with the
 * others, is EINVAL.  getsockopt returns the local value; the negotiated
 * one is in SMBDIRECT_INFO.  Defaults come from the module parameters of
 * the same names.
 *
 * SMBDIRECT_RECV_CREDIT_MAX      receives posted, credits offered (3..4096)
 * SMBDIRECT_SEND_CREDIT_TARGET   credits asked of the peer (3..65535)
 * SMBDIRECT_MAX_SEND_SIZE        largest message sent (128..65536)
 * SMBDIRECT_MAX_RECV_SIZE        receive buffer size (128..65536)
 * SMBDIRECT_MAX_FRAGMENTED_SIZE  largest PDU reassembled (131072..16777215)
 * SMBDIRECT_MAX_READ_WRITE_SIZE  largest RDMA read/write offered
 * SMBDIRECT_CONNECT_TIMEOUT      seconds for resolution, RDMA connect and
 *	the negotiate together (1..3600); a listener's value bounds each
 *	incoming connection's negotiate.
 */
#define SMBDIRECT_KEEPALIVE_INTERVAL	1
#define SMBDIRECT_INFO			2
#define SMBDIRECT_RECV_CREDIT_MAX	3
#define SMBDIRECT_SEND_CREDIT_TARGET	4
#define SMBDIRECT_MAX_SEND_SIZE		5
#define SMBDIRECT_MAX_RECV_SIZE		6
#define SMBDIRECT_MAX_FRAGMENTED_SIZE	7
#define SMBDIRECT_MAX_READ_WRITE_SIZE	8
#define SMBDIRECT_CONNECT_TIMEOUT	9

/* smbdirect_info.transport */
#define SMBDIRECT_TRANSPORT_NONE	0	/* no device bound yet */
#define SMBDIRECT_TRANSPORT_IB		1
#define SMBDIRECT_TRANSPORT_ROCE	2
#define SMBDIRECT_TRANSPORT_IWARP	3

#define SMBDIRECT_DEVICE_NAME_LEN	64

/*
 * The layout is the same for 32- and 64-bit programs: every __u64 sits at
 * a multiple of 8 through explicit padding (i386 aligns __u64 to 4 only),
 * and the size is a multiple of 8, so there is no tail padding either.
 * Fields added at the end must keep both true.  Padding reads as zero.
 */
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
	__u32 pad0;			/* was an implicit hole on x86_64 */
	__u64 tx_msgs;			/* SMB-Direct messages, i.e. fragments */
	__u64 rx_msgs;
	__u64 tx_bytes;			/* payload bytes */
	__u64 rx_bytes;
	__u64 tx_empty_msgs;		/* credit grants, keepalives */
	__u64 credit_waits;		/* sends held back for credits */
	/* the RDMA device */
	__u32 transport;		/* SMBDIRECT_TRANSPORT_* */
	__u32 port_num;			/* RDMA port on the device */
	char device[SMBDIRECT_DEVICE_NAME_LEN];
	/* more counters */
	__u64 tx_pdus;			/* whole messages (reassembled PDUs) */
	__u64 rx_pdus;
	__u64 tx_credits_granted;	/* sum of CreditsGranted we sent */
	__u64 rx_credits_granted;	/* sum of CreditsGranted received */
	__u64 keepalives;		/* keepalive probes sent */
	/* Peer protocol violations seen; on a listener, those of
	 * connections that failed negotiate and were never accepted.
	 */
	__u64 violations;
	/* Receive and send buffers the socket pins (bytes); on a listener
	 * it includes its connections not yet accepted.
	 */
	__u64 buffer_bytes;
};

/* Direct-TCP framing: each PDU is preceded by this many bytes of length. */
#define SMBDIRECT_FRAME_HDR_LEN	4

#endif /* _UAPI_LINUX_AF_SMBDIRECT_H */
