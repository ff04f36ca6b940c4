// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace driver for the codec: runs every KUnit case from tests/kunit
 * (through shim/kunit/test.h) and seeded random property tests, then prints
 * "N passed, N failed". Usage: codec_selftest [seed [iterations]]
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <kunit/test.h>
#include "codec.h"

/* ---- KUnit shim runtime ---- */

#define MAX_SUITES 16
static struct kunit_suite *suites[MAX_SUITES];
static size_t nsuites;

void kshim_register(struct kunit_suite **s, size_t n)
{
	size_t i;

	for (i = 0; i < n && nsuites < MAX_SUITES; i++)
		suites[nsuites++] = s[i];
}

void kshim_fail(struct kunit *test, const char *file, int line,
		const char *what, long long l, long long r, bool fatal)
{
	test->failures++;
	fprintf(stderr, "    FAIL %s:%d: %s (%lld vs %lld)\n", file, line,
		what, l, r);
	if (fatal)
		longjmp(test->abort, 1);
}

static unsigned int passed, failed, skipped;

static void report(const char *suite, const char *name, bool ok)
{
	printf("%s %s.%s\n", ok ? "ok    " : "NOT OK", suite, name);
	if (ok)
		passed++;
	else
		failed++;
}

/* Kept apart from the loops so longjmp cannot clobber their counters */
static int run_case(struct kunit_case *c)
{
	struct kunit t = { .name = c->name };

	if (!setjmp(t.abort))
		c->run_case(&t);
	if (t.failures)
		return 0;
	return t.skipped ? -1 : 1;
}

static void run_kunit(void)
{
	struct kunit_case *c;
	size_t s;
	int r;

	for (s = 0; s < nsuites; s++)
		for (c = suites[s]->test_cases; c->run_case; c++) {
			r = run_case(c);
			if (r < 0) {
				printf("skip   %s.%s\n", suites[s]->name,
				       c->name);
				skipped++;
			} else {
				report(suites[s]->name, c->name, r);
			}
		}
}

/* ---- seeded PRNG (xorshift64*) ---- */

static u64 rng_state;

static u64 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static u32 rnd_range(u32 lo, u32 hi)	/* inclusive */
{
	return lo + (u32)(rnd() % ((u64)hi - lo + 1));
}

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "    FAIL %s:%d: %s (iter %u)\n",	\
			__FILE__, __LINE__, #cond, it);			\
		return false;						\
	}								\
} while (0)

static unsigned int iterations = 2000;

/* ---- random framing: random PDUs, random chunking ---- */

static bool rand_framing(void)
{
	static u8 stream[16 * (4 + 300)], body[16][300];
	u32 lens[16], got[16], n, i, j, it;

	for (it = 0; it < iterations; it++) {
		struct afsmbd_frame_parser p;
		struct afsmbd_frame_result res;
		size_t len = 0, pos = 0;
		u32 cur = 0;
		bool in_pdu = false;

		n = rnd_range(1, 16);
		for (i = 0; i < n; i++) {
			lens[i] = rnd_range(1, 300);
			afsmbd_frame_encode_hdr(lens[i], stream + len, 4);
			len += 4;
			for (j = 0; j < lens[i]; j++)
				stream[len++] = (u8)rnd();
			got[i] = 0;
		}
		afsmbd_frame_init(&p, 300);
		while (pos < len) {
			size_t chunk = rnd_range(1, 40), off = 0;

			if (chunk > len - pos)
				chunk = len - pos;
			while (off < chunk) {
				CHECK(afsmbd_frame_feed(&p, stream + pos + off,
							chunk - off, &res) == 0);
				CHECK(res.consumed > 0 &&
				      res.consumed <= chunk - off);
				CHECK(res.body_off + res.body_len <= res.consumed);
				if (res.hdr_done) {
					CHECK(!in_pdu && cur < n);
					CHECK(res.pdu_len == lens[cur]);
					in_pdu = true;
				}
				if (res.body_len) {
					CHECK(in_pdu);
					CHECK(got[cur] + res.body_len <= lens[cur]);
					memcpy(body[cur] + got[cur],
					       stream + pos + off + res.body_off,
					       res.body_len);
					got[cur] += (u32)res.body_len;
				}
				if (res.pdu_done) {
					CHECK(got[cur] == lens[cur]);
					in_pdu = false;
					cur++;
				}
				off += res.consumed;
			}
			pos += chunk;
		}
		CHECK(cur == n && afsmbd_frame_idle(&p));
		for (i = 0, pos = 0; i < n; i++) {
			pos += 4;
			CHECK(memcmp(body[i], stream + pos, lens[i]) == 0);
			pos += lens[i];
		}
	}
	return true;
}

/* ---- random negotiation round trips ---- */

static void rand_limits(struct afsmbd_limits *l)
{
	l->recv_credit_max = (u16)rnd_range(1, 512);
	l->send_credit_target = (u16)rnd_range(1, 512);
	l->max_send_size = rnd_range(128, 16384);
	l->max_recv_size = rnd_range(128, 16384);
	l->max_fragmented_recv_size = rnd_range(131072, 0xffffff);
	l->max_read_write_size = rnd_range(0, 8 << 20);
}

static bool rand_negotiate(void)
{
	u8 w[64];
	u32 it;

	for (it = 0; it < iterations; it++) {
		struct afsmbd_limits cl, sl;
		struct afsmbd_negotiate_req req, req2;
		struct afsmbd_negotiate_resp resp, resp2;
		struct afsmbd_params cp, sp;

		/* zeroed so memcmp does not see struct padding */
		memset(&req2, 0, sizeof(req2));
		memset(&resp2, 0, sizeof(resp2));
		rand_limits(&cl);
		rand_limits(&sl);
		CHECK(afsmbd_build_negotiate_req(&cl, &req) == 0);
		CHECK(afsmbd_encode_negotiate_req(&req, w, sizeof(w)) == 20);
		CHECK(afsmbd_decode_negotiate_req(w, 20, &req2) == 0);
		CHECK(memcmp(&req, &req2, sizeof(req)) == 0);
		CHECK(afsmbd_negotiate_server(&sl, &req2, &sp) == 0);
		CHECK(sp.initial_recv_credits >= 1);
		afsmbd_build_negotiate_resp(&sp, sp.initial_recv_credits, &resp);
		CHECK(afsmbd_encode_negotiate_resp(&resp, w, sizeof(w)) == 32);
		CHECK(afsmbd_decode_negotiate_resp(w, 32, &resp2) == 0);
		CHECK(memcmp(&resp, &resp2, sizeof(resp)) == 0);
		CHECK(afsmbd_negotiate_client(&cl, &resp2, &cp) == 0);

		CHECK(cp.max_send_size == sp.max_recv_size);
		CHECK(sp.max_send_size == cp.max_recv_size);
		CHECK(cp.max_send_size <= cl.max_send_size);
		CHECK(sp.max_send_size <= sl.max_send_size);
		CHECK(cp.max_recv_size <= cl.max_recv_size);
		CHECK(sp.max_recv_size <= sl.max_recv_size);
		CHECK(cp.max_recv_size >= 128 && sp.max_recv_size >= 128);
		CHECK(cp.max_fragmented_send_size == sl.max_fragmented_recv_size);
		CHECK(sp.max_fragmented_send_size == cl.max_fragmented_recv_size);
		CHECK(cp.initial_send_credits == sp.initial_recv_credits);
		CHECK(cp.initial_send_credits <= cl.send_credit_target);
		CHECK(cp.initial_send_credits <= sl.recv_credit_max);
		CHECK(cp.max_read_write_size <= sl.max_read_write_size);
	}
	return true;
}

/* ---- random data header round trips ---- */

static bool rand_data_hdr(void)
{
	u8 w[AFSMBD_DATA_HDR_LEN + 64];
	u32 it;

	for (it = 0; it < iterations; it++) {
		struct afsmbd_data_hdr h, back;
		int n;

		memset(&h, 0, sizeof(h));
		memset(&back, 0, sizeof(back));

		h.credits_requested = (u16)rnd_range(1, 0xffff);
		h.credits_granted = (u16)rnd();
		h.flags = (u16)(rnd() & AFSMBD_FLAGS_KNOWN);
		h.remaining_data_length = (u32)rnd();
		if (rnd() & 1) {
			h.data_offset = 24 + 8 * rnd_range(0, 4);
			h.data_length = rnd_range(1, 24);
		}
		n = afsmbd_encode_data_hdr(&h, w, sizeof(w));
		CHECK(n == (h.data_length ? 24 : 20));
		CHECK(afsmbd_decode_data_hdr(w, h.data_offset + h.data_length +
					     (h.data_length ? 0 : 20),
					     &back) == 0);
		CHECK(memcmp(&h, &back, sizeof(h)) == 0);
	}
	return true;
}

/* ---- random reassembly with interleaved empty messages ---- */

static bool rand_reasm(void)
{
	u32 it;

	for (it = 0; it < iterations; it++) {
		struct afsmbd_reasm r;
		u32 max = rnd_range(1, 1 << 20), msgs = rnd_range(1, 8), m;

		afsmbd_reasm_init(&r, max);
		for (m = 0; m < msgs; m++) {
			u32 total = rnd_range(1, max), left = total, seen = 0;
			bool first = true;

			while (left) {
				u32 frag = rnd_range(1, left);
				int ev;

				if (rnd_range(0, 3) == 0)
					CHECK(afsmbd_reasm_feed(&r, 0,
						rnd_range(0, max)) ==
					      AFSMBD_REASM_EMPTY);
				left -= frag;
				seen += frag;
				ev = afsmbd_reasm_feed(&r, frag, left);
				if (first && !left)
					CHECK(ev == AFSMBD_REASM_SINGLE);
				else if (first)
					CHECK(ev == AFSMBD_REASM_FIRST);
				else if (!left)
					CHECK(ev == AFSMBD_REASM_LAST);
				else
					CHECK(ev == AFSMBD_REASM_MIDDLE);
				if (first)
					CHECK(r.total == total);
				/* a wrong countdown is always refused */
				if (left)
					CHECK(afsmbd_reasm_feed(&r, 1, left) ==
					      -EPROTO);
				first = false;
			}
			CHECK(seen == total && !r.active);
		}
		/* one byte too many for a fresh message */
		CHECK(max == 0xffffffff ||
		      afsmbd_reasm_feed(&r, 1, max) == -EMSGSIZE);
	}
	return true;
}

/* ---- random two-peer credit simulation ---- */

struct peer {
	u32 send;	/* credits granted to us by the other side */
	u32 posted;	/* receives we have posted */
	u32 granted;	/* credits the other side holds from us */
	u32 queued;	/* upper-layer messages waiting to go */
	u16 target;	/* our CreditsRequested */
	u16 max;	/* our ReceiveCreditMax */
};

/*
 * One send attempt by a to b, following 3.1.5.1 and 3.1.5.9: data if any is
 * queued, else an empty message only to rescue a peer holding no credit.
 */
static int try_send(struct peer *a, struct peer *b, u16 b_target, bool *sent)
{
	bool empty = !a->queued;
	u16 g;
	int ret;

	*sent = false;
	if (!a->send)
		return 0;
	/* last credit with data queued: post one more receive to grant it */
	if (!empty && a->send == 1 && a->posted == a->granted)
		a->posted++;
	g = afsmbd_credit_grant(a->posted, a->granted, a->send, b_target,
				a->max);
	if (empty && (g == 0 || a->granted > 0))
		return 0;
	if (afsmbd_credit_take(&a->send, g))
		return 0;
	a->granted += g;
	if (!empty)
		a->queued--;
	/* arrives at b */
	ret = afsmbd_credit_consume_recv(&b->granted);
	if (ret)
		return ret;
	if (!b->posted)
		return -EIO;
	b->posted--;
	ret = afsmbd_credit_add_grant(&b->send, g, 0xffff);
	*sent = true;
	return ret;
}

static bool rand_credits(void)
{
	u32 it;

	for (it = 0; it < iterations; it++) {
		struct peer a = { 0 }, b = { 0 };
		u32 step;

		a.target = (u16)rnd_range(1, 64);
		a.max = (u16)rnd_range(1, 64);
		b.target = (u16)rnd_range(1, 64);
		b.max = (u16)rnd_range(1, 64);
		/* after negotiation: each side posted and granted its first */
		b.posted = b.granted = b.max < a.target ? b.max : a.target;
		a.send = b.granted;
		a.posted = a.granted = a.max < b.target ? a.max : b.target;
		b.send = a.granted;

		for (step = 0; step < 400; step++) {
			bool sa = false, sb = false;

			if (rnd_range(0, 2) == 0)
				a.queued += rnd_range(0, 3);
			if (rnd_range(0, 2) == 0)
				b.queued += rnd_range(0, 3);
			/* receivers repost consumed buffers, up to their max */
			if (a.posted < a.max)
				a.posted++;
			if (b.posted < b.max)
				b.posted++;
			while (a.posted < a.max && rnd_range(0, 1))
				a.posted++;
			while (b.posted < b.max && rnd_range(0, 1))
				b.posted++;
			CHECK(try_send(&a, &b, b.target, &sa) == 0);
			CHECK(try_send(&b, &a, a.target, &sb) == 0);
			/* invariants: every credit is backed by a receive */
			CHECK(a.send == b.granted && b.send == a.granted);
			CHECK(a.granted <= a.posted && b.granted <= b.posted);
			/* nobody may ever be left with nothing */
			CHECK(a.send >= 1 || b.send >= 1);
			/* and work never stalls */
			CHECK(!(a.queued || b.queued) || sa || sb);
		}
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		bool (*fn)(void);
	} rand_tests[] = {
		{ "framing", rand_framing },
		{ "negotiate", rand_negotiate },
		{ "data_hdr", rand_data_hdr },
		{ "reasm", rand_reasm },
		{ "credits", rand_credits },
	};
	u64 seed = 0x5eed5eedull;
	size_t i;

	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		iterations = (unsigned int)strtoul(argv[2], NULL, 0);
	rng_state = seed ? seed : 1;

	run_kunit();
	printf("random tests: seed 0x%llx, %u iterations\n",
	       (unsigned long long)seed, iterations);
	for (i = 0; i < sizeof(rand_tests) / sizeof(rand_tests[0]); i++)
		report("random", rand_tests[i].name, rand_tests[i].fn());

	if (skipped)
		printf("%u skipped (known open defects, see the test)\n", skipped);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
