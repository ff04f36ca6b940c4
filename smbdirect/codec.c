// SPDX-License-Identifier: GPL-2.0
/* Pure SMB-Direct/Direct-TCP codec: encode, decode, validate, frame, count. */

#include "codec.h"

/*
 * Our own tiny helpers so the file needs nothing beyond the four headers
 * codec.h includes (the userspace shim provides exactly those).
 */
static inline u32 afsmbd_min_u32(u32 a, u32 b)
{
	return a < b ? a : b;
}

static inline u32 afsmbd_max_u32(u32 a, u32 b)
{
	return a > b ? a : b;
}

#define AFSMBD_U16_MAX	0xFFFFu

/* ---- Connection phases ---- */

bool afsmbd_state_may_enter(enum afsmbd_cstate from, enum afsmbd_cstate to)
{
	if (from == AFSMBD_C_FAILED)
		return false;
	if (to == AFSMBD_C_FAILED)
		return true;
	switch (from) {
	case AFSMBD_C_IDLE:
		return to == AFSMBD_C_RESOLVE_ADDR || to == AFSMBD_C_ACCEPT;
	case AFSMBD_C_RESOLVE_ADDR:
		return to == AFSMBD_C_RESOLVE_ROUTE || to == AFSMBD_C_IDLE;
	case AFSMBD_C_RESOLVE_ROUTE:
		return to == AFSMBD_C_CONNECT;
	case AFSMBD_C_CONNECT:
		return to == AFSMBD_C_NEGOTIATE;
	case AFSMBD_C_ACCEPT:
		/* The request can beat ESTABLISHED to the server. */
		return to == AFSMBD_C_NEGOTIATE || to == AFSMBD_C_CONNECTED;
	case AFSMBD_C_NEGOTIATE:
		return to == AFSMBD_C_CONNECTED;
	case AFSMBD_C_CONNECTED:
		return to == AFSMBD_C_DRAINING;
	default:
		return false;
	}
}

/* ---- Negotiate Request ---- */

static int afsmbd_check_negotiate_req(const struct afsmbd_negotiate_req *req)
{
	/* Any range that contains 0x0100 will do; the rest is ignored. */
	if (req->min_version > AFSMBD_VERSION_1 ||
	    req->max_version < AFSMBD_VERSION_1)
		return -EOPNOTSUPP;
	if (req->credits_requested == 0 ||
	    req->max_receive_size < AFSMBD_MIN_RECEIVE_SIZE ||
	    req->max_fragmented_size < AFSMBD_MIN_FRAGMENTED_SIZE)
		return -EPROTO;
	return 0;
}

int afsmbd_encode_negotiate_req(const struct afsmbd_negotiate_req *req,
				void *buf, size_t size)
{
	struct afsmbd_wire_negotiate_req *w = buf;

	if (!req || !buf || afsmbd_check_negotiate_req(req))
		return -EINVAL;
	if (size < AFSMBD_NEGOTIATE_REQ_LEN)
		return -EMSGSIZE;

	w->min_version = cpu_to_le16(req->min_version);
	w->max_version = cpu_to_le16(req->max_version);
	w->reserved = 0;
	w->credits_requested = cpu_to_le16(req->credits_requested);
	w->preferred_send_size = cpu_to_le32(req->preferred_send_size);
	w->max_receive_size = cpu_to_le32(req->max_receive_size);
	w->max_fragmented_size = cpu_to_le32(req->max_fragmented_size);
	return AFSMBD_NEGOTIATE_REQ_LEN;
}

int afsmbd_decode_negotiate_req(const void *buf, size_t len,
				struct afsmbd_negotiate_req *req)
{
	const struct afsmbd_wire_negotiate_req *w = buf;

	if (!req || (!buf && len))
		return -EINVAL;
	/* Longer is fine: the spec only sets a lower bound. */
	if (len < AFSMBD_NEGOTIATE_REQ_LEN)
		return -EBADMSG;

	req->min_version = le16_to_cpu(w->min_version);
	req->max_version = le16_to_cpu(w->max_version);
	req->credits_requested = le16_to_cpu(w->credits_requested);
	req->preferred_send_size = le32_to_cpu(w->preferred_send_size);
	req->max_receive_size = le32_to_cpu(w->max_receive_size);
	req->max_fragmented_size = le32_to_cpu(w->max_fragmented_size);
	return afsmbd_check_negotiate_req(req);
}

/* ---- Negotiate Response ---- */

static int afsmbd_check_negotiate_resp(const struct afsmbd_negotiate_resp *resp)
{
	/* Status first: a failure response has every other field zeroed. */
	if (resp->status != 0)
		return -ECONNREFUSED;
	if (resp->negotiated_version != AFSMBD_VERSION_1)
		return -EOPNOTSUPP;
	if (resp->credits_requested == 0 || resp->credits_granted == 0 ||
	    resp->max_receive_size < AFSMBD_MIN_RECEIVE_SIZE ||
	    resp->max_fragmented_size < AFSMBD_MIN_FRAGMENTED_SIZE)
		return -EPROTO;
	return 0;
}

int afsmbd_encode_negotiate_resp(const struct afsmbd_negotiate_resp *resp,
				 void *buf, size_t size)
{
	struct afsmbd_wire_negotiate_resp *w = buf;

	if (!resp || !buf)
		return -EINVAL;
	/* A failure response only needs the status; see build_negotiate_fail */
	if (resp->status == 0 && afsmbd_check_negotiate_resp(resp))
		return -EINVAL;
	if (size < AFSMBD_NEGOTIATE_RESP_LEN)
		return -EMSGSIZE;

	w->min_version = cpu_to_le16(resp->min_version);
	w->max_version = cpu_to_le16(resp->max_version);
	w->negotiated_version = cpu_to_le16(resp->negotiated_version);
	w->reserved = 0;
	w->credits_requested = cpu_to_le16(resp->credits_requested);
	w->credits_granted = cpu_to_le16(resp->credits_granted);
	w->status = cpu_to_le32(resp->status);
	w->max_read_write_size = cpu_to_le32(resp->max_read_write_size);
	w->preferred_send_size = cpu_to_le32(resp->preferred_send_size);
	w->max_receive_size = cpu_to_le32(resp->max_receive_size);
	w->max_fragmented_size = cpu_to_le32(resp->max_fragmented_size);
	return AFSMBD_NEGOTIATE_RESP_LEN;
}

int afsmbd_decode_negotiate_resp(const void *buf, size_t len,
				 struct afsmbd_negotiate_resp *resp)
{
	const struct afsmbd_wire_negotiate_resp *w = buf;

	if (!resp || (!buf && len))
		return -EINVAL;
	if (len < AFSMBD_NEGOTIATE_RESP_LEN)
		return -EBADMSG;

	resp->min_version = le16_to_cpu(w->min_version);
	resp->max_version = le16_to_cpu(w->max_version);
	resp->negotiated_version = le16_to_cpu(w->negotiated_version);
	resp->credits_requested = le16_to_cpu(w->credits_requested);
	resp->credits_granted = le16_to_cpu(w->credits_granted);
	resp->status = le32_to_cpu(w->status);
	resp->max_read_write_size = le32_to_cpu(w->max_read_write_size);
	resp->preferred_send_size = le32_to_cpu(w->preferred_send_size);
	resp->max_receive_size = le32_to_cpu(w->max_receive_size);
	resp->max_fragmented_size = le32_to_cpu(w->max_fragmented_size);
	return afsmbd_check_negotiate_resp(resp);
}

/* ---- Data Transfer header ---- */

int afsmbd_encode_data_hdr(const struct afsmbd_data_hdr *hdr,
			   void *buf, size_t size)
{
	struct afsmbd_wire_data_hdr *w = buf;
	int hlen;

	if (!hdr || !buf)
		return -EINVAL;
	/* Send only what a strict receiver accepts. */
	if (hdr->credits_requested == 0 || (hdr->flags & ~AFSMBD_FLAGS_KNOWN))
		return -EINVAL;
	if (hdr->data_length == 0) {
		if (hdr->data_offset != 0)
			return -EINVAL;
		hlen = AFSMBD_DATA_HDR_MIN_LEN;	/* as Linux peers send */
	} else {
		if (hdr->data_offset < AFSMBD_DATA_HDR_LEN ||
		    (hdr->data_offset & 7) ||
		    (u64)hdr->data_offset + hdr->data_length > 0xFFFFFFFFull)
			return -EINVAL;
		hlen = AFSMBD_DATA_HDR_LEN;
	}
	if (size < (size_t)hlen)
		return -EMSGSIZE;

	w->credits_requested = cpu_to_le16(hdr->credits_requested);
	w->credits_granted = cpu_to_le16(hdr->credits_granted);
	w->flags = cpu_to_le16(hdr->flags);
	w->reserved = 0;
	w->remaining_data_length = cpu_to_le32(hdr->remaining_data_length);
	w->data_offset = cpu_to_le32(hdr->data_offset);
	w->data_length = cpu_to_le32(hdr->data_length);
	if (hlen == AFSMBD_DATA_HDR_LEN)
		w->padding = 0;
	return hlen;
}

int afsmbd_decode_data_hdr(const void *buf, size_t len,
			   struct afsmbd_data_hdr *hdr)
{
	const struct afsmbd_wire_data_hdr *w = buf;
	u32 off, dlen;

	if (!hdr || (!buf && len))
		return -EINVAL;
	/* 20 bytes: cifs and ksmbd send payload-less messages unpadded. */
	if (len < AFSMBD_DATA_HDR_MIN_LEN)
		return -EBADMSG;

	off = le32_to_cpu(w->data_offset);
	dlen = le32_to_cpu(w->data_length);
	hdr->credits_requested = le16_to_cpu(w->credits_requested);
	hdr->credits_granted = le16_to_cpu(w->credits_granted);
	/* Unknown flags are reserved for the future: ignore, do not fail. */
	hdr->flags = le16_to_cpu(w->flags) & AFSMBD_FLAGS_KNOWN;
	hdr->remaining_data_length = le32_to_cpu(w->remaining_data_length);
	hdr->data_length = dlen;
	/* Without payload the offset means nothing (cifs/ksmbd ignore it). */
	hdr->data_offset = dlen ? off : 0;

	/* 3.1.5.8 holds for every message, with or without payload. */
	if ((off & 7) || (u64)off + dlen > len)
		return -EBADMSG;
	/* Payload must start after the padded header. */
	if (dlen && off < AFSMBD_DATA_HDR_LEN)
		return -EBADMSG;
	if (hdr->credits_requested == 0)
		return -EPROTO;
	return 0;
}

/* ---- Buffer Descriptor V1 ---- */

int afsmbd_encode_buffer_desc(const struct afsmbd_buffer_desc *bd,
			      void *buf, size_t size)
{
	struct afsmbd_wire_buffer_desc *w = buf;

	if (!bd || !buf)
		return -EINVAL;
	if (size < AFSMBD_BUFFER_DESC_LEN)
		return -EMSGSIZE;
	w->offset = cpu_to_le64(bd->offset);
	w->token = cpu_to_le32(bd->token);
	w->length = cpu_to_le32(bd->length);
	return AFSMBD_BUFFER_DESC_LEN;
}

int afsmbd_decode_buffer_desc(const void *buf, size_t len,
			      struct afsmbd_buffer_desc *bd)
{
	const struct afsmbd_wire_buffer_desc *w = buf;

	if (!bd || (!buf && len))
		return -EINVAL;
	if (len < AFSMBD_BUFFER_DESC_LEN)
		return -EBADMSG;
	bd->offset = le64_to_cpu(w->offset);
	bd->token = le32_to_cpu(w->token);
	bd->length = le32_to_cpu(w->length);
	return 0;
}

int afsmbd_decode_buffer_desc_list(const void *buf, size_t len,
				   struct afsmbd_buffer_desc *out,
				   u32 max_count, u64 *total_len)
{
	const u8 *p = buf;
	size_t count, i;
	u64 total = 0;

	if (!out || (!buf && len))
		return -EINVAL;
	if (len == 0 || len % AFSMBD_BUFFER_DESC_LEN)
		return -EBADMSG;
	count = len / AFSMBD_BUFFER_DESC_LEN;
	if (count > max_count || count > 0x7FFFFFFF)
		return -EMSGSIZE;

	for (i = 0; i < count; i++) {
		afsmbd_decode_buffer_desc(p + i * AFSMBD_BUFFER_DESC_LEN,
					  AFSMBD_BUFFER_DESC_LEN, &out[i]);
		/* count < 2^31, each length < 2^32: cannot overflow u64 */
		total += out[i].length;
	}
	if (total_len)
		*total_len = total;
	return (int)count;
}

int afsmbd_check_buffer_descs(const struct afsmbd_buffer_desc *bd, u32 count,
			      u32 max_total, u64 *total)
{
	u64 sum = 0;
	u32 i;

	if (!bd || !count)
		return -EINVAL;
	for (i = 0; i < count; i++) {
		if (!bd[i].length || bd[i].offset + bd[i].length < bd[i].offset)
			return -EINVAL;
		sum += bd[i].length;	/* count < 2^32: no overflow */
	}
	if (sum > max_total)
		return -EMSGSIZE;
	if (total)
		*total = sum;
	return 0;
}

/* ---- Negotiation ---- */

int afsmbd_limits_check(const struct afsmbd_limits *l)
{
	if (!l)
		return -EINVAL;
	if (l->recv_credit_max == 0 || l->send_credit_target == 0)
		return -EINVAL;
	/* Our own values must pass the checks we apply to the peer. */
	if (l->max_send_size < AFSMBD_MIN_RECEIVE_SIZE ||
	    l->max_recv_size < AFSMBD_MIN_RECEIVE_SIZE ||
	    l->max_fragmented_recv_size < AFSMBD_MIN_FRAGMENTED_SIZE)
		return -EINVAL;
	/* Reassembled messages reach the reader behind a 24-bit length. */
	if (l->max_fragmented_recv_size > AFSMBD_FRAME_MAX_LEN)
		return -EINVAL;
	return 0;
}

int afsmbd_build_negotiate_req(const struct afsmbd_limits *l,
			       struct afsmbd_negotiate_req *req)
{
	int ret = afsmbd_limits_check(l);

	if (ret || !req)
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	req->min_version = AFSMBD_VERSION_1;
	req->max_version = AFSMBD_VERSION_1;
	req->credits_requested = l->send_credit_target;
	req->preferred_send_size = l->max_send_size;
	req->max_receive_size = l->max_recv_size;
	req->max_fragmented_size = l->max_fragmented_recv_size;
	return 0;
}

int afsmbd_negotiate_server(const struct afsmbd_limits *l,
			    const struct afsmbd_negotiate_req *req,
			    struct afsmbd_params *p)
{
	int ret;

	if (!req || !p || afsmbd_limits_check(l))
		return -EINVAL;
	/* Re-check: the caller may hand us a struct it did not decode. */
	ret = afsmbd_check_negotiate_req(req);
	if (ret)
		return ret;

	memset(p, 0, sizeof(*p));
	p->version = AFSMBD_VERSION_1;
	p->recv_credit_max = l->recv_credit_max;
	p->send_credit_target = l->send_credit_target;
	p->recv_credit_target = req->credits_requested;
	/* The request grants nothing; the client's first message will. */
	p->initial_send_credits = 0;
	p->initial_recv_credits = (u16)afsmbd_min_u32(req->credits_requested,
						      l->recv_credit_max);
	/* Shrink our receives to what the peer wants to send, floor 128. */
	p->max_recv_size = afsmbd_max_u32(afsmbd_min_u32(l->max_recv_size,
							 req->preferred_send_size),
					  AFSMBD_MIN_RECEIVE_SIZE);
	p->max_send_size = afsmbd_min_u32(l->max_send_size,
					  req->max_receive_size);
	p->max_fragmented_send_size = req->max_fragmented_size;
	p->max_fragmented_recv_size = l->max_fragmented_recv_size;
	p->max_read_write_size = l->max_read_write_size;
	return 0;
}

void afsmbd_build_negotiate_resp(const struct afsmbd_params *p,
				 u16 credits_granted,
				 struct afsmbd_negotiate_resp *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->min_version = AFSMBD_VERSION_1;
	resp->max_version = AFSMBD_VERSION_1;
	resp->negotiated_version = p->version;
	resp->credits_requested = p->send_credit_target;
	resp->credits_granted = credits_granted;
	resp->max_read_write_size = p->max_read_write_size;
	resp->preferred_send_size = p->max_send_size;
	resp->max_receive_size = p->max_recv_size;
	resp->max_fragmented_size = p->max_fragmented_recv_size;
}

void afsmbd_build_negotiate_fail(u32 status,
				 struct afsmbd_negotiate_resp *resp)
{
	/* [MS-SMBD] 3.1.5.3: only the versions and Status are set. */
	memset(resp, 0, sizeof(*resp));
	resp->min_version = AFSMBD_VERSION_1;
	resp->max_version = AFSMBD_VERSION_1;
	resp->status = status;
}

int afsmbd_negotiate_client(const struct afsmbd_limits *l,
			    const struct afsmbd_negotiate_resp *resp,
			    struct afsmbd_params *p)
{
	int ret;

	if (!resp || !p || afsmbd_limits_check(l))
		return -EINVAL;
	ret = afsmbd_check_negotiate_resp(resp);
	if (ret)
		return ret;
	/* The server may not send more than our receive buffers hold. */
	if (resp->preferred_send_size > l->max_recv_size)
		return -EPROTO;

	memset(p, 0, sizeof(*p));
	p->version = AFSMBD_VERSION_1;
	p->recv_credit_max = l->recv_credit_max;
	p->send_credit_target = l->send_credit_target;
	p->recv_credit_target = resp->credits_requested;
	p->initial_send_credits = resp->credits_granted;
	p->initial_recv_credits = (u16)afsmbd_min_u32(resp->credits_requested,
						      l->recv_credit_max);
	p->max_recv_size = afsmbd_max_u32(resp->preferred_send_size,
					  AFSMBD_MIN_RECEIVE_SIZE);
	p->max_send_size = afsmbd_min_u32(l->max_send_size,
					  resp->max_receive_size);
	p->max_fragmented_send_size = resp->max_fragmented_size;
	p->max_fragmented_recv_size = l->max_fragmented_recv_size;
	p->max_read_write_size = afsmbd_min_u32(l->max_read_write_size,
						resp->max_read_write_size);
	return 0;
}

/* ---- Direct-TCP framing ---- */

void afsmbd_frame_init(struct afsmbd_frame_parser *p, u32 max_pdu)
{
	memset(p, 0, sizeof(*p));
	p->max_pdu = afsmbd_min_u32(max_pdu, AFSMBD_FRAME_MAX_LEN);
}

bool afsmbd_frame_idle(const struct afsmbd_frame_parser *p)
{
	return !p->err && p->hdr_have == 0 && p->body_left == 0;
}

/* Validate a complete 4-byte header; on success set up the body. */
static int afsmbd_frame_header(struct afsmbd_frame_parser *p)
{
	u32 len;

	/* Byte 0 is the session message type: Direct TCP only has 0. */
	if (p->hdr[0] != 0)
		return -EPROTO;
	len = (u32)p->hdr[1] << 16 | (u32)p->hdr[2] << 8 | p->hdr[3];
	if (len == 0)
		return -ENODATA;
	if (len > p->max_pdu)
		return -EMSGSIZE;
	p->pdu_len = len;
	p->body_left = len;
	return 0;
}

int afsmbd_frame_feed(struct afsmbd_frame_parser *p, const void *buf,
		      size_t len, struct afsmbd_frame_result *res)
{
	const u8 *in = buf;
	size_t n;
	int ret;

	if (!p || !res || (!buf && len))
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	if (p->err)
		return p->err;
	res->pdu_len = p->pdu_len;
	if (len == 0)
		return 0;

	if (p->body_left == 0) {
		/* Collecting a header: stop right after it completes. */
		n = AFSMBD_FRAME_HDR_LEN - p->hdr_have;
		if (n > len)
			n = len;
		memcpy(p->hdr + p->hdr_have, in, n);
		p->hdr_have += (u8)n;
		res->consumed = n;
		if (p->hdr_have < AFSMBD_FRAME_HDR_LEN)
			return 0;
		res->hdr_done = true;
		p->hdr_have = 0;
		ret = afsmbd_frame_header(p);
		if (ret) {
			/* Report the bad length; consume nothing past it. */
			res->pdu_len = (u32)p->hdr[1] << 16 |
				       (u32)p->hdr[2] << 8 | p->hdr[3];
			p->err = ret;
			return ret;
		}
		res->pdu_len = p->pdu_len;
		return 0;
	}

	/* Inside a body: hand back one run, never crossing the PDU end. */
	n = len < p->body_left ? len : p->body_left;
	p->body_left -= (u32)n;
	res->consumed = n;
	res->body_off = 0;
	res->body_len = n;
	if (p->body_left == 0)
		res->pdu_done = true;
	return 0;
}

int afsmbd_frame_encode_hdr(u32 pdu_len, void *buf, size_t size)
{
	u8 *out = buf;

	if (!buf || pdu_len == 0 || pdu_len > AFSMBD_FRAME_MAX_LEN)
		return -EINVAL;
	if (size < AFSMBD_FRAME_HDR_LEN)
		return -EMSGSIZE;
	out[0] = 0;
	out[1] = (u8)(pdu_len >> 16);
	out[2] = (u8)(pdu_len >> 8);
	out[3] = (u8)pdu_len;
	return AFSMBD_FRAME_HDR_LEN;
}

/* ---- Reassembly ---- */

void afsmbd_reasm_init(struct afsmbd_reasm *r, u32 max_size)
{
	memset(r, 0, sizeof(*r));
	r->max_size = max_size;
}

int afsmbd_reasm_feed(struct afsmbd_reasm *r, u32 data_length,
		      u32 remaining_data_length)
{
	u64 total;

	if (!r)
		return -EINVAL;
	/*
	 * Payload-less messages (credit grants, keepalives) may arrive
	 * between fragments. Linux peers send them with remaining 0 even
	 * mid-message, so their RemainingDataLength is ignored entirely.
	 */
	if (data_length == 0)
		return remaining_data_length > r->max_size ? -EMSGSIZE :
							     AFSMBD_REASM_EMPTY;

	if (!r->active) {
		total = (u64)data_length + remaining_data_length;
		if (total > r->max_size)
			return -EMSGSIZE;
		r->total = (u32)total;
		r->remaining = remaining_data_length;
		if (remaining_data_length == 0)
			return AFSMBD_REASM_SINGLE;
		r->active = true;
		return AFSMBD_REASM_FIRST;
	}

	/* Continuation: the countdown must be exact. */
	if (data_length > r->remaining ||
	    remaining_data_length != r->remaining - data_length)
		return -EPROTO;
	r->remaining = remaining_data_length;
	if (remaining_data_length)
		return AFSMBD_REASM_MIDDLE;
	r->active = false;
	return AFSMBD_REASM_LAST;
}

/* ---- Receive chain ---- */

static u32 afsmbd_rxchunk_hdr(const struct afsmbd_rxchunk *c)
{
	return c->pdu_len ? AFSMBD_FRAME_HDR_LEN : 0;
}

int afsmbd_rxchunk_init(struct afsmbd_rxchunk *c, int ev, u32 pdu_len,
			u32 data_off, u32 data_len)
{
	if (!c || data_len == 0)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	switch (ev) {
	case AFSMBD_REASM_SINGLE:
	case AFSMBD_REASM_FIRST:
		if (pdu_len < data_len || pdu_len > AFSMBD_FRAME_MAX_LEN)
			return -EINVAL;
		c->pdu_len = pdu_len;
		break;
	case AFSMBD_REASM_MIDDLE:
	case AFSMBD_REASM_LAST:
		break;
	default:
		return -EINVAL;
	}
	c->data_off = data_off;
	c->data_len = data_len;
	return 0;
}

u32 afsmbd_rxchunk_left(const struct afsmbd_rxchunk *c)
{
	return afsmbd_rxchunk_hdr(c) + c->data_len - c->consumed;
}

bool afsmbd_rxchunk_seg(const struct afsmbd_rxchunk *c, u32 skip,
			struct afsmbd_rxseg *seg)
{
	u32 hdr = afsmbd_rxchunk_hdr(c), pos;

	if (skip >= afsmbd_rxchunk_left(c))
		return false;
	pos = c->consumed + skip;
	if (pos < hdr) {
		seg->hdr = true;
		seg->off = pos;
		seg->len = hdr - pos;
	} else {
		seg->hdr = false;
		seg->off = c->data_off + (pos - hdr);
		seg->len = hdr + c->data_len - pos;
	}
	return true;
}

bool afsmbd_rxchunk_consume(struct afsmbd_rxchunk *c, u32 n)
{
	u32 left = afsmbd_rxchunk_left(c);

	c->consumed += n < left ? n : left;
	return c->consumed == afsmbd_rxchunk_hdr(c) + c->data_len;
}

/* ---- Credits ---- */

bool afsmbd_credit_may_send(u32 send_credits, u16 credits_granted)
{
	if (send_credits == 0)
		return false;
	/* [MS-SMBD] 3.1.5.1: the last credit must carry a grant. */
	if (send_credits == 1 && credits_granted == 0)
		return false;
	return true;
}

int afsmbd_credit_take(u32 *send_credits, u16 credits_granted)
{
	if (!send_credits)
		return -EINVAL;
	if (!afsmbd_credit_may_send(*send_credits, credits_granted))
		return -EAGAIN;
	(*send_credits)--;
	return 0;
}

/* The credits we aim to leave the peer: see AFSMBD_CREDIT_GOAL_MIN. */
static u32 afsmbd_credit_goal(u16 recv_credit_target, u16 recv_credit_max)
{
	u32 floor = afsmbd_min_u32(AFSMBD_CREDIT_GOAL_MIN, recv_credit_max);

	return afsmbd_max_u32(afsmbd_min_u32(recv_credit_target,
					     recv_credit_max), floor);
}

u16 afsmbd_credit_grant(u32 recv_posted, u32 recv_credits, u32 send_credits,
			u16 recv_credit_target, u16 recv_credit_max)
{
	u32 spare, goal, want;

	/* Every credit the peer holds must be backed by a posted receive. */
	if (recv_credits >= recv_posted || recv_credits >= AFSMBD_U16_MAX)
		return 0;
	spare = recv_posted - recv_credits;

	goal = afsmbd_credit_goal(recv_credit_target, recv_credit_max);
	want = goal > recv_credits ? goal - recv_credits : 0;
	/*
	 * [MS-SMBD] 3.1.5.9: a peer with no credit left must get one, and so
	 * must we when our own last credit needs a grant to be spendable.
	 */
	if (want == 0 && (recv_credits == 0 || send_credits == 1))
		want = 1;

	want = afsmbd_min_u32(want, spare);
	/* Keep the peer's total within the 16-bit CreditsRequested range. */
	return (u16)afsmbd_min_u32(want, AFSMBD_U16_MAX - recv_credits);
}

int afsmbd_credit_add_grant(u32 *send_credits, u16 granted, u32 max)
{
	u32 cap = afsmbd_min_u32(max, AFSMBD_U16_MAX);

	if (!send_credits)
		return -EINVAL;
	if ((u64)*send_credits + granted > cap)
		return -EPROTO;
	*send_credits += granted;
	return 0;
}

int afsmbd_credit_consume_recv(u32 *recv_credits)
{
	if (!recv_credits)
		return -EINVAL;
	/* A message that arrives without a credit overran our receives. */
	if (*recv_credits == 0)
		return -EPROTO;
	(*recv_credits)--;
	return 0;
}

int afsmbd_credit_spend(u32 *send_credits, u32 *recv_credits, u16 grant,
			bool want_response)
{
	if (!send_credits || !recv_credits)
		return -EINVAL;
	if (afsmbd_credit_take(send_credits, grant))
		return -EAGAIN;
	*recv_credits += grant;
	return want_response ? AFSMBD_FLAG_RESPONSE_REQUESTED : 0;
}

int afsmbd_credit_recv(u32 *recv_credits, u32 *send_credits,
		       u16 credits_granted)
{
	if (!recv_credits || !send_credits)
		return -EINVAL;
	/* Check both before changing either. */
	if (*recv_credits == 0)
		return -EPROTO;
	if ((u64)*send_credits + credits_granted > AFSMBD_U16_MAX)
		return -EOVERFLOW;
	(*recv_credits)--;
	*send_credits += credits_granted;
	return 0;
}

bool afsmbd_credit_want_empty(u16 grant, u32 recv_credits,
			      u16 recv_credit_target, u16 recv_credit_max,
			      bool need_response)
{
	u32 goal = afsmbd_credit_goal(recv_credit_target, recv_credit_max);

	return need_response || (grant && recv_credits <= goal / 2);
}

bool afsmbd_credit_unhold(u16 grant, u32 send_credits, u32 held)
{
	return !grant && send_credits == 1 && held;
}

bool afsmbd_credit_compact(u16 grant, u32 send_credits, u32 held, u32 queued,
			   u32 overflow)
{
	return !grant && send_credits == 1 && !held && queued &&
	       overflow < AFSMBD_COPY_MAX;
}

u32 afsmbd_params_max_payload(const struct afsmbd_params *p)
{
	return p->max_send_size - AFSMBD_DATA_HDR_LEN;
}
