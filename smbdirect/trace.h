/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Trace events of af_smbdirect: phases, credits, messages, keepalives,
 * violations and RDMA offload.  Enable with
 *   echo 1 > /sys/kernel/tracing/events/af_smbdirect/enable
 * or perf trace -e 'af_smbdirect:*'.  Every event names the connection by
 * its socket's inode number (0 before the socket has one), as ss shows.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM af_smbdirect

#if !defined(AFSMBD_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define AFSMBD_TRACE_H

#include <linux/tracepoint.h>
#include <net/sock.h>
#include "compat.h"

TRACE_EVENT(afsmbd_state,
	TP_PROTO(const struct sock *sk, int from, int to, int err),
	TP_ARGS(sk, from, to, err),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__field(int, from)
		__field(int, to)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		__entry->from = from;
		__entry->to = to;
		__entry->err = err;
	),
	TP_printk("ino=%lu %d->%d err=%d", __entry->ino, __entry->from,
		  __entry->to, __entry->err)
);

TRACE_EVENT(afsmbd_send,
	TP_PROTO(const struct sock *sk, u32 len, u32 remaining, u16 granted,
		 u16 flags, u32 send_credits),
	TP_ARGS(sk, len, remaining, granted, flags, send_credits),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__field(u32, len)
		__field(u32, remaining)
		__field(u16, granted)
		__field(u16, flags)
		__field(u32, send_credits)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		__entry->len = len;
		__entry->remaining = remaining;
		__entry->granted = granted;
		__entry->flags = flags;
		__entry->send_credits = send_credits;
	),
	TP_printk("ino=%lu len=%u remaining=%u granted=%u flags=%#x credits_left=%u",
		  __entry->ino, __entry->len, __entry->remaining,
		  __entry->granted, __entry->flags, __entry->send_credits)
);

TRACE_EVENT(afsmbd_recv,
	TP_PROTO(const struct sock *sk, u32 len, u32 remaining, u16 granted,
		 u16 flags, u32 recv_credits),
	TP_ARGS(sk, len, remaining, granted, flags, recv_credits),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__field(u32, len)
		__field(u32, remaining)
		__field(u16, granted)
		__field(u16, flags)
		__field(u32, recv_credits)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		__entry->len = len;
		__entry->remaining = remaining;
		__entry->granted = granted;
		__entry->flags = flags;
		__entry->recv_credits = recv_credits;
	),
	TP_printk("ino=%lu len=%u remaining=%u granted=%u flags=%#x peer_credits=%u",
		  __entry->ino, __entry->len, __entry->remaining,
		  __entry->granted, __entry->flags, __entry->recv_credits)
);

TRACE_EVENT(afsmbd_credit_wait,
	TP_PROTO(const struct sock *sk, u32 send_credits, u32 pending),
	TP_ARGS(sk, send_credits, pending),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__field(u32, send_credits)
		__field(u32, pending)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		__entry->send_credits = send_credits;
		__entry->pending = pending;
	),
	TP_printk("ino=%lu credits=%u pending_bytes=%u", __entry->ino,
		  __entry->send_credits, __entry->pending)
);

TRACE_EVENT(afsmbd_keepalive,
	TP_PROTO(const struct sock *sk, bool sent),
	TP_ARGS(sk, sent),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__field(bool, sent)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		__entry->sent = sent;
	),
	TP_printk("ino=%lu sent=%d", __entry->ino, __entry->sent)
);

TRACE_EVENT(afsmbd_violation,
	TP_PROTO(const struct sock *sk, const char *what),
	TP_ARGS(sk, what),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__string(what, what)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		AFSMBD_TRACE_ASSIGN_STR(what, what);
	),
	TP_printk("ino=%lu %s", __entry->ino, __get_str(what))
);

TRACE_EVENT(afsmbd_rdma,
	TP_PROTO(const struct sock *sk, const char *op, u64 len, u32 descs,
		 int err),
	TP_ARGS(sk, op, len, descs, err),
	TP_STRUCT__entry(
		__field(unsigned long, ino)
		__string(op, op)
		__field(u64, len)
		__field(u32, descs)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->ino = sock_i_ino((struct sock *)sk);
		AFSMBD_TRACE_ASSIGN_STR(op, op);
		__entry->len = len;
		__entry->descs = descs;
		__entry->err = err;
	),
	TP_printk("ino=%lu %s len=%llu descs=%u err=%d", __entry->ino,
		  __get_str(op), __entry->len, __entry->descs, __entry->err)
);

#endif /* AFSMBD_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
