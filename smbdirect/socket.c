// SPDX-License-Identifier: GPL-2.0
/* Socket layer: the AF_SMBDIRECT family, proto_ops, options and poll. */

#include <linux/module.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/tcp.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <asm/ioctls.h>
#include <linux/sched/signal.h>
#include <net/sock.h>
#include "af_smbdirect.h"
#include "compat.h"

struct workqueue_struct *afsmbd_wq;
struct workqueue_struct *afsmbd_alloc_wq;

static struct proto afsmbd_proto = {
	.name		= "SMBDIRECT",
	.owner		= THIS_MODULE,
	.obj_size	= sizeof(struct afsmbd_sock),
};

static void afsmbd_sk_destruct(struct sock *sk)
{
	afsmbd_diag_del(sk);
	afsmbd_conn_destruct(&afsmbd_sk(sk)->conn);
}

/**
 * afsmbd_sock_init() - initialise our part of a freshly allocated sock
 * @sk: socket after sock_init_data()
 */
void afsmbd_sock_init(struct sock *sk)
{
	struct afsmbd_sock *ss = afsmbd_sk(sk);

	afsmbd_conn_init(&ss->conn);
	INIT_LIST_HEAD(&ss->pending);
	INIT_LIST_HEAD(&ss->acceptq);
	atomic64_set(&ss->child_violations, 0);
	sk->sk_destruct = afsmbd_sk_destruct;
	afsmbd_diag_add(sk);
}

/* Validate a user address: sockaddr_in or sockaddr_in6 only. */
static int afsmbd_check_addr(const struct sockaddr *addr, int len,
			     struct sockaddr_storage *out)
{
	if (len < (int)sizeof(addr->sa_family))
		return -EINVAL;
	switch (addr->sa_family) {
	case AF_INET:
		if (len < (int)sizeof(struct sockaddr_in))
			return -EINVAL;
		len = sizeof(struct sockaddr_in);
		break;
	case AF_INET6:
		if (len < SIN6_LEN_RFC2133)
			return -EINVAL;
		len = min_t(int, len, sizeof(struct sockaddr_in6));
		break;
	default:
		return -EAFNOSUPPORT;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, addr, len);
	return 0;
}

static int afsmbd_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct afsmbd_conn *conn;

	if (!sk)
		return 0;
	conn = &afsmbd_sk(sk)->conn;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN)
		afsmbd_listener_close(sk);
	else
		afsmbd_conn_close(sk);
	sock_orphan(sk);
	release_sock(sk);
	/* Tear down now, so rmmod after close() finds no reference left. */
	flush_work(&conn->teardown_work);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static int afsmbd_bind(struct socket *sock, AFSMBD_UADDR *uaddr, int len)
{
	struct sock *sk = sock->sk;
	struct afsmbd_sock *ss = afsmbd_sk(sk);
	struct sockaddr_storage addr;
	int err;

	err = afsmbd_check_addr((struct sockaddr *)uaddr, len, &addr);
	if (err)
		return err;
	if (ntohs(*afsmbd_port(&addr)) &&
	    ntohs(*afsmbd_port(&addr)) < PROT_SOCK &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		return -EACCES;

	lock_sock(sk);
	if (ss->is_bound || ss->conn.id || sk->sk_state != TCP_CLOSE ||
	    ss->conn.state != AFSMBD_C_IDLE) {
		err = -EINVAL;
		goto out;
	}
	err = afsmbd_conn_bind(sk, (struct sockaddr *)&addr);
	if (!err) {
		ss->bound = addr;
		ss->is_bound = true;
	}
out:
	release_sock(sk);
	return err;
}

static int afsmbd_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	struct afsmbd_sock *ss = afsmbd_sk(sk);
	struct sockaddr_in any = { .sin_family = AF_INET };
	int err = 0;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED ||
	    (sk->sk_state != TCP_CLOSE && sk->sk_state != TCP_LISTEN) ||
	    ss->conn.state != AFSMBD_C_IDLE) {
		err = -EINVAL;
		goto out;
	}
	if (!ss->conn.id) {
		/*
		 * Like TCP: listen() on an unbound socket picks a port, and
		 * a listener that was shut down listens again where it was.
		 */
		if (!ss->is_bound)
			memcpy(&ss->bound, &any, sizeof(any));
		err = afsmbd_conn_bind(sk, (struct sockaddr *)&ss->bound);
		if (err)
			goto out;
		if (!ss->is_bound)
			afsmbd_conn_getname(sk, &ss->bound, 0);
		ss->is_bound = true;
	}
	err = afsmbd_conn_listen(sk, backlog);
out:
	release_sock(sk);
	return err;
}

static bool afsmbd_connecting(struct afsmbd_conn *conn)
{
	enum afsmbd_cstate st = READ_ONCE(conn->state);

	return st != AFSMBD_C_IDLE && st != AFSMBD_C_CONNECTED &&
	       st != AFSMBD_C_DRAINING && st != AFSMBD_C_FAILED;
}

static int afsmbd_connect(struct socket *sock, AFSMBD_UADDR *uaddr,
			  int len, int flags)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk;
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct sockaddr_storage addr;
	bool default_port;
	long timeo;
	int err;

	err = afsmbd_check_addr((struct sockaddr *)uaddr, len, &addr);
	if (err)
		return err;
	/* Port 0: SMB-Direct's port, 445, or 5445 once iWARP shows (conn.c). */
	default_port = !*afsmbd_port(&addr);
	if (default_port)
		afsmbd_set_port(&addr, AFSMBD_PORT);

	lock_sock(sk);
	switch (READ_ONCE(conn->state)) {
	case AFSMBD_C_IDLE:
		if (sk->sk_state == TCP_LISTEN) {
			err = -EINVAL;
			goto out;
		}
		conn->default_port = default_port;
		err = afsmbd_conn_connect(sk, (struct sockaddr *)&addr);
		if (err)
			goto out;
		sock->state = SS_CONNECTING;
		break;
	case AFSMBD_C_CONNECTED:
	case AFSMBD_C_DRAINING:
		err = -EISCONN;
		goto out;
	case AFSMBD_C_FAILED:
		err = sock_error(sk) ? : -ECONNABORTED;
		goto out;
	default:
		if (flags & O_NONBLOCK) {
			err = -EALREADY;
			goto out;
		}
		break;
	}

	timeo = sock_sndtimeo(sk, flags & O_NONBLOCK);
	add_wait_queue(sk_sleep(sk), &wait);
	while (afsmbd_connecting(conn)) {
		if (!timeo) {
			err = -EINPROGRESS;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		sk_wait_event(sk, &timeo, !afsmbd_connecting(conn), &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (err)
		goto out;
	/* Draining: it connected, and the peer has already closed. */
	if (READ_ONCE(conn->state) == AFSMBD_C_CONNECTED ||
	    READ_ONCE(conn->state) == AFSMBD_C_DRAINING) {
		sock->state = SS_CONNECTED;
	} else {
		err = sock_error(sk) ? : -ECONNRESET;
		sock->state = SS_UNCONNECTED;
	}
out:
	release_sock(sk);
	return err;
}

static int afsmbd_accept(struct socket *sock, struct socket *newsock,
			 AFSMBD_ACCEPT_ARGS)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	struct sock *sk = sock->sk, *child = NULL;
	struct afsmbd_sock *ss = afsmbd_sk(sk);
	long timeo;
	int err = 0;

	lock_sock(sk);
	if (sk->sk_state != TCP_LISTEN) {
		err = -EINVAL;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, AFSMBD_ACCEPT_FLAGS & O_NONBLOCK);
	add_wait_queue(sk_sleep(sk), &wait);
	while (!(child = afsmbd_conn_accept(sk))) {
		if (sk->sk_state != TCP_LISTEN) {
			err = -EINVAL;
			break;
		}
		/* A listener whose device went away stays failed. */
		if (READ_ONCE(ss->conn.state) == AFSMBD_C_FAILED) {
			err = READ_ONCE(ss->conn.err) ? : -ENETDOWN;
			break;
		}
		if (READ_ONCE(sk->sk_err)) {
			err = sock_error(sk);
			break;
		}
		if (!timeo) {
			err = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			err = sock_intr_errno(timeo);
			break;
		}
		sk_wait_event(sk, &timeo,
			      !list_empty_careful(&ss->acceptq) ||
			      READ_ONCE(sk->sk_err) ||
			      READ_ONCE(ss->conn.state) == AFSMBD_C_FAILED ||
			      sk->sk_state != TCP_LISTEN, &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
out:
	release_sock(sk);
	if (!child)
		return err;

	lock_sock(child);
	sock_graft(child, newsock);
	afsmbd_custom_sockopt(newsock);
	newsock->state = SS_CONNECTED;
	release_sock(child);
	return 0;
}

static int afsmbd_getname(struct socket *sock, struct sockaddr *uaddr,
			  int peer)
{
	struct sockaddr_storage ss;
	int len;

	len = afsmbd_conn_getname(sock->sk, &ss, peer);
	if (len > 0)
		memcpy(uaddr, &ss, len);
	return len;
}

static __poll_t afsmbd_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct afsmbd_sock *ss = afsmbd_sk(sk);
	struct afsmbd_conn *conn = &ss->conn;
	enum afsmbd_cstate st;
	__poll_t mask = 0;
	u8 shutdown;

	sock_poll_wait(file, sock, wait);
	if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
		if (READ_ONCE(sk->sk_err))
			mask |= EPOLLERR;
		if (READ_ONCE(conn->state) == AFSMBD_C_FAILED)
			mask |= EPOLLERR | EPOLLHUP;
		if (!list_empty_careful(&ss->acceptq))
			mask |= EPOLLIN | EPOLLRDNORM;
		return mask;
	}

	st = READ_ONCE(conn->state);
	shutdown = READ_ONCE(sk->sk_shutdown);
	if (READ_ONCE(sk->sk_err))
		mask |= EPOLLERR;
	if (shutdown == SHUTDOWN_MASK || st == AFSMBD_C_FAILED)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (READ_ONCE(conn->rx_queued))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (st == AFSMBD_C_CONNECTED && !(shutdown & SEND_SHUTDOWN)) {
		if (afsmbd_stream_writable(conn))
			mask |= EPOLLOUT | EPOLLWRNORM;
		else
			sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	} else if (st == AFSMBD_C_FAILED || (shutdown & SEND_SHUTDOWN)) {
		/* Writes no longer block: they fail at once. */
		mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

static int afsmbd_ioctl(struct socket *sock, unsigned int cmd,
			unsigned long arg)
{
	struct sock *sk = sock->sk;
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	int val;

	if (sk->sk_state == TCP_LISTEN)
		return -EINVAL;
	switch (cmd) {
	case SIOCINQ:
		val = READ_ONCE(conn->rx_queued);
		break;
	case SIOCOUTQ:
		lock_sock(sk);
		spin_lock_bh(&conn->lock);
		/* As TCP: written and not yet acknowledged by the peer. */
		val = conn->tx_pending_bytes + conn->tx_inflight_bytes;
		spin_unlock_bh(&conn->lock);
		if (conn->tx_cur)
			val += conn->tx_cur->data_len;
		release_sock(sk);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return put_user(val, (int __user *)arg);
}

static int afsmbd_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	int err = 0;

	/* SHUT_RD/WR/RDWR (0/1/2) to RCV_/SEND_SHUTDOWN bits (1/2/3). */
	how++;
	if (how & ~SHUTDOWN_MASK || !how)
		return -EINVAL;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		/* As TCP: stop listening, waking accept() (it gets EINVAL). */
		if (how & RCV_SHUTDOWN) {
			afsmbd_listener_close(sk);
			sock->state = SS_UNCONNECTED;
		}
		goto out;
	}
	if (conn->state == AFSMBD_C_IDLE) {
		err = -ENOTCONN;
		goto out;
	}
	if (how & SEND_SHUTDOWN) {
		/*
		 * SMB-Direct has no half-close: flush, then disconnect both
		 * directions.  Data already received stays readable.
		 */
		if (READ_ONCE(conn->state) == AFSMBD_C_CONNECTED)
			afsmbd_stream_flush(sk, 10 * HZ);
		/* Draining: the peer closed first; let teardown deliver. */
		if (READ_ONCE(conn->state) != AFSMBD_C_DRAINING)
			afsmbd_conn_fail(conn, 0);
	}
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | how);
	sk->sk_state_change(sk);
out:
	release_sock(sk);
	return err;
}

/*
 * SOL_SOCKET, where the core lets us see it: everything goes to the core
 * but SO_REUSEPORT, which RDMA CM has no use for and the core refuses for
 * non-inet sockets.  Code written for TCP sets it, so it is kept and
 * reported back.
 */
static int afsmbd_sol_socket(struct socket *sock, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	int val;

	if (optname != SO_REUSEPORT)
		return sock_setsockopt(sock, SOL_SOCKET, optname, optval,
				       optlen);
	if (optlen < sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	lock_sock(sock->sk);
	sock->sk->sk_reuseport = !!val;
	release_sock(sock->sk);
	return 0;
}

/*
 * IPV6_V6ONLY, as servers written for TCP set it on IPv6 listeners: an
 * IPv6 wildcard bind then leaves IPv4 to another socket (RDMA CM afonly).
 */
static int afsmbd_set_v6only(struct sock *sk, sockptr_t optval,
			     unsigned int optlen)
{
	int val, err = 0;

	if (optlen < sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;
	lock_sock(sk);
	if (afsmbd_sk(sk)->conn.id)
		err = -EINVAL;		/* bound already, as for TCP */
	else
		sk->sk_ipv6only = !!val;
	release_sock(sk);
	return err;
}

static int afsmbd_setsockopt(struct socket *sock, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	int err = 0;
	u32 val;

	if (level == SOL_SOCKET)
		return afsmbd_sol_socket(sock, optname, optval, optlen);
	if (level == SOL_TCP && optname == TCP_NODELAY)
		return 0;	/* every PDU is sent at once anyway */
	if (level == SOL_IPV6 && optname == IPV6_V6ONLY)
		return afsmbd_set_v6only(sk, optval, optlen);
	if (level != SOL_SMBDIRECT)
		return -ENOPROTOOPT;
	if (optname == SMBDIRECT_INFO || optname == SMBDIRECT_REGISTER ||
	    optname == SMBDIRECT_RDMA_WRITE || optname == SMBDIRECT_RDMA_READ)
		return -ENOPROTOOPT;	/* getsockopt only */
	if (optname == SMBDIRECT_DEREGISTER) {
		u64 handle;

		if (optlen < sizeof(handle))
			return -EINVAL;
		if (copy_from_sockptr(&handle, optval, sizeof(handle)))
			return -EFAULT;
		lock_sock(sk);
		err = afsmbd_mr_deregister(sk, handle);
		release_sock(sk);
		return err;
	}
	if (optlen < sizeof(val))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	if (optname == SMBDIRECT_KEEPALIVE_INTERVAL) {
		if (val > AFSMBD_MAX_KEEPALIVE) {
			err = -EINVAL;
			goto out;
		}
		WRITE_ONCE(conn->keepalive_secs, val);
		spin_lock_bh(&conn->lock);
		/* Not over a dead QP's deadline (afsmbd_keepalive_work()). */
		if (val && conn->state == AFSMBD_C_CONNECTED && !conn->qp_dead)
			afsmbd_arm(conn, &conn->ka_work, val * HZ);
		spin_unlock_bh(&conn->lock);
		goto out;
	}
	/* The limits go into the negotiate: fixed once it may have started. */
	if (READ_ONCE(conn->state) != AFSMBD_C_IDLE) {
		err = afsmbd_conn_get_limit(conn, optname, &val) ? :
		      -EISCONN;
		goto out;
	}
	err = afsmbd_conn_set_limit(conn, optname, val);
out:
	release_sock(sk);
	return err;
}

/*
 * TCP_INFO for programs written for TCP (Samba reads tcpi_rto to size its
 * own timeouts).  Only what has an SMB-Direct meaning is filled: messages
 * for segments, credits for the congestion window, the QP's local ACK
 * timeout for the retransmission timeout.
 */
static int afsmbd_tcp_info(struct sock *sk, char __user *optval,
			   int __user *optlen, int len)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct tcp_info ti = {};
	u64 rto_us;

	/* 4.096 us << ack_timeout, as the QP's transport timer. */
	rto_us = (4096ULL << min(READ_ONCE(afsmbd_ack_timeout), 31U)) / 1000;
	spin_lock_bh(&conn->lock);
	ti.tcpi_state = READ_ONCE(sk->sk_state);
	if (conn->state == AFSMBD_C_CONNECTED) {
		ti.tcpi_rto = min_t(u64, rto_us, U32_MAX);
		ti.tcpi_ato = ti.tcpi_rto;
		ti.tcpi_snd_mss = afsmbd_max_payload(conn);
		ti.tcpi_rcv_mss = conn->params.max_recv_size -
				  AFSMBD_DATA_HDR_LEN;
		ti.tcpi_snd_cwnd = conn->send_credits;
		ti.tcpi_unacked = conn->tx_inflight;
		ti.tcpi_last_data_recv =
			jiffies_to_msecs(jiffies - conn->last_rx);
		ti.tcpi_notsent_bytes = conn->tx_pending_bytes;
	}
	ti.tcpi_segs_out = conn->stats.tx_msgs;
	ti.tcpi_segs_in = conn->stats.rx_msgs;
	ti.tcpi_data_segs_out = conn->stats.tx_msgs - conn->stats.empty_msgs;
	ti.tcpi_bytes_acked = conn->stats.tx_bytes;
	ti.tcpi_bytes_received = conn->stats.rx_bytes;
	spin_unlock_bh(&conn->lock);

	len = min_t(int, len, sizeof(ti));
	if (copy_to_user(optval, &ti, len) || put_user(len, optlen))
		return -EFAULT;
	return 0;
}

static void afsmbd_fill_info(struct afsmbd_conn *conn,
			     struct smbdirect_info *info)
{
	const struct afsmbd_params *p = &conn->params;
	const struct afsmbd_stats *st = &conn->stats;

	memset(info, 0, sizeof(*info));
	spin_lock_bh(&conn->lock);
	info->state = conn->state;
	if (conn->state == AFSMBD_C_CONNECTED || conn->params.version) {
		info->version = p->version;
		info->recv_credit_max = p->recv_credit_max;
		info->send_credit_target = p->send_credit_target;
		info->recv_credit_target = conn->recv_credit_target;
		info->max_send_size = p->max_send_size;
		info->max_recv_size = p->max_recv_size;
		info->max_fragmented_send_size = p->max_fragmented_send_size;
		info->max_fragmented_recv_size = p->max_fragmented_recv_size;
		info->max_read_write_size = p->max_read_write_size;
	}
	info->send_credits = conn->send_credits;
	info->recv_credits = conn->recv_credits;
	info->recv_posted = conn->rx_posted;
	info->keepalive_interval = conn->keepalive_secs;
	info->tx_msgs = st->tx_msgs;
	info->rx_msgs = st->rx_msgs;
	info->tx_bytes = st->tx_bytes;
	info->rx_bytes = st->rx_bytes;
	info->tx_empty_msgs = st->empty_msgs;
	info->credit_waits = st->credit_waits;
	info->transport = conn->transport;
	info->port_num = conn->port_num;
	memcpy(info->device, conn->dev_name, sizeof(info->device));
	info->tx_pdus = st->tx_pdus;
	info->rx_pdus = st->rx_pdus;
	info->tx_credits_granted = st->tx_credits_granted;
	info->rx_credits_granted = st->rx_credits_granted;
	info->keepalives = st->keepalives;
	info->violations = st->violations;
	info->buffer_bytes = conn->buffer_bytes;
	info->rdma_write_bytes = st->rdma_write_bytes;
	info->rdma_read_bytes = st->rdma_read_bytes;
	info->registered_bytes = conn->registered_bytes;
	info->remote_invalidations = conn->remote_invalidations;
	spin_unlock_bh(&conn->lock);
	/* A listener also reports its children that never got accepted. */
	info->violations +=
		atomic64_read(&afsmbd_sk(afsmbd_conn_sk(conn))->child_violations);
	if (READ_ONCE(afsmbd_conn_sk(conn)->sk_state) == TCP_LISTEN)
		info->buffer_bytes += afsmbd_children_memory(afsmbd_conn_sk(conn));
}

/* SMBDIRECT_REGISTER: struct smbdirect_register in and out. */
static int afsmbd_get_register(struct sock *sk, char __user *optval,
			       int __user *optlen, int len)
{
	struct afsmbd_buffer_desc bd[SMBDIRECT_MAX_DESCS];
	struct smbdirect_buffer_desc w[SMBDIRECT_MAX_DESCS];
	struct smbdirect_register r;
	u32 i;
	int err;

	if (len < (int)sizeof(r))
		return -EINVAL;
	if (copy_from_user(&r, optval, sizeof(r)))
		return -EFAULT;
	r.max_descs = min_t(u32, r.max_descs, SMBDIRECT_MAX_DESCS);
	lock_sock(sk);
	err = afsmbd_mr_register_user(sk, &r, bd);
	if (err)
		goto out;
	for (i = 0; i < r.nr_descs; i++) {
		w[i].offset = cpu_to_le64(bd[i].offset);
		w[i].token = cpu_to_le32(bd[i].token);
		w[i].length = cpu_to_le32(bd[i].length);
	}
	/* Undo rather than leave a registration nobody can name. */
	if (copy_to_user(u64_to_user_ptr(r.descs), w,
			 r.nr_descs * sizeof(w[0])) ||
	    copy_to_user(optval, &r, sizeof(r)) ||
	    put_user((int)sizeof(r), optlen)) {
		afsmbd_mr_deregister(sk, r.handle);
		err = -EFAULT;
	}
out:
	release_sock(sk);
	return err;
}

/* SMBDIRECT_RDMA_WRITE/READ: struct smbdirect_rdma in and out. */
static int afsmbd_get_rdma(struct sock *sk, char __user *optval,
			   int __user *optlen, int len, bool write)
{
	struct smbdirect_buffer_desc w[SMBDIRECT_MAX_DESCS];
	struct smbdirect_rdma r;
	int err;

	if (len < (int)sizeof(r))
		return -EINVAL;
	if (copy_from_user(&r, optval, sizeof(r)))
		return -EFAULT;
	if (!r.nr_descs || r.nr_descs > SMBDIRECT_MAX_DESCS)
		return r.nr_descs ? -EMSGSIZE : -EINVAL;
	if (copy_from_user(w, u64_to_user_ptr(r.descs),
			   r.nr_descs * sizeof(w[0])))
		return -EFAULT;
	lock_sock(sk);
	err = afsmbd_rw_user(sk, &r, w, write);
	release_sock(sk);
	if (err)
		return err;
	if (copy_to_user(optval, &r, sizeof(r)) ||
	    put_user((int)sizeof(r), optlen))
		return -EFAULT;
	return 0;
}

static int afsmbd_getsockopt(struct socket *sock, int level, int optname,
			     char __user *optval, int __user *optlen)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sock->sk)->conn;
	struct smbdirect_info info;
	const void *src;
	int len, size;
	u32 val;

	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	if ((level == SOL_TCP && optname == TCP_NODELAY) ||
	    (level == SOL_IPV6 && optname == IPV6_V6ONLY)) {
		val = level == SOL_TCP ? 1 : sock->sk->sk_ipv6only;
		src = &val;
		size = sizeof(val);
	} else if (level == SOL_TCP && optname == TCP_INFO) {
		return afsmbd_tcp_info(sock->sk, optval, optlen, len);
	} else if (level != SOL_SMBDIRECT) {
		return -ENOPROTOOPT;
	} else if (optname == SMBDIRECT_KEEPALIVE_INTERVAL) {
		val = READ_ONCE(conn->keepalive_secs);
		src = &val;
		size = sizeof(val);
	} else if (optname == SMBDIRECT_REGISTER) {
		return afsmbd_get_register(sock->sk, optval, optlen, len);
	} else if (optname == SMBDIRECT_RDMA_WRITE ||
		   optname == SMBDIRECT_RDMA_READ) {
		return afsmbd_get_rdma(sock->sk, optval, optlen, len,
				       optname == SMBDIRECT_RDMA_WRITE);
	} else if (optname == SMBDIRECT_INFO) {
		afsmbd_fill_info(conn, &info);
		src = &info;
		size = sizeof(info);
	} else {
		lock_sock(sock->sk);
		size = afsmbd_conn_get_limit(conn, optname, &val);
		release_sock(sock->sk);
		if (size)
			return size;
		src = &val;
		size = sizeof(val);
	}
	len = min(len, size);
	if (copy_to_user(optval, src, len) || put_user(len, optlen))
		return -EFAULT;
	return 0;
}

static int afsmbd_sendmsg(struct socket *sock, struct msghdr *msg,
			  size_t len)
{
	struct sock *sk = sock->sk;
	int ret;

	/*
	 * As TCP: other flags are hints to a stream that copies anyway
	 * (MSG_SPLICE_PAGES, 6.1's sendpage flags, MSG_ZEROCOPY without
	 * SO_ZEROCOPY, MSG_WAITALL); only urgent data has no meaning here.
	 */
	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	ret = afsmbd_stream_sendmsg(sk, msg, len);
	release_sock(sk);
	return ret;
}

static int afsmbd_recvmsg(struct socket *sock, struct msghdr *msg,
			  size_t len, int flags)
{
	struct sock *sk = sock->sk;
	int ret;

	lock_sock(sk);
	ret = afsmbd_stream_recvmsg(sk, msg, len, flags);
	release_sock(sk);
	return ret;
}

static const struct proto_ops afsmbd_stream_ops = {
	/*
	 * Only compared against PF_UNIX by the core; the number in force
	 * lives in sk_family and in the registered net_proto_family.
	 */
	.family		= AF_SMBDIRECT,
	.owner		= THIS_MODULE,
	.release	= afsmbd_release,
	.bind		= afsmbd_bind,
	.connect	= afsmbd_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= afsmbd_accept,
	.getname	= afsmbd_getname,
	.poll		= afsmbd_poll,
	.ioctl		= afsmbd_ioctl,
	.listen		= afsmbd_listen,
	.shutdown	= afsmbd_shutdown,
	.setsockopt	= afsmbd_setsockopt,
	.getsockopt	= afsmbd_getsockopt,
	.sendmsg	= afsmbd_sendmsg,
	.recvmsg	= afsmbd_recvmsg,
	.mmap		= sock_no_mmap,
};

/**
 * afsmbd_sock_of() - the sock of an AF_SMBDIRECT socket
 * @sock: any socket
 *
 * Return: its sock, or NULL if @sock is not one of ours.
 */
struct sock *afsmbd_sock_of(struct socket *sock)
{
	/* Every sock of ours, whatever its entry point, has our destructor. */
	if (!sock || !sock->sk || sock->sk->sk_destruct != afsmbd_sk_destruct)
		return NULL;
	return sock->sk;
}

static int afsmbd_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	/* 0 or IPPROTO_TCP, so code written for TCP can pass its protocol. */
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, afsmbd_family, GFP_KERNEL, &afsmbd_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock->ops = &afsmbd_stream_ops;
	afsmbd_custom_sockopt(sock);
	sock_init_data(sock, sk);
	afsmbd_sock_init(sk);
	/*
	 * Never IPPROTO_TCP: BPF helpers and cgroup programs trust that
	 * value and would treat this sock as a tcp_sock.
	 */
	sk->sk_protocol = 0;
	return 0;
}

static struct net_proto_family afsmbd_family_ops = {
	.owner	= THIS_MODULE,
	.create	= afsmbd_create,
};

int afsmbd_socket_init(void)
{
	int err;

	afsmbd_family_ops.family = afsmbd_family;
	afsmbd_ring_init();

	afsmbd_wq = alloc_workqueue("afsmbd", WQ_MEM_RECLAIM, 0);
	if (!afsmbd_wq)
		return -ENOMEM;
	/* Allocating work (rings, copies) stays off the reclaim queue. */
	afsmbd_alloc_wq = alloc_workqueue("afsmbd_alloc", WQ_UNBOUND, 0);
	if (!afsmbd_alloc_wq) {
		destroy_workqueue(afsmbd_wq);
		return -ENOMEM;
	}
	err = proto_register(&afsmbd_proto, 1);
	if (err)
		goto fail_wq;
	err = afsmbd_diag_init();
	if (err)
		goto fail_proto;
	err = sock_register(&afsmbd_family_ops);
	if (err)
		goto fail_diag;
	err = afsmbd_inet_init_entry(&afsmbd_stream_ops);
	if (err)
		goto fail_sock;
	return 0;
fail_sock:
	sock_unregister(afsmbd_family);
fail_diag:
	afsmbd_diag_exit();
fail_proto:
	proto_unregister(&afsmbd_proto);
fail_wq:
	destroy_workqueue(afsmbd_alloc_wq);
	destroy_workqueue(afsmbd_wq);
	return err;
}

void afsmbd_socket_exit(void)
{
	afsmbd_inet_exit_entry();
	sock_unregister(afsmbd_family);
	/* Teardowns drop their socket (and module) reference last. */
	afsmbd_conn_exit();
	afsmbd_diag_exit();
	proto_unregister(&afsmbd_proto);
	destroy_workqueue(afsmbd_alloc_wq);
	destroy_workqueue(afsmbd_wq);
}
