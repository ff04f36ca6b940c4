/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pure SMB-Direct [MS-SMBD] and Direct-TCP codec: wire formats, validation,
 * negotiation arithmetic, framing, reassembly and credit rules.
 *
 * Nothing here allocates, locks, sleeps or touches RDMA: every function works
 * on caller buffers and small caller-owned state, so the same source builds
 * in the module, in the KUnit module and in the userspace fuzzer.
 *
 * Error convention (negative errno values):
 *   -EINVAL       caller bug: bad argument, bad local limits, or an encoder
 *                 asked to emit something the protocol forbids
 *   -EMSGSIZE     encoder output buffer too small; a size above a negotiated
 *                 or configured limit (PDU, reassembled message, list count)
 *   -EBADMSG      peer message structurally malformed: truncated, offsets or
 *                 lengths out of bounds or misaligned
 *   -EPROTO       peer message well formed but a field breaks a protocol rule
 *                 (zero credits, sizes below the minimums, inconsistent
 *                 fragment sequence, credit overflow, Direct-TCP type byte)
 *   -EOPNOTSUPP   no common SMB-Direct version (only 0x0100 exists)
 *   -ECONNREFUSED negotiate response carries a non-zero NTSTATUS
 *   -ENODATA      Direct-TCP header announcing a zero-length PDU
 */
#ifndef AFSMBD_CODEC_H
#define AFSMBD_CODEC_H

#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <asm/byteorder.h>

/* [MS-SMBD] 1.7: the only protocol version */
#define AFSMBD_VERSION_1		0x0100

/* [MS-SMBD] 3.1.5.6/3.1.5.7 minimums */
#define AFSMBD_MIN_RECEIVE_SIZE		128
#define AFSMBD_MIN_FRAGMENTED_SIZE	131072

/* NTSTATUS a server returns when the version range excludes 0x0100 */
#define AFSMBD_STATUS_NOT_SUPPORTED	0xC00000BBu
/* ... and when it cannot allocate the connection's buffers */
#define AFSMBD_STATUS_INSUFFICIENT_RESOURCES	0xC000009Au

/* Data Transfer Flags [MS-SMBD] 2.2.3 */
#define AFSMBD_FLAG_RESPONSE_REQUESTED	0x0001
#define AFSMBD_FLAGS_KNOWN		AFSMBD_FLAG_RESPONSE_REQUESTED

/* Wire sizes */
#define AFSMBD_NEGOTIATE_REQ_LEN	20
#define AFSMBD_NEGOTIATE_RESP_LEN	32
#define AFSMBD_DATA_HDR_MIN_LEN		20	/* no payload, no padding */
#define AFSMBD_DATA_HDR_LEN		24	/* with the 4 padding bytes */
#define AFSMBD_BUFFER_DESC_LEN		16

/* Direct-TCP (MS-SMB2 2.1) stream header */
#define AFSMBD_FRAME_HDR_LEN		4
#define AFSMBD_FRAME_MAX_LEN		0x00FFFFFFu	/* 24-bit length */

/* ---- Wire layouts (little endian, packed) ---- */

/* [MS-SMBD] 2.2.1 Negotiate Request */
struct afsmbd_wire_negotiate_req {
	__le16 min_version;
	__le16 max_version;
	__le16 reserved;
	__le16 credits_requested;
	__le32 preferred_send_size;
	__le32 max_receive_size;
	__le32 max_fragmented_size;
} __packed;

/* [MS-SMBD] 2.2.2 Negotiate Response */
struct afsmbd_wire_negotiate_resp {
	__le16 min_version;
	__le16 max_version;
	__le16 negotiated_version;
	__le16 reserved;
	__le16 credits_requested;
	__le16 credits_granted;
	__le32 status;
	__le32 max_read_write_size;
	__le32 preferred_send_size;
	__le32 max_receive_size;
	__le32 max_fragmented_size;
} __packed;

/* [MS-SMBD] 2.2.3 Data Transfer Message header, padding included */
struct afsmbd_wire_data_hdr {
	__le16 credits_requested;
	__le16 credits_granted;
	__le16 flags;
	__le16 reserved;
	__le32 remaining_data_length;
	__le32 data_offset;
	__le32 data_length;
	__le32 padding;
} __packed;

/* [MS-SMBD] 2.2.3.1 Buffer Descriptor V1 */
struct afsmbd_wire_buffer_desc {
	__le64 offset;
	__le32 token;
	__le32 length;
} __packed;

/* ---- Decoded (host endian) forms; Reserved fields are not kept ---- */

struct afsmbd_negotiate_req {
	u16 min_version;
	u16 max_version;
	u16 credits_requested;
	u32 preferred_send_size;
	u32 max_receive_size;
	u32 max_fragmented_size;
};

struct afsmbd_negotiate_resp {
	u16 min_version;
	u16 max_version;
	u16 negotiated_version;
	u16 credits_requested;
	u16 credits_granted;
	u32 status;
	u32 max_read_write_size;
	u32 preferred_send_size;
	u32 max_receive_size;
	u32 max_fragmented_size;
};

/*
 * Decoded data transfer header. The decoder canonicalises what a receiver
 * must ignore: unknown flag bits are dropped and data_offset reads 0 when
 * data_length is 0.
 */
struct afsmbd_data_hdr {
	u16 credits_requested;
	u16 credits_granted;
	u16 flags;
	u32 remaining_data_length;
	u32 data_offset;
	u32 data_length;
};

struct afsmbd_buffer_desc {
	u64 offset;
	u32 token;
	u32 length;
};

/* Local configuration ([MS-SMBD] 3.1.1.1 initial values) */
struct afsmbd_limits {
	u16 recv_credit_max;		/* most receives we will post */
	u16 send_credit_target;		/* CreditsRequested we send */
	u32 max_send_size;		/* our PreferredSendSize */
	u32 max_recv_size;		/* our receive buffer size */
	u32 max_fragmented_recv_size;	/* biggest message we reassemble */
	u32 max_read_write_size;	/* biggest RDMA read/write we do */
};

/* Effective connection parameters after negotiation */
struct afsmbd_params {
	u16 version;
	u16 recv_credit_max;
	u16 send_credit_target;
	u16 recv_credit_target;		/* peer's CreditsRequested */
	u16 initial_send_credits;	/* credits the peer granted us */
	u16 initial_recv_credits;	/* receives to post and grant first */
	u32 max_send_size;		/* whole message, header included */
	u32 max_recv_size;
	u32 max_fragmented_send_size;	/* peer's reassembly limit */
	u32 max_fragmented_recv_size;
	u32 max_read_write_size;	/* 0: peer offers no RDMA read/write */
};

/*
 * The fewest credits we aim to leave a peer, whatever it asks for: with
 * goals of one or two, an empty message that grants one credit costs its
 * sender the one it travels on, so two idle ends would trade empty
 * messages for ever (KUnit two_peer_tiny_windows).
 */
#define AFSMBD_CREDIT_GOAL_MIN	3

/* Unread messages copied out of the ring at a time: afsmbd_credit_compact() */
#define AFSMBD_COPY_MAX		16

/*
 * Connection phases.  The numbers are reported in smbdirect_info.state, so
 * they only ever grow.  Every change goes through afsmbd_state_may_enter().
 */
enum afsmbd_cstate {
	AFSMBD_C_IDLE = 0,	/* no RDMA activity yet (or listener) */
	AFSMBD_C_RESOLVE_ADDR,
	AFSMBD_C_RESOLVE_ROUTE,
	AFSMBD_C_CONNECT,	/* client: rdma_connect issued */
	AFSMBD_C_ACCEPT,	/* server: rdma_accept issued */
	AFSMBD_C_NEGOTIATE,	/* RDMA up, SMB-Direct negotiate running */
	AFSMBD_C_CONNECTED,
	AFSMBD_C_FAILED,	/* torn down or being torn down; err is final */
	AFSMBD_C_DRAINING,	/* peer closed: delivering what it sent first */
};

/**
 * afsmbd_state_may_enter() - is a phase change allowed?
 * @from: current phase
 * @to: requested phase
 *
 * Setup moves forward only; any phase may fail; a connected one may drain
 * after the peer's disconnect, then fail (EOF).  Nothing leaves FAILED, so
 * a late event cannot bring a torn-down connection back.  The one way back
 * is RESOLVE_ADDR to IDLE, for a connect() that could not start.
 *
 * Return: true if @to may follow @from.
 */
bool afsmbd_state_may_enter(enum afsmbd_cstate from, enum afsmbd_cstate to);

/* ---- Message codecs ---- */

/**
 * afsmbd_encode_negotiate_req() - write a Negotiate Request (2.2.1)
 * @req: fields to send; must pass the same checks the decoder applies
 * @buf: output buffer
 * @size: bytes available at @buf
 *
 * Return: 20 on success, -EINVAL if @req is not a valid request,
 * -EMSGSIZE if @size < 20.
 */
int afsmbd_encode_negotiate_req(const struct afsmbd_negotiate_req *req,
				void *buf, size_t size);

/**
 * afsmbd_decode_negotiate_req() - parse and validate a Negotiate Request
 * @buf: received message
 * @len: its length; extra trailing bytes are ignored
 * @req: filled whenever @len >= 20, even if validation then fails
 *
 * Applies [MS-SMBD] 3.1.5.6. On -EOPNOTSUPP the server should answer with
 * afsmbd_build_negotiate_fail(AFSMBD_STATUS_NOT_SUPPORTED); on the other
 * errors it drops the connection.
 *
 * Return: 0; -EBADMSG if @len < 20; -EOPNOTSUPP if [MinVersion, MaxVersion]
 * excludes 0x0100; -EPROTO if CreditsRequested is 0, MaxReceiveSize < 128
 * or MaxFragmentedSize < 131072.
 */
int afsmbd_decode_negotiate_req(const void *buf, size_t len,
				struct afsmbd_negotiate_req *req);

/**
 * afsmbd_encode_negotiate_resp() - write a Negotiate Response (2.2.2)
 * @resp: fields to send; with Status 0 they must pass the decoder's checks
 * @buf: output buffer
 * @size: bytes available at @buf
 *
 * Return: 32 on success, -EINVAL for an invalid successful response,
 * -EMSGSIZE if @size < 32.
 */
int afsmbd_encode_negotiate_resp(const struct afsmbd_negotiate_resp *resp,
				 void *buf, size_t size);

/**
 * afsmbd_decode_negotiate_resp() - parse and validate a Negotiate Response
 * @buf: received message
 * @len: its length; extra trailing bytes are ignored
 * @resp: filled whenever @len >= 32, so a refused status can be reported
 *
 * Applies the local-independent checks of [MS-SMBD] 3.1.5.7; the check of
 * PreferredSendSize against our receive size is in afsmbd_negotiate_client().
 * Status is checked first because a failure response zeroes other fields.
 *
 * Return: 0; -EBADMSG if @len < 32; -ECONNREFUSED if Status != 0;
 * -EOPNOTSUPP if NegotiatedVersion != 0x0100; -EPROTO if CreditsRequested
 * or CreditsGranted is 0, MaxReceiveSize < 128 or MaxFragmentedSize < 131072.
 */
int afsmbd_decode_negotiate_resp(const void *buf, size_t len,
				 struct afsmbd_negotiate_resp *resp);

/**
 * afsmbd_encode_data_hdr() - write a Data Transfer header (2.2.3)
 * @hdr: fields to send
 * @buf: output buffer; the payload goes at @hdr->data_offset
 * @size: bytes available at @buf
 *
 * Writes 20 bytes for a payload-less message (as cifs/ksmbd do) and 24
 * bytes (zero padding included) otherwise. Bytes between 24 and a larger
 * data_offset are the caller's.
 *
 * Return: bytes written (20 or 24); -EINVAL if CreditsRequested is 0,
 * unknown flags are set, data_offset is non-zero without payload, or with
 * payload data_offset is < 24, not 8-aligned or offset + length overflows
 * 32 bits; -EMSGSIZE if @size is too small.
 */
int afsmbd_encode_data_hdr(const struct afsmbd_data_hdr *hdr,
			   void *buf, size_t size);

/**
 * afsmbd_decode_data_hdr() - parse and validate a Data Transfer message
 * @buf: received message
 * @len: its full length (header and payload)
 * @hdr: filled (canonicalised) whenever @len >= 20
 *
 * Applies [MS-SMBD] 3.1.5.8 except the MaxFragmentedSize rule, which
 * afsmbd_reasm_feed() enforces. Liberal where Linux peers are: 20-byte
 * messages without padding are accepted and unknown Flags bits are ignored
 * (dropped from @hdr).  DataOffset is checked with or without payload; @hdr
 * reports it as 0 when DataLength is 0.
 *
 * Return: 0; -EBADMSG if @len < 20, DataOffset is not 8-aligned or
 * DataOffset + DataLength > @len, or with payload DataOffset < 24;
 * -EPROTO if CreditsRequested is 0.
 */
int afsmbd_decode_data_hdr(const void *buf, size_t len,
			   struct afsmbd_data_hdr *hdr);

/**
 * afsmbd_encode_buffer_desc() - write one Buffer Descriptor V1 (2.2.3.1)
 * @bd: descriptor
 * @buf: output buffer
 * @size: bytes available at @buf
 *
 * Return: 16, or -EINVAL / -EMSGSIZE.
 */
int afsmbd_encode_buffer_desc(const struct afsmbd_buffer_desc *bd,
			      void *buf, size_t size);

/**
 * afsmbd_decode_buffer_desc() - read one Buffer Descriptor V1
 * @buf: input
 * @len: bytes at @buf
 * @bd: result
 *
 * Return: 0, or -EBADMSG if @len < 16.
 */
int afsmbd_decode_buffer_desc(const void *buf, size_t len,
			      struct afsmbd_buffer_desc *bd);

/**
 * afsmbd_decode_buffer_desc_list() - read an array of Buffer Descriptors
 * @buf: input (an SMB2 READ/WRITE channel info blob)
 * @len: its length; must be a non-zero multiple of 16
 * @out: array of at least @max_count entries
 * @max_count: most descriptors accepted
 * @total_len: if not NULL, receives the sum of all Length fields
 *
 * Return: number of descriptors (>= 1); -EBADMSG if @len is 0 or not a
 * multiple of 16; -EMSGSIZE if there are more than @max_count.
 */
int afsmbd_decode_buffer_desc_list(const void *buf, size_t len,
				   struct afsmbd_buffer_desc *out,
				   u32 max_count, u64 *total_len);

/**
 * afsmbd_check_buffer_descs() - validate descriptors before RDMA uses them
 * @bd: decoded descriptors (from userspace or from a peer's request)
 * @count: how many
 * @max_total: the MaxReadWriteSize that applies
 * @total: if not NULL, receives the sum of the lengths
 *
 * Return: 0; -EINVAL for no descriptor, a zero length, or an offset whose
 * range wraps past 2^64; -EMSGSIZE if the lengths add up to more than
 * @max_total.
 */
int afsmbd_check_buffer_descs(const struct afsmbd_buffer_desc *bd, u32 count,
			      u32 max_total, u64 *total);

/* ---- Negotiation ---- */

/**
 * afsmbd_limits_check() - sanity-check local configuration
 * @l: local limits
 *
 * Our values must satisfy the rules we hold the peer to: credits > 0,
 * send and receive sizes >= 128, fragmented size >= 131072. The fragmented
 * size must also fit the 24-bit Direct-TCP length the reader sees.
 *
 * Return: 0 or -EINVAL.
 */
int afsmbd_limits_check(const struct afsmbd_limits *l);

/**
 * afsmbd_build_negotiate_req() - fill the client's Negotiate Request
 * @l: local limits
 * @req: result, per [MS-SMBD] 3.1.5.2
 *
 * Return: 0 or -EINVAL.
 */
int afsmbd_build_negotiate_req(const struct afsmbd_limits *l,
			       struct afsmbd_negotiate_req *req);

/**
 * afsmbd_negotiate_server() - derive connection parameters on the server
 * @l: local limits
 * @req: the client's request (decoded or not: it is re-validated)
 * @p: result
 *
 * max_recv_size = max(128, min(ours, peer PreferredSendSize));
 * max_send_size = min(ours, peer MaxReceiveSize); the fragmented send limit
 * is the peer's; initial_recv_credits = min(peer CreditsRequested, our
 * recv_credit_max) is what to post and grant in the response;
 * initial_send_credits is 0 (the request grants nothing).
 *
 * Return: 0; -EINVAL for bad arguments or limits; otherwise the decoder's
 * error for an invalid request.
 */
int afsmbd_negotiate_server(const struct afsmbd_limits *l,
			    const struct afsmbd_negotiate_req *req,
			    struct afsmbd_params *p);

/**
 * afsmbd_build_negotiate_resp() - fill a successful Negotiate Response
 * @p: parameters from afsmbd_negotiate_server()
 * @credits_granted: receives actually posted for the peer (must be > 0)
 * @resp: result, per [MS-SMBD] 3.1.5.3
 */
void afsmbd_build_negotiate_resp(const struct afsmbd_params *p,
				 u16 credits_granted,
				 struct afsmbd_negotiate_resp *resp);

/**
 * afsmbd_build_negotiate_fail() - fill a failure Negotiate Response
 * @status: NTSTATUS to report, e.g. AFSMBD_STATUS_NOT_SUPPORTED
 * @resp: result: versions and Status set, every other field 0
 */
void afsmbd_build_negotiate_fail(u32 status,
				 struct afsmbd_negotiate_resp *resp);

/**
 * afsmbd_negotiate_client() - derive connection parameters on the client
 * @l: local limits (those sent in our request)
 * @resp: the server's response (re-validated)
 * @p: result
 *
 * Rejects a PreferredSendSize above our max_recv_size ([MS-SMBD] 3.1.5.7).
 * max_recv_size = max(128, peer PreferredSendSize); max_send_size =
 * min(ours, peer MaxReceiveSize); max_read_write_size = min(ours, peer's);
 * initial_send_credits = CreditsGranted; initial_recv_credits =
 * min(peer CreditsRequested, our recv_credit_max).
 *
 * Return: 0; -EINVAL; -EPROTO for the size violation; otherwise the
 * decoder's error for an invalid response.
 */
int afsmbd_negotiate_client(const struct afsmbd_limits *l,
			    const struct afsmbd_negotiate_resp *resp,
			    struct afsmbd_params *p);

/* ---- Direct-TCP framing (socket write side) ---- */

struct afsmbd_frame_parser {
	u32 max_pdu;		/* largest PDU accepted */
	u32 pdu_len;		/* length of the current PDU */
	u32 body_left;		/* body bytes of the current PDU still due */
	int err;		/* sticky error, 0 if none */
	u8 hdr[AFSMBD_FRAME_HDR_LEN];
	u8 hdr_have;		/* header bytes collected so far */
};

/* What one afsmbd_frame_feed() call did */
struct afsmbd_frame_result {
	size_t consumed;	/* bytes taken from the input */
	size_t body_off;	/* offset in the input of the body run */
	size_t body_len;	/* body bytes of the current PDU in this run */
	u32 pdu_len;		/* current PDU length once its header is known */
	bool hdr_done;		/* this call completed a header */
	bool pdu_done;		/* this call completed the current PDU */
};

/**
 * afsmbd_frame_init() - reset a parser to a PDU boundary
 * @p: parser
 * @max_pdu: largest PDU length accepted (capped at 0xFFFFFF); normally the
 *	     peer's MaxFragmentedSize, afsmbd_params.max_fragmented_send_size
 */
void afsmbd_frame_init(struct afsmbd_frame_parser *p, u32 max_pdu);

/**
 * afsmbd_frame_feed() - consume part of a Direct-TCP byte stream
 * @p: parser
 * @buf: next bytes written by the user
 * @len: number of bytes at @buf
 * @res: what was consumed and found
 *
 * Each call makes one step and never crosses a boundary: it either takes
 * header bytes (stopping right after a complete header, with
 * @res->hdr_done and @res->pdu_len set) or takes one run of body bytes of
 * the current PDU (@res->body_off/@res->body_len, with @res->pdu_done when
 * it ends the PDU). Call again with the unconsumed rest. Any split of the
 * stream, down to single bytes, gives the same PDUs.
 *
 * Return: 0, or a sticky error from a complete but bad header, having
 * consumed that header and nothing after it: -EPROTO if the first byte is
 * not 0, -ENODATA for length 0, -EMSGSIZE for length > max_pdu (then
 * @res->pdu_len holds the bad length). -EINVAL for bad arguments.
 */
int afsmbd_frame_feed(struct afsmbd_frame_parser *p, const void *buf,
		      size_t len, struct afsmbd_frame_result *res);

/**
 * afsmbd_frame_idle() - is the parser at a PDU boundary?
 * @p: parser
 *
 * Return: true if no partial header or body is pending and no error is set.
 */
bool afsmbd_frame_idle(const struct afsmbd_frame_parser *p);

/**
 * afsmbd_frame_encode_hdr() - write the 4-byte Direct-TCP header (read side)
 * @pdu_len: length of the reassembled message, 1..0xFFFFFF
 * @buf: output
 * @size: bytes available at @buf
 *
 * Return: 4, -EINVAL for a length out of range, -EMSGSIZE if @size < 4.
 */
int afsmbd_frame_encode_hdr(u32 pdu_len, void *buf, size_t size);

/* ---- Fragment reassembly (receive side) ---- */

struct afsmbd_reasm {
	u32 max_size;		/* Connection.MaxFragmentedRecvSize */
	u32 total;		/* length of the message being assembled */
	u32 remaining;		/* bytes still due after those seen */
	bool active;		/* between first and last fragment */
};

enum afsmbd_reasm_event {
	AFSMBD_REASM_EMPTY = 0,	/* no payload: credits/keepalive only */
	AFSMBD_REASM_SINGLE,	/* complete message in one fragment */
	AFSMBD_REASM_FIRST,	/* first of several fragments */
	AFSMBD_REASM_MIDDLE,	/* neither first nor last */
	AFSMBD_REASM_LAST,	/* completes the current message */
};

/**
 * afsmbd_reasm_init() - reset reassembly state
 * @r: state
 * @max_size: largest message accepted (our MaxFragmentedSize)
 */
void afsmbd_reasm_init(struct afsmbd_reasm *r, u32 max_size);

/**
 * afsmbd_reasm_feed() - account one decoded Data Transfer message
 * @r: state
 * @data_length: its DataLength
 * @remaining_data_length: its RemainingDataLength
 *
 * A message without payload is reported as EMPTY and leaves @r untouched,
 * even between fragments (Linux peers send such credit messages with
 * RemainingDataLength 0 mid-message). After SINGLE or FIRST, @r->total is
 * the full message length. On error @r is unchanged.
 *
 * Return: an enum afsmbd_reasm_event; -EMSGSIZE if DataLength +
 * RemainingDataLength exceeds @r->max_size (for an empty message too,
 * [MS-SMBD] 3.1.5.8), or a new message's does; -EPROTO if a
 * continuation's RemainingDataLength is not the previous one minus its
 * DataLength.
 */
int afsmbd_reasm_feed(struct afsmbd_reasm *r, u32 data_length,
		      u32 remaining_data_length);

/* ---- Receive chain (the reader's view of queued receive buffers) ---- */

/*
 * A received fragment waiting for the reader.  Received messages stay in
 * their receive buffers until read; the reader sees them as the Direct-TCP
 * stream, a fragment that starts a PDU contributing the PDU's 4-byte header
 * before its payload.  Pure bookkeeping: the buffer itself is the caller's.
 */
struct afsmbd_rxchunk {
	u32 pdu_len;		/* PDU length if this fragment starts one, else 0 */
	u32 data_off;		/* payload offset in the receive buffer */
	u32 data_len;		/* payload length */
	u32 consumed;		/* bytes already read, header first */
};

/* One contiguous run to copy for the reader. */
struct afsmbd_rxseg {
	bool hdr;		/* from the 4-byte header, else the buffer */
	u32 off;		/* offset in the header or the receive buffer */
	u32 len;
};

/**
 * afsmbd_rxchunk_init() - describe a fragment just received
 * @c: chunk
 * @ev: afsmbd_reasm_feed()'s result for it (SINGLE, FIRST, MIDDLE, LAST)
 * @pdu_len: the PDU's total length (afsmbd_reasm.total) for SINGLE/FIRST
 * @data_off: DataOffset of the decoded message
 * @data_len: DataLength (non-zero)
 *
 * Return: 0, or -EINVAL for an event without payload or bad lengths.
 */
int afsmbd_rxchunk_init(struct afsmbd_rxchunk *c, int ev, u32 pdu_len,
			u32 data_off, u32 data_len);

/**
 * afsmbd_rxchunk_left() - bytes of the chunk not yet read
 * @c: chunk
 *
 * Return: header bytes (if it starts a PDU) plus payload, minus consumed.
 */
u32 afsmbd_rxchunk_left(const struct afsmbd_rxchunk *c);

/**
 * afsmbd_rxchunk_seg() - the next run to copy
 * @c: chunk
 * @skip: unread bytes to skip first (MSG_PEEK past earlier data)
 * @seg: result; a header run never crosses into the payload
 *
 * Return: true with @seg filled, false if nothing is left after @skip.
 */
bool afsmbd_rxchunk_seg(const struct afsmbd_rxchunk *c, u32 skip,
			struct afsmbd_rxseg *seg);

/**
 * afsmbd_rxchunk_consume() - the reader took bytes
 * @c: chunk
 * @n: bytes read, at most afsmbd_rxchunk_left()
 *
 * Return: true once the chunk is fully read (its buffer may be reused).
 */
bool afsmbd_rxchunk_consume(struct afsmbd_rxchunk *c, u32 n);

/* ---- Credits ---- */

/**
 * afsmbd_credit_may_send() - may a message be sent now?
 * @send_credits: credits the peer granted us and we have not spent
 * @credits_granted: CreditsGranted the message will carry
 *
 * [MS-SMBD] 3.1.5.1: with one credit left, only a message that grants
 * credits may go, so the peer can always answer and neither side ends up
 * with zero credits and nothing to grant.
 *
 * Return: true if the message may be sent.
 */
bool afsmbd_credit_may_send(u32 send_credits, u16 credits_granted);

/**
 * afsmbd_credit_take() - spend one send credit if allowed
 * @send_credits: counter, decremented on success
 * @credits_granted: CreditsGranted the message will carry
 *
 * Return: 0, or -EAGAIN if afsmbd_credit_may_send() says no.
 */
int afsmbd_credit_take(u32 *send_credits, u16 credits_granted);

/**
 * afsmbd_credit_grant() - how many credits to grant in the next message
 * @recv_posted: receives currently posted (not yet completed)
 * @recv_credits: credits the peer holds (granted, not yet used by it)
 * @send_credits: our own send credits
 * @recv_credit_target: the peer's latest CreditsRequested
 * @recv_credit_max: our ReceiveCreditMax
 *
 * Grants up to min(target, max) outstanding, at least
 * min(AFSMBD_CREDIT_GOAL_MIN, max) even to a peer asking fewer, never more
 * than posted receives not yet announced ([MS-SMBD] 3.1.5.9), and at
 * least one (if a spare receive exists) when the peer holds none or when
 * our last send credit must carry a grant. The caller adds the result to
 * @recv_credits.
 *
 * Return: credits to put in CreditsGranted (0 if none may be granted).
 */
u16 afsmbd_credit_grant(u32 recv_posted, u32 recv_credits, u32 send_credits,
			u16 recv_credit_target, u16 recv_credit_max);

/**
 * afsmbd_credit_add_grant() - apply a received CreditsGranted
 * @send_credits: counter to increase
 * @granted: CreditsGranted from the peer
 * @max: bound on our send credits (capped at 65535)
 *
 * Return: 0, -EPROTO if the total would exceed the bound (counter
 * unchanged), -EINVAL for a NULL counter.
 */
int afsmbd_credit_add_grant(u32 *send_credits, u16 granted, u32 max);

/**
 * afsmbd_credit_spend() - account a Data Transfer message about to be sent
 * @send_credits: our send credits; one is spent
 * @recv_credits: credits the peer holds; increased by @grant
 * @grant: CreditsGranted the message carries (from afsmbd_credit_grant())
 * @want_response: the caller wants RESPONSE_REQUESTED (keepalive)
 *
 * Applies afsmbd_credit_take(), last-credit rule included.  Flags stay 0
 * unless a keepalive asks for a response ([MS-SMBD] 3.1.5.1): a peer grants
 * to an end without credits on its own (3.1.5.9).
 *
 * Return: the Flags field for the message (>= 0), -EAGAIN if it may not
 * be sent (nothing changed), -EINVAL for NULL counters.
 */
int afsmbd_credit_spend(u32 *send_credits, u32 *recv_credits, u16 grant,
			bool want_response);

/**
 * afsmbd_credit_recv() - account a Data Transfer message received
 * @recv_credits: credits the peer holds; the message used one
 * @send_credits: our send credits; increased by @credits_granted
 * @credits_granted: the message's CreditsGranted
 *
 * Return: 0; -EPROTO if the peer sent without a credit, -EOVERFLOW if the
 * grant takes our credits past 65535 (nothing changed either way);
 * -EINVAL for NULL counters.
 */
int afsmbd_credit_recv(u32 *recv_credits, u32 *send_credits,
		       u16 credits_granted);

/**
 * afsmbd_credit_want_empty() - should an empty message go now?
 * @grant: what afsmbd_credit_grant() allows now
 * @recv_credits: credits the peer holds
 * @recv_credit_target: the peer's latest CreditsRequested
 * @recv_credit_max: our ReceiveCreditMax
 * @need_response: the peer set RESPONSE_REQUESTED since our last send
 *
 * With nothing queued ([MS-SMBD] 3.1.5.8/3.1.5.9): answer a requested
 * response, or grant when the peer holds at most half of the goal
 * afsmbd_credit_grant() aims at and there is something to grant.
 *
 * Return: true if an empty message should be sent.
 */
bool afsmbd_credit_want_empty(u16 grant, u32 recv_credits,
			      u16 recv_credit_target, u16 recv_credit_max,
			      bool need_response);

/**
 * afsmbd_credit_unhold() - must a held receive be reposted to send now?
 * @grant: what afsmbd_credit_grant() allows now
 * @send_credits: our send credits
 * @held: free receives held back because unread data passed SO_RCVBUF
 *
 * Our last credit can only go with a grant.  If every spare receive is
 * held, a reader that answers before it drains and a peer out of credits
 * would wait on each other for ever; reposting one receive past SO_RCVBUF
 * breaks that.  Unread data stays bounded by the ring (credits = buffers).
 *
 * Return: true if one held receive should be reposted first.
 */
bool afsmbd_credit_unhold(u16 grant, u32 send_credits, u32 held);

/**
 * afsmbd_credit_compact() - must unread data leave the ring to send now?
 * @grant: what afsmbd_credit_grant() allows now
 * @send_credits: our send credits
 * @held: free receives held back (afsmbd_credit_unhold() comes first)
 * @queued: receive buffers holding unread data
 * @overflow: unread messages already copied out of the ring
 *
 * Received messages stay in their buffers until read, so a reader that
 * answers before it drains can have every receive full while its last
 * credit needs a grant: then one unread message is copied out (outside
 * completion context) and its buffer reposted.  At most AFSMBD_COPY_MAX
 * are out at a time, which bounds unread data at the ring plus that many.
 *
 * Return: true if one queued message should be copied out.
 */
bool afsmbd_credit_compact(u16 grant, u32 send_credits, u32 held, u32 queued,
			   u32 overflow);

/**
 * afsmbd_params_max_payload() - payload one message may carry
 * @p: negotiated parameters
 *
 * Fragments are cut at the peer's limit: max_send_size is already
 * min(ours, peer MaxReceiveSize), and the 24-byte header comes first.
 *
 * Return: max_send_size - 24 (>= 104 for valid parameters).
 */
u32 afsmbd_params_max_payload(const struct afsmbd_params *p);

/**
 * afsmbd_credit_consume_recv() - account a message received from the peer
 * @recv_credits: credits the peer holds, decremented
 *
 * Return: 0, or -EPROTO if the peer sent without holding a credit.
 */
int afsmbd_credit_consume_recv(u32 *recv_credits);

#endif /* AFSMBD_CODEC_H */
