// SPDX-License-Identifier: GPL-2.0
/* KUnit tests for Direct-TCP framing and SMB-Direct fragment reassembly. */

#include <kunit/test.h>
#include "codec.h"

#define MAX_PDUS	4
#define MAX_BODY	64

/* Three PDUs of 1, 37 and 5 bytes, each behind its 4-byte header */
static u8 stream[3 * AFSMBD_FRAME_HDR_LEN + 1 + 37 + 5];
static const u32 stream_lens[3] = { 1, 37, 5 };

static size_t build_stream(void)
{
	size_t pos = 0;
	u32 i, j;

	for (i = 0; i < 3; i++) {
		afsmbd_frame_encode_hdr(stream_lens[i], stream + pos, 4);
		pos += 4;
		for (j = 0; j < stream_lens[i]; j++)
			stream[pos++] = (u8)(i * 64 + j);
	}
	return pos;
}

struct collector {
	u32 npdu;
	u32 lens[MAX_PDUS];
	u32 got[MAX_PDUS];
	u8 body[MAX_PDUS][MAX_BODY];
	bool in_pdu;
	bool broken;		/* a structural invariant failed */
};

/* Feed one chunk completely, checking per-call invariants. */
static int collect(struct afsmbd_frame_parser *p, struct collector *c,
		   const u8 *buf, size_t len)
{
	struct afsmbd_frame_result res;
	int ret;

	while (len) {
		ret = afsmbd_frame_feed(p, buf, len, &res);
		if (ret)
			return ret;
		if (res.consumed == 0 || res.consumed > len ||
		    res.body_off + res.body_len > res.consumed ||
		    (res.hdr_done && res.body_len)) {
			c->broken = true;
			return -EIO;
		}
		if (res.hdr_done) {
			if (c->in_pdu || c->npdu >= MAX_PDUS ||
			    res.pdu_len > MAX_BODY) {
				c->broken = true;
				return -EIO;
			}
			c->lens[c->npdu] = res.pdu_len;
			c->got[c->npdu] = 0;
			c->in_pdu = true;
		}
		if (res.body_len) {
			u32 n = c->npdu;

			if (!c->in_pdu || c->got[n] + res.body_len > c->lens[n]) {
				c->broken = true;
				return -EIO;
			}
			memcpy(c->body[n] + c->got[n], buf + res.body_off,
			       res.body_len);
			c->got[n] += (u32)res.body_len;
		}
		if (res.pdu_done) {
			if (c->got[c->npdu] != c->lens[c->npdu]) {
				c->broken = true;
				return -EIO;
			}
			c->npdu++;
			c->in_pdu = false;
		}
		buf += res.consumed;
		len -= res.consumed;
	}
	return 0;
}

static void expect_stream(struct kunit *test, const struct collector *c,
			  const struct afsmbd_frame_parser *p)
{
	size_t pos = 0;
	u32 i;

	KUNIT_EXPECT_FALSE(test, c->broken);
	KUNIT_ASSERT_EQ(test, c->npdu, 3);
	for (i = 0; i < 3; i++) {
		pos += 4;
		KUNIT_EXPECT_EQ(test, c->lens[i], stream_lens[i]);
		KUNIT_EXPECT_MEMEQ(test, c->body[i], stream + pos,
				   stream_lens[i]);
		pos += stream_lens[i];
	}
	KUNIT_EXPECT_TRUE(test, afsmbd_frame_idle(p));
}

static void frame_encode_hdr(struct kunit *test)
{
	static const u8 want[4] = { 0x00, 0x01, 0x02, 0x03 };
	u8 out[4];

	KUNIT_EXPECT_EQ(test, afsmbd_frame_encode_hdr(0x010203, out, 4), 4);
	KUNIT_EXPECT_MEMEQ(test, out, want, 4);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_encode_hdr(0xffffff, out, 4), 4);
	KUNIT_EXPECT_EQ(test, out[0], 0);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_encode_hdr(0, out, 4), -EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_encode_hdr(0x1000000, out, 4),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_encode_hdr(1, out, 3), -EMSGSIZE);
}

static void frame_whole_stream(struct kunit *test)
{
	struct afsmbd_frame_parser p;
	struct collector c = { 0 };
	size_t n = build_stream();

	afsmbd_frame_init(&p, 1024);
	KUNIT_EXPECT_TRUE(test, afsmbd_frame_idle(&p));
	KUNIT_ASSERT_EQ(test, collect(&p, &c, stream, n), 0);
	expect_stream(test, &c, &p);
}

/* Two writes, split at every position */
static void frame_every_split(struct kunit *test)
{
	size_t n = build_stream(), i;

	for (i = 0; i <= n; i++) {
		struct afsmbd_frame_parser p;
		struct collector c = { 0 };

		afsmbd_frame_init(&p, 1024);
		KUNIT_ASSERT_EQ(test, collect(&p, &c, stream, i), 0);
		KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + i, n - i), 0);
		expect_stream(test, &c, &p);
	}
}

/* Three writes, split at every pair of positions */
static void frame_every_double_split(struct kunit *test)
{
	size_t n = build_stream(), i, j;

	for (i = 0; i <= n; i++) {
		for (j = i; j <= n; j++) {
			struct afsmbd_frame_parser p;
			struct collector c = { 0 };

			afsmbd_frame_init(&p, 1024);
			KUNIT_ASSERT_EQ(test, collect(&p, &c, stream, i), 0);
			KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + i, j - i),
					0);
			KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + j, n - j),
					0);
			KUNIT_ASSERT_EQ(test, c.npdu, 3);
			KUNIT_ASSERT_FALSE(test, c.broken);
		}
	}
}

static void frame_one_byte_writes(struct kunit *test)
{
	struct afsmbd_frame_parser p;
	struct collector c = { 0 };
	size_t n = build_stream(), i;

	afsmbd_frame_init(&p, 1024);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + i, 1), 0);
	expect_stream(test, &c, &p);
}

static void frame_not_idle_mid_pdu(struct kunit *test)
{
	struct afsmbd_frame_parser p;
	struct collector c = { 0 };
	size_t n = build_stream();

	afsmbd_frame_init(&p, 1024);
	KUNIT_ASSERT_EQ(test, collect(&p, &c, stream, 2), 0);
	KUNIT_EXPECT_FALSE(test, afsmbd_frame_idle(&p));	/* half header */
	KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + 2, 2), 0);
	KUNIT_EXPECT_FALSE(test, afsmbd_frame_idle(&p));	/* header only */
	KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + 4, 1), 0);
	KUNIT_EXPECT_TRUE(test, afsmbd_frame_idle(&p));
	KUNIT_ASSERT_EQ(test, collect(&p, &c, stream + 5, n - 5), 0);
	expect_stream(test, &c, &p);
}

static void frame_empty_feed(struct kunit *test)
{
	struct afsmbd_frame_parser p;
	struct afsmbd_frame_result res;

	afsmbd_frame_init(&p, 1024);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, stream, 0, &res), 0);
	KUNIT_EXPECT_EQ(test, res.consumed, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, NULL, 4, &res), -EINVAL);
}

/* A bad header after a good PDU: consumed exactly to its end, sticky */
static void check_bad_header(struct kunit *test, const u8 bad[4], int err,
			     u32 max_pdu)
{
	struct afsmbd_frame_parser p;
	struct afsmbd_frame_result res;
	u8 buf[4 + 1 + 4 + 8];
	size_t off = 0;

	afsmbd_frame_init(&p, max_pdu);
	afsmbd_frame_encode_hdr(1, buf, 4);
	buf[4] = 0x42;
	memcpy(buf + 5, bad, 4);
	memset(buf + 9, 0x11, 8);

	KUNIT_ASSERT_EQ(test, afsmbd_frame_feed(&p, buf, sizeof(buf), &res), 0);
	off += res.consumed;
	KUNIT_ASSERT_EQ(test, afsmbd_frame_feed(&p, buf + off,
						sizeof(buf) - off, &res), 0);
	off += res.consumed;
	KUNIT_ASSERT_TRUE(test, res.pdu_done);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, buf + off,
						sizeof(buf) - off, &res), err);
	KUNIT_EXPECT_EQ(test, res.consumed, 4);
	KUNIT_EXPECT_TRUE(test, res.hdr_done);
	KUNIT_EXPECT_EQ(test, res.body_len, 0);
	KUNIT_EXPECT_FALSE(test, afsmbd_frame_idle(&p));
	off += res.consumed;
	/* sticky: nothing more is taken */
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, buf + off,
						sizeof(buf) - off, &res), err);
	KUNIT_EXPECT_EQ(test, res.consumed, 0);

	/* same header delivered one byte at a time */
	afsmbd_frame_init(&p, max_pdu);
	for (off = 0; off < 3; off++) {
		KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, bad + off, 1, &res),
				0);
		KUNIT_EXPECT_EQ(test, res.consumed, 1);
	}
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, bad + 3, 1, &res), err);
	KUNIT_EXPECT_EQ(test, res.consumed, 1);

	/* init recovers */
	afsmbd_frame_init(&p, max_pdu);
	KUNIT_EXPECT_TRUE(test, afsmbd_frame_idle(&p));
}

static void frame_bad_type_byte(struct kunit *test)
{
	static const u8 nb_keepalive[4] = { 0x85, 0x00, 0x00, 0x00 };
	static const u8 high[4] = { 0x01, 0x00, 0x00, 0x10 };

	check_bad_header(test, nb_keepalive, -EPROTO, 1024);
	check_bad_header(test, high, -EPROTO, 1024);
}

static void frame_zero_length(struct kunit *test)
{
	static const u8 zero[4] = { 0, 0, 0, 0 };

	check_bad_header(test, zero, -ENODATA, 1024);
}

static void frame_too_long(struct kunit *test)
{
	static const u8 len1025[4] = { 0x00, 0x00, 0x04, 0x01 };
	struct afsmbd_frame_parser p;
	struct afsmbd_frame_result res;
	static const u8 len1024[4] = { 0x00, 0x00, 0x04, 0x00 };

	check_bad_header(test, len1025, -EMSGSIZE, 1024);
	afsmbd_frame_init(&p, 1024);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, len1025, 4, &res),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, res.pdu_len, 1025);
	afsmbd_frame_init(&p, 1024);
	KUNIT_EXPECT_EQ(test, afsmbd_frame_feed(&p, len1024, 4, &res), 0);
	KUNIT_EXPECT_EQ(test, res.pdu_len, 1024);
	/* the limit is capped at the 24-bit field */
	afsmbd_frame_init(&p, 0xffffffff);
	KUNIT_EXPECT_EQ(test, p.max_pdu, AFSMBD_FRAME_MAX_LEN);
}

/* ---- Reassembly ---- */

static void reasm_single(struct kunit *test)
{
	struct afsmbd_reasm r;

	afsmbd_reasm_init(&r, 1048576);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 100, 0),
			AFSMBD_REASM_SINGLE);
	KUNIT_EXPECT_EQ(test, r.total, 100);
	KUNIT_EXPECT_FALSE(test, r.active);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 7, 0), AFSMBD_REASM_SINGLE);
	KUNIT_EXPECT_EQ(test, r.total, 7);
}

static void reasm_fragments(struct kunit *test)
{
	struct afsmbd_reasm r;

	afsmbd_reasm_init(&r, 1048576);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 1000, 2500),
			AFSMBD_REASM_FIRST);
	KUNIT_EXPECT_EQ(test, r.total, 3500);
	KUNIT_EXPECT_TRUE(test, r.active);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 1000, 1500),
			AFSMBD_REASM_MIDDLE);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 1000, 500),
			AFSMBD_REASM_MIDDLE);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 500, 0), AFSMBD_REASM_LAST);
	KUNIT_EXPECT_FALSE(test, r.active);
	KUNIT_EXPECT_EQ(test, r.total, 3500);
}

static void reasm_empty_between_fragments(struct kunit *test)
{
	struct afsmbd_reasm r;

	afsmbd_reasm_init(&r, 1048576);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0, 0), AFSMBD_REASM_EMPTY);
	KUNIT_EXPECT_FALSE(test, r.active);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 10, 20),
			AFSMBD_REASM_FIRST);
	/* Linux peers send credit-only messages with remaining 0 */
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0, 0), AFSMBD_REASM_EMPTY);
	/* a non-zero remaining on an empty message is ignored too... */
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0, 12345),
			AFSMBD_REASM_EMPTY);
	/* ...within MaxFragmentedSize, which 3.1.5.8 applies to all */
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0, 1048576),
			AFSMBD_REASM_EMPTY);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0, 1048577), -EMSGSIZE);
	KUNIT_EXPECT_TRUE(test, r.active);
	KUNIT_EXPECT_EQ(test, r.remaining, 20);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 10, 10),
			AFSMBD_REASM_MIDDLE);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0, 0), AFSMBD_REASM_EMPTY);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 10, 0), AFSMBD_REASM_LAST);
	KUNIT_EXPECT_EQ(test, r.total, 30);
}

static void reasm_bad_countdown(struct kunit *test)
{
	struct afsmbd_reasm r;

	afsmbd_reasm_init(&r, 1048576);
	KUNIT_ASSERT_EQ(test, afsmbd_reasm_feed(&r, 100, 300),
			AFSMBD_REASM_FIRST);
	/* remaining must drop by exactly this fragment's length */
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 100, 300), -EPROTO);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 100, 100), -EPROTO);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 100, 0), -EPROTO);
	/* state untouched by the rejects */
	KUNIT_EXPECT_EQ(test, r.remaining, 300);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 100, 200),
			AFSMBD_REASM_MIDDLE);
}

static void reasm_fragment_exceeds_remaining(struct kunit *test)
{
	struct afsmbd_reasm r;

	afsmbd_reasm_init(&r, 1048576);
	KUNIT_ASSERT_EQ(test, afsmbd_reasm_feed(&r, 100, 50),
			AFSMBD_REASM_FIRST);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 51, 0), -EPROTO);
	/* wrap-around of remaining - length must not be accepted */
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 51, 0xffffffff), -EPROTO);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 50, 0), AFSMBD_REASM_LAST);
}

static void reasm_too_big(struct kunit *test)
{
	struct afsmbd_reasm r;

	afsmbd_reasm_init(&r, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 1000, 130072),
			AFSMBD_REASM_FIRST);
	afsmbd_reasm_init(&r, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 1000, 130073), -EMSGSIZE);
	KUNIT_EXPECT_FALSE(test, r.active);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 131073, 0), -EMSGSIZE);
}

static void reasm_overflow(struct kunit *test)
{
	struct afsmbd_reasm r;

	/* u32 sum would wrap to a small value */
	afsmbd_reasm_init(&r, 0xffffffff);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0xffffffff, 2), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0x80000000, 0x80000000),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, afsmbd_reasm_feed(&r, 0x80000000, 0x7fffffff),
			AFSMBD_REASM_FIRST);
	KUNIT_EXPECT_EQ(test, r.total, 0xffffffff);
}

/* ---- the receive chain: what the reader sees of queued fragments ---- */

/* Read @c to the end in pieces of @step bytes; append what comes out. */
static u32 rxchunk_read(struct kunit *test, struct afsmbd_rxchunk *c,
			const u8 *buf, u32 step, u8 *out)
{
	struct afsmbd_rxseg seg;
	u8 hdr[AFSMBD_FRAME_HDR_LEN];
	u32 got = 0, n;

	while (afsmbd_rxchunk_seg(c, 0, &seg)) {
		n = seg.len < step ? seg.len : step;
		if (seg.hdr) {
			n = afsmbd_frame_encode_hdr(c->pdu_len, hdr, sizeof(hdr));
			KUNIT_ASSERT_EQ(test, n, 4);
			n = seg.len < step ? seg.len : step;
			memcpy(out + got, hdr + seg.off, n);
		} else {
			memcpy(out + got, buf + seg.off, n);
		}
		got += n;
		if (afsmbd_rxchunk_consume(c, n))
			KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_left(c), 0);
	}
	return got;
}

/* A PDU of 300 bytes in fragments of 100: header, then the bytes. */
static void rxchunk_stream(struct kunit *test)
{
	static const int ev[3] = { AFSMBD_REASM_FIRST, AFSMBD_REASM_MIDDLE,
				   AFSMBD_REASM_LAST };
	struct afsmbd_rxchunk c;
	u8 buf[24 + 100], out[304];
	u32 got = 0, step, k, i;

	for (step = 1; step <= 7; step += 3) {
		got = 0;
		for (i = 0; i < 3; i++) {
			for (k = 0; k < 100; k++)
				buf[24 + k] = (u8)(i * 100 + k);
			KUNIT_ASSERT_EQ(test, afsmbd_rxchunk_init(&c, ev[i], 300,
								  24, 100), 0);
			KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_left(&c),
					i ? 100 : 104);
			got += rxchunk_read(test, &c, buf, step, out + got);
		}
		KUNIT_ASSERT_EQ(test, got, 304);
		KUNIT_EXPECT_EQ(test, out[0], 0);
		KUNIT_EXPECT_EQ(test, out[2], 1);
		KUNIT_EXPECT_EQ(test, out[3], 44);
		for (k = 0; k < 300; k++)
			KUNIT_EXPECT_EQ(test, out[4 + k], (u8)k);
	}
}

/* MSG_PEEK: a skip lands in the header or the payload, never past. */
static void rxchunk_skip(struct kunit *test)
{
	struct afsmbd_rxseg seg;
	struct afsmbd_rxchunk c;

	KUNIT_ASSERT_EQ(test, afsmbd_rxchunk_init(&c, AFSMBD_REASM_SINGLE, 10,
						  32, 10), 0);
	KUNIT_ASSERT_TRUE(test, afsmbd_rxchunk_seg(&c, 2, &seg));
	KUNIT_EXPECT_TRUE(test, seg.hdr);
	KUNIT_EXPECT_EQ(test, seg.off, 2);
	KUNIT_EXPECT_EQ(test, seg.len, 2);
	KUNIT_ASSERT_TRUE(test, afsmbd_rxchunk_seg(&c, 5, &seg));
	KUNIT_EXPECT_FALSE(test, seg.hdr);
	KUNIT_EXPECT_EQ(test, seg.off, 33);
	KUNIT_EXPECT_EQ(test, seg.len, 9);
	KUNIT_EXPECT_FALSE(test, afsmbd_rxchunk_seg(&c, 14, &seg));
	/* consumed bytes move the start; consuming too much is clamped */
	KUNIT_EXPECT_FALSE(test, afsmbd_rxchunk_consume(&c, 6));
	KUNIT_ASSERT_TRUE(test, afsmbd_rxchunk_seg(&c, 0, &seg));
	KUNIT_EXPECT_EQ(test, seg.off, 34);
	KUNIT_EXPECT_TRUE(test, afsmbd_rxchunk_consume(&c, 100));
	KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_left(&c), 0);
}

static void rxchunk_bad_init(struct kunit *test)
{
	struct afsmbd_rxchunk c;

	KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_init(&c, AFSMBD_REASM_EMPTY, 0,
						  0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_init(&c, AFSMBD_REASM_LAST, 0,
						  24, 0), -EINVAL);
	/* a PDU shorter than its first fragment, or past 24 bits */
	KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_init(&c, AFSMBD_REASM_FIRST, 5,
						  24, 10), -EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_init(&c, AFSMBD_REASM_SINGLE,
						  0x1000000, 24, 10), -EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_rxchunk_init(&c, -EPROTO, 10, 24, 10),
			-EINVAL);
}

/* ---- connection phases: nothing leaves FAILED ---- */

static void phases_sticky_failure(struct kunit *test)
{
	int from, to;

	for (to = AFSMBD_C_IDLE; to <= AFSMBD_C_DRAINING; to++)
		KUNIT_EXPECT_FALSE(test, afsmbd_state_may_enter(AFSMBD_C_FAILED,
								to));
	for (from = AFSMBD_C_IDLE; from <= AFSMBD_C_DRAINING; from++)
		KUNIT_EXPECT_EQ(test, afsmbd_state_may_enter(from,
							     AFSMBD_C_FAILED),
				from != AFSMBD_C_FAILED);
	/* the paths through setup */
	KUNIT_EXPECT_TRUE(test, afsmbd_state_may_enter(AFSMBD_C_IDLE,
						       AFSMBD_C_RESOLVE_ADDR));
	KUNIT_EXPECT_TRUE(test, afsmbd_state_may_enter(AFSMBD_C_RESOLVE_ADDR,
						       AFSMBD_C_RESOLVE_ROUTE));
	KUNIT_EXPECT_TRUE(test, afsmbd_state_may_enter(AFSMBD_C_RESOLVE_ROUTE,
						       AFSMBD_C_CONNECT));
	KUNIT_EXPECT_TRUE(test, afsmbd_state_may_enter(AFSMBD_C_CONNECT,
						       AFSMBD_C_NEGOTIATE));
	KUNIT_EXPECT_TRUE(test, afsmbd_state_may_enter(AFSMBD_C_ACCEPT,
						       AFSMBD_C_CONNECTED));
	KUNIT_EXPECT_TRUE(test, afsmbd_state_may_enter(AFSMBD_C_CONNECTED,
						       AFSMBD_C_DRAINING));
	/* nothing goes backwards, skips negotiate, or reconnects */
	KUNIT_EXPECT_FALSE(test, afsmbd_state_may_enter(AFSMBD_C_CONNECT,
							AFSMBD_C_RESOLVE_ROUTE));
	KUNIT_EXPECT_FALSE(test, afsmbd_state_may_enter(AFSMBD_C_CONNECT,
							AFSMBD_C_CONNECTED));
	KUNIT_EXPECT_FALSE(test, afsmbd_state_may_enter(AFSMBD_C_DRAINING,
							AFSMBD_C_CONNECTED));
	KUNIT_EXPECT_FALSE(test, afsmbd_state_may_enter(AFSMBD_C_CONNECTED,
							AFSMBD_C_NEGOTIATE));
	KUNIT_EXPECT_FALSE(test, afsmbd_state_may_enter(AFSMBD_C_IDLE,
							AFSMBD_C_CONNECTED));
}

static struct kunit_case af_smbdirect_framing_cases[] = {
	KUNIT_CASE(frame_encode_hdr),
	KUNIT_CASE(frame_whole_stream),
	KUNIT_CASE(frame_every_split),
	KUNIT_CASE(frame_every_double_split),
	KUNIT_CASE(frame_one_byte_writes),
	KUNIT_CASE(frame_not_idle_mid_pdu),
	KUNIT_CASE(frame_empty_feed),
	KUNIT_CASE(frame_bad_type_byte),
	KUNIT_CASE(frame_zero_length),
	KUNIT_CASE(frame_too_long),
	{}
};

static struct kunit_case af_smbdirect_reasm_cases[] = {
	KUNIT_CASE(reasm_single),
	KUNIT_CASE(reasm_fragments),
	KUNIT_CASE(reasm_empty_between_fragments),
	KUNIT_CASE(reasm_bad_countdown),
	KUNIT_CASE(reasm_fragment_exceeds_remaining),
	KUNIT_CASE(reasm_too_big),
	KUNIT_CASE(reasm_overflow),
	KUNIT_CASE(rxchunk_stream),
	KUNIT_CASE(rxchunk_skip),
	KUNIT_CASE(rxchunk_bad_init),
	KUNIT_CASE(phases_sticky_failure),
	{}
};

static struct kunit_suite af_smbdirect_framing_suite = {
	.name = "af_smbdirect_framing",
	.test_cases = af_smbdirect_framing_cases,
};

static struct kunit_suite af_smbdirect_reasm_suite = {
	.name = "af_smbdirect_reasm",
	.test_cases = af_smbdirect_reasm_cases,
};

kunit_test_suites(&af_smbdirect_framing_suite, &af_smbdirect_reasm_suite);
