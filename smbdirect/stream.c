// SPDX-License-Identifier: GPL-2.0
/*
 * The byte stream users see.  Writes carry SMB3's Direct-TCP framing (a
 * 4-byte big-endian length before each PDU); the header is parsed here and
 * not sent: each PDU body becomes one SMB-Direct message, fragmented by
 * send size.  Reads return each reassembled message behind a regenerated
 * 4-byte header, so the reader sees exactly the Direct-TCP stream.
 */

#include <linux/sched/signal.h>
#include <linux/uio.h>
#include <linux/mm.h>
#include "af_smbdirect.h"

/**
 * afsmbd_stream_writable() - may a write make progress now?
 * @conn: connection
 *
 * Return: true if a send buffer is free (a PDU can be queued).
 */
bool afsmbd_stream_writable(struct afsmbd_conn *conn)
{
	return READ_ONCE(conn->nr_tx_free) > 0 || conn->tx_cur;
}

static bool afsmbd_send_stopped(struct sock *sk)
{
	return READ_ONCE(afsmbd_sk(sk)->conn.state) != AFSMBD_C_CONNECTED ||
	       (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN);
}

/* Wait for a free send buffer.  lock_sock held (released while asleep). */
static int afsmbd_wait_tx(struct sock *sk, long *timeo)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	add_wait_queue(sk_sleep(sk), &wait);
	sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
	sk_wait_event(sk, timeo, READ_ONCE(conn->nr_tx_free) > 0 ||
		      afsmbd_send_stopped(sk), &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	return 0;
}

/*
 * Control messages of a write.  SMBDIRECT_CMSG_REMOTE_INVALIDATE names a
 * token to invalidate with the next PDU this socket completes; it stays
 * pending across short writes.
 */
static int afsmbd_stream_cmsgs(struct afsmbd_conn *conn, struct msghdr *msg)
{
	struct smbdirect_cmsg_remote_invalidate ri;
	struct cmsghdr *cmsg;

	for_each_cmsghdr(cmsg, msg) {
		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level != SOL_SMBDIRECT)
			continue;
		if (cmsg->cmsg_type != SMBDIRECT_CMSG_REMOTE_INVALIDATE ||
		    cmsg->cmsg_len != CMSG_LEN(sizeof(ri)))
			return -EINVAL;
		memcpy(&ri, CMSG_DATA(cmsg), sizeof(ri));
		conn->tx_inv = true;
		conn->tx_inv_rkey = ri.remote_token;
	}
	return 0;
}

/**
 * afsmbd_stream_sendmsg() - write part of the Direct-TCP stream
 * @sk: socket, lock_sock held
 * @msg: user data
 * @len: its length
 *
 * Any split of the stream gives the same PDUs.  A full fragment (or a
 * PDU's end) is queued at once; a partial fragment waits for more bytes.
 * A call that fails takes nothing: a header is validated before its bytes
 * are taken, and a bad one fails the call (type byte not 0: EPROTO; length
 * 0, which SMB-Direct cannot carry: EINVAL; above the peer's
 * MaxFragmentedSize: EMSGSIZE) with the stream still at that header.  If
 * the call took bytes before the bad header it returns their count, and
 * the next call fails on the header.  A bad header completed by a later
 * call fails that call and drops the partial header the earlier call took,
 * so the stream is at a PDU boundary again.
 *
 * Return: bytes taken, or a negative errno.
 */
int afsmbd_stream_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	int flags = msg->msg_flags;
	struct afsmbd_frame_result res;
	size_t copied = 0;
	long timeo;
	int err = 0;

	if (READ_ONCE(conn->state) < AFSMBD_C_CONNECTED &&
	    !(READ_ONCE(sk->sk_err)))
		return -ENOTCONN;
	if (msg->msg_controllen) {
		err = afsmbd_stream_cmsgs(conn, msg);
		if (err)
			return err;
	}
	timeo = sock_sndtimeo(sk, flags & MSG_DONTWAIT);

	while (msg_data_left(msg)) {
		size_t left = msg_data_left(msg), n;
		struct afsmbd_tx *tx;
		u8 *dst;

		if (afsmbd_send_stopped(sk)) {
			err = -EPIPE;
			break;
		}
		if (conn->fp.body_left == 0) {
			struct afsmbd_frame_parser fp = conn->fp;
			u8 hdr[AFSMBD_FRAME_HDR_LEN];

			n = min_t(size_t, left,
				  AFSMBD_FRAME_HDR_LEN - fp.hdr_have);
			if (!copy_from_iter_full(hdr, n, &msg->msg_iter)) {
				err = -EFAULT;
				break;
			}
			/* On a copy: a bad header leaves no trace. */
			err = afsmbd_frame_feed(&fp, hdr, n, &res);
			if (err) {
				iov_iter_revert(&msg->msg_iter, n);
				/*
				 * Header bytes an earlier call left belong to
				 * the bad header: drop them, or every later
				 * write would fail on them.
				 */
				if (conn->fp.hdr_have)
					afsmbd_frame_init(&conn->fp,
							  conn->fp.max_pdu);
				if (err == -ENODATA)
					err = -EINVAL;
				break;
			}
			conn->fp = fp;
			copied += n;
			if (res.hdr_done)
				conn->pdu_off = 0;
			continue;
		}

		if (!conn->tx_cur) {
			spin_lock_bh(&conn->lock);
			tx = afsmbd_tx_get(conn);
			spin_unlock_bh(&conn->lock);
			if (!tx) {
				if (!timeo) {
					err = -EAGAIN;
					break;
				}
				err = afsmbd_wait_tx(sk, &timeo);
				if (err)
					break;
				continue;
			}
			conn->tx_cur = tx;
		}
		tx = conn->tx_cur;
		n = min_t(size_t, left, afsmbd_max_payload(conn) - tx->data_len);
		n = min_t(size_t, n, conn->fp.body_left);
		dst = (u8 *)tx->buf + AFSMBD_DATA_HDR_LEN + tx->data_len;
		if (!copy_from_iter_full(dst, n, &msg->msg_iter)) {
			err = -EFAULT;
			break;
		}
		afsmbd_frame_feed(&conn->fp, dst, n, &res);
		tx->data_len += n;
		conn->pdu_off += n;
		copied += n;
		if (tx->data_len == afsmbd_max_payload(conn) || res.pdu_done) {
			tx->remaining = res.pdu_len - conn->pdu_off;
			/* The PDU's last message invalidates the token. */
			if (res.pdu_done && conn->tx_inv) {
				tx->inv = true;
				tx->inv_rkey = conn->tx_inv_rkey;
				conn->tx_inv = false;
			}
			conn->tx_cur = NULL;
			err = afsmbd_tx_queue(conn, tx);
			if (err)
				break;
		}
	}
	if (copied)
		return copied;
	if (err == -EPIPE)
		return sk_stream_error(sk, flags, err);
	return err;
}

/**
 * afsmbd_stream_flush() - wait until every queued fragment was sent
 * @sk: socket, lock_sock held
 * @timeo: bound in jiffies
 *
 * Return: 0 when flushed, -EAGAIN on timeout, or another negative errno.
 */
int afsmbd_stream_flush(struct sock *sk, long timeo)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int done;

	add_wait_queue(sk_sleep(sk), &wait);
	do {
		done = sk_wait_event(sk, &timeo,
				     (list_empty_careful(&conn->tx_pending) &&
				      !READ_ONCE(conn->tx_inflight)) ||
				     READ_ONCE(conn->state) !=
				     AFSMBD_C_CONNECTED, &wait);
	} while (!done && timeo && !signal_pending(current));
	remove_wait_queue(sk_sleep(sk), &wait);
	return done ? 0 : -EAGAIN;
}

/* The queued buffer holding unread byte @skip, and @skip within it. */
static struct afsmbd_rx *afsmbd_find(struct afsmbd_conn *conn, size_t skip,
				     u32 *off)
{
	struct afsmbd_rx *rx, *found = NULL;

	spin_lock_bh(&conn->lock);
	list_for_each_entry(rx, &conn->rx_queue, list) {
		u32 left = afsmbd_rxchunk_left(&rx->chunk);

		if (skip < left) {
			found = rx;
			*off = skip;
			break;
		}
		skip -= left;
	}
	spin_unlock_bh(&conn->lock);
	return found;
}

/*
 * Copy from a queued receive buffer, from its unread byte @skip, straight
 * to the user: the one copy on the receive path.  Only the reader (under
 * lock_sock) takes buffers off the queue, so no lock is needed.
 * Returns bytes copied; *fault is set if the user buffer faulted.
 */
static size_t afsmbd_copy_rx(const struct afsmbd_rx *rx, u32 skip,
			     struct msghdr *msg, size_t len, bool *fault)
{
	struct afsmbd_rxseg seg;
	u8 hdr[AFSMBD_FRAME_HDR_LEN];
	size_t done = 0, n, k;
	const u8 *src;

	while (done < len && afsmbd_rxchunk_seg(&rx->chunk, skip + done, &seg)) {
		n = min_t(size_t, seg.len, len - done);
		if (seg.hdr) {
			afsmbd_frame_encode_hdr(rx->chunk.pdu_len, hdr,
						sizeof(hdr));
			src = hdr + seg.off;
		} else {
			src = (const u8 *)rx->buf + seg.off;
		}
		k = copy_to_iter(src, n, &msg->msg_iter);
		done += k;
		if (k != n) {
			*fault = true;
			break;
		}
	}
	return done;
}

/* Did the connection end inside a PDU?  Then no read may say EOF. */
static bool afsmbd_rx_cut(struct afsmbd_conn *conn)
{
	bool cut;

	spin_lock_bh(&conn->lock);
	cut = conn->rx_cut || (conn->state == AFSMBD_C_FAILED &&
			       conn->reasm.active);
	spin_unlock_bh(&conn->lock);
	return cut;
}

/**
 * afsmbd_stream_recvmsg() - read the Direct-TCP stream
 * @sk: socket, lock_sock held
 * @msg: user buffer
 * @len: its size
 * @flags: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL
 *
 * Queued data is returned before EOF or an error; a peer's close is EOF
 * only once everything it sent before has been queued (DRAINING).
 *
 * Return: bytes read, 0 at EOF, or a negative errno.
 */
int afsmbd_stream_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			  int flags)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	bool peek = flags & MSG_PEEK, fault = false;
	size_t copied = 0;
	long timeo;
	int target, err = 0;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (READ_ONCE(conn->state) == AFSMBD_C_IDLE)
		return -ENOTCONN;
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);

	while (copied < len) {
		struct afsmbd_rx *rx;
		size_t n;
		u32 off;

		rx = afsmbd_find(conn, peek ? copied : 0, &off);
		if (rx) {
			n = afsmbd_copy_rx(rx, off, msg, len - copied, &fault);
			copied += n;
			/* Given with the bytes of the message that did it. */
			if (!peek && n && rx->inv_handle) {
				put_cmsg(msg, SOL_SMBDIRECT,
					 SMBDIRECT_CMSG_INVALIDATED,
					 sizeof(rx->inv_handle),
					 &rx->inv_handle);
				rx->inv_handle = 0;
			}
			if (!peek && n)
				afsmbd_rx_consume(conn, rx, n);
			if (fault) {
				if (!copied)
					err = -EFAULT;
				break;
			}
			continue;
		}
		if (copied >= target)
			break;
		if (READ_ONCE(sk->sk_err)) {
			if (!copied)
				err = sock_error(sk);
			break;
		}
		if (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN ||
		    READ_ONCE(conn->state) == AFSMBD_C_FAILED) {
			/*
			 * Never a clean EOF inside a PDU, even once a writer
			 * (or an earlier read) has taken the socket error.
			 * Teardown sets rx_cut once drained; before that a
			 * failed connection's reassembly says the same (it
			 * is fed under conn->lock only while delivering).
			 */
			if (!copied && afsmbd_rx_cut(conn))
				err = -ECONNRESET;
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
		add_wait_queue(sk_sleep(sk), &wait);
		sk_wait_event(sk, &timeo,
			      READ_ONCE(conn->rx_queued) > (peek ? copied : 0) ||
			      READ_ONCE(sk->sk_err) ||
			      (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
			      READ_ONCE(conn->state) == AFSMBD_C_FAILED, &wait);
		remove_wait_queue(sk_sleep(sk), &wait);
	}
	/* After teardown the ring lives only as long as unread data. */
	if (conn->rings_dead && conn->rx && list_empty_careful(&conn->rx_queue))
		afsmbd_xfer_free_idle(conn);
	return copied ? copied : err;
}
