// SPDX-License-Identifier: GPL-2.0
/*
 * smb2probe: a minimal SMB2/3 client on an AF_SMBDIRECT socket, to check
 * that the socket interoperates with a real SMB-Direct server (ksmbd).
 *
 *   smb2probe [-p PORT] [-d MS] [-D DIALECT] [-C CHANNEL] [-t TEST]
 *             [-u USER -w PASSWORD -s SHARE] ADDR
 *
 * Every test first sends an SMB2 NEGOTIATE (dialects 3.0, 3.0.2, 3.1.1 with
 * a preauth integrity context) and checks the response.  Tests:
 *   negotiate  only that (default)
 *   echo       ECHOs, one at a time and then pipelined in windows, on the
 *              SMB2 credits the server grants: far more messages than
 *              SMB-Direct's receive credits, so credits must flow
 *   io         NTLMv2 session setup, tree connect to SHARE, create, 64 KiB
 *              WRITEs and READs compared byte for byte, close, tree
 *              disconnect, logoff
 *   compound   session and tree as for io, then one related compound
 *              CREATE + WRITE + READ + CLOSE of 8 KiB: a request and a
 *              response of several SMB-Direct messages each
 *   rdma       session and tree as for io, then for files of 4 KiB to
 *              8 MiB: a WRITE whose data the server RDMA-reads from a
 *              buffer registered with SMBDIRECT_REGISTER (Length 0,
 *              DataOffset 0, RemainingBytes n, WriteChannelInfo = the
 *              descriptors), a READ the server RDMA-writes into another
 *              (ReadChannelInfo), compared byte for byte; prints each
 *              file's MD5.  Channel RDMA_V1 on dialect 3.0, else
 *              RDMA_V1_INVALIDATE (-C to choose), where the responses
 *              must come with SMBDIRECT_CMSG_INVALIDATED naming the
 *              registration, which DEREGISTER must still end.  Needs an
 *              unsigned session (the server signs nothing here).
 * -D 300|302|311 offers only that dialect.
 * (ksmbd in 6.12 cannot answer a compound of many small responses, such as
 * 40 ECHOs: it packs them into one message of more than its 6 send SGEs,
 * logs "buffer not fitted into sges" and never answers.)
 * Prints one "ok: ..." line per step and exits 0, or prints the failing
 * step and exits 1.  The whole run is bounded by a 60 s alarm (300 s for
 * rdma).  Before closing it waits a moment (-d MS, default 300), so that the
 * server's last sends (credit grants) are acknowledged before the disconnect
 * flushes them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/af_smbdirect.h>

#define SMB2_HDR_LEN		64
#define SMB2_NEGOTIATE		0x0000
#define SMB2_SESSION_SETUP	0x0001
#define SMB2_LOGOFF		0x0002
#define SMB2_TREE_CONNECT	0x0003
#define SMB2_TREE_DISCONNECT	0x0004
#define SMB2_CREATE		0x0005
#define SMB2_CLOSE		0x0006
#define SMB2_READ		0x0008
#define SMB2_WRITE		0x0009
#define SMB2_ECHO		0x000d

#define SMB2_FLAGS_SERVER_TO_REDIR	0x00000001
#define SMB2_FLAGS_RELATED_OPERATIONS	0x00000004

#define STATUS_SUCCESS			0x00000000
#define STATUS_MORE_PROCESSING_REQUIRED	0xc0000016

#define IO_CHUNK		65536
#define IO_CHUNKS		8
#define COMPOUND_LEN		8192
#define MAX_PDU			(1 << 20)

static int fd = -1;
static uint64_t next_mid;
static uint64_t session_id;
static uint32_t tree_id;
static unsigned int credits;	/* SMB2 credits we hold */
static uint16_t dialect;
static uint32_t max_read, max_write;
static uint8_t *rbuf;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "smb2probe: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "smb2probe: timed out\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static void put64(uint8_t *p, uint64_t v) { put32(p, v); put32(p + 4, v >> 32); }
static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* ---- MD4, MD5 and HMAC-MD5 (RFC 1320, 1321, 2104), for NTLMv2 only ---- */

static uint32_t rol(uint32_t x, int n) { return x << n | x >> (32 - n); }

static void md_pad(const uint8_t *msg, size_t len, uint8_t **out, size_t *olen)
{
	size_t n = (len + 8) / 64 * 64 + 64;
	uint8_t *b = calloc(1, n);

	if (!b)
		die("out of memory");
	memcpy(b, msg, len);
	b[len] = 0x80;
	put64(b + n - 8, (uint64_t)len * 8);
	*out = b;
	*olen = n;
}

static void md4(const uint8_t *msg, size_t len, uint8_t out[16])
{
	static const int s1[4] = { 3, 7, 11, 19 }, s2[4] = { 3, 5, 9, 13 };
	static const int s3[4] = { 3, 9, 11, 15 };
	static const int o3[16] = { 0, 8, 4, 12, 2, 10, 6, 14,
				    1, 9, 5, 13, 3, 11, 7, 15 };
	uint32_t h[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	uint32_t x[16], a, b, c, d, t;
	uint8_t *buf;
	size_t n, off;
	int i;

	md_pad(msg, len, &buf, &n);
	for (off = 0; off < n; off += 64) {
		for (i = 0; i < 16; i++)
			x[i] = get32(buf + off + 4 * i);
		a = h[0], b = h[1], c = h[2], d = h[3];
		for (i = 0; i < 16; i++) {
			t = rol(a + ((b & c) | (~b & d)) + x[i], s1[i % 4]);
			a = d, d = c, c = b, b = t;
		}
		for (i = 0; i < 16; i++) {
			t = rol(a + ((b & c) | (b & d) | (c & d)) +
				x[(i % 4) * 4 + i / 4] + 0x5a827999, s2[i % 4]);
			a = d, d = c, c = b, b = t;
		}
		for (i = 0; i < 16; i++) {
			t = rol(a + (b ^ c ^ d) + x[o3[i]] + 0x6ed9eba1, s3[i % 4]);
			a = d, d = c, c = b, b = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	}
	free(buf);
	for (i = 0; i < 4; i++)
		put32(out + 4 * i, h[i]);
}

static void md5(const uint8_t *msg, size_t len, uint8_t out[16])
{
	static const int s[4][4] = { { 7, 12, 17, 22 }, { 5, 9, 14, 20 },
				     { 4, 11, 16, 23 }, { 6, 10, 15, 21 } };
	static const uint32_t k[64] = {
		0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
		0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
		0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
		0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
		0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
		0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
		0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
		0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
		0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
		0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
		0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
		0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
		0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
		0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
		0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
		0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
	};
	uint32_t h[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	uint32_t x[16], a, b, c, d, f, t;
	uint8_t *buf;
	size_t n, off;
	int i, g;

	md_pad(msg, len, &buf, &n);
	for (off = 0; off < n; off += 64) {
		for (i = 0; i < 16; i++)
			x[i] = get32(buf + off + 4 * i);
		a = h[0], b = h[1], c = h[2], d = h[3];
		for (i = 0; i < 64; i++) {
			if (i < 16) {
				f = (b & c) | (~b & d);
				g = i;
			} else if (i < 32) {
				f = (d & b) | (~d & c);
				g = (5 * i + 1) % 16;
			} else if (i < 48) {
				f = b ^ c ^ d;
				g = (3 * i + 5) % 16;
			} else {
				f = c ^ (b | ~d);
				g = (7 * i) % 16;
			}
			t = d;
			d = c;
			c = b;
			b = b + rol(a + f + k[i] + x[g], s[i / 16][i % 4]);
			a = t;
		}
		h[0] += a, h[1] += b, h[2] += c, h[3] += d;
	}
	free(buf);
	for (i = 0; i < 4; i++)
		put32(out + 4 * i, h[i]);
}

static void hmac_md5(const uint8_t key[16], const uint8_t *msg, size_t len,
		     uint8_t out[16])
{
	uint8_t *b = malloc(64 + len + 16), ih[16];
	int i;

	if (!b)
		die("out of memory");
	memset(b, 0x36, 64);
	for (i = 0; i < 16; i++)
		b[i] ^= key[i];
	memcpy(b + 64, msg, len);
	md5(b, 64 + len, ih);
	memset(b, 0x5c, 64);
	for (i = 0; i < 16; i++)
		b[i] ^= key[i];
	memcpy(b + 64, ih, 16);
	md5(b, 80, out);
	free(b);
}

/* ASCII to UTF-16LE, optionally upper-cased; returns the byte length. */
static size_t utf16(uint8_t *out, const char *s, int upper)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (upper && c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		put16(out + 2 * i, (uint8_t)c);
	}
	return 2 * i;
}

/* ---- Direct-TCP framing on the socket ---- */

static void xwrite(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", n < 0 ? strerror(errno) : "short");
		p += n;
		len -= n;
	}
}

/*
 * SMBDIRECT_CMSG_INVALIDATED handles seen since the last take_invalidated():
 * they come with the bytes of the message the server sent with
 * Send-with-Invalidate, so every read goes through recvmsg.
 */
#define MAX_INVAL	8
static uint64_t inval_seen[MAX_INVAL];
static unsigned int inval_count;

static void xread(void *buf, size_t len)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(uint64_t)) * 4];
	} cb;
	uint8_t *p = buf;
	ssize_t n;

	while (len) {
		struct iovec iov = { p, len };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = &cb,
				    .msg_controllen = sizeof(cb) };
		struct cmsghdr *c;

		n = recvmsg(fd, &m, 0);
		if (n >= 0 && (m.msg_flags & MSG_CTRUNC))
			die("recvmsg: control data truncated");
		for (c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c;
		     c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SMBDIRECT ||
			    c->cmsg_type != SMBDIRECT_CMSG_INVALIDATED ||
			    c->cmsg_len != CMSG_LEN(sizeof(uint64_t)))
				die("recvmsg: unexpected control message %d/%d",
				    c->cmsg_level, c->cmsg_type);
			if (inval_count == MAX_INVAL)
				die("recvmsg: more than %d invalidations", MAX_INVAL);
			memcpy(&inval_seen[inval_count++], CMSG_DATA(c),
			       sizeof(uint64_t));
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read: %s", strerror(errno));
		if (n == 0)
			die("read: connection closed by the server");
		p += n;
		len -= n;
	}
}

static void send_pdu(uint8_t *pdu, size_t len)
{
	uint8_t h[4] = { 0, len >> 16, len >> 8, len };

	xwrite(h, 4);
	xwrite(pdu, len);
}

static size_t recv_pdu(void)
{
	uint8_t h[4];
	size_t len;

	xread(h, 4);
	if (h[0])
		die("bad Direct-TCP header %02x%02x%02x%02x", h[0], h[1], h[2], h[3]);
	len = (size_t)h[1] << 16 | h[2] << 8 | h[3];
	if (len < SMB2_HDR_LEN || len > MAX_PDU)
		die("PDU length %zu out of range", len);
	xread(rbuf, len);
	return len;
}

/* ---- SMB2 ---- */

static size_t smb2_hdr(uint8_t *p, uint16_t cmd, uint16_t charge, uint16_t req)
{
	memset(p, 0, SMB2_HDR_LEN);
	memcpy(p, "\xfeSMB", 4);
	put16(p + 4, SMB2_HDR_LEN);
	put16(p + 6, charge);
	put16(p + 12, cmd);
	put16(p + 14, req);
	put64(p + 24, next_mid);
	put32(p + 36, tree_id);
	put64(p + 40, session_id);
	next_mid += charge ? charge : 1;
	if (credits < (charge ? charge : 1))
		die("command 0x%x: no SMB2 credits left", cmd);
	credits -= charge ? charge : 1;
	return SMB2_HDR_LEN;
}

/*
 * Check one response header at @p (@len bytes up to the PDU's end) for
 * @cmd and @status and a body of @size bytes; takes the credits granted.
 */
static void check_rsp(const uint8_t *p, size_t len, uint16_t cmd,
		      uint32_t status, uint16_t size, const char *what)
{
	if (len < SMB2_HDR_LEN + 2)
		die("%s: response of %zu bytes", what, len);
	if (memcmp(p, "\xfeSMB", 4))
		die("%s: ProtocolId %02x%02x%02x%02x, not FE 'SMB'", what,
		    p[0], p[1], p[2], p[3]);
	if (get16(p + 4) != SMB2_HDR_LEN)
		die("%s: header StructureSize %u", what, get16(p + 4));
	if (get16(p + 12) != cmd)
		die("%s: Command 0x%x, expected 0x%x", what, get16(p + 12), cmd);
	if (!(get32(p + 16) & SMB2_FLAGS_SERVER_TO_REDIR))
		die("%s: response flag not set", what);
	if (get32(p + 8) != status)
		die("%s: Status 0x%08x, expected 0x%08x", what, get32(p + 8), status);
	if (get16(p + SMB2_HDR_LEN) != size)
		die("%s: body StructureSize %u, expected %u", what,
		    get16(p + SMB2_HDR_LEN), size);
	credits += get16(p + 14);
}

/*
 * One request, one response with the request's MessageId and a body of
 * StructureSize @size; returns the response's length.
 */
static size_t call(uint8_t *req, size_t len, uint16_t cmd, uint32_t status,
		   uint16_t size, const char *what)
{
	size_t n;

	send_pdu(req, len);
	n = recv_pdu();
	check_rsp(rbuf, n, cmd, status, size, what);
	if (get64(rbuf + 24) != get64(req + 24))
		die("%s: MessageId %llu in the response to %llu", what,
		    (unsigned long long)get64(rbuf + 24),
		    (unsigned long long)get64(req + 24));
	return n;
}

/* -D: offer only this dialect (0: 3.0, 3.0.2 and 3.1.1). */
static uint16_t only_dialect;

static void negotiate(void)
{
	static const uint16_t all[] = { 0x0300, 0x0302, 0x0311 };
	const uint16_t *dialects = only_dialect ? &only_dialect : all;
	unsigned int i, nd = only_dialect ? 1 : 3;
	uint8_t req[256] = { 0 }, *b = req + SMB2_HDR_LEN, *ctx;
	size_t len, n, off, secoff, seclen;

	credits = 1;
	smb2_hdr(req, SMB2_NEGOTIATE, 0, 1);
	put16(b, 36);
	put16(b + 2, nd);
	put16(b + 4, 1);		/* SecurityMode: signing enabled */
	for (i = 0; i < 16; i++)	/* ClientGuid */
		b[8 + i] = rand();
	for (i = 0; i < nd; i++)
		put16(b + 36 + 2 * i, dialects[i]);
	len = SMB2_HDR_LEN + 36 + 2 * nd;
	if (dialects[nd - 1] == 0x0311) {
		/* One negotiate context, preauth integrity SHA-512, 8-aligned. */
		off = (SMB2_HDR_LEN + 36 + 2 * nd + 7) & ~7u;
		put32(b + 28, off);
		put16(b + 32, 1);
		ctx = req + off;
		put16(ctx, 1);		/* SMB2_PREAUTH_INTEGRITY_CAPABILITIES */
		put16(ctx + 2, 38);
		put16(ctx + 8, 1);	/* HashAlgorithmCount */
		put16(ctx + 10, 32);	/* SaltLength */
		put16(ctx + 12, 1);	/* SHA-512 */
		for (i = 0; i < 32; i++)
			ctx[14 + i] = rand();
		len = off + 8 + 38;
	}

	n = call(req, len, SMB2_NEGOTIATE, STATUS_SUCCESS, 65, "NEGOTIATE");
	b = rbuf + SMB2_HDR_LEN;
	if (n < SMB2_HDR_LEN + 64)
		die("NEGOTIATE: response body too short (%zu)", n);
	dialect = get16(b + 4);
	if (dialect != 0x0300 && dialect != 0x0302 && dialect != 0x0311)
		die("NEGOTIATE: DialectRevision 0x%04x", dialect);
	if (only_dialect && dialect != only_dialect)
		die("NEGOTIATE: DialectRevision 0x%04x, only 0x%04x offered",
		    dialect, only_dialect);
	secoff = get16(b + 56);
	seclen = get16(b + 58);
	if (seclen && (secoff < SMB2_HDR_LEN + 64 || secoff + seclen > n))
		die("NEGOTIATE: security buffer %zu+%zu outside %zu", secoff, seclen, n);
	if (dialect == 0x0311) {
		off = get32(b + 60);
		if (!get16(b + 6) || off < SMB2_HDR_LEN + 64 || off + 8 > n)
			die("NEGOTIATE: 3.1.1 without negotiate contexts");
		if (get16(rbuf + off) != 1)
			die("NEGOTIATE: first context type %u, not preauth",
			    get16(rbuf + off));
	}
	max_read = get32(b + 32);
	max_write = get32(b + 36);
	printf("ok: NEGOTIATE dialect 0x%04x, security mode 0x%x, capabilities 0x%x, "
	       "max transact/read/write %u/%u/%u, SPNEGO blob %zu bytes, %u credit(s)\n",
	       dialect, get16(b + 2), get32(b + 24), get32(b + 28), max_read,
	       max_write, seclen, credits);
}

static size_t echo_req(uint8_t *p, uint16_t want)
{
	smb2_hdr(p, SMB2_ECHO, 1, want);
	put16(p + SMB2_HDR_LEN, 4);
	put16(p + SMB2_HDR_LEN + 2, 0);
	return SMB2_HDR_LEN + 4;
}

static void test_echo(void)
{
	uint8_t req[SMB2_HDR_LEN + 8];
	unsigned int i, j, w, total = 0;

	/* One at a time, asking for more credits each time. */
	for (i = 0; i < 100; i++) {
		call(req, echo_req(req, 8), SMB2_ECHO, STATUS_SUCCESS, 4, "ECHO");
		total++;
	}
	printf("ok: %u ECHOs one by one, %u SMB2 credits held\n", total, credits);
	/* Windows of up to 32 in flight: the server sends bursts. */
	for (i = 0; i < 20; i++) {
		w = credits < 32 ? credits : 32;
		if (!w)
			die("ECHO: no SMB2 credits to pipeline with");
		for (j = 0; j < w; j++)
			send_pdu(req, echo_req(req, 1 + (j == 0)));
		for (j = 0; j < w; j++)
			check_rsp(rbuf, recv_pdu(), SMB2_ECHO, STATUS_SUCCESS, 4,
				  "pipelined ECHO");
		total += w;
	}
	printf("ok: %u ECHOs in all, pipelined up to 32 deep, %u SMB2 credits held\n",
	       total, credits);
}

/* SESSION_SETUP carrying @blob; returns the response's security blob. */
static const uint8_t *session_setup(const uint8_t *blob, size_t blen,
				    uint32_t status, size_t *olen)
{
	uint8_t *req = malloc(SMB2_HDR_LEN + 24 + blen), *b = req + SMB2_HDR_LEN;
	size_t n, off;

	if (!req)
		die("out of memory");
	smb2_hdr(req, SMB2_SESSION_SETUP, 1, 64);
	memset(b, 0, 24);
	put16(b, 25);
	b[3] = 1;			/* SecurityMode: signing enabled */
	put16(b + 12, SMB2_HDR_LEN + 24);
	put16(b + 14, blen);
	memcpy(b + 24, blob, blen);
	n = call(req, SMB2_HDR_LEN + 24 + blen, SMB2_SESSION_SETUP, status, 9,
		 "SESSION_SETUP");
	free(req);
	session_id = get64(rbuf + 40);
	b = rbuf + SMB2_HDR_LEN;
	off = get16(b + 4);
	*olen = get16(b + 6);
	if (*olen && off + *olen > n)
		die("SESSION_SETUP: security buffer outside the PDU");
	return rbuf + off;
}

static void secbuf(uint8_t *msg, size_t field, size_t *end, const void *data,
		   size_t len)
{
	put16(msg + field, len);
	put16(msg + field + 2, len);
	put32(msg + field + 4, *end);
	memcpy(msg + *end, data, len);
	*end += len;
}

static void login(const char *user, const char *pass)
{
	static const char domain[] = "WORKGROUP";
	const uint32_t flags = 0x01 | 0x04 | 0x200 | 0x8000 | 0x80000 |
			       0x20000000 | 0x80000000;
	uint8_t neg[32] = "NTLMSSP", chal[8], ntlm[16], key[16], tmp[512];
	uint8_t *auth, *nt;
	const uint8_t *c;
	size_t clen, tlen, toff, ntlen, n, end;
	uint64_t now;
	unsigned int i;

	put32(neg + 8, 1);
	put32(neg + 12, flags);
	c = session_setup(neg, 32, STATUS_MORE_PROCESSING_REQUIRED, &clen);
	if (clen < 48 || memcmp(c, "NTLMSSP", 8) || get32(c + 8) != 2)
		die("SESSION_SETUP: no NTLMSSP CHALLENGE in the response");
	memcpy(chal, c + 24, 8);
	tlen = get16(c + 40);
	toff = get32(c + 44);
	if (toff + tlen > clen || tlen > 1024)
		die("SESSION_SETUP: bad TargetInfo");
	printf("ok: SESSION_SETUP 1: NTLMSSP CHALLENGE, session 0x%llx\n",
	       (unsigned long long)session_id);

	/* NTLMv2 response: NTProofStr then the client blob. */
	ntlen = 16 + 28 + tlen + 4;
	nt = calloc(1, ntlen);
	auth = calloc(1, 64 + 24 + ntlen + 512);
	if (!nt || !auth)
		die("out of memory");
	nt[16] = 1;
	nt[17] = 1;
	now = ((uint64_t)time(NULL) + 11644473600ULL) * 10000000ULL;
	put64(nt + 24, now);
	for (i = 0; i < 8; i++)
		nt[32 + i] = rand();
	memcpy(nt + 44, c + toff, tlen);

	n = utf16(tmp, pass, 0);
	md4(tmp, n, ntlm);
	n = utf16(tmp, user, 1);
	n += utf16(tmp + n, domain, 0);
	hmac_md5(ntlm, tmp, n, key);
	{
		uint8_t *m = malloc(8 + ntlen - 16);

		if (!m)
			die("out of memory");
		memcpy(m, chal, 8);
		memcpy(m + 8, nt + 16, ntlen - 16);
		hmac_md5(key, m, 8 + ntlen - 16, nt);
		free(m);
	}

	memcpy(auth, "NTLMSSP", 8);
	put32(auth + 8, 3);
	put32(auth + 60, flags);
	end = 64;
	memset(tmp, 0, 24);
	secbuf(auth, 12, &end, tmp, 24);		/* LmChallengeResponse */
	secbuf(auth, 20, &end, nt, ntlen);		/* NtChallengeResponse */
	secbuf(auth, 28, &end, tmp + 100, utf16(tmp + 100, domain, 0));
	secbuf(auth, 36, &end, tmp + 200, utf16(tmp + 200, user, 0));
	secbuf(auth, 44, &end, tmp + 300, utf16(tmp + 300, "PROBE", 0));
	secbuf(auth, 52, &end, tmp, 0);			/* no key exchange */
	session_setup(auth, end, STATUS_SUCCESS, &clen);
	printf("ok: SESSION_SETUP 2: NTLMv2 as %s, session flags 0x%x\n", user,
	       get16(rbuf + SMB2_HDR_LEN + 2));
	free(nt);
	free(auth);
}

static void tree_connect(const char *addr, const char *share)
{
	uint8_t req[SMB2_HDR_LEN + 8 + 512], *b = req + SMB2_HDR_LEN;
	char path[200];
	size_t plen;

	smb2_hdr(req, SMB2_TREE_CONNECT, 1, 64);
	snprintf(path, sizeof(path), "\\\\%s\\%s", addr, share);
	memset(b, 0, 8);
	put16(b, 9);
	plen = utf16(b + 8, path, 0);
	put16(b + 4, SMB2_HDR_LEN + 8);
	put16(b + 6, plen);
	call(req, SMB2_HDR_LEN + 8 + plen, SMB2_TREE_CONNECT, STATUS_SUCCESS, 16,
	     "TREE_CONNECT");
	tree_id = get32(rbuf + 36);
	printf("ok: TREE_CONNECT %s, tree 0x%x, share type %u\n", path, tree_id,
	       rbuf[SMB2_HDR_LEN + 2]);
}

/* A CREATE request (overwrite-if, read/write) at @p; returns its length. */
static size_t create_req(uint8_t *p, const char *name)
{
	uint8_t *b = p + SMB2_HDR_LEN;
	size_t plen;

	smb2_hdr(p, SMB2_CREATE, 1, 64);
	memset(b, 0, 56);
	put16(b, 57);
	put32(b + 4, 2);		/* ImpersonationLevel: impersonation */
	put32(b + 24, 0x0012019f);	/* DesiredAccess: generic read/write */
	put32(b + 28, 0x80);		/* FileAttributes: normal */
	put32(b + 32, 7);		/* ShareAccess: all */
	put32(b + 36, 5);		/* CreateDisposition: overwrite-if */
	put32(b + 40, 0x40);		/* CreateOptions: non-directory */
	plen = utf16(b + 56, name, 0);
	put16(b + 44, SMB2_HDR_LEN + 56);
	put16(b + 46, plen);
	return SMB2_HDR_LEN + 56 + plen;
}

static size_t write_req(uint8_t *p, const uint8_t *fid, uint64_t off,
			const uint8_t *data, size_t len)
{
	uint8_t *b = p + SMB2_HDR_LEN;

	smb2_hdr(p, SMB2_WRITE, 1, 64);
	memset(b, 0, 48);
	put16(b, 49);
	put16(b + 2, SMB2_HDR_LEN + 48);	/* DataOffset */
	put32(b + 4, len);
	put64(b + 8, off);
	memcpy(b + 16, fid, 16);
	memcpy(b + 48, data, len);
	return SMB2_HDR_LEN + 48 + len;
}

static size_t read_req(uint8_t *p, const uint8_t *fid, uint64_t off, size_t len)
{
	uint8_t *b = p + SMB2_HDR_LEN;

	smb2_hdr(p, SMB2_READ, 1, 64);
	memset(b, 0, 49);
	put16(b, 49);
	b[2] = 0x50;				/* Padding */
	put32(b + 4, len);
	put64(b + 8, off);
	memcpy(b + 16, fid, 16);
	return SMB2_HDR_LEN + 49;
}

static size_t close_req(uint8_t *p, const uint8_t *fid)
{
	uint8_t *b = p + SMB2_HDR_LEN;

	smb2_hdr(p, SMB2_CLOSE, 1, 64);
	memset(b, 0, 24);
	put16(b, 24);
	memcpy(b + 8, fid, 16);
	return SMB2_HDR_LEN + 24;
}

/* Check a READ response at @p (@len bytes to the PDU's end) against @data. */
static void check_read(const uint8_t *p, size_t len, const uint8_t *data,
		       size_t want, const char *what)
{
	size_t off = p[SMB2_HDR_LEN + 2], n = get32(p + SMB2_HDR_LEN + 4);

	if (n != want || off + n > len)
		die("%s: %zu bytes at offset %zu in a %zu-byte response", what, n,
		    off, len);
	if (memcmp(p + off, data, n))
		die("%s: data differs from what was written", what);
}

static void finish_session(void)
{
	uint8_t req[SMB2_HDR_LEN + 8] = { 0 };

	smb2_hdr(req, SMB2_TREE_DISCONNECT, 1, 64);
	put16(req + SMB2_HDR_LEN, 4);
	call(req, SMB2_HDR_LEN + 4, SMB2_TREE_DISCONNECT, STATUS_SUCCESS, 4,
	     "TREE_DISCONNECT");
	tree_id = 0;
	smb2_hdr(req, SMB2_LOGOFF, 1, 64);
	put16(req + SMB2_HDR_LEN, 4);
	call(req, SMB2_HDR_LEN + 4, SMB2_LOGOFF, STATUS_SUCCESS, 4, "LOGOFF");
	printf("ok: TREE_DISCONNECT, LOGOFF\n");
}

static void fill(uint8_t *data, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		data[i] = (i * 7 + i / 4096 + seed) ^ 0x5a;
}

static void test_io(void)
{
	uint8_t *req = malloc(SMB2_HDR_LEN + 48 + IO_CHUNK);
	uint8_t *data = malloc(IO_CHUNK * IO_CHUNKS), fid[16];
	size_t n, chunk = IO_CHUNK;
	unsigned int j;

	if (!req || !data)
		die("out of memory");
	if (max_read && max_read < chunk)
		chunk = max_read;
	if (max_write && max_write < chunk)
		chunk = max_write;
	call(req, create_req(req, "smb2probe.bin"), SMB2_CREATE, STATUS_SUCCESS, 89,
	     "CREATE");
	memcpy(fid, rbuf + SMB2_HDR_LEN + 64, 16);
	printf("ok: CREATE smb2probe.bin\n");

	fill(data, chunk * IO_CHUNKS, 0);
	for (j = 0; j < IO_CHUNKS; j++) {
		call(req, write_req(req, fid, j * chunk, data + j * chunk, chunk),
		     SMB2_WRITE, STATUS_SUCCESS, 17, "WRITE");
		if (get32(rbuf + SMB2_HDR_LEN + 4) != chunk)
			die("WRITE: %u bytes written, not %zu",
			    get32(rbuf + SMB2_HDR_LEN + 4), chunk);
	}
	printf("ok: %u WRITEs of %zu bytes\n", IO_CHUNKS, chunk);
	for (j = 0; j < IO_CHUNKS; j++) {
		n = call(req, read_req(req, fid, j * chunk, chunk), SMB2_READ,
			 STATUS_SUCCESS, 17, "READ");
		check_read(rbuf, n, data + j * chunk, chunk, "READ");
	}
	printf("ok: %u READs of %zu bytes match\n", IO_CHUNKS, chunk);
	call(req, close_req(req, fid), SMB2_CLOSE, STATUS_SUCCESS, 60, "CLOSE");
	printf("ok: CLOSE\n");
	free(req);
	free(data);
}

/*
 * One related compound: CREATE, WRITE, READ and CLOSE on the FileId the
 * CREATE returns (all-ones in the later requests).
 */
static void test_compound(void)
{
	static const uint16_t cmds[4] = { SMB2_CREATE, SMB2_WRITE, SMB2_READ,
					  SMB2_CLOSE };
	static const uint16_t sizes[4] = { 89, 17, 17, 60 };
	uint8_t *req = calloc(1, 1024 + COMPOUND_LEN), data[COMPOUND_LEN];
	uint8_t fid[16];
	size_t off[5], len, n, at;
	unsigned int i;

	if (!req)
		die("out of memory");
	memset(fid, 0xff, sizeof(fid));
	fill(data, sizeof(data), 3);
	off[0] = 0;
	len = create_req(req, "compound.bin");
	off[1] = (len + 7) & ~7u;
	len = write_req(req + off[1], fid, 0, data, sizeof(data));
	off[2] = off[1] + ((len + 7) & ~7u);
	len = read_req(req + off[2], fid, 0, sizeof(data));
	off[3] = off[2] + ((len + 7) & ~7u);
	len = close_req(req + off[3], fid);
	off[4] = off[3] + len;
	for (i = 0; i < 4; i++) {
		if (i < 3)
			put32(req + off[i] + 20, off[i + 1] - off[i]);
		if (i > 0)
			put32(req + off[i] + 16, SMB2_FLAGS_RELATED_OPERATIONS);
	}
	send_pdu(req, off[4]);
	n = recv_pdu();
	for (i = 0, at = 0; i < 4; i++) {
		check_rsp(rbuf + at, n - at, cmds[i], STATUS_SUCCESS, sizes[i],
			  "compound");
		if (cmds[i] == SMB2_READ)
			check_read(rbuf + at, n - at, data, sizeof(data),
				   "compound READ");
		len = get32(rbuf + at + 20);
		if (i < 3 && (!len || at + len >= n))
			die("compound: response %u has NextCommand %zu in a %zu-byte PDU",
			    i, len, n);
		at += len;
	}
	printf("ok: compound CREATE+WRITE+READ+CLOSE of %zu bytes: %zu-byte request, "
	       "%zu-byte response\n", sizeof(data), off[4], n);
	free(req);
}

/* ---- RDMA channels: the client role of SMBDIRECT_REGISTER ---- */

#define SMB2_CHANNEL_RDMA_V1		1
#define SMB2_CHANNEL_RDMA_V1_INVALIDATE	2

static unsigned int channel;	/* -C; 0: by dialect */

struct reg {
	uint64_t handle;
	uint32_t nr;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
};

static struct smbdirect_info info(void)
{
	struct smbdirect_info si;
	socklen_t sl = sizeof(si);

	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &si, &sl))
		die("SMBDIRECT_INFO: %s", strerror(errno));
	return si;
}

/* Register [p, p + len) for the server to write (READ) or read (WRITE). */
static void reg_buf(void *p, size_t len, uint32_t access, struct reg *r,
		    const char *what)
{
	struct smbdirect_register q = {
		.addr = (uintptr_t)p, .len = len, .access = access,
		.max_descs = SMBDIRECT_MAX_DESCS, .descs = (uintptr_t)r->d,
	};
	socklen_t l = sizeof(q);
	uint64_t total = 0;
	unsigned int i;

	memset(r->d, 0xee, sizeof(r->d));
	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_REGISTER, &q, &l))
		die("%s: SMBDIRECT_REGISTER of %zu bytes: %s", what, len,
		    strerror(errno));
	if (!q.nr_descs || q.nr_descs > SMBDIRECT_MAX_DESCS || !q.handle)
		die("%s: %u descriptors, handle %llu", what, q.nr_descs,
		    (unsigned long long)q.handle);
	for (i = 0; i < q.nr_descs; i++)
		total += get32((uint8_t *)&r->d[i].length);
	if (total != len)
		die("%s: descriptors cover %llu bytes, not %zu", what,
		    (unsigned long long)total, len);
	r->handle = q.handle;
	r->nr = q.nr_descs;
}

/* DEREGISTER must succeed, also after a remote invalidation, and once. */
static void dereg_buf(struct reg *r, const char *what)
{
	if (setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &r->handle,
		       sizeof(r->handle)))
		die("%s: SMBDIRECT_DEREGISTER: %s", what, strerror(errno));
	if (!setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &r->handle,
			sizeof(r->handle)) || errno != ENOENT)
		die("%s: second SMBDIRECT_DEREGISTER: %s, not ENOENT", what,
		    strerror(errno));
}

/*
 * The response to a request with an RDMA channel was read: with
 * RDMA_V1_INVALIDATE the server sent it with Send-with-Invalidate naming
 * the first token, which must have come as SMBDIRECT_CMSG_INVALIDATED
 * with the registration's handle; with RDMA_V1 nothing may come.
 */
static void check_inval(const struct reg *r, const char *what)
{
	if (channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE) {
		if (inval_count != 1 || inval_seen[0] != r->handle)
			die("%s: %u SMBDIRECT_CMSG_INVALIDATED (first %llu), want one for handle %llu",
			    what, inval_count,
			    (unsigned long long)(inval_count ? inval_seen[0] : 0),
			    (unsigned long long)r->handle);
	} else if (inval_count) {
		die("%s: SMBDIRECT_CMSG_INVALIDATED %llu on RDMA_V1", what,
		    (unsigned long long)inval_seen[0]);
	}
	inval_count = 0;
}

static uint16_t charge_of(size_t len)
{
	return len ? (len + 65535) / 65536 : 1;
}

/* Hold at least @need SMB2 credits, asking for more with ECHOs. */
static void want_credits(unsigned int need)
{
	uint8_t req[SMB2_HDR_LEN + 8];
	int i;

	for (i = 0; credits < need && i < 20; i++)
		call(req, echo_req(req, 512), SMB2_ECHO, STATUS_SUCCESS, 4,
		     "ECHO for credits");
	if (credits < need)
		die("server grants %u SMB2 credits, %u needed", credits, need);
}

static size_t write_rdma_req(uint8_t *p, const uint8_t *fid, size_t len,
			     const struct reg *r)
{
	uint8_t *b = p + SMB2_HDR_LEN;

	smb2_hdr(p, SMB2_WRITE, charge_of(len), 256);
	memset(b, 0, 48);
	put16(b, 49);
	/* DataOffset 0, Length 0: the data is on the channel */
	memcpy(b + 16, fid, 16);
	put32(b + 32, channel);
	put32(b + 36, len);			/* RemainingBytes */
	put16(b + 40, SMB2_HDR_LEN + 48);	/* WriteChannelInfoOffset */
	put16(b + 42, r->nr * sizeof(r->d[0]));	/* WriteChannelInfoLength */
	memcpy(b + 48, r->d, r->nr * sizeof(r->d[0]));
	return SMB2_HDR_LEN + 48 + r->nr * sizeof(r->d[0]);
}

static size_t read_rdma_req(uint8_t *p, const uint8_t *fid, size_t len,
			    const struct reg *r)
{
	uint8_t *b = p + SMB2_HDR_LEN;

	smb2_hdr(p, SMB2_READ, charge_of(len), 256);
	memset(b, 0, 48);
	put16(b, 49);
	b[2] = 0x50;				/* Padding */
	put32(b + 4, len);			/* Length */
	memcpy(b + 16, fid, 16);
	put32(b + 36, channel);
	put16(b + 44, SMB2_HDR_LEN + 48);	/* ReadChannelInfoOffset */
	put16(b + 46, r->nr * sizeof(r->d[0]));	/* ReadChannelInfoLength */
	memcpy(b + 48, r->d, r->nr * sizeof(r->d[0]));
	return SMB2_HDR_LEN + 48 + r->nr * sizeof(r->d[0]);
}

/*
 * File sizes, and where each buffer starts in its page.  ksmbd (6.12)
 * counts one rw credit per 256 pages of each descriptor's slice of its
 * own buffer and waits for ever when one request needs more than its
 * MaxReadWriteSize allows (9 at 8 MiB): 8 MiB must be page-aligned here,
 * as cifs.ko's page-cache buffers are.
 */
static const struct {
	size_t len, off;
} rdma_files[] = {
	{ 4096, 0 }, { 65536, 4093 }, { (1 << 20) + 4099, 0 },
	{ 4 << 20, 4093 }, { 8 << 20, 0 },
};

/*
 * For each size: CREATE, WRITE through the channel from a registered
 * buffer, READ back through the channel into another, compare byte for
 * byte, CLOSE.  The MD5 of each file is printed for the caller to check
 * the server's copy.
 */
static void test_rdma(void)
{
	uint8_t *req = malloc(1024), fid[16], md[16];
	struct smbdirect_info si0 = info(), si;
	unsigned int i, k, inv = 0;
	char name[64], what[96];

	if (!req)
		die("out of memory");
	if (!channel)
		channel = dialect == 0x0300 ? SMB2_CHANNEL_RDMA_V1 :
			  SMB2_CHANNEL_RDMA_V1_INVALIDATE;
	printf("ok: RDMA channel %s on dialect 0x%04x, MaxReadWriteSize %u\n",
	       channel == SMB2_CHANNEL_RDMA_V1 ? "RDMA_V1" :
	       "RDMA_V1_INVALIDATE", dialect, si0.max_read_write_size);
	for (i = 0; i < sizeof(rdma_files) / sizeof(rdma_files[0]); i++) {
		size_t len = rdma_files[i].len, off = rdma_files[i].off, n;
		uint8_t *wmem = aligned_alloc(4096, len + 8192);
		uint8_t *rmem = aligned_alloc(4096, len + 8192);
		uint8_t *wbuf = wmem + off, *rdst = rmem + off;
		struct reg w, r;

		if (!wmem || !rmem)
			die("out of memory");
		if (len > si0.max_read_write_size)
			die("%zu bytes: above MaxReadWriteSize %u", len,
			    si0.max_read_write_size);
		snprintf(name, sizeof(name), "rdma-%zu.bin", len);
		want_credits(charge_of(len) + 1);
		call(req, create_req(req, name), SMB2_CREATE, STATUS_SUCCESS,
		     89, "CREATE");
		memcpy(fid, rbuf + SMB2_HDR_LEN + 64, 16);

		/* WRITE: the server RDMA-reads our buffer. */
		fill(wbuf, len, i + 11);
		snprintf(what, sizeof(what), "WRITE %s", name);
		reg_buf(wbuf, len, SMBDIRECT_ACCESS_REMOTE_READ, &w, what);
		n = call(req, write_rdma_req(req, fid, len, &w), SMB2_WRITE,
			 STATUS_SUCCESS, 17, what);
		if (n < SMB2_HDR_LEN + 16 ||
		    get32(rbuf + SMB2_HDR_LEN + 4) != len)
			die("%s: Count %u, not %zu", what,
			    get32(rbuf + SMB2_HDR_LEN + 4), len);
		check_inval(&w, what);
		dereg_buf(&w, what);

		/* READ: the server RDMA-writes into a zeroed buffer. */
		memset(rmem, 0, len + 8192);
		snprintf(what, sizeof(what), "READ %s", name);
		reg_buf(rdst, len, SMBDIRECT_ACCESS_REMOTE_WRITE, &r, what);
		n = call(req, read_rdma_req(req, fid, len, &r), SMB2_READ,
			 STATUS_SUCCESS, 17, what);
		if (n < SMB2_HDR_LEN + 16 ||
		    get32(rbuf + SMB2_HDR_LEN + 4) != 0 ||
		    get32(rbuf + SMB2_HDR_LEN + 8) != len)
			die("%s: DataLength %u, DataRemaining %u; want 0 and %zu",
			    what, get32(rbuf + SMB2_HDR_LEN + 4),
			    get32(rbuf + SMB2_HDR_LEN + 8), len);
		check_inval(&r, what);
		dereg_buf(&r, what);
		if (memcmp(rdst, wbuf, len)) {
			for (k = 0; k < len && rdst[k] == wbuf[k]; k++)
				;
			die("%s: data differs from the WRITE at byte %u", what, k);
		}
		/* Nothing outside the registered range was touched. */
		for (k = 0; k < off; k++)
			if (rmem[k])
				die("%s: byte %u before the buffer written", what, k);
		for (k = 0; k < 8192 - off; k++)
			if (rdst[len + k])
				die("%s: byte %u after the buffer written", what, k);
		call(req, close_req(req, fid), SMB2_CLOSE, STATUS_SUCCESS, 60,
		     "CLOSE");
		md5(wbuf, len, md);
		printf("ok: %s: %zu bytes at page offset %zu, %u+%u descriptors, WRITE and READ match; md5 ",
		       name, len, off, w.nr, r.nr);
		for (k = 0; k < 16; k++)
			printf("%02x", md[k]);
		printf("\n");
		inv += channel == SMB2_CHANNEL_RDMA_V1_INVALIDATE ? 2 : 0;
		free(wmem);
		free(rmem);
	}
	si = info();
	printf("ok: counters: %llu remote invalidations, %llu bytes still registered\n",
	       (unsigned long long)(si.remote_invalidations -
				    si0.remote_invalidations),
	       (unsigned long long)si.registered_bytes);
	if (si.remote_invalidations - si0.remote_invalidations != inv)
		die("SMBDIRECT_INFO: %llu remote invalidations, want %u",
		    (unsigned long long)(si.remote_invalidations -
					 si0.remote_invalidations), inv);
	if (si.registered_bytes)
		die("SMBDIRECT_INFO: %llu bytes still registered",
		    (unsigned long long)si.registered_bytes);
	free(req);
}

static int family(void)
{
	FILE *f = fopen("/sys/module/af_smbdirect/parameters/family", "r");
	int fam = AF_SMBDIRECT;

	if (f) {
		if (fscanf(f, "%d", &fam) != 1)
			fam = AF_SMBDIRECT;
		fclose(f);
	}
	return fam;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: smb2probe [-p PORT] [-d MS] [-D DIALECT] [-C CHANNEL]\n"
		"                 [-t negotiate|echo|io|compound|rdma]\n"
		"                 [-u USER -w PASSWORD -s SHARE] ADDR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *test = "negotiate", *user = NULL, *pass = NULL, *share = NULL;
	int delay_ms = 300;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(445) };
	struct smbdirect_info si;
	socklen_t sl = sizeof(si);
	int opt;

	while ((opt = getopt(argc, argv, "p:t:u:w:s:d:D:C:h")) != -1) {
		switch (opt) {
		case 'D':
			only_dialect = strtoul(optarg, NULL, 16);
			if (only_dialect != 0x0300 && only_dialect != 0x0302 &&
			    only_dialect != 0x0311)
				usage();
			break;
		case 'C':
			channel = atoi(optarg);
			if (channel != SMB2_CHANNEL_RDMA_V1 &&
			    channel != SMB2_CHANNEL_RDMA_V1_INVALIDATE)
				usage();
			break;
		case 'd':
			delay_ms = atoi(optarg);
			break;
		case 'p':
			sin.sin_port = htons(atoi(optarg));
			break;
		case 't':
			test = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		case 'w':
			pass = optarg;
			break;
		case 's':
			share = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || inet_pton(AF_INET, argv[optind], &sin.sin_addr) != 1)
		usage();
	/* Lines reach the log as they happen, also when the alarm fires. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, on_alarm);
	alarm(strcmp(test, "rdma") ? 60 : 300);
	srand(time(NULL) ^ getpid());
	rbuf = malloc(MAX_PDU);
	if (!rbuf)
		die("out of memory");

	fd = socket(family(), SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect %s:%u: %s", argv[optind], ntohs(sin.sin_port),
		    strerror(errno));
	if (!getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &si, &sl))
		printf("ok: SMB-Direct connected: version 0x%04x, max send/recv %u/%u, "
		       "max fragmented send/recv %u/%u, send credits %u, send credit target %u\n",
		       si.version, si.max_send_size, si.max_recv_size,
		       si.max_fragmented_send_size, si.max_fragmented_recv_size,
		       si.send_credits, si.send_credit_target);
	negotiate();
	if (!strcmp(test, "echo"))
		test_echo();
	else if (!strcmp(test, "io") || !strcmp(test, "compound") ||
		 !strcmp(test, "rdma")) {
		if (!user || !pass || !share)
			die("%s needs -u, -w and -s", test);
		login(user, pass);
		tree_connect(argv[optind], share);
		if (!strcmp(test, "io"))
			test_io();
		else if (!strcmp(test, "rdma"))
			test_rdma();
		else
			test_compound();
		finish_session();
	} else if (strcmp(test, "negotiate")) {
		usage();
	}
	usleep(delay_ms * 1000);
	if (!getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &si, &sl))
		printf("ok: counters: %llu messages sent, %llu received, %llu credit waits, "
		       "%u send credits, %u receive credits\n",
		       (unsigned long long)si.tx_msgs, (unsigned long long)si.rx_msgs,
		       (unsigned long long)si.credit_waits, si.send_credits,
		       si.recv_credits);
	close(fd);
	return 0;
}
