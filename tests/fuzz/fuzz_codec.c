// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz target for the codec: every decoder, the Direct-TCP parser, the
 * reassembler and the credit helpers get the same arbitrary bytes and their
 * invariants are checked. Built as a libFuzzer target with clang, or with
 * -DAFSMBD_FUZZ_STANDALONE as a replayer: "fuzz_codec_replay [-runs=N]
 * [-seed=S] [files...]" runs the given files, or N seeded random inputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"

#define FUZZ_ASSERT(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "invariant failed: %s at %s:%d\n",	\
			#cond, __FILE__, __LINE__);			\
		abort();						\
	}								\
} while (0)

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

static const struct afsmbd_limits fuzz_limits = {
	.recv_credit_max = 255,
	.send_credit_target = 255,
	.max_send_size = 1364,
	.max_recv_size = 1364,
	.max_fragmented_recv_size = 1048576,
	.max_read_write_size = 1048576,
};

static u32 get_le16(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8;
}

static u32 get_le32(const u8 *p)
{
	return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

static void check_params(const struct afsmbd_params *p)
{
	FUZZ_ASSERT(p->version == AFSMBD_VERSION_1);
	FUZZ_ASSERT(p->max_send_size >= AFSMBD_MIN_RECEIVE_SIZE);
	FUZZ_ASSERT(p->max_send_size <= fuzz_limits.max_send_size);
	FUZZ_ASSERT(p->max_recv_size >= AFSMBD_MIN_RECEIVE_SIZE);
	FUZZ_ASSERT(p->max_recv_size <= fuzz_limits.max_recv_size);
	FUZZ_ASSERT(p->max_fragmented_send_size >= AFSMBD_MIN_FRAGMENTED_SIZE);
	FUZZ_ASSERT(p->initial_recv_credits >= 1);
	FUZZ_ASSERT(p->initial_recv_credits <= fuzz_limits.recv_credit_max);
}

static void fuzz_negotiate_req(const u8 *data, size_t size)
{
	struct afsmbd_negotiate_req req;
	struct afsmbd_params p;
	u8 out[AFSMBD_NEGOTIATE_REQ_LEN], want[AFSMBD_NEGOTIATE_REQ_LEN];
	int ret = afsmbd_decode_negotiate_req(data, size, &req);

	if (size < AFSMBD_NEGOTIATE_REQ_LEN) {
		FUZZ_ASSERT(ret == -EBADMSG);
		return;
	}
	/* the rules of 3.1.5.6, restated from the raw bytes */
	if (get_le16(data) > 0x0100 || get_le16(data + 2) < 0x0100)
		FUZZ_ASSERT(ret == -EOPNOTSUPP);
	else if (!get_le16(data + 6) || get_le32(data + 12) < 128 ||
		 get_le32(data + 16) < 131072)
		FUZZ_ASSERT(ret == -EPROTO);
	else
		FUZZ_ASSERT(ret == 0);
	FUZZ_ASSERT(afsmbd_negotiate_server(&fuzz_limits, &req, &p) == ret);
	if (ret)
		return;
	check_params(&p);
	FUZZ_ASSERT(p.max_send_size <= req.max_receive_size);
	/* re-encoding gives the input back, Reserved zeroed */
	memcpy(want, data, sizeof(want));
	want[4] = 0;
	want[5] = 0;
	FUZZ_ASSERT(afsmbd_encode_negotiate_req(&req, out, sizeof(out)) ==
		    AFSMBD_NEGOTIATE_REQ_LEN);
	FUZZ_ASSERT(memcmp(out, want, sizeof(out)) == 0);
}

static void fuzz_negotiate_resp(const u8 *data, size_t size)
{
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_params p;
	u8 out[AFSMBD_NEGOTIATE_RESP_LEN], want[AFSMBD_NEGOTIATE_RESP_LEN];
	int ret = afsmbd_decode_negotiate_resp(data, size, &resp);

	if (size < AFSMBD_NEGOTIATE_RESP_LEN) {
		FUZZ_ASSERT(ret == -EBADMSG);
		return;
	}
	/* the rules of 3.1.5.7, restated from the raw bytes */
	if (get_le32(data + 12))
		FUZZ_ASSERT(ret == -ECONNREFUSED);
	else if (get_le16(data + 4) != 0x0100)
		FUZZ_ASSERT(ret == -EOPNOTSUPP);
	else if (!get_le16(data + 8) || !get_le16(data + 10) ||
		 get_le32(data + 24) < 128 || get_le32(data + 28) < 131072)
		FUZZ_ASSERT(ret == -EPROTO);
	else
		FUZZ_ASSERT(ret == 0);
	if (ret)
		return;
	memcpy(want, data, sizeof(want));
	want[6] = 0;
	want[7] = 0;
	FUZZ_ASSERT(afsmbd_encode_negotiate_resp(&resp, out, sizeof(out)) ==
		    AFSMBD_NEGOTIATE_RESP_LEN);
	FUZZ_ASSERT(memcmp(out, want, sizeof(out)) == 0);

	ret = afsmbd_negotiate_client(&fuzz_limits, &resp, &p);
	FUZZ_ASSERT(ret == 0 || ret == -EPROTO);
	FUZZ_ASSERT((ret == -EPROTO) ==
		    (resp.preferred_send_size > fuzz_limits.max_recv_size));
	if (ret)
		return;
	check_params(&p);
	FUZZ_ASSERT(p.initial_send_credits == resp.credits_granted);
	FUZZ_ASSERT(p.max_read_write_size <= resp.max_read_write_size);
}

static void fuzz_data_hdr(const u8 *data, size_t size)
{
	struct afsmbd_data_hdr hdr;
	u8 out[AFSMBD_DATA_HDR_LEN], want[AFSMBD_DATA_HDR_MIN_LEN];
	int ret = afsmbd_decode_data_hdr(data, size, &hdr), n;
	u32 off, dlen;

	if (size < AFSMBD_DATA_HDR_MIN_LEN) {
		FUZZ_ASSERT(ret == -EBADMSG);
		return;
	}
	/* the rules of 3.1.5.8 as applied here, from the raw bytes */
	off = get_le32(data + 12);
	dlen = get_le32(data + 16);
	if ((off & 7) || (u64)off + dlen > size || (dlen && off < 24))
		FUZZ_ASSERT(ret == -EBADMSG);
	else if (!get_le16(data))
		FUZZ_ASSERT(ret == -EPROTO);
	else
		FUZZ_ASSERT(ret == 0);
	if (ret)
		return;
	FUZZ_ASSERT(hdr.credits_requested > 0);
	FUZZ_ASSERT(!(hdr.flags & ~AFSMBD_FLAGS_KNOWN));
	if (hdr.data_length) {
		FUZZ_ASSERT(hdr.data_offset >= AFSMBD_DATA_HDR_LEN);
		FUZZ_ASSERT(!(hdr.data_offset & 7));
		FUZZ_ASSERT((u64)hdr.data_offset + hdr.data_length <= size);
	} else {
		FUZZ_ASSERT(hdr.data_offset == 0);
	}
	/* canonical form: Reserved 0, unknown flags dropped, no stray offset */
	memcpy(want, data, sizeof(want));
	want[4] &= AFSMBD_FLAGS_KNOWN & 0xff;
	want[5] &= AFSMBD_FLAGS_KNOWN >> 8;
	want[6] = 0;
	want[7] = 0;
	if (!hdr.data_length)
		memset(want + 12, 0, 4);
	n = afsmbd_encode_data_hdr(&hdr, out, sizeof(out));
	FUZZ_ASSERT(n == (hdr.data_length ? 24 : 20));
	FUZZ_ASSERT(memcmp(out, want, sizeof(want)) == 0);
}

static void fuzz_buffer_descs(const u8 *data, size_t size)
{
	struct afsmbd_buffer_desc bds[8], one;
	u64 total = 0, sum = 0;
	int ret = afsmbd_decode_buffer_desc_list(data, size, bds, 8, &total);
	int i;

	if (size == 0 || size % 16) {
		FUZZ_ASSERT(ret == -EBADMSG);
		return;
	}
	if (size / 16 > 8) {
		FUZZ_ASSERT(ret == -EMSGSIZE);
		return;
	}
	FUZZ_ASSERT(ret == (int)(size / 16));
	for (i = 0; i < ret; i++) {
		u8 out[16];

		FUZZ_ASSERT(afsmbd_decode_buffer_desc(data + 16 * i, 16,
						      &one) == 0);
		FUZZ_ASSERT(one.offset == bds[i].offset &&
			    one.token == bds[i].token &&
			    one.length == bds[i].length);
		FUZZ_ASSERT(afsmbd_encode_buffer_desc(&one, out, 16) == 16);
		FUZZ_ASSERT(memcmp(out, data + 16 * i, 16) == 0);
		sum += one.length;
	}
	FUZZ_ASSERT(sum == total);
}

/* Everything one parse of a stream produced, for comparing two runs */
struct frame_log {
	u64 err_pos;	/* stream offset right after the bad header */
	u32 npdu;
	u32 lens[64];
	u32 sums[64];	/* simple checksum of each body */
	int err;
	bool partial;	/* stream ended inside a PDU */
};

static void frame_run(const u8 *data, size_t size, u32 max_pdu,
		      const u8 *chunks, size_t nchunks, struct frame_log *log)
{
	struct afsmbd_frame_parser p;
	size_t pos = 0, k = 0;
	bool in_pdu = false;
	u32 got = 0;

	memset(log, 0, sizeof(*log));
	afsmbd_frame_init(&p, max_pdu);
	while (pos < size) {
		size_t chunk = nchunks ? (size_t)(chunks[k++ % nchunks] % 23) + 1
				       : 1;
		size_t off = 0;

		if (chunk > size - pos)
			chunk = size - pos;
		while (off < chunk) {
			struct afsmbd_frame_result res;
			size_t i;
			int ret = afsmbd_frame_feed(&p, data + pos + off,
						    chunk - off, &res);

			FUZZ_ASSERT(res.consumed <= chunk - off);
			FUZZ_ASSERT(res.body_off + res.body_len <= res.consumed);
			if (ret) {
				FUZZ_ASSERT(ret == -EPROTO || ret == -ENODATA ||
					    ret == -EMSGSIZE);
				FUZZ_ASSERT(res.hdr_done && !in_pdu);
				FUZZ_ASSERT(ret != -EMSGSIZE ||
					    res.pdu_len > p.max_pdu);
				log->err = ret;
				log->err_pos = pos + off + res.consumed;
				/* sticky, and nothing more is consumed */
				FUZZ_ASSERT(afsmbd_frame_feed(&p, data, size,
							      &res) == ret);
				FUZZ_ASSERT(res.consumed == 0);
				return;
			}
			FUZZ_ASSERT(res.consumed > 0);
			if (res.hdr_done) {
				FUZZ_ASSERT(!in_pdu && res.body_len == 0);
				FUZZ_ASSERT(res.pdu_len >= 1 &&
					    res.pdu_len <= max_pdu);
				in_pdu = true;
				got = 0;
				if (log->npdu < 64)
					log->lens[log->npdu] = res.pdu_len;
			}
			if (res.body_len) {
				FUZZ_ASSERT(in_pdu);
				got += (u32)res.body_len;
				FUZZ_ASSERT(got <= p.pdu_len);
				for (i = 0; i < res.body_len && log->npdu < 64; i++)
					log->sums[log->npdu] =
						log->sums[log->npdu] * 31 +
						data[pos + off + res.body_off + i];
			}
			if (res.pdu_done) {
				FUZZ_ASSERT(in_pdu && got == p.pdu_len);
				in_pdu = false;
				log->npdu++;
			}
			off += res.consumed;
		}
		pos += chunk;
	}
	log->partial = !afsmbd_frame_idle(&p);
}

static void fuzz_framing(const u8 *data, size_t size)
{
	struct frame_log a, b;
	u32 max_pdu;

	if (size < 2)
		return;
	/* small limits so the limit is hit often */
	max_pdu = ((u32)data[0] << 8 | data[1]) % 600;
	frame_run(data + 2, size - 2, max_pdu, data, size, &a);
	frame_run(data + 2, size - 2, max_pdu, NULL, 0, &b);	/* 1 byte */
	FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
}

/* Reassembler against a straightforward model of the rules */
static void fuzz_reasm(const u8 *data, size_t size)
{
	struct afsmbd_reasm r;
	bool active = false;
	u32 remaining = 0;
	size_t i;

	if (size < 4)
		return;
	afsmbd_reasm_init(&r, get_le32(data) >> (data[0] & 15));
	for (i = 4; i + 8 <= size; i += 8) {
		u32 dlen = get_le32(data + i), rem = get_le32(data + i + 4);
		struct afsmbd_reasm before = r;
		int ev, want;

		/* raw numbers rarely fit: steer some toward valid sequences */
		switch (data[i] & 3) {
		case 1:
			dlen &= 0xfff;
			rem &= 0xffff;
			break;
		case 2:
			if (active) {
				dlen &= 0xfff;
				if (dlen > remaining)
					dlen = remaining;
				rem = remaining - dlen;
			}
			break;
		case 3:
			if (active) {
				dlen = remaining;
				rem = 0;
			}
			break;
		}
		ev = afsmbd_reasm_feed(&r, dlen, rem);
		if (!dlen)
			want = rem > r.max_size ? -EMSGSIZE :
						  AFSMBD_REASM_EMPTY;
		else if (!active)
			want = (u64)dlen + rem > r.max_size ? -EMSGSIZE :
			       rem ? AFSMBD_REASM_FIRST : AFSMBD_REASM_SINGLE;
		else if (dlen > remaining || rem != remaining - dlen)
			want = -EPROTO;
		else
			want = rem ? AFSMBD_REASM_MIDDLE : AFSMBD_REASM_LAST;
		FUZZ_ASSERT(ev == want);
		if (ev < 0 || ev == AFSMBD_REASM_EMPTY) {
			FUZZ_ASSERT(memcmp(&before, &r, sizeof(r)) == 0);
			continue;
		}
		if (!active)
			FUZZ_ASSERT(r.total == dlen + rem &&
				    r.total <= r.max_size);
		active = rem != 0;
		remaining = rem;
		FUZZ_ASSERT(r.active == active && r.remaining == remaining);
	}
}

/* Credit helpers driven by arbitrary operations */
static void fuzz_credits(const u8 *data, size_t size)
{
	u32 send = 0, posted = 0, granted = 0;
	size_t i;

	for (i = 0; i + 3 <= size; i += 3) {
		u16 arg = (u16)(data[i + 1] | data[i + 2] << 8);
		u32 before;
		u16 g;

		switch (data[i] % 5) {
		case 0:		/* peer grants us credits */
			before = send;
			if (afsmbd_credit_add_grant(&send, arg, 300))
				FUZZ_ASSERT(send == before &&
					    (u64)before + arg > 300);
			FUZZ_ASSERT(send <= 300);
			break;
		case 1:		/* we try to send, granting what we may */
			g = afsmbd_credit_grant(posted, granted, send,
						data[i + 1], data[i + 2]);
			FUZZ_ASSERT(granted + g <= posted || g == 0);
			before = send;
			if (afsmbd_credit_take(&send, g) == 0) {
				FUZZ_ASSERT(before >= 2 || (before == 1 && g));
				granted += g;
			} else {
				FUZZ_ASSERT(send == before &&
					    !afsmbd_credit_may_send(before, g));
			}
			break;
		case 2:		/* a message arrives from the peer */
			before = granted;
			if (afsmbd_credit_consume_recv(&granted) == 0) {
				FUZZ_ASSERT(posted > 0);
				posted--;
			} else {
				FUZZ_ASSERT(before == 0);
			}
			break;
		default:	/* post receives */
			posted += data[i + 1] % 8;
			break;
		}
		FUZZ_ASSERT(granted <= posted && granted <= 0xffff);
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	fuzz_negotiate_req(data, size);
	fuzz_negotiate_resp(data, size);
	fuzz_data_hdr(data, size);
	fuzz_buffer_descs(data, size);
	fuzz_framing(data, size);
	fuzz_reasm(data, size);
	fuzz_credits(data, size);
	return 0;
}

#ifdef AFSMBD_FUZZ_STANDALONE
static u64 rng = 0x0f0f1234ull;

static u32 rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (u32)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Start from a valid message of some kind, then damage a few bytes */
static size_t make_input(u8 *buf, size_t cap)
{
	struct afsmbd_negotiate_req req;
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_data_hdr hdr = { .credits_requested = 1 };
	size_t len = rnd() % cap, i, flips;

	for (i = 0; i < len; i++)
		buf[i] = (u8)rnd();
	switch (rnd() % 5) {
	case 0:
		afsmbd_build_negotiate_req(&fuzz_limits, &req);
		afsmbd_encode_negotiate_req(&req, buf, cap);
		len = 20 + rnd() % 8;
		break;
	case 1:
		afsmbd_build_negotiate_fail(0, &resp);
		resp.negotiated_version = AFSMBD_VERSION_1;
		resp.credits_requested = 1;
		resp.credits_granted = 1;
		resp.max_receive_size = 128;
		resp.max_fragmented_size = 131072;
		resp.preferred_send_size = rnd() % 2000;
		afsmbd_encode_negotiate_resp(&resp, buf, cap);
		len = 32 + rnd() % 8;
		break;
	case 2:
		hdr.data_length = rnd() % 64;
		hdr.data_offset = hdr.data_length ? 24 + 8 * (rnd() % 3) : 0;
		afsmbd_encode_data_hdr(&hdr, buf, cap);
		len = hdr.data_offset + hdr.data_length + rnd() % 16;
		if (len < 20)
			len = 20;
		break;
	case 3:		/* a Direct-TCP stream of small PDUs */
		buf[0] = 0x01;
		buf[1] = (u8)rnd();
		for (i = 2; i + 4 < cap && i < len; ) {
			u32 l = rnd() % 40 + 1;

			afsmbd_frame_encode_hdr(l, buf + i, cap - i);
			i += 4 + l;
		}
		break;
	default:
		break;
	}
	if (len > cap)
		len = cap;
	flips = len ? rnd() % 3 : 0;
	for (i = 0; i < flips; i++)
		buf[rnd() % len] ^= (u8)(1u << (rnd() % 8));
	return len;
}

static int run_file(const char *path)
{
	static u8 buf[1 << 20];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	return 0;
}

int main(int argc, char **argv)
{
	static u8 buf[600];
	unsigned long runs = 100000, i;
	int files = 0, a;

	for (a = 1; a < argc; a++) {
		if (!strncmp(argv[a], "-runs=", 6))
			runs = strtoul(argv[a] + 6, NULL, 0);
		else if (!strncmp(argv[a], "-seed=", 6))
			rng = strtoull(argv[a] + 6, NULL, 0) | 1;
		else if (argv[a][0] != '-' && run_file(argv[a]) == 0)
			files++;
	}
	if (files) {
		printf("fuzz replay: %d files, no invariant broken\n", files);
		return 0;
	}
	for (i = 0; i < runs; i++)
		LLVMFuzzerTestOneInput(buf, make_input(buf, sizeof(buf)));
	printf("fuzz replay: %lu random inputs, no invariant broken\n", runs);
	return 0;
}
#endif
