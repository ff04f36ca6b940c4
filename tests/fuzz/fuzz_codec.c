// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzz targets for the codec, one per area: the negotiate and data
 * transfer decoders and encoders (round trips both ways, and the encoders
 * accepting exactly what the decoders accept), a whole negotiate between
 * two sets of limits, buffer descriptors, the Direct-TCP parser fed random
 * splits, the reassembler and the credit helpers.  Each checks invariants
 * restated from [MS-SMBD] and the codec's kernel-doc.  driver.c turns
 * them into libFuzzer binaries and the replayer.
 */
#include <string.h>
#include "fuzz.h"

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

/* Negotiated parameters within the local limits they came from. */
static void check_limits_params(const struct afsmbd_limits *l,
				const struct afsmbd_params *p)
{
	FUZZ_ASSERT(p->version == AFSMBD_VERSION_1);
	FUZZ_ASSERT(p->recv_credit_max == l->recv_credit_max &&
		    p->send_credit_target == l->send_credit_target);
	FUZZ_ASSERT(p->max_send_size >= AFSMBD_MIN_RECEIVE_SIZE &&
		    p->max_send_size <= l->max_send_size);
	FUZZ_ASSERT(p->max_recv_size >= AFSMBD_MIN_RECEIVE_SIZE &&
		    p->max_recv_size <= l->max_recv_size);
	FUZZ_ASSERT(p->max_fragmented_recv_size == l->max_fragmented_recv_size);
	FUZZ_ASSERT(p->max_fragmented_send_size >= AFSMBD_MIN_FRAGMENTED_SIZE);
	FUZZ_ASSERT(p->initial_recv_credits >= 1 &&
		    p->initial_recv_credits <= l->recv_credit_max);
}

void fuzz_negotiate_req(const u8 *data, size_t size)
{
	struct afsmbd_negotiate_req req, raw;
	struct afsmbd_params p;
	u8 out[AFSMBD_NEGOTIATE_REQ_LEN], want[AFSMBD_NEGOTIATE_REQ_LEN];
	int ret = afsmbd_decode_negotiate_req(data, size, &req);

	if (size < AFSMBD_NEGOTIATE_REQ_LEN) {
		FUZZ_ASSERT(ret == -EBADMSG);
		return;
	}
	/* the same fields handed to the encoder: it must refuse the same */
	raw = (struct afsmbd_negotiate_req){
		.min_version = get_le16(data), .max_version = get_le16(data + 2),
		.credits_requested = get_le16(data + 6),
		.preferred_send_size = get_le32(data + 8),
		.max_receive_size = get_le32(data + 12),
		.max_fragmented_size = get_le32(data + 16),
	};
	FUZZ_ASSERT((afsmbd_encode_negotiate_req(&raw, out, sizeof(out)) ==
		     AFSMBD_NEGOTIATE_REQ_LEN) == (ret == 0));
	FUZZ_ASSERT(afsmbd_encode_negotiate_req(&raw, out, sizeof(out) - 1) ==
		    (ret ? -EINVAL : -EMSGSIZE));
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

/* Field by field: the structs have padding memcmp would compare. */
static bool resp_eq(const struct afsmbd_negotiate_resp *a,
		    const struct afsmbd_negotiate_resp *b)
{
	return a->min_version == b->min_version &&
	       a->max_version == b->max_version &&
	       a->negotiated_version == b->negotiated_version &&
	       a->credits_requested == b->credits_requested &&
	       a->credits_granted == b->credits_granted &&
	       a->status == b->status &&
	       a->max_read_write_size == b->max_read_write_size &&
	       a->preferred_send_size == b->preferred_send_size &&
	       a->max_receive_size == b->max_receive_size &&
	       a->max_fragmented_size == b->max_fragmented_size;
}

static bool req_eq(const struct afsmbd_negotiate_req *a,
		   const struct afsmbd_negotiate_req *b)
{
	return a->min_version == b->min_version &&
	       a->max_version == b->max_version &&
	       a->credits_requested == b->credits_requested &&
	       a->preferred_send_size == b->preferred_send_size &&
	       a->max_receive_size == b->max_receive_size &&
	       a->max_fragmented_size == b->max_fragmented_size;
}

void fuzz_negotiate_resp(const u8 *data, size_t size)
{
	struct afsmbd_negotiate_resp resp, back;
	struct afsmbd_params p;
	u8 out[AFSMBD_NEGOTIATE_RESP_LEN], want[AFSMBD_NEGOTIATE_RESP_LEN];
	int ret = afsmbd_decode_negotiate_resp(data, size, &resp), n;

	if (size < AFSMBD_NEGOTIATE_RESP_LEN) {
		FUZZ_ASSERT(ret == -EBADMSG);
		return;
	}
	/*
	 * The decoded fields re-encode whenever the decoder accepted them or
	 * they are a failure response (Status alone matters there), and
	 * decode again to the same fields and verdict.
	 */
	n = afsmbd_encode_negotiate_resp(&resp, out, sizeof(out));
	FUZZ_ASSERT((n == AFSMBD_NEGOTIATE_RESP_LEN) ==
		    (ret == 0 || resp.status != 0));
	if (n > 0) {
		FUZZ_ASSERT(afsmbd_decode_negotiate_resp(out, n, &back) == ret);
		FUZZ_ASSERT(resp_eq(&back, &resp));
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

/* Local limits from 20 bytes; @steer maps them into the valid ranges. */
static void limits_from(const u8 *d, bool steer, struct afsmbd_limits *l)
{
	l->recv_credit_max = get_le16(d);
	l->send_credit_target = get_le16(d + 2);
	l->max_send_size = get_le32(d + 4);
	l->max_recv_size = get_le32(d + 8);
	l->max_fragmented_recv_size = get_le32(d + 12);
	l->max_read_write_size = get_le32(d + 16);
	if (!steer)
		return;
	l->recv_credit_max = 1 + l->recv_credit_max % 4096;
	l->send_credit_target = 1 + l->send_credit_target % 65535;
	l->max_send_size = 128 + l->max_send_size % 65409;
	l->max_recv_size = 128 + l->max_recv_size % 65409;
	l->max_fragmented_recv_size = 131072 + l->max_fragmented_recv_size %
					       (AFSMBD_FRAME_MAX_LEN - 131071);
}

/*
 * A whole negotiate between a client and a server with arbitrary limits:
 * request built, encoded, decoded, answered, the response encoded,
 * decoded and accepted; both ends then agree on what each may send.
 */
void fuzz_handshake(const u8 *data, size_t size)
{
	struct afsmbd_limits cl, sl;
	struct afsmbd_negotiate_req req, req2;
	struct afsmbd_negotiate_resp resp, resp2;
	struct afsmbd_params cp, sp;
	u8 buf[AFSMBD_NEGOTIATE_RESP_LEN];
	u16 granted;
	int ret;

	if (size < 41)
		return;
	limits_from(data + 1, data[0] & 1, &cl);
	limits_from(data + 21, data[0] & 2, &sl);

	ret = afsmbd_build_negotiate_req(&cl, &req);
	FUZZ_ASSERT(ret == afsmbd_limits_check(&cl));
	if (ret)
		return;
	FUZZ_ASSERT(afsmbd_encode_negotiate_req(&req, buf, sizeof(buf)) ==
		    AFSMBD_NEGOTIATE_REQ_LEN);
	FUZZ_ASSERT(afsmbd_decode_negotiate_req(buf, AFSMBD_NEGOTIATE_REQ_LEN,
						&req2) == 0);
	FUZZ_ASSERT(req_eq(&req, &req2));

	ret = afsmbd_negotiate_server(&sl, &req2, &sp);
	FUZZ_ASSERT(ret == afsmbd_limits_check(&sl));
	if (ret) {
		/* a server that cannot serve refuses, and the client sees it */
		afsmbd_build_negotiate_fail(AFSMBD_STATUS_NOT_SUPPORTED, &resp);
		FUZZ_ASSERT(afsmbd_encode_negotiate_resp(&resp, buf,
							 sizeof(buf)) ==
			    AFSMBD_NEGOTIATE_RESP_LEN);
		FUZZ_ASSERT(afsmbd_decode_negotiate_resp(buf, sizeof(buf),
							 &resp2) ==
			    -ECONNREFUSED);
		FUZZ_ASSERT(afsmbd_negotiate_client(&cl, &resp2, &cp) ==
			    -ECONNREFUSED);
		return;
	}
	check_limits_params(&sl, &sp);
	FUZZ_ASSERT(sp.recv_credit_target == cl.send_credit_target);
	FUZZ_ASSERT(sp.max_fragmented_send_size == cl.max_fragmented_recv_size);
	/* grant what was posted: at least one, at most what was asked */
	granted = sp.initial_recv_credits;
	FUZZ_ASSERT(granted >= 1 && granted <= cl.send_credit_target &&
		    granted <= sl.recv_credit_max);
	afsmbd_build_negotiate_resp(&sp, granted, &resp);
	FUZZ_ASSERT(afsmbd_encode_negotiate_resp(&resp, buf, sizeof(buf)) ==
		    AFSMBD_NEGOTIATE_RESP_LEN);
	FUZZ_ASSERT(afsmbd_decode_negotiate_resp(buf, sizeof(buf), &resp2) ==
		    0);
	FUZZ_ASSERT(resp_eq(&resp, &resp2));

	FUZZ_ASSERT(afsmbd_negotiate_client(&cl, &resp2, &cp) == 0);
	check_limits_params(&cl, &cp);
	FUZZ_ASSERT(cp.initial_send_credits == granted);
	FUZZ_ASSERT(cp.recv_credit_target == sl.send_credit_target);
	/* what each end sends fits what the other receives */
	FUZZ_ASSERT(cp.max_send_size <= sp.max_recv_size);
	FUZZ_ASSERT(sp.max_send_size <= cp.max_recv_size);
	FUZZ_ASSERT(cp.max_fragmented_send_size == sp.max_fragmented_recv_size);
	FUZZ_ASSERT(sp.max_fragmented_send_size == cp.max_fragmented_recv_size);
	FUZZ_ASSERT(cp.max_read_write_size <= cl.max_read_write_size &&
		    cp.max_read_write_size <= sl.max_read_write_size);
	FUZZ_ASSERT(afsmbd_params_max_payload(&cp) ==
		    cp.max_send_size - AFSMBD_DATA_HDR_LEN);
}

static void data_hdr_decode(const u8 *data, size_t size)
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

/*
 * The encoder the other way round: raw fields it accepts decode back to
 * themselves (with the payload they promise), and it refuses what a
 * strict receiver would not take.
 */
static void data_hdr_encode(const u8 *data)
{
	static u8 msg[AFSMBD_DATA_HDR_LEN + 4096];
	struct afsmbd_data_hdr raw = {
		.credits_requested = get_le16(data),
		.credits_granted = get_le16(data + 2),
		.flags = get_le16(data + 4),
		.remaining_data_length = get_le32(data + 8),
		.data_offset = get_le32(data + 12),
		.data_length = get_le32(data + 16),
	}, back;
	bool valid;
	u32 mlen;
	int n;

	/* steer half the offsets and lengths into a buffer we can pass */
	if (data[6] & 1) {
		raw.data_offset = 8 * (raw.data_offset % 8);
		raw.data_length %= 2048;
	}
	valid = raw.credits_requested && !(raw.flags & ~AFSMBD_FLAGS_KNOWN) &&
		(raw.data_length ? raw.data_offset >= 24 &&
		 !(raw.data_offset & 7) &&
		 (u64)raw.data_offset + raw.data_length <= 0xFFFFFFFFull :
		 !raw.data_offset);
	n = afsmbd_encode_data_hdr(&raw, msg, sizeof(msg));
	FUZZ_ASSERT(valid ? n == (raw.data_length ? 24 : 20) : n == -EINVAL);
	FUZZ_ASSERT(afsmbd_encode_data_hdr(&raw, msg, n > 0 ? n - 1 : 0) ==
		    (valid ? -EMSGSIZE : -EINVAL));
	if (!valid || (u64)raw.data_offset + raw.data_length > sizeof(msg))
		return;
	mlen = raw.data_length ? raw.data_offset + raw.data_length : (u32)n;
	FUZZ_ASSERT(afsmbd_decode_data_hdr(msg, mlen, &back) == 0);
	FUZZ_ASSERT(back.credits_requested == raw.credits_requested &&
		    back.credits_granted == raw.credits_granted &&
		    back.flags == raw.flags &&
		    back.remaining_data_length == raw.remaining_data_length &&
		    back.data_offset == raw.data_offset &&
		    back.data_length == raw.data_length);
	if (raw.data_length)
		FUZZ_ASSERT(afsmbd_decode_data_hdr(msg, mlen - 1, &back) ==
			    -EBADMSG);
}

void fuzz_buffer_descs(const u8 *data, size_t size)
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

static void put_le32(u8 *p, u32 v)
{
	p[0] = (u8)v;
	p[1] = (u8)(v >> 8);
	p[2] = (u8)(v >> 16);
	p[3] = (u8)(v >> 24);
}

void fuzz_data_hdr(const u8 *data, size_t size)
{
	static u8 msg[1024];
	u32 off, dlen;

	/*
	 * Raw offsets and lengths rarely land inside the message: with bit 1
	 * of Reserved, put them there (aligned or not), where only the
	 * alignment and the exact end decide.
	 */
	if (size >= AFSMBD_DATA_HDR_MIN_LEN && size <= sizeof(msg) &&
	    (data[6] & 2)) {
		memcpy(msg, data, size);
		off = 24 + get_le32(data + 12) % 64;
		dlen = get_le32(data + 16) % (size > off ? size - off + 2 : 8);
		put_le32(msg + 12, off);
		put_le32(msg + 16, dlen);
		data = msg;
	}
	data_hdr_decode(data, size);
	if (size >= AFSMBD_DATA_HDR_MIN_LEN)
		data_hdr_encode(data);
}

/* Everything one parse of a stream produced, for comparing two runs */
struct frame_log {
	u64 err_pos;	/* stream offset right after the bad header */
	u32 npdu;
	u32 lens[64];
	int err;
	bool partial;	/* stream ended inside a PDU */
	size_t out_len;	/* bytes re-encoded from what the parser found */
	u8 out[1024];
};

/*
 * Parse @size bytes fed in pieces: sizes from @splits (cycled, 1..256
 * each), single bytes if @nsplits is 0, or everything at once if
 * @nsplits is SIZE_MAX.  Each header found is encoded again and each body
 * run appended, so the log's out[] must reproduce the input it consumed.
 */
static void frame_run(const u8 *data, size_t size, u32 max_pdu,
		      const u8 *splits, size_t nsplits, struct frame_log *log)
{
	struct afsmbd_frame_parser p;
	size_t pos = 0, k = 0;
	bool in_pdu = false;
	u32 got = 0;

	memset(log, 0, sizeof(*log));
	FUZZ_ASSERT(size <= sizeof(log->out));
	afsmbd_frame_init(&p, max_pdu);
	FUZZ_ASSERT(afsmbd_frame_idle(&p));
	while (pos < size) {
		size_t chunk = nsplits == SIZE_MAX ? size - pos :
			       nsplits ? (size_t)splits[k++ % nsplits] + 1 : 1;
		size_t off = 0;

		if (chunk > size - pos)
			chunk = size - pos;
		while (off < chunk) {
			struct afsmbd_frame_result res;
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
				/* length 0 has no encoding either */
				if (ret == -ENODATA)
					FUZZ_ASSERT(afsmbd_frame_encode_hdr(0,
						log->out, 4) == -EINVAL);
				log->err = ret;
				log->err_pos = pos + off + res.consumed;
				/* sticky, and nothing more is consumed */
				FUZZ_ASSERT(afsmbd_frame_feed(&p, data, size,
							      &res) == ret);
				FUZZ_ASSERT(res.consumed == 0);
				FUZZ_ASSERT(!afsmbd_frame_idle(&p));
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
				FUZZ_ASSERT(afsmbd_frame_encode_hdr(res.pdu_len,
						log->out + log->out_len, 4) == 4);
				log->out_len += 4;
			}
			if (res.body_len) {
				FUZZ_ASSERT(in_pdu);
				got += (u32)res.body_len;
				FUZZ_ASSERT(got <= p.pdu_len);
				memcpy(log->out + log->out_len,
				       data + pos + off + res.body_off,
				       res.body_len);
				log->out_len += res.body_len;
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
	FUZZ_ASSERT(log->partial == (in_pdu || log->out_len < size));
}

/*
 * The Direct-TCP parser: input is max_pdu (2 bytes), a split count n and
 * n split sizes, then the stream.  Random splits, single bytes and one
 * write must find the same PDUs, and what was found re-encodes to the
 * stream itself.
 */
void fuzz_framing(const u8 *data, size_t size)
{
	struct frame_log a, b, c;
	size_t nsplits, hdr;
	u32 max_pdu;

	if (size < 3)
		return;
	nsplits = data[2] % 32;
	hdr = 3 + nsplits;
	if (size < hdr)
		return;
	/*
	 * Small limits so the limit is hit often, sometimes the largest, and
	 * sometimes the first PDU's own length or one less: the boundary.
	 */
	max_pdu = (u32)data[0] << 8 | data[1];
	if (data[0] & 0x80)
		max_pdu = 0xFFFFFFFFu;
	else if ((data[0] & 0x40) && size >= hdr + 4)
		max_pdu = ((u32)data[hdr + 1] << 16 | (u32)data[hdr + 2] << 8 |
			   data[hdr + 3]) - (data[1] & 1);
	else
		max_pdu %= 600;
	if (size - hdr > sizeof(a.out))
		size = hdr + sizeof(a.out);
	frame_run(data + hdr, size - hdr, max_pdu, data + 3, nsplits, &a);
	frame_run(data + hdr, size - hdr, max_pdu, NULL, 0, &b);
	frame_run(data + hdr, size - hdr, max_pdu, NULL, SIZE_MAX, &c);
	FUZZ_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
	FUZZ_ASSERT(memcmp(&a, &c, sizeof(a)) == 0);
	FUZZ_ASSERT(memcmp(a.out, data + hdr, a.out_len) == 0);
}

/* Reassembler against a straightforward model of the rules */
void fuzz_reasm(const u8 *data, size_t size)
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
void fuzz_credits(const u8 *data, size_t size)
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

static u64 *rng;

static u32 rnd(void)
{
	*rng ^= *rng >> 12;
	*rng ^= *rng << 25;
	*rng ^= *rng >> 27;
	return (u32)((*rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Start from a valid message of some kind, then damage a few bytes */
size_t fuzz_random_input(u8 *buf, size_t cap, u64 *state)
{
	struct afsmbd_negotiate_req req;
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_data_hdr hdr = { .credits_requested = 1 };
	size_t len, i, flips;

	rng = state;
	len = rnd() % cap;
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
	case 3:		/* a Direct-TCP stream of small PDUs, random splits */
		buf[0] = 0x01;
		buf[1] = (u8)rnd();
		buf[2] = (u8)(rnd() % 32);
		for (i = 3 + buf[2]; i + 4 < cap && i < len; ) {
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
