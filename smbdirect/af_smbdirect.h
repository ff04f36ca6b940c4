/* SPDX-License-Identifier: GPL-2.0 */
/* Internal declarations shared by the af_smbdirect source files. */
#ifndef _AF_SMBDIRECT_H
#define _AF_SMBDIRECT_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/socket.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <net/sock.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>
#include <linux/uio.h>
#include <linux/dma-direction.h>
#include <net/inet_sock.h>
#include <net/ipv6.h>
/*
 * A kernel whose own uapi defines IPPROTO_SMBDIRECT serves that entry
 * point itself: the module then registers only AF_SMBDIRECT.  (Tested
 * before our header defines it for userspace.)
 */
#ifdef IPPROTO_SMBDIRECT
#define AFSMBD_KERNEL_IPPROTO	1
#endif
#include <linux/af_smbdirect.h>
#include "codec.h"

extern int afsmbd_family;
extern struct workqueue_struct *afsmbd_wq;	/* teardown, timers */
extern struct workqueue_struct *afsmbd_alloc_wq;	/* setup, copy-out */

/* Bounds on the per-socket and module limits */
#define AFSMBD_MAX_CREDITS	4096	/* receives posted per connection */
/* [MS-SMBD] allows 1; see AFSMBD_CREDIT_GOAL_MIN for why we do not. */
#define AFSMBD_MIN_CREDITS	AFSMBD_CREDIT_GOAL_MIN
#define AFSMBD_MAX_MSG_SIZE	65536	/* send or receive buffer */
#define AFSMBD_MAX_TIMEOUT	3600	/* seconds */
#define AFSMBD_MAX_KEEPALIVE	(24 * 3600)
#define AFSMBD_TX_POOL		64	/* most send buffers per connection */
/* A QP flushed while connected fails unless a disconnect follows this soon. */
#define AFSMBD_QP_DEAD_GRACE	(5 * HZ)

/* Module parameters (conn.c) */
extern unsigned int afsmbd_keepalive_secs;

/*
 * A pool of equal DMA-mapped buffers carved from page chunks: one map per
 * chunk, little slack per buffer (ring.c).  Charged to the socket's memory
 * cgroup and to the module-wide max_memory.
 */
struct afsmbd_bufs {
	struct ib_device *dev;		/* mapped for this device */
	enum dma_data_direction dir;
	void **chunk;			/* nr_chunks page-chunk addresses */
	u64 *chunk_dma;
	u32 nr_chunks;
	u32 order;			/* page order of a chunk */
	u32 count;			/* buffers */
	u32 size;			/* bytes usable in each */
	u32 stride;			/* distance between buffers */
	u32 per_chunk;
	bool mapped;
	size_t charged;			/* bytes charged for this pool */
};

/* A receive buffer, DMA-mapped for the connection's life. */
struct afsmbd_rx {
	struct ib_cqe cqe;
	struct list_head list;		/* rx_queue (holds data) or rx_hold */
	struct afsmbd_conn *conn;
	void *buf;
	u64 dma;
	u32 size;			/* bytes posted */
	bool overflow;			/* a copy out of the ring (kmalloc) */
	u64 inv_handle;			/* the peer invalidated this reg */
	struct afsmbd_rxchunk chunk;	/* while on rx_queue */
};

/* A send buffer from the connection's pool, DMA-mapped once. */
struct afsmbd_tx {
	struct ib_cqe cqe;
	struct list_head list;		/* tx_free or tx_pending */
	struct afsmbd_conn *conn;
	void *buf;
	u64 dma;
	u32 len;			/* raw message length (negotiate) */
	u32 data_len;			/* payload bytes at AFSMBD_DATA_HDR_LEN */
	u32 remaining;			/* RemainingDataLength to send */
	bool raw;			/* negotiate message: no data header */
	bool fail_after;		/* fail the connection once sent */
	bool inv;			/* Send-with-Invalidate of inv_rkey */
	u32 inv_rkey;
};

/* Per-connection counters reported by SMBDIRECT_INFO. */
struct afsmbd_stats {
	u64 tx_msgs, rx_msgs, tx_bytes, rx_bytes;
	u64 empty_msgs, credit_waits;
	u64 tx_pdus, rx_pdus;
	u64 tx_credits_granted, rx_credits_granted;
	u64 keepalives, violations;
	u64 rdma_write_bytes, rdma_read_bytes;
};

/*
 * The SMB-Direct connection engine state of one socket.  Fields marked
 * (L) are under ->lock, (S) under lock_sock of the owning socket,
 * (R) only touched by the receive completion handler (completions of one
 * CQ are processed one at a time), (M) under ->mutex.
 */
struct afsmbd_conn {
	spinlock_t lock;		/* credits, queues, state vs. completions */
	struct mutex mutex;		/* serialises CM handler and teardown */
	enum afsmbd_cstate state;	/* (L) afsmbd_set_state(); READ_ONCE */
	int err;			/* (L) sticky first error, 0 = clean */
	bool server;
	bool rdma_connected;		/* (M) rdma_disconnect needed */
	bool torn_down;			/* (M) */
	bool teardown_queued;		/* (L) no timer or work may be armed */
	bool rings_dead;		/* (S) torn down: rings go when read */
	bool rx_cut;			/* (S) the peer closed inside a PDU */
	bool queued;			/* child on the listener's acceptq */

	struct rdma_cm_id *id;		/* (M) */
	struct sockaddr_storage laddr;	/* (L) cached for getsockname */
	struct sockaddr_storage raddr;	/* (L) cached for getpeername */
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;

	struct afsmbd_limits limits;
	struct afsmbd_params params;	/* valid from AFSMBD_C_CONNECTED */
	struct afsmbd_params neg;	/* (R) from a valid negotiate message */

	/* negotiate: one buffer each way until the rings exist */
	struct afsmbd_bufs neg_bufs;
	struct afsmbd_rx neg_rx;
	struct afsmbd_tx neg_tx;
	struct work_struct setup_work;	/* rings after a valid negotiate */

	/* receive side */
	struct afsmbd_bufs rx_bufs;
	struct afsmbd_rx *rx;		/* nr_rx, allocated with the ring */
	u32 nr_rx;
	struct list_head rx_hold;	/* (L) free, not posted (SO_RCVBUF) */
	u32 rx_posted;			/* (L) */
	u32 recv_credits;		/* (L) credits the peer holds */
	u16 recv_credit_target;		/* (L) peer's CreditsRequested */
	bool need_response;		/* (L) peer set RESPONSE_REQUESTED */
	struct afsmbd_reasm reasm;	/* (R) */
	struct list_head rx_queue;	/* (L) buffers holding unread data */
	u32 rx_queued;			/* (L) unread bytes in rx_queue */
	u32 rx_inring;			/* (L) ring buffers on rx_queue */
	u32 rx_overflow;		/* (L) copies on rx_queue */
	struct delayed_work compact_work; /* afsmbd_credit_compact() */

	/* send side */
	struct afsmbd_bufs tx_bufs;
	struct afsmbd_tx *tx;
	u32 nr_tx;
	struct list_head tx_free;	/* (L) */
	u32 nr_tx_free;			/* (L) */
	struct list_head tx_pending;	/* (L) filled, waiting for a credit */
	u32 tx_pending_bytes;		/* (L) payload bytes not yet posted */
	u32 tx_inflight;		/* (L) posted, not completed */
	u32 tx_inflight_bytes;		/* (L) their payload, for SIOCOUTQ */
	u32 send_credits;		/* (L) */
	struct afsmbd_tx *tx_cur;	/* (S) fragment being filled */
	struct afsmbd_frame_parser fp;	/* (S) */
	u32 pdu_off;			/* (S) body bytes of the PDU taken */
	bool tx_inv;			/* (S) next PDU: Send-with-Invalidate */
	u32 tx_inv_rkey;		/* (S) */

	/* RDMA offload, client role (mr.c) */
	struct list_head regs;		/* (L) registrations */
	struct list_head regs_dead;	/* (L) deregistered while down */
	u32 nr_regs;			/* (L) */
	u64 reg_seq;			/* (L) last handle */
	u64 registered_bytes;		/* (L) */
	u64 remote_invalidations;	/* (L) */
	u64 inv_orphan;			/* (L) from an empty message */
	bool reg_pool;			/* (S) reg_mrs initialised */
	struct list_head reg_mrs;	/* ib_mr_pool */

	/* timers, armed only through afsmbd_arm() */
	struct delayed_work neg_work;	/* negotiate timeout */
	struct delayed_work ka_work;	/* keepalive */
	unsigned long last_rx;		/* (L) jiffies of the last receive */
	bool ka_outstanding;		/* (L) keepalive sent, no answer yet */
	bool qp_dead;			/* (L) flushed while connected */
	unsigned long qp_dead_at;	/* (L) jiffies of the first such flush */
	unsigned int keepalive_secs;
	struct work_struct teardown_work;
	struct completion drained;	/* teardown drained the QP */

	/* server children */
	struct sock *parent;		/* listener; ref held until destruct */
	struct list_head child;		/* on the parent's pending/accept list */

	/* the device, cached at setup so SMBDIRECT_INFO outlives teardown */
	u32 transport;			/* SMBDIRECT_TRANSPORT_* */
	u32 port_num;
	char dev_name[SMBDIRECT_DEVICE_NAME_LEN];
	bool default_port;		/* connect() gave port 0 */
	unsigned int connect_timeout;	/* seconds */

	struct afsmbd_stats stats;	/* (L) */
	size_t buffer_bytes;		/* (L) buffers this socket pins */
	size_t desc_bytes;		/* rx[] and tx[], charged */
};

/*
 * Per-socket state; struct sock must come first (sk_alloc() contract),
 * and as struct inet_sock for the IPPROTO_SMBDIRECT entry point, whose
 * inet_create() initialises inet fields.
 */
struct afsmbd_sock {
	union {
		struct sock sk;
		struct inet_sock inet;
	};
	struct afsmbd_conn conn;
	struct sockaddr_storage bound;	/* (S) address given to bind() */
	bool is_bound;			/* (S) */
	/* listener only, under conn.lock */
	struct list_head pending;	/* children still negotiating */
	struct list_head acceptq;	/* children ready for accept() */
	bool closing;
	/* violations of children that failed in negotiate, never accepted */
	atomic64_t child_violations;
	struct list_head all;		/* every socket, for /proc/net */
};

/* An AF_INET6 socket of the IPPROTO_SMBDIRECT entry point. */
struct afsmbd_sock6 {
	struct afsmbd_sock s;
	struct ipv6_pinfo inet6;	/* last: inet6_sk_generic() on 6.1 */
};

static inline struct afsmbd_sock *afsmbd_sk(const struct sock *sk)
{
	return container_of(sk, struct afsmbd_sock, sk);
}

static inline struct sock *afsmbd_conn_sk(struct afsmbd_conn *conn)
{
	return &container_of(conn, struct afsmbd_sock, conn)->sk;
}

/* SMB-Direct's well-known ports ([MS-SMB2] 2.1) */
#define AFSMBD_PORT		445	/* InfiniBand, RoCE */
#define AFSMBD_PORT_IWARP	5445

static inline __be16 *afsmbd_port(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((struct sockaddr_in *)ss)->sin_port;
	return &((struct sockaddr_in6 *)ss)->sin6_port;
}

static inline void afsmbd_set_port(struct sockaddr_storage *ss, u16 port)
{
	*afsmbd_port(ss) = htons(port);
}

int afsmbd_socket_init(void);
void afsmbd_sock_init(struct sock *sk);
void afsmbd_socket_exit(void);

/* conn.c: RDMA CM, phases, negotiate, teardown */
void afsmbd_conn_init(struct afsmbd_conn *conn);
bool afsmbd_set_state(struct afsmbd_conn *conn, enum afsmbd_cstate st);
bool afsmbd_arm(struct afsmbd_conn *conn, struct delayed_work *dw,
		unsigned long delay);
int afsmbd_conn_bind(struct sock *sk, struct sockaddr *addr);
int afsmbd_conn_listen(struct sock *sk, int backlog);
int afsmbd_conn_connect(struct sock *sk, struct sockaddr *addr);
struct sock *afsmbd_conn_accept(struct sock *lsk);
void afsmbd_conn_fail(struct afsmbd_conn *conn, int err);
void afsmbd_conn_fail_locked(struct afsmbd_conn *conn, int err);
int afsmbd_post_send_chain(struct afsmbd_conn *conn,
			   struct ib_send_wr *first);
void afsmbd_violation(struct afsmbd_conn *conn, const char *what);
void afsmbd_violation_locked(struct afsmbd_conn *conn, const char *what);
int afsmbd_conn_set_limit(struct afsmbd_conn *conn, int optname, u32 val);
int afsmbd_conn_get_limit(struct afsmbd_conn *conn, int optname, u32 *val);
void afsmbd_conn_close(struct sock *sk);
void afsmbd_conn_destruct(struct afsmbd_conn *conn);
void afsmbd_listener_close(struct sock *lsk);
int afsmbd_conn_getname(struct sock *sk, struct sockaddr_storage *ss,
			int peer);
void afsmbd_negotiate_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
			   u32 len);
void afsmbd_conn_exit(void);
int afsmbd_conn_setup(struct afsmbd_conn *conn);
void afsmbd_conn_free_res(struct afsmbd_conn *conn);
void afsmbd_cache_addrs(struct afsmbd_conn *conn);
void afsmbd_rd_atom(struct afsmbd_conn *conn, u8 *initiator, u8 *responder);
bool afsmbd_is_iwarp(struct rdma_cm_id *id);
extern unsigned int afsmbd_connect_timeout;
extern unsigned int afsmbd_ack_timeout;

/* inet.c: the IPPROTO_SMBDIRECT entry point */
int afsmbd_inet_init_entry(const struct proto_ops *ops);
void afsmbd_inet_exit_entry(void);
void afsmbd_inet_child(struct sock *sk);

/* diag.c: /proc/net/smbdirect */
void afsmbd_diag_add(struct sock *sk);
void afsmbd_diag_del(struct sock *sk);
int afsmbd_diag_init(void);
void afsmbd_diag_exit(void);

/* listen.c: listener children and the accept queue */
int afsmbd_cm_request(struct afsmbd_conn *lconn, struct rdma_cm_id *id,
		      struct rdma_cm_event *ev);
int afsmbd_cm_listener_event(struct afsmbd_conn *conn,
			     struct rdma_cm_event *ev);
void afsmbd_child_ready(struct afsmbd_conn *conn);
void afsmbd_child_unlink(struct afsmbd_conn *conn);
size_t afsmbd_children_memory(struct sock *lsk);

/* ring.c: buffer pools and the memory they pin */
extern unsigned long afsmbd_max_socket_memory;
int afsmbd_mem_charge(struct afsmbd_conn *conn, size_t bytes);
void afsmbd_mem_uncharge(struct afsmbd_conn *conn, size_t bytes);
struct mem_cgroup *afsmbd_memcg(struct afsmbd_conn *conn);
int afsmbd_bufs_alloc(struct afsmbd_conn *conn, struct afsmbd_bufs *b,
		      struct ib_device *dev, u32 count, u32 size,
		      enum dma_data_direction dir);
void *afsmbd_bufs_get(const struct afsmbd_bufs *b, u32 i, u64 *dma);
void afsmbd_bufs_unmap(struct afsmbd_bufs *b);
void afsmbd_bufs_free(struct afsmbd_conn *conn, struct afsmbd_bufs *b);
size_t afsmbd_limits_memory(const struct afsmbd_limits *l);
int afsmbd_ring_init(void);

/* mr.c and rw.c: RDMA offload */
u32 afsmbd_mr_pages(struct ib_device *dev);
int afsmbd_iter_pages(struct iov_iter *iter, struct page ***pages,
		      unsigned long *npages, u32 *first_off);
int afsmbd_mr_register_user(struct sock *sk, struct smbdirect_register *r,
			    struct afsmbd_buffer_desc *bd);
int afsmbd_mr_deregister(struct sock *sk, u64 handle);
u64 afsmbd_mr_remote_inv(struct afsmbd_conn *conn, u32 rkey);
void afsmbd_mr_teardown(struct afsmbd_conn *conn);
int afsmbd_rw_user(struct sock *sk, struct smbdirect_rdma *r, const void *wire,
		   bool write);
struct sock *afsmbd_sock_of(struct socket *sock);
/* RDMA contexts one operation uses at most (one per descriptor) */
#define AFSMBD_RW_CTXS		SMBDIRECT_MAX_DESCS
/* Fast-register MRs per connection for its registrations */
#define AFSMBD_REG_MRS		64

/* Exported to in-kernel consumers (namespace AF_SMBDIRECT) */
int afsmbd_register_iter(struct socket *sock, struct iov_iter *iter,
			 u32 access, struct smbdirect_buffer_desc *descs,
			 u32 max_descs, u32 *nr_descs, u64 *handle);
int afsmbd_deregister(struct socket *sock, u64 handle);
ssize_t afsmbd_rdma_xfer(struct socket *sock, struct iov_iter *iter,
			 const struct smbdirect_buffer_desc *descs,
			 u32 nr_descs, bool write);

/* xfer.c: rings, credits, sends, receives, keepalive */
int afsmbd_neg_alloc(struct afsmbd_conn *conn);
int afsmbd_xfer_alloc(struct afsmbd_conn *conn, const struct afsmbd_params *p);
void afsmbd_xfer_unmap(struct afsmbd_conn *conn);
void afsmbd_xfer_free_idle(struct afsmbd_conn *conn);
void afsmbd_xfer_free(struct afsmbd_conn *conn);
int afsmbd_post_all_recvs(struct afsmbd_conn *conn);
int afsmbd_post_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx);
int afsmbd_post_raw(struct afsmbd_conn *conn, struct afsmbd_tx *tx);
struct afsmbd_tx *afsmbd_tx_get(struct afsmbd_conn *conn);
void afsmbd_tx_put(struct afsmbd_conn *conn, struct afsmbd_tx *tx);
int afsmbd_tx_queue(struct afsmbd_conn *conn, struct afsmbd_tx *tx);
void afsmbd_kick(struct afsmbd_conn *conn);
void afsmbd_rx_consume(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
		       u32 bytes);
void afsmbd_keepalive_work(struct work_struct *work);
void afsmbd_compact_work(struct work_struct *work);
void afsmbd_xfer_connected(struct afsmbd_conn *conn);

/* stream.c: the Direct-TCP byte stream over SMB-Direct messages */
int afsmbd_stream_sendmsg(struct sock *sk, struct msghdr *msg, size_t len);
int afsmbd_stream_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			  int flags);
bool afsmbd_stream_writable(struct afsmbd_conn *conn);
int afsmbd_stream_flush(struct sock *sk, long timeo);

/* Send buffers: a couple more than the credits we ask for, bounded. */
static inline u32 afsmbd_tx_pool(const struct afsmbd_limits *l)
{
	return min_t(u32, AFSMBD_TX_POOL, l->send_credit_target + 2);
}

/* Payload a single message may carry after its 24-byte header. */
static inline u32 afsmbd_max_payload(const struct afsmbd_conn *conn)
{
	return afsmbd_params_max_payload(&conn->params);
}

#endif /* _AF_SMBDIRECT_H */
