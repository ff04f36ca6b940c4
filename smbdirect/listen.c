// SPDX-License-Identifier: GPL-2.0
/*
 * Listeners: CONNECT_REQUEST handling, children that negotiate before
 * accept(), the bounded accept queue, and listener close.
 *
 * A child is built in the CONNECT_REQUEST handler, sits on the listener's
 * pending list while negotiating, then moves to the accept queue.  The
 * list a child is on owns sk_alloc()'s reference; accept() takes it over.
 * Locks: the listener's conn.lock guards both lists; it never nests with a
 * child's conn->lock (see conn.c for the full order).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include "af_smbdirect.h"

/**
 * afsmbd_child_unlink() - take a failed child off its listener's pending list
 * @conn: child connection being torn down
 */
void afsmbd_child_unlink(struct afsmbd_conn *conn)
{
	struct sock *sk = afsmbd_conn_sk(conn);
	struct sock *lsk = conn->parent;
	struct afsmbd_sock *lss;
	bool removed = false;

	if (!lsk)
		return;
	lss = afsmbd_sk(lsk);
	spin_lock_bh(&lss->conn.lock);
	/* Children on the accept queue stay: accept() returns them at EOF. */
	if (!list_empty(&conn->child) && !conn->queued) {
		list_del_init(&conn->child);
		sk_acceptq_removed(lsk);
		removed = true;
	}
	spin_unlock_bh(&lss->conn.lock);
	if (removed)
		sock_put(sk);	/* the listener list's reference */
}

/**
 * afsmbd_child_ready() - move a negotiated child to the accept queue
 * @conn: child connection that just reached AFSMBD_C_CONNECTED
 */
void afsmbd_child_ready(struct afsmbd_conn *conn)
{
	struct sock *lsk = conn->parent;
	struct afsmbd_sock *lss = afsmbd_sk(lsk);
	bool ok = false;

	spin_lock_bh(&lss->conn.lock);
	if (!lss->closing && !list_empty(&conn->child)) {
		list_move_tail(&conn->child, &lss->acceptq);
		conn->queued = true;
		ok = true;
	}
	spin_unlock_bh(&lss->conn.lock);
	if (ok)
		lsk->sk_data_ready(lsk);
	else
		afsmbd_conn_fail(conn, -ECONNABORTED);
}

/**
 * afsmbd_cm_listener_event() - CM events on a listening id
 * @conn: the listener's connection, conn->mutex held (released here)
 * @ev: event other than CONNECT_REQUEST
 *
 * Only the removal of the device the listener is bound to matters: the
 * listener fails for good (every accept() then reports ENETDOWN) and the
 * id goes back to the CM, since rdma_destroy_id() may not be called from
 * its own handler.
 *
 * Return: 1 to have the CM destroy the id, else 0.
 */
int afsmbd_cm_listener_event(struct afsmbd_conn *conn,
			     struct rdma_cm_event *ev)
{
	struct sock *lsk = afsmbd_conn_sk(conn);

	if (ev->event != RDMA_CM_EVENT_DEVICE_REMOVAL) {
		mutex_unlock(&conn->mutex);
		return 0;
	}
	conn->id = NULL;
	conn->torn_down = true;
	mutex_unlock(&conn->mutex);
	spin_lock_bh(&conn->lock);
	if (afsmbd_set_state(conn, AFSMBD_C_FAILED))
		conn->err = -ENETDOWN;
	spin_unlock_bh(&conn->lock);
	WRITE_ONCE(lsk->sk_err, ENETDOWN);
	sk_error_report(lsk);
	lsk->sk_state_change(lsk);
	sock_put(lsk);		/* the cm_id's reference; the user holds one */
	return 1;
}

static struct sock *afsmbd_child_alloc(struct sock *lsk)
{
	struct afsmbd_conn *lconn = &afsmbd_sk(lsk)->conn;
	struct sock *sk;

	sk = sk_alloc(sock_net(lsk), lsk->sk_family, GFP_KERNEL, lsk->sk_prot,
		      lsk->sk_kern_sock);
	if (!sk)
		return NULL;
	sock_init_data(NULL, sk);
	afsmbd_sock_init(sk);
	sk->sk_protocol = lsk->sk_protocol;
	sk->sk_ipv6only = lsk->sk_ipv6only;
	afsmbd_inet_child(sk);
	sk->sk_rcvbuf = READ_ONCE(lsk->sk_rcvbuf);
	sk->sk_sndbuf = READ_ONCE(lsk->sk_sndbuf);
	sk->sk_rcvtimeo = READ_ONCE(lsk->sk_rcvtimeo);
	sk->sk_sndtimeo = READ_ONCE(lsk->sk_sndtimeo);
	/* The listener's options; its lock_sock guards limits, so copy whole. */
	afsmbd_sk(sk)->conn.keepalive_secs = READ_ONCE(lconn->keepalive_secs);
	afsmbd_sk(sk)->conn.connect_timeout = READ_ONCE(lconn->connect_timeout);
	spin_lock_bh(&lconn->lock);
	afsmbd_sk(sk)->conn.limits = lconn->limits;
	spin_unlock_bh(&lconn->lock);
	afsmbd_sk(sk)->conn.server = true;
	sock_hold(lsk);
	afsmbd_sk(sk)->conn.parent = lsk;
	return sk;
}

/**
 * afsmbd_cm_request() - CONNECT_REQUEST: build the child and accept
 * @lconn: the listener's connection
 * @id: the new cm_id
 * @ev: the request, with the peer's connection parameters
 *
 * The child pins only its negotiate buffers until the peer's negotiate
 * request proves valid (afsmbd_setup_work()).
 *
 * Return: 0, or non-zero to make the CM reject and destroy @id.
 */
int afsmbd_cm_request(struct afsmbd_conn *lconn, struct rdma_cm_id *id,
		      struct rdma_cm_event *ev)
{
	struct sock *lsk = afsmbd_conn_sk(lconn);
	struct afsmbd_sock *lss = afsmbd_sk(lsk);
	struct rdma_conn_param param = {};
	struct afsmbd_conn *conn;
	bool owned = true;
	__be32 ird_ord[2];
	struct sock *sk;
	u8 ini, resp;
	int err;

	spin_lock_bh(&lconn->lock);
	if (lss->closing || lconn->state == AFSMBD_C_FAILED ||
	    sk_acceptq_is_full(lsk)) {
		spin_unlock_bh(&lconn->lock);
		return -ECONNREFUSED;
	}
	sk_acceptq_added(lsk);	/* pending children count against backlog */
	spin_unlock_bh(&lconn->lock);

	sk = afsmbd_child_alloc(lsk);
	if (!sk) {
		spin_lock_bh(&lconn->lock);
		sk_acceptq_removed(lsk);
		spin_unlock_bh(&lconn->lock);
		return -ENOMEM;
	}
	conn = &afsmbd_sk(sk)->conn;
	conn->id = id;
	id->context = conn;

	mutex_lock(&conn->mutex);
	err = afsmbd_conn_setup(conn);
	if (err)
		goto fail;
	afsmbd_cache_addrs(conn);

	afsmbd_rd_atom(conn, &ini, &resp);
	/* We answer the peer's reads up to its depth, and vice versa. */
	param.responder_resources = min(ev->param.conn.initiator_depth, resp);
	param.initiator_depth = min(ev->param.conn.responder_resources, ini);
	if (afsmbd_is_iwarp(id)) {
		const __be32 *pd = ev->param.conn.private_data;

		if (pd && ev->param.conn.private_data_len >= sizeof(ird_ord)) {
			param.initiator_depth = min_t(u32, param.initiator_depth,
						      be32_to_cpu(pd[0]));
			param.responder_resources =
				min_t(u32, param.responder_resources,
				      be32_to_cpu(pd[1]));
		}
		ird_ord[0] = cpu_to_be32(param.responder_resources);
		ird_ord[1] = cpu_to_be32(param.initiator_depth);
		param.private_data = ird_ord;
		param.private_data_len = sizeof(ird_ord);
	}
	param.retry_count = 6;
	param.rnr_retry_count = 0;
	err = rdma_set_ack_timeout(id, min(afsmbd_ack_timeout, 31U));
	if (err)
		goto fail;

	spin_lock_bh(&conn->lock);
	afsmbd_set_state(conn, AFSMBD_C_ACCEPT);
	spin_unlock_bh(&conn->lock);
	WRITE_ONCE(sk->sk_state, TCP_SYN_RECV);
	spin_lock_bh(&lconn->lock);
	if (lss->closing) {
		spin_unlock_bh(&lconn->lock);
		err = -ECONNREFUSED;
		goto fail;
	}
	/* The list now owns sk_alloc()'s reference and the backlog slot. */
	list_add_tail(&conn->child, &lss->pending);
	spin_unlock_bh(&lconn->lock);

	err = rdma_accept(id, &param);
	if (err) {
		/* Unless listener close took the child, reference and all. */
		spin_lock_bh(&lconn->lock);
		owned = !list_empty(&conn->child);
		list_del_init(&conn->child);
		spin_unlock_bh(&lconn->lock);
		goto fail;
	}
	conn->rdma_connected = true;
	sock_hold(sk);		/* the cm_id's reference */
	spin_lock_bh(&conn->lock);
	afsmbd_arm(conn, &conn->neg_work,
		   READ_ONCE(conn->connect_timeout) * HZ);
	spin_unlock_bh(&conn->lock);
	mutex_unlock(&conn->mutex);
	return 0;

fail:
	/* Still inside the CM handler: the CM destroys the id for us. */
	afsmbd_conn_free_res(conn);
	conn->id = NULL;
	conn->torn_down = true;
	spin_lock_bh(&conn->lock);
	afsmbd_set_state(conn, AFSMBD_C_FAILED);
	spin_unlock_bh(&conn->lock);
	mutex_unlock(&conn->mutex);
	if (owned) {
		spin_lock_bh(&lconn->lock);
		sk_acceptq_removed(lsk);
		spin_unlock_bh(&lconn->lock);
		sock_set_flag(sk, SOCK_DEAD);
		sock_put(sk);
	}
	return err;
}

/**
 * afsmbd_children_memory() - buffer bytes a listener's children pin
 * @lsk: listening socket
 *
 * Return: the sum over children not yet accepted.
 */
size_t afsmbd_children_memory(struct sock *lsk)
{
	struct afsmbd_sock *lss = afsmbd_sk(lsk);
	struct afsmbd_conn *conn;
	size_t sum = 0;

	spin_lock_bh(&lss->conn.lock);
	list_for_each_entry(conn, &lss->pending, child)
		sum += READ_ONCE(conn->buffer_bytes);
	list_for_each_entry(conn, &lss->acceptq, child)
		sum += READ_ONCE(conn->buffer_bytes);
	spin_unlock_bh(&lss->conn.lock);
	return sum;
}

/**
 * afsmbd_conn_accept() - take the first ready child off a listener
 * @lsk: listening socket, lock_sock held
 *
 * Return: the child (its list reference passes to the caller) or NULL.
 */
struct sock *afsmbd_conn_accept(struct sock *lsk)
{
	struct afsmbd_sock *lss = afsmbd_sk(lsk);
	struct afsmbd_conn *conn = NULL;

	spin_lock_bh(&lss->conn.lock);
	if (!list_empty(&lss->acceptq)) {
		conn = list_first_entry(&lss->acceptq, struct afsmbd_conn,
					child);
		list_del_init(&conn->child);
		sk_acceptq_removed(lsk);
	}
	spin_unlock_bh(&lss->conn.lock);
	return conn ? afsmbd_conn_sk(conn) : NULL;
}

/**
 * afsmbd_listener_close() - stop listening and abort every child
 * @lsk: listening socket, lock_sock held
 *
 * Children are taken off the lists one at a time under the listener's
 * lock: a child failing on its own meanwhile unlinks itself through the
 * same lock (afsmbd_child_unlink()), so each is dropped exactly once.
 */
void afsmbd_listener_close(struct sock *lsk)
{
	struct afsmbd_sock *lss = afsmbd_sk(lsk);
	struct afsmbd_conn *conn;
	struct rdma_cm_id *id;

	mutex_lock(&lss->conn.mutex);
	id = lss->conn.id;
	lss->conn.id = NULL;
	lss->conn.torn_down = true;
	mutex_unlock(&lss->conn.mutex);
	/* Waits for a running CONNECT_REQUEST handler to finish. */
	if (id) {
		rdma_destroy_id(id);
		sock_put(lsk);
	}

	spin_lock_bh(&lss->conn.lock);
	lss->closing = true;
	spin_unlock_bh(&lss->conn.lock);
	for (;;) {
		struct sock *sk;

		spin_lock_bh(&lss->conn.lock);
		conn = list_first_entry_or_null(&lss->pending,
						struct afsmbd_conn, child);
		if (!conn)
			conn = list_first_entry_or_null(&lss->acceptq,
							struct afsmbd_conn,
							child);
		if (conn) {
			list_del_init(&conn->child);
			sk_acceptq_removed(lsk);
		}
		spin_unlock_bh(&lss->conn.lock);
		if (!conn)
			break;
		sk = afsmbd_conn_sk(conn);
		sock_set_flag(sk, SOCK_DEAD);
		afsmbd_conn_fail(conn, -ECONNABORTED);
		sock_put(sk);	/* the list's reference */
	}
	WRITE_ONCE(lsk->sk_state, TCP_CLOSE);
	lsk->sk_state_change(lsk);
}
