// SPDX-License-Identifier: GPL-2.0
/*
 * afsmbd_sample: a sample in-kernel consumer of AF_SMBDIRECT.
 *
 * Kernel code uses the family like TCP, through the standard socket API:
 * sock_create_kern(), kernel_connect() or kernel_bind(), kernel_listen()
 * and kernel_accept(), then kernel_sendmsg()/kernel_recvmsg() on kvecs or
 * sock_sendmsg()/sock_recvmsg() on a bvec iterator over pages.  The byte
 * stream is SMB3's Direct-TCP framing both ways: a 4-byte big-endian
 * length, then the PDU.  RDMA offload goes through af_smbdirect.ko's
 * exported functions (namespace AFSMBD, afsmbd_kapi.h), so this module
 * needs af_smbdirect.ko loaded first.
 *
 * mode=client (default): connect to addr:port, send count rounds of PDUs
 * of several sizes up to size bytes to an echo server and check every
 * echoed byte.  It all runs in module init, so insmod fails when the
 * exchange does: EIO for wrong data, otherwise the socket's error.
 *
 * mode=server: listen on addr:port and echo each connection's PDUs (up to
 * size bytes), one connection after another, from a kernel thread until
 * rmmod.
 *
 * mode=rdma-client: the client role of RDMA offload.  Connect to a
 * userspace server (sdrdma serve), check the API's refusals, then for
 * buffers from kmalloc, vmalloc and single pages (kvec and bvec
 * iterators, 1 byte to 8 MiB, at page offsets): afsmbd_register_iter(),
 * send the descriptors in a request PDU, let the server RDMA-write or
 * RDMA-read the buffer, read the response with kernel_recvmsg() and its
 * SMBDIRECT_CMSG_INVALIDATED when the server answered with
 * Send-with-Invalidate, check the data and the bytes around it,
 * afsmbd_deregister().  In module init: insmod fails when anything does.
 *
 * mode=rdma-server: the server role.  Listen like mode=server; for each
 * request PDU of a userspace client (sdrdma client) that registered its
 * buffer, afsmbd_rdma_xfer() into or out of a kernel buffer (kmalloc,
 * vmalloc or pages in turn), check the data read, and answer with
 * kernel_sendmsg(), with SMBDIRECT_CMSG_REMOTE_INVALIDATE when asked.
 *
 * The offload PDUs (host byte order, both ends on one host) are those of
 * tests/guest/sdrdma.c: struct sample_off_req and struct sample_off_resp.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/bvec.h>
#include <linux/highmem.h>
#include <linux/inet.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/net.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uio.h>
#include <net/net_namespace.h>
#include <linux/vmalloc.h>
#include <net/sock.h>
#include <linux/af_smbdirect.h>
#include "afsmbd_kapi.h"

#define SAMPLE_HDR	SMBDIRECT_FRAME_HDR_LEN
/* Direct-TCP lengths are 24 bits: the header's top byte must be zero. */
#define SAMPLE_MAX_PDU	0xffffffU

static int family = AF_SMBDIRECT;
module_param(family, int, 0444);
MODULE_PARM_DESC(family,
		 "AF_SMBDIRECT family number in force (default 19; see /sys/module/af_smbdirect/parameters/family)");

static char *mode = "client";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode,
		 "client (send PDUs, verify the echoes), server (echo), rdma-client or rdma-server (RDMA offload)");

static char *addr = "";
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr,
		 "IPv4 or IPv6 address to connect to (client) or listen on (server; 0.0.0.0 or :: for any)");

static ushort port = 5445;
module_param(port, ushort, 0444);
MODULE_PARM_DESC(port, "port (default 5445)");

static uint count = 2;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "client: rounds over the PDU sizes (default 2)");

static uint size = SZ_1M;
module_param(size, uint, 0444);
MODULE_PARM_DESC(size,
		 "largest PDU payload in bytes (default 1 MiB, af_smbdirect's default max_fragmented_size)");

static uint timeout = 60;
module_param(timeout, uint, 0444);
MODULE_PARM_DESC(timeout, "client: send and receive timeout in seconds (default 60, 0 = none)");

/*
 * PDU payload sizes: one byte, around one SMB-Direct message (the default
 * max_send_size of 1364 less the 24-byte data header leaves 1340), around a
 * page, and PDUs of many fragments.  Sizes below the size parameter are
 * used, then the size parameter itself.
 */
static const u32 sample_sizes[] = {
	1, 100, 1339, 1340, 1341, 4095, 4096, 4097, 65536, 262147,
};

static struct socket *sample_listener;
static struct task_struct *sample_task;
static bool sample_rdma;	/* mode=rdma-server */

/**
 * struct sample_buf - room for one framed PDU, as kvecs and as pages
 * @hdr: Direct-TCP header, for the kvec form
 * @data: payload, for the kvec form (client only)
 * @pages: the bvec form (client: header and payload back to back;
 *	server: payload)
 * @bv: bio_vec array over @pages
 * @npages: number of @pages
 */
struct sample_buf {
	__be32 hdr;
	u8 *data;
	struct page **pages;
	struct bio_vec *bv;
	unsigned int npages;
};

static struct sample_buf sample_srv_buf;

/* Payload byte @off of PDU @seq: depends on both, so stale data shows. */
static u8 sample_byte(u32 seq, size_t off)
{
	return (u8)(((u32)off * 2654435761U) >> 24) ^ (u8)(seq * 0x3b + 0x5a);
}

/* Byte @o of PDU @seq framed with its header, @len being the payload. */
static u8 sample_frame_byte(u32 seq, u32 len, size_t o)
{
	if (o < SAMPLE_HDR)
		return (len >> (8 * (SAMPLE_HDR - 1 - o))) & 0xff;
	return sample_byte(seq, o - SAMPLE_HDR);
}

static void sample_buf_free(struct sample_buf *b)
{
	unsigned int i;

	for (i = 0; b->pages && i < b->npages; i++)
		if (b->pages[i])
			__free_page(b->pages[i]);
	kfree(b->pages);
	kfree(b->bv);
	kvfree(b->data);
}

/* On failure the caller still calls sample_buf_free(). */
static int sample_buf_alloc(struct sample_buf *b, u32 cap, bool kvec)
{
	unsigned int i;

	b->npages = DIV_ROUND_UP((size_t)cap + SAMPLE_HDR, PAGE_SIZE);
	if (kvec) {
		b->data = kvmalloc(cap, GFP_KERNEL);
		if (!b->data)
			return -ENOMEM;
	}
	b->pages = kcalloc(b->npages, sizeof(*b->pages), GFP_KERNEL);
	b->bv = kcalloc(b->npages, sizeof(*b->bv), GFP_KERNEL);
	if (!b->pages || !b->bv)
		return -ENOMEM;
	for (i = 0; i < b->npages; i++) {
		b->pages[i] = alloc_page(GFP_KERNEL);
		if (!b->pages[i])
			return -ENOMEM;
	}
	return 0;
}

/* Point @b's bio_vecs at the first @flen bytes of its pages. */
static unsigned int sample_buf_bvec(struct sample_buf *b, size_t flen)
{
	unsigned int i;

	for (i = 0; flen; i++) {
		size_t n = min_t(size_t, flen, PAGE_SIZE);

		bvec_set_page(&b->bv[i], b->pages[i], n, 0);
		flen -= n;
	}
	return i;
}

static void sample_fill_pages(struct sample_buf *b, u32 seq, u32 len)
{
	size_t o = 0, flen = (size_t)len + SAMPLE_HDR;
	unsigned int i;

	for (i = 0; o < flen; i++) {
		size_t n = min_t(size_t, flen - o, PAGE_SIZE), j;
		u8 *p = kmap_local_page(b->pages[i]);

		for (j = 0; j < n; j++)
			p[j] = sample_frame_byte(seq, len, o + j);
		kunmap_local(p);
		o += n;
	}
}

/* Return: offset of the first wrong byte of the framed PDU, or -1. */
static ssize_t sample_check_pages(struct sample_buf *b, u32 seq, u32 len)
{
	size_t o = 0, flen = (size_t)len + SAMPLE_HDR;
	ssize_t bad = -1;
	unsigned int i;

	for (i = 0; o < flen && bad < 0; i++) {
		size_t n = min_t(size_t, flen - o, PAGE_SIZE), j;
		u8 *p = kmap_local_page(b->pages[i]);

		for (j = 0; j < n; j++) {
			if (p[j] != sample_frame_byte(seq, len, o + j)) {
				bad = o + j;
				break;
			}
		}
		kunmap_local(p);
		o += n;
	}
	return bad;
}

static void sample_fill_kvec(struct sample_buf *b, u32 seq, u32 len)
{
	u32 j;

	b->hdr = cpu_to_be32(len);
	for (j = 0; j < len; j++)
		b->data[j] = sample_byte(seq, j);
}

static ssize_t sample_check_kvec(struct sample_buf *b, u32 seq, u32 len)
{
	u32 j;

	if (b->hdr != cpu_to_be32(len))
		return 0;
	for (j = 0; j < len; j++)
		if (b->data[j] != sample_byte(seq, j))
			return SAMPLE_HDR + j;
	return -1;
}

/* Drop @n bytes from the front of a kvec array after a short transfer. */
static void sample_kvec_advance(struct kvec **vec, size_t *nr, size_t n)
{
	while (n) {
		size_t k = min(n, (*vec)->iov_len);

		(*vec)->iov_base += k;
		(*vec)->iov_len -= k;
		n -= k;
		if (!(*vec)->iov_len) {
			(*vec)++;
			(*nr)--;
		}
	}
}

/*
 * -EAGAIN is a send or receive timeout.  For the client it is a failure;
 * the server's timeouts are short only so that it notices kthread_stop().
 */
static bool sample_again(int ret, bool server)
{
	return ret == -EAGAIN && server && !kthread_should_stop();
}

/**
 * sample_send_kvec() - send a whole kvec array with kernel_sendmsg()
 * @sock: connected socket
 * @vec: segments; modified as they are consumed
 * @nr: number of segments
 * @len: total bytes
 * @server: retry timeouts until kthread_should_stop()
 *
 * Return: 0, or a negative errno.
 */
static int sample_send_kvec(struct socket *sock, struct kvec *vec, size_t nr,
			    size_t len, bool server)
{
	int ret;

	while (len) {
		/* No SIGPIPE for insmod if the peer goes away. */
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

		ret = kernel_sendmsg(sock, &msg, vec, nr, len);
		if (sample_again(ret, server))
			continue;
		if (ret <= 0)
			return ret ? ret : -EPIPE;
		sample_kvec_advance(&vec, &nr, ret);
		len -= ret;
	}
	return 0;
}

/*
 * Fill a whole kvec array with kernel_recvmsg().  EOF is -ENODATA before
 * the first byte (a clean close between PDUs), else -ECONNRESET.
 */
static int sample_recv_kvec(struct socket *sock, struct kvec *vec, size_t nr,
			    size_t len, bool server)
{
	size_t done = 0;
	int ret;

	while (done < len) {
		struct msghdr msg = {};

		ret = kernel_recvmsg(sock, &msg, vec, nr, len - done,
				     MSG_WAITALL);
		if (sample_again(ret, server))
			continue;
		if (ret < 0)
			return ret;
		if (!ret)
			return done ? -ECONNRESET : -ENODATA;
		sample_kvec_advance(&vec, &nr, ret);
		done += ret;
	}
	return 0;
}

/* Send @len bytes of pages with sock_sendmsg() on an ITER_BVEC iterator. */
static int sample_send_bvec(struct socket *sock, struct bio_vec *bv,
			    unsigned int nr, size_t len, bool server)
{
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int ret;

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, nr, len);
	/* The iterator advances across calls: no bookkeeping needed. */
	while (msg_data_left(&msg)) {
		ret = sock_sendmsg(sock, &msg);
		if (sample_again(ret, server))
			continue;
		if (ret <= 0)
			return ret ? ret : -EPIPE;
	}
	return 0;
}

/* Receive @len bytes into pages with sock_recvmsg() on ITER_BVEC. */
static int sample_recv_bvec(struct socket *sock, struct bio_vec *bv,
			    unsigned int nr, size_t len, bool server)
{
	struct msghdr msg = {};
	int ret;

	iov_iter_bvec(&msg.msg_iter, ITER_DEST, bv, nr, len);
	while (msg_data_left(&msg)) {
		ret = sock_recvmsg(sock, &msg, MSG_WAITALL);
		if (sample_again(ret, server))
			continue;
		if (ret <= 0)
			return ret ? ret : -ECONNRESET;
	}
	return 0;
}

/**
 * sample_exchange() - send one PDU and check its echo
 * @sock: connected socket
 * @tx: send buffers
 * @rx: receive buffers
 * @seq: PDU number; its low bits pick kvec or bvec for each direction
 * @len: payload bytes
 *
 * Return: 0, -EIO if the echo differs, or the socket's error.
 */
static int sample_exchange(struct socket *sock, struct sample_buf *tx,
			   struct sample_buf *rx, u32 seq, u32 len)
{
	bool tx_bvec = seq & 1, rx_bvec = seq & 2;
	size_t flen = (size_t)len + SAMPLE_HDR;
	struct kvec iov[2];
	ssize_t bad;
	int err;

	if (tx_bvec) {
		sample_fill_pages(tx, seq, len);
		err = sample_send_bvec(sock, tx->bv, sample_buf_bvec(tx, flen),
				       flen, false);
	} else {
		sample_fill_kvec(tx, seq, len);
		iov[0] = (struct kvec){ .iov_base = &tx->hdr, .iov_len = SAMPLE_HDR };
		iov[1] = (struct kvec){ .iov_base = tx->data, .iov_len = len };
		err = sample_send_kvec(sock, iov, 2, flen, false);
	}
	if (err) {
		pr_err("client: sending PDU %u (%u bytes, %s): %d\n", seq, len,
		       tx_bvec ? "bvec" : "kvec", err);
		return err;
	}

	if (rx_bvec) {
		err = sample_recv_bvec(sock, rx->bv, sample_buf_bvec(rx, flen),
				       flen, false);
		bad = err ? -1 : sample_check_pages(rx, seq, len);
	} else {
		iov[0] = (struct kvec){ .iov_base = &rx->hdr, .iov_len = SAMPLE_HDR };
		iov[1] = (struct kvec){ .iov_base = rx->data, .iov_len = len };
		err = sample_recv_kvec(sock, iov, 2, flen, false);
		bad = err ? -1 : sample_check_kvec(rx, seq, len);
	}
	if (err) {
		pr_err("client: receiving the echo of PDU %u (%u bytes, %s): %d\n",
		       seq, len, rx_bvec ? "bvec" : "kvec", err);
		return err;
	}
	if (bad >= 0) {
		pr_err("client: echo of PDU %u (%u bytes, sent as %s, read as %s) differs at byte %zd of the frame\n",
		       seq, len, tx_bvec ? "bvec" : "kvec",
		       rx_bvec ? "bvec" : "kvec", bad);
		return -EIO;
	}
	return 0;
}

static int sample_client(struct sockaddr_storage *ss, int alen)
{
	struct sample_buf tx = {}, rx = {};
	struct socket *sock;
	u32 seq = 0, round, i, len;
	u64 bytes = 0;
	int err;

	err = sample_buf_alloc(&tx, size, true) ?:
	      sample_buf_alloc(&rx, size, true);
	if (err)
		goto free;
	err = sock_create_kern(&init_net, family, SOCK_STREAM, 0, &sock);
	if (err) {
		pr_err("client: sock_create_kern(family %d): %d\n", family, err);
		goto free;
	}
	/* Bound every wait, so a dead peer fails insmod instead of hanging. */
	if (timeout) {
		sock->sk->sk_sndtimeo = (long)timeout * HZ;
		sock->sk->sk_rcvtimeo = (long)timeout * HZ;
	}
	/*
	 * 6.19 typed the address as struct sockaddr_unsized; a void pointer
	 * converts to either type, so no version check is needed.
	 */
	err = kernel_connect(sock, (void *)ss, alen, 0);
	if (err) {
		pr_err("client: connect to %pISpc: %d\n", ss, err);
		goto release;
	}
	for (round = 0; round < count; round++) {
		for (i = 0; i <= ARRAY_SIZE(sample_sizes); i++) {
			len = i < ARRAY_SIZE(sample_sizes) ? sample_sizes[i] : size;
			if (i < ARRAY_SIZE(sample_sizes) && len >= size)
				continue;
			err = sample_exchange(sock, &tx, &rx, seq, len);
			if (err)
				goto release;
			seq++;
			bytes += len;
		}
	}
	pr_info("client: %u PDUs of 1 to %u bytes (%llu bytes) echoed by %pISpc and verified\n",
		seq, size, bytes, ss);
release:
	sock_release(sock);
free:
	sample_buf_free(&rx);
	sample_buf_free(&tx);
	return err;
}

/**
 * sample_echo_pdu() - read one PDU and send it back
 * @sock: accepted socket
 * @len: set to the payload length
 *
 * The header comes in through kernel_recvmsg() on a kvec and the payload
 * into pages through sock_recvmsg() on a bvec iterator; the echo goes out
 * the same two ways.  The whole PDU is read before the answer, as an SMB
 * server reads a request before it replies.
 *
 * Return: 0, -ENODATA on a clean close, or a negative errno.
 */
static int sample_echo_pdu(struct socket *sock, u32 *len)
{
	struct sample_buf *b = &sample_srv_buf;
	struct kvec iov = { .iov_base = &b->hdr, .iov_len = SAMPLE_HDR };
	unsigned int nr;
	int err;

	err = sample_recv_kvec(sock, &iov, 1, SAMPLE_HDR, true);
	if (err)
		return err;
	*len = be32_to_cpu(b->hdr);
	/* Also catches a non-zero type byte: size is at most 24 bits. */
	if (*len > size)
		return -EMSGSIZE;
	nr = sample_buf_bvec(b, *len);
	err = sample_recv_bvec(sock, b->bv, nr, *len, true);
	if (err)
		return err == -ENODATA ? -ECONNRESET : err;
	iov = (struct kvec){ .iov_base = &b->hdr, .iov_len = SAMPLE_HDR };
	return sample_send_kvec(sock, &iov, 1, SAMPLE_HDR, true) ?:
	       sample_send_bvec(sock, b->bv, nr, *len, true);
}

/* Echo one connection's PDUs until it closes, fails or kthread_stop(). */
static void sample_serve(struct socket *sock)
{
	struct sockaddr_storage peer = {};
	u64 pdus = 0, bytes = 0;
	u32 len;
	int ret = 0;

	kernel_getpeername(sock, (struct sockaddr *)&peer);
	pr_info("server: connection from %pISpc\n", &peer);
	/* Checked every PDU too: a busy peer never lets a read time out. */
	while (!kthread_should_stop()) {
		ret = sample_echo_pdu(sock, &len);
		if (ret)
			break;
		pdus++;
		bytes += len;
	}
	if (ret == -ENODATA)
		pr_info("server: connection from %pISpc closed, %llu PDUs (%llu bytes) echoed\n",
			&peer, pdus, bytes);
	else if (kthread_should_stop())
		pr_info("server: connection from %pISpc stopped by rmmod, %llu PDUs echoed\n",
			&peer, pdus);
	else
		pr_err("server: connection from %pISpc failed after %llu PDUs: %d\n",
		       &peer, pdus, ret);
}

/* ---- RDMA offload through the exported functions ---- */

#define SAMPLE_OFF_REQ_MAGIC	0x4c46464fU	/* "OFFL" */
#define SAMPLE_OFF_RESP_MAGIC	0x5246464fU	/* "OFFR" */
#define SAMPLE_PEER_WRITES	1	/* the server writes the client's buffer */
#define SAMPLE_PEER_READS	2	/* the server reads it */
#define SAMPLE_OFF_MAX		SZ_8M	/* af_smbdirect's MaxReadWriteSize */
#define SAMPLE_GUARD		64	/* bytes checked after a buffer */

/* A request: the client's registration, as an SMB2 READ or WRITE. */
struct sample_off_req {
	u32 magic, op, len, seed, inval, nr;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
};

struct sample_off_resp {
	u32 magic;
	s32 status;		/* 0 or a negative errno */
	u64 done;		/* bytes moved */
	u32 match;		/* SAMPLE_PEER_READS: the data was as expected */
	u32 pad;
};

enum sample_kind { SAMPLE_KMALLOC, SAMPLE_VMALLOC, SAMPLE_PAGES };
static const char * const sample_kind_names[] = { "kmalloc", "vmalloc", "pages" };

/**
 * struct sample_rbuf - a kernel buffer for RDMA, as a kvec or as pages
 * @kind: where the memory comes from
 * @off: offset of the data in the allocation (pages: in the first page)
 * @len: data bytes
 * @mem: kmalloc/vmalloc allocation: @off bytes, the data, SAMPLE_GUARD
 * @kv: kvec over the data
 * @pages: SAMPLE_PAGES: one page at a time
 * @bv: bio_vecs over the data in @pages
 * @npages: number of @pages
 *
 * Everything around the data is 0xa5, to show that nothing outside the
 * registered range was written.
 */
struct sample_rbuf {
	enum sample_kind kind;
	size_t off, len;
	u8 *mem;
	struct kvec kv;
	struct page **pages;
	struct bio_vec *bv;
	unsigned int npages;
};

static void sample_rbuf_free(struct sample_rbuf *b)
{
	unsigned int i;

	if (b->kind == SAMPLE_KMALLOC)
		kfree(b->mem);
	else if (b->kind == SAMPLE_VMALLOC)
		vfree(b->mem);
	for (i = 0; b->pages && i < b->npages; i++)
		if (b->pages[i])
			__free_page(b->pages[i]);
	kvfree(b->pages);
	kvfree(b->bv);
	memset(b, 0, sizeof(*b));
}

static int sample_rbuf_alloc(struct sample_rbuf *b, enum sample_kind kind,
			     size_t off, size_t len)
{
	size_t total = off + len + SAMPLE_GUARD, left = len;
	unsigned int i;

	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->off = off;
	b->len = len;
	if (kind != SAMPLE_PAGES) {
		b->mem = kind == SAMPLE_KMALLOC ? kmalloc(total, GFP_KERNEL) :
						  vmalloc(total);
		if (!b->mem)
			return -ENOMEM;
		memset(b->mem, 0xa5, total);
		b->kv = (struct kvec){ .iov_base = b->mem + off, .iov_len = len };
		return 0;
	}
	if (off >= PAGE_SIZE)
		return -EINVAL;
	b->npages = DIV_ROUND_UP(off + len, PAGE_SIZE);
	b->pages = kvcalloc(b->npages, sizeof(*b->pages), GFP_KERNEL);
	b->bv = kvcalloc(b->npages, sizeof(*b->bv), GFP_KERNEL);
	if (!b->pages || !b->bv)
		return -ENOMEM;
	for (i = 0; i < b->npages; i++) {
		size_t o = i ? 0 : off, n = min_t(size_t, left, PAGE_SIZE - o);

		b->pages[i] = alloc_page(GFP_KERNEL);
		if (!b->pages[i])
			return -ENOMEM;
		memset(page_address(b->pages[i]), 0xa5, PAGE_SIZE);
		bvec_set_page(&b->bv[i], b->pages[i], n, o);
		left -= n;
	}
	return 0;
}

/* An iterator over the data, for the peer (or us) to fill or to read. */
static void sample_rbuf_iter(struct sample_rbuf *b, struct iov_iter *it,
			     unsigned int dir)
{
	if (b->kind == SAMPLE_PAGES)
		iov_iter_bvec(it, dir, b->bv, b->npages, b->len);
	else
		iov_iter_kvec(it, dir, &b->kv, 1, b->len);
}

enum sample_walk { SAMPLE_FILL, SAMPLE_ZERO, SAMPLE_CHECK };

/*
 * Fill the data with PDU @seed's bytes, zero it, or check it (and the
 * 0xa5 around it).  Return: for a check, the offset of the first wrong
 * byte relative to the data (negative: before it), else LONG_MIN.
 */
static long sample_rbuf_walk(struct sample_rbuf *b, u32 seed,
			     enum sample_walk what)
{
	size_t pos = 0, i, j, n;
	u8 *p;

	if (b->kind != SAMPLE_PAGES) {
		p = b->mem + b->off;
		for (j = 0; j < b->len; j++) {
			if (what == SAMPLE_FILL)
				p[j] = sample_byte(seed, j);
			else if (what == SAMPLE_ZERO)
				p[j] = 0;
			else if (p[j] != sample_byte(seed, j))
				return j;
		}
		if (what != SAMPLE_CHECK)
			return LONG_MIN;
		for (j = 0; j < b->off; j++)
			if (b->mem[j] != 0xa5)
				return (long)j - (long)b->off;
		for (j = 0; j < SAMPLE_GUARD; j++)
			if (p[b->len + j] != 0xa5)
				return b->len + j;
		return LONG_MIN;
	}
	for (i = 0; i < b->npages; i++) {
		p = kmap_local_page(b->pages[i]);
		n = b->bv[i].bv_offset;
		for (j = 0; what == SAMPLE_CHECK && j < n; j++)
			if (p[j] != 0xa5)
				goto bad_guard;
		for (j = n; j < n + b->bv[i].bv_len; j++, pos++) {
			if (what == SAMPLE_FILL) {
				p[j] = sample_byte(seed, pos);
			} else if (what == SAMPLE_ZERO) {
				p[j] = 0;
			} else if (p[j] != sample_byte(seed, pos)) {
				kunmap_local(p);
				return pos;
			}
		}
		for (; what == SAMPLE_CHECK && j < PAGE_SIZE; j++)
			if (p[j] != 0xa5)
				goto bad_guard;
		kunmap_local(p);
	}
	return LONG_MIN;
bad_guard:
	kunmap_local(p);
	return (long)(i * PAGE_SIZE + j) - (long)b->off;
}

/* Send a whole PDU: header and body, with control messages if any. */
static int sample_send_pdu(struct socket *sock, const void *body, u32 len,
			   void *control, size_t clen, bool server)
{
	__be32 hdr = cpu_to_be32(len);
	struct kvec iov[2] = {
		{ .iov_base = &hdr, .iov_len = SAMPLE_HDR },
		{ .iov_base = (void *)body, .iov_len = len },
	}, *v = iov;
	size_t nr = 2, left = SAMPLE_HDR + len;
	int ret;

	while (left) {
		struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };

		/* The cmsg stays pending in the socket across short writes. */
		if (control) {
			msg.msg_control = control;
			msg.msg_controllen = clen;
		}
		ret = kernel_sendmsg(sock, &msg, v, nr, left);
		if (sample_again(ret, server))
			continue;
		if (ret <= 0)
			return ret ? ret : -EPIPE;
		control = NULL;
		sample_kvec_advance(&v, &nr, ret);
		left -= ret;
	}
	return 0;
}

/*
 * Read a whole PDU of @len body bytes, or of up to @len with @got set.
 * An SMBDIRECT_CMSG_INVALIDATED that comes with its bytes goes to @inv.
 */
static int sample_recv_pdu(struct socket *sock, void *body, u32 len,
			   u32 *got, u64 *inv, bool server)
{
	/* One cmsg whose data follows the header (CMSG_DATA), and room. */
	struct {
		struct cmsghdr h;
		u64 handle;
		u8 more[CMSG_SPACE(sizeof(u64))];
	} cb;
	__be32 hdr;
	struct kvec iov = { .iov_base = &hdr, .iov_len = SAMPLE_HDR }, *v;
	size_t nr, left;
	int ret, part;

	if (inv)
		*inv = 0;
	for (part = 0; part < 2; part++) {
		v = &iov;
		nr = 1;
		left = iov.iov_len;
		while (left) {
			struct msghdr msg = {
				.msg_control = &cb,
				.msg_controllen = sizeof(cb),
			};
			size_t used;

			ret = kernel_recvmsg(sock, &msg, v, nr, left,
					     MSG_WAITALL);
			if (sample_again(ret, server))
				continue;
			if (ret < 0)
				return ret;
			if (!ret)
				return part || left < SAMPLE_HDR ? -ECONNRESET :
				       -ENODATA;
			/* put_cmsg() moved msg_control past what it wrote. */
			BUILD_BUG_ON(offsetof(typeof(cb), handle) !=
				     CMSG_ALIGN(sizeof(cb.h)));
			used = sizeof(cb) - msg.msg_controllen;
			if (used) {
				if (!inv || used != CMSG_SPACE(sizeof(u64)) ||
				    cb.h.cmsg_level != SOL_SMBDIRECT ||
				    cb.h.cmsg_type != SMBDIRECT_CMSG_INVALIDATED ||
				    cb.h.cmsg_len != CMSG_LEN(sizeof(u64)) ||
				    *inv) {
					pr_err("unexpected control message: %zu bytes, level %d type %#x len %zu, earlier %llu\n",
					       used, cb.h.cmsg_level,
					       cb.h.cmsg_type,
					       (size_t)cb.h.cmsg_len,
					       inv ? *inv : 0);
					return -EPROTO;
				}
				*inv = cb.handle;
			}
			sample_kvec_advance(&v, &nr, ret);
			left -= ret;
		}
		if (part)
			break;
		*got = be32_to_cpu(hdr);
		if (*got > len || !*got)
			return -EMSGSIZE;
		iov = (struct kvec){ .iov_base = body, .iov_len = *got };
	}
	return 0;
}

/* A call that must fail with @want; logs and returns false otherwise. */
static bool sample_refused(long ret, long want, int line)
{
	if (ret == want)
		return true;
	pr_err("rdma-client: the call at line %d returned %ld, not %ld\n",
	       line, ret, want);
	return false;
}

/* The refusals of the exported functions (mode=rdma-client). */
static int sample_rdma_refusals(struct socket *sock, bool connected)
{
	const u32 rr = SMBDIRECT_ACCESS_REMOTE_READ;
	struct smbdirect_buffer_desc *d;
	struct page *pg[2] = {};
	struct socket *tcp = NULL;
	struct bio_vec bv[2];
	struct iov_iter it;
	struct kvec kv;
	u32 nr;
	u64 h;
	int err = -ENOMEM;
	u8 *mem;

	/* Room for the most descriptors a caller may hand over, and one. */
	d = kcalloc(SMBDIRECT_MAX_DESCS + 1, sizeof(*d), GFP_KERNEL);
	mem = kmalloc(PAGE_SIZE, GFP_KERNEL);
	pg[0] = alloc_page(GFP_KERNEL);
	pg[1] = alloc_page(GFP_KERNEL);
	if (!d || !mem || !pg[0] || !pg[1])
		goto out;
	kv = (struct kvec){ .iov_base = mem, .iov_len = PAGE_SIZE };
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, PAGE_SIZE);
	err = -EINVAL;
	if (!connected) {
		if (sample_refused(afsmbd_register_iter(sock, &it, rr, d, 2,
							&nr, &h),
				   -ENOTCONN, __LINE__))
			err = 0;
		goto out;
	}
	/* Not an AF_SMBDIRECT socket. */
	err = sock_create_kern(&init_net, AF_INET, SOCK_STREAM, IPPROTO_TCP,
			       &tcp);
	if (err)
		goto out;
	err = -EINVAL;
	if (!sample_refused(afsmbd_register_iter(tcp, &it, rr, d, 2, &nr, &h),
			    -ENOTSOCK, __LINE__) ||
	    !sample_refused(afsmbd_deregister(tcp, 1), -ENOTSOCK, __LINE__) ||
	    !sample_refused(afsmbd_rdma_xfer(tcp, &it, d, 1, true), -ENOTSOCK,
			    __LINE__))
		goto out;
	/* A bad access; an unknown handle. */
	if (!sample_refused(afsmbd_register_iter(sock, &it, 0, d, 2, &nr, &h),
			    -EINVAL, __LINE__) ||
	    !sample_refused(afsmbd_deregister(sock, ~0ULL), -ENOENT, __LINE__))
		goto out;
	/* A gap in the middle of a bvec cannot be fast-registered. */
	bvec_set_page(&bv[0], pg[0], 100, 0);
	bvec_set_page(&bv[1], pg[1], 100, 0);
	iov_iter_bvec(&it, ITER_SOURCE, bv, 2, 200);
	if (!sample_refused(afsmbd_register_iter(sock, &it, rr, d, 2, &nr, &h),
			    -EINVAL, __LINE__))
		goto out;
	/* The peer's descriptors: none, too many, a zero length. */
	iov_iter_kvec(&it, ITER_SOURCE, &kv, 1, PAGE_SIZE);
	d[0].token = cpu_to_le32(1);
	if (!sample_refused(afsmbd_rdma_xfer(sock, &it, d, 0, true), -EINVAL,
			    __LINE__) ||
	    !sample_refused(afsmbd_rdma_xfer(sock, &it, d,
					     SMBDIRECT_MAX_DESCS + 1, true),
			    -EMSGSIZE, __LINE__) ||
	    !sample_refused(afsmbd_rdma_xfer(sock, &it, d, 1, true), -EINVAL,
			    __LINE__))
		goto out;
	err = 0;
out:
	if (tcp)
		sock_release(tcp);
	if (pg[0])
		__free_page(pg[0]);
	if (pg[1])
		__free_page(pg[1]);
	kfree(mem);
	kfree(d);
	return err;
}

/* The client's transfers: every kind of memory, offset and direction. */
static const struct sample_xfer {
	u32 len;
	u16 off;
	u8 kind;
	u8 op;
	u8 inval;
} sample_xfers[] = {
	{ 1, 0, SAMPLE_KMALLOC, SAMPLE_PEER_WRITES, 0 },
	{ 4095, 100, SAMPLE_KMALLOC, SAMPLE_PEER_READS, 1 },
	{ 65537, 0, SAMPLE_VMALLOC, SAMPLE_PEER_WRITES, 1 },
	{ 65537, 4000, SAMPLE_PAGES, SAMPLE_PEER_READS, 0 },
	{ SZ_1M + 4099, 8, SAMPLE_KMALLOC, SAMPLE_PEER_WRITES, 0 },
	{ SZ_1M + 4099, 4093, SAMPLE_VMALLOC, SAMPLE_PEER_READS, 1 },
	{ SZ_4M, 4093, SAMPLE_PAGES, SAMPLE_PEER_WRITES, 1 },
	{ SZ_8M, 0, SAMPLE_PAGES, SAMPLE_PEER_READS, 0 },
	{ SZ_8M, 0, SAMPLE_VMALLOC, SAMPLE_PEER_WRITES, 1 },
};

/* One transfer of the client role.  Return: 0, -EIO (data), or errno. */
static int sample_rdma_one(struct socket *sock, const struct sample_xfer *x,
			   u32 seq)
{
	bool peer_writes = x->op == SAMPLE_PEER_WRITES;
	struct sample_off_req *q = kzalloc(sizeof(*q), GFP_KERNEL);
	const char *kind = sample_kind_names[x->kind];
	struct sample_off_resp r = {};
	struct sample_rbuf b;
	struct iov_iter it;
	u64 handle = 0, inv;
	u32 got;
	long bad;
	int err;

	if (!q)
		return -ENOMEM;
	err = sample_rbuf_alloc(&b, x->kind, x->off, x->len);
	if (err)
		goto out;
	sample_rbuf_walk(&b, seq, peer_writes ? SAMPLE_ZERO : SAMPLE_FILL);
	sample_rbuf_iter(&b, &it, peer_writes ? ITER_DEST : ITER_SOURCE);
	*q = (struct sample_off_req){
		.magic = SAMPLE_OFF_REQ_MAGIC, .op = x->op, .len = x->len,
		.seed = seq, .inval = x->inval,
	};
	err = afsmbd_register_iter(sock, &it, peer_writes ?
				   SMBDIRECT_ACCESS_REMOTE_WRITE :
				   SMBDIRECT_ACCESS_REMOTE_READ,
				   q->d, SMBDIRECT_MAX_DESCS, &q->nr, &handle);
	if (err) {
		pr_err("rdma-client: registering %u bytes of %s at +%u: %d\n",
		       x->len, kind, x->off, err);
		goto out;
	}
	if (iov_iter_count(&it) || !q->nr) {
		pr_err("rdma-client: registration left %zu bytes, %u descriptors\n",
		       iov_iter_count(&it), q->nr);
		err = -EINVAL;
		goto dereg;
	}
	err = sample_send_pdu(sock, q, offsetof(struct sample_off_req, d) +
			      q->nr * sizeof(q->d[0]), NULL, 0, false);
	if (err) {
		pr_err("rdma-client: transfer %u: sending the request: %d\n",
		       seq, err);
		goto dereg;
	}
	err = sample_recv_pdu(sock, &r, sizeof(r), &got, &inv, false);
	if (err) {
		pr_err("rdma-client: transfer %u: receiving the response: %d\n",
		       seq, err);
		goto dereg;
	}
	if (got != sizeof(r) || r.magic != SAMPLE_OFF_RESP_MAGIC ||
	    r.status || r.done != x->len) {
		pr_err("rdma-client: transfer %u (%u bytes): status %d, %llu moved\n",
		       seq, x->len, r.status, r.done);
		err = r.status ? r.status : -EIO;
		goto dereg;
	}
	if (x->inval ? inv != handle : inv != 0) {
		pr_err("rdma-client: transfer %u: SMBDIRECT_CMSG_INVALIDATED %llu, handle %llu, asked %u\n",
		       seq, inv, handle, x->inval);
		err = -EIO;
		goto dereg;
	}
	bad = sample_rbuf_walk(&b, seq, SAMPLE_CHECK);
	if (peer_writes ? bad != LONG_MIN : !r.match) {
		pr_err("rdma-client: transfer %u (%u bytes of %s at +%u): data %s differs at byte %ld\n",
		       seq, x->len, kind, x->off,
		       peer_writes ? "the server wrote" : "the server read",
		       peer_writes ? bad : -1L);
		err = -EIO;
		goto dereg;
	}
	if (!peer_writes && bad != LONG_MIN) {
		pr_err("rdma-client: transfer %u: our buffer changed at %ld\n",
		       seq, bad);
		err = -EIO;
	}
dereg:
	{
		int e = afsmbd_deregister(sock, handle);

		if (e || afsmbd_deregister(sock, handle) != -ENOENT) {
			pr_err("rdma-client: deregistering %llu: %d, or twice\n",
			       handle, e);
			err = err ?: -EINVAL;
		}
	}
out:
	sample_rbuf_free(&b);
	kfree(q);
	return err;
}

static int sample_rdma_client(struct sockaddr_storage *ss, int alen)
{
	struct socket *sock;
	u64 bytes = 0;
	u32 i;
	int err;

	err = sock_create_kern(&init_net, family, SOCK_STREAM, 0, &sock);
	if (err) {
		pr_err("rdma-client: sock_create_kern(family %d): %d\n", family,
		       err);
		return err;
	}
	if (timeout) {
		sock->sk->sk_sndtimeo = (long)timeout * HZ;
		sock->sk->sk_rcvtimeo = (long)timeout * HZ;
	}
	err = sample_rdma_refusals(sock, false);
	if (err)
		goto release;
	err = kernel_connect(sock, (void *)ss, alen, 0);
	if (err) {
		pr_err("rdma-client: connect to %pISpc: %d\n", ss, err);
		goto release;
	}
	err = sample_rdma_refusals(sock, true);
	if (err)
		goto release;
	for (i = 0; i < ARRAY_SIZE(sample_xfers); i++) {
		err = sample_rdma_one(sock, &sample_xfers[i], i);
		if (err)
			goto release;
		bytes += sample_xfers[i].len;
	}
	pr_info("rdma-client: %zu transfers (%llu bytes) through %pISpc's RDMA read and write verified\n",
		ARRAY_SIZE(sample_xfers), bytes, ss);
release:
	sock_release(sock);
	return err;
}

/*
 * One request of the server role: move the data with afsmbd_rdma_xfer()
 * and answer.  Return: 0, or the socket's error.
 */
static int sample_rdma_request(struct socket *sock,
			       const struct sample_off_req *q, u32 seq,
			       u64 *bytes, u32 *bad_data)
{
	/* A cmsg and its data (CMSG_DATA: right after the 16-byte header). */
	struct {
		struct cmsghdr h;
		struct smbdirect_cmsg_remote_invalidate ri;
	} cb = {};
	struct sample_off_resp r = { .magic = SAMPLE_OFF_RESP_MAGIC };
	bool peer_writes = q->op == SAMPLE_PEER_WRITES;
	enum sample_kind kind = seq % 3;
	struct sample_rbuf b;
	struct iov_iter it;
	ssize_t moved;
	long bad;
	int err;

	/* kmalloc only where it is sure to succeed. */
	if (kind == SAMPLE_KMALLOC && q->len > SZ_1M + SZ_64K)
		kind = SAMPLE_VMALLOC;
	err = sample_rbuf_alloc(&b, kind, q->seed & 1 ? 4093 : 0, q->len);
	if (err) {
		r.status = err;
		goto answer;
	}
	sample_rbuf_walk(&b, q->seed, peer_writes ? SAMPLE_FILL : SAMPLE_ZERO);
	sample_rbuf_iter(&b, &it, peer_writes ? ITER_SOURCE : ITER_DEST);
	moved = afsmbd_rdma_xfer(sock, &it, q->d, q->nr, peer_writes);
	if (moved < 0) {
		pr_err("rdma-server: transfer %u (%u bytes, %s): %zd\n", seq,
		       q->len, sample_kind_names[kind], moved);
		r.status = moved;
		goto answer;
	}
	r.done = moved;
	*bytes += moved;
	if (iov_iter_count(&it) != q->len - moved) {
		pr_err("rdma-server: transfer %u: iterator at %zu after %zd\n",
		       seq, iov_iter_count(&it), moved);
		r.status = -EIO;
	}
	if (!peer_writes) {
		bad = sample_rbuf_walk(&b, q->seed, SAMPLE_CHECK);
		r.match = bad == LONG_MIN;
		if (!r.match) {
			pr_err("rdma-server: transfer %u (%u bytes, %s): data read from the peer differs at byte %ld\n",
			       seq, q->len, sample_kind_names[kind], bad);
			(*bad_data)++;
		}
	}
answer:
	sample_rbuf_free(&b);
	if (q->inval && q->nr) {
		BUILD_BUG_ON(offsetof(typeof(cb), ri) != CMSG_ALIGN(sizeof(cb.h)) ||
			     sizeof(cb) != CMSG_SPACE(sizeof(cb.ri)));
		cb.ri.remote_token = le32_to_cpu(q->d[0].token);
		cb.h.cmsg_level = SOL_SMBDIRECT;
		cb.h.cmsg_type = SMBDIRECT_CMSG_REMOTE_INVALIDATE;
		cb.h.cmsg_len = CMSG_LEN(sizeof(cb.ri));
	}
	return sample_send_pdu(sock, &r, sizeof(r), q->inval ? &cb : NULL,
			       sizeof(cb), true);
}

/* The server role for one connection, until it closes or rmmod. */
static void sample_rdma_serve(struct socket *sock)
{
	struct sample_off_req *q = kmalloc(sizeof(*q), GFP_KERNEL);
	struct sockaddr_storage peer = {};
	u32 n = 0, got, bad_data = 0;
	u64 bytes = 0;
	int ret = -ENOMEM;

	kernel_getpeername(sock, (struct sockaddr *)&peer);
	pr_info("rdma-server: connection from %pISpc\n", &peer);
	while (q && !kthread_should_stop()) {
		ret = sample_recv_pdu(sock, q, sizeof(*q), &got, NULL, true);
		if (ret)
			break;
		if (got < offsetof(struct sample_off_req, d) ||
		    q->magic != SAMPLE_OFF_REQ_MAGIC || q->nr > SMBDIRECT_MAX_DESCS ||
		    got < offsetof(struct sample_off_req, d) +
			  q->nr * sizeof(q->d[0]) ||
		    !q->len || q->len > SAMPLE_OFF_MAX ||
		    (q->op != SAMPLE_PEER_WRITES && q->op != SAMPLE_PEER_READS)) {
			ret = -EPROTO;
			break;
		}
		ret = sample_rdma_request(sock, q, n, &bytes, &bad_data);
		if (ret)
			break;
		n++;
	}
	kfree(q);
	if (ret == -ENODATA)
		pr_info("rdma-server: connection from %pISpc closed, %u transfers (%llu bytes) moved, %u with wrong data\n",
			&peer, n, bytes, bad_data);
	else if (kthread_should_stop())
		pr_info("rdma-server: connection from %pISpc stopped by rmmod\n",
			&peer);
	else
		pr_err("rdma-server: connection from %pISpc failed after %u transfers: %d\n",
		       &peer, n, ret);
}

static int sample_server_thread(void *unused)
{
	struct socket *conn;
	int err;

	while (!kthread_should_stop()) {
		err = kernel_accept(sample_listener, &conn, 0);
		if (err == -EAGAIN)
			continue;
		if (err) {
			pr_err("server: accept: %d\n", err);
			break;
		}
		if (sample_rdma)
			sample_rdma_serve(conn);
		else
			sample_serve(conn);
		sock_release(conn);
	}
	/* kthread_stop() needs the thread alive: wait for it. */
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int sample_server_start(struct sockaddr_storage *ss, int alen)
{
	struct task_struct *task;
	struct socket *sock;
	int err;

	err = sample_buf_alloc(&sample_srv_buf, size, false);
	if (err)
		goto free;
	err = sock_create_kern(&init_net, family, SOCK_STREAM, 0, &sock);
	if (err) {
		pr_err("server: sock_create_kern(family %d): %d\n", family, err);
		goto free;
	}
	/*
	 * Short waits let the thread see kthread_stop() within a second;
	 * accepted sockets inherit them from the listener.
	 */
	sock->sk->sk_rcvtimeo = HZ;
	sock->sk->sk_sndtimeo = HZ;
	err = kernel_bind(sock, (void *)ss, alen);	/* see kernel_connect() */
	if (!err)
		err = kernel_listen(sock, 8);
	if (err) {
		pr_err("server: listen on %pISpc: %d\n", ss, err);
		goto release;
	}
	sample_listener = sock;
	task = kthread_run(sample_server_thread, NULL, "afsmbd_sample");
	if (IS_ERR(task)) {
		err = PTR_ERR(task);
		sample_listener = NULL;
		goto release;
	}
	sample_task = task;
	pr_info("server: listening on %pISpc\n", ss);
	return 0;
release:
	sock_release(sock);
free:
	sample_buf_free(&sample_srv_buf);
	return err;
}

static int __init sample_init(void)
{
	bool server = !strcmp(mode, "server") || !strcmp(mode, "rdma-server");
	struct sockaddr_storage ss;
	char portstr[8];
	int err, alen;

	sample_rdma = !strcmp(mode, "rdma-server");
	if (!server && strcmp(mode, "client") && strcmp(mode, "rdma-client")) {
		pr_err("mode must be client, server, rdma-client or rdma-server, not \"%s\"\n",
		       mode);
		return -EINVAL;
	}
	if (!size || size > SAMPLE_MAX_PDU) {
		pr_err("size must be 1 to %u\n", SAMPLE_MAX_PDU);
		return -EINVAL;
	}
	snprintf(portstr, sizeof(portstr), "%u", port);
	err = inet_pton_with_scope(&init_net, AF_UNSPEC, addr, portstr, &ss);
	if (err) {
		pr_err("addr \"%s\" is not an IPv4 or IPv6 address\n", addr);
		return err;
	}
	alen = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					 sizeof(struct sockaddr_in6);
	if (server)
		return sample_server_start(&ss, alen);
	if (!strcmp(mode, "rdma-client"))
		return sample_rdma_client(&ss, alen);
	return sample_client(&ss, alen);
}

static void __exit sample_exit(void)
{
	if (!sample_task)
		return;
	kthread_stop(sample_task);
	sock_release(sample_listener);
	sample_buf_free(&sample_srv_buf);
}

module_init(sample_init);
module_exit(sample_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Sample in-kernel AF_SMBDIRECT consumer (echo and RDMA offload, client and server)");
#ifdef SAMPLE_NS_IS_STRING
MODULE_IMPORT_NS("AFSMBD");
#else
MODULE_IMPORT_NS(AFSMBD);
#endif
