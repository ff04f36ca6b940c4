// SPDX-License-Identifier: GPL-2.0
/*
 * afsmbd_sample: a sample in-kernel consumer of AF_SMBDIRECT.
 *
 * Kernel code uses the family like TCP, through the standard socket API:
 * sock_create_kern(), kernel_connect() or kernel_bind(), kernel_listen()
 * and kernel_accept(), then kernel_sendmsg()/kernel_recvmsg() on kvecs or
 * sock_sendmsg()/sock_recvmsg() on a bvec iterator over pages.  The byte
 * stream is SMB3's Direct-TCP framing both ways: a 4-byte big-endian
 * length, then the PDU.  Nothing here links against af_smbdirect.ko;
 * sock_create_kern() loads it through "net-pf-<family>" if needed.
 *
 * mode=client (default): connect to addr:port, send count rounds of PDUs
 * of several sizes up to size bytes to an echo server and check every
 * echoed byte.  It all runs in module init, so insmod fails when the
 * exchange does: EIO for wrong data, otherwise the socket's error.
 *
 * mode=server: listen on addr:port and echo each connection's PDUs (up to
 * size bytes), one connection after another, from a kernel thread until
 * rmmod.
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
#include <net/sock.h>
#include <linux/af_smbdirect.h>

#define SAMPLE_HDR	SMBDIRECT_FRAME_HDR_LEN
/* Direct-TCP lengths are 24 bits: the header's top byte must be zero. */
#define SAMPLE_MAX_PDU	0xffffffU

static int family = AF_SMBDIRECT;
module_param(family, int, 0444);
MODULE_PARM_DESC(family,
		 "AF_SMBDIRECT family number in force (default 19; see /sys/module/af_smbdirect/parameters/family)");

static char *mode = "client";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "client (send PDUs, verify the echoes) or server (echo)");

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
	bool server = !strcmp(mode, "server");
	struct sockaddr_storage ss;
	char portstr[8];
	int err, alen;

	if (!server && strcmp(mode, "client")) {
		pr_err("mode must be client or server, not \"%s\"\n", mode);
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
MODULE_DESCRIPTION("Sample in-kernel AF_SMBDIRECT consumer (echo client and server)");
