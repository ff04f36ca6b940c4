// SPDX-License-Identifier: GPL-2.0
/*
 * rogue: a misbehaving SMB-Direct ([MS-SMBD]) peer written with librdmacm
 * and libibverbs, to check that AF_SMBDIRECT reports protocol violations
 * with a clear error and a counted violation, and never crashes or leaks.
 *
 *   rogue [-l ADDR] [-p PORT] MODE
 *
 * The wire encoder is our own (little endian, packed, the layouts of
 * [MS-SMBD] 2.2.1-2.2.3); it shares nothing with smbdirect/codec.c.
 *
 * Server modes: rogue listens on ADDR:PORT (default 5000) with rdma_cm, a
 * thread connects an AF_SMBDIRECT socket to it, and rogue answers:
 *   neg-version neg-short neg-credits0 neg-reqcredits0 neg-maxrecv
 *   neg-frag neg-prefsend      bad Negotiate Response: connect() EPROTO,
 *                              SMBDIRECT_INFO.violations == 1
 *   neg-status                 Status STATUS_NOT_SUPPORTED: ECONNREFUSED,
 *                              violations == 0
 *   neg-prefsend-small         PreferredSendSize 64 is legal (3.1.5.7
 *                              floors the receive size at 128): connected
 *   data-offset data-align data-short data-credreq0 data-frag-total
 *   data-frag-seq data-nocredit data-credit-overflow
 *                              valid negotiate, valid PDU(s), then one bad
 *                              Data Transfer message: the PDUs stay
 *                              readable, then recv() fails with EPROTO,
 *                              violations == 1
 *   data-oversize-small        a 224-byte message after a receive size of
 *                              128 was negotiated: a violation
 *   data-oversize              a message longer than the negotiated
 *                              receive size: recv() must fail (reported)
 *   data-empty-align data-empty-offset data-empty-remaining
 *                              a message without payload whose DataOffset
 *                              is not 8-aligned, lies past the message, or
 *                              whose RemainingDataLength is above our
 *                              MaxFragmentedSize: a violation too
 *   data-flags                 the kernel writes PDUs on three credits at
 *                              a time: no data message may carry
 *                              RESPONSE_REQUESTED (3.1.5.1)
 *
 * Client modes: an AF_SMBDIRECT listener on ADDR (kernel-chosen port),
 * rogue connects to it with rdma_cm:
 *   req-version                version range without 0x0100: failure
 *                              response with STATUS_NOT_SUPPORTED
 *   req-credits0 req-maxrecv req-frag req-short
 *                              bad Negotiate Request: no response, the
 *                              connection is dropped, and the listener's
 *                              SMBDIRECT_INFO.violations == 1
 *   (for all of these the listener must not return that connection and
 *    must still accept a good one afterwards)
 *   req-data-offset req-nocredit
 *                              valid negotiate, valid PDU(s), then a
 *                              violation: the accepted socket reads the
 *                              PDUs, then recv() fails with EPROTO,
 *                              violations == 1
 *   silent                     8 peers connect and never negotiate: the
 *                              listener's buffer_bytes stays at a few
 *                              hundred bytes each, none is accepted
 *   lclose                     (lifecycle.sh) 3 rounds of a listener with
 *                              connect_timeout 1 closed while children
 *                              time out and others send a bad request;
 *                              two more send one as soon as connected
 *
 * RDMA offload modes (rdma-*, req-rdma-*): see "RDMA offload abuse".
 *
 * Exit status 0 when everything behaved as expected.  rogue releases all
 * its RDMA resources explicitly and fails if any release fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <rdma/rdma_cma.h>
#include <infiniband/verbs.h>
#include <linux/af_smbdirect.h>
#include "accept_within.h"

/* ---- our own encoder: [MS-SMBD] 2.2, little endian ---- */

#define V1			0x0100
#define NEG_REQ_LEN		20
#define NEG_RESP_LEN		32
#define DATA_HDR_LEN		24
#define STATUS_NOT_SUPPORTED	0xC00000BBu
#define FLAG_RESPONSE_REQUESTED	0x0001

/* The module's defaults (smbdirect/conn.c) */
#define K_MAX_RECV		1364
#define K_MAX_FRAG		1048576

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static uint16_t get16(const uint8_t *p)
{
	return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

struct neg_req {
	uint16_t min_version, max_version, credits_requested;
	uint32_t preferred_send_size, max_receive_size, max_fragmented_size;
};

struct neg_resp {
	uint16_t min_version, max_version, negotiated_version;
	uint16_t credits_requested, credits_granted;
	uint32_t status, max_read_write_size, preferred_send_size;
	uint32_t max_receive_size, max_fragmented_size;
};

/* 2.2.1: MinVersion MaxVersion Reserved CreditsRequested PreferredSendSize
 * MaxReceiveSize MaxFragmentedSize */
static void enc_neg_req(uint8_t *b, const struct neg_req *r)
{
	put16(b + 0, r->min_version);
	put16(b + 2, r->max_version);
	put16(b + 4, 0);
	put16(b + 6, r->credits_requested);
	put32(b + 8, r->preferred_send_size);
	put32(b + 12, r->max_receive_size);
	put32(b + 16, r->max_fragmented_size);
}

/* 2.2.2: MinVersion MaxVersion NegotiatedVersion Reserved CreditsRequested
 * CreditsGranted Status MaxReadWriteSize PreferredSendSize MaxReceiveSize
 * MaxFragmentedSize */
static void enc_neg_resp(uint8_t *b, const struct neg_resp *r)
{
	put16(b + 0, r->min_version);
	put16(b + 2, r->max_version);
	put16(b + 4, r->negotiated_version);
	put16(b + 6, 0);
	put16(b + 8, r->credits_requested);
	put16(b + 10, r->credits_granted);
	put32(b + 12, r->status);
	put32(b + 16, r->max_read_write_size);
	put32(b + 20, r->preferred_send_size);
	put32(b + 24, r->max_receive_size);
	put32(b + 28, r->max_fragmented_size);
}

static void dec_neg_req(const uint8_t *b, struct neg_req *r)
{
	r->min_version = get16(b);
	r->max_version = get16(b + 2);
	r->credits_requested = get16(b + 6);
	r->preferred_send_size = get32(b + 8);
	r->max_receive_size = get32(b + 12);
	r->max_fragmented_size = get32(b + 16);
}

static void dec_neg_resp(const uint8_t *b, struct neg_resp *r)
{
	r->min_version = get16(b);
	r->max_version = get16(b + 2);
	r->negotiated_version = get16(b + 4);
	r->credits_requested = get16(b + 8);
	r->credits_granted = get16(b + 10);
	r->status = get32(b + 12);
	r->max_read_write_size = get32(b + 16);
	r->preferred_send_size = get32(b + 20);
	r->max_receive_size = get32(b + 24);
	r->max_fragmented_size = get32(b + 28);
}

/* 2.2.3: CreditsRequested CreditsGranted Flags Reserved RemainingDataLength
 * DataOffset DataLength Padding; the 24 header bytes are written, the
 * payload (if any) is the caller's. */
struct data_hdr {
	uint16_t credits_requested, credits_granted, flags;
	uint32_t remaining, offset, length;
};

static void enc_data_hdr(uint8_t *b, const struct data_hdr *h)
{
	put16(b + 0, h->credits_requested);
	put16(b + 2, h->credits_granted);
	put16(b + 4, h->flags);
	put16(b + 6, 0);
	put32(b + 8, h->remaining);
	put32(b + 12, h->offset);
	put32(b + 16, h->length);
	put32(b + 20, 0);
}

static void dec_data_hdr(const uint8_t *b, struct data_hdr *h)
{
	h->credits_requested = get16(b);
	h->credits_granted = get16(b + 2);
	h->flags = get16(b + 4);
	h->remaining = get32(b + 8);
	h->offset = get32(b + 12);
	h->length = get32(b + 16);
}

/* ---- common ---- */

static const char *mode;
static int failed;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "rogue %s: ", mode ? mode : "");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("rogue %s: ", mode);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
}

/* A failed expectation: reported, remembered, and the run goes on so that
 * resources are still released. */
#define EXPECT(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "rogue %s: FAILED: ", mode);		\
		fprintf(stderr, __VA_ARGS__);				\
		fprintf(stderr, "\n");					\
		failed = 1;						\
	}								\
} while (0)

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int port = 5000;
#define TMO_MS 60000	/* TCG with KASAN is slow */

static void set_addr(const char *a)
{
	struct sockaddr_in *s4 = (void *)&addr;
	struct sockaddr_in6 *s6 = (void *)&addr;

	memset(&addr, 0, sizeof(addr));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		addrlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		addrlen = sizeof(*s6);
	} else {
		die("bad address %s", a);
	}
}

static void set_port(struct sockaddr_storage *ss, int p)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(p);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(p);
}

/* ---- the RDMA endpoint ---- */

#define SLOT		4096
#define NR_RECV		128
#define NR_SEND		64

struct ep {
	struct rdma_event_channel *ec;
	struct rdma_cm_id *listen_id;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *buf;			/* NR_RECV receive slots, NR_SEND send */
	int qp_created;
	int established;
	int disconnected;
	int rejected;
	/* receives completed and not yet consumed */
	int rq[NR_RECV], rlen[NR_RECV], rhead, rcount;
	unsigned int send_next;		/* slot round robin */
	int sends_posted, sends_done, send_errors;
	enum ibv_wc_status last_send_status;
	int recv_errors;
	int kmsgs;			/* data messages received from the kernel */
	uint32_t credits;		/* send credits the kernel granted us */
};

static void ep_cm_event(struct ep *e, struct rdma_cm_event *ev)
{
	switch (ev->event) {
	case RDMA_CM_EVENT_ESTABLISHED:
		e->established = 1;
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		e->disconnected = 1;
		break;
	case RDMA_CM_EVENT_REJECTED:
		/*
		 * After ESTABLISHED, a REJ ends the connection too: a kernel
		 * that tears down before its CM saw our RTU (our first
		 * message overtook it) has its CM send a REJ, not a DREQ.
		 */
		if (e->established) {
			say("connection ended by a REJ (our RTU not seen yet)");
			e->disconnected = 1;
		}
		e->rejected = 1;
		break;
	case RDMA_CM_EVENT_CONNECT_ERROR:
	case RDMA_CM_EVENT_UNREACHABLE:
		e->rejected = 1;
		break;
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		break;
	default:
		say("cm event %s (status %d)", rdma_event_str(ev->event),
		    ev->status);
		break;
	}
}

/* Handle pending CM events without blocking. */
static void ep_cm_poll(struct ep *e)
{
	struct rdma_cm_event *ev;

	while (rdma_get_cm_event(e->ec, &ev) == 0) {
		ep_cm_event(e, ev);
		rdma_ack_cm_event(ev);
	}
}

/* Wait for a CM event of type @want (blocking with a deadline); events of
 * other types are recorded. */
static int ep_wait_cm(struct ep *e, enum rdma_cm_event_type want,
		      struct rdma_cm_event *copy, int tmo)
{
	long end = now_ms() + tmo;
	struct pollfd p = { .fd = e->ec->fd, .events = POLLIN };
	struct rdma_cm_event *ev;

	for (;;) {
		while (rdma_get_cm_event(e->ec, &ev) == 0) {
			enum rdma_cm_event_type t = ev->event;

			if (copy)
				*copy = *ev;
			if (t != want)
				ep_cm_event(e, ev);
			rdma_ack_cm_event(ev);
			if (t == want)
				return 0;
			if (t == RDMA_CM_EVENT_REJECTED ||
			    t == RDMA_CM_EVENT_ADDR_ERROR ||
			    t == RDMA_CM_EVENT_ROUTE_ERROR ||
			    t == RDMA_CM_EVENT_CONNECT_ERROR ||
			    t == RDMA_CM_EVENT_UNREACHABLE ||
			    (t == RDMA_CM_EVENT_DISCONNECTED &&
			     want != RDMA_CM_EVENT_DISCONNECTED)) {
				say("waiting for %s got %s", rdma_event_str(want),
				    rdma_event_str(t));
				return -1;
			}
		}
		if (now_ms() > end)
			return -1;
		poll(&p, 1, 100);
	}
}

static void ep_init(struct ep *e)
{
	memset(e, 0, sizeof(*e));
	e->ec = rdma_create_event_channel();
	if (!e->ec)
		die("rdma_create_event_channel: %s", strerror(errno));
	if (fcntl(e->ec->fd, F_SETFL,
		  fcntl(e->ec->fd, F_GETFL) | O_NONBLOCK))
		die("fcntl: %s", strerror(errno));
}

static void ep_post_recv(struct ep *e, int slot)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(e->buf + slot * SLOT),
		.length = SLOT,
		.lkey = e->mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = slot, .sg_list = &sge, .num_sge = 1,
	}, *bad;

	if (ibv_post_recv(e->id->qp, &wr, &bad))
		die("ibv_post_recv: %s", strerror(errno));
}

/* PD, CQ, QP, buffers; every receive posted (before accept/connect). */
static void ep_setup_qp(struct ep *e)
{
	struct ibv_qp_init_attr qa = {};
	uint8_t tmo = 18;	/* about 1 s, as the module */
	int i;

	e->pd = ibv_alloc_pd(e->id->verbs);
	if (!e->pd)
		die("ibv_alloc_pd: %s", strerror(errno));
	e->cq = ibv_create_cq(e->id->verbs, NR_RECV + NR_SEND + 8, NULL,
			      NULL, 0);
	if (!e->cq)
		die("ibv_create_cq: %s", strerror(errno));
	e->buf = aligned_alloc(4096, (size_t)(NR_RECV + NR_SEND) * SLOT);
	if (!e->buf)
		die("out of memory");
	memset(e->buf, 0, (size_t)(NR_RECV + NR_SEND) * SLOT);
	e->mr = ibv_reg_mr(e->pd, e->buf, (size_t)(NR_RECV + NR_SEND) * SLOT,
			   IBV_ACCESS_LOCAL_WRITE);
	if (!e->mr)
		die("ibv_reg_mr: %s", strerror(errno));
	qa.send_cq = e->cq;
	qa.recv_cq = e->cq;
	qa.qp_type = IBV_QPT_RC;
	qa.cap.max_send_wr = NR_SEND;
	qa.cap.max_recv_wr = NR_RECV;
	qa.cap.max_send_sge = 1;
	qa.cap.max_recv_sge = 1;
	qa.sq_sig_all = 0;
	if (rdma_create_qp(e->id, e->pd, &qa))
		die("rdma_create_qp: %s", strerror(errno));
	e->qp_created = 1;
	/* Best effort: older providers may not know the option. */
	rdma_set_option(e->id, RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT,
			&tmo, sizeof(tmo));
	for (i = 0; i < NR_RECV; i++)
		ep_post_recv(e, i);
}

/* Poll the CQ once: send completions are counted, receives queued. */
static void ep_pump(struct ep *e)
{
	struct ibv_wc wc[16];
	int n, i;

	n = ibv_poll_cq(e->cq, 16, wc);
	if (n < 0)
		die("ibv_poll_cq failed");
	for (i = 0; i < n; i++) {
		/* An error completion's opcode is undefined: the receive
		 * slots are the work request ids below NR_RECV. */
		if (wc[i].wr_id < NR_RECV) {
			if (wc[i].status != IBV_WC_SUCCESS) {
				if (wc[i].status != IBV_WC_WR_FLUSH_ERR)
					say("receive failed: %s",
					    ibv_wc_status_str(wc[i].status));
				e->recv_errors++;
				continue;
			}
			e->rq[(e->rhead + e->rcount) % NR_RECV] = wc[i].wr_id;
			e->rlen[(e->rhead + e->rcount) % NR_RECV] =
				wc[i].byte_len;
			e->rcount++;
		} else {
			e->sends_done++;
			if (wc[i].status != IBV_WC_SUCCESS) {
				e->send_errors++;
				e->last_send_status = wc[i].status;
			}
		}
	}
}

/*
 * Wait for a received message; copy it to @out (up to SLOT bytes) and
 * repost its buffer.  Return its length, or -1 on timeout or disconnect.
 */
static int ep_recv(struct ep *e, uint8_t *out, int tmo)
{
	long end = now_ms() + tmo;
	int slot, len;

	for (;;) {
		ep_pump(e);
		if (e->rcount)
			break;
		ep_cm_poll(e);
		if (e->disconnected || now_ms() > end)
			return -1;
		usleep(1000);
	}
	slot = e->rq[e->rhead];
	len = e->rlen[e->rhead];
	e->rhead = (e->rhead + 1) % NR_RECV;
	e->rcount--;
	memcpy(out, e->buf + slot * SLOT, len < SLOT ? len : SLOT);
	if (!e->disconnected)
		ep_post_recv(e, slot);
	return len;
}

/* Post one signaled work request and wait for its completion.  Return
 * its status (IBV_WC_SUCCESS == 0), or -1 on timeout. */
static int ep_post(struct ep *e, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad;
	long end = now_ms() + TMO_MS;
	int want, errs = e->send_errors;

	wr->send_flags = IBV_SEND_SIGNALED;
	if (ibv_post_send(e->id->qp, wr, &bad))
		die("ibv_post_send: %s", strerror(errno));
	want = ++e->sends_posted;
	while (e->sends_done < want) {
		ep_pump(e);
		if (now_ms() > end)
			return -1;
		usleep(1000);
	}
	return e->send_errors > errs ? (int)e->last_send_status : 0;
}

/* Send @len bytes of @msg, with Send-with-Invalidate of @inv_rkey if
 * @inv; wait for the completion (see ep_post). */
static int ep_send_inv(struct ep *e, const void *msg, int len, int inv,
		       uint32_t inv_rkey)
{
	int slot = NR_RECV + (e->send_next++ % NR_SEND);
	struct ibv_sge sge = {
		.addr = (uintptr_t)(e->buf + slot * SLOT),
		.length = len,
		.lkey = e->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = slot, .sg_list = &sge, .num_sge = 1,
		.opcode = inv ? IBV_WR_SEND_WITH_INV : IBV_WR_SEND,
	};

	if (len > SLOT)
		die("message too long");
	if (inv)
		wr.invalidate_rkey = inv_rkey;
	memcpy(e->buf + slot * SLOT, msg, len);
	return ep_post(e, &wr);
}

static int ep_send(struct ep *e, const void *msg, int len)
{
	return ep_send_inv(e, msg, len, 0, 0);
}

/* Post @len bytes of @msg without waiting for the completion. */
static void ep_send_nowait(struct ep *e, const void *msg, int len)
{
	int slot = NR_RECV + (e->send_next++ % NR_SEND);
	struct ibv_sge sge = {
		.addr = (uintptr_t)(e->buf + slot * SLOT),
		.length = len,
		.lkey = e->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = slot, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_SEND, .send_flags = IBV_SEND_SIGNALED,
	}, *bad;

	memcpy(e->buf + slot * SLOT, msg, len);
	if (!ibv_post_send(e->id->qp, &wr, &bad))
		e->sends_posted++;
}

/*
 * A message the kernel must refuse: it may tear the connection down before
 * its device acknowledged the message (seen with rxe on a slow host), so a
 * flushed or unacknowledged send is as good as a completed one.
 */
static int refused_msg_sent(int st)
{
	if (st > 0)
		say("refused message: send completed with %s",
		    ibv_wc_status_str(st));
	return st == 0 || st == IBV_WC_WR_FLUSH_ERR ||
	       st == IBV_WC_RETRY_EXC_ERR;
}

/* Wait for the peer to disconnect us. */
static int ep_wait_disconnect(struct ep *e, int tmo)
{
	long end = now_ms() + tmo;

	while (!e->disconnected && now_ms() < end) {
		ep_pump(e);
		ep_cm_poll(e);
		usleep(2000);
	}
	return e->disconnected ? 0 : -1;
}

/* Release everything, checking every call. */
static void ep_destroy(struct ep *e)
{
	if (e->id && e->established && !e->disconnected) {
		if (rdma_disconnect(e->id))
			EXPECT(0, "rdma_disconnect: %s", strerror(errno));
		else
			ep_wait_cm(e, RDMA_CM_EVENT_DISCONNECTED, NULL, 10000);
	}
	if (e->qp_created) {
		/* Flushed completions land on the CQ; drain it first. */
		ep_pump(e);
		rdma_destroy_qp(e->id);
	}
	if (e->cq)
		EXPECT(!ibv_destroy_cq(e->cq), "ibv_destroy_cq: %s",
		       strerror(errno));
	if (e->mr)
		EXPECT(!ibv_dereg_mr(e->mr), "ibv_dereg_mr: %s",
		       strerror(errno));
	if (e->pd)
		EXPECT(!ibv_dealloc_pd(e->pd), "ibv_dealloc_pd: %s",
		       strerror(errno));
	if (e->id) {
		ep_cm_poll(e);
		EXPECT(!rdma_destroy_id(e->id), "rdma_destroy_id: %s",
		       strerror(errno));
	}
	if (e->listen_id)
		EXPECT(!rdma_destroy_id(e->listen_id),
		       "rdma_destroy_id(listener): %s", strerror(errno));
	rdma_destroy_event_channel(e->ec);
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

/* Send one Data Transfer message: header fields as given, payload @pl of
 * @plen bytes at @h->offset, @total bytes on the wire (0: offset + plen). */
static int send_data(struct ep *e, struct data_hdr *h, const void *pl,
		     uint32_t plen, uint32_t total)
{
	uint8_t m[SLOT] = {};

	enc_data_hdr(m, h);
	if (plen)
		memcpy(m + h->offset, pl, plen);
	if (!total)
		total = h->offset + plen;
	return ep_send(e, m, total);
}

/* A valid single-fragment PDU. */
static int send_pdu(struct ep *e, const char *s, uint16_t grant)
{
	struct data_hdr h = {
		.credits_requested = 16, .credits_granted = grant,
		.offset = DATA_HDR_LEN, .length = strlen(s),
	};

	return send_data(e, &h, s, strlen(s), 0);
}

static const char *pdus[] = {
	"rogue PDU one", "rogue PDU two!", "rogue PDU three",
};

/* Read kernel data messages until one granted credits (the kernel grants
 * its first credits right after negotiate). */
static void wait_kernel_grant(struct ep *e)
{
	uint8_t m[SLOT];
	struct data_hdr h;
	int len;

	while (!e->credits) {
		len = ep_recv(e, m, TMO_MS);
		if (len < 0)
			die("no credit grant from the kernel");
		if (len < 20)
			die("kernel sent a %d-byte data message", len);
		dec_data_hdr(m, &h);
		e->kmsgs++;
		e->credits += h.credits_granted;
	}
	say("kernel granted %u credits", e->credits);
}

/* ---- the AF_SMBDIRECT side ---- */

struct smbd_result {
	int connect_errno;		/* 0 if connected */
	int pdus_read;			/* prefix PDUs read intact */
	int recv_errno;			/* errno of the failing recv */
	int recv_ret;
	int poll_revents;
	int after_ret;			/* the recv after the error */
	int partial;			/* bytes of a cut PDU before it */
	struct smbdirect_info info;
	int info_errno;
};

static struct smbdirect_info info_of(int fd, int *err)
{
	struct smbdirect_info i;
	socklen_t len = sizeof(i);

	memset(&i, 0, sizeof(i));
	*err = getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &i, &len) ?
	       errno : 0;
	return i;
}

/* The buffers @fd pins (see sdcommon.h); -1 with errno on failure. */
static long long sd_buffer_bytes(int fd)
{
	int err;
	struct smbdirect_info i = info_of(fd, &err);

	errno = err;
	return err ? -1 : (long long)i.buffer_bytes;
}

/* Read one Direct-TCP framed PDU (4-byte BE length + body). */
static int read_pdu(int fd, char *out, int max)
{
	uint8_t h[4];
	int got = 0, n, len;

	while (got < 4) {
		n = recv(fd, h + got, 4 - got, 0);
		if (n <= 0)
			return -1;
		got += n;
	}
	len = h[1] << 16 | h[2] << 8 | h[3];
	if (h[0] || len >= max)
		return -1;
	for (got = 0; got < len; got += n) {
		n = recv(fd, out + got, len - got, 0);
		if (n <= 0)
			return -1;
	}
	out[len] = 0;
	return len;
}

static int write_pdu(int fd, const char *s)
{
	uint8_t b[256];
	int len = strlen(s);

	b[0] = 0;
	b[1] = len >> 16;
	b[2] = len >> 8;
	b[3] = len;
	memcpy(b + 4, s, len);
	return write(fd, b, len + 4) == len + 4 ? 0 : -1;
}

/*
 * A socket the peer is about to violate the protocol on: wait until poll
 * shows the failure, read the @npdu PDUs that came first, then the recv
 * that must fail; then the counters.
 */
static void drain_failed(int fd, int npdu, struct smbd_result *r)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	long end = now_ms() + TMO_MS;
	char buf[4096];
	int i;

	/* Let the failure happen before reading, so the PDUs are read from
	 * an already failed socket. */
	while (now_ms() < end) {
		if (poll(&p, 1, 200) > 0 && (p.revents & (POLLERR | POLLHUP)))
			break;
	}
	r->poll_revents = p.revents;
	for (i = 0; i < npdu; i++) {
		if (read_pdu(fd, buf, sizeof(buf)) < 0 || strcmp(buf, pdus[i]))
			break;
		r->pdus_read++;
	}
	r->recv_ret = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	/* Fragments of a PDU are readable as they arrive: a cut one's
	 * bytes come first, then the error. */
	if (r->recv_ret > 0) {
		r->partial = r->recv_ret;
		r->recv_ret = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	}
	r->recv_errno = r->recv_ret < 0 ? errno : 0;
	r->after_ret = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	r->info = info_of(fd, &r->info_errno);
}

static struct smbd_result cres;
static int c_npdu;		/* PDUs the client expects before the error */
static int c_data;		/* connect is expected to succeed */

static void *client_thread(void *arg)
{
	struct sockaddr_storage dst = addr;
	int fd = socket(AF_SMBDIRECT, SOCK_STREAM, 0);
	struct smbd_result *r = &cres;

	if (fd < 0)
		die("socket(AF_SMBDIRECT): %s", strerror(errno));
	set_port(&dst, port);
	if (connect(fd, (void *)&dst, addrlen))
		r->connect_errno = errno;
	if (r->connect_errno || !c_data) {
		r->info = info_of(fd, &r->info_errno);
	} else {
		drain_failed(fd, c_npdu, r);
	}
	close(fd);
	return NULL;
}

/* ---- server modes: rogue listens, the kernel connects ---- */

static void rogue_accept(struct ep *e, int p)
{
	struct sockaddr_storage a = addr;

	ep_init(e);
	set_port(&a, p);
	if (rdma_create_id(e->ec, &e->listen_id, NULL, RDMA_PS_TCP))
		die("rdma_create_id: %s", strerror(errno));
	if (rdma_bind_addr(e->listen_id, (void *)&a))
		die("rdma_bind_addr: %s", strerror(errno));
	if (rdma_listen(e->listen_id, 4))
		die("rdma_listen: %s", strerror(errno));
}

static void rogue_accept2(struct ep *e)
{
	struct rdma_cm_event ev;
	struct rdma_conn_param cp = {};

	if (ep_wait_cm(e, RDMA_CM_EVENT_CONNECT_REQUEST, &ev, TMO_MS))
		die("no connect request");
	e->id = ev.id;
	ep_setup_qp(e);
	cp.responder_resources = ev.param.conn.initiator_depth;
	cp.initiator_depth = ev.param.conn.responder_resources;
	if (cp.responder_resources > 1)
		cp.responder_resources = 1;
	if (cp.initiator_depth > 1)
		cp.initiator_depth = 1;
	cp.retry_count = 6;
	cp.rnr_retry_count = 6;
	if (rdma_accept(e->id, &cp))
		die("rdma_accept: %s", strerror(errno));
	if (ep_wait_cm(e, RDMA_CM_EVENT_ESTABLISHED, NULL, TMO_MS))
		die("not established");
	e->established = 1;
}

static void good_resp(struct neg_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->min_version = V1;
	r->max_version = V1;
	r->negotiated_version = V1;
	r->credits_requested = 16;
	r->credits_granted = 16;
	r->max_read_write_size = 1048576;
	r->preferred_send_size = K_MAX_RECV;
	r->max_receive_size = K_MAX_RECV;
	r->max_fragmented_size = K_MAX_FRAG;
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "none";
	case EPROTO: return "EPROTO";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EAGAIN: return "EAGAIN";
	default: return strerror(e);
	}
}

static int server_mode(void)
{
	struct ep e;
	struct neg_resp resp;
	struct neg_req req;
	struct data_hdr h;
	uint8_t m[SLOT];
	pthread_t th;
	int len, resp_len = NEG_RESP_LEN, want_errno = EPROTO, viol = 1;
	int npdu = 1, st, i;

	good_resp(&resp);
	if (!strcmp(mode, "neg-version"))
		resp.negotiated_version = 0x0200;
	else if (!strcmp(mode, "neg-short"))
		resp_len = NEG_RESP_LEN - 1;
	else if (!strcmp(mode, "neg-credits0"))
		resp.credits_granted = 0;
	else if (!strcmp(mode, "neg-reqcredits0"))
		resp.credits_requested = 0;
	else if (!strcmp(mode, "neg-maxrecv"))
		resp.max_receive_size = 127;
	else if (!strcmp(mode, "neg-frag"))
		resp.max_fragmented_size = 131071;
	else if (!strcmp(mode, "neg-prefsend"))
		resp.preferred_send_size = K_MAX_RECV + 1;
	else if (!strcmp(mode, "neg-prefsend-small"))
		resp.preferred_send_size = 64, want_errno = 0, viol = 0;
	else if (!strcmp(mode, "neg-status")) {
		memset(&resp, 0, sizeof(resp));
		resp.min_version = V1;
		resp.max_version = V1;
		resp.status = STATUS_NOT_SUPPORTED;
		want_errno = ECONNREFUSED;
		viol = 0;
	} else if (!strncmp(mode, "data-", 5)) {
		c_data = 1;
		want_errno = 0;
		if (!strcmp(mode, "data-nocredit")) {
			/* One credit for the kernel: it spends it on its
			 * first grant to us and cannot grant again.  We ask
			 * for 2; the kernel leaves a peer at least 3. */
			resp.credits_granted = 1;
			resp.credits_requested = 2;
			npdu = 3;
		} else if (!strcmp(mode, "data-credit-overflow")) {
			resp.credits_granted = 65535;
		} else if (!strcmp(mode, "data-oversize-small")) {
			/* The kernel's receive size becomes 128 (the floor),
			 * smaller than the buffers it posted. */
			resp.preferred_send_size = 64;
		}
	} else {
		return -1;
	}
	c_npdu = npdu;

	rogue_accept(&e, port);
	if (pthread_create(&th, NULL, client_thread, NULL))
		die("pthread_create");
	rogue_accept2(&e);

	len = ep_recv(&e, m, TMO_MS);
	if (len < 0)
		die("no negotiate request");
	EXPECT(len == NEG_REQ_LEN, "negotiate request of %d bytes", len);
	dec_neg_req(m, &req);
	say("negotiate request: versions %#x-%#x credits %u send %u recv %u frag %u",
	    req.min_version, req.max_version, req.credits_requested,
	    req.preferred_send_size, req.max_receive_size,
	    req.max_fragmented_size);
	enc_neg_resp(m, &resp);
	st = ep_send(&e, m, resp_len);
	EXPECT(c_data ? st == 0 : refused_msg_sent(st),
	       "negotiate response send: %s",
	       st < 0 ? "timeout" : ibv_wc_status_str(st));

	if (c_data) {
		struct data_hdr g = {
			.credits_requested = 16, .offset = DATA_HDR_LEN,
		};
		uint8_t pl[256];

		memset(pl, 'x', sizeof(pl));
		wait_kernel_grant(&e);
		/* The valid PDU(s) that must stay readable */
		EXPECT(!send_pdu(&e, pdus[0],
				 !strcmp(mode, "data-credit-overflow")),
		       "valid PDU not delivered");
		for (i = 1; i < npdu; i++)
			EXPECT(!send_pdu(&e, pdus[i], 0),
			       "valid PDU %d not delivered", i + 1);
		h = g;
		if (!strcmp(mode, "data-offset")) {
			/* DataOffset + DataLength beyond the message */
			h.length = 100;
			st = send_data(&e, &h, pl, 16, 0);
		} else if (!strcmp(mode, "data-align")) {
			h.offset = 28;	/* not 8-byte aligned */
			h.length = 8;
			st = send_data(&e, &h, pl, 8, 0);
		} else if (!strcmp(mode, "data-short")) {
			h.length = 0;
			h.offset = 0;
			st = send_data(&e, &h, NULL, 0, 16);	/* < 20 bytes */
		} else if (!strcmp(mode, "data-credreq0")) {
			h.credits_requested = 0;
			h.length = 8;
			st = send_data(&e, &h, pl, 8, 0);
		} else if (!strcmp(mode, "data-frag-total")) {
			/* DataLength + RemainingDataLength > MaxFragmentedSize */
			h.length = 100;
			h.remaining = K_MAX_FRAG - 99;
			st = send_data(&e, &h, pl, 100, 0);
		} else if (!strcmp(mode, "data-frag-seq")) {
			/* first of three fragments, then a continuation whose
			 * RemainingDataLength does not count down */
			h.length = 100;
			h.remaining = 200;
			EXPECT(!send_data(&e, &h, pl, 100, 0),
			       "first fragment not delivered");
			st = send_data(&e, &h, pl, 100, 0);
		} else if (!strcmp(mode, "data-nocredit")) {
			EXPECT(e.credits == 3, "kernel granted %u, not 3",
			       e.credits);
			h.length = 8;	/* fourth message on three credits */
			st = send_data(&e, &h, pl, 8, 0);
		} else if (!strcmp(mode, "data-credit-overflow")) {
			/* kernel had 65535, spent 1, we gave 1 back: 65535;
			 * one more is past the 16-bit limit */
			h.credits_granted = 1;
			h.offset = 0;	/* an empty message, well formed */
			st = send_data(&e, &h, NULL, 0, 20);
		} else if (!strcmp(mode, "data-oversize-small")) {
			h.length = 200;	/* 224 bytes > 128 negotiated */
			st = send_data(&e, &h, pl, 200, 0);
		} else if (!strcmp(mode, "data-oversize")) {
			h.length = 2000;	/* 2024 bytes > 1364 */
			st = send_data(&e, &h, pl, 200, 24 + 2000);
		} else if (!strcmp(mode, "data-empty-align")) {
			/* no payload, DataOffset 28: not 8-byte aligned */
			h.length = 0;
			h.offset = 28;
			st = send_data(&e, &h, NULL, 0, 32);
		} else if (!strcmp(mode, "data-empty-offset")) {
			/* no payload, DataOffset past the 24-byte message */
			h.length = 0;
			h.offset = 4000;
			st = send_data(&e, &h, NULL, 0, DATA_HDR_LEN);
		} else if (!strcmp(mode, "data-empty-remaining")) {
			/* no payload, RemainingDataLength past our
			 * MaxFragmentedSize */
			h.length = 0;
			h.offset = 0;
			h.remaining = K_MAX_FRAG + 1;
			st = send_data(&e, &h, NULL, 0, DATA_HDR_LEN);
		} else {
			die("unknown mode");
		}
		say("violating message sent: %s", st < 0 ? "timeout" :
		    ibv_wc_status_str(st));
	}

	EXPECT(!ep_wait_disconnect(&e, TMO_MS) || (!want_errno && !viol &&
						  !c_data),
	       "the kernel did not disconnect");
	pthread_join(th, NULL);
	if (!strcmp(mode, "neg-prefsend-small"))
		ep_wait_disconnect(&e, TMO_MS);	/* the client closed */
	ep_destroy(&e);

	say("connect: %s; recv: ret %d %s, then %d; poll revents %#x; pdus read %d; violations %llu; state %u",
	    errname(cres.connect_errno), cres.recv_ret,
	    errname(cres.recv_errno), cres.after_ret, cres.poll_revents,
	    cres.pdus_read, (unsigned long long)cres.info.violations,
	    cres.info.state);
	EXPECT(cres.info_errno == 0, "SMBDIRECT_INFO: %s",
	       strerror(cres.info_errno));
	if (!c_data) {
		EXPECT(cres.connect_errno == want_errno,
		       "connect: %s, want %s", errname(cres.connect_errno),
		       errname(want_errno));
		EXPECT(cres.info.violations == (unsigned int)viol,
		       "violations %llu, want %d",
		       (unsigned long long)cres.info.violations, viol);
		if (!strcmp(mode, "neg-prefsend-small"))
			EXPECT(cres.info.max_recv_size == 128,
			       "max_recv_size %u, want 128 (floor)",
			       cres.info.max_recv_size);
		return 0;
	}
	EXPECT(cres.connect_errno == 0, "connect: %s",
	       errname(cres.connect_errno));
	EXPECT(cres.poll_revents & POLLERR, "poll did not show POLLERR");
	EXPECT(cres.pdus_read == npdu, "read %d earlier PDUs, want %d",
	       cres.pdus_read, npdu);
	if (!strcmp(mode, "data-oversize")) {
		/* Reported, not asserted as a violation: see violations.sh */
		EXPECT(cres.recv_ret < 0, "recv did not fail");
		say("oversize message: errno %s violations %llu",
		    errname(cres.recv_errno),
		    (unsigned long long)cres.info.violations);
		return 0;
	}
	EXPECT(cres.recv_ret < 0 && cres.recv_errno == EPROTO,
	       "recv: %d %s, want -1 EPROTO", cres.recv_ret,
	       errname(cres.recv_errno));
	if (!strcmp(mode, "data-frag-seq")) {
		/* Cut inside a PDU: its first fragment (header and 100
		 * bytes) was readable, and no clean EOF may follow. */
		EXPECT(cres.partial == 104, "%d bytes of the cut PDU, want 104",
		       cres.partial);
		EXPECT(cres.after_ret < 0, "recv after the error: %d, want "
		       "the error again (the stream was cut inside a PDU)",
		       cres.after_ret);
	} else {
		EXPECT(cres.partial == 0, "%d bytes before the error",
		       cres.partial);
		EXPECT(cres.after_ret == 0, "recv after the error: %d, want EOF",
		       cres.after_ret);
	}
	EXPECT(cres.info.violations == 1, "violations %llu, want 1",
	       (unsigned long long)cres.info.violations);
	return 0;
}

/* ---- client modes: our listener, rogue connects ---- */

static void rogue_connect(struct ep *e, const struct sockaddr_storage *dst)
{
	struct rdma_conn_param cp = {};

	ep_init(e);
	if (rdma_create_id(e->ec, &e->id, NULL, RDMA_PS_TCP))
		die("rdma_create_id: %s", strerror(errno));
	if (rdma_resolve_addr(e->id, NULL, (struct sockaddr *)dst, 5000))
		die("rdma_resolve_addr: %s", strerror(errno));
	if (ep_wait_cm(e, RDMA_CM_EVENT_ADDR_RESOLVED, NULL, TMO_MS))
		die("address not resolved");
	if (rdma_resolve_route(e->id, 5000))
		die("rdma_resolve_route: %s", strerror(errno));
	if (ep_wait_cm(e, RDMA_CM_EVENT_ROUTE_RESOLVED, NULL, TMO_MS))
		die("route not resolved");
	ep_setup_qp(e);
	cp.responder_resources = 1;
	cp.initiator_depth = 1;
	cp.retry_count = 6;
	cp.rnr_retry_count = 6;
	if (rdma_connect(e->id, &cp))
		die("rdma_connect: %s", strerror(errno));
	if (ep_wait_cm(e, RDMA_CM_EVENT_ESTABLISHED, NULL, TMO_MS))
		die("not established");
	e->established = 1;
}

static int smbd_listener_n(struct sockaddr_storage *la, int backlog)
{
	socklen_t len = sizeof(*la);
	int fd = socket(AF_SMBDIRECT, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket(AF_SMBDIRECT): %s", strerror(errno));
	*la = addr;
	set_port(la, 0);
	if (bind(fd, (void *)la, addrlen) || listen(fd, backlog) ||
	    getsockname(fd, (void *)la, &len))
		die("listener: %s", strerror(errno));
	return fd;
}

static int smbd_listener(struct sockaddr_storage *la)
{
	return smbd_listener_n(la, 2);
}

/* The listener still works: a good AF_SMBDIRECT connection, one PDU each
 * way. */
static void listener_healthy(int l, const struct sockaddr_storage *la)
{
	struct timeval tv = { .tv_sec = 60 };
	char buf[256];
	int c, s, err = 0, i;
	socklen_t el = sizeof(err);

	EXPECT(!getsockopt(l, SOL_SOCKET, SO_ERROR, &err, &el) && !err,
	       "listener SO_ERROR %s", errname(err));
	/* The failed child's teardown runs asynchronously and holds its
	 * backlog slot until then: allow it a moment. */
	for (i = 0; i < 10; i++) {
		c = socket(AF_SMBDIRECT, SOCK_STREAM, 0);
		if (c < 0)
			die("socket: %s", strerror(errno));
		if (!connect(c, (void *)la, addrlen))
			break;
		err = errno;
		close(c);
		c = -1;
		if (err != ECONNREFUSED)
			break;
		sleep(1);
	}
	if (c < 0) {
		EXPECT(0, "good connection refused: %s", errname(err));
		return;
	}
	if (i)
		say("good connection needed %d retries", i);
	s = accept_within(l, 60000);
	if (s < 0) {
		EXPECT(0, "good connection not accepted: %s", errname(errno));
		close(c);
		return;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	EXPECT(!write_pdu(c, "hello after the rogue"), "client write");
	EXPECT(read_pdu(s, buf, sizeof(buf)) > 0 &&
	       !strcmp(buf, "hello after the rogue"), "server read");
	EXPECT(!write_pdu(s, "and back"), "server write");
	EXPECT(read_pdu(c, buf, sizeof(buf)) > 0 && !strcmp(buf, "and back"),
	       "client read");
	say("listener healthy: a good connection works");
	close(s);
	close(c);
}

static int client_mode(void)
{
	struct sockaddr_storage la;
	struct smbd_result r = {};
	struct neg_req req = {
		.min_version = V1, .max_version = V1, .credits_requested = 16,
		.preferred_send_size = K_MAX_RECV,
		.max_receive_size = K_MAX_RECV,
		.max_fragmented_size = K_MAX_FRAG,
	};
	struct neg_resp resp;
	struct data_hdr h = {
		.credits_requested = 16, .offset = DATA_HDR_LEN,
	};
	uint8_t m[SLOT], pl[256];
	int l, s, len, st, req_len = NEG_REQ_LEN, data = 0, npdu = 1;
	struct smbdirect_info li;
	int err, want, i;
	struct ep e;

	memset(pl, 'y', sizeof(pl));
	if (!strcmp(mode, "req-version"))
		req.min_version = req.max_version = 0x0200;
	else if (!strcmp(mode, "req-credits0"))
		req.credits_requested = 0;
	else if (!strcmp(mode, "req-maxrecv"))
		req.max_receive_size = 127;
	else if (!strcmp(mode, "req-frag"))
		req.max_fragmented_size = 131071;
	else if (!strcmp(mode, "req-short"))
		req_len = NEG_REQ_LEN - 1;
	else if (!strcmp(mode, "req-data-offset"))
		data = 1;
	else if (!strcmp(mode, "req-nocredit"))
		data = 1, npdu = 2, req.credits_requested = 2;
	else
		return -1;

	l = smbd_listener(&la);
	rogue_connect(&e, &la);
	enc_neg_req(m, &req);
	st = ep_send(&e, m, req_len);
	EXPECT(data ? st == 0 : refused_msg_sent(st),
	       "negotiate request send: %s", st < 0 ? "timeout" :
	       ibv_wc_status_str(st));
	len = ep_recv(&e, m, TMO_MS);
	if (len >= NEG_RESP_LEN) {
		dec_neg_resp(m, &resp);
		say("negotiate response: %d bytes, status %#x, version %#x, credits granted %u requested %u",
		    len, resp.status, resp.negotiated_version,
		    resp.credits_granted, resp.credits_requested);
	} else {
		say("no negotiate response (%d)", len);
	}

	if (!strcmp(mode, "req-version")) {
		/* [MS-SMBD] 3.1.5.6: a failure response, not a violation */
		EXPECT(len >= NEG_RESP_LEN && resp.status ==
		       STATUS_NOT_SUPPORTED, "no STATUS_NOT_SUPPORTED response");
	} else if (!data) {
		/* 3.1.5.6: terminate the connection, no response */
		EXPECT(len < 0, "the listener answered a bad request");
	} else {
		if (len < NEG_RESP_LEN || resp.status || !resp.credits_granted)
			die("negotiate failed");
		EXPECT(resp.credits_granted == req.credits_requested,
		       "granted %u, asked %u", resp.credits_granted,
		       req.credits_requested);
		EXPECT(!send_pdu(&e, pdus[0], data && npdu == 1 ? 16 : 0),
		       "valid PDU not delivered");
		for (i = 1; i < npdu; i++)
			EXPECT(!send_pdu(&e, pdus[i], 0),
			       "valid PDU %d not delivered", i + 1);
		if (!strcmp(mode, "req-data-offset")) {
			h.length = 100;
			st = send_data(&e, &h, pl, 16, 0);
		} else {
			/* a third message on two credits */
			h.length = 8;
			st = send_data(&e, &h, pl, 8, 0);
		}
		say("violating message sent: %s", st < 0 ? "timeout" :
		    ibv_wc_status_str(st));
	}
	EXPECT(!ep_wait_disconnect(&e, TMO_MS), "the kernel did not disconnect");
	ep_destroy(&e);

	if (data) {
		s = accept_within(l, TMO_MS);
		if (s < 0) {
			EXPECT(0, "negotiated connection not accepted: %s",
			       errname(errno));
		} else {
			drain_failed(s, npdu, &r);
			close(s);
			say("accepted socket: recv ret %d %s, then %d; poll revents %#x; pdus read %d; violations %llu",
			    r.recv_ret, errname(r.recv_errno), r.after_ret,
			    r.poll_revents, r.pdus_read,
			    (unsigned long long)r.info.violations);
			EXPECT(r.info_errno == 0, "SMBDIRECT_INFO: %s",
			       strerror(r.info_errno));
			EXPECT(r.poll_revents & POLLERR,
			       "poll did not show POLLERR");
			EXPECT(r.pdus_read == npdu, "read %d PDUs, want %d",
			       r.pdus_read, npdu);
			EXPECT(r.recv_ret < 0 && r.recv_errno == EPROTO,
			       "recv: %d %s, want -1 EPROTO", r.recv_ret,
			       errname(r.recv_errno));
			EXPECT(r.partial == 0, "%d bytes before the error",
			       r.partial);
			EXPECT(r.after_ret == 0, "recv after the error: %d",
			       r.after_ret);
			EXPECT(r.info.violations == 1, "violations %llu, want 1",
			       (unsigned long long)r.info.violations);
		}
	} else {
		/* The rejected connection must never be handed out. */
		s = accept_within(l, 0);
		EXPECT(s < 0 && errno == EAGAIN,
		       "accept returned the bad connection (%d, %s)", s,
		       errname(errno));
		if (s >= 0)
			close(s);
	}
	listener_healthy(l, &la);
	/* A bad request is counted on the listener: its child is gone. */
	li = info_of(l, &err);
	say("listener: violations %llu", (unsigned long long)li.violations);
	EXPECT(!err, "listener SMBDIRECT_INFO: %s", strerror(err));
	want = !data && strcmp(mode, "req-version") ? 1 : 0;
	EXPECT(li.violations == (__u64)want,
	       "listener violations %llu, want %d",
	       (unsigned long long)li.violations, want);
	close(l);
	return 0;
}

/* ---- data-flags: the flags of the kernel's data messages ---- */

/*
 * [MS-SMBD] 3.1.5.1: Flags is 0 unless the sender asks for a keepalive
 * answer.  The kernel (client) writes FLAG_PDUS PDUs holding three
 * credits at a time: we grant three more only once it has spent them
 * all, so data messages spending the last credit are sent too.  None
 * may carry RESPONSE_REQUESTED.
 */
#define FLAG_PDUS	12

static void *flags_client_thread(void *arg)
{
	struct sockaddr_storage dst = addr;
	int fd = socket(AF_SMBDIRECT, SOCK_STREAM, 0), i;
	struct smbd_result *r = &cres;
	char b[64];

	if (fd < 0)
		die("socket(AF_SMBDIRECT): %s", strerror(errno));
	set_port(&dst, port);
	if (connect(fd, (void *)&dst, addrlen)) {
		r->connect_errno = errno;
		close(fd);
		return NULL;
	}
	for (i = 0; i < FLAG_PDUS; i++) {
		snprintf(b, sizeof(b), "flags PDU %d", i);
		if (write_pdu(fd, b)) {
			r->recv_errno = errno;
			break;
		}
	}
	r->pdus_read = i;
	/* Until rogue disconnects. */
	r->recv_ret = recv(fd, b, sizeof(b), 0);
	close(fd);
	return NULL;
}

static int flags_mode(void)
{
	struct neg_resp resp;
	struct data_hdr h;
	uint8_t m[SLOT];
	char want[64];
	pthread_t th;
	int len, st, kcredits = 3, got = 0, rr = 0, empties = 0, grants = 0;
	long last = now_ms(), end = now_ms() + 4 * TMO_MS;
	struct ep e;

	good_resp(&resp);
	resp.credits_granted = 3;
	rogue_accept(&e, port);
	if (pthread_create(&th, NULL, flags_client_thread, NULL))
		die("pthread_create");
	rogue_accept2(&e);
	len = ep_recv(&e, m, TMO_MS);
	if (len < NEG_REQ_LEN)
		die("no negotiate request");
	enc_neg_resp(m, &resp);
	if (ep_send(&e, m, NEG_RESP_LEN))
		die("negotiate response not sent");

	while (got < FLAG_PDUS && now_ms() < end) {
		len = ep_recv(&e, m, 1000);
		if (len < 0) {
			if (e.disconnected)
				break;
			/* Stalled with credits left: grant anyway. */
			if (now_ms() - last < 1000 || !e.credits)
				continue;
			kcredits = 0;
		} else {
			last = now_ms();
			EXPECT(len >= 20, "a %d-byte message", len);
			dec_data_hdr(m, &h);
			e.credits += h.credits_granted;
			kcredits--;
			if (!h.length) {
				empties++;
			} else {
				snprintf(want, sizeof(want), "flags PDU %d",
					 got);
				if (h.flags & FLAG_RESPONSE_REQUESTED) {
					rr++;
					say("data message %d (%u credits left "
					    "to the kernel) has Flags %#x",
					    got, kcredits, h.flags);
				}
				EXPECT(h.offset == DATA_HDR_LEN &&
				       h.length == strlen(want) &&
				       h.remaining == 0 && (int)h.offset +
				       (int)h.length <= len &&
				       !memcmp(m + h.offset, want, h.length),
				       "data message %d is not \"%s\"", got,
				       want);
				got++;
			}
		}
		if (kcredits <= 0 && got < FLAG_PDUS) {
			struct data_hdr g = {
				.credits_requested = 16, .credits_granted = 3,
			};

			if (!e.credits)
				die("the kernel left us without credits");
			st = send_data(&e, &g, NULL, 0, DATA_HDR_LEN);
			EXPECT(!st, "grant not delivered");
			e.credits--;
			kcredits += 3;
			grants++;
		}
	}
	say("%d data messages, %d empty, %d grants from us; %d data "
	    "messages with RESPONSE_REQUESTED", got, empties, grants, rr);
	EXPECT(got == FLAG_PDUS, "received %d of %d PDUs", got, FLAG_PDUS);
	EXPECT(grants >= 2, "the kernel never ran out of credits");
	EXPECT(rr == 0, "%d data messages set RESPONSE_REQUESTED (only "
	       "keepalives may)", rr);
	ep_destroy(&e);
	pthread_join(th, NULL);
	EXPECT(cres.connect_errno == 0, "connect: %s",
	       errname(cres.connect_errno));
	EXPECT(cres.pdus_read == FLAG_PDUS, "the client wrote %d PDUs: %s",
	       cres.pdus_read, errname(cres.recv_errno));
	return 0;
}

/* ---- silent: peers that connect and never negotiate ---- */

#define SILENT_N	8

/*
 * A peer that connects and never sends its negotiate request costs a
 * listener only a few hundred bytes (buffer_bytes on a listener: the sum
 * of its pending children), and such children are never accepted.
 */
static int silent_mode(void)
{
	static struct ep e[SILENT_N];
	struct sockaddr_storage la;
	long long bb, bb0;
	int l, i, s;

	l = smbd_listener_n(&la, SILENT_N + 2);
	bb0 = sd_buffer_bytes(l);
	for (i = 0; i < SILENT_N; i++)
		rogue_connect(&e[i], &la);
	sleep(1);
	bb = sd_buffer_bytes(l);
	if (bb < 0) {
		EXPECT(0, "listener SMBDIRECT_INFO: no buffer_bytes (%s)",
		       strerror(errno));
	} else {
		say("%d silent peers: listener buffer_bytes %lld (%lld each); "
		    "%lld before", SILENT_N, bb, bb / SILENT_N, bb0);
		EXPECT(bb0 == 0, "idle listener pins %lld bytes", bb0);
		/* The negotiate buffers only: one page-sized pool chunk. */
		EXPECT(bb > 0 && bb <= SILENT_N * 4096LL, "%d silent peers pin "
		       "%lld bytes; want a page at most each", SILENT_N, bb);
	}
	s = accept_within(l, 0);
	EXPECT(s < 0 && errno == EAGAIN, "a silent peer was accepted");
	if (s >= 0)
		close(s);
	for (i = 0; i < SILENT_N; i++)
		ep_destroy(&e[i]);
	for (i = 0; i < 100; i++) {
		bb = sd_buffer_bytes(l);
		if (bb <= 0)
			break;
		usleep(100000);
	}
	EXPECT(bb == 0, "listener still pins %lld bytes 10 s after "
	       "the silent peers left (-1: SMBDIRECT_INFO failed)", bb);
	listener_healthy(l, &la);
	close(l);
	return 0;
}

/* ---- lclose: listener closed while its children fail on their own ---- */

/* In connect order: */
#define LCLOSE_EARLY	2	/* send a bad request as soon as connected */
#define LCLOSE_BAD	4	/* send one while the listener closes */
#define LCLOSE_SILENT	4	/* time out (listener's connect_timeout 1 s) */
#define LCLOSE_ROUNDS	3

struct closer {
	int l;
	long t;
};

static void *closer_thread(void *arg)
{
	struct closer *c = arg;

	close(c->l);
	c->t = now_ms();
	return NULL;
}

static int lclose_mode(void)
{
	static struct ep e[LCLOSE_SILENT + LCLOSE_BAD + LCLOSE_EARLY];
	struct neg_req bad = {
		.min_version = V1, .max_version = V1, .credits_requested = 0,
		.preferred_send_size = K_MAX_RECV,
		.max_receive_size = K_MAX_RECV,
		.max_fragmented_size = K_MAX_FRAG,
	};
	struct sockaddr_storage la;
	struct closer cl;
	uint32_t one = 1;
	uint8_t m[SLOT];
	pthread_t th;
	int r, i, n = LCLOSE_SILENT + LCLOSE_BAD + LCLOSE_EARLY, l;
	long t0, t1, tc;

	srand(getpid());
	for (r = 0; r < LCLOSE_ROUNDS; r++) {
		l = smbd_listener_n(&la, n + 2);
		if (setsockopt(l, SOL_SMBDIRECT, SMBDIRECT_CONNECT_TIMEOUT,
			       &one, sizeof(one)))
			die("SMBDIRECT_CONNECT_TIMEOUT: %s", strerror(errno));
		t0 = now_ms();
		enc_neg_req(m, &bad);
		for (i = 0; i < n; i++) {
			rogue_connect(&e[i], &la);
			/* While the listener may still be in its handler. */
			if (i < LCLOSE_EARLY)
				ep_send_nowait(&e[i], m, NEG_REQ_LEN);
		}
		tc = now_ms();
		/* Around the last silent children's negotiate timeout. */
		usleep((300 + rand() % 700) * 1000);
		cl.l = l;
		if (pthread_create(&th, NULL, closer_thread, &cl))
			die("pthread_create");
		/* Spread over the close: children failing while it walks
		 * them (a slow walk too). */
		usleep(rand() % 3000);
		for (i = LCLOSE_EARLY; i < LCLOSE_EARLY + LCLOSE_BAD; i++) {
			ep_send_nowait(&e[i], m, NEG_REQ_LEN);
			usleep(rand() % 250000);
		}
		pthread_join(th, NULL);
		t1 = now_ms();
		for (i = 0; i < n; i++) {
			EXPECT(!ep_wait_disconnect(&e[i], TMO_MS),
			       "round %d: connection %d never dropped", r, i);
			ep_destroy(&e[i]);
		}
		say("round %d: listener closed %ld ms after the first connect "
		    "(connected in %ld ms); all dropped %ld ms later", r,
		    cl.t - t0, tc - t0, now_ms() - t1);
	}
	/* The port works again for a good listener. */
	l = smbd_listener(&la);
	listener_healthy(l, &la);
	close(l);
	return 0;
}

/* ---- RDMA offload abuse ---- */

/*
 * rdma-inval-foreign   the kernel holds two connections to rogue; on
 *                      the second it registers a buffer and sends its
 *                      descriptors; on the first rogue sends a valid PDU,
 *                      then one with Send-with-Invalidate naming the
 *                      second connection's token: the first fails with
 *                      EPROTO, violations == 1; the second still works
 *                      and its registration deregisters
 * rdma-inval-stale     the kernel registers, sends the descriptors and
 *                      deregisters; rogue Send-with-Invalidates that token
 * rdma-inval-bogus     rogue Send-with-Invalidates a token that exists
 *                      nowhere (the device refuses the invalidation: the
 *                      kernel's receive completes with "remote invalid
 *                      request", on rxe and siw)
 *                      (all three: EPROTO, violations == 1)
 * rdma-write-stale     the kernel registers buffer 1, sends its
 *                      descriptors, deregisters it, registers buffer 2 and
 *                      sends those; rogue RDMA-writes to buffer 1's stale
 *                      token: rogue's write fails, neither buffer changes,
 *                      the kernel's socket fails (an error, within 60 s);
 *                      on iWARP the write completes and the connection
 *                      ends (EOF or an error)
 * req-rdma-stall       (rogue connects) rogue sends the descriptor of an
 *                      8 MiB buffer of its own; as the AF_SMBDIRECT server
 *                      RDMA-reads it, rogue's QP goes to the error state
 *                      and answers nothing more: the read fails within
 *                      60 s, the socket fails, no violation
 */

#define KREG_LEN	65536
#define STALL_LEN	(8 << 20)

/* A registration the AF_SMBDIRECT side made, as the rogue learns it. */
struct kreg {
	uint64_t handle;
	uint32_t nr;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
	uint8_t *buf;			/* KREG_LEN and a guard page */
};

static int kreg_add(int fd, struct kreg *r, uint8_t fillb)
{
	struct smbdirect_register q = {
		.len = KREG_LEN, .access = SMBDIRECT_ACCESS_REMOTE_WRITE,
		.max_descs = SMBDIRECT_MAX_DESCS,
	};
	socklen_t l = sizeof(q);

	r->buf = aligned_alloc(4096, KREG_LEN + 4096);
	if (!r->buf)
		die("out of memory");
	memset(r->buf, fillb, KREG_LEN + 4096);
	q.addr = (uintptr_t)r->buf;
	q.descs = (uintptr_t)r->d;
	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_REGISTER, &q, &l))
		return -errno;
	r->handle = q.handle;
	r->nr = q.nr_descs;
	return 0;
}

static int kreg_del(int fd, const struct kreg *r)
{
	return setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &r->handle,
			  sizeof(r->handle)) ? -errno : 0;
}

/* Offset of the first byte of @r's buffer (and guard) not @b, or -1. */
static long kreg_changed(const struct kreg *r, uint8_t b)
{
	long i;

	for (i = 0; i < KREG_LEN + 4096; i++)
		if (r->buf[i] != b)
			return i;
	return -1;
}

/* A PDU "DESC" + count + descriptors (host order), Direct-TCP framed. */
static int write_descs(int fd, uint32_t nr,
		       const struct smbdirect_buffer_desc *d)
{
	uint8_t b[4 + 8 + sizeof(struct smbdirect_buffer_desc) *
		  SMBDIRECT_MAX_DESCS];
	int len = 8 + nr * sizeof(*d);

	b[0] = 0;
	b[1] = len >> 16;
	b[2] = len >> 8;
	b[3] = len;
	memcpy(b + 4, "DESC", 4);
	memcpy(b + 8, &nr, 4);
	memcpy(b + 12, d, nr * sizeof(*d));
	return write(fd, b, len + 4) == len + 4 ? 0 : -1;
}

static void parse_descs(const uint8_t *p, int len, uint32_t *nr,
			struct smbdirect_buffer_desc *d)
{
	if (len < 8 || memcmp(p, "DESC", 4))
		die("expected a descriptor PDU, got %d bytes", len);
	memcpy(nr, p + 4, 4);
	if (!*nr || *nr > SMBDIRECT_MAX_DESCS || len != 8 + (int)(*nr * sizeof(*d)))
		die("descriptor PDU of %d bytes with %u descriptors", len, *nr);
	memcpy(d, p + 8, *nr * sizeof(*d));
}

/* The kernel's next PDU (one message), its credit grants counted. */
static int recv_kernel_pdu(struct ep *e, uint8_t *out, int max)
{
	uint8_t m[SLOT];
	struct data_hdr h;
	int len;

	for (;;) {
		len = ep_recv(e, m, TMO_MS);
		if (len < 0)
			die("no PDU from the kernel");
		if (len < 20)
			die("kernel sent a %d-byte data message", len);
		dec_data_hdr(m, &h);
		e->kmsgs++;
		e->credits += h.credits_granted;
		if (!h.length)
			continue;
		if (h.remaining || h.offset + h.length > (uint32_t)len ||
		    h.length > (uint32_t)max)
			die("unexpected kernel message: %u+%u of %d, %u remaining",
			    h.offset, h.length, len, h.remaining);
		memcpy(out, m + h.offset, h.length);
		return h.length;
	}
}

/* Answer the kernel's negotiate request with a good response. */
static void rogue_negotiate_server(struct ep *e)
{
	struct neg_resp resp;
	uint8_t m[SLOT];
	int len;

	len = ep_recv(e, m, TMO_MS);
	if (len != NEG_REQ_LEN)
		die("negotiate request of %d bytes", len);
	good_resp(&resp);
	enc_neg_resp(m, &resp);
	if (ep_send(e, m, NEG_RESP_LEN))
		die("negotiate response not sent");
}

/* A valid data message carrying @s, Send-with-Invalidate of @rkey. */
static int send_pdu_inv(struct ep *e, const char *s, uint32_t rkey)
{
	struct data_hdr h = {
		.credits_requested = 16, .offset = DATA_HDR_LEN,
		.length = strlen(s),
	};
	uint8_t m[SLOT] = {};

	enc_data_hdr(m, &h);
	memcpy(m + DATA_HDR_LEN, s, h.length);
	return ep_send_inv(e, m, DATA_HDR_LEN + h.length, 1, rkey);
}

/* RDMA WRITE @len bytes of @b into the peer's (@raddr, @rkey). */
static int ep_rdma_write(struct ep *e, uint8_t b, uint32_t len,
			 uint64_t raddr, uint32_t rkey)
{
	uint8_t *src = e->buf + NR_RECV * SLOT;
	struct ibv_sge sge = {
		.addr = (uintptr_t)src, .length = len, .lkey = e->mr->lkey,
	};
	struct ibv_send_wr wr = {
		.wr_id = 0xbad, .sg_list = &sge, .num_sge = 1,
		.opcode = IBV_WR_RDMA_WRITE,
	};

	if (len > NR_SEND * SLOT)
		die("RDMA write too long");
	memset(src, b, len);
	wr.wr.rdma.remote_addr = raddr;
	wr.wr.rdma.rkey = rkey;
	return ep_post(e, &wr);
}

/* What the AF_SMBDIRECT side saw, for the rogue to check. */
static struct {
	struct smbd_result a;		/* the connection rogue attacks */
	int reg_err, dereg_err, dereg2_err;
	long changed1, changed2;	/* first changed byte, or -1 */
	int b_pdu_ok, b_dereg_err;	/* rdma-inval-foreign: connection 2 */
	struct smbdirect_info b_info;
	long fail_ms;			/* rdma-write-stale: time to fail */
	int so_error;
} kside;

/* recv() with a deadline: bytes, 0 at EOF, or -1 with errno. */
static int recv_within(int fd, void *b, int n, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return recv(fd, b, n, MSG_DONTWAIT);
}

static void *rdma_kernel_thread(void *arg)
{
	struct sockaddr_storage dst = addr;
	struct kreg r1 = {}, r2 = {};
	int fa, fb = -1, foreign = !strcmp(mode, "rdma-inval-foreign");
	char buf[256];

	fa = socket(AF_SMBDIRECT, SOCK_STREAM, 0);
	if (fa < 0)
		die("socket(AF_SMBDIRECT): %s", strerror(errno));
	set_port(&dst, port);
	if (connect(fa, (void *)&dst, addrlen))
		die("connect: %s", strerror(errno));
	if (foreign) {
		fb = socket(AF_SMBDIRECT, SOCK_STREAM, 0);
		set_port(&dst, port + 1);
		if (fb < 0 || connect(fb, (void *)&dst, addrlen))
			die("second connection: %s", strerror(errno));
	}
	kside.reg_err = kreg_add(foreign ? fb : fa, &r1, 0x11);
	if (kside.reg_err || write_descs(foreign ? fb : fa, r1.nr, r1.d))
		die("registration: %s", strerror(-kside.reg_err));
	if (!strcmp(mode, "rdma-inval-stale") ||
	    !strcmp(mode, "rdma-write-stale")) {
		kside.dereg_err = kreg_del(fa, &r1);
		if (!strcmp(mode, "rdma-write-stale")) {
			/* A fresh registration, likely on the same MR. */
			if (kreg_add(fa, &r2, 0x22) ||
			    write_descs(fa, r2.nr, r2.d))
				die("second registration failed");
		} else if (write_pdu(fa, "deregistered")) {
			die("write: %s", strerror(errno));
		}
	}
	if (!strcmp(mode, "rdma-write-stale")) {
		long t0 = now_ms();
		socklen_t el = sizeof(kside.so_error);

		kside.a.recv_ret = recv_within(fa, buf, sizeof(buf), TMO_MS);
		kside.a.recv_errno = kside.a.recv_ret < 0 ? errno : 0;
		kside.fail_ms = now_ms() - t0;
		getsockopt(fa, SOL_SOCKET, SO_ERROR, &kside.so_error, &el);
		kside.a.info = info_of(fa, &kside.a.info_errno);
		kside.changed1 = kreg_changed(&r1, 0x11);
		kside.changed2 = kreg_changed(&r2, 0x22);
		kside.dereg2_err = kreg_del(fa, &r2);
	} else {
		drain_failed(fa, 1, &kside.a);
		kside.changed1 = kreg_changed(&r1, 0x11);
	}
	if (foreign) {
		kside.b_pdu_ok = read_pdu(fb, buf, sizeof(buf)) > 0 &&
				 !strcmp(buf, "still here");
		kside.b_info = info_of(fb, &kside.a.info_errno);
		kside.b_dereg_err = kreg_del(fb, &r1);
		close(fb);
	} else if (strcmp(mode, "rdma-inval-stale") &&
		   strcmp(mode, "rdma-write-stale")) {
		kside.dereg_err = kreg_del(fa, &r1);
	}
	close(fa);
	free(r1.buf);
	free(r2.buf);
	return NULL;
}

static int rdma_server_mode(void)
{
	int foreign = !strcmp(mode, "rdma-inval-foreign");
	int write_stale = !strcmp(mode, "rdma-write-stale");
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS], d2[SMBDIRECT_MAX_DESCS];
	uint8_t m[SLOT];
	struct ep ea, eb;
	uint32_t nr, nr2, token;
	pthread_t th;
	int st, len, iwarp = 0;

	if (!foreign && !write_stale && strcmp(mode, "rdma-inval-stale") &&
	    strcmp(mode, "rdma-inval-bogus"))
		return -1;
	rogue_accept(&ea, port);
	if (foreign)
		rogue_accept(&eb, port + 1);
	if (pthread_create(&th, NULL, rdma_kernel_thread, NULL))
		die("pthread_create");
	rogue_accept2(&ea);
	rogue_negotiate_server(&ea);
	if (foreign) {
		rogue_accept2(&eb);
		rogue_negotiate_server(&eb);
	}
	/* Credits come with the kernel's first message; a PDU may carry them. */
	if (foreign)
		wait_kernel_grant(&ea);
	len = recv_kernel_pdu(foreign ? &eb : &ea, m, sizeof(m));
	parse_descs(m, len, &nr, d);
	token = d[0].token;
	say("kernel registered %u descriptor(s), first token %#x, offset %#llx, length %u",
	    nr, token, (unsigned long long)d[0].offset, d[0].length);

	if (write_stale) {
		len = recv_kernel_pdu(&ea, m, sizeof(m));
		parse_descs(m, len, &nr2, d2);
		say("after deregistering, the kernel registered token %#x", d2[0].token);
		iwarp = ea.id->verbs->device->transport_type ==
			IBV_TRANSPORT_IWARP;
		st = ep_rdma_write(&ea, 0x77, d[0].length, d[0].offset, token);
		say("RDMA write to the stale token: %s", st < 0 ? "timeout" :
		    ibv_wc_status_str(st));
		/*
		 * On iWARP a write completes once sent; the responder's
		 * verdict comes back as a TERMINATE that ends the
		 * connection, not as this completion's status.
		 */
		EXPECT(st == IBV_WC_REM_ACCESS_ERR || (iwarp && !st),
		       "RDMA write to a stale token: %s, want remote access error",
		       st < 0 ? "timeout" : ibv_wc_status_str(st));
	} else {
		if (!strcmp(mode, "rdma-inval-stale")) {
			len = recv_kernel_pdu(&ea, m, sizeof(m));
			EXPECT(len == 12 && !memcmp(m, "deregistered", 12),
			       "no notice of the deregistration");
		} else if (!strcmp(mode, "rdma-inval-bogus")) {
			token = 0xdead0042;	/* an index no device uses */
		}
		EXPECT(!send_pdu(&ea, pdus[0], 0), "valid PDU not delivered");
		st = send_pdu_inv(&ea, pdus[1], token);
		say("Send-with-Invalidate of token %#x: %s", token,
		    st < 0 ? "timeout" : ibv_wc_status_str(st));
		if (foreign)
			EXPECT(!send_pdu(&eb, "still here", 0),
			       "PDU on the second connection not delivered");
	}
	EXPECT(!ep_wait_disconnect(&ea, TMO_MS), "the kernel did not disconnect");
	pthread_join(th, NULL);
	if (foreign) {
		ep_wait_disconnect(&eb, TMO_MS);
		ep_destroy(&eb);
	}
	ep_destroy(&ea);

	say("recv: ret %d %s, then %d; poll revents %#x; pdus read %d; violations %llu; remote invalidations %llu; dereg %d",
	    kside.a.recv_ret, errname(kside.a.recv_errno), kside.a.after_ret,
	    kside.a.poll_revents, kside.a.pdus_read,
	    (unsigned long long)kside.a.info.violations,
	    (unsigned long long)kside.a.info.remote_invalidations,
	    kside.dereg_err);
	EXPECT(kside.changed1 < 0, "registered buffer changed at byte %ld",
	       kside.changed1);
	if (write_stale) {
		say("failed after %ld ms: SO_ERROR %s; new registration deregisters: %d",
		    kside.fail_ms, errname(kside.so_error), kside.dereg2_err);
		EXPECT(kside.changed2 < 0, "the new registration changed at byte %ld",
		       kside.changed2);
		EXPECT(!kside.dereg_err, "deregister: %s",
		       strerror(-kside.dereg_err));
		/*
		 * iWARP: the device's TERMINATE and TCP close reach our
		 * side as the peer's disconnect, with no status saying
		 * why: EOF is all it can report (Documentation/uapi.rst).
		 */
		EXPECT((kside.a.recv_ret < 0 && kside.a.recv_errno != ETIMEDOUT) ||
		       (iwarp && !kside.a.recv_ret),
		       "the connection did not fail: recv %d %s after %ld ms",
		       kside.a.recv_ret, errname(kside.a.recv_errno),
		       kside.fail_ms);
		EXPECT(!kside.dereg2_err || kside.dereg2_err == -ENOENT,
		       "deregister after the failure: %s",
		       strerror(-kside.dereg2_err));
		return 0;
	}
	EXPECT(kside.a.poll_revents & POLLERR, "poll did not show POLLERR");
	EXPECT(kside.a.pdus_read == 1, "read %d earlier PDUs, want 1",
	       kside.a.pdus_read);
	EXPECT(kside.a.recv_ret < 0 && kside.a.recv_errno == EPROTO,
	       "recv: %d %s, want -1 EPROTO", kside.a.recv_ret,
	       errname(kside.a.recv_errno));
	EXPECT(kside.a.info.violations == 1, "violations %llu, want 1",
	       (unsigned long long)kside.a.info.violations);
	EXPECT(kside.a.info.remote_invalidations == 0,
	       "remote invalidations %llu, want 0",
	       (unsigned long long)kside.a.info.remote_invalidations);
	if (foreign) {
		say("second connection: PDU after the attack %s, violations %llu, deregister %d",
		    kside.b_pdu_ok ? "read" : "lost",
		    (unsigned long long)kside.b_info.violations,
		    kside.b_dereg_err);
		EXPECT(kside.b_pdu_ok, "second connection broken");
		EXPECT(kside.b_info.violations == 0 &&
		       kside.b_info.remote_invalidations == 0,
		       "second connection: violations %llu, remote invalidations %llu",
		       (unsigned long long)kside.b_info.violations,
		       (unsigned long long)kside.b_info.remote_invalidations);
		EXPECT(!kside.b_dereg_err, "second connection: deregister: %s",
		       strerror(-kside.b_dereg_err));
	} else if (!strcmp(mode, "rdma-inval-stale")) {
		EXPECT(!kside.dereg_err, "deregister: %s",
		       strerror(-kside.dereg_err));
	} else {
		EXPECT(!kside.dereg_err || kside.dereg_err == -ENOENT,
		       "deregister after the failure: %s",
		       strerror(-kside.dereg_err));
	}
	return 0;
}

/* req-rdma-stall: the AF_SMBDIRECT server's side, in a thread. */
static struct {
	int l, s;
	volatile int reading;
	int rd_ret, rd_errno, recv_ret, recv_errno;
	long rd_ms;
	uint64_t done;
	struct smbdirect_info info;
	int info_errno;
} sside;

static void *stall_server_thread(void *arg)
{
	uint8_t *buf = aligned_alloc(4096, STALL_LEN);
	struct smbdirect_rdma r = { .len = STALL_LEN };
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
	char pdu[512];
	socklen_t l = sizeof(r);
	uint32_t nr;
	int len;
	long t0;

	if (!buf)
		die("out of memory");
	sside.s = accept_within(sside.l, TMO_MS);
	if (sside.s < 0)
		die("accept: %s", strerror(errno));
	len = read_pdu(sside.s, pdu, sizeof(pdu));
	parse_descs((uint8_t *)pdu, len, &nr, d);
	r.addr = (uintptr_t)buf;
	r.descs = (uintptr_t)d;
	r.nr_descs = nr;
	t0 = now_ms();
	sside.reading = 1;
	sside.rd_ret = getsockopt(sside.s, SOL_SMBDIRECT, SMBDIRECT_RDMA_READ,
				  &r, &l);
	sside.rd_errno = sside.rd_ret ? errno : 0;
	sside.rd_ms = now_ms() - t0;
	sside.done = r.done;
	sside.recv_ret = recv_within(sside.s, pdu, sizeof(pdu), TMO_MS);
	sside.recv_errno = sside.recv_ret < 0 ? errno : 0;
	sside.info = info_of(sside.s, &sside.info_errno);
	close(sside.s);
	free(buf);
	return NULL;
}

static int rdma_client_mode(void)
{
	struct neg_req req = {
		.min_version = V1, .max_version = V1, .credits_requested = 16,
		.preferred_send_size = K_MAX_RECV,
		.max_receive_size = K_MAX_RECV,
		.max_fragmented_size = K_MAX_FRAG,
	};
	struct ibv_qp_attr qa = { .qp_state = IBV_QPS_ERR };
	struct smbdirect_buffer_desc d = {};
	struct sockaddr_storage la;
	struct neg_resp resp;
	struct ibv_mr *mr;
	uint8_t m[SLOT], *mem;
	struct data_hdr h = {
		.credits_requested = 16, .offset = DATA_HDR_LEN,
		.length = 8 + sizeof(d),
	};
	pthread_t th;
	struct ep e;
	uint32_t one = 1;
	int len;

	if (strcmp(mode, "req-rdma-stall"))
		return -1;
	sside.l = smbd_listener(&la);
	rogue_connect(&e, &la);
	enc_neg_req(m, &req);
	if (ep_send(&e, m, NEG_REQ_LEN))
		die("negotiate request not sent");
	len = ep_recv(&e, m, TMO_MS);
	if (len < NEG_RESP_LEN)
		die("no negotiate response");
	dec_neg_resp(m, &resp);
	if (resp.status || !resp.credits_granted ||
	    resp.max_read_write_size < STALL_LEN)
		die("negotiate: status %#x, %u credits, MaxReadWriteSize %u",
		    resp.status, resp.credits_granted,
		    resp.max_read_write_size);
	mem = aligned_alloc(4096, STALL_LEN);
	if (!mem)
		die("out of memory");
	memset(mem, 0x5c, STALL_LEN);
	mr = ibv_reg_mr(e.pd, mem, STALL_LEN,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!mr)
		die("ibv_reg_mr: %s", strerror(errno));
	d.offset = (uintptr_t)mem;
	d.token = mr->rkey;
	d.length = STALL_LEN;
	if (pthread_create(&th, NULL, stall_server_thread, NULL))
		die("pthread_create");
	/* One PDU: the descriptor of 8 MiB for the server to read. */
	h.credits_granted = 16;
	enc_data_hdr(m, &h);
	memcpy(m + DATA_HDR_LEN, "DESC", 4);
	memcpy(m + DATA_HDR_LEN + 4, &one, 4);
	memcpy(m + DATA_HDR_LEN + 8, &d, sizeof(d));
	EXPECT(!ep_send(&e, m, DATA_HDR_LEN + h.length),
	       "descriptor PDU not delivered");
	/* Stop answering as the read starts: the device goes silent. */
	while (!sside.reading)
		usleep(100);
	if (ibv_modify_qp(e.id->qp, &qa, IBV_QP_STATE))
		die("ibv_modify_qp(ERR): %s", strerror(errno));
	say("QP in the error state: rogue answers nothing more");
	pthread_join(th, NULL);
	EXPECT(!ep_wait_disconnect(&e, TMO_MS), "the kernel did not disconnect");
	/* The MR is on the endpoint's PD: it goes first. */
	EXPECT(!ibv_dereg_mr(mr), "ibv_dereg_mr: %s", strerror(errno));
	ep_destroy(&e);
	free(mem);
	close(sside.l);

	say("RDMA read: ret %d %s after %ld ms, %llu done; then recv %d %s; violations %llu",
	    sside.rd_ret, errname(sside.rd_errno), sside.rd_ms,
	    (unsigned long long)sside.done, sside.recv_ret,
	    errname(sside.recv_errno),
	    (unsigned long long)sside.info.violations);
	EXPECT(sside.rd_ret < 0, "the RDMA read of a silent peer succeeded");
	EXPECT(sside.rd_ms < TMO_MS, "the RDMA read took %ld ms", sside.rd_ms);
	EXPECT(sside.recv_ret <= 0 && sside.recv_errno != ETIMEDOUT,
	       "the socket did not fail: recv %d %s", sside.recv_ret,
	       errname(sside.recv_errno));
	EXPECT(sside.info.violations == 0, "violations %llu, want 0",
	       (unsigned long long)sside.info.violations);
	return 0;
}

int main(int argc, char **argv)
{
	int opt, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	set_addr("10.99.0.1");
	while ((opt = getopt(argc, argv, "l:p:")) != -1) {
		switch (opt) {
		case 'l':
			set_addr(optarg);
			break;
		case 'p':
			port = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	mode = argv[optind];
	if (!strncmp(mode, "req-rdma-", 9))
		ret = rdma_client_mode();
	else if (!strncmp(mode, "rdma-", 5))
		ret = rdma_server_mode();
	else if (!strcmp(mode, "data-flags"))
		ret = flags_mode();
	else if (!strcmp(mode, "silent"))
		ret = silent_mode();
	else if (!strcmp(mode, "lclose"))
		ret = lclose_mode();
	else if (!strncmp(mode, "req-", 4))
		ret = client_mode();
	else
		ret = server_mode();
	if (ret < 0)
		goto usage;
	if (failed)
		return 1;
	say("ok");
	return 0;
usage:
	fprintf(stderr, "usage: rogue [-l ADDR] [-p PORT] MODE (see rogue.c)\n");
	return 2;
}
