// SPDX-License-Identifier: GPL-2.0
/*
 * Connection engine: RDMA CM state machine, PD/CQ/QP set-up, the SMB-Direct
 * negotiate exchange and the one teardown path (listeners: listen.c).
 *
 * Lock order (outer first):
 *   lock_sock(sk)            socket calls (never taken by CM or CQ code)
 *   rdma_cm handler mutex    held by the CM around afsmbd_cm_handler()
 *   conn->mutex              CM handler body and the teardown's decision;
 *                            rdma_disconnect(), QP destruction and
 *                            rdma_destroy_id() run without it (on iWARP
 *                            they wait for CM handlers)
 *   conn->lock (spin, _bh)   state shared with completion handlers
 * A child's conn->lock and its listener's conn.lock never nest.
 *
 * Phases: afsmbd_set_state() is the only writer of conn->state and refuses
 * to leave FAILED, so a late CM event or completion cannot revive a
 * connection that teardown has taken apart.
 *
 * Lifetime: the socket owns the connection.  A cm_id holds a reference on
 * its socket from creation to rdma_destroy_id(); a queued teardown work
 * holds one too.  Timers and the setup work are armed only under conn->lock
 * before teardown is queued, and teardown cancels them first, so none runs
 * after it.  Buffers are unmapped at teardown and freed under lock_sock,
 * except receive buffers still holding unread data (see xfer.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <rdma/rw.h>
#include "af_smbdirect.h"
#include "trace.h"

static unsigned int recv_credit_max = 255;
module_param(recv_credit_max, uint, 0644);
MODULE_PARM_DESC(recv_credit_max, "receives posted per connection (255)");

static unsigned int send_credit_target = 255;
module_param(send_credit_target, uint, 0644);
MODULE_PARM_DESC(send_credit_target, "send credits requested from the peer (255)");

static unsigned int max_send_size = 1364;
module_param(max_send_size, uint, 0644);
MODULE_PARM_DESC(max_send_size, "largest message sent, header included (1364)");

static unsigned int max_receive_size = 1364;
module_param(max_receive_size, uint, 0644);
MODULE_PARM_DESC(max_receive_size, "receive buffer size (1364)");

static unsigned int max_fragmented_size = 1048576;
module_param(max_fragmented_size, uint, 0644);
MODULE_PARM_DESC(max_fragmented_size, "largest reassembled message (1 MiB)");

static unsigned int max_read_write_size = 8 << 20;
module_param(max_read_write_size, uint, 0644);
MODULE_PARM_DESC(max_read_write_size,
		 "largest RDMA read/write offered, capped by the device (8 MiB)");

unsigned int afsmbd_keepalive_secs = 120;
module_param_named(keepalive_interval, afsmbd_keepalive_secs, uint, 0644);
MODULE_PARM_DESC(keepalive_interval, "idle seconds before a keepalive; 0 disables (120)");

unsigned int afsmbd_connect_timeout = 30;
module_param_named(connect_timeout, afsmbd_connect_timeout, uint, 0644);
MODULE_PARM_DESC(connect_timeout, "seconds for RDMA connect plus SMB-Direct negotiate (30)");

/*
 * The local ACK timeout (4.096 us << n) times retry_count bounds how long a
 * peer may stall before the QP fails.  The CM default (~67 ms) is too
 * short for a peer that is itself emulated or heavily loaded.
 */
unsigned int afsmbd_ack_timeout = 18;
module_param_named(ack_timeout, afsmbd_ack_timeout, uint, 0644);
MODULE_PARM_DESC(ack_timeout, "QP local ACK timeout exponent, 4.096us << n (18, about 1 s)");

#define AFSMBD_RESOLVE_MS	5000
#define AFSMBD_RD_ATOM_MAX	16
#define AFSMBD_MAX_SGE		32	/* pages in one RDMA READ/WRITE WR */

static void afsmbd_teardown_work(struct work_struct *work);
static void afsmbd_setup_work(struct work_struct *work);

static void afsmbd_neg_timeout(struct work_struct *work)
{
	struct afsmbd_conn *conn = container_of(to_delayed_work(work),
						struct afsmbd_conn, neg_work);

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED &&
	    conn->state != AFSMBD_C_DRAINING)
		afsmbd_conn_fail_locked(conn, -ETIMEDOUT);
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_set_state() - change the connection phase; conn->lock held
 * @conn: connection
 * @st: new phase
 *
 * The one writer of conn->state.  Nothing leaves FAILED: losing that race
 * is normal and refused quietly; any other refused change is a bug.
 *
 * Return: true if the phase changed.
 */
bool afsmbd_set_state(struct afsmbd_conn *conn, enum afsmbd_cstate st)
{
	lockdep_assert_held(&conn->lock);
	if (!afsmbd_state_may_enter(conn->state, st)) {
		WARN_ON_ONCE(conn->state != AFSMBD_C_FAILED);
		return false;
	}
	trace_afsmbd_state(afsmbd_conn_sk(conn), conn->state, st, conn->err);
	WRITE_ONCE(conn->state, st);
	return true;
}

/**
 * afsmbd_arm() - (re)start one of the connection's timers; conn->lock held
 * @conn: connection
 * @dw: conn->neg_work or conn->ka_work
 * @delay: jiffies
 *
 * Refused once teardown is queued: teardown cancels the timers before it
 * drops the references that keep the socket alive.
 *
 * Return: true if armed.
 */
bool afsmbd_arm(struct afsmbd_conn *conn, struct delayed_work *dw,
		unsigned long delay)
{
	lockdep_assert_held(&conn->lock);
	if (conn->teardown_queued)
		return false;
	mod_delayed_work(afsmbd_wq, dw, delay);
	return true;
}

/**
 * afsmbd_conn_init() - initialise the engine state of a new socket
 * @conn: connection embedded in the socket
 */
void afsmbd_conn_init(struct afsmbd_conn *conn)
{
	spin_lock_init(&conn->lock);
	mutex_init(&conn->mutex);
	INIT_LIST_HEAD(&conn->rx_hold);
	INIT_LIST_HEAD(&conn->rx_queue);
	INIT_LIST_HEAD(&conn->tx_free);
	INIT_LIST_HEAD(&conn->tx_pending);
	INIT_LIST_HEAD(&conn->child);
	INIT_LIST_HEAD(&conn->regs);
	INIT_LIST_HEAD(&conn->regs_dead);
	INIT_LIST_HEAD(&conn->reg_mrs);
	INIT_DELAYED_WORK(&conn->neg_work, afsmbd_neg_timeout);
	INIT_DELAYED_WORK(&conn->ka_work, afsmbd_keepalive_work);
	INIT_WORK(&conn->teardown_work, afsmbd_teardown_work);
	init_completion(&conn->drained);
	INIT_WORK(&conn->setup_work, afsmbd_setup_work);
	INIT_DELAYED_WORK(&conn->compact_work, afsmbd_compact_work);
	conn->keepalive_secs = min_t(unsigned int,
				     READ_ONCE(afsmbd_keepalive_secs),
				     AFSMBD_MAX_KEEPALIVE);
	conn->connect_timeout = clamp_val(READ_ONCE(afsmbd_connect_timeout),
					  1, AFSMBD_MAX_TIMEOUT);

	conn->limits.recv_credit_max = clamp_val(READ_ONCE(recv_credit_max),
						 AFSMBD_MIN_CREDITS,
						 AFSMBD_MAX_CREDITS);
	conn->limits.send_credit_target =
		clamp_val(READ_ONCE(send_credit_target), AFSMBD_MIN_CREDITS,
			  U16_MAX);
	conn->limits.max_send_size = clamp_val(READ_ONCE(max_send_size),
					       AFSMBD_MIN_RECEIVE_SIZE,
					       AFSMBD_MAX_MSG_SIZE);
	conn->limits.max_recv_size = clamp_val(READ_ONCE(max_receive_size),
					       AFSMBD_MIN_RECEIVE_SIZE,
					       AFSMBD_MAX_MSG_SIZE);
	conn->limits.max_fragmented_recv_size =
		clamp_val(READ_ONCE(max_fragmented_size),
			  AFSMBD_MIN_FRAGMENTED_SIZE, AFSMBD_FRAME_MAX_LEN);
	/* Offered in the negotiate; the SMB3 layer decides whether to use it. */
	conn->limits.max_read_write_size = READ_ONCE(max_read_write_size);
}

/**
 * afsmbd_conn_set_limit() - change one local limit before connecting
 * @conn: connection of a socket that is idle or listening, lock_sock held
 * @optname: SMBDIRECT_* option naming the limit
 * @val: new value
 *
 * The new set of limits must pass the checks the negotiate applies, so a
 * bad value fails here rather than at connect time.
 *
 * Return: 0, -EINVAL for a value out of range, -EPERM for buffers above
 * max_socket_memory without CAP_NET_ADMIN, -ENOPROTOOPT for an unknown
 * option.
 */
int afsmbd_conn_set_limit(struct afsmbd_conn *conn, int optname, u32 val)
{
	struct afsmbd_limits l = conn->limits;

	switch (optname) {
	case SMBDIRECT_RECV_CREDIT_MAX:
		if (val < AFSMBD_MIN_CREDITS || val > AFSMBD_MAX_CREDITS)
			return -EINVAL;
		l.recv_credit_max = val;
		break;
	case SMBDIRECT_SEND_CREDIT_TARGET:
		if (val < AFSMBD_MIN_CREDITS || val > U16_MAX)
			return -EINVAL;
		l.send_credit_target = val;
		break;
	case SMBDIRECT_MAX_SEND_SIZE:
		if (val < AFSMBD_MIN_RECEIVE_SIZE || val > AFSMBD_MAX_MSG_SIZE)
			return -EINVAL;
		l.max_send_size = val;
		break;
	case SMBDIRECT_MAX_RECV_SIZE:
		if (val < AFSMBD_MIN_RECEIVE_SIZE || val > AFSMBD_MAX_MSG_SIZE)
			return -EINVAL;
		l.max_recv_size = val;
		break;
	case SMBDIRECT_MAX_FRAGMENTED_SIZE:
		if (val < AFSMBD_MIN_FRAGMENTED_SIZE ||
		    val > AFSMBD_FRAME_MAX_LEN)
			return -EINVAL;
		l.max_fragmented_recv_size = val;
		break;
	case SMBDIRECT_MAX_READ_WRITE_SIZE:
		l.max_read_write_size = val;
		break;
	case SMBDIRECT_CONNECT_TIMEOUT:
		if (!val || val > AFSMBD_MAX_TIMEOUT)
			return -EINVAL;
		WRITE_ONCE(conn->connect_timeout, val);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
	if (afsmbd_limits_check(&l))
		return -EINVAL;
	/* Pinned memory is a shared resource: big rings need privilege. */
	if (afsmbd_limits_memory(&l) > READ_ONCE(afsmbd_max_socket_memory) &&
	    afsmbd_limits_memory(&l) > afsmbd_limits_memory(&conn->limits) &&
	    !capable(CAP_NET_ADMIN))
		return -EPERM;
	/* A listener's children copy the limits from the CM handler. */
	spin_lock_bh(&conn->lock);
	conn->limits = l;
	spin_unlock_bh(&conn->lock);
	return 0;
}

/**
 * afsmbd_conn_get_limit() - read one local limit
 * @conn: connection
 * @optname: SMBDIRECT_* option naming the limit
 * @val: result
 *
 * Return: 0 or -ENOPROTOOPT.
 */
int afsmbd_conn_get_limit(struct afsmbd_conn *conn, int optname, u32 *val)
{
	const struct afsmbd_limits *l = &conn->limits;

	switch (optname) {
	case SMBDIRECT_RECV_CREDIT_MAX:
		*val = l->recv_credit_max;
		break;
	case SMBDIRECT_SEND_CREDIT_TARGET:
		*val = l->send_credit_target;
		break;
	case SMBDIRECT_MAX_SEND_SIZE:
		*val = l->max_send_size;
		break;
	case SMBDIRECT_MAX_RECV_SIZE:
		*val = l->max_recv_size;
		break;
	case SMBDIRECT_MAX_FRAGMENTED_SIZE:
		*val = l->max_fragmented_recv_size;
		break;
	case SMBDIRECT_MAX_READ_WRITE_SIZE:
		*val = l->max_read_write_size;
		break;
	case SMBDIRECT_CONNECT_TIMEOUT:
		*val = READ_ONCE(conn->connect_timeout);
		break;
	default:
		return -ENOPROTOOPT;
	}
	return 0;
}

/* ---- failure and teardown ---- */

/* Queue the one teardown, holding the socket for it.  conn->lock held. */
static void afsmbd_queue_teardown(struct afsmbd_conn *conn)
{
	struct sock *sk = afsmbd_conn_sk(conn);

	if (conn->teardown_queued)
		return;
	conn->teardown_queued = true;
	sock_hold(sk);
	if (!queue_work(afsmbd_wq, &conn->teardown_work))
		sock_put(sk);
}

/**
 * afsmbd_conn_fail_locked() - fail the connection, conn->lock held
 * @conn: connection
 * @err: negative errno for SO_ERROR, or 0 for a clean close
 *
 * The first call wins; it marks the socket closed, wakes every waiter and
 * queues the teardown work.  Safe from any context that may take a _bh
 * spinlock.
 */
void afsmbd_conn_fail_locked(struct afsmbd_conn *conn, int err)
{
	struct sock *sk = afsmbd_conn_sk(conn);

	if (conn->state == AFSMBD_C_FAILED)
		return;
	conn->err = err;	/* first, so the phase change reports it */
	afsmbd_set_state(conn, AFSMBD_C_FAILED);
	if (err)
		WRITE_ONCE(sk->sk_err, -err);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	WRITE_ONCE(sk->sk_state, TCP_CLOSE);
	afsmbd_queue_teardown(conn);
	sk->sk_state_change(sk);
	if (err)
		sk_error_report(sk);
}

/**
 * afsmbd_conn_fail() - fail the connection
 * @conn: connection
 * @err: negative errno, or 0 for a clean close
 */
void afsmbd_conn_fail(struct afsmbd_conn *conn, int err)
{
	spin_lock_bh(&conn->lock);
	afsmbd_conn_fail_locked(conn, err);
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_post_send_chain() - post send-queue work requests while connected
 * @conn: connection, lock_sock held by the caller
 * @first: the chain
 *
 * A device may take part of a chain and refuse the rest (a full or broken
 * send queue).  What it took is in flight and names the caller's memory,
 * but the request that would signal the end may be among the refused: so
 * the connection fails, and this waits until teardown has drained the QP,
 * after which the caller may free everything the chain named.
 *
 * Return: 0, -ENOTCONN if not connected, or the device's error.
 */
int afsmbd_post_send_chain(struct afsmbd_conn *conn, struct ib_send_wr *first)
{
	const struct ib_send_wr *bad = first;
	int err;

	spin_lock_bh(&conn->lock);
	err = conn->state == AFSMBD_C_CONNECTED ?
	      ib_post_send(conn->qp, first, &bad) : -ENOTCONN;
	spin_unlock_bh(&conn->lock);
	if (err && err != -ENOTCONN)
		afsmbd_conn_fail(conn, -EIO);
	/* Teardown drains before it takes lock_sock: no deadlock. */
	if (err && bad != first)
		wait_for_completion(&conn->drained);
	return err;
}

/*
 * The peer disconnected.  After negotiate that is its close: stop sending,
 * but keep delivering what it sent before; teardown drains the QP and only
 * then fails the connection with 0, which the reader sees as EOF.
 */
static void afsmbd_conn_peer_closed(struct afsmbd_conn *conn)
{
	struct sock *sk = afsmbd_conn_sk(conn);

	spin_lock_bh(&conn->lock);
	if (conn->state == AFSMBD_C_CONNECTED &&
	    afsmbd_set_state(conn, AFSMBD_C_DRAINING)) {
		WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | SEND_SHUTDOWN);
		afsmbd_queue_teardown(conn);
		sk->sk_state_change(sk);
	} else {
		afsmbd_conn_fail_locked(conn, -ECONNRESET);
	}
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_violation_locked() - the peer broke the protocol; conn->lock held
 * @conn: connection
 * @what: which rule, for the log
 *
 * Counts the violation, logs it rate-limited (a hostile peer must not
 * flood the log) and fails the connection with EPROTO.
 */
void afsmbd_violation_locked(struct afsmbd_conn *conn, const char *what)
{
	if (conn->state == AFSMBD_C_FAILED)
		return;
	conn->stats.violations++;
	trace_afsmbd_violation(afsmbd_conn_sk(conn), what);
	/* Such a child is never accepted: count it where users can look. */
	if (conn->parent && (conn->state == AFSMBD_C_ACCEPT ||
			     conn->state == AFSMBD_C_NEGOTIATE))
		atomic64_inc(&afsmbd_sk(conn->parent)->child_violations);
	pr_warn_ratelimited("peer %pISpc: %s; disconnecting\n", &conn->raddr,
			    what);
	afsmbd_conn_fail_locked(conn, -EPROTO);
}

/**
 * afsmbd_violation() - the peer broke the protocol
 * @conn: connection
 * @what: which rule, for the log
 */
void afsmbd_violation(struct afsmbd_conn *conn, const char *what)
{
	spin_lock_bh(&conn->lock);
	afsmbd_violation_locked(conn, what);
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_conn_free_res() - release verbs resources, keeping the cm_id
 * @conn: connection, conn->mutex held, not yet visible to others, or
 *	torn down (CM handlers then no longer touch it)
 */
void afsmbd_conn_free_res(struct afsmbd_conn *conn)
{
	if (conn->qp) {
		rdma_destroy_qp(conn->id);
		conn->qp = NULL;
	}
	if (conn->cq) {
		ib_free_cq(conn->cq);
		conn->cq = NULL;
	}
	afsmbd_xfer_unmap(conn);
	if (conn->pd) {
		ib_dealloc_pd(conn->pd);
		conn->pd = NULL;
	}
}

/*
 * The single teardown path: disconnect, drain, destroy verbs objects and
 * the cm_id.  Runs once per failed (or draining) connection in process
 * context.
 */
static void afsmbd_teardown_work(struct work_struct *work)
{
	struct afsmbd_conn *conn = container_of(work, struct afsmbd_conn,
						teardown_work);
	struct sock *sk = afsmbd_conn_sk(conn);
	struct rdma_cm_id *id = NULL;
	bool first = false, disconnect = false;

	/*
	 * None can be armed again: teardown_queued is set.  compact_work
	 * takes lock_sock, whose holder may be waiting for the drain
	 * (afsmbd_post_send_chain()), so it is waited for only after that.
	 */
	cancel_delayed_work_sync(&conn->neg_work);
	cancel_delayed_work_sync(&conn->ka_work);
	cancel_work_sync(&conn->setup_work);
	cancel_delayed_work(&conn->compact_work);

	mutex_lock(&conn->mutex);
	if (!conn->torn_down) {
		/* From here on CM handlers leave the connection alone. */
		conn->torn_down = true;
		first = true;
		id = conn->id;
		disconnect = id && conn->rdma_connected;
	}
	mutex_unlock(&conn->mutex);

	/*
	 * Not under conn->mutex: on iWARP, disconnecting and destroying the
	 * QP wait for the iw_cm workqueue, whose handler for this very id
	 * may be waiting for that mutex.
	 */
	if (first) {
		if (disconnect)
			rdma_disconnect(id);
		/*
		 * Every completion before the drain's markers is handled when
		 * this returns: a draining connection has queued all the peer
		 * sent, so EOF can follow, and RDMA operations and
		 * invalidations waiting under lock_sock are completed.
		 */
		if (conn->qp)
			ib_drain_qp(conn->qp);
		complete_all(&conn->drained);
	}
	cancel_delayed_work_sync(&conn->compact_work);

	/* Socket calls that use the QP (offload) hold lock_sock. */
	lock_sock(sk);
	if (first) {
		/*
		 * Drained, so the completion handler is done with reasm: a
		 * peer that closed inside a PDU cut the stream (ECONNRESET
		 * after the partial bytes, not a clean EOF).
		 */
		conn->rx_cut = conn->reasm.active;
		afsmbd_conn_fail(conn, conn->rx_cut ? -ECONNRESET : 0);
		afsmbd_mr_teardown(conn);
		afsmbd_conn_free_res(conn);
		mutex_lock(&conn->mutex);
		conn->id = NULL;
		mutex_unlock(&conn->mutex);
	}
	afsmbd_xfer_free_idle(conn);
	release_sock(sk);
	afsmbd_child_unlink(conn);
	sk->sk_state_change(sk);
	if (id) {
		rdma_destroy_id(id);
		sock_put(sk);	/* the cm_id's reference */
	}
	sock_put(sk);		/* the queued work's reference */
}

/**
 * afsmbd_conn_destruct() - free what the connection still owns
 * @conn: connection of a socket whose last reference is gone
 */
void afsmbd_conn_destruct(struct afsmbd_conn *conn)
{
	/* Teardown cancelled them already; a socket never torn down has none. */
	cancel_delayed_work_sync(&conn->neg_work);
	cancel_delayed_work_sync(&conn->ka_work);
	cancel_work_sync(&conn->setup_work);
	cancel_delayed_work_sync(&conn->compact_work);
	afsmbd_xfer_free(conn);
	if (conn->parent)
		sock_put(conn->parent);
	conn->parent = NULL;
}

/* ---- resources ---- */

static void afsmbd_qp_event(struct ib_event *ev, void *ctx)
{
	/* Fatal QP errors also flush WRs with errors, which fail the link. */
	pr_warn_ratelimited("QP event %s\n", ib_event_msg(ev->event));
}

/* Remember the device for SMBDIRECT_INFO; the id may go before the socket. */
static void afsmbd_cache_device(struct afsmbd_conn *conn)
{
	struct rdma_cm_id *id = conn->id;
	u32 t = SMBDIRECT_TRANSPORT_NONE;

	if (rdma_protocol_iwarp(id->device, id->port_num))
		t = SMBDIRECT_TRANSPORT_IWARP;
	else if (rdma_protocol_roce(id->device, id->port_num))
		t = SMBDIRECT_TRANSPORT_ROCE;
	else if (rdma_protocol_ib(id->device, id->port_num))
		t = SMBDIRECT_TRANSPORT_IB;
	spin_lock_bh(&conn->lock);
	conn->transport = t;
	conn->port_num = id->port_num;
	strscpy(conn->dev_name, dev_name(&id->device->dev),
		sizeof(conn->dev_name));
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_conn_setup() - PD, CQ, QP and the negotiate buffers for conn->id
 * @conn: connection whose cm_id has a device, conn->mutex held
 *
 * The CQ and QP are sized for the full ring, but only the negotiate
 * receive is allocated and posted here; the ring follows a valid negotiate
 * message (afsmbd_setup_work()).
 *
 * Return: 0 or a negative errno (nothing left allocated).
 */
int afsmbd_conn_setup(struct afsmbd_conn *conn)
{
	struct ib_device *dev = conn->id->device;
	struct ib_qp_init_attr qpa = {};
	u32 max_wr = dev->attrs.max_qp_wr, send_wr, sge;
	int err;

	afsmbd_cache_device(conn);
	conn->nr_rx = conn->limits.recv_credit_max;
	conn->nr_tx = afsmbd_tx_pool(&conn->limits);
	/*
	 * Offer only what one request can really move: a descriptor per
	 * fast-register MR, at most SMBDIRECT_MAX_DESCS of them, less a
	 * page, which a buffer not starting on a page boundary spills into.
	 */
	conn->limits.max_read_write_size =
		min_t(u64, conn->limits.max_read_write_size,
		      ((u64)SMBDIRECT_MAX_DESCS * afsmbd_mr_pages(dev) - 1) *
		      PAGE_SIZE);
	/*
	 * Sends, REG_MR and LOCAL_INV for every pool MR, the negotiate and
	 * ib_drain_qp()'s markers, and the RDMA READ/WRITE WRs of one
	 * operation (rdma_rw puts max_send_sge pages in each; it reserves
	 * only one WR a context itself).
	 */
	sge = min_t(u32, dev->attrs.max_send_sge, AFSMBD_MAX_SGE);
	send_wr = conn->nr_tx + 2 * AFSMBD_REG_MRS + 2 + AFSMBD_RW_CTXS *
		  DIV_ROUND_UP(afsmbd_mr_pages(dev) + 1, sge);
	send_wr = min(send_wr, max_wr);
	if (conn->nr_rx + 2 > max_wr || conn->nr_tx + 2 > send_wr)
		return -ENOMEM;

	conn->pd = ib_alloc_pd(dev, 0);
	if (IS_ERR(conn->pd)) {
		err = PTR_ERR(conn->pd);
		conn->pd = NULL;
		return err;
	}
	/*
	 * Workqueue polling keeps softirq time bounded with many
	 * connections; the handlers themselves never sleep or allocate.
	 */
	/* Room for a flush completion of every WR rdma_rw may add too. */
	conn->cq = ib_alloc_cq(dev, conn, conn->nr_rx + 2 + send_wr +
			       3 * AFSMBD_RW_CTXS *
			       rdma_rw_mr_factor(dev, conn->id->port_num,
						 afsmbd_mr_pages(dev)), 0,
			       IB_POLL_WORKQUEUE);
	if (IS_ERR(conn->cq)) {
		err = PTR_ERR(conn->cq);
		conn->cq = NULL;
		goto fail;
	}

	qpa.event_handler = afsmbd_qp_event;
	qpa.qp_context = conn;
	qpa.send_cq = conn->cq;
	qpa.recv_cq = conn->cq;
	qpa.cap.max_send_wr = send_wr;
	qpa.cap.max_recv_wr = conn->nr_rx + 2;
	qpa.cap.max_send_sge = sge;	/* our sends use one */
	qpa.cap.max_recv_sge = 1;
	/*
	 * Server role: rdma_rw sizes the QP and, where reads need MRs
	 * (iWARP), an MR pool of one per context.  A descriptor's slice of
	 * an unaligned local buffer can span one page more than an MR
	 * maps, so allow two MRs a descriptor.
	 */
	qpa.cap.max_rdma_ctxs = 2 * AFSMBD_RW_CTXS;
	qpa.port_num = conn->id->port_num;
	qpa.sq_sig_type = IB_SIGNAL_REQ_WR;
	qpa.qp_type = IB_QPT_RC;
	err = rdma_create_qp(conn->id, conn->pd, &qpa);
	if (err)
		goto fail;
	conn->qp = conn->id->qp;

	err = afsmbd_neg_alloc(conn);
	if (err)
		goto fail;
	spin_lock_bh(&conn->lock);
	err = afsmbd_post_recv(conn, &conn->neg_rx);
	spin_unlock_bh(&conn->lock);
	if (err)
		goto fail;
	return 0;
fail:
	afsmbd_conn_free_res(conn);
	return err;
}

/**
 * afsmbd_rd_atom() - RDMA read depths the device supports, capped
 * @conn: connection with a device
 * @initiator: reads we may have outstanding
 * @responder: peer reads we can serve
 */
void afsmbd_rd_atom(struct afsmbd_conn *conn, u8 *initiator, u8 *responder)
{
	struct ib_device_attr *a = &conn->id->device->attrs;

	*initiator = min_t(u32, a->max_qp_init_rd_atom, AFSMBD_RD_ATOM_MAX);
	*responder = min_t(u32, a->max_qp_rd_atom, AFSMBD_RD_ATOM_MAX);
}

/**
 * afsmbd_is_iwarp() - does the id's port speak iWARP?
 * @id: cm_id with a device
 *
 * Return: true for iWARP.
 */
bool afsmbd_is_iwarp(struct rdma_cm_id *id)
{
	return rdma_protocol_iwarp(id->device, id->port_num);
}

/**
 * afsmbd_cache_addrs() - keep the id's addresses for getsockname/getpeername
 * @conn: connection with a cm_id
 */
void afsmbd_cache_addrs(struct afsmbd_conn *conn)
{
	struct rdma_cm_id *id = conn->id;

	spin_lock_bh(&conn->lock);
	memcpy(&conn->laddr, &id->route.addr.src_addr, sizeof(conn->laddr));
	memcpy(&conn->raddr, &id->route.addr.dst_addr, sizeof(conn->raddr));
	spin_unlock_bh(&conn->lock);
}

/* ---- negotiate ---- */

static void afsmbd_send_negotiate_req(struct afsmbd_conn *conn)
{
	struct afsmbd_negotiate_req req;
	struct afsmbd_tx *tx = &conn->neg_tx;
	int len;

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_NEGOTIATE)
		goto out;
	if (afsmbd_build_negotiate_req(&conn->limits, &req)) {
		afsmbd_conn_fail_locked(conn, -EINVAL);
		goto out;
	}
	len = afsmbd_encode_negotiate_req(&req, tx->buf,
					  conn->limits.max_send_size);
	if (len < 0) {
		afsmbd_conn_fail_locked(conn, -EPROTO);
		goto out;
	}
	tx->len = len;
	afsmbd_post_raw(conn, tx);
out:
	spin_unlock_bh(&conn->lock);
}

/* Connected: set up the data phase.  conn->lock held. */
static bool afsmbd_enter_connected(struct afsmbd_conn *conn,
				   const struct afsmbd_params *p)
{
	struct sock *sk = afsmbd_conn_sk(conn);

	/* Before the phase changes: sendmsg and the receive path use these. */
	conn->params = *p;
	conn->recv_credit_target = p->recv_credit_target;
	afsmbd_reasm_init(&conn->reasm, p->max_fragmented_recv_size);
	afsmbd_frame_init(&conn->fp, p->max_fragmented_send_size);
	if (!afsmbd_set_state(conn, AFSMBD_C_CONNECTED))
		return false;
	WRITE_ONCE(sk->sk_state, TCP_ESTABLISHED);
	afsmbd_xfer_connected(conn);
	return true;
}

/*
 * A server answers with a failure status, then drops the connection once
 * it is sent ([MS-SMBD] 3.1.5.3).  conn->lock held.
 */
static void afsmbd_refuse_negotiate(struct afsmbd_conn *conn, u32 status)
{
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_tx *tx = &conn->neg_tx;
	int n;

	afsmbd_build_negotiate_fail(status, &resp);
	n = afsmbd_encode_negotiate_resp(&resp, tx->buf,
					 conn->limits.max_send_size);
	if (n < 0) {
		afsmbd_conn_fail_locked(conn, -EPROTO);
		return;
	}
	tx->len = n;
	tx->fail_after = true;
	afsmbd_post_raw(conn, tx);
}

/* Decoded in the completion handler; the rings come from a worker. */
static void afsmbd_negotiate_ok(struct afsmbd_conn *conn,
				const struct afsmbd_params *p)
{
	spin_lock_bh(&conn->lock);
	if (!conn->teardown_queued && (conn->state == AFSMBD_C_NEGOTIATE ||
				       conn->state == AFSMBD_C_ACCEPT)) {
		conn->neg = *p;
		queue_work(afsmbd_alloc_wq, &conn->setup_work);
	}
	spin_unlock_bh(&conn->lock);
}

/**
 * afsmbd_negotiate_recv() - handle a message received during negotiate
 * @conn: connection
 * @rx: the negotiate receive buffer (not reposted)
 * @len: message length
 *
 * Completion context: decodes and validates only.
 */
void afsmbd_negotiate_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
			   u32 len)
{
	struct afsmbd_params p;
	int err;

	if (conn->server) {
		struct afsmbd_negotiate_req req;

		err = afsmbd_decode_negotiate_req(rx->buf, len, &req);
		if (!err)
			err = afsmbd_negotiate_server(&conn->limits, &req, &p);
		if (err == -EOPNOTSUPP) {
			/* Tell the client why, then drop the connection. */
			spin_lock_bh(&conn->lock);
			if (conn->state == AFSMBD_C_ACCEPT ||
			    conn->state == AFSMBD_C_NEGOTIATE)
				afsmbd_refuse_negotiate(conn, AFSMBD_STATUS_NOT_SUPPORTED);
			spin_unlock_bh(&conn->lock);
			return;
		}
		if (err) {
			afsmbd_violation(conn, "invalid negotiate request");
			return;
		}
	} else {
		struct afsmbd_negotiate_resp resp;

		err = afsmbd_decode_negotiate_resp(rx->buf, len, &resp);
		if (!err)
			err = afsmbd_negotiate_client(&conn->limits, &resp, &p);
		if (err) {
			pr_debug("negotiate response refused: %d\n", err);
			/* A failure status is the server's right. */
			if (err == -ECONNREFUSED)
				afsmbd_conn_fail(conn, err);
			else
				afsmbd_violation(conn,
						 "invalid negotiate response");
			return;
		}
	}
	afsmbd_negotiate_ok(conn, &p);
}

/*
 * After a valid negotiate message: allocate, charge and post the rings,
 * then answer (server) or grant the first credits (client).
 */
static void afsmbd_setup_work(struct work_struct *work)
{
	struct afsmbd_conn *conn = container_of(work, struct afsmbd_conn,
						setup_work);
	struct sock *sk = afsmbd_conn_sk(conn);
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_params p = conn->neg;
	bool up = false;
	int err, n;
	u16 granted;

	err = afsmbd_xfer_alloc(conn, &p);

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_NEGOTIATE &&
	    conn->state != AFSMBD_C_ACCEPT)
		goto out;	/* failed meanwhile; buffers go with teardown */
	if (err) {
		u32 st = AFSMBD_STATUS_INSUFFICIENT_RESOURCES;

		if (conn->server)
			afsmbd_refuse_negotiate(conn, st);
		else
			afsmbd_conn_fail_locked(conn, err);
		goto out;
	}
	if (afsmbd_post_all_recvs(conn))
		goto out;
	if (conn->server) {
		/* Every posted receive is free; grant what the client asked. */
		granted = min_t(u32, p.initial_recv_credits, conn->rx_posted);
		afsmbd_build_negotiate_resp(&p, granted, &resp);
		n = afsmbd_encode_negotiate_resp(&resp, conn->neg_tx.buf,
						 conn->limits.max_send_size);
		if (n < 0) {
			afsmbd_conn_fail_locked(conn, -EPROTO);
			goto out;
		}
		conn->neg_tx.len = n;
		conn->recv_credits = granted;
		conn->send_credits = 0;
		/* Connected first: the client may answer at once. */
		up = afsmbd_enter_connected(conn, &p);
		if (up)
			afsmbd_post_raw(conn, &conn->neg_tx);
	} else {
		conn->send_credits = p.initial_send_credits;
		conn->recv_credits = 0;
		/* Our first message (data or empty) grants the server. */
		up = afsmbd_enter_connected(conn, &p);
	}
out:
	spin_unlock_bh(&conn->lock);
	if (!up)
		return;
	cancel_delayed_work(&conn->neg_work);
	sk->sk_state_change(sk);
	sk->sk_write_space(sk);
	if (conn->server)
		afsmbd_child_ready(conn);
}

/* ---- RDMA CM ---- */

static int afsmbd_client_route_resolved(struct afsmbd_conn *conn)
{
	struct rdma_conn_param param = {};
	__be32 ird_ord[2];
	bool ok;
	int err;

	err = afsmbd_conn_setup(conn);
	if (err)
		return err;
	afsmbd_rd_atom(conn, &param.initiator_depth,
		       &param.responder_resources);
	param.retry_count = 6;
	/* No RNR retries: a credit bug must show, not stall (as ksmbd). */
	param.rnr_retry_count = 0;
	if (afsmbd_is_iwarp(conn->id)) {
		/* The Linux peers exchange IRD/ORD as private data on iWARP. */
		ird_ord[0] = cpu_to_be32(param.responder_resources);
		ird_ord[1] = cpu_to_be32(param.initiator_depth);
		param.private_data = ird_ord;
		param.private_data_len = sizeof(ird_ord);
	}
	err = rdma_set_ack_timeout(conn->id, min(afsmbd_ack_timeout, 31U));
	if (err)
		return err;
	spin_lock_bh(&conn->lock);
	ok = afsmbd_set_state(conn, AFSMBD_C_CONNECT);
	spin_unlock_bh(&conn->lock);
	if (!ok)
		return 0;	/* failed meanwhile: teardown is on its way */
	err = rdma_connect_locked(conn->id, &param);
	if (!err)
		conn->rdma_connected = true;
	return err;
}

/* Event arriving in a state that does not expect it. */
static bool afsmbd_expect(struct afsmbd_conn *conn, enum afsmbd_cstate want,
			  struct rdma_cm_event *ev)
{
	if (READ_ONCE(conn->state) == want)
		return true;
	pr_warn_ratelimited("%s unexpected in state %d\n",
			    rdma_event_msg(ev->event), conn->state);
	afsmbd_conn_fail(conn, -EPROTO);
	return false;
}

static int afsmbd_errno_of(struct rdma_cm_event *ev, int dflt)
{
	return ev->status == -ETIMEDOUT ? -ETIMEDOUT : dflt;
}

static void afsmbd_cm_established(struct afsmbd_conn *conn)
{
	enum afsmbd_cstate st;

	afsmbd_cache_addrs(conn);
	spin_lock_bh(&conn->lock);
	st = conn->state;
	if (st == AFSMBD_C_CONNECT || st == AFSMBD_C_ACCEPT)
		afsmbd_set_state(conn, AFSMBD_C_NEGOTIATE);
	else if (st != AFSMBD_C_CONNECTED && st != AFSMBD_C_DRAINING)
		/* Server: the request may already have been handled. */
		afsmbd_conn_fail_locked(conn, -EPROTO);
	spin_unlock_bh(&conn->lock);
	if (st == AFSMBD_C_CONNECT)
		afsmbd_send_negotiate_req(conn);
}

static int afsmbd_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct afsmbd_conn *conn = id->context;
	bool ok;
	int err;

	if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST)
		return afsmbd_cm_request(conn, id, ev);

	mutex_lock(&conn->mutex);
	if (conn->torn_down || conn->id != id)
		goto out;
	if (READ_ONCE(afsmbd_conn_sk(conn)->sk_state) == TCP_LISTEN)
		return afsmbd_cm_listener_event(conn, ev);

	switch (ev->event) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		if (!afsmbd_expect(conn, AFSMBD_C_RESOLVE_ADDR, ev))
			break;
		/*
		 * Port 0 asked for the SMB-Direct port, which depends on the
		 * transport ([MS-SMB2] 2.1): only now is the device known.
		 * The iWARP CM connects to route.addr.dst_addr.
		 */
		if (conn->default_port && afsmbd_is_iwarp(id))
			afsmbd_set_port(&id->route.addr.dst_addr,
					AFSMBD_PORT_IWARP);
		spin_lock_bh(&conn->lock);
		ok = afsmbd_set_state(conn, AFSMBD_C_RESOLVE_ROUTE);
		spin_unlock_bh(&conn->lock);
		if (!ok)
			break;
		err = rdma_resolve_route(id, AFSMBD_RESOLVE_MS);
		if (err)
			afsmbd_conn_fail(conn, err);
		break;
	case RDMA_CM_EVENT_ADDR_ERROR:
		if (afsmbd_expect(conn, AFSMBD_C_RESOLVE_ADDR, ev))
			afsmbd_conn_fail(conn, afsmbd_errno_of(ev, -EHOSTUNREACH));
		break;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		if (!afsmbd_expect(conn, AFSMBD_C_RESOLVE_ROUTE, ev))
			break;
		afsmbd_cache_addrs(conn);
		err = afsmbd_client_route_resolved(conn);
		if (err)
			afsmbd_conn_fail(conn, err);
		break;
	case RDMA_CM_EVENT_ROUTE_ERROR:
		if (afsmbd_expect(conn, AFSMBD_C_RESOLVE_ROUTE, ev))
			afsmbd_conn_fail(conn, afsmbd_errno_of(ev, -ENETUNREACH));
		break;
	case RDMA_CM_EVENT_ESTABLISHED:
		afsmbd_cm_established(conn);
		break;
	case RDMA_CM_EVENT_REJECTED:
		switch (READ_ONCE(conn->state)) {
		case AFSMBD_C_CONNECT:
			/* No listener on the port shows up as a reject. */
			afsmbd_conn_fail(conn, -ECONNREFUSED);
			break;
		case AFSMBD_C_NEGOTIATE:
		case AFSMBD_C_CONNECTED:
			/*
			 * The passive side's QP can answer before its CM has
			 * seen our RTU; if it then destroys its id (listener
			 * closed, accept and close at once) its CM sends a
			 * REJ, not a DREQ.  That is a reset, not a violation.
			 */
			afsmbd_conn_fail(conn, -ECONNRESET);
			break;
		default:
			afsmbd_expect(conn, AFSMBD_C_CONNECT, ev);
			break;
		}
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		afsmbd_conn_fail(conn, afsmbd_errno_of(ev, -EHOSTUNREACH));
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		/* After negotiate it is the peer closing: EOF, not an error. */
		afsmbd_conn_peer_closed(conn);
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		afsmbd_conn_fail(conn, -ENETDOWN);
		break;
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
	case RDMA_CM_EVENT_ADDR_CHANGE:
		break;
	default:
		pr_warn_ratelimited("unexpected %s\n", rdma_event_msg(ev->event));
		afsmbd_conn_fail(conn, -EPROTO);
		break;
	}
out:
	mutex_unlock(&conn->mutex);
	return 0;
}

/* ---- socket-facing entry points ---- */

static struct rdma_cm_id *afsmbd_create_id(struct sock *sk)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct rdma_cm_id *id;

	id = rdma_create_id(sock_net(sk), afsmbd_cm_handler, conn,
			    RDMA_PS_TCP, IB_QPT_RC);
	if (IS_ERR(id))
		return id;
	sock_hold(sk);		/* dropped after rdma_destroy_id() */
	return id;
}

static void afsmbd_destroy_id(struct sock *sk, struct rdma_cm_id *id)
{
	rdma_destroy_id(id);
	sock_put(sk);
}

/**
 * afsmbd_conn_bind() - create the cm_id and bind it
 * @sk: socket, lock_sock held, not yet bound
 * @addr: validated sockaddr_in or sockaddr_in6
 *
 * Return: 0 or a negative errno (EADDRINUSE, EADDRNOTAVAIL, ...).
 */
int afsmbd_conn_bind(struct sock *sk, struct sockaddr *addr)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	struct rdma_cm_id *id;
	int err;

	id = afsmbd_create_id(sk);
	if (IS_ERR(id))
		return PTR_ERR(id);
	if (sk->sk_reuse) {
		err = rdma_set_reuseaddr(id, 1);
		if (err)
			goto fail;
	}
	if (addr->sa_family == AF_INET6) {
		err = rdma_set_afonly(id, sk->sk_ipv6only);
		if (err)
			goto fail;
	}
	err = rdma_bind_addr(id, addr);
	if (err) {
		/* An address on no RDMA device is simply not available. */
		if (err == -ENODEV || err == -EINVAL)
			err = -EADDRNOTAVAIL;
		goto fail;
	}
	mutex_lock(&conn->mutex);
	conn->id = id;
	conn->torn_down = false;	/* a listener shut down listens again */
	mutex_unlock(&conn->mutex);
	afsmbd_cache_addrs(conn);
	return 0;
fail:
	afsmbd_destroy_id(sk, id);
	return err;
}

/**
 * afsmbd_conn_listen() - start or resize listening
 * @sk: bound (or auto-bound) socket, lock_sock held
 * @backlog: accept queue bound, counting children still negotiating
 *
 * Return: 0 or a negative errno.
 */
int afsmbd_conn_listen(struct sock *sk, int backlog)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	int err;

	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (sk->sk_state == TCP_LISTEN)
		return 0;
	err = rdma_listen(conn->id, backlog);
	if (err)
		return err;
	afsmbd_cache_addrs(conn);
	spin_lock_bh(&conn->lock);
	afsmbd_sk(sk)->closing = false;
	spin_unlock_bh(&conn->lock);
	WRITE_ONCE(sk->sk_state, TCP_LISTEN);
	return 0;
}

/**
 * afsmbd_conn_connect() - start an active connection
 * @sk: socket, lock_sock held, in AFSMBD_C_IDLE
 * @addr: validated destination (port 0 already replaced)
 *
 * Completion (or failure) is reported through sk_state_change.
 *
 * Return: 0 if started, or a negative errno.
 */
int afsmbd_conn_connect(struct sock *sk, struct sockaddr *addr)
{
	struct afsmbd_sock *ss = afsmbd_sk(sk);
	struct afsmbd_conn *conn = &ss->conn;
	struct rdma_cm_id *id;
	bool ok;
	int err;

	mutex_lock(&conn->mutex);
	id = conn->id;
	if (!id) {
		id = afsmbd_create_id(sk);
		if (IS_ERR(id)) {
			mutex_unlock(&conn->mutex);
			return PTR_ERR(id);
		}
		conn->id = id;
		conn->torn_down = false;	/* a former listener */
	}
	spin_lock_bh(&conn->lock);
	ok = afsmbd_set_state(conn, AFSMBD_C_RESOLVE_ADDR);
	spin_unlock_bh(&conn->lock);
	if (!ok) {
		mutex_unlock(&conn->mutex);
		return -ECONNABORTED;
	}
	WRITE_ONCE(sk->sk_state, TCP_SYN_SENT);
	err = rdma_resolve_addr(id, ss->is_bound ?
				(struct sockaddr *)&ss->bound : NULL,
				addr, AFSMBD_RESOLVE_MS);
	spin_lock_bh(&conn->lock);
	/* Nothing started: back to a fresh socket (unless failed meanwhile). */
	if (err && afsmbd_set_state(conn, AFSMBD_C_IDLE))
		conn->id = NULL;
	else if (!err)
		afsmbd_arm(conn, &conn->neg_work,
			   READ_ONCE(conn->connect_timeout) * HZ);
	spin_unlock_bh(&conn->lock);
	if (err && !conn->id) {
		WRITE_ONCE(sk->sk_state, TCP_CLOSE);
		mutex_unlock(&conn->mutex);
		afsmbd_destroy_id(sk, id);
		ss->is_bound = false;
		return err;
	}
	mutex_unlock(&conn->mutex);
	return err;
}

/**
 * afsmbd_conn_getname() - local or peer address
 * @sk: socket
 * @ss: result
 * @peer: non-zero for the peer's address
 *
 * Return: the address length, or -ENOTCONN.
 */
int afsmbd_conn_getname(struct sock *sk, struct sockaddr_storage *ss,
			int peer)
{
	struct afsmbd_sock *as = afsmbd_sk(sk);
	struct afsmbd_conn *conn = &as->conn;

	spin_lock_bh(&conn->lock);
	if (peer)
		memcpy(ss, &conn->raddr, sizeof(*ss));
	else
		memcpy(ss, &conn->laddr, sizeof(*ss));
	spin_unlock_bh(&conn->lock);
	if (peer && (conn->state == AFSMBD_C_IDLE || !ss->ss_family))
		return -ENOTCONN;
	if (!ss->ss_family) {
		/* Unbound: report the wildcard of the bound family or IPv4. */
		memset(ss, 0, sizeof(*ss));
		ss->ss_family = as->is_bound ? as->bound.ss_family : AF_INET;
	}
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
					   sizeof(struct sockaddr_in);
}

/**
 * afsmbd_conn_close() - local close of a non-listening socket
 * @sk: socket, lock_sock held
 *
 * Flushes queued PDUs (bounded by SO_LINGER, 10 s by default), then
 * disconnects through the common teardown path.
 */
void afsmbd_conn_close(struct sock *sk)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	long timeo = 10 * HZ;

	if (sock_flag(sk, SOCK_LINGER))
		timeo = sk->sk_lingertime;
	if (READ_ONCE(conn->state) == AFSMBD_C_CONNECTED && timeo)
		afsmbd_stream_flush(sk, timeo);
	afsmbd_conn_fail(conn, 0);
}

/**
 * afsmbd_conn_exit() - module unload: wait for every teardown
 */
void afsmbd_conn_exit(void)
{
	flush_workqueue(afsmbd_alloc_wq);
	flush_workqueue(afsmbd_wq);
}
