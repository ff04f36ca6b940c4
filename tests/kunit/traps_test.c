// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the SMB-Direct interop traps: the last-credit deadlock
 * ([MS-SMBD] 3.1.5.1), grants outrunning posted receives (3.1.5.9),
 * credit-only and keepalive messages between fragments (3.1.5.8), and a
 * peer whose MaxReceiveSize is below ours (3.1.5.6/3.1.5.7).
 *
 * Besides direct checks of the codec rules, two simulated endpoints that
 * follow xfer.c step by step (kick, post, complete, process, queue, read,
 * recycle or hold, copy out)
 * exchange encoded messages through two queues with random sizes, random
 * reading and random event order, and must never overrun a receive, never
 * stall and never corrupt a reassembled message.
 */

#include <kunit/test.h>
#include "codec.h"

/* What the userspace shim (tests/fuzz) lacks */
#ifndef kunit_info
#define kunit_info(test, fmt, ...)	((void)(test), (void)(fmt))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#ifndef kunit_mark_skipped
#define kunit_mark_skipped(test, fmt, ...)	((void)(test), (void)(fmt))
#endif

/* Deterministic xorshift32: a failing seed reproduces exactly. */
static u32 trap_rand(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*state = x;
	return x;
}

static u32 trap_range(u32 *state, u32 lo, u32 hi)
{
	return lo + trap_rand(state) % (hi - lo + 1);
}

/* Payload byte at stream offset @off in direction @dir. */
static u8 trap_byte(int dir, u32 off)
{
	return (u8)(off * 131u + (off >> 8) + dir * 77u + 1u);
}

/* ---- the two-endpoint model of xfer.c ---- */

#define SIM_MAX_RX	16	/* most receives an endpoint posts */
#define SIM_MAX_MSG	512	/* largest message size a side configures */
#define SIM_WIRE	64	/* messages a direction can hold */
#define SIM_PEND	8	/* fragments queued before the app blocks */
#define SIM_PDUS	16	/* PDUs written but not yet reassembled */
#define SIM_QMAX	(SIM_MAX_RX + AFSMBD_COPY_MAX)	/* unread items */

struct sim_msg {
	u32 len;
	u16 grant;		/* ground truth of CreditsGranted */
	u8 buf[SIM_MAX_MSG];
};

/* Messages from one endpoint to the other, in order (an RC QP). */
struct sim_wire {
	struct sim_msg msg[SIM_WIRE];
	u32 head, count;
	u32 arrived;		/* first @arrived completed, not processed */
};

struct sim_frag {
	u32 len, remaining;
};

struct sim_ep {
	struct afsmbd_limits lim;
	struct afsmbd_params p;
	u32 advertised_recv;	/* MaxReceiveSize we told the peer */
	/* as struct afsmbd_conn */
	u32 send_credits, recv_credits, rx_posted, rx_held;
	/* rx_queue: unread bytes of each receive (or copy) holding data */
	u32 q_left[SIM_QMAX];
	bool q_copy[SIM_QMAX];
	u32 q_head, q_count, rx_inring, rx_overflow;
	u16 recv_credit_target;
	bool need_response;
	struct sim_frag pend[SIM_PEND];
	u32 pend_head, pend_count;
	struct afsmbd_reasm reasm;
	u32 rcvbuf, rx_queued;
	/* the writing application */
	u32 pdu_len, pdu_off, tx_off, pdus_tx;
	u32 pdu_ring[SIM_PDUS];
	/* the reading side: what arrived from the peer */
	u32 rx_off, rx_total, rx_fill, pdus_rx;
	/* counters */
	u32 empties, credit_waits;
};

struct sim {
	struct kunit *test;
	struct sim_ep ep[2];
	struct sim_wire wire[2];	/* wire[i]: from ep[i] to ep[!i] */
	u32 seed;
};

static struct sim trap_sim;	/* big: kept off the kernel stack */

static u16 sim_grant_now(const struct sim_ep *e)
{
	return afsmbd_credit_grant(e->rx_posted, e->recv_credits,
				   e->send_credits, e->recv_credit_target,
				   e->p.recv_credit_max);
}

/* afsmbd_post_data(): spend a credit, encode, put on the wire. */
static void sim_post(struct sim *s, int i, u16 grant, bool want_response,
		     u32 dlen, u32 remaining)
{
	struct kunit *test = s->test;
	struct sim_ep *e = &s->ep[i];
	struct sim_wire *w = &s->wire[i];
	struct afsmbd_data_hdr hdr = {};
	struct sim_msg *m;
	int flags, n;
	u32 k;

	flags = afsmbd_credit_spend(&e->send_credits, &e->recv_credits, grant,
				    want_response);
	KUNIT_ASSERT_GE(test, flags, 0);
	KUNIT_ASSERT_LT(test, w->count, SIM_WIRE);
	m = &w->msg[(w->head + w->count) % SIM_WIRE];

	hdr.credits_requested = e->p.send_credit_target;
	hdr.credits_granted = grant;
	hdr.flags = (u16)flags;
	hdr.remaining_data_length = remaining;
	hdr.data_length = dlen;
	hdr.data_offset = dlen ? AFSMBD_DATA_HDR_LEN : 0;
	/* Trap 4: nothing we send may exceed what the peer receives. */
	KUNIT_ASSERT_LE(test, (dlen ? AFSMBD_DATA_HDR_LEN : 0) + dlen,
			e->p.max_send_size);
	KUNIT_ASSERT_LE(test, AFSMBD_DATA_HDR_LEN + dlen, (u32)SIM_MAX_MSG);
	n = afsmbd_encode_data_hdr(&hdr, m->buf, sizeof(m->buf));
	KUNIT_ASSERT_GT(test, n, 0);
	for (k = 0; k < dlen; k++)
		m->buf[AFSMBD_DATA_HDR_LEN + k] = trap_byte(i, e->tx_off + k);
	e->tx_off += dlen;
	m->len = dlen ? AFSMBD_DATA_HDR_LEN + dlen : (u32)n;
	m->grant = grant;
	w->count++;
	if (!dlen)
		e->empties++;
}

/* afsmbd_send_empty() */
static bool sim_send_empty(struct sim *s, int i, bool want_response)
{
	struct sim_ep *e = &s->ep[i];
	u16 grant = sim_grant_now(e);

	if (!afsmbd_credit_may_send(e->send_credits, grant))
		return false;
	sim_post(s, i, grant, want_response, 0, 0);
	return true;
}

/* afsmbd_compact_work(): the newest unread receive moves to a copy. */
static void sim_compact(struct sim_ep *e)
{
	u32 k;

	for (k = e->q_count; k-- > 0;) {
		u32 at = (e->q_head + k) % SIM_QMAX;

		if (!e->q_copy[at]) {
			e->q_copy[at] = true;
			e->rx_inring--;
			e->rx_overflow++;
			e->rx_posted++;
			return;
		}
	}
}

/* afsmbd_kick() */
static void sim_kick(struct sim *s, int i)
{
	struct sim_ep *e = &s->ep[i];
	struct sim_frag *f;
	u16 grant;

	while (e->pend_count) {
		grant = sim_grant_now(e);
		if (afsmbd_credit_unhold(grant, e->send_credits, e->rx_held)) {
			e->rx_held--;
			e->rx_posted++;
			grant = sim_grant_now(e);
		} else if (afsmbd_credit_compact(grant, e->send_credits,
						 e->rx_held, e->rx_inring,
						 e->rx_overflow)) {
			sim_compact(e);
			grant = sim_grant_now(e);
		}
		if (!afsmbd_credit_may_send(e->send_credits, grant)) {
			e->credit_waits++;
			return;
		}
		f = &e->pend[e->pend_head];
		e->pend_head = (e->pend_head + 1) % SIM_PEND;
		e->pend_count--;
		e->need_response = false;
		sim_post(s, i, grant, false, f->len, f->remaining);
	}
	grant = sim_grant_now(e);
	if (afsmbd_credit_want_empty(grant, e->recv_credits,
				     e->recv_credit_target,
				     e->p.recv_credit_max, e->need_response)) {
		if (sim_send_empty(s, i, false))
			e->need_response = false;
	}
}

/* The application starts a PDU of @len bytes (0: a random length). */
static bool sim_start_pdu(struct sim *s, int i, u32 len)
{
	struct sim_ep *e = &s->ep[i];
	u32 payload = afsmbd_params_max_payload(&e->p);

	if (e->pdu_off != e->pdu_len ||
	    e->pdus_tx - s->ep[!i].pdus_rx >= SIM_PDUS)
		return false;
	/* Sizes around fragment boundaries are the interesting ones. */
	if (len)
		e->pdu_len = len;
	else if (trap_rand(&s->seed) % 4 == 0)
		e->pdu_len = payload * trap_range(&s->seed, 1, 4) +
			     trap_range(&s->seed, 0, 2) - 1;
	else
		e->pdu_len = trap_range(&s->seed, 1, 5 * payload + 7);
	e->pdu_off = 0;
	e->pdu_ring[e->pdus_tx % SIM_PDUS] = e->pdu_len;
	e->pdus_tx++;
	return true;
}

/*
 * The application writes: queue the next fragment of the current PDU
 * (stream.c cuts at the negotiated payload), starting a new PDU first if
 * allowed, and kick.
 */
static bool sim_app_write(struct sim *s, int i, bool may_start)
{
	struct sim_ep *e = &s->ep[i];
	u32 payload = afsmbd_params_max_payload(&e->p);
	struct sim_frag *f;
	u32 n;

	if (e->pend_count == SIM_PEND)
		return false;
	if (e->pdu_off == e->pdu_len &&
	    (!may_start || !sim_start_pdu(s, i, 0)))
		return false;
	n = e->pdu_len - e->pdu_off;
	if (n > payload)
		n = payload;
	e->pdu_off += n;
	f = &e->pend[(e->pend_head + e->pend_count) % SIM_PEND];
	f->len = n;
	f->remaining = e->pdu_len - e->pdu_off;
	e->pend_count++;
	sim_kick(s, i);
	return true;
}

/* afsmbd_recv_done(): the next message on wire @d lands in a receive. */
static bool sim_complete(struct sim *s, int d)
{
	struct kunit *test = s->test;
	struct sim_wire *w = &s->wire[d];
	struct sim_ep *dst = &s->ep[!d];
	const struct sim_msg *m;

	if (w->arrived == w->count)
		return false;
	m = &w->msg[(w->head + w->arrived) % SIM_WIRE];
	/* Trap 2: a message with no posted receive is an RNR failure. */
	KUNIT_ASSERT_GT(test, dst->rx_posted, 0);
	/* Trap 4: it must fit the buffer and what we advertised. */
	KUNIT_ASSERT_LE(test, m->len, dst->lim.max_recv_size);
	KUNIT_ASSERT_LE(test, m->len, dst->advertised_recv);
	dst->rx_posted--;
	w->arrived++;
	return true;
}

/* Payload of a received message: reassembly as afsmbd_reassemble(). */
static int sim_reassemble(struct sim *s, int d, const struct sim_msg *m,
			  const struct afsmbd_data_hdr *hdr)
{
	struct kunit *test = s->test;
	struct sim_ep *dst = &s->ep[!d];
	u32 k;
	int ev;

	ev = afsmbd_reasm_feed(&dst->reasm, hdr->data_length,
			       hdr->remaining_data_length);
	KUNIT_ASSERT_GE(test, ev, 0);
	if (!hdr->data_length) {
		/* Trap 3: a credit or keepalive message carries nothing. */
		KUNIT_ASSERT_EQ(test, ev, AFSMBD_REASM_EMPTY);
		return ev;
	}
	KUNIT_ASSERT_NE(test, ev, AFSMBD_REASM_EMPTY);
	if (ev == AFSMBD_REASM_SINGLE || ev == AFSMBD_REASM_FIRST) {
		/* A new message starts only when the previous one ended. */
		KUNIT_ASSERT_EQ(test, dst->rx_fill, dst->rx_total);
		dst->rx_total = dst->reasm.total;
		dst->rx_fill = 0;
		KUNIT_ASSERT_EQ(test, dst->rx_total,
				s->ep[d].pdu_ring[dst->pdus_rx % SIM_PDUS]);
	}
	for (k = 0; k < hdr->data_length; k++)
		KUNIT_ASSERT_EQ(test, m->buf[hdr->data_offset + k],
				trap_byte(d, dst->rx_off + k));
	dst->rx_off += hdr->data_length;
	dst->rx_fill += hdr->data_length;
	KUNIT_ASSERT_LE(test, dst->rx_fill, dst->rx_total);
	if (ev == AFSMBD_REASM_SINGLE || ev == AFSMBD_REASM_LAST) {
		KUNIT_ASSERT_EQ(test, dst->rx_fill, dst->rx_total);
		dst->pdus_rx++;
	}
	return ev;
}

/* afsmbd_rx_recycle(): a free receive is posted, or held past SO_RCVBUF. */
static void sim_recycle(struct sim_ep *e)
{
	if (e->rx_queued > e->rcvbuf)
		e->rx_held++;
	else
		e->rx_posted++;
}

/* afsmbd_data_recv(): handle the oldest completed message on wire @d. */
static bool sim_process(struct sim *s, int d)
{
	struct kunit *test = s->test;
	struct sim_wire *w = &s->wire[d];
	struct sim_ep *dst = &s->ep[!d];
	struct afsmbd_data_hdr hdr;
	const struct sim_msg *m;
	struct afsmbd_rxchunk c;
	int ev;

	if (!w->arrived)
		return false;
	m = &w->msg[w->head];
	KUNIT_ASSERT_EQ(test, afsmbd_decode_data_hdr(m->buf, m->len, &hdr), 0);
	KUNIT_ASSERT_EQ(test, hdr.credits_granted, m->grant);
	ev = sim_reassemble(s, d, m, &hdr);
	KUNIT_ASSERT_EQ(test, afsmbd_credit_recv(&dst->recv_credits,
						 &dst->send_credits,
						 hdr.credits_granted), 0);
	dst->recv_credit_target = hdr.credits_requested;
	if (hdr.flags & AFSMBD_FLAG_RESPONSE_REQUESTED)
		dst->need_response = true;
	if (ev == AFSMBD_REASM_EMPTY) {
		sim_recycle(dst);
	} else {
		/* Data stays in its receive until read (credits = buffers). */
		ev = afsmbd_rxchunk_init(&c, ev, dst->reasm.total,
					 hdr.data_offset, hdr.data_length);
		KUNIT_ASSERT_EQ(test, ev, 0);
		KUNIT_ASSERT_LT(test, dst->q_count, (u32)SIM_QMAX);
		dst->q_left[(dst->q_head + dst->q_count) % SIM_QMAX] =
			afsmbd_rxchunk_left(&c);
		dst->q_copy[(dst->q_head + dst->q_count) % SIM_QMAX] = false;
		dst->q_count++;
		dst->rx_inring++;
		dst->rx_queued += afsmbd_rxchunk_left(&c);
	}
	w->head = (w->head + 1) % SIM_WIRE;
	w->count--;
	w->arrived--;
	sim_kick(s, !d);
	return true;
}

/* afsmbd_rx_consume(): the reader took @bytes; recycle, repost, kick. */
static void sim_read(struct sim *s, int i, u32 bytes)
{
	struct sim_ep *e = &s->ep[i];

	while (bytes) {
		u32 *left = &e->q_left[e->q_head];
		u32 n = bytes < *left ? bytes : *left;

		*left -= n;
		bytes -= n;
		e->rx_queued -= n;
		if (*left)
			continue;
		if (e->q_copy[e->q_head]) {
			e->rx_overflow--;
		} else {
			e->rx_inring--;
			sim_recycle(e);
		}
		e->q_head = (e->q_head + 1) % SIM_QMAX;
		e->q_count--;
	}
	while (e->rx_held && e->rx_queued <= e->rcvbuf) {
		e->rx_held--;
		e->rx_posted++;
	}
	sim_kick(s, i);
}

/*
 * Ground truth, from the wire rather than from the endpoints' counters:
 * every credit the sender holds or has in flight, plus every grant still
 * travelling to it, is backed by a posted receive (no RNR is possible),
 * and the receiver's recv_credits counts exactly those and the messages
 * it has not processed yet.
 */
static void sim_check(struct sim *s)
{
	struct kunit *test = s->test;
	int d;

	for (d = 0; d < 2; d++) {
		const struct sim_wire *w = &s->wire[d], *back = &s->wire[!d];
		const struct sim_ep *src = &s->ep[d], *dst = &s->ep[!d];
		u32 grants = 0, k;

		for (k = 0; k < back->count; k++)
			grants += back->msg[(back->head + k) % SIM_WIRE].grant;
		KUNIT_ASSERT_LE(test, src->send_credits +
				(w->count - w->arrived) + grants,
				dst->rx_posted);
		KUNIT_ASSERT_EQ(test, dst->recv_credits,
				src->send_credits + w->count + grants);
		KUNIT_ASSERT_EQ(test, dst->rx_posted + dst->rx_held +
				w->arrived + dst->rx_inring,
				dst->p.recv_credit_max);
		KUNIT_ASSERT_LE(test, dst->rx_overflow, AFSMBD_COPY_MAX);
	}
}

struct sim_cfg {
	u16 credit_max[2], credit_target[2];
	u32 send_size[2], recv_size[2], rcvbuf[2];
};

/* Negotiate with the codec as conn.c does: ep[0] client, ep[1] server. */
static void sim_connect(struct sim *s, const struct sim_cfg *c)
{
	struct kunit *test = s->test;
	struct sim_ep *cl = &s->ep[0], *sv = &s->ep[1];
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_negotiate_req req;
	u8 wire[AFSMBD_NEGOTIATE_RESP_LEN];
	u16 granted;
	int i;

	for (i = 0; i < 2; i++) {
		struct sim_ep *e = &s->ep[i];

		e->lim.recv_credit_max = c->credit_max[i];
		e->lim.send_credit_target = c->credit_target[i];
		e->lim.max_send_size = c->send_size[i];
		e->lim.max_recv_size = c->recv_size[i];
		e->lim.max_fragmented_recv_size = AFSMBD_MIN_FRAGMENTED_SIZE;
		e->lim.max_read_write_size = 1048576;
		e->rcvbuf = c->rcvbuf[i];
		/* every receive is posted before the exchange */
		e->rx_posted = c->credit_max[i];
	}
	KUNIT_ASSERT_EQ(test, afsmbd_build_negotiate_req(&cl->lim, &req), 0);
	KUNIT_ASSERT_EQ(test, afsmbd_encode_negotiate_req(&req, wire,
							  sizeof(wire)), 20);
	KUNIT_ASSERT_EQ(test, afsmbd_decode_negotiate_req(wire, 20, &req), 0);
	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&sv->lim, &req, &sv->p),
			0);
	granted = sv->p.initial_recv_credits;
	if (granted > sv->rx_posted)
		granted = (u16)sv->rx_posted;
	afsmbd_build_negotiate_resp(&sv->p, granted, &resp);
	KUNIT_ASSERT_EQ(test, afsmbd_encode_negotiate_resp(&resp, wire,
							   sizeof(wire)), 32);
	KUNIT_ASSERT_EQ(test, afsmbd_decode_negotiate_resp(wire, 32, &resp),
			0);
	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_client(&cl->lim, &resp, &cl->p),
			0);
	cl->advertised_recv = req.max_receive_size;
	sv->advertised_recv = resp.max_receive_size;

	sv->recv_credits = granted;
	cl->send_credits = cl->p.initial_send_credits;
	for (i = 0; i < 2; i++) {
		struct sim_ep *e = &s->ep[i];

		e->recv_credit_target = e->p.recv_credit_target;
		afsmbd_reasm_init(&e->reasm, e->p.max_fragmented_recv_size);
	}
	/* afsmbd_xfer_connected() kicks: the client grants first */
	sim_kick(s, 0);
	sim_kick(s, 1);
	sim_check(s);
}

/* One random event, as completions, readers and writers interleave. */
static void sim_step(struct sim *s)
{
	u32 r = trap_rand(&s->seed) % 100;
	int i = trap_rand(&s->seed) & 1;
	struct sim_ep *e = &s->ep[i];

	if (r < 30)
		sim_app_write(s, i, true);
	else if (r < 55)
		sim_complete(s, i);	/* may run well before processing */
	else if (r < 80)
		sim_process(s, i);
	else if (r < 93)
		sim_read(s, i, e->rx_queued ?
			 trap_range(&s->seed, 1, e->rx_queued) : 0);
	else if (r < 96)
		sim_kick(s, i);		/* send completion */
	else
		sim_send_empty(s, i, true);	/* keepalive */
	sim_check(s);
}

/*
 * Let everything settle: deliver and read all, finish the PDUs being
 * written, start no new ones.  A connection that cannot get there within
 * the bound is deadlocked (or ping-ponging empty messages).
 */
static void sim_drain(struct sim *s)
{
	struct kunit *test = s->test;
	bool busy = true;
	int round, i;

	for (round = 0; busy && round < 10000; round++) {
		busy = false;
		for (i = 0; i < 2; i++) {
			while (sim_complete(s, !i))
				busy = true;
			while (sim_process(s, !i))
				busy = true;
			if (s->ep[i].rx_queued) {
				sim_read(s, i, s->ep[i].rx_queued);
				busy = true;
			}
			if (sim_app_write(s, i, false))
				busy = true;
			sim_kick(s, i);
			busy |= s->wire[i].count != 0;
			sim_check(s);
		}
	}
	KUNIT_ASSERT_FALSE(test, busy);
	for (i = 0; i < 2; i++) {
		const struct sim_ep *e = &s->ep[i];

		/* Trap 1: nothing stuck, and neither side left without credit. */
		KUNIT_EXPECT_EQ(test, e->pend_count, 0);
		KUNIT_EXPECT_EQ(test, e->pdu_off, e->pdu_len);
		KUNIT_EXPECT_EQ(test, s->ep[!i].pdus_rx, e->pdus_tx);
		KUNIT_EXPECT_EQ(test, s->ep[!i].rx_off, e->tx_off);
		KUNIT_EXPECT_GE(test, e->send_credits, 1);
		KUNIT_EXPECT_EQ(test, e->rx_held, 0);
		KUNIT_EXPECT_EQ(test, e->q_count, 0);
		KUNIT_EXPECT_FALSE(test, e->reasm.active);
	}
}

static void sim_run(struct kunit *test, const struct sim_cfg *c, u32 seed,
		    u32 steps)
{
	struct sim *s = &trap_sim;
	u32 k;

	memset(s, 0, sizeof(*s));
	s->test = test;
	s->seed = seed ? seed : 1;
	kunit_info(test, "sim seed %#x credits %u/%u %u/%u sizes %u/%u %u/%u\n",
		   seed, c->credit_max[0], c->credit_target[0],
		   c->credit_max[1], c->credit_target[1], c->send_size[0],
		   c->recv_size[0], c->send_size[1], c->recv_size[1]);
	sim_connect(s, c);
	for (k = 0; k < steps; k++)
		sim_step(s);
	sim_drain(s);
	/* the traffic really flowed both ways */
	KUNIT_EXPECT_GT(test, s->ep[0].pdus_tx, 0);
	KUNIT_EXPECT_GT(test, s->ep[1].pdus_tx, 0);
}

/* ---- Trap 1: the last credit ---- */

/*
 * [MS-SMBD] 3.1.5.1: with one credit left only a message that grants
 * credits may go.  Spending it on a message that grants nothing can leave
 * both sides at zero with nobody able to send again.
 */
static void last_credit_rule(struct kunit *test)
{
	u32 send, recv;
	int flags;
	u16 g;

	/* one credit, nothing to grant: the message must wait */
	KUNIT_EXPECT_FALSE(test, afsmbd_credit_may_send(1, 0));
	send = 1;
	recv = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_credit_spend(&send, &recv, 0, false),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, send, 1);
	KUNIT_EXPECT_EQ(test, recv, 0);
	/*
	 * With a grant it goes, Flags 0: only a keepalive asks for a
	 * response ([MS-SMBD] 3.1.5.1).
	 */
	flags = afsmbd_credit_spend(&send, &recv, 1, false);
	KUNIT_EXPECT_EQ(test, flags, 0);
	KUNIT_EXPECT_EQ(test, send, 0);
	KUNIT_EXPECT_EQ(test, recv, 1);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_spend(&send, &recv, 5, false),
			-EAGAIN);
	/* two credits: the next to last needs no grant, nor asks for one */
	send = 2;
	recv = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_credit_spend(&send, &recv, 0, false),
			0);
	KUNIT_EXPECT_EQ(test, send, 1);
	/* a keepalive asks for a response whatever the credits */
	send = 9;
	KUNIT_EXPECT_EQ(test, afsmbd_credit_spend(&send, &recv, 0, true),
			AFSMBD_FLAG_RESPONSE_REQUESTED);
	/* any count but the last is free to go without a grant */
	for (send = 2; send < 70000; send += 997)
		KUNIT_EXPECT_TRUE(test, afsmbd_credit_may_send(send, 0));
	/*
	 * The grant for the last credit must be found: with the target met
	 * and a receive spare, afsmbd_credit_grant() still offers one.
	 */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(4, 3, 1, 3, 4), 1);
	g = afsmbd_credit_grant(4, 3, 1, 3, 4);
	KUNIT_EXPECT_TRUE(test, afsmbd_credit_may_send(1, g));
	/* ... and nothing is offered when no receive backs it */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(3, 3, 1, 3, 4), 0);
}

/* Complete and process what wire @d holds, answers included, boundedly. */
static void sim_pump(struct sim *s, int d)
{
	int k;

	for (k = 0; k < 64; k++)
		if (!(sim_complete(s, d) | sim_process(s, d)))
			return;
	KUNIT_FAIL(s->test, "wire never settles");
}

/*
 * The classic stall, step by step: A's receives are all held (its reader
 * is slow) and B has spent every credit A gave it.  A has data queued and
 * credits down to the last one: sending that without a grant leaves A at
 * 0 and B at 0, and nobody can ever send again.  A must wait until its
 * reader frees a receive that the last message can grant.
 */
static void last_credit_deadlock_scenario(struct kunit *test)
{
	struct sim *s = &trap_sim;
	struct sim_cfg c = {
		.credit_max = { 3, 6 }, .credit_target = { 3, 6 },
		.send_size = { 256, 256 }, .recv_size = { 256, 256 },
		.rcvbuf = { 0, 1 << 20 },
	};
	struct sim_ep *a = &s->ep[0], *b = &s->ep[1];
	int k;

	memset(s, 0, sizeof(*s));
	s->test = test;
	s->seed = 7;
	sim_connect(s, &c);
	/* the client's first grant reaches B; B's grants reach A */
	sim_pump(s, 0);
	sim_pump(s, 1);
	sim_pump(s, 0);
	KUNIT_ASSERT_EQ(test, b->send_credits, 3);
	KUNIT_ASSERT_GE(test, a->send_credits, 2);

	/* B spends all its credits on small PDUs: they fill A's receives */
	for (k = 0; k < 3; k++) {
		KUNIT_ASSERT_TRUE(test, sim_start_pdu(s, 1, 100));
		KUNIT_ASSERT_TRUE(test, sim_app_write(s, 1, false));
	}
	KUNIT_ASSERT_EQ(test, b->send_credits, 0);
	KUNIT_ASSERT_EQ(test, b->pend_count, 0);
	sim_pump(s, 1);
	KUNIT_ASSERT_EQ(test, a->rx_posted, 0);
	KUNIT_ASSERT_EQ(test, a->rx_inring, 3);
	KUNIT_ASSERT_EQ(test, b->send_credits, 0);

	/*
	 * A writes a long PDU while its reader sleeps.  Its last credit
	 * may only go with a grant, and every receive holds unread data: A
	 * copies one message out and reposts its buffer to grant it.
	 * Waiting for its reader instead deadlocks a relay that reads only
	 * after it has written.
	 */
	KUNIT_ASSERT_TRUE(test, sim_start_pdu(s, 0, 2000));
	for (k = 0; k < 64 && (a->pend_count || a->pdu_off < a->pdu_len); k++) {
		sim_app_write(s, 0, false);
		sim_pump(s, 0);
		/* B reads what A sends: B's ring is smaller than the PDU */
		sim_read(s, 1, b->rx_queued);
		sim_pump(s, 1);
	}
	KUNIT_EXPECT_EQ(test, a->pend_count, 0);
	KUNIT_EXPECT_EQ(test, a->pdu_off, a->pdu_len);
	KUNIT_EXPECT_GT(test, a->rx_overflow, 0);	/* the reader never ran */
	/* A's reader catches up: its receives are granted again */
	sim_read(s, 0, a->rx_queued);
	KUNIT_EXPECT_EQ(test, a->rx_held, 0);
	KUNIT_EXPECT_EQ(test, a->rx_overflow, 0);
	sim_pump(s, 0);
	KUNIT_EXPECT_GT(test, b->send_credits, 0);
	sim_drain(s);
}

/* ---- Trap 2: grants never outrun posted receives ---- */

/* Violations of the grant bounds over every small input. */
static u32 grant_violations(u32 posted, u32 held, u32 send)
{
	u32 target, max, bad = 0;
	u16 g;

	for (target = 0; target <= 10; target++) {
		for (max = 1; max <= 10; max++) {
			g = afsmbd_credit_grant(posted, held, send, (u16)target,
						(u16)max);
			/* never a credit without a receive behind it */
			if (g && held + g > posted)
				bad++;
			/* never past the goal, except the one that unblocks */
			if (g > 1 && held + g > target && held + g > max)
				bad++;
		}
	}
	return bad;
}

static void grant_bounded_by_posted(struct kunit *test)
{
	u32 posted, held, send, bad = 0;

	for (posted = 0; posted <= 9; posted++)
		for (held = 0; held <= 11; held++)
			for (send = 0; send <= 3; send++)
				bad += grant_violations(posted, held, send);
	KUNIT_EXPECT_EQ(test, bad, 0);
	/* the 16-bit field caps what the peer may hold */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(70000, 65535, 1, 65535,
						  65535), 0);
}

/*
 * The race with reposting: a receive completes (rx_posted drops at once,
 * afsmbd_recv_done()) but its message is processed later (recv_credits
 * drops in afsmbd_data_recv()).  A kick in between - a reader reposting
 * held buffers, a send completion, the keepalive - must not grant the
 * buffer that just completed and is not posted again yet.
 */
static void grant_race_with_repost(struct kunit *test)
{
	struct sim *s = &trap_sim;
	struct sim_cfg c = {
		.credit_max = { 3, 3 }, .credit_target = { 3, 3 },
		.send_size = { 200, 200 }, .recv_size = { 200, 200 },
		.rcvbuf = { 0, 0 },
	};
	struct sim_ep *b = &s->ep[1];
	int k;

	memset(s, 0, sizeof(*s));
	s->test = test;
	s->seed = 11;
	sim_connect(s, &c);
	for (k = 0; k < 40; k++) {
		/* A sends; B's receives complete but are not processed */
		sim_app_write(s, 0, true);
		while (sim_complete(s, 0))
			sim_check(s);
		/* B's reader frees room and B kicks in the window */
		sim_read(s, 1, b->rx_queued);
		sim_kick(s, 1);
		sim_send_empty(s, 1, true);
		sim_check(s);
		/* then the completions are processed, A's answers arrive */
		while (sim_process(s, 0) | sim_complete(s, 1) |
		       sim_process(s, 1))
			sim_check(s);
		/* B's completed buffers are back once read */
		if (k % 3 == 0)
			sim_read(s, 1, b->rx_queued);
	}
	sim_drain(s);
}

/* ---- Trap 3: empty messages between fragments ---- */

static int trap_msg(u8 *buf, u16 grant, u16 flags, u32 rem, u32 dlen,
		    u32 *stream_off)
{
	struct afsmbd_data_hdr hdr = {
		.credits_requested = 10, .credits_granted = grant,
		.flags = flags, .remaining_data_length = rem,
		.data_length = dlen,
		.data_offset = dlen ? AFSMBD_DATA_HDR_LEN : 0,
	};
	int n = afsmbd_encode_data_hdr(&hdr, buf, AFSMBD_DATA_HDR_LEN);
	u32 k;

	if (n < 0 || !dlen)
		return n;
	for (k = 0; k < dlen; k++)
		buf[AFSMBD_DATA_HDR_LEN + k] = trap_byte(0, *stream_off + k);
	*stream_off += dlen;
	return AFSMBD_DATA_HDR_LEN + dlen;
}

static void empty_between_fragments(struct kunit *test)
{
	/* fragments of a 300-byte message (100 each) with empties between */
	static const struct {
		u32 dlen, rem;
		u16 flags;
		int ev;
	} seq[] = {
		{ 0, 0, 0, AFSMBD_REASM_EMPTY },	/* credits before */
		{ 100, 200, 0, AFSMBD_REASM_FIRST },
		{ 0, 0, 0, AFSMBD_REASM_EMPTY },	/* Linux: remaining 0 */
		{ 0, 0, AFSMBD_FLAG_RESPONSE_REQUESTED,	/* keepalive */
		  AFSMBD_REASM_EMPTY },
		{ 0, 200, 0, AFSMBD_REASM_EMPTY },	/* current remaining */
		{ 100, 100, 0, AFSMBD_REASM_MIDDLE },
		{ 0, 131072, 0, AFSMBD_REASM_EMPTY },	/* junk, in bounds */
		{ 0, 131073, 0, -EMSGSIZE },	/* past MaxFragmentedSize */
		{ 0, 100, 0, AFSMBD_REASM_EMPTY },
		{ 100, 0, 0, AFSMBD_REASM_LAST },
		{ 0, 0, 0, AFSMBD_REASM_EMPTY },	/* credits after */
		{ 50, 0, 0, AFSMBD_REASM_SINGLE },	/* and life goes on */
	};
	u8 buf[AFSMBD_DATA_HDR_LEN + 100];
	u8 out[300];
	struct afsmbd_data_hdr hdr;
	struct afsmbd_reasm r;
	u32 tx_off = 0, fill = 0, k, i;
	int len, ev;

	afsmbd_reasm_init(&r, AFSMBD_MIN_FRAGMENTED_SIZE);
	for (i = 0; i < ARRAY_SIZE(seq); i++) {
		len = trap_msg(buf, 1, seq[i].flags, seq[i].rem, seq[i].dlen,
			       &tx_off);
		KUNIT_ASSERT_GT(test, len, 0);
		KUNIT_ASSERT_EQ(test, afsmbd_decode_data_hdr(buf, len, &hdr),
				0);
		ev = afsmbd_reasm_feed(&r, hdr.data_length,
				       hdr.remaining_data_length);
		KUNIT_ASSERT_EQ(test, ev, seq[i].ev);
		if (ev == AFSMBD_REASM_EMPTY || ev < 0) {
			KUNIT_EXPECT_EQ(test, len, AFSMBD_DATA_HDR_MIN_LEN);
			/* the message in progress is untouched */
			KUNIT_EXPECT_EQ(test, r.active, i > 1 && i < 9);
			continue;
		}
		if (ev == AFSMBD_REASM_FIRST || ev == AFSMBD_REASM_SINGLE)
			fill = 0;
		memcpy(out + fill, buf + hdr.data_offset, hdr.data_length);
		fill += hdr.data_length;
		if (ev == AFSMBD_REASM_LAST) {
			KUNIT_EXPECT_EQ(test, r.total, 300);
			KUNIT_EXPECT_EQ(test, fill, 300);
			for (k = 0; k < 300; k++)
				KUNIT_ASSERT_EQ(test, out[k], trap_byte(0, k));
		}
	}
	KUNIT_EXPECT_EQ(test, r.total, 50);
	KUNIT_EXPECT_FALSE(test, r.active);
	/* an empty message never completes or aborts a message */
	afsmbd_reasm_init(&r, AFSMBD_MIN_FRAGMENTED_SIZE);
	KUNIT_ASSERT_EQ(test, afsmbd_reasm_feed(&r, 10, 20),
			AFSMBD_REASM_FIRST);
	for (i = 0; i < 100; i++)
		KUNIT_ASSERT_EQ(test, afsmbd_reasm_feed(&r, 0, i * 1321),
				AFSMBD_REASM_EMPTY);
	KUNIT_EXPECT_EQ(test, r.remaining, 20);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 20, 0), AFSMBD_REASM_LAST);
	/* but a real fragment that breaks the countdown is still refused */
	KUNIT_ASSERT_EQ(test, afsmbd_reasm_feed(&r, 10, 20),
			AFSMBD_REASM_FIRST);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 5, 0), -EPROTO);
}

/* ---- Trap 4: a peer with smaller receives than ours ---- */

static void fragment_at_peer_limit(struct kunit *test,
				   const struct afsmbd_params *p,
				   u32 peer_max_recv, u32 peer_max_frag)
{
	u32 payload = afsmbd_params_max_payload(p);
	static const u32 pdus[] = { 1, 103, 104, 105, 1340, 1341, 5000,
				    131072 };
	struct afsmbd_reasm r;
	u32 i, off, n, msgs;
	int ev = -1;

	KUNIT_ASSERT_LE(test, p->max_send_size, peer_max_recv);
	KUNIT_ASSERT_GT(test, payload, 0);
	afsmbd_reasm_init(&r, peer_max_frag);
	for (i = 0; i < ARRAY_SIZE(pdus); i++) {
		msgs = 0;
		for (off = 0; off < pdus[i]; off += n) {
			n = pdus[i] - off < payload ? pdus[i] - off : payload;
			/* every message fits the peer's receive buffer */
			KUNIT_ASSERT_LE(test, AFSMBD_DATA_HDR_LEN + n,
					peer_max_recv);
			ev = afsmbd_reasm_feed(&r, n, pdus[i] - off - n);
			KUNIT_ASSERT_GT(test, ev, AFSMBD_REASM_EMPTY);
			msgs++;
		}
		KUNIT_EXPECT_EQ(test, ev, msgs == 1 ? AFSMBD_REASM_SINGLE :
				AFSMBD_REASM_LAST);
		KUNIT_EXPECT_EQ(test, msgs, (pdus[i] + payload - 1) / payload);
	}
}

static void peer_smaller_receive_size(struct kunit *test)
{
	struct afsmbd_limits ours = {
		.recv_credit_max = 255, .send_credit_target = 255,
		.max_send_size = 1364, .max_recv_size = 1364,
		.max_fragmented_recv_size = 1048576,
		.max_read_write_size = 1048576,
	};
	struct afsmbd_limits peer = ours;
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_negotiate_req req;
	struct afsmbd_params cp, sp;
	u32 peer_recv;

	for (peer_recv = AFSMBD_MIN_RECEIVE_SIZE; peer_recv <= 1364;
	     peer_recv += 59) {
		/* we are the client, the server receives less */
		peer.max_recv_size = peer_recv;
		peer.max_send_size = 1364;
		peer.max_fragmented_recv_size = AFSMBD_MIN_FRAGMENTED_SIZE;
		KUNIT_ASSERT_EQ(test, afsmbd_build_negotiate_req(&ours, &req),
				0);
		KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&peer, &req, &sp),
				0);
		afsmbd_build_negotiate_resp(&sp, 10, &resp);
		KUNIT_EXPECT_EQ(test, resp.max_receive_size, peer_recv);
		KUNIT_ASSERT_EQ(test, afsmbd_negotiate_client(&ours, &resp, &cp),
				0);
		KUNIT_EXPECT_EQ(test, cp.max_send_size, peer_recv);
		KUNIT_EXPECT_EQ(test, afsmbd_params_max_payload(&cp),
				peer_recv - AFSMBD_DATA_HDR_LEN);
		KUNIT_EXPECT_EQ(test, cp.max_fragmented_send_size,
				AFSMBD_MIN_FRAGMENTED_SIZE);
		/* the server still sends us full-size messages */
		KUNIT_EXPECT_EQ(test, sp.max_send_size, 1364);
		KUNIT_EXPECT_EQ(test, cp.max_recv_size, 1364);
		fragment_at_peer_limit(test, &cp, peer_recv,
				       AFSMBD_MIN_FRAGMENTED_SIZE);

		/* we are the server, the client receives less */
		KUNIT_ASSERT_EQ(test, afsmbd_build_negotiate_req(&peer, &req),
				0);
		KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&ours, &req, &sp),
				0);
		KUNIT_EXPECT_EQ(test, sp.max_send_size, peer_recv);
		KUNIT_EXPECT_EQ(test, sp.max_fragmented_send_size,
				AFSMBD_MIN_FRAGMENTED_SIZE);
		afsmbd_build_negotiate_resp(&sp, 10, &resp);
		/* we tell the client to send no more than it wants to */
		KUNIT_EXPECT_EQ(test, resp.preferred_send_size, peer_recv);
		KUNIT_ASSERT_EQ(test, afsmbd_negotiate_client(&peer, &resp, &cp),
				0);
		KUNIT_EXPECT_LE(test, cp.max_send_size, sp.max_recv_size);
		fragment_at_peer_limit(test, &sp, peer_recv,
				       AFSMBD_MIN_FRAGMENTED_SIZE);
	}
	/* the smallest legal peer still leaves room for payload */
	peer.max_recv_size = AFSMBD_MIN_RECEIVE_SIZE;
	KUNIT_ASSERT_EQ(test, afsmbd_build_negotiate_req(&peer, &req), 0);
	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&ours, &req, &sp), 0);
	KUNIT_EXPECT_EQ(test, afsmbd_params_max_payload(&sp),
			AFSMBD_MIN_RECEIVE_SIZE - AFSMBD_DATA_HDR_LEN);
}

/* ---- Everything at once: two endpoints, random traffic ---- */

/* Windows of 6..16 receives, 6..20 credits wanted, random sizes. */
static void two_peer_simulation(struct kunit *test)
{
	struct sim_cfg c;
	u32 rng = 0x7ea95eed, run, i;

	for (run = 0; run < 48; run++) {
		for (i = 0; i < 2; i++) {
			c.credit_max[i] = (u16)trap_range(&rng, 6, SIM_MAX_RX);
			c.credit_target[i] = (u16)trap_range(&rng, 6, 20);
			c.send_size[i] = trap_range(&rng, 128, SIM_MAX_MSG);
			c.recv_size[i] = trap_range(&rng, 128, SIM_MAX_MSG);
			/* 0: every data message is held until read */
			c.rcvbuf[i] = trap_rand(&rng) % 3 ?
				      trap_range(&rng, 0, 3000) : 0;
		}
		sim_run(test, &c, trap_rand(&rng), 2500);
	}
}

/* Windows of @cfg (max[0], target[0], max[1], target[1]) with tiny
 * messages and receive buffers of a few messages.
 */
static void sim_windows(struct kunit *test, const u16 (*cfg)[4], u32 n)
{
	struct sim_cfg c;
	u32 rng = 0x5eed0001, run, i;

	for (run = 0; run < 4 * n; run++) {
		for (i = 0; i < 2; i++) {
			c.credit_max[i] = cfg[run % n][2 * i];
			c.credit_target[i] = cfg[run % n][2 * i + 1];
			c.send_size[i] = trap_range(&rng, 128, 256);
			c.recv_size[i] = trap_range(&rng, 128, 256);
			c.rcvbuf[i] = trap_range(&rng, 0, 600);
		}
		sim_run(test, &c, trap_rand(&rng), 2500);
	}
}

/*
 * Both ends write small PDUs and neither ever reads: as with TCP, both
 * must end up blocked, not trade messages for ever.  Unread data is
 * bounded by the ring plus AFSMBD_COPY_MAX copies.  Once the readers
 * run, everything arrives.
 */
static void both_write_never_read(struct kunit *test)
{
	struct sim *s = &trap_sim;
	struct sim_cfg c = {
		.credit_max = { 8, 8 }, .credit_target = { 8, 8 },
		.send_size = { 256, 256 }, .recv_size = { 256, 256 },
		.rcvbuf = { 500, 500 },
	};
	u32 bound = (8 + AFSMBD_COPY_MAX) * (AFSMBD_FRAME_HDR_LEN + 100);
	int k, i;

	memset(s, 0, sizeof(*s));
	s->test = test;
	s->seed = 11;
	sim_connect(s, &c);
	for (k = 0; k < 2000; k++) {
		for (i = 0; i < 2; i++) {
			struct sim_ep *e = &s->ep[i];

			if (e->pdu_off == e->pdu_len)
				sim_start_pdu(s, i, 100);
			sim_app_write(s, i, false);
		}
		sim_pump(s, 0);
		sim_pump(s, 1);
	}
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_LE(test, s->ep[i].rx_queued, bound);
		/* the writers are blocked, not trading messages */
		KUNIT_EXPECT_GT(test, s->ep[i].pend_count, 0);
		KUNIT_EXPECT_EQ(test, s->wire[i].count, 0);
	}
	sim_drain(s);
}

/*
 * Small windows, down to the engine's minimum of 3 credits, with receive
 * buffers of a few messages: receives get held and both ends hit their
 * last credit often, and idle ends must stop sending empty messages.
 * (The held-receive deadlock itself: last_credit_deadlock_scenario.)
 */
static void two_peer_small_windows(struct kunit *test)
{
	static const u16 cfg[][4] = {
		{ 3, 3, 3, 3 }, { 4, 4, 4, 4 }, { 8, 8, 8, 8 },
		{ 3, 2, 4, 3 }, { 8, 8, 3, 3 }, { 3, 3, 16, 16 },
	};

	sim_windows(test, cfg, ARRAY_SIZE(cfg));
}

/*
 * A peer asking for one or two credits, or posting only one or two
 * receives (ours post at least 3).  Two ping-pongs of empty messages lived
 * here: a one-credit grant that costs the credit it travels on, and empty
 * messages on a last credit asking for an answer, which then did the same.
 */
static void two_peer_tiny_windows(struct kunit *test)
{
	static const u16 cfg[][4] = {
		{ 3, 1, 3, 1 }, { 3, 2, 3, 2 }, { 8, 1, 8, 2 }, { 3, 1, 16, 16 },
		{ 16, 2, 3, 1 }, { 2, 1, 8, 8 }, { 8, 8, 2, 1 }, { 1, 1, 3, 3 },
	};

	sim_windows(test, cfg, ARRAY_SIZE(cfg));
}

static struct kunit_case af_smbdirect_traps_cases[] = {
	KUNIT_CASE(last_credit_rule),
	KUNIT_CASE(last_credit_deadlock_scenario),
	KUNIT_CASE(grant_bounded_by_posted),
	KUNIT_CASE(grant_race_with_repost),
	KUNIT_CASE(empty_between_fragments),
	KUNIT_CASE(peer_smaller_receive_size),
	KUNIT_CASE(two_peer_simulation),
	KUNIT_CASE(both_write_never_read),
	KUNIT_CASE(two_peer_small_windows),
	KUNIT_CASE(two_peer_tiny_windows),
	{}
};

static struct kunit_suite af_smbdirect_traps_suite = {
	.name = "af_smbdirect_traps",
	.test_cases = af_smbdirect_traps_cases,
};

kunit_test_suites(&af_smbdirect_traps_suite);
