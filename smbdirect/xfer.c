// SPDX-License-Identifier: GPL-2.0
/*
 * Message transfer: receive buffers and their reposting, the send pool,
 * credits ([MS-SMBD] 3.1.5) through the codec helpers, reassembly of
 * received messages, empty credit-granting messages and keepalive.
 *
 * Completion handlers run from the CQ's workqueue (see conn.c); they take
 * conn->lock with _bh so the code stays correct with softirq polling too.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/mm.h>
#include "af_smbdirect.h"

static void afsmbd_recv_done(struct ib_cq *cq, struct ib_wc *wc);
static bool afsmbd_wc_timed_out(enum ib_wc_status st)
{
	return st == IB_WC_RETRY_EXC_ERR || st == IB_WC_RNR_RETRY_EXC_ERR;
}

static void afsmbd_send_done(struct ib_cq *cq, struct ib_wc *wc);

/**
 * afsmbd_xfer_alloc() - allocate and DMA-map receive and send buffers
 * @conn: connection with PD and QP
 *
 * Return: 0 or -ENOMEM; partial allocations are undone by
 * afsmbd_xfer_unmap() and afsmbd_xfer_free().
 */
int afsmbd_xfer_alloc(struct afsmbd_conn *conn)
{
	struct ib_device *dev = conn->pd->device;
	u32 i;

	conn->rx = kcalloc(conn->nr_rx, sizeof(*conn->rx), GFP_KERNEL);
	conn->tx = kcalloc(conn->nr_tx, sizeof(*conn->tx), GFP_KERNEL);
	if (!conn->rx || !conn->tx)
		return -ENOMEM;

	for (i = 0; i < conn->nr_rx; i++) {
		struct afsmbd_rx *rx = &conn->rx[i];

		rx->conn = conn;
		rx->cqe.done = afsmbd_recv_done;
		INIT_LIST_HEAD(&rx->list);
		rx->buf = kmalloc(conn->limits.max_recv_size, GFP_KERNEL);
		if (!rx->buf)
			return -ENOMEM;
		rx->dma = ib_dma_map_single(dev, rx->buf,
					    conn->limits.max_recv_size,
					    DMA_FROM_DEVICE);
		if (ib_dma_mapping_error(dev, rx->dma)) {
			rx->dma = 0;
			return -ENOMEM;
		}
	}
	for (i = 0; i < conn->nr_tx; i++) {
		struct afsmbd_tx *tx = &conn->tx[i];

		tx->conn = conn;
		tx->cqe.done = afsmbd_send_done;
		tx->buf = kmalloc(conn->limits.max_send_size, GFP_KERNEL);
		if (!tx->buf)
			return -ENOMEM;
		tx->dma = ib_dma_map_single(dev, tx->buf,
					    conn->limits.max_send_size,
					    DMA_TO_DEVICE);
		if (ib_dma_mapping_error(dev, tx->dma)) {
			tx->dma = 0;
			return -ENOMEM;
		}
		list_add_tail(&tx->list, &conn->tx_free);
		conn->nr_tx_free++;
	}
	return 0;
}

/**
 * afsmbd_xfer_unmap() - undo the DMA mappings (QP already destroyed)
 * @conn: connection whose PD is still allocated
 */
void afsmbd_xfer_unmap(struct afsmbd_conn *conn)
{
	struct ib_device *dev;
	u32 i;

	if (!conn->pd)
		return;
	dev = conn->pd->device;
	for (i = 0; conn->rx && i < conn->nr_rx; i++) {
		if (conn->rx[i].dma)
			ib_dma_unmap_single(dev, conn->rx[i].dma,
					    conn->limits.max_recv_size,
					    DMA_FROM_DEVICE);
		conn->rx[i].dma = 0;
	}
	for (i = 0; conn->tx && i < conn->nr_tx; i++) {
		if (conn->tx[i].dma)
			ib_dma_unmap_single(dev, conn->tx[i].dma,
					    conn->limits.max_send_size,
					    DMA_TO_DEVICE);
		conn->tx[i].dma = 0;
	}
}

/**
 * afsmbd_xfer_free() - free the buffers (socket destruct time)
 * @conn: connection, unmapped
 */
void afsmbd_xfer_free(struct afsmbd_conn *conn)
{
	u32 i;

	for (i = 0; conn->rx && i < conn->nr_rx; i++)
		kfree(conn->rx[i].buf);
	for (i = 0; conn->tx && i < conn->nr_tx; i++)
		kfree(conn->tx[i].buf);
	kfree(conn->rx);
	kfree(conn->tx);
	conn->rx = NULL;
	conn->tx = NULL;
	kvfree(conn->rx_msg);
	conn->rx_msg = NULL;
}

/* ---- receives ---- */

/**
 * afsmbd_post_recv() - post one receive buffer; conn->lock held
 * @conn: connection
 * @rx: buffer not currently posted
 *
 * Return: 0, or the verbs error after failing the connection.
 */
int afsmbd_post_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx)
{
	struct ib_sge sge = {
		.addr = rx->dma,
		.length = conn->limits.max_recv_size,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &rx->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};
	int err;

	lockdep_assert_held(&conn->lock);
	ib_dma_sync_single_for_device(conn->pd->device, rx->dma,
				      conn->limits.max_recv_size,
				      DMA_FROM_DEVICE);
	err = ib_post_recv(conn->qp, &wr, NULL);
	if (err) {
		afsmbd_conn_fail_locked(conn, -EIO);
		return err;
	}
	conn->rx_posted++;
	return 0;
}

/**
 * afsmbd_post_all_recvs() - post every receive buffer; conn->lock held
 * @conn: connection before RDMA connect/accept
 *
 * Return: 0 or a verbs error.
 */
int afsmbd_post_all_recvs(struct afsmbd_conn *conn)
{
	u32 i;
	int err;

	for (i = 0; i < conn->nr_rx; i++) {
		err = afsmbd_post_recv(conn, &conn->rx[i]);
		if (err)
			return err;
	}
	return 0;
}

/* Repost held receives once the reader has made room.  conn->lock held. */
static void afsmbd_repost_held(struct afsmbd_conn *conn)
{
	struct sock *sk = afsmbd_conn_sk(conn);
	struct afsmbd_rx *rx;

	while (!list_empty(&conn->rx_hold) &&
	       conn->rx_queued <= (u32)READ_ONCE(sk->sk_rcvbuf)) {
		rx = list_first_entry(&conn->rx_hold, struct afsmbd_rx, list);
		list_del_init(&rx->list);
		if (afsmbd_post_recv(conn, rx))
			return;
	}
}

/**
 * afsmbd_rx_release() - the reader consumed bytes of queued messages
 * @conn: connection
 * @bytes: bytes consumed
 *
 * Freed room lets held receives be reposted, which the next message (or
 * an empty one) grants back to the peer.
 */
void afsmbd_rx_release(struct afsmbd_conn *conn, u32 bytes)
{
	spin_lock_bh(&conn->lock);
	conn->rx_queued -= bytes;
	conn->rx_unheld = 0;	/* the reader is not stuck */
	if (conn->state == AFSMBD_C_CONNECTED) {
		afsmbd_repost_held(conn);
		afsmbd_kick(conn);
	}
	spin_unlock_bh(&conn->lock);
}

/*
 * Payload handling outside conn->lock: reassembly state and the message
 * being built belong to this handler alone (one CQ, polled serially).
 * Returns a completed message, NULL, or an ERR_PTR.
 */
static struct afsmbd_msg *afsmbd_reassemble(struct afsmbd_conn *conn,
					    const void *buf,
					    const struct afsmbd_data_hdr *hdr)
{
	struct afsmbd_msg *msg;
	int ev;

	ev = afsmbd_reasm_feed(&conn->reasm, hdr->data_length,
			       hdr->remaining_data_length);
	if (ev < 0)
		return ERR_PTR(ev);
	if (ev == AFSMBD_REASM_EMPTY)
		return NULL;
	if (ev == AFSMBD_REASM_SINGLE || ev == AFSMBD_REASM_FIRST) {
		u32 total = conn->reasm.total;

		msg = kvmalloc(struct_size(msg, data,
					   AFSMBD_FRAME_HDR_LEN + total),
			       GFP_KERNEL);
		if (!msg)
			return ERR_PTR(-ENOMEM);
		INIT_LIST_HEAD(&msg->list);
		msg->len = AFSMBD_FRAME_HDR_LEN + total;
		msg->off = 0;
		msg->fill = 0;
		afsmbd_frame_encode_hdr(total, msg->data, AFSMBD_FRAME_HDR_LEN);
		kvfree(conn->rx_msg);
		conn->rx_msg = msg;
	}
	msg = conn->rx_msg;
	if (WARN_ON_ONCE(!msg))
		return ERR_PTR(-EPROTO);
	/* Bounds: the decoder checked the buffer, reassembly the total. */
	memcpy(msg->data + AFSMBD_FRAME_HDR_LEN + msg->fill,
	       (const u8 *)buf + hdr->data_offset, hdr->data_length);
	msg->fill += hdr->data_length;
	if (ev == AFSMBD_REASM_SINGLE || ev == AFSMBD_REASM_LAST) {
		conn->rx_msg = NULL;
		return msg;
	}
	return NULL;
}

static void afsmbd_data_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
			     u32 len)
{
	struct sock *sk = afsmbd_conn_sk(conn);
	struct afsmbd_msg *msg;
	struct afsmbd_data_hdr hdr;
	bool readable = false, writable = false;
	int err;

	/* Our buffers may be larger than what we let the peer send. */
	if (len > conn->params.max_recv_size) {
		afsmbd_violation(conn, "message longer than MaxReceiveSize");
		return;
	}
	err = afsmbd_decode_data_hdr(rx->buf, len, &hdr);
	if (err) {
		afsmbd_violation(conn, "malformed data transfer message");
		return;
	}
	msg = afsmbd_reassemble(conn, rx->buf, &hdr);
	if (PTR_ERR(msg) == -ENOMEM) {
		afsmbd_conn_fail(conn, -ENOMEM);
		return;
	}
	if (IS_ERR(msg)) {
		afsmbd_violation(conn, "bad fragment sequence or length");
		return;
	}

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED)
		goto drop;
	err = afsmbd_credit_recv(&conn->recv_credits, &conn->send_credits,
				 hdr.credits_granted);
	if (err) {
		afsmbd_violation_locked(conn, err == -EOVERFLOW ?
					"credits granted past 65535" :
					"message sent without a credit");
		goto drop;
	}
	writable = hdr.credits_granted != 0;
	conn->recv_credit_target = hdr.credits_requested;
	if (hdr.flags & AFSMBD_FLAG_RESPONSE_REQUESTED)
		conn->need_response = true;
	conn->last_rx = jiffies;
	conn->ka_outstanding = false;
	conn->stats.rx_msgs++;
	conn->stats.rx_bytes += hdr.data_length;
	conn->stats.rx_credits_granted += hdr.credits_granted;
	if (msg) {
		conn->stats.rx_pdus++;
		list_add_tail(&msg->list, &conn->rx_queue);
		conn->rx_queued += msg->len;
		msg = NULL;
		readable = true;
	}
	/* Past the receive buffer limit, hold the buffer: the credit loop
	 * then stops the peer until the reader catches up.
	 */
	if (conn->rx_queued > (u32)READ_ONCE(sk->sk_rcvbuf))
		list_add_tail(&rx->list, &conn->rx_hold);
	else
		afsmbd_post_recv(conn, rx);
	afsmbd_kick(conn);
drop:
	spin_unlock_bh(&conn->lock);
	kvfree(msg);
	if (readable)
		sk->sk_data_ready(sk);
	if (writable)
		sk->sk_write_space(sk);
}

static void afsmbd_recv_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct afsmbd_rx *rx = container_of(wc->wr_cqe, struct afsmbd_rx,
					    cqe);
	struct afsmbd_conn *conn = rx->conn;
	enum afsmbd_cstate st;

	spin_lock_bh(&conn->lock);
	conn->rx_posted--;
	st = conn->state;
	spin_unlock_bh(&conn->lock);

	if (wc->status != IB_WC_SUCCESS) {
		/* Flushes are the normal end of a drained QP. */
		if (wc->status == IB_WC_LOC_LEN_ERR) {
			afsmbd_violation(conn,
					 "message longer than MaxReceiveSize");
		} else if (wc->status != IB_WC_WR_FLUSH_ERR) {
			pr_warn_ratelimited("receive failed: %s\n",
					    ib_wc_status_msg(wc->status));
			afsmbd_conn_fail(conn, -ECONNRESET);
		}
		return;
	}
	ib_dma_sync_single_for_cpu(conn->pd->device, rx->dma,
				   conn->limits.max_recv_size, DMA_FROM_DEVICE);

	switch (st) {
	case AFSMBD_C_ACCEPT:
	case AFSMBD_C_NEGOTIATE:
		afsmbd_negotiate_recv(conn, rx, wc->byte_len);
		break;
	case AFSMBD_C_CONNECTED:
		afsmbd_data_recv(conn, rx, wc->byte_len);
		break;
	case AFSMBD_C_FAILED:
		break;
	default:
		afsmbd_conn_fail(conn, -EPROTO);
		break;
	}
}

/* ---- sends ---- */

/**
 * afsmbd_tx_get() - take a send buffer from the pool; conn->lock held
 * @conn: connection
 *
 * Return: a buffer, or NULL if all are queued or in flight.
 */
struct afsmbd_tx *afsmbd_tx_get(struct afsmbd_conn *conn)
{
	struct afsmbd_tx *tx;

	lockdep_assert_held(&conn->lock);
	if (list_empty(&conn->tx_free))
		return NULL;
	tx = list_first_entry(&conn->tx_free, struct afsmbd_tx, list);
	list_del_init(&tx->list);
	conn->nr_tx_free--;
	tx->len = 0;
	tx->data_len = 0;
	tx->remaining = 0;
	tx->raw = false;
	tx->fail_after = false;
	return tx;
}

/**
 * afsmbd_tx_put() - return an unused send buffer; conn->lock held
 * @conn: connection
 * @tx: buffer
 */
void afsmbd_tx_put(struct afsmbd_conn *conn, struct afsmbd_tx *tx)
{
	lockdep_assert_held(&conn->lock);
	list_add(&tx->list, &conn->tx_free);
	conn->nr_tx_free++;
}

static int afsmbd_post_send(struct afsmbd_conn *conn, struct afsmbd_tx *tx,
			    u32 len)
{
	struct ib_sge sge = {
		.addr = tx->dma,
		.length = len,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_send_wr wr = {
		.wr_cqe = &tx->cqe,
		.sg_list = &sge,
		.num_sge = 1,
		.opcode = IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
	};
	int err;

	ib_dma_sync_single_for_device(conn->pd->device, tx->dma, len,
				      DMA_TO_DEVICE);
	err = ib_post_send(conn->qp, &wr, NULL);
	if (err) {
		afsmbd_tx_put(conn, tx);
		afsmbd_conn_fail_locked(conn, -EIO);
		return err;
	}
	conn->tx_inflight++;
	conn->tx_inflight_bytes += tx->data_len;
	return 0;
}

/**
 * afsmbd_post_raw() - send a negotiate message (no credits); lock held
 * @conn: connection
 * @tx: buffer holding tx->len bytes
 *
 * Return: 0 or a verbs error (the connection is then failed).
 */
int afsmbd_post_raw(struct afsmbd_conn *conn, struct afsmbd_tx *tx)
{
	lockdep_assert_held(&conn->lock);
	tx->raw = true;
	return afsmbd_post_send(conn, tx, tx->len);
}

/* Send a data transfer message spending one credit.  conn->lock held. */
static int afsmbd_post_data(struct afsmbd_conn *conn, struct afsmbd_tx *tx,
			    u16 grant, bool want_response)
{
	struct afsmbd_data_hdr hdr = {};
	int flags, n;
	u32 len;

	/* Callers checked afsmbd_credit_may_send() under the same lock. */
	flags = afsmbd_credit_spend(&conn->send_credits, &conn->recv_credits,
				    grant, tx->data_len, want_response);
	if (WARN_ON_ONCE(flags < 0)) {
		afsmbd_tx_put(conn, tx);
		afsmbd_conn_fail_locked(conn, -EPROTO);
		return -EAGAIN;
	}

	hdr.credits_requested = conn->params.send_credit_target;
	hdr.credits_granted = grant;
	hdr.flags = (u16)flags;
	hdr.remaining_data_length = tx->remaining;
	hdr.data_length = tx->data_len;
	hdr.data_offset = tx->data_len ? AFSMBD_DATA_HDR_LEN : 0;
	n = afsmbd_encode_data_hdr(&hdr, tx->buf, AFSMBD_DATA_HDR_LEN);
	if (WARN_ON_ONCE(n < 0)) {
		afsmbd_tx_put(conn, tx);
		afsmbd_conn_fail_locked(conn, -EPROTO);
		return n;
	}
	len = tx->data_len ? AFSMBD_DATA_HDR_LEN + tx->data_len : n;
	conn->stats.tx_msgs++;
	conn->stats.tx_bytes += tx->data_len;
	conn->stats.tx_credits_granted += grant;
	if (!tx->data_len)
		conn->stats.empty_msgs++;
	else if (!tx->remaining)
		conn->stats.tx_pdus++;
	return afsmbd_post_send(conn, tx, len);
}

static u16 afsmbd_grant_now(struct afsmbd_conn *conn)
{
	return afsmbd_credit_grant(conn->rx_posted, conn->recv_credits,
				   conn->send_credits,
				   conn->recv_credit_target,
				   conn->params.recv_credit_max);
}

/* An empty message, if credits and a buffer allow.  conn->lock held. */
static bool afsmbd_send_empty(struct afsmbd_conn *conn, bool want_response)
{
	struct afsmbd_tx *tx;
	u16 grant = afsmbd_grant_now(conn);

	if (!afsmbd_credit_may_send(conn->send_credits, grant))
		return false;
	tx = afsmbd_tx_get(conn);
	if (!tx)
		return false;
	return afsmbd_post_data(conn, tx, grant, want_response) == 0;
}

/**
 * afsmbd_kick() - post queued fragments, then grant credits if needed
 * @conn: connection, conn->lock held
 *
 * Called whenever credits, receives or buffers change.  Fragments go in
 * order while the credit rules allow; each carries the credits that can
 * be granted at that moment.  With nothing queued, an empty message goes
 * when the peer asked for a response or holds less than half of what it
 * wants while we have receives to grant ([MS-SMBD] 3.1.5.9).
 */
void afsmbd_kick(struct afsmbd_conn *conn)
{
	struct afsmbd_tx *tx;
	u16 grant;

	lockdep_assert_held(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED)
		return;
	while (!list_empty(&conn->tx_pending)) {
		grant = afsmbd_grant_now(conn);
		/* Last credit, receives held: see afsmbd_credit_unhold(). */
		if (afsmbd_credit_unhold(grant, conn->send_credits,
					 !list_empty(&conn->rx_hold),
					 conn->rx_unheld)) {
			struct afsmbd_rx *rx;

			rx = list_first_entry(&conn->rx_hold, struct afsmbd_rx,
					      list);
			list_del_init(&rx->list);
			conn->rx_unheld++;
			if (afsmbd_post_recv(conn, rx))
				return;
			grant = afsmbd_grant_now(conn);
		}
		if (!afsmbd_credit_may_send(conn->send_credits, grant)) {
			conn->stats.credit_waits++;
			return;
		}
		tx = list_first_entry(&conn->tx_pending, struct afsmbd_tx,
				      list);
		list_del_init(&tx->list);
		conn->tx_pending_bytes -= tx->data_len;
		conn->need_response = false;
		if (afsmbd_post_data(conn, tx, grant, false))
			return;
	}

	grant = afsmbd_grant_now(conn);
	if (afsmbd_credit_want_empty(grant, conn->recv_credits,
				     conn->recv_credit_target,
				     conn->params.recv_credit_max,
				     conn->need_response)) {
		if (afsmbd_send_empty(conn, false))
			conn->need_response = false;
	}
}

/**
 * afsmbd_tx_queue() - queue a filled fragment for sending
 * @conn: connection
 * @tx: buffer with data_len and remaining set
 *
 * Return: 0, or -EPIPE if the connection is gone (buffer returned).
 */
int afsmbd_tx_queue(struct afsmbd_conn *conn, struct afsmbd_tx *tx)
{
	int err = 0;

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED) {
		afsmbd_tx_put(conn, tx);
		err = -EPIPE;
	} else {
		list_add_tail(&tx->list, &conn->tx_pending);
		conn->tx_pending_bytes += tx->data_len;
		afsmbd_kick(conn);
	}
	spin_unlock_bh(&conn->lock);
	return err;
}

static void afsmbd_send_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct afsmbd_tx *tx = container_of(wc->wr_cqe, struct afsmbd_tx,
					    cqe);
	struct afsmbd_conn *conn = tx->conn;
	struct sock *sk = afsmbd_conn_sk(conn);
	bool fail_after = tx->fail_after;

	spin_lock_bh(&conn->lock);
	conn->tx_inflight--;
	conn->tx_inflight_bytes -= tx->data_len;
	afsmbd_tx_put(conn, tx);
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status != IB_WC_WR_FLUSH_ERR) {
			pr_warn_ratelimited("send failed: %s\n",
					    ib_wc_status_msg(wc->status));
			/* The peer stopped acknowledging: a timeout, as TCP's. */
			afsmbd_conn_fail_locked(conn,
						afsmbd_wc_timed_out(wc->status) ?
						-ETIMEDOUT : -ECONNRESET);
		}
	} else if (fail_after) {
		afsmbd_conn_fail_locked(conn, -ECONNREFUSED);
	} else {
		afsmbd_kick(conn);
	}
	spin_unlock_bh(&conn->lock);
	sk->sk_write_space(sk);
}

/**
 * afsmbd_xfer_connected() - negotiate done: start keepalive, grant credits
 * @conn: connection, conn->lock held, state just set to connected
 */
void afsmbd_xfer_connected(struct afsmbd_conn *conn)
{
	unsigned int secs = READ_ONCE(conn->keepalive_secs);

	lockdep_assert_held(&conn->lock);
	conn->last_rx = jiffies;
	if (secs)
		queue_delayed_work(system_wq, &conn->ka_work, secs * HZ);
	afsmbd_kick(conn);
}

/**
 * afsmbd_keepalive_work() - idle check
 * @work: the connection's ka_work
 *
 * After an idle interval an empty message with RESPONSE_REQUESTED goes
 * out; if nothing at all arrives during the next interval the connection
 * fails with ETIMEDOUT.
 */
void afsmbd_keepalive_work(struct work_struct *work)
{
	struct afsmbd_conn *conn = container_of(to_delayed_work(work),
						struct afsmbd_conn, ka_work);
	unsigned int secs = READ_ONCE(conn->keepalive_secs);
	unsigned long ival = secs * HZ, idle, next;

	if (!secs)
		return;
	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED) {
		spin_unlock_bh(&conn->lock);
		return;
	}
	idle = jiffies - conn->last_rx;
	next = ival;
	if (idle < ival) {
		next = ival - idle;
	} else if (conn->ka_outstanding) {
		afsmbd_conn_fail_locked(conn, -ETIMEDOUT);
		spin_unlock_bh(&conn->lock);
		return;
	} else if (afsmbd_send_empty(conn, true)) {
		conn->stats.keepalives++;
		conn->ka_outstanding = true;
		conn->last_rx = jiffies;
	}
	spin_unlock_bh(&conn->lock);
	queue_delayed_work(system_wq, &conn->ka_work, next);
}
