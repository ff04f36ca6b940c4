// SPDX-License-Identifier: GPL-2.0
/* KUnit tests for the SMB-Direct message codecs, negotiation and credits. */

#include <kunit/test.h>
#include "codec.h"

/* ---- helpers building raw wire messages ---- */

static void mk_req(u8 *b, u16 minv, u16 maxv, u16 credits, u32 pref,
		   u32 maxrecv, u32 maxfrag)
{
	struct afsmbd_wire_negotiate_req *w = (void *)b;

	memset(b, 0, AFSMBD_NEGOTIATE_REQ_LEN);
	w->min_version = cpu_to_le16(minv);
	w->max_version = cpu_to_le16(maxv);
	w->credits_requested = cpu_to_le16(credits);
	w->preferred_send_size = cpu_to_le32(pref);
	w->max_receive_size = cpu_to_le32(maxrecv);
	w->max_fragmented_size = cpu_to_le32(maxfrag);
}

static void mk_good_req(u8 *b)
{
	mk_req(b, 0x0100, 0x0100, 10, 1024, 1024, 131072);
}

static void mk_resp(u8 *b, u16 negv, u16 creq, u16 cgr, u32 status,
		    u32 rw, u32 pref, u32 maxrecv, u32 maxfrag)
{
	struct afsmbd_wire_negotiate_resp *w = (void *)b;

	memset(b, 0, AFSMBD_NEGOTIATE_RESP_LEN);
	w->min_version = cpu_to_le16(0x0100);
	w->max_version = cpu_to_le16(0x0100);
	w->negotiated_version = cpu_to_le16(negv);
	w->credits_requested = cpu_to_le16(creq);
	w->credits_granted = cpu_to_le16(cgr);
	w->status = cpu_to_le32(status);
	w->max_read_write_size = cpu_to_le32(rw);
	w->preferred_send_size = cpu_to_le32(pref);
	w->max_receive_size = cpu_to_le32(maxrecv);
	w->max_fragmented_size = cpu_to_le32(maxfrag);
}

static void mk_good_resp(u8 *b)
{
	mk_resp(b, 0x0100, 10, 10, 0, 1048576, 1024, 1024, 131072);
}

static void mk_data(u8 *b, u16 creq, u16 cgr, u16 flags, u32 rem, u32 off,
		    u32 len)
{
	struct afsmbd_wire_data_hdr *w = (void *)b;

	memset(b, 0, AFSMBD_DATA_HDR_LEN);
	w->credits_requested = cpu_to_le16(creq);
	w->credits_granted = cpu_to_le16(cgr);
	w->flags = cpu_to_le16(flags);
	w->remaining_data_length = cpu_to_le32(rem);
	w->data_offset = cpu_to_le32(off);
	w->data_length = cpu_to_le32(len);
}

static const struct afsmbd_limits test_limits = {
	.recv_credit_max = 255,
	.send_credit_target = 255,
	.max_send_size = 1364,
	.max_recv_size = 1364,
	.max_fragmented_recv_size = 1048576,
	.max_read_write_size = 8388608,
};

/* ---- Negotiate Request ---- */

/* [MS-SMBD] 4.1 example request, byte for byte */
static const u8 spec_req[AFSMBD_NEGOTIATE_REQ_LEN] = {
	0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00,
	0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x02, 0x00,
};

static void nreq_roundtrip(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 out[32];
	int ret;

	ret = afsmbd_decode_negotiate_req(spec_req, sizeof(spec_req), &req);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, req.min_version, 0x0100);
	KUNIT_EXPECT_EQ(test, req.max_version, 0x0100);
	KUNIT_EXPECT_EQ(test, req.credits_requested, 10);
	KUNIT_EXPECT_EQ(test, req.preferred_send_size, 1024);
	KUNIT_EXPECT_EQ(test, req.max_receive_size, 1024);
	KUNIT_EXPECT_EQ(test, req.max_fragmented_size, 131072);

	memset(out, 0xaa, sizeof(out));
	ret = afsmbd_encode_negotiate_req(&req, out, sizeof(out));
	KUNIT_ASSERT_EQ(test, ret, AFSMBD_NEGOTIATE_REQ_LEN);
	KUNIT_EXPECT_MEMEQ(test, out, spec_req, sizeof(spec_req));
	/* nothing written past the message */
	KUNIT_EXPECT_EQ(test, out[AFSMBD_NEGOTIATE_REQ_LEN], 0xaa);
}

static void nreq_truncated(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 b[AFSMBD_NEGOTIATE_REQ_LEN + 4] = { 0 };
	size_t len;

	mk_good_req(b);
	for (len = 0; len < AFSMBD_NEGOTIATE_REQ_LEN; len++)
		KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, len, &req),
				-EBADMSG);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, 20, &req), 0);
	/* trailing bytes are tolerated */
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, 24, &req), 0);
}

static void nreq_version(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 b[AFSMBD_NEGOTIATE_REQ_LEN];

	mk_req(b, 0x0200, 0x0200, 10, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EOPNOTSUPP);
	/* fields are still filled so the server can answer */
	KUNIT_EXPECT_EQ(test, req.min_version, 0x0200);
	mk_req(b, 0x0000, 0x00ff, 10, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EOPNOTSUPP);
	mk_req(b, 0x0200, 0x0100, 10, 1024, 1024, 131072);	/* min > max */
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EOPNOTSUPP);
	/* a wider range containing 0x0100 is fine */
	mk_req(b, 0x0001, 0x0300, 10, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
	mk_req(b, 0x0100, 0xffff, 10, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
}

static void nreq_credits_zero(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 b[AFSMBD_NEGOTIATE_REQ_LEN];

	mk_req(b, 0x0100, 0x0100, 0, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EPROTO);
	mk_req(b, 0x0100, 0x0100, 1, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
}

static void nreq_max_receive_size(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 b[AFSMBD_NEGOTIATE_REQ_LEN];

	mk_req(b, 0x0100, 0x0100, 10, 1024, 127, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EPROTO);
	mk_req(b, 0x0100, 0x0100, 10, 1024, 0, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EPROTO);
	/* exactly 128 is allowed by the spec (ksmbd wants > 128) */
	mk_req(b, 0x0100, 0x0100, 10, 1024, 128, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
}

static void nreq_max_fragmented_size(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 b[AFSMBD_NEGOTIATE_REQ_LEN];

	mk_req(b, 0x0100, 0x0100, 10, 1024, 1024, 131071);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req),
			-EPROTO);
	mk_req(b, 0x0100, 0x0100, 10, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
}

static void nreq_reserved_and_small_pref(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 b[AFSMBD_NEGOTIATE_REQ_LEN];

	mk_good_req(b);
	b[4] = 0xff;	/* Reserved: receiver must ignore */
	b[5] = 0xff;
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
	/* PreferredSendSize has no lower bound on the wire */
	mk_req(b, 0x0100, 0x0100, 10, 0, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(b, sizeof(b), &req), 0);
}

static void nreq_encode_errors(struct kunit *test)
{
	struct afsmbd_negotiate_req req;
	u8 out[AFSMBD_NEGOTIATE_REQ_LEN];

	KUNIT_ASSERT_EQ(test, afsmbd_build_negotiate_req(&test_limits, &req), 0);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_req(&req, out, 19),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_req(NULL, out, 20),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_req(&req, NULL, 20),
			-EINVAL);
	req.credits_requested = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_req(&req, out, 20),
			-EINVAL);
	req.credits_requested = 1;
	req.max_version = 0x00ff;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_req(&req, out, 20),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_req(NULL, 20, &req),
			-EINVAL);
}

/* ---- Negotiate Response ---- */

/* [MS-SMBD] 4.1 example response, byte for byte */
static const u8 spec_resp[AFSMBD_NEGOTIATE_RESP_LEN] = {
	0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
	0x0a, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x10, 0x00, 0x00, 0x04, 0x00, 0x00,
	0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
};

static void nresp_roundtrip(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 out[AFSMBD_NEGOTIATE_RESP_LEN];
	int ret;

	ret = afsmbd_decode_negotiate_resp(spec_resp, sizeof(spec_resp), &resp);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, resp.negotiated_version, 0x0100);
	KUNIT_EXPECT_EQ(test, resp.credits_requested, 10);
	KUNIT_EXPECT_EQ(test, resp.credits_granted, 10);
	KUNIT_EXPECT_EQ(test, resp.status, 0);
	KUNIT_EXPECT_EQ(test, resp.max_read_write_size, 1048576);
	KUNIT_EXPECT_EQ(test, resp.preferred_send_size, 1024);
	KUNIT_EXPECT_EQ(test, resp.max_receive_size, 1024);
	KUNIT_EXPECT_EQ(test, resp.max_fragmented_size, 131072);
	ret = afsmbd_encode_negotiate_resp(&resp, out, sizeof(out));
	KUNIT_ASSERT_EQ(test, ret, AFSMBD_NEGOTIATE_RESP_LEN);
	KUNIT_EXPECT_MEMEQ(test, out, spec_resp, sizeof(spec_resp));
}

static void nresp_truncated(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 b[AFSMBD_NEGOTIATE_RESP_LEN];
	size_t len;

	mk_good_resp(b);
	for (len = 0; len < AFSMBD_NEGOTIATE_RESP_LEN; len++)
		KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, len, &resp),
				-EBADMSG);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, 32, &resp), 0);
}

static void nresp_status(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 b[AFSMBD_NEGOTIATE_RESP_LEN];

	mk_resp(b, 0x0100, 10, 10, AFSMBD_STATUS_NOT_SUPPORTED, 1048576, 1024,
		1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, resp.status, AFSMBD_STATUS_NOT_SUPPORTED);

	/* a spec-shaped failure (other fields 0) reports the status too */
	afsmbd_build_negotiate_fail(AFSMBD_STATUS_NOT_SUPPORTED, &resp);
	KUNIT_ASSERT_EQ(test, afsmbd_encode_negotiate_resp(&resp, b, sizeof(b)),
			AFSMBD_NEGOTIATE_RESP_LEN);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-ECONNREFUSED);
	KUNIT_EXPECT_EQ(test, resp.status, AFSMBD_STATUS_NOT_SUPPORTED);
	KUNIT_EXPECT_EQ(test, resp.negotiated_version, 0);
}

static void nresp_version(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 b[AFSMBD_NEGOTIATE_RESP_LEN];

	mk_resp(b, 0x0200, 10, 10, 0, 1048576, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-EOPNOTSUPP);
	mk_resp(b, 0x0000, 10, 10, 0, 1048576, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-EOPNOTSUPP);
}

static void nresp_credits(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 b[AFSMBD_NEGOTIATE_RESP_LEN];

	mk_resp(b, 0x0100, 0, 10, 0, 1048576, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-EPROTO);
	mk_resp(b, 0x0100, 10, 0, 0, 1048576, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-EPROTO);
	mk_resp(b, 0x0100, 1, 1, 0, 1048576, 1024, 1024, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			0);
}

static void nresp_sizes(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 b[AFSMBD_NEGOTIATE_RESP_LEN];

	mk_resp(b, 0x0100, 10, 10, 0, 1048576, 1024, 127, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-EPROTO);
	mk_resp(b, 0x0100, 10, 10, 0, 1048576, 1024, 1024, 131071);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			-EPROTO);
	mk_resp(b, 0x0100, 10, 10, 0, 0, 1024, 128, 131072);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_negotiate_resp(b, sizeof(b), &resp),
			0);
}

static void nresp_encode_errors(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	u8 out[AFSMBD_NEGOTIATE_RESP_LEN];
	int ret;

	ret = afsmbd_decode_negotiate_resp(spec_resp, sizeof(spec_resp), &resp);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_resp(&resp, out, 31),
			-EMSGSIZE);
	resp.credits_granted = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_resp(&resp, out, 32),
			-EINVAL);
	resp.credits_granted = 1;
	resp.negotiated_version = 0x0101;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_resp(&resp, out, 32),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_negotiate_resp(NULL, out, 32),
			-EINVAL);
}

/* ---- Data Transfer header ---- */

static void data_empty_20_bytes(struct kunit *test)
{
	struct afsmbd_data_hdr hdr, in = {
		.credits_requested = 255, .credits_granted = 3,
	};
	u8 b[AFSMBD_DATA_HDR_LEN], out[AFSMBD_DATA_HDR_LEN];

	mk_data(b, 255, 3, 0, 0, 0, 0);
	KUNIT_ASSERT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.credits_requested, 255);
	KUNIT_EXPECT_EQ(test, hdr.credits_granted, 3);
	KUNIT_EXPECT_EQ(test, hdr.data_length, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&in, out, 20), 20);
	KUNIT_EXPECT_MEMEQ(test, out, b, 20);
	/* 24 bytes with padding is fine as well */
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 24, &hdr), 0);
}

static void data_with_payload(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[64], out[AFSMBD_DATA_HDR_LEN];

	memset(b, 0x5a, sizeof(b));
	mk_data(b, 10, 1, AFSMBD_FLAG_RESPONSE_REQUESTED, 1000, 24, 40);
	KUNIT_ASSERT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.flags, AFSMBD_FLAG_RESPONSE_REQUESTED);
	KUNIT_EXPECT_EQ(test, hdr.remaining_data_length, 1000);
	KUNIT_EXPECT_EQ(test, hdr.data_offset, 24);
	KUNIT_EXPECT_EQ(test, hdr.data_length, 40);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, sizeof(out)),
			24);
	KUNIT_EXPECT_MEMEQ(test, out, b, 24);
	/* larger aligned offsets are allowed */
	mk_data(b, 10, 1, 0, 0, 32, 32);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), 0);
}

static void data_truncated(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[AFSMBD_DATA_HDR_LEN];
	size_t len;

	mk_data(b, 10, 0, 0, 0, 0, 0);
	for (len = 0; len < AFSMBD_DATA_HDR_MIN_LEN; len++)
		KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, len, &hdr),
				-EBADMSG);
}

static void data_credits_requested_zero(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[AFSMBD_DATA_HDR_LEN];

	mk_data(b, 0, 5, 0, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), -EPROTO);
}

static void data_offset_misaligned(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[64] = { 0 };
	u32 off;

	for (off = 25; off < 32; off++) {
		mk_data(b, 10, 0, 0, 0, off, 8);
		KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr),
				-EBADMSG);
	}
}

static void data_offset_inside_header(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[64] = { 0 };

	mk_data(b, 10, 0, 0, 0, 0, 8);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), -EBADMSG);
	mk_data(b, 10, 0, 0, 0, 16, 8);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), -EBADMSG);
	mk_data(b, 10, 0, 0, 0, 20, 8);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), -EBADMSG);
}

static void data_out_of_bounds(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[64] = { 0 };

	mk_data(b, 10, 0, 0, 0, 24, 40);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 63, &hdr), -EBADMSG);
	mk_data(b, 10, 0, 0, 0, 24, 41);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), -EBADMSG);
	/* offset + length wraps 32 bits: must not pass */
	mk_data(b, 10, 0, 0, 0, 0xfffffff8, 0x10);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), -EBADMSG);
	mk_data(b, 10, 0, 0, 0, 24, 0xffffffff);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 64, &hdr), -EBADMSG);
}

/*
 * [MS-SMBD] 3.1.5.8 holds without payload too: DataOffset 8-aligned and
 * within the message.  Linux peers send 0; the decoded form reads 0.
 */
static void data_offset_checked_without_payload(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[AFSMBD_DATA_HDR_LEN];

	mk_data(b, 10, 0, 0, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), 0);
	mk_data(b, 10, 0, 0, 0, 16, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.data_offset, 0);
	mk_data(b, 10, 0, 0, 0, 24, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 24, &hdr), 0);
	/* misaligned */
	mk_data(b, 10, 0, 0, 0, 13, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), -EBADMSG);
	/* past the end of the message */
	mk_data(b, 10, 0, 0, 0, 24, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), -EBADMSG);
	mk_data(b, 10, 0, 0, 0, 0xfffffff8, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), -EBADMSG);
}

static void data_unknown_flags_ignored(struct kunit *test)
{
	struct afsmbd_data_hdr hdr;
	u8 b[AFSMBD_DATA_HDR_LEN];

	mk_data(b, 10, 0, 0xfffe, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.flags, 0);
	mk_data(b, 10, 0, 0x8001, 0, 0, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_data_hdr(b, 20, &hdr), 0);
	KUNIT_EXPECT_EQ(test, hdr.flags, AFSMBD_FLAG_RESPONSE_REQUESTED);
}

static void data_encode_errors(struct kunit *test)
{
	struct afsmbd_data_hdr hdr = { .credits_requested = 1 };
	u8 out[AFSMBD_DATA_HDR_LEN];

	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 19), -EMSGSIZE);
	hdr.data_offset = 24;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 24), -EINVAL);
	hdr.data_length = 10;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 23), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 24), 24);
	hdr.data_offset = 20;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 24), -EINVAL);
	hdr.data_offset = 28;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 24), -EINVAL);
	hdr.data_offset = 24;
	hdr.flags = 0x0002;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 24), -EINVAL);
	hdr.flags = 0;
	hdr.credits_requested = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(&hdr, out, 24), -EINVAL);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_data_hdr(NULL, out, 24), -EINVAL);
}

/* ---- Buffer descriptors ---- */

static void bd_roundtrip(struct kunit *test)
{
	static const u8 want[AFSMBD_BUFFER_DESC_LEN] = {
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0xdd, 0xcc, 0xbb, 0xaa, 0x00, 0x10, 0x00, 0x00,
	};
	struct afsmbd_buffer_desc bd = {
		.offset = 0x0102030405060708ull,
		.token = 0xaabbccdd,
		.length = 4096,
	}, back;
	u8 out[AFSMBD_BUFFER_DESC_LEN];

	KUNIT_ASSERT_EQ(test, afsmbd_encode_buffer_desc(&bd, out, 16), 16);
	KUNIT_EXPECT_MEMEQ(test, out, want, sizeof(want));
	KUNIT_ASSERT_EQ(test, afsmbd_decode_buffer_desc(out, 16, &back), 0);
	KUNIT_EXPECT_EQ(test, back.offset, bd.offset);
	KUNIT_EXPECT_EQ(test, back.token, bd.token);
	KUNIT_EXPECT_EQ(test, back.length, bd.length);
	KUNIT_EXPECT_EQ(test, afsmbd_encode_buffer_desc(&bd, out, 15),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc(out, 15, &back),
			-EBADMSG);
}

static void bd_list(struct kunit *test)
{
	struct afsmbd_buffer_desc in, out[4];
	u8 b[4 * AFSMBD_BUFFER_DESC_LEN];
	u64 total = 0;
	int i;

	for (i = 0; i < 4; i++) {
		in.offset = i;
		in.token = 100 + i;
		in.length = 0x80000000u;	/* sum must not wrap 32 bits */
		afsmbd_encode_buffer_desc(&in, b + 16 * i, 16);
	}
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 64, out, 4,
							     &total), 4);
	KUNIT_EXPECT_EQ(test, total, 0x200000000ull);
	KUNIT_EXPECT_EQ(test, out[3].token, 103);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 48, out, 4,
							     NULL), 3);
	/* length must be a non-zero multiple of 16 */
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 0, out, 4,
							     NULL), -EBADMSG);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 15, out, 4,
							     NULL), -EBADMSG);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 17, out, 4,
							     NULL), -EBADMSG);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 63, out, 4,
							     NULL), -EBADMSG);
	/* count bound */
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 64, out, 3,
							     NULL), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, afsmbd_decode_buffer_desc_list(b, 16, out, 0,
							     NULL), -EMSGSIZE);
}

/* ---- Negotiation ---- */

static void limits_check(struct kunit *test)
{
	struct afsmbd_limits l = test_limits;

	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), 0);
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(NULL), -EINVAL);
	l.recv_credit_max = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), -EINVAL);
	l = test_limits;
	l.send_credit_target = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), -EINVAL);
	l = test_limits;
	l.max_send_size = 127;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), -EINVAL);
	l = test_limits;
	l.max_recv_size = 127;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), -EINVAL);
	l = test_limits;
	l.max_fragmented_recv_size = 131071;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), -EINVAL);
	l.max_fragmented_recv_size = AFSMBD_FRAME_MAX_LEN + 1;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), -EINVAL);
	l.max_fragmented_recv_size = AFSMBD_FRAME_MAX_LEN;
	KUNIT_EXPECT_EQ(test, afsmbd_limits_check(&l), 0);
}

static void negotiate_server_params(struct kunit *test)
{
	struct afsmbd_negotiate_req req = {
		.min_version = 0x0100, .max_version = 0x0100,
		.credits_requested = 20, .preferred_send_size = 1000,
		.max_receive_size = 8192, .max_fragmented_size = 262144,
	};
	struct afsmbd_params p;

	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&test_limits, &req, &p),
			0);
	KUNIT_EXPECT_EQ(test, p.version, 0x0100);
	KUNIT_EXPECT_EQ(test, p.max_recv_size, 1000);	/* min(1364, 1000) */
	KUNIT_EXPECT_EQ(test, p.max_send_size, 1364);	/* min(1364, 8192) */
	KUNIT_EXPECT_EQ(test, p.max_fragmented_send_size, 262144);
	KUNIT_EXPECT_EQ(test, p.max_fragmented_recv_size, 1048576);
	KUNIT_EXPECT_EQ(test, p.max_read_write_size, 8388608);
	KUNIT_EXPECT_EQ(test, p.recv_credit_target, 20);
	KUNIT_EXPECT_EQ(test, p.initial_recv_credits, 20);
	KUNIT_EXPECT_EQ(test, p.initial_send_credits, 0);

	/* tiny PreferredSendSize: our receive size floors at 128 */
	req.preferred_send_size = 16;
	req.credits_requested = 1000;
	req.max_receive_size = 128;
	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&test_limits, &req, &p),
			0);
	KUNIT_EXPECT_EQ(test, p.max_recv_size, 128);
	KUNIT_EXPECT_EQ(test, p.max_send_size, 128);
	KUNIT_EXPECT_EQ(test, p.initial_recv_credits, 255);
}

static void negotiate_server_rejects(struct kunit *test)
{
	struct afsmbd_negotiate_req req = {
		.min_version = 0x0100, .max_version = 0x0100,
		.credits_requested = 20, .preferred_send_size = 1000,
		.max_receive_size = 8192, .max_fragmented_size = 262144,
	};
	struct afsmbd_limits bad = test_limits;
	struct afsmbd_params p;

	bad.max_recv_size = 64;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_server(&bad, &req, &p), -EINVAL);
	req.max_version = 0x00ff;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_server(&test_limits, &req, &p),
			-EOPNOTSUPP);
	req.max_version = 0x0100;
	req.max_receive_size = 100;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_server(&test_limits, &req, &p),
			-EPROTO);
}

static void negotiate_end_to_end(struct kunit *test)
{
	struct afsmbd_limits cl = test_limits, sl = test_limits;
	struct afsmbd_negotiate_req req;
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_params sp, cp;
	u8 wire[AFSMBD_NEGOTIATE_RESP_LEN];

	cl.max_send_size = 2000;
	cl.max_recv_size = 1500;
	cl.send_credit_target = 30;
	sl.max_send_size = 1400;
	sl.max_recv_size = 4096;
	sl.recv_credit_max = 16;
	sl.max_read_write_size = 1048576;

	KUNIT_ASSERT_EQ(test, afsmbd_build_negotiate_req(&cl, &req), 0);
	KUNIT_ASSERT_EQ(test, afsmbd_encode_negotiate_req(&req, wire, 32), 20);
	KUNIT_ASSERT_EQ(test, afsmbd_decode_negotiate_req(wire, 20, &req), 0);
	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_server(&sl, &req, &sp), 0);
	afsmbd_build_negotiate_resp(&sp, sp.initial_recv_credits, &resp);
	KUNIT_ASSERT_EQ(test, afsmbd_encode_negotiate_resp(&resp, wire, 32), 32);
	KUNIT_ASSERT_EQ(test, afsmbd_decode_negotiate_resp(wire, 32, &resp), 0);
	KUNIT_ASSERT_EQ(test, afsmbd_negotiate_client(&cl, &resp, &cp), 0);

	/* each side sends at most what the other receives */
	KUNIT_EXPECT_EQ(test, cp.max_send_size, sp.max_recv_size);
	KUNIT_EXPECT_EQ(test, sp.max_send_size, cp.max_recv_size);
	KUNIT_EXPECT_EQ(test, sp.max_recv_size, 2000);
	KUNIT_EXPECT_EQ(test, sp.max_send_size, 1400);
	KUNIT_EXPECT_EQ(test, cp.max_fragmented_send_size,
			sp.max_fragmented_recv_size);
	KUNIT_EXPECT_EQ(test, sp.max_fragmented_send_size,
			cp.max_fragmented_recv_size);
	KUNIT_EXPECT_EQ(test, cp.initial_send_credits, 16);	/* server max */
	KUNIT_EXPECT_EQ(test, sp.recv_credit_target, 30);
	KUNIT_EXPECT_EQ(test, cp.recv_credit_target, 255);
	KUNIT_EXPECT_EQ(test, cp.initial_recv_credits, 255);
	KUNIT_EXPECT_EQ(test, cp.max_read_write_size, 1048576);
}

static void negotiate_client_rejects(struct kunit *test)
{
	struct afsmbd_negotiate_resp resp;
	struct afsmbd_params p;
	int ret;

	ret = afsmbd_decode_negotiate_resp(spec_resp, sizeof(spec_resp), &resp);
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* PreferredSendSize must fit our receive buffers */
	resp.preferred_send_size = test_limits.max_recv_size + 1;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_client(&test_limits, &resp, &p),
			-EPROTO);
	resp.preferred_send_size = test_limits.max_recv_size;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_client(&test_limits, &resp, &p),
			0);
	KUNIT_EXPECT_EQ(test, p.max_recv_size, test_limits.max_recv_size);
	resp.preferred_send_size = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_client(&test_limits, &resp, &p),
			0);
	KUNIT_EXPECT_EQ(test, p.max_recv_size, 128);
	resp.status = 0xc0000001;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_client(&test_limits, &resp, &p),
			-ECONNREFUSED);
	resp.status = 0;
	resp.credits_granted = 0;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_client(&test_limits, &resp, &p),
			-EPROTO);
	resp.credits_granted = 1;
	KUNIT_EXPECT_EQ(test, afsmbd_negotiate_client(NULL, &resp, &p), -EINVAL);
}

/* ---- Credits ---- */

static void credit_last_credit_rule(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, afsmbd_credit_may_send(0, 0));
	KUNIT_EXPECT_FALSE(test, afsmbd_credit_may_send(0, 5));
	KUNIT_EXPECT_FALSE(test, afsmbd_credit_may_send(1, 0));
	KUNIT_EXPECT_TRUE(test, afsmbd_credit_may_send(1, 1));
	KUNIT_EXPECT_TRUE(test, afsmbd_credit_may_send(2, 0));
}

static void credit_take(struct kunit *test)
{
	u32 c = 2;

	KUNIT_EXPECT_EQ(test, afsmbd_credit_take(&c, 0), 0);
	KUNIT_EXPECT_EQ(test, c, 1);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_take(&c, 0), -EAGAIN);
	KUNIT_EXPECT_EQ(test, c, 1);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_take(&c, 4), 0);
	KUNIT_EXPECT_EQ(test, c, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_take(&c, 4), -EAGAIN);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_take(NULL, 4), -EINVAL);
}

static void credit_grant(struct kunit *test)
{
	/* posted, peer holds, our send credits, target, max */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 0, 5, 5, 255), 5);
	/* never more than posted receives not yet announced */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(3, 0, 5, 5, 255), 3);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 8, 5, 20, 255), 2);
	/* target reached: nothing more */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 5, 5, 5, 255), 0);
	/* ... unless our last credit needs a grant and a receive is spare */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 5, 1, 5, 255), 1);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(5, 5, 1, 5, 255), 0);
	/* a peer with no credit gets one even when nothing is spare... */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(1, 0, 9, 0, 255), 1);
	/* ... and a peer asking fewer than 3 (or none) is aimed at 3 */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(4, 0, 9, 0, 255), 3);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 1, 9, 1, 255), 2);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 2, 9, 2, 255), 1);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 3, 9, 2, 255), 0);
	/* unless our own ReceiveCreditMax is smaller */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(10, 0, 9, 1, 2), 2);
	/* our ReceiveCreditMax caps the target */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(100, 0, 9, 50, 16), 16);
	/* inconsistent input: peer holds more than we posted */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(3, 4, 1, 10, 255), 0);
	/* the peer's total stays within 16 bits */
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(100000, 65530, 9, 65535,
						  65535), 5);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_grant(100000, 65535, 1, 65535,
						  65535), 0);
}

static void credit_add_grant(struct kunit *test)
{
	u32 c = 0;

	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(&c, 10, 255), 0);
	KUNIT_EXPECT_EQ(test, c, 10);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(&c, 245, 255), 0);
	KUNIT_EXPECT_EQ(test, c, 255);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(&c, 1, 255), -EPROTO);
	KUNIT_EXPECT_EQ(test, c, 255);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(&c, 0, 255), 0);
	/* the 16-bit ceiling holds even with a larger bound */
	c = 65535;
	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(&c, 1, 0xffffffff),
			-EPROTO);
	c = 65000;
	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(&c, 535, 0xffffffff), 0);
	KUNIT_EXPECT_EQ(test, c, 65535);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_add_grant(NULL, 1, 10), -EINVAL);
}

static void credit_consume_recv(struct kunit *test)
{
	u32 c = 1;

	KUNIT_EXPECT_EQ(test, afsmbd_credit_consume_recv(&c), 0);
	KUNIT_EXPECT_EQ(test, c, 0);
	KUNIT_EXPECT_EQ(test, afsmbd_credit_consume_recv(&c), -EPROTO);
	KUNIT_EXPECT_EQ(test, c, 0);
}

/* Two peers trading one-way traffic never stall under the last-credit rule */
static void credit_no_deadlock(struct kunit *test)
{
	u32 a_send = 1, a_posted = 1, a_recv = 1;	/* A granted B one */
	u32 b_send = 1, b_posted = 1, b_recv = 1;
	int i;

	for (i = 0; i < 100; i++) {
		/* A has data queued, posts a spare receive as 3.1.5.9 asks */
		u16 g;

		a_posted++;
		g = afsmbd_credit_grant(a_posted, a_recv, a_send, 1, 1);
		KUNIT_ASSERT_TRUE(test, afsmbd_credit_may_send(a_send, g));
		KUNIT_ASSERT_EQ(test, afsmbd_credit_take(&a_send, g), 0);
		a_recv += g;
		/* B receives it */
		KUNIT_ASSERT_EQ(test, afsmbd_credit_consume_recv(&b_recv), 0);
		b_posted--;
		KUNIT_ASSERT_EQ(test, afsmbd_credit_add_grant(&b_send, g, 255),
				0);
		/* B reposts and answers with a grant */
		b_posted++;
		g = afsmbd_credit_grant(b_posted, b_recv, b_send, 1, 1);
		KUNIT_ASSERT_TRUE(test, afsmbd_credit_may_send(b_send, g));
		KUNIT_ASSERT_EQ(test, afsmbd_credit_take(&b_send, g), 0);
		b_recv += g;
		KUNIT_ASSERT_EQ(test, afsmbd_credit_consume_recv(&a_recv), 0);
		a_posted--;
		KUNIT_ASSERT_EQ(test, afsmbd_credit_add_grant(&a_send, g, 255),
				0);
		KUNIT_ASSERT_GE(test, a_send, 1);
		KUNIT_ASSERT_GE(test, b_send, 1);
	}
}

static struct kunit_case af_smbdirect_codec_cases[] = {
	KUNIT_CASE(nreq_roundtrip),
	KUNIT_CASE(nreq_truncated),
	KUNIT_CASE(nreq_version),
	KUNIT_CASE(nreq_credits_zero),
	KUNIT_CASE(nreq_max_receive_size),
	KUNIT_CASE(nreq_max_fragmented_size),
	KUNIT_CASE(nreq_reserved_and_small_pref),
	KUNIT_CASE(nreq_encode_errors),
	KUNIT_CASE(nresp_roundtrip),
	KUNIT_CASE(nresp_truncated),
	KUNIT_CASE(nresp_status),
	KUNIT_CASE(nresp_version),
	KUNIT_CASE(nresp_credits),
	KUNIT_CASE(nresp_sizes),
	KUNIT_CASE(nresp_encode_errors),
	KUNIT_CASE(data_empty_20_bytes),
	KUNIT_CASE(data_with_payload),
	KUNIT_CASE(data_truncated),
	KUNIT_CASE(data_credits_requested_zero),
	KUNIT_CASE(data_offset_misaligned),
	KUNIT_CASE(data_offset_inside_header),
	KUNIT_CASE(data_out_of_bounds),
	KUNIT_CASE(data_offset_checked_without_payload),
	KUNIT_CASE(data_unknown_flags_ignored),
	KUNIT_CASE(data_encode_errors),
	KUNIT_CASE(bd_roundtrip),
	KUNIT_CASE(bd_list),
	{}
};

static struct kunit_case af_smbdirect_negotiate_cases[] = {
	KUNIT_CASE(limits_check),
	KUNIT_CASE(negotiate_server_params),
	KUNIT_CASE(negotiate_server_rejects),
	KUNIT_CASE(negotiate_end_to_end),
	KUNIT_CASE(negotiate_client_rejects),
	KUNIT_CASE(credit_last_credit_rule),
	KUNIT_CASE(credit_take),
	KUNIT_CASE(credit_grant),
	KUNIT_CASE(credit_add_grant),
	KUNIT_CASE(credit_consume_recv),
	KUNIT_CASE(credit_no_deadlock),
	{}
};

static struct kunit_suite af_smbdirect_codec_suite = {
	.name = "af_smbdirect_codec",
	.test_cases = af_smbdirect_codec_cases,
};

static struct kunit_suite af_smbdirect_negotiate_suite = {
	.name = "af_smbdirect_negotiate",
	.test_cases = af_smbdirect_negotiate_cases,
};

kunit_test_suites(&af_smbdirect_codec_suite, &af_smbdirect_negotiate_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests for the af_smbdirect SMB-Direct codec");
