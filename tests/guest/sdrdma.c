// SPDX-License-Identifier: GPL-2.0
/*
 * RDMA read/write offload through the userspace interface, our client
 * role against our server role on one host: the client registers a
 * buffer (SMBDIRECT_REGISTER) and sends its descriptors in a PDU, as an
 * SMB2 READ or WRITE would; the server moves the data with
 * SMBDIRECT_RDMA_WRITE or SMBDIRECT_RDMA_READ and answers with a PDU,
 * optionally with Send-with-Invalidate naming the token; the client
 * checks the data, the SMBDIRECT_CMSG_INVALIDATED it should (or should
 * not) get, and deregisters.
 *
 *   sdrdma -l ADDR TEST...
 *     read    the server writes into the client's buffer (SMB2 READ)
 *     write   the server reads the client's buffer (SMB2 WRITE)
 *     inval   read with Send-with-Invalidate: the client is told
 *     abuse   bad requests get clean errors
 *     cmsgtype  the control message types fit cmsg_type (an int)
 *   sdrdma -l ADDR [-p PORT] [-n CONNS] [-X] serve|client
 *     serve   server role for the sample module's mode=rdma-client
 *     client  client role against the sample module's mode=rdma-server
 *     (-X: corrupt the data on purpose, to show the other end notices)
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/af_smbdirect.h>
#include "sdcommon.h"

static int family = AF_SMBDIRECT;

static int sock_new(void)
{
	int fd = socket(family, SOCK_STREAM, 0);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	return fd;
}

static void pair(int *l, int *c, int *s)
{
	struct sockaddr_storage a = srv;
	socklen_t al = sizeof(a);

	*l = sock_new();
	*port_of(&a) = 0;
	CHECK(!bind(*l, (void *)&a, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(*l, 8), "listen: %s", strerror(errno));
	CHECK(!getsockname(*l, (void *)&a, &al), "getsockname");
	*c = sock_new();
	CHECK(!connect(*c, (void *)&a, al), "connect: %s", strerror(errno));
	*s = accept(*l, NULL, NULL);
	CHECK(*s >= 0, "accept: %s", strerror(errno));
}

static void send_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n) {
		w = send(fd, b, n, 0);
		CHECK(w > 0, "send: %s", strerror(errno));
		b += w;
		n -= w;
	}
}

static void recv_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;
	ssize_t r;

	while (n) {
		r = recv(fd, b, n, 0);
		CHECK(r > 0, "recv: %s", r ? strerror(errno) : "EOF");
		b += r;
		n -= r;
	}
}

/* A PDU: 4-byte length, then the body. */
static void send_pdu(int fd, const void *body, uint32_t len)
{
	uint8_t h[4] = { 0, len >> 16, len >> 8, len };

	send_all(fd, h, 4);
	send_all(fd, body, len);
}

static uint32_t recv_pdu(int fd, void *body, uint32_t max)
{
	uint8_t h[4];
	uint32_t len;

	recv_all(fd, h, 4);
	len = h[1] << 16 | h[2] << 8 | h[3];
	CHECK(len <= max, "PDU of %u bytes, room for %u", len, max);
	recv_all(fd, body, len);
	return len;
}

/*
 * The response PDU, read with recvmsg to see the control message.
 * Returns the handle an SMBDIRECT_CMSG_INVALIDATED named, or 0.
 */
static uint64_t recv_response(int fd)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(uint64_t)) * 4];
	} cb;
	uint8_t body[64];
	struct iovec iov = { body, 4 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = &cb, .msg_controllen = sizeof(cb) };
	struct cmsghdr *c;
	uint64_t h = 0;
	ssize_t n;

	n = recvmsg(fd, &m, MSG_WAITALL);
	CHECK(n == 4, "response header: %zd %s", n, strerror(errno));
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		CHECK(c->cmsg_level == SOL_SMBDIRECT &&
		      c->cmsg_type == SMBDIRECT_CMSG_INVALIDATED,
		      "unexpected cmsg %d/%d", c->cmsg_level, c->cmsg_type);
		memcpy(&h, CMSG_DATA(c), sizeof(h));
	}
	n = body[3];
	recv_all(fd, body, n);
	/* The cmsg may come with the body's bytes instead. */
	return h;
}

/*
 * A response PDU of exactly @len body bytes into @body, read with
 * recvmsg; returns the handle an SMBDIRECT_CMSG_INVALIDATED named, or 0.
 */
static uint64_t recv_response_into(int fd, uint8_t *hdr, void *body,
				   size_t len)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(uint64_t)) * 4];
	} cb;
	struct iovec iov[2] = { { hdr, 4 }, { body, len } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2,
			    .msg_control = &cb, .msg_controllen = sizeof(cb) };
	struct cmsghdr *c;
	uint64_t h = 0;
	ssize_t n;

	n = recvmsg(fd, &m, MSG_WAITALL);
	CHECK(n == (ssize_t)(4 + len), "response: %zd %s", n, strerror(errno));
	CHECK((size_t)(hdr[1] << 16 | hdr[2] << 8 | hdr[3]) == len,
	      "response of %u bytes, want %zu",
	      hdr[1] << 16 | hdr[2] << 8 | hdr[3], len);
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		CHECK(c->cmsg_level == SOL_SMBDIRECT &&
		      c->cmsg_type == SMBDIRECT_CMSG_INVALIDATED && !h,
		      "unexpected cmsg %d/%d", c->cmsg_level, c->cmsg_type);
		memcpy(&h, CMSG_DATA(c), sizeof(h));
	}
	return h;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x;
	}
}

struct req {
	uint32_t nr;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
};

static int reg(int fd, void *p, size_t len, uint32_t access,
	       struct req *q, uint64_t *handle)
{
	struct smbdirect_register r = {
		.addr = (uintptr_t)p, .len = len, .access = access,
		.max_descs = SMBDIRECT_MAX_DESCS,
		.descs = (uintptr_t)q->d,
	};
	socklen_t l = sizeof(r);

	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_REGISTER, &r, &l))
		return -errno;
	q->nr = r.nr_descs;
	*handle = r.handle;
	return 0;
}

/* A registration for the peer to read with room for @max descriptors. */
static int reg_n(int fd, void *p, size_t len, uint32_t max)
{
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
	struct smbdirect_register r = {
		.addr = (uintptr_t)p, .len = len,
		.access = SMBDIRECT_ACCESS_REMOTE_READ,
		.max_descs = max, .descs = (uintptr_t)d,
	};
	socklen_t l = sizeof(r);

	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_REGISTER, &r, &l))
		return -errno;
	return 0;
}

static int64_t rdma(int fd, int op, void *p, size_t len, const struct req *q)
{
	struct smbdirect_rdma r = {
		.addr = (uintptr_t)p, .len = len,
		.descs = (uintptr_t)q->d, .nr_descs = q->nr,
	};
	socklen_t l = sizeof(r);

	if (getsockopt(fd, SOL_SMBDIRECT, op, &r, &l))
		return -errno;
	return r.done;
}

static void respond(int s, uint32_t token)
{
	uint8_t body[8] = { 'd', 'o', 'n', 'e' };
	uint8_t h[4] = { 0, 0, 0, sizeof(body) };
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct smbdirect_cmsg_remote_invalidate))];
	} cb;
	struct iovec iov[2] = { { h, 4 }, { body, sizeof(body) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct smbdirect_cmsg_remote_invalidate ri = { token };
	struct cmsghdr *c;

	if (token) {
		memset(&cb, 0, sizeof(cb));
		m.msg_control = &cb;
		m.msg_controllen = sizeof(cb);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SMBDIRECT;
		c->cmsg_type = SMBDIRECT_CMSG_REMOTE_INVALIDATE;
		c->cmsg_len = CMSG_LEN(sizeof(ri));
		memcpy(CMSG_DATA(c), &ri, sizeof(ri));
	}
	CHECK(sendmsg(s, &m, 0) == 4 + sizeof(body), "response: %s",
	      strerror(errno));
}

/*
 * One SMB2-READ-like exchange of @len bytes at offset @off in the client's
 * buffer (@write: the WRITE-like one).  @inval: answer with
 * Send-with-Invalidate of the first token.
 */
static void exchange(int c, int s, size_t len, size_t off, bool write,
		     bool inval, uint32_t seed)
{
	uint8_t *cb = malloc(len + off + 64), *sb = malloc(len + 64);
	struct req q = { 0 }, got;
	uint64_t h, note;
	int64_t moved;
	int err;

	CHECK(cb && sb, "malloc %zu", len);
	fill(sb, len, seed);
	fill(cb + off, len, seed + 1);
	err = reg(c, cb + off, len, write ? SMBDIRECT_ACCESS_REMOTE_READ :
					    SMBDIRECT_ACCESS_REMOTE_WRITE,
		  &q, &h);
	CHECK(!err, "register %zu at +%zu: %s", len, off, strerror(-err));
	CHECK(q.nr >= 1 && q.nr <= SMBDIRECT_MAX_DESCS, "%u descriptors",
	      q.nr);
	/* The request carries the descriptors, as channel info would. */
	send_pdu(c, &q, offsetof(struct req, d) + q.nr * sizeof(q.d[0]));
	memset(&got, 0, sizeof(got));
	recv_pdu(s, &got, sizeof(got));
	moved = rdma(s, write ? SMBDIRECT_RDMA_READ : SMBDIRECT_RDMA_WRITE,
		     sb, len, &got);
	CHECK(moved == (int64_t)len, "RDMA %s of %zu: %lld (%s)",
	      write ? "read" : "write", len, (long long)moved,
	      moved < 0 ? strerror(-moved) : "short");
	respond(s, inval ? got.d[0].token : 0);
	note = recv_response(c);
	if (write)
		CHECK(!memcmp(sb, cb + off, len), "WRITE data differs (%zu)",
		      len);
	else
		CHECK(!memcmp(sb, cb + off, len), "READ data differs (%zu)",
		      len);
	CHECK(inval ? note == h : note == 0,
	      "invalidation notice %llu, handle %llu, asked %d",
	      (unsigned long long)note, (unsigned long long)h, inval);
	CHECK(!setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &h,
			  sizeof(h)), "deregister: %s", strerror(errno));
	/* Deregistered once only. */
	CHECK(setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &h,
			 sizeof(h)) < 0 && errno == ENOENT,
	      "second deregister: %s", strerror(errno));
	free(cb);
	free(sb);
}

static const size_t sizes[] = {
	1, 7, 4095, 4096, 4097, 65536, 65537, 1 << 20, (1 << 20) + 4099,
	4 << 20, 8 << 20,
};

static void t_rw(bool write, bool inval)
{
	int l, c, s;
	size_t i, o;

	pair(&l, &c, &s);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (o = 0; o < 2; o++)
			exchange(c, s, sizes[i], o ? 4093 : 0, write, inval,
				 i * 2 + o);
	close(c);
	close(s);
	close(l);
}

/* In a child as nobody: 0 if a 1 MiB registration fails with ENOMEM. */
static int memlock_as_nobody(int c, uint8_t *buf)
{
	struct req q;
	uint64_t h;
	pid_t pid = fork();
	int st, r;

	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(2);
		r = reg(c, buf, 1 << 20, SMBDIRECT_ACCESS_REMOTE_READ, &q, &h);
		_exit(r == -ENOMEM ? 0 : 1);
	}
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

static void t_abuse(void)
{
	struct smbdirect_info ci;
	struct req q = { 0 }, bad;
	socklen_t il = sizeof(ci);
	uint64_t h = 0, h2;
	uint8_t *buf = malloc(1 << 20), b[16], *big;
	void *ro;
	int l, c, s, i;

	pair(&l, &c, &s);
	CHECK(!getsockopt(c, SOL_SMBDIRECT, SMBDIRECT_INFO, &ci, &il),
	      "info");
	/* bad access, zero length, beyond MaxReadWriteSize */
	CHECK(reg(c, buf, 100, 3, &q, &h) == -EINVAL, "access 3 accepted");
	CHECK(reg(c, buf, 0, SMBDIRECT_ACCESS_REMOTE_READ, &q, &h) == -EINVAL,
	      "zero length accepted");
	CHECK(reg(c, buf, (size_t)ci.max_read_write_size + 1,
		  SMBDIRECT_ACCESS_REMOTE_READ, &q, &h) == -EMSGSIZE,
	      "registration past MaxReadWriteSize %u", ci.max_read_write_size);
	/*
	 * Fewer descriptors than the registration needs (1 MiB at a page
	 * offset spans 257 pages, more than one MR maps): an error, no
	 * oops; with room for SMBDIRECT_MAX_DESCS it works.
	 */
	big = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(big != MAP_FAILED, "mmap");
	CHECK(reg_n(c, big + 100, 1 << 20, 0) == -EMSGSIZE &&
	      reg_n(c, big + 100, 1 << 20, 1) == -EMSGSIZE,
	      "1 MiB at a page offset registered with room for 0 or 1 "
	      "descriptors");
	CHECK(reg(c, big + 100, 1 << 20, SMBDIRECT_ACCESS_REMOTE_READ, &q,
		  &h) == 0 && q.nr >= 2, "1 MiB at a page offset: %u descriptors",
	      q.nr);
	CHECK(!setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &h,
			  sizeof(h)), "deregister");
	munmap(big, 2 << 20);
	/* read-only memory for the peer to write into */
	ro = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED, "mmap");
	CHECK(reg(c, ro, 8192, SMBDIRECT_ACCESS_REMOTE_WRITE, &q, &h) ==
	      -EFAULT, "read-only memory registered for remote write");
	/* ... is fine for the peer to read */
	CHECK(!reg(c, ro, 8192, SMBDIRECT_ACCESS_REMOTE_READ, &q, &h),
	      "read-only memory for remote read: %s", strerror(errno));
	/* unmapped memory */
	CHECK(reg(c, (void *)16, 4096, SMBDIRECT_ACCESS_REMOTE_READ, &q,
		  &h2) == -EFAULT, "unmapped memory registered");
	/* unknown handles */
	h2 = h + 1000;
	CHECK(setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &h2,
			 sizeof(h2)) < 0 && errno == ENOENT, "unknown handle");
	/* descriptors the server is handed: zero length, wrapping, too many */
	bad = q;
	bad.d[0].length = 0;
	CHECK(rdma(s, SMBDIRECT_RDMA_READ, buf, 8192, &bad) == -EINVAL,
	      "zero-length descriptor");
	bad = q;
	bad.d[0].offset = ~0ULL - 10;
	CHECK(rdma(s, SMBDIRECT_RDMA_READ, buf, 8192, &bad) == -EINVAL,
	      "wrapping descriptor");
	bad = q;
	bad.nr = SMBDIRECT_MAX_DESCS + 1;
	CHECK(rdma(s, SMBDIRECT_RDMA_READ, buf, 8192, &bad) == -EMSGSIZE,
	      "too many descriptors");
	/* a length past the region: the peer's HCA refuses, the link fails */
	bad = q;
	bad.d[0].length = 1 << 20;
	CHECK(rdma(s, SMBDIRECT_RDMA_READ, buf, 1 << 20, &bad) < 0,
	      "read past the registered region succeeded");
	CHECK(recv(s, b, 1, MSG_DONTWAIT) <= 0, "connection survived");
	/* registrations die with the socket; the module must unload later */
	close(c);
	close(s);
	/* past RLIMIT_MEMLOCK */
	pair(&l, &c, &s);
	{
		struct rlimit rl = { 64 << 10, 64 << 10 };

		CHECK(!setrlimit(RLIMIT_MEMLOCK, &rl), "setrlimit");
		if (geteuid() == 0)
			printf("root: CAP_IPC_LOCK bypasses RLIMIT_MEMLOCK\n");
		i = reg(c, buf, 1 << 20, SMBDIRECT_ACCESS_REMOTE_READ, &q, &h);
		CHECK(geteuid() == 0 ? i == 0 : i == -ENOMEM,
		      "registration past RLIMIT_MEMLOCK: %d", i);
		/* The same without CAP_IPC_LOCK: nobody, in a child. */
		if (geteuid() == 0)
			CHECK(memlock_as_nobody(c, buf) == 0,
			      "as nobody, 1 MiB past a 64 KiB RLIMIT_MEMLOCK "
			      "was not refused with ENOMEM");
	}
	close(c);
	close(s);
	close(l);
	/* Bounded: 16 registrations a socket, then ENOBUFS. */
	pair(&l, &c, &s);
	for (i = 0; i < 16; i++)
		CHECK(reg(c, buf + i * 8192, 4096,
			  SMBDIRECT_ACCESS_REMOTE_WRITE, &q, &h) == 0,
		      "registration %d of 16", i + 1);
	i = reg(c, buf + 16 * 8192, 4096, SMBDIRECT_ACCESS_REMOTE_WRITE, &q,
		&h);
	CHECK(i == -ENOBUFS, "17th registration: %d, want ENOBUFS", i);
	close(c);
	close(s);
	close(l);
	/* Not connected (yet, or any more): ENOTCONN. */
	c = sock_new();
	i = reg(c, buf, 4096, SMBDIRECT_ACCESS_REMOTE_READ, &q, &h);
	CHECK(i == -ENOTCONN, "registration on a fresh socket: %d", i);
	close(c);
	free(buf);
}

/*
 * cmsgtype: a receiver compares cmsg_type, an int, with the constants.
 * Past INT_MAX (as an _IOR() value with bit 31 set once was), the
 * comparison is false for every message on 64-bit without a cast.
 */
static void t_cmsgtype(void)
{
	CHECK(SMBDIRECT_CMSG_INVALIDATED <= INT_MAX &&
	      SMBDIRECT_CMSG_REMOTE_INVALIDATE <= INT_MAX,
	      "SMBDIRECT_CMSG_INVALIDATED is %#lx, past INT_MAX: cmsg_type (an int) never equals it without a cast",
	      (unsigned long)SMBDIRECT_CMSG_INVALIDATED);
}

/*
 * Peers of the sample kernel module's offload modes (tests/kmod), one
 * request and one response PDU per transfer, in host byte order (both
 * ends are on one host):
 *   serve   the userspace server role for mode=rdma-client: moves the
 *           data of each request with SMBDIRECT_RDMA_WRITE/READ
 *   client  the userspace client role for mode=rdma-server: registers
 *           its buffers with SMBDIRECT_REGISTER for every request
 * The data of seed S has byte I = (I * 2654435761 >> 24) ^ (S * 0x3b +
 * 0x5a), as the module computes it.
 */
#define OFF_REQ_MAGIC	0x4c46464fu	/* "OFFL" */
#define OFF_RESP_MAGIC	0x5246464fu	/* "OFFR" */
#define OFF_PEER_WRITES	1	/* the server writes the client's buffer */
#define OFF_PEER_READS	2	/* the server reads it */

struct off_req {
	uint32_t magic, op, len, seed, inval, nr;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
};

struct off_resp {
	uint32_t magic;
	int32_t status;		/* 0 or a negative errno */
	uint64_t done;		/* bytes moved */
	uint32_t match;		/* OFF_PEER_READS: the data was as expected */
	uint32_t pad;
};

static int port = 5445, corrupt;

static uint8_t off_byte(uint32_t seed, size_t i)
{
	return (uint8_t)(((uint32_t)i * 2654435761u) >> 24) ^
	       (uint8_t)(seed * 0x3b + 0x5a);
}

static void off_fill(uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = off_byte(seed, i);
}

/* Offset of the first byte that differs, or -1. */
static long off_check(const uint8_t *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != off_byte(seed, i))
			return i;
	return -1;
}

static void send_resp(int s, const struct off_resp *r, uint32_t token)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct smbdirect_cmsg_remote_invalidate))];
	} cb;
	uint8_t h[4] = { 0, 0, 0, sizeof(*r) };
	struct iovec iov[2] = { { h, 4 }, { (void *)r, sizeof(*r) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct smbdirect_cmsg_remote_invalidate ri = { token };
	struct cmsghdr *c;

	if (token) {
		memset(&cb, 0, sizeof(cb));
		m.msg_control = &cb;
		m.msg_controllen = sizeof(cb);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SMBDIRECT;
		c->cmsg_type = SMBDIRECT_CMSG_REMOTE_INVALIDATE;
		c->cmsg_len = CMSG_LEN(sizeof(ri));
		memcpy(CMSG_DATA(c), &ri, sizeof(ri));
	}
	CHECK(sendmsg(s, &m, 0) == (ssize_t)(4 + sizeof(*r)), "response: %s",
	      strerror(errno));
}

/*
 * serve: accept @conns connections one after another and answer each
 * request until the client closes.  -X writes one wrong byte into every
 * buffer the server writes (the client must notice).
 */
static void t_serve(int conns)
{
	struct sockaddr_storage a = srv;
	size_t cap = (8 << 20) + 8192;
	uint8_t *buf = aligned_alloc(4096, cap), h[4];
	unsigned long reqs = 0, bytes = 0;
	int l = sock_new(), s, i;

	CHECK(buf, "out of memory");
	*port_of(&a) = htons(port);
	CHECK(!bind(l, (void *)&a, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(l, 4), "listen: %s", strerror(errno));
	printf("serve: listening on port %d\n", port);
	fflush(stdout);
	for (i = 0; i < conns; i++) {
		s = accept(l, NULL, NULL);
		CHECK(s >= 0, "accept: %s", strerror(errno));
		for (;;) {
			struct off_req q = { 0 };
			struct off_resp r = { .magic = OFF_RESP_MAGIC };
			struct req rq;
			uint32_t len;
			size_t off;
			int64_t got;
			ssize_t n = recv(s, h, 4, MSG_WAITALL);

			if (n == 0)
				break;
			CHECK(n == 4, "request header: %zd %s", n,
			      strerror(errno));
			len = h[1] << 16 | h[2] << 8 | h[3];
			CHECK(len >= offsetof(struct off_req, d) &&
			      len <= sizeof(q), "request of %u bytes", len);
			recv_all(s, &q, len);
			CHECK(q.magic == OFF_REQ_MAGIC && q.nr <= SMBDIRECT_MAX_DESCS &&
			      q.len <= 8u << 20 &&
			      (q.op == OFF_PEER_WRITES || q.op == OFF_PEER_READS),
			      "bad request: magic %#x op %u len %u nr %u",
			      q.magic, q.op, q.len, q.nr);
			/* Our end's buffer alignment varies too. */
			off = q.seed & 1 ? 4093 : 0;
			rq.nr = q.nr;
			memcpy(rq.d, q.d, sizeof(rq.d));
			if (q.op == OFF_PEER_WRITES) {
				off_fill(buf + off, q.len, q.seed);
				if (corrupt)
					buf[off + q.len / 2] ^= 0x40;
				got = rdma(s, SMBDIRECT_RDMA_WRITE, buf + off,
					   q.len, &rq);
			} else {
				memset(buf + off, 0, q.len);
				got = rdma(s, SMBDIRECT_RDMA_READ, buf + off,
					   q.len, &rq);
				r.match = got == q.len &&
					  off_check(buf + off, q.len, q.seed) < 0;
			}
			r.status = got < 0 ? got : 0;
			r.done = got < 0 ? 0 : got;
			send_resp(s, &r, q.inval && q.nr ? q.d[0].token : 0);
			reqs++;
			bytes += r.done;
		}
		close(s);
	}
	close(l);
	free(buf);
	printf("serve: %lu requests, %lu bytes moved\n", reqs, bytes);
}

/*
 * client: against the kernel's server role, for each size and both
 * directions, register, ask, check the response, the data and the
 * invalidation notice, deregister.  -X: the first buffer the server is to
 * read holds the wrong data, which the server must report.
 */
static void t_client(void)
{
	static const size_t lens[] = {
		1, 4095, 4096, 65537, (1 << 20) + 4099, 4 << 20, 8 << 20,
	};
	struct sockaddr_storage a = srv;
	size_t cap = (8 << 20) + 8192, i;
	uint8_t *buf = aligned_alloc(4096, cap);
	unsigned long bytes = 0, n = 0;
	int c = sock_new(), op;

	CHECK(buf, "out of memory");
	*port_of(&a) = htons(port);
	CHECK(!connect(c, (void *)&a, srvlen), "connect: %s", strerror(errno));
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (op = OFF_PEER_WRITES; op <= OFF_PEER_READS; op++) {
			struct off_req q = { .magic = OFF_REQ_MAGIC, .op = op,
					     .len = lens[i],
					     .seed = i * 2 + op,
					     .inval = (i + op) & 1 };
			size_t off = (i & 1) ? 4093 : 0;
			struct off_resp r;
			struct req rq;
			uint64_t h, note;
			uint8_t hd[4];
			long bad;
			int err;

			memset(buf, 0xa5, cap);
			if (op == OFF_PEER_READS)
				off_fill(buf + off, q.len, q.seed +
					 (corrupt && n == 1));
			err = reg(c, buf + off, q.len, op == OFF_PEER_WRITES ?
				  SMBDIRECT_ACCESS_REMOTE_WRITE :
				  SMBDIRECT_ACCESS_REMOTE_READ, &rq, &h);
			CHECK(!err, "register %u bytes: %s", q.len,
			      strerror(-err));
			q.nr = rq.nr;
			memcpy(q.d, rq.d, sizeof(q.d));
			send_pdu(c, &q, offsetof(struct off_req, d) +
				 q.nr * sizeof(q.d[0]));
			/* The response, its notice read with its bytes. */
			note = recv_response_into(c, hd, &r, sizeof(r));
			CHECK(r.magic == OFF_RESP_MAGIC && !r.status &&
			      r.done == q.len,
			      "%u bytes op %d: status %d, %llu moved", q.len,
			      op, r.status, (unsigned long long)r.done);
			CHECK(q.inval ? note == h : note == 0,
			      "%u bytes op %d: invalidation notice %llu, handle %llu, asked %u",
			      q.len, op, (unsigned long long)note,
			      (unsigned long long)h, q.inval);
			if (op == OFF_PEER_WRITES) {
				bad = off_check(buf + off, q.len, q.seed);
				CHECK(bad < 0, "%u bytes: differs at %ld", q.len,
				      bad);
			} else {
				CHECK(r.match == !(corrupt && n == 1),
				      "%u bytes: server says the data %s",
				      q.len, r.match ? "matched" : "differed");
			}
			/* Nothing around the buffer was touched. */
			for (bad = 0; bad < (long)off; bad++)
				CHECK(buf[bad] == 0xa5, "byte %ld before written", bad);
			for (bad = 0; bad < 4096; bad++)
				CHECK(buf[off + q.len + bad] == 0xa5,
				      "byte %ld after written", bad);
			CHECK(!setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER,
					  &h, sizeof(h)), "deregister: %s",
			      strerror(errno));
			bytes += q.len;
			n++;
		}
	}
	close(c);
	free(buf);
	printf("client: %lu transfers, %lu bytes, checked\n", n, bytes);
}

int main(int argc, char **argv)
{
	int opt, i, conns = 1;

	while ((opt = getopt(argc, argv, "l:f:p:n:X")) != -1) {
		if (opt == 'l')
			set_addr(optarg);
		else if (opt == 'f')
			family = atoi(optarg);
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'n')
			conns = atoi(optarg);
		else if (opt == 'X')
			corrupt = 1;
	}
	CHECK(srvlen && optind < argc, "usage: sdrdma -l ADDR TEST...");
	for (i = optind; i < argc; i++) {
		if (!strcmp(argv[i], "read"))
			t_rw(false, false);
		else if (!strcmp(argv[i], "write"))
			t_rw(true, false);
		else if (!strcmp(argv[i], "inval"))
			t_rw(false, true);
		else if (!strcmp(argv[i], "abuse"))
			t_abuse();
		else if (!strcmp(argv[i], "cmsgtype"))
			t_cmsgtype();
		else if (!strcmp(argv[i], "serve"))
			t_serve(conns);
		else if (!strcmp(argv[i], "client"))
			t_client();
		else
			die("unknown test %s", argv[i]);
		printf("%s: ok\n", argv[i]);
	}
	return 0;
}
