// SPDX-License-Identifier: GPL-2.0
/*
 * Message transfer: the receive ring and its reposting, the send pool,
 * credits ([MS-SMBD] 3.1.5) through the codec helpers, the receive chain
 * the reader consumes, empty credit-granting messages and keepalive.
 *
 * Completion handlers run from the CQ's workqueue (see conn.c); they never
 * allocate or sleep, and take conn->lock with _bh so the code stays correct
 * with softirq polling too.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/mm.h>
#include "af_smbdirect.h"
#include "trace.h"

static void afsmbd_recv_done(struct ib_cq *cq, struct ib_wc *wc);
static void afsmbd_send_done(struct ib_cq *cq, struct ib_wc *wc);
static u16 afsmbd_grant_now(struct afsmbd_conn *conn);

static bool afsmbd_wc_timed_out(enum ib_wc_status st)
{
	return st == IB_WC_RETRY_EXC_ERR || st == IB_WC_RNR_RETRY_EXC_ERR;
}

/* ---- buffers ---- */

static void afsmbd_rx_init(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
			   const struct afsmbd_bufs *b, u32 i, u32 size)
{
	rx->conn = conn;
	rx->cqe.done = afsmbd_recv_done;
	INIT_LIST_HEAD(&rx->list);
	rx->buf = afsmbd_bufs_get(b, i, &rx->dma);
	rx->size = size;
}

static void afsmbd_tx_init(struct afsmbd_conn *conn, struct afsmbd_tx *tx,
			   const struct afsmbd_bufs *b, u32 i)
{
	tx->conn = conn;
	tx->cqe.done = afsmbd_send_done;
	INIT_LIST_HEAD(&tx->list);
	tx->buf = afsmbd_bufs_get(b, i, &tx->dma);
}

/**
 * afsmbd_neg_alloc() - the two buffers the negotiate exchange needs
 * @conn: connection with a PD, before the peer has said anything
 *
 * Only these are pinned until a valid negotiate message arrives: a peer
 * that connects and stays silent costs two buffers, not a ring.
 *
 * Return: 0, -ENOBUFS or -ENOMEM.
 */
int afsmbd_neg_alloc(struct afsmbd_conn *conn)
{
	u32 size = max(conn->limits.max_recv_size, conn->limits.max_send_size);
	int err;

	err = afsmbd_bufs_alloc(conn, &conn->neg_bufs, conn->pd->device, 2,
				size, DMA_BIDIRECTIONAL);
	if (err)
		return err;
	afsmbd_rx_init(conn, &conn->neg_rx, &conn->neg_bufs, 0,
		       conn->limits.max_recv_size);
	afsmbd_tx_init(conn, &conn->neg_tx, &conn->neg_bufs, 1);
	return 0;
}

/**
 * afsmbd_xfer_alloc() - the receive ring and send pool, after negotiate
 * @conn: connection whose peer sent a valid negotiate message
 * @p: the parameters it produced (buffer sizes)
 *
 * Runs in the setup worker, never in a completion handler.  Partial
 * allocations are undone by afsmbd_xfer_free().
 *
 * Return: 0, -ENOBUFS or -ENOMEM.
 */
int afsmbd_xfer_alloc(struct afsmbd_conn *conn, const struct afsmbd_params *p)
{
	struct ib_device *dev = conn->pd->device;
	int err;
	u32 i;

	struct mem_cgroup *old;

	conn->desc_bytes = conn->nr_rx * sizeof(*conn->rx) +
			   conn->nr_tx * sizeof(*conn->tx);
	err = afsmbd_mem_charge(conn, conn->desc_bytes);
	if (err) {
		conn->desc_bytes = 0;
		return err;
	}
	old = set_active_memcg(afsmbd_memcg(conn));
	conn->rx = kvcalloc(conn->nr_rx, sizeof(*conn->rx), GFP_KERNEL_ACCOUNT);
	conn->tx = kvcalloc(conn->nr_tx, sizeof(*conn->tx), GFP_KERNEL_ACCOUNT);
	set_active_memcg(old);
	if (!conn->rx || !conn->tx)
		return -ENOMEM;
	err = afsmbd_bufs_alloc(conn, &conn->rx_bufs, dev, conn->nr_rx,
				p->max_recv_size, DMA_FROM_DEVICE);
	if (!err)
		err = afsmbd_bufs_alloc(conn, &conn->tx_bufs, dev, conn->nr_tx,
					p->max_send_size, DMA_TO_DEVICE);
	if (err)
		return err;
	for (i = 0; i < conn->nr_rx; i++)
		afsmbd_rx_init(conn, &conn->rx[i], &conn->rx_bufs, i,
			       p->max_recv_size);
	spin_lock_bh(&conn->lock);
	for (i = 0; i < conn->nr_tx; i++) {
		afsmbd_tx_init(conn, &conn->tx[i], &conn->tx_bufs, i);
		list_add_tail(&conn->tx[i].list, &conn->tx_free);
		conn->nr_tx_free++;
	}
	spin_unlock_bh(&conn->lock);
	return 0;
}

/**
 * afsmbd_xfer_unmap() - undo the DMA mappings (QP already destroyed)
 * @conn: connection
 */
void afsmbd_xfer_unmap(struct afsmbd_conn *conn)
{
	afsmbd_bufs_unmap(&conn->neg_bufs);
	afsmbd_bufs_unmap(&conn->rx_bufs);
	afsmbd_bufs_unmap(&conn->tx_bufs);
}

/* The descriptor arrays are charged as one; uncharged when both are gone. */
static void afsmbd_free_desc(struct afsmbd_conn *conn)
{
	if (conn->rx || conn->tx || !conn->desc_bytes)
		return;
	afsmbd_mem_uncharge(conn, conn->desc_bytes);
	conn->desc_bytes = 0;
}

static void afsmbd_free_tx(struct afsmbd_conn *conn)
{
	spin_lock_bh(&conn->lock);
	INIT_LIST_HEAD(&conn->tx_free);
	INIT_LIST_HEAD(&conn->tx_pending);
	conn->nr_tx_free = 0;
	conn->tx_pending_bytes = 0;
	spin_unlock_bh(&conn->lock);
	conn->tx_cur = NULL;
	afsmbd_bufs_free(conn, &conn->tx_bufs);
	afsmbd_bufs_free(conn, &conn->neg_bufs);
	kvfree(conn->tx);
	conn->tx = NULL;
	afsmbd_free_desc(conn);
}

static void afsmbd_overflow_free(struct afsmbd_conn *conn,
				 struct afsmbd_rx *ov)
{
	afsmbd_mem_uncharge(conn, ov->size);
	kfree(ov);
}

static void afsmbd_free_rx(struct afsmbd_conn *conn)
{
	struct afsmbd_rx *rx, *tmp;
	LIST_HEAD(gone);

	spin_lock_bh(&conn->lock);
	list_for_each_entry_safe(rx, tmp, &conn->rx_queue, list)
		if (rx->overflow)
			list_move(&rx->list, &gone);
	INIT_LIST_HEAD(&conn->rx_hold);
	INIT_LIST_HEAD(&conn->rx_queue);
	WRITE_ONCE(conn->rx_queued, 0);
	conn->rx_inring = 0;
	conn->rx_overflow = 0;
	spin_unlock_bh(&conn->lock);
	list_for_each_entry_safe(rx, tmp, &gone, list)
		afsmbd_overflow_free(conn, rx);
	afsmbd_bufs_free(conn, &conn->rx_bufs);
	kvfree(conn->rx);
	conn->rx = NULL;
	afsmbd_free_desc(conn);
}

/**
 * afsmbd_xfer_free_idle() - free what a torn-down connection no longer uses
 * @conn: connection after teardown, lock_sock held
 *
 * The send side goes at once.  Receive buffers still holding unread data
 * stay readable; the ring goes with the last unread byte (or at destruct).
 */
void afsmbd_xfer_free_idle(struct afsmbd_conn *conn)
{
	conn->rings_dead = true;
	if (conn->tx || conn->tx_bufs.charged || conn->neg_bufs.charged)
		afsmbd_free_tx(conn);
	if ((conn->rx || conn->rx_bufs.charged) &&
	    list_empty_careful(&conn->rx_queue))
		afsmbd_free_rx(conn);
}

/**
 * afsmbd_xfer_free() - free every buffer (socket destruct time)
 * @conn: connection, torn down or never connected
 */
void afsmbd_xfer_free(struct afsmbd_conn *conn)
{
	afsmbd_free_tx(conn);
	afsmbd_free_rx(conn);
}

/* ---- receives ---- */

/**
 * afsmbd_post_recv() - post one receive buffer; conn->lock held
 * @conn: connection with a live QP
 * @rx: buffer not currently posted
 *
 * Return: 0, or the verbs error after failing the connection.
 */
int afsmbd_post_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx)
{
	struct ib_sge sge = {
		.addr = rx->dma,
		.length = rx->size,
		.lkey = conn->pd->local_dma_lkey,
	};
	struct ib_recv_wr wr = {
		.wr_cqe = &rx->cqe,
		.sg_list = &sge,
		.num_sge = 1,
	};
	int err;

	lockdep_assert_held(&conn->lock);
	ib_dma_sync_single_for_device(conn->pd->device, rx->dma, rx->size,
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
 * afsmbd_post_all_recvs() - post the whole receive ring; conn->lock held
 * @conn: connection whose ring was just allocated
 *
 * Return: 0 or a verbs error (the connection is then failed).
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

/*
 * A receive buffer is free again: post it, or hold it while unread data
 * is past SO_RCVBUF (the credit loop then stops the peer).  Once draining
 * or torn down nothing is posted any more.  conn->lock held.
 */
static void afsmbd_rx_recycle(struct afsmbd_conn *conn, struct afsmbd_rx *rx)
{
	struct sock *sk = afsmbd_conn_sk(conn);

	if (conn->state != AFSMBD_C_CONNECTED)
		return;
	if (conn->rx_queued > (u32)READ_ONCE(sk->sk_rcvbuf))
		list_add_tail(&rx->list, &conn->rx_hold);
	else
		afsmbd_post_recv(conn, rx);
}

/**
 * afsmbd_rx_consume() - the reader took bytes of a queued receive
 * @conn: connection
 * @rx: the first buffer on rx_queue
 * @bytes: bytes read from it
 *
 * A buffer read to its end is reposted, which the next message (or an
 * empty one) grants back to the peer.
 */
void afsmbd_rx_consume(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
		       u32 bytes)
{
	struct afsmbd_rx *gone = NULL;

	spin_lock_bh(&conn->lock);
	WRITE_ONCE(conn->rx_queued, conn->rx_queued - bytes);
	if (afsmbd_rxchunk_consume(&rx->chunk, bytes)) {
		list_del_init(&rx->list);
		if (rx->overflow) {
			conn->rx_overflow--;
			gone = rx;
		} else {
			conn->rx_inring--;
			afsmbd_rx_recycle(conn, rx);
		}
	}
	if (conn->state == AFSMBD_C_CONNECTED) {
		afsmbd_repost_held(conn);
		afsmbd_kick(conn);
	}
	spin_unlock_bh(&conn->lock);
	if (gone)
		afsmbd_overflow_free(conn, gone);
}

/**
 * afsmbd_compact_work() - copy one unread message out of the ring
 * @work: the connection's compact_work
 *
 * See afsmbd_credit_compact(): our last credit needs a grant and every
 * receive buffer holds unread data.  The newest unread message moves to a
 * copy charged like the ring, its buffer is reposted and the kick grants
 * it.  lock_sock keeps the reader, which copies from queued buffers
 * without conn->lock, away meanwhile.
 */
void afsmbd_compact_work(struct work_struct *work)
{
	struct afsmbd_conn *conn = container_of(to_delayed_work(work),
						struct afsmbd_conn,
						compact_work);
	struct sock *sk = afsmbd_conn_sk(conn);
	struct afsmbd_rx *rx = NULL, *it, *ov;
	struct mem_cgroup *old;
	u32 len;

	lock_sock(sk);
	spin_lock_bh(&conn->lock);
	/* Still stuck?  The reader may have freed a buffer meanwhile. */
	if (conn->state == AFSMBD_C_CONNECTED &&
	    !list_empty(&conn->tx_pending) &&
	    afsmbd_credit_compact(afsmbd_grant_now(conn), conn->send_credits,
				  !list_empty(&conn->rx_hold), conn->rx_inring,
				  conn->rx_overflow))
		list_for_each_entry_reverse(it, &conn->rx_queue, list)
			if (!it->overflow) {
				rx = it;
				break;
			}
	spin_unlock_bh(&conn->lock);
	if (!rx)
		goto out;
	/* Completions never touch a queued buffer; the reader is locked out. */
	len = rx->chunk.data_len;
	old = set_active_memcg(afsmbd_memcg(conn));
	ov = kmalloc(sizeof(*ov) + len, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	set_active_memcg(old);
	if (!ov || afsmbd_mem_charge(conn, len)) {
		kfree(ov);
		/* Nothing else would kick again: try later. */
		spin_lock_bh(&conn->lock);
		if (!conn->teardown_queued)
			queue_delayed_work(afsmbd_alloc_wq,
					   &conn->compact_work, HZ / 10);
		spin_unlock_bh(&conn->lock);
		goto out;
	}
	*ov = *rx;
	ov->overflow = true;
	ov->buf = ov + 1;
	ov->size = len;
	ov->chunk.data_off = 0;
	memcpy(ov->buf, (u8 *)rx->buf + rx->chunk.data_off, len);

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED) {
		spin_unlock_bh(&conn->lock);
		afsmbd_overflow_free(conn, ov);
		goto out;
	}
	list_replace_init(&rx->list, &ov->list);
	conn->rx_inring--;
	conn->rx_overflow++;
	afsmbd_post_recv(conn, rx);
	afsmbd_kick(conn);
	spin_unlock_bh(&conn->lock);
out:
	release_sock(sk);
}

/*
 * A data transfer message.  Nothing is allocated or copied: a message with
 * payload stays in its receive buffer, queued for the reader, which the
 * peer cannot reuse until the reader frees it (credits = buffers).
 */
static void afsmbd_data_recv(struct afsmbd_conn *conn, struct afsmbd_rx *rx,
			     u32 len, const struct ib_wc *wc)
{
	struct sock *sk = afsmbd_conn_sk(conn);
	struct afsmbd_data_hdr hdr;
	bool readable = false, writable = false;
	int ev, err;

	/* Our buffers may be larger than what we let the peer send. */
	if (len > conn->params.max_recv_size) {
		afsmbd_violation(conn, "message longer than MaxReceiveSize");
		return;
	}
	if (afsmbd_decode_data_hdr(rx->buf, len, &hdr)) {
		afsmbd_violation(conn, "malformed data transfer message");
		return;
	}
	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED &&
	    conn->state != AFSMBD_C_DRAINING)
		goto out;
	/*
	 * Reassembly is written by this handler only (one CQ, serial) and
	 * only while delivering, under conn->lock: once the connection has
	 * failed it says whether the reader was left inside a PDU.
	 */
	ev = afsmbd_reasm_feed(&conn->reasm, hdr.data_length,
			       hdr.remaining_data_length);
	if (ev < 0 || (ev != AFSMBD_REASM_EMPTY &&
		       afsmbd_rxchunk_init(&rx->chunk, ev, conn->reasm.total,
					   hdr.data_offset, hdr.data_length))) {
		afsmbd_violation_locked(conn, "bad fragment sequence or length");
		goto out;
	}
	err = afsmbd_credit_recv(&conn->recv_credits, &conn->send_credits,
				 hdr.credits_granted);
	if (err) {
		afsmbd_violation_locked(conn, err == -EOVERFLOW ?
					"credits granted past 65535" :
					"message sent without a credit");
		goto out;
	}
	rx->inv_handle = 0;
	if (wc->wc_flags & IB_WC_WITH_INVALIDATE) {
		u64 h = afsmbd_mr_remote_inv(conn, wc->ex.invalidate_rkey);

		if (!h) {
			afsmbd_violation_locked(conn, "invalidated a token we did not give");
			goto out;
		}
		/* Told with the bytes of this message (or the next ones). */
		if (ev == AFSMBD_REASM_EMPTY)
			conn->inv_orphan = h;
		else
			rx->inv_handle = h;
	}
	if (ev != AFSMBD_REASM_EMPTY && !rx->inv_handle && conn->inv_orphan) {
		rx->inv_handle = conn->inv_orphan;
		conn->inv_orphan = 0;
	}
	trace_afsmbd_recv(afsmbd_conn_sk(conn), hdr.data_length,
			  hdr.remaining_data_length, hdr.credits_granted,
			  hdr.flags, conn->recv_credits);
	writable = hdr.credits_granted != 0;
	conn->recv_credit_target = hdr.credits_requested;
	if (hdr.flags & AFSMBD_FLAG_RESPONSE_REQUESTED)
		conn->need_response = true;
	conn->last_rx = jiffies;
	conn->ka_outstanding = false;
	conn->stats.rx_msgs++;
	conn->stats.rx_bytes += hdr.data_length;
	conn->stats.rx_credits_granted += hdr.credits_granted;
	if (ev == AFSMBD_REASM_EMPTY) {
		afsmbd_rx_recycle(conn, rx);
	} else {
		list_add_tail(&rx->list, &conn->rx_queue);
		conn->rx_inring++;
		WRITE_ONCE(conn->rx_queued,
			   conn->rx_queued + afsmbd_rxchunk_left(&rx->chunk));
		if (ev == AFSMBD_REASM_SINGLE || ev == AFSMBD_REASM_LAST)
			conn->stats.rx_pdus++;
		readable = true;
	}
	afsmbd_kick(conn);
out:
	spin_unlock_bh(&conn->lock);
	if (readable)
		sk->sk_data_ready(sk);
	if (writable)
		sk->sk_write_space(sk);
}

/*
 * A work request flushed while connected: the QP went to the error state
 * without our asking.  The responder does that after a remote access
 * error (an RDMA write to a stale token) with no completion of ours, and
 * an iWARP device when the peer closes, before the CM says so.  Unless
 * that disconnect comes within AFSMBD_QP_DEAD_GRACE the keepalive work
 * fails the connection.  conn->lock held.
 */
static void afsmbd_qp_flushed_locked(struct afsmbd_conn *conn)
{
	if (conn->state != AFSMBD_C_CONNECTED || conn->qp_dead)
		return;
	conn->qp_dead = true;
	conn->qp_dead_at = jiffies;
	afsmbd_arm(conn, &conn->ka_work, AFSMBD_QP_DEAD_GRACE);
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
		/*
		 * A message longer than the buffer: siw and hardware say
		 * LOC_LEN_ERR, rxe LOC_QP_OP_ERR (its copy into the buffer
		 * fails).  Our receive requests are all alike, so on a
		 * receive these are the peer's doing.
		 */
		if (wc->status == IB_WC_LOC_LEN_ERR ||
		    wc->status == IB_WC_LOC_QP_OP_ERR) {
			afsmbd_violation(conn,
					 "message longer than MaxReceiveSize");
		} else if (wc->status == IB_WC_REM_INV_REQ_ERR) {
			/*
			 * The responder's verdict on what the peer sent: a
			 * Send-with-Invalidate of a token the device does not
			 * know (or may not touch), or a message the device
			 * could not take.  The completion says no more.
			 */
			afsmbd_violation(conn,
					 "sent a message the device refused as invalid");
		} else if (wc->status == IB_WC_WR_FLUSH_ERR) {
			/* The normal end of a drained QP, unless connected. */
			spin_lock_bh(&conn->lock);
			afsmbd_qp_flushed_locked(conn);
			spin_unlock_bh(&conn->lock);
		} else {
			pr_warn_ratelimited("receive failed: %s\n",
					    ib_wc_status_msg(wc->status));
			afsmbd_conn_fail(conn, -ECONNRESET);
		}
		return;
	}
	ib_dma_sync_single_for_cpu(conn->pd->device, rx->dma, rx->size,
				   DMA_FROM_DEVICE);

	switch (st) {
	case AFSMBD_C_ACCEPT:
	case AFSMBD_C_NEGOTIATE:
		afsmbd_negotiate_recv(conn, rx, wc->byte_len);
		break;
	case AFSMBD_C_CONNECTED:
	case AFSMBD_C_DRAINING:
		/* Draining: what the peer sent before closing still counts. */
		afsmbd_data_recv(conn, rx, wc->byte_len, wc);
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
	tx->inv = false;
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
		.opcode = tx->inv ? IB_WR_SEND_WITH_INV : IB_WR_SEND,
		.send_flags = IB_SEND_SIGNALED,
		.ex.invalidate_rkey = tx->inv_rkey,
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
				    grant, want_response);
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
	trace_afsmbd_send(afsmbd_conn_sk(conn), tx->data_len, tx->remaining,
			  grant, hdr.flags, conn->send_credits);
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
					 !list_empty(&conn->rx_hold))) {
			struct afsmbd_rx *rx;

			rx = list_first_entry(&conn->rx_hold, struct afsmbd_rx,
					      list);
			list_del_init(&rx->list);
			if (afsmbd_post_recv(conn, rx))
				return;
			grant = afsmbd_grant_now(conn);
		} else if (afsmbd_credit_compact(grant, conn->send_credits,
						 !list_empty(&conn->rx_hold),
						 conn->rx_inring,
						 conn->rx_overflow) &&
			   !conn->teardown_queued) {
			/* Every receive holds unread data: copy one out. */
			queue_delayed_work(afsmbd_alloc_wq,
					   &conn->compact_work, 0);
		}
		if (!afsmbd_credit_may_send(conn->send_credits, grant)) {
			conn->stats.credit_waits++;
			trace_afsmbd_credit_wait(afsmbd_conn_sk(conn),
						 conn->send_credits,
						 conn->tx_pending_bytes);
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
	/* The negotiate buffer is not one of the pool. */
	if (!tx->raw)
		afsmbd_tx_put(conn, tx);
	if (wc->status != IB_WC_SUCCESS) {
		if (wc->status == IB_WC_WR_FLUSH_ERR) {
			afsmbd_qp_flushed_locked(conn);
		} else {
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
		afsmbd_arm(conn, &conn->ka_work, secs * HZ);
	afsmbd_kick(conn);
}

/**
 * afsmbd_keepalive_work() - idle check
 * @work: the connection's ka_work
 *
 * After an idle interval an empty message with RESPONSE_REQUESTED goes
 * out; if nothing at all arrives during the next interval the connection
 * fails with ETIMEDOUT.  A QP flushed while connected fails it with
 * ECONNRESET after AFSMBD_QP_DEAD_GRACE (afsmbd_qp_flushed_locked()).
 */
void afsmbd_keepalive_work(struct work_struct *work)
{
	struct afsmbd_conn *conn = container_of(to_delayed_work(work),
						struct afsmbd_conn, ka_work);
	unsigned int secs = READ_ONCE(conn->keepalive_secs);
	unsigned long ival = secs * HZ, idle, next;

	spin_lock_bh(&conn->lock);
	if (conn->state != AFSMBD_C_CONNECTED) {
		spin_unlock_bh(&conn->lock);
		return;
	}
	if (conn->qp_dead) {
		next = conn->qp_dead_at + AFSMBD_QP_DEAD_GRACE;
		if (time_after_eq(jiffies, next)) {
			pr_warn_ratelimited("QP to %pISpc failed without a disconnect; resetting\n",
					    &conn->raddr);
			afsmbd_conn_fail_locked(conn, -ECONNRESET);
		} else {
			afsmbd_arm(conn, &conn->ka_work, next - jiffies);
		}
		spin_unlock_bh(&conn->lock);
		return;
	}
	if (!secs) {
		spin_unlock_bh(&conn->lock);
		return;
	}
	idle = jiffies - conn->last_rx;
	if (idle >= ival && conn->ka_outstanding) {
		afsmbd_conn_fail_locked(conn, -ETIMEDOUT);
		spin_unlock_bh(&conn->lock);
		return;
	}
	next = ival;
	if (idle < ival) {
		next = ival - idle;
	} else {
		/*
		 * Probe; if no credit or buffer allows one, a peer that
		 * grants nothing is as silent as one that answers nothing.
		 */
		bool sent = afsmbd_send_empty(conn, true);

		if (sent)
			conn->stats.keepalives++;
		trace_afsmbd_keepalive(afsmbd_conn_sk(conn), sent);
		conn->ka_outstanding = true;
		conn->last_rx = jiffies;
	}
	afsmbd_arm(conn, &conn->ka_work, next);
	spin_unlock_bh(&conn->lock);
}
