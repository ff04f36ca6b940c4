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

/* A bad header: it is consumed and dropped, nothing of its PDU is sent. */
static int afsmbd_bad_header(struct afsmbd_conn *conn, int err)
{
	afsmbd_frame_init(&conn->fp, conn->params.max_fragmented_send_size);
	/* A zero-length PDU carries nothing: accept and drop it. */
	return err == -ENODATA ? 0 : err;
}

/**
 * afsmbd_stream_sendmsg() - write part of the Direct-TCP stream
 * @sk: socket, lock_sock held
 * @msg: user data
 * @len: its length
 *
 * Any split of the stream gives the same PDUs.  A full fragment (or a
 * PDU's end) is queued at once; a partial fragment waits for more bytes.
 * A header announcing a PDU above the peer's MaxFragmentedSize fails with
 * EMSGSIZE, a bad type byte with EPROTO: the four header bytes are dropped
 * and the stream continues with the next header, so the connection stays
 * usable.  If bytes before the bad header were taken by the same call,
 * the call returns their count and the next write reports the error.
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

	if (conn->tx_err_pending) {
		err = conn->tx_err_pending;
		conn->tx_err_pending = 0;
		return err;
	}
	if (READ_ONCE(conn->state) < AFSMBD_C_CONNECTED &&
	    !(READ_ONCE(sk->sk_err)))
		return -ENOTCONN;
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
			u8 hdr[AFSMBD_FRAME_HDR_LEN];

			n = min_t(size_t, left,
				  AFSMBD_FRAME_HDR_LEN - conn->fp.hdr_have);
			if (!copy_from_iter_full(hdr, n, &msg->msg_iter)) {
				err = -EFAULT;
				break;
			}
			err = afsmbd_frame_feed(&conn->fp, hdr, n, &res);
			if (err) {
				err = afsmbd_bad_header(conn, err);
				if (!err) {
					copied += n;
					continue;
				}
				if (copied) {
					/* Report it on the next write. */
					conn->tx_err_pending = err;
					copied += n;
					err = 0;
				}
				break;
			}
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

/* The message and offset where byte @skip of the unread data is. */
static struct afsmbd_msg *afsmbd_find(struct afsmbd_conn *conn, size_t skip,
				      u32 *off)
{
	struct afsmbd_msg *m, *found = NULL;

	spin_lock_bh(&conn->lock);
	list_for_each_entry(m, &conn->rx_queue, list) {
		u32 avail = m->len - m->off;

		if (skip < avail) {
			found = m;
			*off = m->off + skip;
			break;
		}
		skip -= avail;
	}
	spin_unlock_bh(&conn->lock);
	return found;
}

/**
 * afsmbd_stream_recvmsg() - read the Direct-TCP stream
 * @sk: socket, lock_sock held
 * @msg: user buffer
 * @len: its size
 * @flags: MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL
 *
 * Queued data is returned before EOF or an error.  Messages are removed
 * only here (under lock_sock), so they can be copied without conn->lock.
 *
 * Return: bytes read, 0 at EOF, or a negative errno.
 */
int afsmbd_stream_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			  int flags)
{
	struct afsmbd_conn *conn = &afsmbd_sk(sk)->conn;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	bool peek = flags & MSG_PEEK;
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
		struct afsmbd_msg *m;
		u32 off, n;

		m = afsmbd_find(conn, peek ? copied : 0, &off);
		if (m) {
			n = min_t(size_t, len - copied, m->len - off);
			if (copy_to_iter(m->data + off, n, &msg->msg_iter) != n) {
				err = -EFAULT;
				break;
			}
			copied += n;
			if (peek)
				continue;
			m->off += n;
			if (m->off == m->len) {
				spin_lock_bh(&conn->lock);
				list_del(&m->list);
				spin_unlock_bh(&conn->lock);
				kvfree(m);
			}
			afsmbd_rx_release(conn, n);
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
		    READ_ONCE(conn->state) == AFSMBD_C_FAILED)
			break;
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
	return copied ? copied : err;
}

/**
 * afsmbd_stream_purge() - free unread messages (socket destruct time)
 * @conn: connection
 */
void afsmbd_stream_purge(struct afsmbd_conn *conn)
{
	struct afsmbd_msg *m, *tmp;

	list_for_each_entry_safe(m, tmp, &conn->rx_queue, list) {
		list_del(&m->list);
		kvfree(m);
	}
	conn->rx_queued = 0;
}
