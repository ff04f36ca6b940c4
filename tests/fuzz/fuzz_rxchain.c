// SPDX-License-Identifier: GPL-2.0
/*
 * The receive chain as xfer.c and stream.c drive it: fragments pass
 * afsmbd_reasm_feed(), each one with payload becomes an afsmbd_rxchunk in a
 * queue, and a reader takes bytes in random amounts, with MSG_PEEK-style
 * skips, copying the header from afsmbd_frame_encode_hdr() and the payload
 * from the buffer as afsmbd_rxchunk_seg() says.  What it reads must be the
 * Direct-TCP stream of the PDUs sent, byte for byte, in order.
 */

#include <string.h>
#include "fuzz.h"

#define RX_MAX		32	/* queued receive buffers */
#define RX_BUF		512	/* receive buffer size */
#define STREAM_MAX	(256 * (RX_BUF + 4))

struct rx {
	struct afsmbd_rxchunk c;
	u8 buf[RX_BUF];
};

struct chain {
	struct rx q[RX_MAX];
	u32 head, count;
	/* the expected stream: everything queued, from the read cursor on */
	u8 want[STREAM_MAX];
	u32 want_len;		/* bytes of want[] appended */
	u32 read;		/* bytes the reader consumed */
	u32 pdus, pdu_off;	/* payload generator position */
};

static struct chain ch;

static u8 payload_byte(u32 pdu, u32 off)
{
	return (u8)(pdu * 37u + off * 11u + (off >> 7));
}

static void want_put(const u8 *p, u32 n)
{
	FUZZ_ASSERT(ch.want_len + n <= STREAM_MAX);
	memcpy(ch.want + ch.want_len, p, n);
	ch.want_len += n;
}

/* The reader's view from unread byte @skip: as afsmbd_copy_rx(). */
static u32 chain_copy(u32 skip, u8 *out, u32 len, bool consume)
{
	u32 done = 0, k = 0;

	/* find the chunk holding byte @skip, as afsmbd_find() */
	while (k < ch.count) {
		u32 left = afsmbd_rxchunk_left(&ch.q[(ch.head + k) % RX_MAX].c);

		if (skip < left)
			break;
		skip -= left;
		k++;
	}
	while (done < len && k < ch.count) {
		struct rx *r = &ch.q[(ch.head + k) % RX_MAX];
		struct afsmbd_rxseg seg;
		u8 hdr[AFSMBD_FRAME_HDR_LEN];
		u32 n;

		if (!afsmbd_rxchunk_seg(&r->c, skip, &seg)) {
			k++;
			skip = 0;
			continue;
		}
		n = seg.len < len - done ? seg.len : len - done;
		if (seg.hdr) {
			FUZZ_ASSERT(afsmbd_frame_encode_hdr(r->c.pdu_len, hdr,
							    sizeof(hdr)) == 4);
			FUZZ_ASSERT(seg.off + n <= sizeof(hdr));
			memcpy(out + done, hdr + seg.off, n);
		} else {
			FUZZ_ASSERT(seg.off + n <= RX_BUF);
			memcpy(out + done, r->buf + seg.off, n);
		}
		done += n;
		if (consume) {
			/* as afsmbd_rx_consume(): a buffer read out is freed */
			if (afsmbd_rxchunk_consume(&r->c, n)) {
				FUZZ_ASSERT(k == 0);
				ch.head = (ch.head + 1) % RX_MAX;
				ch.count--;
			}
		} else {
			skip += n;
		}
	}
	return done;
}

void fuzz_rxchain(const u8 *data, size_t size)
{
	static u8 out[STREAM_MAX];
	struct afsmbd_reasm r;
	bool active = false;
	u32 remaining = 0;
	size_t i;

	if (size < 2)
		return;
	memset(&ch, 0, sizeof(ch));
	afsmbd_reasm_init(&r, 256 + (u32)data[0] * 64);
	for (i = 1; i + 3 <= size; i += 3) {
		u8 op = data[i];
		u32 a = data[i + 1] | (u32)data[i + 2] << 8;

		if (op & 1) {
			/* a fragment: steered to a valid countdown, mostly */
			u32 dlen = 1 + a % (RX_BUF - AFSMBD_DATA_HDR_LEN);
			u32 rem, off = AFSMBD_DATA_HDR_LEN + 8 * ((op >> 1) & 3);
			struct rx *x;
			int ev;

			if (off + dlen > RX_BUF)
				dlen = RX_BUF - off;
			if (!active)
				rem = (op & 0x80) ? (a * 7) % 3000 : 0;
			else if (dlen > remaining)
				dlen = remaining, rem = 0;
			else
				rem = remaining - dlen;
			if ((op & 0x60) == 0x60)
				rem ^= 1;	/* a broken countdown now and then */
			if (ch.count == RX_MAX ||
			    ch.want_len + RX_BUF + 4 > STREAM_MAX)
				continue;	/* no credit: the peer waits */
			ev = afsmbd_reasm_feed(&r, dlen, rem);
			if (ev < 0)
				continue;	/* a violation: nothing queued */
			FUZZ_ASSERT(ev != AFSMBD_REASM_EMPTY);
			x = &ch.q[(ch.head + ch.count) % RX_MAX];
			memset(x->buf, 0xee, sizeof(x->buf));
			if (ev == AFSMBD_REASM_SINGLE || ev == AFSMBD_REASM_FIRST) {
				u8 hdr[AFSMBD_FRAME_HDR_LEN];

				ch.pdus++;
				ch.pdu_off = 0;
				FUZZ_ASSERT(afsmbd_frame_encode_hdr(r.total, hdr,
								    4) == 4);
				want_put(hdr, 4);
			}
			for (u32 k = 0; k < dlen; k++)
				x->buf[off + k] = payload_byte(ch.pdus,
							       ch.pdu_off + k);
			want_put(x->buf + off, dlen);
			ch.pdu_off += dlen;
			FUZZ_ASSERT(afsmbd_rxchunk_init(&x->c, ev, r.total, off,
							dlen) == 0);
			FUZZ_ASSERT(afsmbd_rxchunk_left(&x->c) ==
				    dlen + (x->c.pdu_len ? 4 : 0));
			ch.count++;
			active = r.active;
			remaining = r.remaining;
		} else {
			/* the reader: a read or a peek of a few bytes */
			u32 avail = ch.want_len - ch.read;
			u32 skip = (op & 2) ? a % (avail + 1) : 0;
			u32 len = 1 + (a >> 4) % 700, n;
			bool peek = op & 2;

			n = chain_copy(skip, out, len, !peek);
			FUZZ_ASSERT(n == (len < avail - skip ? len :
					  avail - skip));
			FUZZ_ASSERT(!memcmp(out, ch.want + ch.read + skip, n));
			if (!peek)
				ch.read += n;
		}
	}
	/* Everything queued reads back whole, then nothing is left. */
	i = chain_copy(0, out, STREAM_MAX, true);
	FUZZ_ASSERT(ch.read + i == ch.want_len);
	FUZZ_ASSERT(!memcmp(out, ch.want + ch.read, i));
	FUZZ_ASSERT(ch.count == 0);
}
