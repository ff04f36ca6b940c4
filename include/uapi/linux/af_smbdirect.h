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
#include <linux/ioctl.h>

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
 * The upstream series' entry point, which the module also registers when
 * the kernel has none of its own: socket(AF_INET or AF_INET6, SOCK_STREAM,
 * IPPROTO_SMBDIRECT) gives the same socket as AF_SMBDIRECT.
 */
#ifndef IPPROTO_SMBDIRECT
#define IPPROTO_SMBDIRECT	257
#endif

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

/*
 * RDMA read/write offload ([MS-SMBD] 2.2.3.1, [MS-SMB2] 2.2.19/2.2.21).
 * Buffer descriptors travel in their wire format, Buffer Descriptor V1:
 * 16 bytes each, little endian (struct smbdirect_buffer_desc), so they
 * can be copied as they are into and out of an SMB2 READ or WRITE's
 * channel info.
 *
 * Client role, for the peer to move the data:
 * SMBDIRECT_REGISTER  getsockopt with struct smbdirect_register in and
 *	out: registers [addr, addr + len) of the caller's memory for the
 *	peer to write (SMBDIRECT_ACCESS_REMOTE_WRITE: an SMB2 READ) or to
 *	read (SMBDIRECT_ACCESS_REMOTE_READ: an SMB2 WRITE).  Fills up to
 *	max_descs descriptors at descs and returns their number and a handle.
 *	The pages are pinned and charged to RLIMIT_MEMLOCK until
 *	deregistered or the socket closes.  Errors: EINVAL (bad access,
 *	zero length), EMSGSIZE (len above the
 *	negotiated MaxReadWriteSize or more descriptors needed than
 *	max_descs), ENOBUFS (too many registrations), ENOMEM (RLIMIT_MEMLOCK
 *	or memory), EFAULT, ENOTCONN.
 * SMBDIRECT_DEREGISTER  setsockopt with the __u64 handle: invalidates the
 *	tokens (a local invalidate, unless the peer already invalidated them
 *	with Send-with-Invalidate) and unpins.  ENOENT for an unknown or
 *	already deregistered handle.
 * SMBDIRECT_CMSG_INVALIDATED  (recvmsg, level SOL_SMBDIRECT) a __u64
 *	handle whose tokens the peer invalidated remotely, given with the
 *	bytes of the message that did it.  The registration still has to
 *	be deregistered (no local invalidate is posted then).
 *
 * Server role, moving data to or from a peer's registered buffers:
 * SMBDIRECT_RDMA_WRITE / SMBDIRECT_RDMA_READ  getsockopt with struct
 *	smbdirect_rdma in and out: RDMA-writes [addr, addr + len) into the
 *	peer's descriptors (an SMB2 READ response), or RDMA-reads from them
 *	into it (an SMB2 WRITE request), returning the bytes moved (the
 *	smaller of len and the descriptors' total).  Returns once the data
 *	has moved.  Errors: EINVAL (bad descriptor: zero length, offset
 *	overflow), EMSGSIZE (above our MaxReadWriteSize, or too many
 *	descriptors), EFAULT, ENOTCONN, and the connection's error if it
 *	failed meanwhile.
 * SMBDIRECT_CMSG_REMOTE_INVALIDATE  (sendmsg, level SOL_SMBDIRECT, the
 *	number and layout of the upstream IPPROTO_SMBDIRECT series) send
 *	the PDU completed by this call with Send-with-Invalidate naming
 *	remote_token.
 */
#define SMBDIRECT_REGISTER		10
#define SMBDIRECT_DEREGISTER		11
#define SMBDIRECT_RDMA_WRITE		12
#define SMBDIRECT_RDMA_READ		13

/* smbdirect_register.access */
#define SMBDIRECT_ACCESS_REMOTE_WRITE	1	/* the peer writes: SMB2 READ */
#define SMBDIRECT_ACCESS_REMOTE_READ	2	/* the peer reads: SMB2 WRITE */

/* The most descriptors one registration or RDMA call takes. */
#define SMBDIRECT_MAX_DESCS		16

/* Buffer Descriptor V1 as on the wire: little endian, 16 bytes. */
struct smbdirect_buffer_desc {
	__le64 offset;
	__le32 token;
	__le32 length;
};

struct smbdirect_register {
	__u64 addr;			/* in: start of the caller's buffer */
	__u64 len;			/* in: its length */
	__u32 access;			/* in: SMBDIRECT_ACCESS_* */
	__u32 max_descs;		/* in: room at descs */
	__u64 descs;			/* in: struct smbdirect_buffer_desc[] */
	__u64 handle;			/* out: for SMBDIRECT_DEREGISTER */
	__u32 nr_descs;			/* out: descriptors written */
	__u32 reserved;			/* 0 */
};

struct smbdirect_rdma {
	__u64 addr;			/* in: the caller's buffer */
	__u64 len;			/* in: its length */
	__u64 descs;			/* in: the peer's descriptors */
	__u32 nr_descs;			/* in */
	__u32 reserved;			/* 0 */
	__u64 done;			/* out: bytes moved */
};

struct smbdirect_cmsg_remote_invalidate {
	__u32 remote_token;
};

#define SMBDIRECT_CMSG_REMOTE_INVALIDATE \
	_IOW('S', 0x20, struct smbdirect_cmsg_remote_invalidate)
/*
 * A plain number: cmsg_type is an int, and an _IOR() value has bit 31 set,
 * so a reader's comparison would never match without a cast.
 */
#define SMBDIRECT_CMSG_INVALIDATED	0x5321

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
	/* RDMA offload */
	__u64 rdma_write_bytes;		/* we wrote into the peer's buffers */
	__u64 rdma_read_bytes;		/* we read from the peer's buffers */
	__u64 registered_bytes;		/* our buffers registered now */
	__u64 remote_invalidations;	/* our tokens the peer invalidated */
};

/* Direct-TCP framing: each PDU is preceded by this many bytes of length. */
#define SMBDIRECT_FRAME_HDR_LEN	4

#endif /* _UAPI_LINUX_AF_SMBDIRECT_H */
