// SPDX-License-Identifier: GPL-2.0
/*
 * sdtest: functional tests of AF_SMBDIRECT stream sockets.  Each test runs
 * both ends in one process (listener, client, accepted socket) over the
 * address given with -l, verifies every byte, and exits non-zero on any
 * mismatch or unexpected errno.
 *
 *   sdtest [-l ADDR] [-p PORT] [-n COUNT] [-s SEED] TEST
 *   TEST: basic names sizes splits bytes bidir badhdr oversize nbconnect
 *         refused poll peek waitall dontwait eof many addr info
 *         backpressure keepalive signals shutdown backlog scm many64
 *         fork kill lclose integrity zerolen splice sendflags lshutdown
 *         hold
 *   -s: seed of integrity's random sizes and splits (default: random)
 *   two guests / interop: echoserver echoclient smb2server
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/af_smbdirect.h>
#include "sdcommon.h"

#define MAX_FRAG	1048576		/* module default max_fragmented_size */
#define MAX_PAYLOAD	(1364 - 24)

static int fam = AF_SMBDIRECT;
static int proto, ipproto;	/* -I: socket(AF_INET/6, .., IPPROTO_SMBDIRECT) */

static int sock_new(void)
{
	int fd = socket(fam, SOCK_STREAM, proto);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	return fd;
}

/* A listener on srv with a kernel-chosen port; srv gets the port. */
static int listener(int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = sock_new();

	*port_of(&srv) = 0;
	CHECK(!bind(fd, (void *)&srv, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(fd, backlog), "listen: %s", strerror(errno));
	CHECK(!getsockname(fd, (void *)&ss, &len), "getsockname: %s",
	      strerror(errno));
	CHECK(ss.ss_family == srv.ss_family, "listener family %d",
	      ss.ss_family);
	CHECK(*port_of(&ss), "listener has no port");
	*port_of(&srv) = *port_of(&ss);
	return fd;
}

static int client(void)
{
	int fd = sock_new();

	CHECK(!connect(fd, (void *)&srv, srvlen), "connect: %s",
	      strerror(errno));
	return fd;
}

static int acceptor(int l)
{
	int fd = accept(l, NULL, NULL);

	CHECK(fd >= 0, "accept: %s", strerror(errno));
	return fd;
}

static void pair(int *l, int *c, int *s)
{
	*l = listener(16);
	*c = client();
	*s = acceptor(*l);
}

/* ---- stream of PDUs with a checkable pattern ---- */

static uint8_t pat(unsigned int pdu, size_t i, unsigned int seed)
{
	return (uint8_t)(pdu * 131u + i * 7u + (i >> 8) + seed * 29u);
}

static uint32_t rnd_state = 12345;

static uint32_t rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

enum split { WHOLE, RANDOM, BYTES };

struct xfer {
	int fd;
	unsigned int n;		/* PDUs */
	const size_t *lens;	/* PDU lengths (cycled) */
	unsigned int nlens;
	enum split split;
	unsigned int seed;
	int err;		/* errno on failure */
	char what[160];
};

static size_t pdu_len(struct xfer *x, unsigned int i)
{
	return x->lens[i % x->nlens];
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct xfer *x = arg;
	unsigned int i;
	uint8_t *buf = malloc(MAX_FRAG + 4);

	for (i = 0; i < x->n; i++) {
		size_t len = pdu_len(x, i), j, off, n;

		buf[0] = 0;
		buf[1] = len >> 16;
		buf[2] = len >> 8;
		buf[3] = len;
		for (j = 0; j < len; j++)
			buf[4 + j] = pat(i, j, x->seed);
		for (off = 0; off < len + 4; off += n) {
			n = len + 4 - off;
			if (x->split == BYTES)
				n = 1;
			else if (x->split == RANDOM)
				n = 1 + rnd() % (n < 3000 ? n : 3000);
			if (write_all(x->fd, buf + off, n)) {
				x->err = errno;
				snprintf(x->what, sizeof(x->what),
					 "write pdu %u: %s", i, strerror(errno));
				free(buf);
				return NULL;
			}
		}
	}
	free(buf);
	return NULL;
}

static int read_full(int fd, uint8_t *p, size_t len, enum split split)
{
	while (len) {
		size_t want = len;
		ssize_t n;

		if (split == RANDOM)
			want = 1 + rnd() % (len < 5000 ? len : 5000);
		else if (split == BYTES)
			want = 1;
		n = recv(fd, p, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			errno = ENODATA;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

static void *reader(void *arg)
{
	struct xfer *x = arg;
	uint8_t *buf = malloc(MAX_FRAG + 4);
	unsigned int i;
	uint32_t sum = 2166136261u;

	for (i = 0; i < x->n; i++) {
		size_t len = pdu_len(x, i), j, got;

		if (read_full(x->fd, buf, 4, x->split)) {
			x->err = errno ? errno : EIO;
			snprintf(x->what, sizeof(x->what),
				 "read header %u: %s", i, strerror(errno));
			break;
		}
		got = (size_t)buf[1] << 16 | buf[2] << 8 | buf[3];
		if (buf[0] != 0 || got != len) {
			x->err = EBADMSG;
			snprintf(x->what, sizeof(x->what),
				 "pdu %u: header %02x len %zu, want %zu", i,
				 buf[0], got, len);
			break;
		}
		if (read_full(x->fd, buf, len, x->split)) {
			x->err = errno ? errno : EIO;
			snprintf(x->what, sizeof(x->what), "read pdu %u: %s",
				 i, strerror(errno));
			break;
		}
		for (j = 0; j < len; j++) {
			sum = (sum ^ buf[j]) * 16777619u;
			if (buf[j] != pat(i, j, x->seed)) {
				x->err = EBADMSG;
				snprintf(x->what, sizeof(x->what),
					 "pdu %u byte %zu: %02x want %02x", i,
					 j, buf[j], pat(i, j, x->seed));
				goto out;
			}
		}
	}
out:
	free(buf);
	return NULL;
}

/* Send n PDUs from a to b (and b to a if bidir), verifying everything. */
static void transfer(int a, int b, unsigned int n, const size_t *lens,
		     unsigned int nlens, enum split split, int bidir)
{
	struct xfer w1 = { a, n, lens, nlens, split, 1 }, r1 = w1;
	struct xfer w2 = { b, n, lens, nlens, split, 2 }, r2 = w2;
	pthread_t t[4];

	r1.fd = b;
	r2.fd = a;
	pthread_create(&t[0], NULL, writer, &w1);
	pthread_create(&t[1], NULL, reader, &r1);
	if (bidir) {
		pthread_create(&t[2], NULL, writer, &w2);
		pthread_create(&t[3], NULL, reader, &r2);
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	if (bidir) {
		pthread_join(t[2], NULL);
		pthread_join(t[3], NULL);
	}
	CHECK(!w1.err, "a->b %s", w1.what);
	CHECK(!r1.err, "a->b %s", r1.what);
	CHECK(!w2.err, "b->a %s", w2.what);
	CHECK(!r2.err, "b->a %s", r2.what);
}

static void close3(int l, int c, int s)
{
	close(c);
	close(s);
	close(l);
}

/* ---- tests ---- */

static void t_basic(void)
{
	static const size_t one = 1;
	int l, c, s;

	pair(&l, &c, &s);
	transfer(c, s, 1, &one, 1, WHOLE, 0);
	transfer(s, c, 1, &one, 1, WHOLE, 0);
	close3(l, c, s);
}

static int same_ip(struct sockaddr_storage *a, struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return !memcmp(&((struct sockaddr_in *)a)->sin_addr,
			       &((struct sockaddr_in *)b)->sin_addr, 4);
	return !memcmp(&((struct sockaddr_in6 *)a)->sin6_addr,
		       &((struct sockaddr_in6 *)b)->sin6_addr, 16);
}

static void t_names(void)
{
	struct sockaddr_storage cl, cp, sl, sp;
	socklen_t len, want = srvlen;
	int l, c, s;

	pair(&l, &c, &s);
	len = sizeof(cl);
	CHECK(!getsockname(c, (void *)&cl, &len) && len == want,
	      "client getsockname len %u", len);
	len = sizeof(cp);
	CHECK(!getpeername(c, (void *)&cp, &len) && len == want,
	      "client getpeername len %u", len);
	len = sizeof(sl);
	CHECK(!getsockname(s, (void *)&sl, &len) && len == want,
	      "server getsockname len %u", len);
	len = sizeof(sp);
	CHECK(!getpeername(s, (void *)&sp, &len) && len == want,
	      "server getpeername len %u", len);
	CHECK(same_ip(&cp, &srv) && *port_of(&cp) == *port_of(&srv),
	      "client's peer is not the server address");
	CHECK(same_ip(&sl, &srv) && *port_of(&sl) == *port_of(&srv),
	      "server's local address is not the listen address");
	CHECK(same_ip(&sp, &cl) && *port_of(&sp) == *port_of(&cl),
	      "server's peer is not the client's local address");
	CHECK(*port_of(&cl) != 0, "client has no local port");
	len = sizeof(cp);
	CHECK(getpeername(l, (void *)&cp, &len) && errno == ENOTCONN,
	      "listener getpeername should be ENOTCONN");
	close3(l, c, s);
}

static void t_sizes(void)
{
	static const size_t lens[] = { 1, MAX_PAYLOAD, MAX_PAYLOAD + 1, 4096,
				       65536, 300000, MAX_FRAG };
	int l, c, s;

	pair(&l, &c, &s);
	transfer(c, s, 7, lens, 7, WHOLE, 0);
	transfer(s, c, 7, lens, 7, WHOLE, 0);
	close3(l, c, s);
}

static void t_splits(void)
{
	static const size_t lens[] = { 1, 2, 3, 5, 100, 1339, 1340, 1341,
				       2680, 2681, 9999, 70000 };
	int l, c, s;

	pair(&l, &c, &s);
	transfer(c, s, 48, lens, 12, RANDOM, 1);
	close3(l, c, s);
}

static void t_bytes(void)
{
	static const size_t lens[] = { 1, 7, 1340, 1341, 3000 };
	int l, c, s;

	pair(&l, &c, &s);
	transfer(c, s, 10, lens, 5, BYTES, 0);
	close3(l, c, s);
}

static void t_bidir(void)
{
	static const size_t lens[] = { 100000, 1, 1340, 200000, 5000 };
	int l, c, s;

	pair(&l, &c, &s);
	transfer(c, s, 40, lens, 5, WHOLE, 1);
	close3(l, c, s);
}

static short revents(int fd, short events, int ms);

/*
 * A bad header: a write whose data starts with it fails and consumes
 * nothing, so the same write fails again, and a write of [valid PDU][bad
 * header] returns the valid PDU's length; the next write, starting at the
 * bad header, fails.  A header completed by a later write: that write
 * fails and the partial header is dropped.  The peer receives exactly
 * the valid PDUs, nothing else, and the link stays usable.
 */
static void bad_header(const uint8_t hdr[4], int want_errno)
{
	enum { LEN = 10, NPDU = 6 };
	static const size_t len = LEN;
	uint8_t pdu[NPDU][LEN + 4], buf[2 * (LEN + 4) + 8];
	struct xfer r = { 0 };
	unsigned int next = 0, i;
	int l, c, s;
	ssize_t n;

	for (i = 0; i < NPDU; i++) {
		pdu[i][0] = 0;
		pdu[i][1] = 0;
		pdu[i][2] = 0;
		pdu[i][3] = LEN;
		for (n = 0; n < LEN; n++)
			pdu[i][4 + n] = pat(i, n, 0);
	}
#define SEND_FAILS(b, len, what) do {					\
	n = send(c, b, len, MSG_NOSIGNAL);				\
	CHECK(n < 0 && errno == want_errno, "%s: returned %zd (%s), "	\
	      "want -1 %s", what, n, n < 0 ? strerror(errno) : "taken",	\
	      strerror(want_errno));					\
} while (0)
#define SEND_PDU(what) do {						\
	n = send(c, pdu[next], LEN + 4, MSG_NOSIGNAL);			\
	CHECK(n == LEN + 4, "%s: valid PDU %u: returned %zd (%s)", what,	\
	      next, n, n < 0 ? strerror(errno) : "short");		\
	next++;								\
} while (0)

	pair(&l, &c, &s);
	SEND_FAILS(hdr, 4, "bad header alone");
	SEND_FAILS(hdr, 4, "the same bad header again (nothing consumed)");
	memcpy(buf, hdr, 4);
	memcpy(buf + 4, pdu[next], LEN + 4);
	SEND_FAILS(buf, 4 + LEN + 4, "[bad header][valid PDU]");
	SEND_PDU("after the bad header");
	/* [valid PDU][bad header]: the PDU is taken, the header is not. */
	memcpy(buf, pdu[next], LEN + 4);
	memcpy(buf + LEN + 4, hdr, 4);
	n = send(c, buf, LEN + 4 + 4, MSG_NOSIGNAL);
	CHECK(n == LEN + 4, "[valid PDU][bad header]: returned %zd (%s), want "
	      "%d (the valid PDU only)", n, n < 0 ? strerror(errno) : "",
	      LEN + 4);
	next++;
	SEND_FAILS(buf + LEN + 4, 4, "the bad header left over");
	SEND_FAILS(buf + LEN + 4, 4, "the bad header once more");
	SEND_PDU("after [valid PDU][bad header]");
	/* Split as 2 + 2 bytes: the second write completes the header. */
	n = send(c, hdr, 2, MSG_NOSIGNAL);
	CHECK(n == 2, "first half of the header: %zd %s", n, strerror(errno));
	SEND_FAILS(hdr + 2, 2, "second half completing the bad header");
	SEND_PDU("after the split bad header");
	SEND_PDU("last");
	/* The peer gets exactly the valid PDUs, in order, then nothing. */
	r.fd = s;
	r.n = next;
	r.lens = &len;
	r.nlens = 1;
	reader(&r);
	CHECK(!r.err, "peer: %s", r.what);
	CHECK(!(revents(s, POLLIN, 1000) & POLLIN),
	      "extra data after the %u valid PDUs", next);
	CHECK(recv(s, buf, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "extra data after the good PDUs");
	/* And the link still works both ways. */
	transfer(c, s, 3, &len, 1, WHOLE, 1);
	close3(l, c, s);
#undef SEND_FAILS
#undef SEND_PDU
}

static void t_badhdr(void)
{
	static const uint8_t nb[4] = { 0x85, 0, 0, 4 };

	bad_header(nb, EPROTO);
}

/* Longer than the peer's MaxFragmentedSize (the module default, 1 MiB). */
static void t_oversize(void)
{
	uint8_t big[4] = { 0, (uint8_t)((MAX_FRAG + 1) >> 16),
			   (uint8_t)((MAX_FRAG + 1) >> 8),
			   (uint8_t)(MAX_FRAG + 1) };

	bad_header(big, EMSGSIZE);
}

/* SMB-Direct cannot carry an empty PDU: refused, never silently dropped. */
static void t_zerolen(void)
{
	static const uint8_t zero[4] = { 0, 0, 0, 0 };

	bad_header(zero, EINVAL);
}

static int wait_connect(int fd, int *soerr)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(*soerr);

	CHECK(poll(&p, 1, 30000) == 1, "poll timed out");
	CHECK(!getsockopt(fd, SOL_SOCKET, SO_ERROR, soerr, &len),
	      "SO_ERROR: %s", strerror(errno));
	return p.revents;
}

static void t_nbconnect(void)
{
	int l, c, s, err, ev;

	l = listener(4);
	c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, proto);
	CHECK(c >= 0, "socket");
	CHECK(connect(c, (void *)&srv, srvlen) < 0 && errno == EINPROGRESS,
	      "non-blocking connect: %s", strerror(errno));
	ev = wait_connect(c, &err);
	CHECK((ev & POLLOUT) && !(ev & (POLLERR | POLLHUP)) && err == 0,
	      "connect completion: revents %#x SO_ERROR %d", ev, err);
	CHECK(connect(c, (void *)&srv, srvlen) < 0 && errno == EISCONN,
	      "second connect: %s", strerror(errno));
	s = acceptor(l);
	close3(l, c, s);

	/* To a port with no listener: EPOLLERR and ECONNREFUSED. */
	c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, proto);
	CHECK(connect(c, (void *)&srv, srvlen) < 0 && errno == EINPROGRESS,
	      "non-blocking connect 2: %s", strerror(errno));
	ev = wait_connect(c, &err);
	CHECK((ev & POLLERR) && err == ECONNREFUSED,
	      "refused completion: revents %#x SO_ERROR %d", ev, err);
	close(c);
}

static int opt_port;

/* With -p, the port is on a remote host (two guests). */
static void t_refused(void)
{
	int c;

	if (opt_port) {
		*port_of(&srv) = htons(opt_port);
	} else {
		c = listener(1);
		close(c);	/* the port is now free: nobody listens */
	}
	c = sock_new();
	CHECK(connect(c, (void *)&srv, srvlen) < 0 && errno == ECONNREFUSED,
	      "connect without listener: %s", strerror(errno));
	close(c);
}

static short revents(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	CHECK(poll(&p, 1, ms) >= 0, "poll: %s", strerror(errno));
	return p.revents;
}

static void t_poll(void)
{
	static const uint8_t msg[5] = { 0, 0, 0, 1, 42 };
	int l = listener(4), c, s;
	short ev;

	CHECK(!(revents(l, POLLIN, 0) & POLLIN), "idle listener readable");
	c = client();
	CHECK(revents(l, POLLIN, 10000) & POLLIN, "listener not readable");
	s = acceptor(l);
	CHECK(revents(c, POLLOUT, 0) & POLLOUT, "client not writable");
	CHECK(revents(s, POLLOUT, 0) & POLLOUT, "server not writable");
	ev = revents(s, POLLIN, 0);
	CHECK(!(ev & (POLLIN | POLLERR | POLLHUP)), "idle socket revents %#x",
	      ev);
	CHECK(write(c, msg, 5) == 5, "write");
	CHECK(revents(s, POLLIN, 10000) & POLLIN, "data not readable");
	close(c);
	ev = revents(s, POLLRDHUP, 10000);
	CHECK(ev & POLLRDHUP, "no RDHUP after peer close: %#x", ev);
	ev = revents(s, POLLIN, 0);
	CHECK(ev & POLLHUP, "no HUP after peer close: %#x", ev);
	close(s);
	close(l);
}

static void t_peek(void)
{
	static const uint8_t a[9] = { 0, 0, 0, 2, 'h', 'i', 0, 0, 0 };
	uint8_t b[16], p[16];
	int l, c, s, q = -1;

	pair(&l, &c, &s);
	CHECK(write(c, a, 6) == 6, "write");
	CHECK(write(c, (uint8_t[]){ 0, 0, 0, 1, 'x' }, 5) == 5, "write 2");
	/* Wait for both messages, then peek across them. */
	while (recv(s, p, 11, MSG_PEEK) < 11)
		usleep(10000);
	CHECK(recv(s, p, 11, MSG_PEEK) == 11, "peek");
	CHECK(!memcmp(p, a, 6) && p[9] == 1 && p[10] == 'x', "peek data");
	CHECK(recv(s, b, 3, MSG_PEEK) == 3 && !memcmp(b, a, 3), "peek 3");
	CHECK(recv(s, b, 11, MSG_WAITALL) == 11 && !memcmp(b, p, 11),
	      "read after peek");
	CHECK(ioctl(s, FIONREAD, &q) == 0 && q == 0, "FIONREAD %d", q);
	close3(l, c, s);
}

static void t_waitall(void)
{
	static const size_t len = 200000;
	uint8_t *b = malloc(len + 4);
	struct xfer w = { 0 };
	pthread_t t;
	size_t i;
	int l, c, s;

	pair(&l, &c, &s);
	w.fd = c;
	w.n = 1;
	w.lens = &len;
	w.nlens = 1;
	w.split = RANDOM;
	pthread_create(&t, NULL, writer, &w);
	CHECK(recv(s, b, len + 4, MSG_WAITALL) == (ssize_t)(len + 4),
	      "MSG_WAITALL short: %s", strerror(errno));
	pthread_join(t, NULL);
	for (i = 0; i < len; i++)
		CHECK(b[4 + i] == pat(0, i, 0), "data at %zu", i);
	free(b);
	close3(l, c, s);
}

static void t_dontwait(void)
{
	struct timeval tv = { 0, 200000 }, t0, t1;
	uint8_t b[4];
	int l, c, s, fl;
	long ms;

	pair(&l, &c, &s);
	CHECK(recv(s, b, 4, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "MSG_DONTWAIT: %s", strerror(errno));
	fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	CHECK(read(s, b, 4) < 0 && errno == EAGAIN, "O_NONBLOCK read: %s",
	      strerror(errno));
	fcntl(s, F_SETFL, fl);
	CHECK(!setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
	      "SO_RCVTIMEO");
	gettimeofday(&t0, NULL);
	CHECK(recv(s, b, 4, 0) < 0 && errno == EAGAIN, "timed recv: %s",
	      strerror(errno));
	gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	CHECK(ms >= 150 && ms < 5000, "SO_RCVTIMEO took %ld ms", ms);
	close3(l, c, s);
}

static void t_eof(void)
{
	static const size_t len = 3000;
	uint8_t b[8];
	int l, c, s, i;
	ssize_t n = 0;

	pair(&l, &c, &s);
	transfer(c, s, 0, &len, 1, WHOLE, 0);
	{
		struct xfer w = { c, 2, &len, 1, WHOLE, 0 };

		writer(&w);
		CHECK(!w.err, "%s", w.what);
	}
	close(c);
	{
		struct xfer r = { s, 2, &len, 1, WHOLE, 0 };

		reader(&r);
		CHECK(!r.err, "data before EOF: %s", r.what);
	}
	CHECK(recv(s, b, 8, 0) == 0, "no EOF after data: %s", strerror(errno));
	/* The writer on a closed connection gets EPIPE. */
	for (i = 0; i < 100; i++) {
		n = send(s, (uint8_t[]){ 0, 0, 0, 1, 1 }, 5, MSG_NOSIGNAL);
		if (n < 0)
			break;
		usleep(20000);
	}
	CHECK(n < 0 && errno == EPIPE, "write after peer close: %s",
	      strerror(errno));
	close(s);
	close(l);
}

struct many { int c, s; };

static void *many_one(void *arg)
{
	static const size_t lens[] = { 1, 1341, 20000 };
	struct many *m = arg;

	transfer(m->c, m->s, 9, lens, 3, WHOLE, 1);
	return NULL;
}

static void t_many(void)
{
	enum { N = 16 };
	struct many m[N];
	pthread_t t[N];
	int l = listener(N), i;

	for (i = 0; i < N; i++) {
		m[i].c = client();
		m[i].s = acceptor(l);
	}
	for (i = 0; i < N; i++)
		pthread_create(&t[i], NULL, many_one, &m[i]);
	for (i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < N; i++) {
		close(m[i].c);
		close(m[i].s);
	}
	close(l);
}

static void drop_bind_cap(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	CHECK(!syscall(SYS_capget, &h, d), "capget");
	d[CAP_NET_BIND_SERVICE / 32].effective &=
		~(1u << (CAP_NET_BIND_SERVICE % 32));
	CHECK(!syscall(SYS_capset, &h, d), "capset");
}

static void t_addr(void)
{
	struct sockaddr_storage a = srv;
	int fd = sock_new(), t;
	struct sockaddr_un { sa_family_t f; char p[10]; } un = { AF_UNIX };

	CHECK(bind(fd, (void *)&un, sizeof(un)) < 0 && errno == EAFNOSUPPORT,
	      "AF_UNIX bind: %s", strerror(errno));
	CHECK(bind(fd, (void *)&a, 4) < 0 && errno == EINVAL,
	      "short bind: %s", strerror(errno));
	CHECK(connect(fd, (void *)&un, sizeof(un)) < 0 &&
	      errno == EAFNOSUPPORT, "AF_UNIX connect: %s", strerror(errno));
	CHECK(getpeername(fd, (void *)&a, &(socklen_t){ sizeof(a) }) < 0 &&
	      errno == ENOTCONN, "getpeername unconnected: %s",
	      strerror(errno));
	t = 1;
	CHECK(!setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &t, sizeof(t)),
	      "TCP_NODELAY: %s", strerror(errno));
	t = 30;
	CHECK(!setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_KEEPALIVE_INTERVAL, &t,
			  sizeof(t)), "keepalive set: %s", strerror(errno));
	t = 0;
	CHECK(!getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_KEEPALIVE_INTERVAL, &t,
			  &(socklen_t){ sizeof(t) }) && t == 30,
	      "keepalive get: %d", t);
	close(fd);

	/* Privileged ports need CAP_NET_BIND_SERVICE. */
	drop_bind_cap();
	fd = sock_new();
	a = srv;
	*port_of(&a) = htons(445);
	CHECK(bind(fd, (void *)&a, srvlen) < 0 && errno == EACCES,
	      "bind 445 without CAP_NET_BIND_SERVICE: %s", strerror(errno));
	close(fd);
}

static void t_info(void)
{
	struct smbdirect_info i;
	socklen_t len = sizeof(i);
	int l, c, s;

	pair(&l, &c, &s);
	CHECK(!getsockopt(c, SOL_SMBDIRECT, SMBDIRECT_INFO, &i, &len) &&
	      len == sizeof(i), "SMBDIRECT_INFO: %s", strerror(errno));
	CHECK(i.version == 0x0100 && i.max_send_size == 1364 &&
	      i.max_fragmented_send_size == MAX_FRAG,
	      "info: version %#x send %u frag %u", i.version, i.max_send_size,
	      i.max_fragmented_send_size);
	close3(l, c, s);
}

static struct smbdirect_info info_of(int fd)
{
	struct smbdirect_info i;
	socklen_t len = sizeof(i);

	CHECK(!getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &i, &len),
	      "SMBDIRECT_INFO: %s", strerror(errno));
	return i;
}

static void fill_pdu(uint8_t *buf, unsigned int pdu, size_t len)
{
	size_t j;

	buf[0] = 0;
	buf[1] = len >> 16;
	buf[2] = len >> 8;
	buf[3] = len;
	for (j = 0; j < len; j++)
		buf[4 + j] = pat(pdu, j, 0);
}

/*
 * A reader that stalls: credits and receive buffers stop the writer
 * (EAGAIN, no POLLOUT); a forked child then finishes the partial PDU on
 * the shared socket while the parent drains and verifies everything.
 */
static void t_backpressure(void)
{
	static const size_t len = 100000;
	uint8_t *buf = malloc(len + 4);
	struct xfer r = { 0 };
	unsigned int pdus = 0;
	size_t sent = 0;
	int l, c, s, fl, st;
	ssize_t n;
	pid_t pid;

	pair(&l, &c, &s);
	fl = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, fl | O_NONBLOCK);
	fill_pdu(buf, 0, len);
	for (;;) {
		n = send(c, buf + sent, len + 4 - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN) {
			/* Let in-flight completions land, then re-check. */
			usleep(500000);
			n = send(c, buf + sent, len + 4 - sent, MSG_NOSIGNAL);
			if (n < 0 && errno == EAGAIN)
				break;
		}
		CHECK(n > 0, "non-blocking send: %s", strerror(errno));
		sent += n;
		if (sent == len + 4) {
			sent = 0;
			fill_pdu(buf, ++pdus, len);
		}
		CHECK(pdus < 500, "no back-pressure after %u PDUs", pdus);
	}
	CHECK(!(revents(c, POLLOUT, 0) & POLLOUT), "POLLOUT while full");
	fcntl(c, F_SETFL, fl);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid)
		_exit(write_all(c, buf + sent, len + 4 - sent) ? 1 : 0);
	r.fd = s;
	r.n = pdus + 1;
	r.lens = &len;
	r.nlens = 1;
	r.split = RANDOM;
	reader(&r);
	CHECK(!r.err, "drain: %s", r.what);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "child could not finish the PDU");
	CHECK(revents(c, POLLOUT, 5000) & POLLOUT, "not writable after drain");
	free(buf);
	close3(l, c, s);
}

/* Keepalives on an idle connection are answered; it stays up. */
static void t_keepalive(void)
{
	static const size_t len = 77;
	struct smbdirect_info a, b;
	int l, c, s, one = 1;

	pair(&l, &c, &s);
	CHECK(!setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_KEEPALIVE_INTERVAL, &one,
			  sizeof(one)), "keepalive: %s", strerror(errno));
	a = info_of(c);
	sleep(4);
	b = info_of(c);
	CHECK(b.tx_empty_msgs >= a.tx_empty_msgs + 1,
	      "no keepalive sent (%llu -> %llu)",
	      (unsigned long long)a.tx_empty_msgs,
	      (unsigned long long)b.tx_empty_msgs);
	CHECK(b.rx_msgs > a.rx_msgs, "keepalive not answered");
	transfer(c, s, 2, &len, 1, WHOLE, 1);
	close3(l, c, s);
}

static volatile sig_atomic_t got_sig;

static void on_sig(int sig)
{
	got_sig = sig;
}

static void *kick_main(void *arg)
{
	usleep(300000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

/* SIGPIPE without MSG_NOSIGNAL; a signal interrupts a blocked recv. */
static void t_signals(void)
{
	struct sigaction sa = { .sa_handler = on_sig };
	pthread_t self = pthread_self(), t;
	uint8_t b[4];
	int l, c, s, i;
	ssize_t n = 0;

	sigaction(SIGUSR1, &sa, NULL);	/* no SA_RESTART */
	sigaction(SIGPIPE, &sa, NULL);
	pair(&l, &c, &s);
	pthread_create(&t, NULL, kick_main, &self);
	n = recv(s, b, 4, 0);
	CHECK(n < 0 && errno == EINTR && got_sig == SIGUSR1,
	      "recv not interrupted: %zd %s", n, strerror(errno));
	pthread_join(t, NULL);
	close(s);
	got_sig = 0;
	for (i = 0; i < 100; i++) {
		n = send(c, (uint8_t[]){ 0, 0, 0, 1, 1 }, 5, 0);
		if (n < 0)
			break;
		usleep(20000);
	}
	CHECK(n < 0 && errno == EPIPE && got_sig == SIGPIPE,
	      "no EPIPE+SIGPIPE: %s sig %d", strerror(errno), got_sig);
	close(c);
	close(l);
	signal(SIGPIPE, SIG_IGN);
}

/* shutdown(SHUT_WR) flushes; the peer reads the data, then EOF. */
static void t_shutdown(void)
{
	static const size_t len = 5000;
	struct xfer w = { 0 }, r = { 0 };
	uint8_t b[4];
	int l, c, s;

	pair(&l, &c, &s);
	w.fd = c;
	w.n = 3;
	w.lens = &len;
	w.nlens = 1;
	r = w;
	r.fd = s;
	writer(&w);
	CHECK(!w.err, "%s", w.what);
	CHECK(!shutdown(c, SHUT_WR), "shutdown: %s", strerror(errno));
	CHECK(send(c, b, 1, MSG_NOSIGNAL) < 0 && errno == EPIPE,
	      "write after SHUT_WR: %s", strerror(errno));
	reader(&r);
	CHECK(!r.err, "%s", r.what);
	CHECK(recv(s, b, 4, 0) == 0, "no EOF after SHUT_WR");
	close3(l, c, s);
}

/* The accept queue (children still negotiating included) is bounded. */
static void t_backlog(void)
{
	int l = listener(1), c[3], s, i, ok = 0, refused = 0;

	for (i = 0; i < 3; i++) {
		c[i] = sock_new();
		if (!connect(c[i], (void *)&srv, srvlen))
			ok++;
		else if (errno == ECONNREFUSED)
			refused++;
		else
			die("connect %d: %s", i, strerror(errno));
	}
	CHECK(ok == 2 && refused == 1, "backlog 1: %d accepted, %d refused",
	      ok, refused);
	for (i = 0; i < 2; i++) {
		s = acceptor(l);
		close(s);
	}
	for (i = 0; i < 3; i++)
		close(c[i]);
	close(l);
}

/* A connected socket passed with SCM_RIGHTS keeps working. */
static void t_scm(void)
{
	static const size_t len = 3333;
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { (char[1]){ 'x' }, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	struct xfer r = { 0 };
	int l, c, s, sp[2], st;
	pid_t pid;

	pair(&l, &c, &s);
	CHECK(!socketpair(AF_UNIX, SOCK_STREAM, 0, sp), "socketpair");
	pid = fork();
	if (!pid) {
		struct xfer w = { 0 };
		int fd;

		close(c);
		close(s);
		CHECK(recvmsg(sp[1], &m, 0) == 1, "recvmsg");
		cm = CMSG_FIRSTHDR(&m);
		CHECK(cm && cm->cmsg_type == SCM_RIGHTS, "no SCM_RIGHTS");
		memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
		w.fd = fd;
		w.n = 2;
		w.lens = &len;
		w.nlens = 1;
		writer(&w);
		_exit(w.err ? 1 : 0);
	}
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &c, sizeof(c));
	CHECK(sendmsg(sp[0], &m, 0) == 1, "sendmsg: %s", strerror(errno));
	close(c);	/* the child's copy keeps the connection */
	r.fd = s;
	r.n = 2;
	r.lens = &len;
	r.nlens = 1;
	reader(&r);
	CHECK(!r.err, "%s", r.what);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "child writer failed");
	CHECK(recv(s, (char[1]){ 0 }, 1, 0) == 0, "no EOF after child exit");
	close(s);
	close(l);
}

/*
 * Interop: accept one connection on -p PORT (e.g. from cifs.ko mounting
 * with "rdma") and check that the first PDU is an SMB2 NEGOTIATE.
 */
static void t_smb2server(void)
{
	struct sockaddr_storage a = srv;
	uint8_t h[4], *b;
	size_t len;
	int l = sock_new(), one = 1, s;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*port_of(&a) = htons(opt_port);
	CHECK(!bind(l, (void *)&a, srvlen), "bind %d: %s", opt_port,
	      strerror(errno));
	CHECK(!listen(l, 4), "listen: %s", strerror(errno));
	printf("listening\n");
	fflush(stdout);
	s = acceptor(l);
	CHECK(!read_full(s, h, 4, WHOLE), "read header: %s", strerror(errno));
	len = (size_t)h[1] << 16 | h[2] << 8 | h[3];
	CHECK(h[0] == 0 && len >= 64 && len < 65536, "bad header, len %zu",
	      len);
	b = malloc(len);
	CHECK(!read_full(s, b, len, RANDOM), "read pdu: %s", strerror(errno));
	CHECK(!memcmp(b, "\xfeSMB", 4), "not an SMB2 PDU");
	CHECK(b[12] == 0 && b[13] == 0, "command %u, want NEGOTIATE",
	      b[12] | b[13] << 8);
	printf("SMB2 NEGOTIATE received, %zu bytes, %u dialects\n", len,
	       b[66] | b[67] << 8);
	free(b);
	close(s);
	close(l);
}

static int opt_count = 1;

/* Echo every PDU back until EOF at a PDU boundary. */
static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t *b = malloc(MAX_FRAG + 4);
	size_t len;
	ssize_t n;
	long bad = 0;

	for (;;) {
		n = recv(fd, b, 1, 0);
		if (n == 0)
			break;
		if (n < 0 || read_full(fd, b + 1, 3, WHOLE)) {
			bad = 1;
			break;
		}
		len = (size_t)b[1] << 16 | b[2] << 8 | b[3];
		if (read_full(fd, b + 4, len, RANDOM) ||
		    write_all(fd, b, len + 4)) {
			bad = 1;
			break;
		}
	}
	free(b);
	close(fd);
	return (void *)bad;
}

/* Two-guest server: serve -n connections on -p PORT, echoing. */
static void t_echoserver(void)
{
	struct sockaddr_storage a = srv;
	pthread_t t[64];
	int l = sock_new(), one = 1, i, fail = 0;
	void *ret;

	CHECK(opt_count > 0 && opt_count <= 64, "bad -n");
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*port_of(&a) = htons(opt_port);
	CHECK(!bind(l, (void *)&a, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(l, 16), "listen: %s", strerror(errno));
	printf("listening\n");
	fflush(stdout);
	for (i = 0; i < opt_count; i++)
		pthread_create(&t[i], NULL, echo_conn,
			       (void *)(intptr_t)acceptor(l));
	for (i = 0; i < opt_count; i++) {
		pthread_join(t[i], &ret);
		fail |= ret != NULL;
	}
	close(l);
	CHECK(!fail, "an echo connection failed");
}

static void *echo_check(void *arg)
{
	static const size_t lens[] = { 1, MAX_PAYLOAD, MAX_PAYLOAD + 1, 70000,
				       MAX_FRAG, 5 };
	struct xfer w = { (int)(intptr_t)arg, 12, lens, 6, RANDOM, 3 };
	struct xfer r = w;
	pthread_t t;

	pthread_create(&t, NULL, writer, &w);
	reader(&r);
	pthread_join(t, NULL);
	if (w.err || r.err) {
		fprintf(stderr, "echo: %s %s\n", w.what, r.what);
		return (void *)1;
	}
	return NULL;
}

/* Two-guest client: -n connections to -l ADDR -p PORT, verify echoes. */
static void t_echoclient(void)
{
	pthread_t t[64];
	int fd[64], i, fail = 0, tries;
	void *ret;

	CHECK(opt_count > 0 && opt_count <= 64, "bad -n");
	*port_of(&srv) = htons(opt_port);
	for (i = 0; i < opt_count; i++) {
		/* The server guest may still be starting. */
		for (tries = 0; tries < 120; tries++) {
			fd[i] = sock_new();
			if (!connect(fd[i], (void *)&srv, srvlen))
				break;
			CHECK(errno == ECONNREFUSED || errno == ETIMEDOUT ||
			      errno == EHOSTUNREACH, "connect: %s",
			      strerror(errno));
			close(fd[i]);
			fd[i] = -1;
			sleep(1);
		}
		CHECK(fd[i] >= 0, "server never answered");
	}
	for (i = 0; i < opt_count; i++)
		pthread_create(&t[i], NULL, echo_check, (void *)(intptr_t)fd[i]);
	for (i = 0; i < opt_count; i++) {
		pthread_join(t[i], &ret);
		fail |= ret != NULL;
		close(fd[i]);
	}
	CHECK(!fail, "echo mismatch");
}

/* ---- helpers for the tests below ---- */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * One end of a bidirectional exchange, for ends in different processes:
 * write n PDUs with seed ws while reading n PDUs with seed rs.
 */
static int exchange(int fd, unsigned int n, const size_t *lens,
		    unsigned int nlens, unsigned int ws, unsigned int rs,
		    char *what, size_t wlen)
{
	struct xfer w = { fd, n, lens, nlens, RANDOM, ws }, r = w;
	pthread_t t;

	r.seed = rs;
	pthread_create(&t, NULL, writer, &w);
	reader(&r);
	pthread_join(t, NULL);
	if (!w.err && !r.err)
		return 0;
	snprintf(what, wlen, "%s%s%s", w.err ? w.what : "",
		 w.err && r.err ? "; " : "", r.err ? r.what : "");
	return -1;
}

/*
 * Read and verify PDUs (pattern of x) until EOF or an error.  Only
 * complete messages are ever queued, so EOF must fall on a PDU boundary.
 * Returns the PDUs read; *end is 0 for EOF, else the errno.
 */
static unsigned int drain(struct xfer *x, int *end)
{
	uint8_t *buf = malloc(MAX_FRAG + 4);
	unsigned int i;
	size_t len, got, j;
	ssize_t n;

	for (i = 0;; i++) {
		n = recv(x->fd, buf, 4, MSG_WAITALL);
		if (n == 0 || (n < 0 && errno != EINTR)) {
			*end = n ? errno : 0;
			break;
		}
		CHECK(n == 4, "pdu %u: short header read %zd (EOF inside a "
		      "header)", i, n);
		len = pdu_len(x, i);
		got = (size_t)buf[1] << 16 | buf[2] << 8 | buf[3];
		CHECK(buf[0] == 0 && got == len, "pdu %u: header %02x len %zu,"
		      " want %zu", i, buf[0], got, len);
		/*
		 * The bytes of a PDU are readable as they arrive; a stream
		 * cut inside one ends with ECONNRESET, never a clean EOF.
		 */
		if (read_full(x->fd, buf, len, RANDOM)) {
			CHECK(errno == ECONNRESET,
			      "pdu %u: body cut short after its header: %s", i,
			      strerror(errno));
			*end = errno;
			break;
		}
		for (j = 0; j < len; j++)
			CHECK(buf[j] == pat(i, j, x->seed),
			      "pdu %u byte %zu: %02x want %02x", i, j, buf[j],
			      pat(i, j, x->seed));
	}
	free(buf);
	return i;
}

/* ---- many64: 64 connections carrying data at the same time ---- */

struct many64 {
	int c, s;
	pthread_barrier_t *go;
	struct smbdirect_info ci, si;
};

static const size_t many64_lens[] = { 1, 1341, 20000, 2680, 7 };
enum { MANY64_N = 64, MANY64_PDUS = 10 };

static void *many64_one(void *arg)
{
	struct many64 *m = arg;

	pthread_barrier_wait(m->go);
	transfer(m->c, m->s, MANY64_PDUS, many64_lens, 5, RANDOM, 1);
	m->ci = info_of(m->c);
	m->si = info_of(m->s);
	return NULL;
}

static void t_many64(void)
{
	static struct many64 m[MANY64_N];
	pthread_barrier_t go;
	pthread_t t[MANY64_N];
	uint64_t want = 0;
	int l = listener(MANY64_N), i, fd;

	for (i = 0; i < MANY64_PDUS; i++)
		want += many64_lens[i % 5];
	pthread_barrier_init(&go, NULL, MANY64_N);
	for (i = 0; i < MANY64_N; i++) {
		fd = sock_new();
		CHECK(!connect(fd, (void *)&srv, srvlen),
		      "connect %d of %d: %s (open: %d pairs)", i + 1,
		      MANY64_N, strerror(errno), i);
		m[i].c = fd;
		m[i].s = acceptor(l);
		m[i].go = &go;
		CHECK(info_of(m[i].c).state == 6 && info_of(m[i].s).state == 6,
		      "pair %d not connected", i);
	}
	for (i = 0; i < MANY64_N; i++)
		CHECK(!pthread_create(&t[i], NULL, many64_one, &m[i]),
		      "pthread_create %d", i);
	for (i = 0; i < MANY64_N; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < MANY64_N; i++) {
		CHECK(m[i].ci.tx_bytes == want && m[i].si.rx_bytes == want &&
		      m[i].si.tx_bytes == want && m[i].ci.rx_bytes == want,
		      "pair %d counters: c tx %llu rx %llu, s tx %llu rx %llu,"
		      " want %llu", i, (unsigned long long)m[i].ci.tx_bytes,
		      (unsigned long long)m[i].ci.rx_bytes,
		      (unsigned long long)m[i].si.tx_bytes,
		      (unsigned long long)m[i].si.rx_bytes,
		      (unsigned long long)want);
		close(m[i].c);
		close(m[i].s);
	}
	close(l);
}

/* ---- fork: the connection belongs to the socket, not the process ---- */

static void t_fork(void)
{
	static const size_t lens[] = { 1, 1340, 1341, 30000, 5 };
	static const size_t half_len = 5000;
	uint8_t *pdu = malloc(half_len + 4);
	char what[400];
	int l, c, s, st, ev;
	pid_t pid, mid, g;
	struct xfer r = { 0 };
	size_t j;

	/* 1: the child carries on, the parent closes its copy at once. */
	pair(&l, &c, &s);
	transfer(c, s, 10, lens, 5, RANDOM, 1);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (!pid) {
		close(s);
		close(l);
		if (exchange(c, 15, lens, 5, 11, 12, what, sizeof(what))) {
			fprintf(stderr, "sdtest: child: %s\n", what);
			_exit(1);
		}
		_exit(info_of(c).state == 6 ? 0 : 2);
	}
	close(c);
	CHECK(!exchange(s, 15, lens, 5, 12, 11, what, sizeof(what)),
	      "parent after fork: %s", what);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "child failed (status %#x)", st);
	ev = revents(s, POLLIN, 10000);
	CHECK(ev & POLLIN, "no EOF within 10 s of the child's exit: %#x", ev);
	CHECK(recv(s, what, 1, 0) == 0, "no EOF after the child's exit: %s",
	      strerror(errno));
	close(s);

	/*
	 * 2: the parent exits first.  The middle process exchanges data,
	 * writes half of a PDU, forks and exits; its child (reparented to us,
	 * the subreaper) finishes the PDU and carries on.
	 */
	CHECK(!prctl(PR_SET_CHILD_SUBREAPER, 1), "subreaper: %s",
	      strerror(errno));
	c = client();
	s = acceptor(l);
	pdu[0] = 0;
	pdu[1] = half_len >> 16;
	pdu[2] = half_len >> 8;
	pdu[3] = (uint8_t)half_len;
	for (j = 0; j < half_len; j++)
		pdu[4 + j] = pat(0, j, 23);
	mid = fork();
	CHECK(mid >= 0, "fork");
	if (!mid) {
		pid_t me = getpid();

		close(s);
		close(l);
		if (exchange(c, 6, lens, 5, 21, 22, what, sizeof(what))) {
			fprintf(stderr, "sdtest: middle: %s\n", what);
			_exit(1);
		}
		if (write_all(c, pdu, 4 + half_len / 2))
			_exit(3);
		g = fork();
		if (g < 0)
			_exit(4);
		if (!g) {
			/* Wait until the parent is really gone. */
			while (getppid() == me)
				usleep(1000);
			if (write_all(c, pdu + 4 + half_len / 2,
				      half_len - half_len / 2))
				_exit(5);
			if (exchange(c, 6, lens, 5, 24, 25, what,
				     sizeof(what))) {
				fprintf(stderr, "sdtest: grandchild: %s\n",
					what);
				_exit(6);
			}
			_exit(info_of(c).state == 6 ? 0 : 7);
		}
		_exit(0);
	}
	close(c);
	CHECK(!exchange(s, 6, lens, 5, 22, 21, what, sizeof(what)),
	      "before the hand-off: %s", what);
	CHECK(waitpid(mid, &st, 0) == mid && WIFEXITED(st) && !WEXITSTATUS(st),
	      "middle process failed (status %#x)", st);
	r.fd = s;
	r.n = 1;
	r.lens = &half_len;
	r.nlens = 1;
	r.split = RANDOM;
	r.seed = 23;
	reader(&r);
	CHECK(!r.err, "PDU split across the exiting parent: %s", r.what);
	CHECK(!exchange(s, 6, lens, 5, 25, 24, what, sizeof(what)),
	      "after the parent exited: %s", what);
	pid = waitpid(-1, &st, 0);
	CHECK(pid > 0 && WIFEXITED(st) && !WEXITSTATUS(st),
	      "grandchild failed (pid %d status %#x)", pid, st);
	ev = revents(s, POLLIN, 10000);
	CHECK(ev & POLLIN, "no EOF within 10 s of the grandchild's exit: %#x",
	      ev);
	CHECK(recv(s, what, 1, 0) == 0, "no EOF after the grandchild's exit");
	free(pdu);
	close(s);
	close(l);
}

/* ---- kill: the peer process dies with writes pending ---- */

#define KILL_DEADLINE	5.0	/* seconds from SIGKILL to EOF/HUP */

struct drainer {
	struct xfer x;
	unsigned int pdus;
	int end;
	double t_end;
	volatile int done;
};

static void *drain_thread(void *arg)
{
	struct drainer *d = arg;

	d->pdus = drain(&d->x, &d->end);
	d->t_end = now_s();
	d->done = 1;
	return NULL;
}

static pid_t kill_child(int c, int s, int l, unsigned int seed,
			const size_t *lens, unsigned int nlens)
{
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (!pid) {
		struct xfer w = { c, 1u << 30, lens, nlens, RANDOM, seed };

		close(s);
		close(l);
		writer(&w);	/* never returns while the peer is alive */
		_exit(2);
	}
	close(c);
	return pid;
}

static void reaped(pid_t pid, double t0, const char *what)
{
	int st = 0;
	double t;

	CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
	t = now_s() - t0;
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	      "%s: child status %#x", what, st);
	CHECK(t < KILL_DEADLINE, "%s: the killed child took %.1f s to exit",
	      what, t);
}

static int end_ok(int end)
{
	return end == 0 || end == ECONNRESET;
}

static void t_kill(void)
{
	static const size_t lens[] = { 70000, 1, 1341, 300000, 4000 };
	struct drainer d = { 0 };
	struct xfer pw = { 0 };
	pthread_t t, tw;
	struct timespec ts;
	int l, c, s, ev, k;
	double t0, dt;
	pid_t pid;
	uint8_t b[8];

	/*
	 * A: the reader keeps reading while the writer is killed in the
	 * middle of its stream.  Everything complete arrives intact, then
	 * EOF (or ECONNRESET) at a PDU boundary, within seconds.
	 */
	pair(&l, &c, &s);
	pid = kill_child(c, s, l, 31, lens, 5);
	d.x.fd = s;
	d.x.n = 1u << 30;
	d.x.lens = lens;
	d.x.nlens = 5;
	d.x.seed = 31;
	pthread_create(&t, NULL, drain_thread, &d);
	usleep(1500000);
	CHECK(!d.done, "reader ended before the kill: %s",
	      strerror(d.end));
	kill(pid, SIGKILL);
	t0 = now_s();
	reaped(pid, t0, "A");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	CHECK(!pthread_timedjoin_np(t, NULL, &ts),
	      "A: reader still blocked 20 s after SIGKILL");
	printf("A: %u PDUs, then %s after %.2f s\n", d.pdus,
	       d.end ? strerror(d.end) : "EOF", d.t_end - t0);
	CHECK(d.pdus > 0, "A: nothing arrived before the kill");
	CHECK(end_ok(d.end), "A: reader ended with %s", strerror(d.end));
	CHECK(d.t_end - t0 < KILL_DEADLINE, "A: EOF %.1f s after SIGKILL",
	      d.t_end - t0);
	ev = revents(s, POLLIN | POLLOUT | POLLRDHUP, 0);
	CHECK((ev & POLLIN) && (ev & POLLHUP) && (ev & POLLRDHUP),
	      "A: revents after EOF %#x", ev);
	CHECK(send(s, (uint8_t[]){ 0, 0, 0, 1, 1 }, 5, MSG_NOSIGNAL) < 0 &&
	      (errno == EPIPE || errno == ECONNRESET),
	      "A: write to the dead peer: %s", strerror(errno));
	close(s);

	/*
	 * B: nobody reads: both ends are blocked in writes (credits and
	 * receive buffers exhausted) when the child is killed.  Our blocked
	 * writer must fail, poll must show the hang-up and the queued data,
	 * and the data that arrived must read back intact up to EOF.
	 */
	c = client();
	s = acceptor(l);
	pid = kill_child(c, s, l, 41, lens, 5);
	pw.fd = s;
	pw.n = 1u << 30;
	pw.lens = lens;
	pw.nlens = 5;
	pw.split = RANDOM;
	pw.seed = 42;
	pthread_create(&tw, NULL, writer, &pw);
	/*
	 * Until our writer is stopped by back-pressure for good: a few
	 * messages may still trickle past SO_RCVBUF (afsmbd_credit_unhold),
	 * so wait for a full second without write space.
	 */
	t0 = now_s();
	for (k = 0; k < 5 && now_s() - t0 < 30;) {
		usleep(200000);
		ev = revents(s, POLLIN | POLLOUT, 0);
		k = (ev & POLLOUT) ? 0 : k + 1;
	}
	CHECK((ev & POLLIN) && !(ev & (POLLOUT | POLLHUP | POLLERR)),
	      "B: before the kill, revents %#x (want IN, not OUT)", ev);
	kill(pid, SIGKILL);
	t0 = now_s();
	for (;;) {
		ev = revents(s, POLLIN | POLLRDHUP, 200);
		dt = now_s() - t0;
		if ((ev & (POLLHUP | POLLERR)) || dt > 30)
			break;
	}
	printf("B: revents %#x after %.2f s\n", ev, dt);
	CHECK(ev & (POLLHUP | POLLERR), "B: no POLLHUP/POLLERR 30 s after "
	      "SIGKILL");
	CHECK(dt < KILL_DEADLINE, "B: POLLHUP/POLLERR only %.1f s after "
	      "SIGKILL", dt);
	CHECK(ev & POLLIN, "B: hang-up without POLLIN (data queued): %#x",
	      ev);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	CHECK(!pthread_timedjoin_np(tw, NULL, &ts),
	      "B: our blocked writer is still blocked after the hang-up");
	CHECK(pw.err == EPIPE || pw.err == ECONNRESET,
	      "B: blocked writer ended with %s", strerror(pw.err));
	reaped(pid, t0, "B");
	d.x.fd = s;
	d.x.seed = 41;
	d.pdus = drain(&d.x, &d.end);
	printf("B: drained %u PDUs, then %s\n", d.pdus,
	       d.end ? strerror(d.end) : "EOF");
	CHECK(d.pdus > 0, "B: no data was queued");
	CHECK(end_ok(d.end), "B: reader ended with %s", strerror(d.end));
	CHECK(recv(s, b, sizeof(b), MSG_DONTWAIT) <= 0, "B: data after EOF");
	close(s);
	close(l);
}

/* ---- lclose: listener closed with connections it never accepted ---- */

#define LCLOSE_READY	4
#define LCLOSE_NB	4

static int lclose_errno_ok(int e)
{
	return e == ECONNRESET || e == ECONNREFUSED || e == ECONNABORTED ||
	       e == EPIPE;
}

/* A connected client whose server side went away: EOF or an error. */
static const char *lclose_dead(int fd, double t0, const char *who, int i)
{
	static char r[64];
	uint8_t b[8];
	ssize_t n;
	int ev;

	ev = revents(fd, POLLIN | POLLRDHUP, 10000);
	CHECK(ev & (POLLHUP | POLLERR), "%s %d: no POLLHUP/POLLERR within "
	      "10 s of the listener's close: %#x", who, i, ev);
	CHECK(now_s() - t0 < 5.0, "%s %d: hang-up %.1f s after close", who,
	      i, now_s() - t0);
	n = recv(fd, b, sizeof(b), 0);
	CHECK(n == 0 || (n < 0 && lclose_errno_ok(errno)),
	      "%s %d: recv %zd %s", who, i, n, n < 0 ? strerror(errno) : "");
	CHECK(send(fd, (uint8_t[]){ 0, 0, 0, 1, 1 }, 5, MSG_NOSIGNAL) < 0 &&
	      lclose_errno_ok(errno), "%s %d: send after hang-up: %s", who,
	      i, strerror(errno));
	snprintf(r, sizeof(r), "%s", n == 0 ? "EOF" : strerror(errno));
	return r;
}

/*
 * One round: LCLOSE_READY negotiated clients (one with a PDU waiting on
 * its unaccepted peer) and LCLOSE_NB still connecting when the listener
 * is closed.  The last ones negotiate just before the close, so their
 * server side may not even have seen its CM's ESTABLISHED yet.
 */
static void lclose_round(int round)
{
	struct sockaddr_storage a;
	int l, rc[LCLOSE_READY], nb[LCLOSE_NB], i, one = 1, err, ev;
	socklen_t sl;
	double t0;

	l = sock_new();
	CHECK(!setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
	      "SO_REUSEADDR: %s", strerror(errno));
	CHECK(!bind(l, (void *)&srv, srvlen), "round %d: bind: %s", round,
	      strerror(errno));
	CHECK(!listen(l, 16), "listen: %s", strerror(errno));
	sl = sizeof(a);
	CHECK(!getsockname(l, (void *)&a, &sl), "getsockname");
	*port_of(&srv) = *port_of(&a);

	for (i = 0; i < LCLOSE_READY; i++)
		rc[i] = client();
	CHECK(write_all(rc[0], (uint8_t[]){ 0, 0, 0, 2, 'h', 'i' }, 6) == 0,
	      "write: %s", strerror(errno));
	for (i = 0; i < LCLOSE_NB; i++) {
		nb[i] = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, proto);
		CHECK(nb[i] >= 0, "socket");
		CHECK(connect(nb[i], (void *)&srv, srvlen) < 0 &&
		      errno == EINPROGRESS, "non-blocking connect %d: %s", i,
		      strerror(errno));
	}
	close(l);
	t0 = now_s();

	for (i = 0; i < LCLOSE_READY; i++)
		printf("round %d ready %d: %s\n", round, i,
		       lclose_dead(rc[i], t0, "ready client", i));
	for (i = 0; i < LCLOSE_NB; i++) {
		ev = wait_connect(nb[i], &err);
		CHECK(now_s() - t0 < 5.0, "connecting client %d: completion "
		      "%.1f s after close (SO_ERROR %d)", i, now_s() - t0,
		      err);
		if (err) {
			CHECK(lclose_errno_ok(err) && (ev & POLLERR),
			      "connecting client %d: SO_ERROR %s revents %#x",
			      i, strerror(err), ev);
			printf("round %d connecting %d: %s\n", round, i,
			       strerror(err));
		} else {
			printf("round %d connecting %d: connected, then %s\n",
			       round, i,
			       lclose_dead(nb[i], t0, "connecting client", i));
		}
	}
	for (i = 0; i < LCLOSE_READY; i++)
		close(rc[i]);
	for (i = 0; i < LCLOSE_NB; i++)
		close(nb[i]);
}

static void t_lclose(void)
{
	static const size_t len = 3000;
	int l, c, s, one = 1, i;

	/* Every round rebinds the port of the first (SO_REUSEADDR). */
	*port_of(&srv) = 0;
	for (i = 0; i < 3; i++)
		lclose_round(i);

	/* The port is free again for a new listener that works. */
	l = sock_new();
	CHECK(!setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)),
	      "SO_REUSEADDR: %s", strerror(errno));
	CHECK(!bind(l, (void *)&srv, srvlen), "bind the same port again: %s",
	      strerror(errno));
	CHECK(!listen(l, 4), "listen again: %s", strerror(errno));
	c = client();
	s = acceptor(l);
	transfer(c, s, 4, &len, 1, RANDOM, 1);
	close3(l, c, s);
}

/* ---- integrity: 1 byte to MaxFragmentedSize, random splits, both ways ---- */

static uint32_t xs_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

struct istream {
	int fd;
	uint8_t *buf;		/* the whole Direct-TCP stream */
	size_t len;
	size_t *pdu_off;	/* offset of each PDU's header */
	size_t *pdu_len;
	unsigned int npdu;
	uint64_t body, frags;
	uint32_t rng;		/* split choices */
	size_t payload;		/* fragment payload of the sender */
	volatile size_t off;	/* progress, for the stall watchdog */
	int err;
	char what[200];
};

static void istream_build(struct istream *st, const size_t *lens,
			  unsigned int n, uint32_t seed)
{
	size_t off = 0, j;
	unsigned int i;
	uint32_t x;

	st->len = 0;
	for (i = 0; i < n; i++)
		st->len += 4 + lens[i];
	st->buf = malloc(st->len);
	st->pdu_off = calloc(n, sizeof(size_t));
	st->pdu_len = calloc(n, sizeof(size_t));
	CHECK(st->buf && st->pdu_off && st->pdu_len, "out of memory");
	st->npdu = n;
	for (i = 0; i < n; i++) {
		st->pdu_off[i] = off;
		st->pdu_len[i] = lens[i];
		st->buf[off] = 0;
		st->buf[off + 1] = lens[i] >> 16;
		st->buf[off + 2] = lens[i] >> 8;
		st->buf[off + 3] = lens[i];
		x = seed ^ ((i + 1) * 0x9e3779b9u);
		if (!x)
			x = 1;
		for (j = 0; j < lens[i]; j++)
			st->buf[off + 4 + j] = xs_next(&x) >> 24;
		off += 4 + lens[i];
		st->body += lens[i];
		st->frags += (lens[i] + st->payload - 1) / st->payload;
	}
}

/* Which PDU holds stream offset off. */
static unsigned int istream_pdu(struct istream *st, size_t off)
{
	unsigned int lo = 0, hi = st->npdu;

	while (hi - lo > 1) {
		unsigned int mid = (lo + hi) / 2;

		if (st->pdu_off[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* A chunk size: tiny (headers split), small, around fragments, huge. */
static size_t isplit(struct istream *st, size_t left)
{
	uint32_t r = xs_next(&st->rng);
	size_t n;

	switch (r % 7) {
	case 0: n = 1 + (r >> 8) % 3; break;
	case 1: n = 1 + (r >> 8) % 64; break;
	case 2: n = 1 + (r >> 8) % 5000; break;
	case 3: n = st->payload - 1 + (r >> 8) % 3; break;
	case 4: n = 1 + (r >> 8) % (3 * st->payload); break;
	case 5: n = 1 + (r >> 8) % (2 * MAX_FRAG); break;
	default: n = left; break;
	}
	return n < left ? n : left;
}

static void *iwriter(void *arg)
{
	struct istream *st = arg;
	size_t off = 0;

	while (off < st->len) {
		size_t n = isplit(st, st->len - off), a, b;
		struct iovec iov[3];
		struct msghdr m = { .msg_iov = iov };
		ssize_t k;

		/* Up to three iovecs per call. */
		a = n > 2 ? xs_next(&st->rng) % n : n;
		b = n - a > 1 ? xs_next(&st->rng) % (n - a) : n - a;
		iov[0] = (struct iovec){ st->buf + off, a };
		iov[1] = (struct iovec){ st->buf + off + a, b };
		iov[2] = (struct iovec){ st->buf + off + a + b, n - a - b };
		m.msg_iovlen = 3;
		k = sendmsg(st->fd, &m, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			st->err = errno;
			snprintf(st->what, sizeof(st->what),
				 "write at %zu (pdu %u): %s", off,
				 istream_pdu(st, off), strerror(errno));
			return NULL;
		}
		off += k;
		st->off = off;
	}
	return NULL;
}

static void *ireader(void *arg)
{
	struct istream *st = arg;
	uint8_t *b = malloc(2 * MAX_FRAG), *p = malloc(2 * MAX_FRAG);
	size_t off = 0, i;

	while (off < st->len) {
		size_t n = isplit(st, st->len - off);
		uint32_t r = xs_next(&st->rng);

		if (n > 2 * MAX_FRAG)
			n = 2 * MAX_FRAG;	/* the size of b and p */
		int flags = r % 8 == 0 ? MSG_WAITALL : 0;
		ssize_t k, pk = -1;

		if (r % 16 == 1) {
			/* Peek, then read what was peeked. */
			pk = recv(st->fd, p, n, MSG_PEEK);
			if (pk > 0) {
				n = pk;
				flags = MSG_WAITALL;
			}
		}
		k = recv(st->fd, b, n, flags);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || (flags & MSG_WAITALL && (size_t)k != n)) {
			st->err = k ? errno : ENODATA;
			snprintf(st->what, sizeof(st->what),
				 "read %zu at %zu (pdu %u): got %zd %s", n,
				 off, istream_pdu(st, off), k,
				 k ? strerror(errno) : "EOF");
			break;
		}
		if (pk > 0 && memcmp(p, b, k)) {
			st->err = EBADMSG;
			snprintf(st->what, sizeof(st->what),
				 "peeked bytes at %zu differ from the read",
				 off);
			break;
		}
		if (memcmp(b, st->buf + off, k)) {
			unsigned int pdu;

			for (i = 0; b[i] == st->buf[off + i]; i++)
				;
			pdu = istream_pdu(st, off + i);
			st->err = EBADMSG;
			snprintf(st->what, sizeof(st->what),
				 "byte %zu of the stream (pdu %u of %zu "
				 "bytes, offset %zd): %02x want %02x",
				 off + i, pdu, st->pdu_len[pdu],
				 (ssize_t)(off + i - st->pdu_off[pdu]) - 4,
				 b[i], st->buf[off + i]);
			break;
		}
		off += k;
		st->off = off;
	}
	if (!st->err && recv(st->fd, b, 1, MSG_DONTWAIT) != -1) {
		st->err = EBADMSG;
		snprintf(st->what, sizeof(st->what), "extra data after the "
			 "stream");
	}
	free(b);
	free(p);
	return NULL;
}

static unsigned int opt_seed;

/* No progress for 30 s: show where each side stands, then fail. */
struct iwatch {
	struct istream *w, *r;	/* [2] each */
	volatile int done;
};

static void iwatch_info(const char *who, int fd)
{
	struct smbdirect_info i = info_of(fd);

	fprintf(stderr, "  %s: state %u send_credits %u recv_credits %u "
		"recv_posted %u credit_waits %llu tx_msgs %llu rx_msgs %llu "
		"empty %llu\n", who, i.state, i.send_credits, i.recv_credits,
		i.recv_posted, (unsigned long long)i.credit_waits,
		(unsigned long long)i.tx_msgs, (unsigned long long)i.rx_msgs,
		(unsigned long long)i.tx_empty_msgs);
}

static void *iwatchdog(void *arg)
{
	struct iwatch *wd = arg;
	size_t last = (size_t)-1, cur;
	int idle = 0, i;

	while (!wd->done) {
		sleep(1);
		cur = wd->w[0].off + wd->w[1].off + wd->r[0].off + wd->r[1].off;
		idle = cur == last ? idle + 1 : 0;
		last = cur;
		if (idle < 30)
			continue;
		fprintf(stderr, "sdtest: integrity stalled for 30 s\n");
		for (i = 0; i < 2; i++)
			fprintf(stderr, "  %s: written %zu, read %zu of %zu "
				"(reader in pdu %u)\n", i ? "s->c" : "c->s",
				wd->w[i].off, wd->r[i].off, wd->w[i].len,
				istream_pdu(&wd->r[i], wd->r[i].off));
		iwatch_info("c", wd->w[0].fd);
		iwatch_info("s", wd->w[1].fd);
		die("integrity: no progress (seed %u)", opt_seed);
	}
	return NULL;
}

/* The sizes one direction carries, shuffled. */
static unsigned int isizes(size_t *v, size_t p, size_t max, uint32_t *rng)
{
	const size_t fixed[] = {
		1, 2, 3, 4, 5, p - 1, p, p + 1, 2 * p - 1, 2 * p, 2 * p + 1,
		3 * p + 1, 65535, 65536, 65537, max / 2, max / p * p - 1,
		max / p * p, max / p * p + 1, max - p, max - 1, max,
	};
	unsigned int n = 0, i, j;
	size_t t;

	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (fixed[i] >= 1 && fixed[i] <= max)
			v[n++] = fixed[i];
	for (i = 0; i < 24; i++)
		v[n++] = 1 + xs_next(rng) % (4 * p);
	for (i = 0; i < 3; i++)
		v[n++] = 1 + xs_next(rng) % max;
	for (i = n - 1; i > 0; i--) {
		j = xs_next(rng) % (i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
	return n;
}

static void t_integrity(void)
{
	struct smbdirect_info ci0, si0, ci1, si1;
	struct istream d[2] = { 0 }, r[2];
	struct iwatch wd = { 0 };
	pthread_t twd;
	size_t lens[2][64];
	unsigned int n[2], i;
	pthread_t t[4];
	struct timespec ts;
	uint32_t seed;
	uint32_t rng;
	int l, c, s;
	double t0;

	clock_gettime(CLOCK_REALTIME, &ts);
	seed = opt_seed ? opt_seed :
	       (uint32_t)(ts.tv_nsec ^ ts.tv_sec * 2654435761u ^ getpid() << 16);
	rng = seed ? seed : 1;
	printf("seed %u (sdtest -s %u integrity)\n", seed, seed);
	fflush(stdout);
	pair(&l, &c, &s);
	ci0 = info_of(c);
	si0 = info_of(s);
	CHECK(ci0.max_send_size > 24 && si0.max_send_size > 24 &&
	      ci0.max_fragmented_send_size >= 131072 &&
	      si0.max_fragmented_send_size >= 131072 &&
	      ci0.max_fragmented_send_size <= MAX_FRAG &&
	      si0.max_fragmented_send_size <= MAX_FRAG,
	      "negotiated sizes: send %u/%u fragmented %u/%u",
	      ci0.max_send_size, si0.max_send_size,
	      ci0.max_fragmented_send_size, si0.max_fragmented_send_size);
	d[0].fd = c;
	d[0].payload = ci0.max_send_size - 24;
	d[1].fd = s;
	d[1].payload = si0.max_send_size - 24;
	n[0] = isizes(lens[0], d[0].payload, ci0.max_fragmented_send_size,
		      &rng);
	n[1] = isizes(lens[1], d[1].payload, si0.max_fragmented_send_size,
		      &rng);
	for (i = 0; i < 2; i++) {
		istream_build(&d[i], lens[i], n[i], seed + i);
		d[i].rng = seed * 3 + i + 1;
		r[i] = d[i];
		r[i].fd = d[i ^ 1].fd;
		r[i].rng = seed * 5 + i + 1;
	}
	t0 = now_s();
	opt_seed = seed;
	wd.w = d;
	wd.r = r;
	pthread_create(&twd, NULL, iwatchdog, &wd);
	for (i = 0; i < 2; i++) {
		pthread_create(&t[2 * i], NULL, iwriter, &d[i]);
		pthread_create(&t[2 * i + 1], NULL, ireader, &r[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	wd.done = 1;
	pthread_join(twd, NULL);
	for (i = 0; i < 2; i++) {
		CHECK(!d[i].err, "%s writer: %s", i ? "s->c" : "c->s",
		      d[i].what);
		CHECK(!r[i].err, "%s reader: %s", i ? "s->c" : "c->s",
		      r[i].what);
	}
	printf("%zu + %zu bytes in %.1f s\n", d[0].len, d[1].len,
	       now_s() - t0);
	ci1 = info_of(c);
	si1 = info_of(s);
	/* Payload bytes and data messages: exactly one per full fragment. */
	CHECK(ci1.tx_bytes - ci0.tx_bytes == d[0].body &&
	      si1.rx_bytes - si0.rx_bytes == d[0].body &&
	      si1.tx_bytes - si0.tx_bytes == d[1].body &&
	      ci1.rx_bytes - ci0.rx_bytes == d[1].body,
	      "payload counters c tx %llu rx %llu s tx %llu rx %llu, want "
	      "%llu and %llu",
	      (unsigned long long)(ci1.tx_bytes - ci0.tx_bytes),
	      (unsigned long long)(ci1.rx_bytes - ci0.rx_bytes),
	      (unsigned long long)(si1.tx_bytes - si0.tx_bytes),
	      (unsigned long long)(si1.rx_bytes - si0.rx_bytes),
	      (unsigned long long)d[0].body, (unsigned long long)d[1].body);
	CHECK((ci1.tx_msgs - ci1.tx_empty_msgs) -
	      (ci0.tx_msgs - ci0.tx_empty_msgs) == d[0].frags &&
	      (si1.tx_msgs - si1.tx_empty_msgs) -
	      (si0.tx_msgs - si0.tx_empty_msgs) == d[1].frags,
	      "data messages c %llu s %llu, want %llu and %llu",
	      (unsigned long long)((ci1.tx_msgs - ci1.tx_empty_msgs) -
				   (ci0.tx_msgs - ci0.tx_empty_msgs)),
	      (unsigned long long)((si1.tx_msgs - si1.tx_empty_msgs) -
				   (si0.tx_msgs - si0.tx_empty_msgs)),
	      (unsigned long long)d[0].frags, (unsigned long long)d[1].frags);
	for (i = 0; i < 2; i++) {
		free(d[i].buf);
		free(d[i].pdu_off);
		free(d[i].pdu_len);
	}
	close3(l, c, s);
}

/* Hold a connected pair open until killed (module unload test). */
static void t_hold(void)
{
	int l, c, s;

	pair(&l, &c, &s);
	printf("holding\n");
	fflush(stdout);
	pause();
}

/* ---- splice: sendfile(2) and splice(2) both ways ---- */

#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY	0x4000000
#endif

/* The Direct-TCP stream of PDUs lens[0..n) with the pattern of seed. */
static uint8_t *stream_of(const size_t *lens, unsigned int n,
			  unsigned int seed, size_t *total)
{
	size_t off = 0, j;
	unsigned int i;
	uint8_t *b;

	for (i = 0, *total = 0; i < n; i++)
		*total += 4 + lens[i];
	b = malloc(*total);
	CHECK(b, "out of memory");
	for (i = 0; i < n; i++) {
		b[off] = 0;
		b[off + 1] = lens[i] >> 16;
		b[off + 2] = lens[i] >> 8;
		b[off + 3] = lens[i];
		for (j = 0; j < lens[i]; j++)
			b[off + 4 + j] = pat(i, j, seed);
		off += 4 + lens[i];
	}
	return b;
}

static int tmpfile_with(const uint8_t *b, size_t len)
{
	char name[] = "/tmp/sdtest-splice-XXXXXX";
	int fd = mkstemp(name);

	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	unlink(name);
	CHECK(!len || write(fd, b, len) == (ssize_t)len, "write tmpfile: %s",
	      strerror(errno));
	return fd;
}

struct rthread {
	pthread_t t;
	struct xfer x;
};

static void rthread_start(struct rthread *r, int fd, const size_t *lens,
			  unsigned int n, unsigned int seed)
{
	memset(r, 0, sizeof(*r));
	r->x.fd = fd;
	r->x.n = n;
	r->x.lens = lens;
	r->x.nlens = n;
	r->x.split = RANDOM;
	r->x.seed = seed;
	pthread_create(&r->t, NULL, reader, &r->x);
}

static void rthread_check(struct rthread *r, const char *what)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	CHECK(!pthread_timedjoin_np(r->t, NULL, &ts),
	      "%s: the reader got nothing for 60 s", what);
	CHECK(!r->x.err, "%s: peer read: %s", what, r->x.what);
}

static void t_splice(void)
{
	static const size_t lens[] = { 1, 1340, 1341, 4096, 70000, 300000, 5 };
	const unsigned int n = sizeof(lens) / sizeof(lens[0]);
	struct rthread rt;
	uint8_t *want, *got;
	size_t total, done;
	int l, c, s, fd, out, p[2];
	off_t off;
	ssize_t k;

	pair(&l, &c, &s);
	CHECK(!pipe(p), "pipe: %s", strerror(errno));

	/* 1: sendfile(2), file -> socket. */
	want = stream_of(lens, n, 51, &total);
	fd = tmpfile_with(want, total);
	rthread_start(&rt, s, lens, n, 51);
	for (off = 0; off < (off_t)total;) {
		k = sendfile(c, fd, &off, total - off);
		CHECK(k > 0, "sendfile at %lld of %zu: %s", (long long)off,
		      total, k < 0 ? strerror(errno) : "returned 0");
	}
	rthread_check(&rt, "sendfile");
	close(fd);
	free(want);

	/* 2: splice(2), file -> pipe -> socket. */
	want = stream_of(lens, n, 52, &total);
	fd = tmpfile_with(want, total);
	rthread_start(&rt, c, lens, n, 52);
	for (off = 0; off < (off_t)total;) {
		k = splice(fd, &off, p[1], NULL, total - off, SPLICE_F_MOVE);
		CHECK(k > 0, "splice file -> pipe: %s", strerror(errno));
		while (k > 0) {
			ssize_t m = splice(p[0], NULL, s, NULL, k,
					   SPLICE_F_MOVE);

			CHECK(m > 0, "splice pipe -> socket at %lld: %s",
			      (long long)off, m < 0 ? strerror(errno) :
			      "returned 0");
			k -= m;
		}
	}
	rthread_check(&rt, "splice file -> pipe -> socket");
	close(fd);
	free(want);

	/* 3: splice(2), socket -> pipe -> file, byte-exact. */
	{
		struct xfer w = { s, n, lens, n, RANDOM, 53 };

		want = stream_of(lens, n, 53, &total);
		out = tmpfile_with(NULL, 0);
		pthread_create(&rt.t, NULL, writer, &w);
		for (done = 0; done < total;) {
			k = splice(c, NULL, p[1], NULL, total - done,
				   SPLICE_F_MOVE);
			CHECK(k > 0, "splice socket -> pipe at %zu of %zu: %s",
			      done, total, k < 0 ? strerror(errno) : "EOF");
			while (k > 0) {
				ssize_t m = splice(p[0], NULL, out, NULL, k,
						   SPLICE_F_MOVE);

				CHECK(m > 0, "splice pipe -> file: %s",
				      strerror(errno));
				k -= m;
				done += m;
			}
		}
		pthread_join(rt.t, NULL);
		CHECK(!w.err, "writer: %s", w.what);
		got = malloc(total);
		CHECK(pread(out, got, total, 0) == (ssize_t)total,
		      "read back the file: %s", strerror(errno));
		for (done = 0; done < total && got[done] == want[done]; done++)
			;
		CHECK(done == total, "spliced file differs at byte %zu of %zu",
		      done, total);
		close(out);
		free(got);
		free(want);
	}
	close(p[0]);
	close(p[1]);
	close3(l, c, s);
}

/*
 * Send flags a stream socket accepts: MSG_ZEROCOPY without SO_ZEROCOPY is
 * ignored (as TCP does), MSG_WAITALL means nothing on send.
 */
static void t_sendflags(void)
{
	static const size_t lens[] = { 3000, 100000, 7, 1341 };
	static const int flags[] = { MSG_ZEROCOPY, MSG_WAITALL,
				     MSG_ZEROCOPY | MSG_WAITALL, MSG_MORE };
	static const char *const names[] = { "MSG_ZEROCOPY", "MSG_WAITALL",
					     "MSG_ZEROCOPY|MSG_WAITALL",
					     "MSG_MORE" };
	struct rthread rt;
	uint8_t *b;
	size_t total, off = 0;
	unsigned int i;
	int l, c, s;
	ssize_t k;

	pair(&l, &c, &s);
	b = stream_of(lens, 4, 61, &total);
	rthread_start(&rt, s, lens, 4, 61);
	for (i = 0; i < 4; i++) {
		size_t len = 4 + lens[i], d = 0;

		while (d < len) {
			k = send(c, b + off + d, len - d,
				 flags[i] | MSG_NOSIGNAL);
			CHECK(k > 0, "send with %s: %s", names[i],
			      k < 0 ? strerror(errno) : "returned 0");
			d += k;
		}
		off += len;
	}
	rthread_check(&rt, "send flags");
	free(b);
	close3(l, c, s);
}

/* ---- lshutdown: shutdown(2) on a listener, as TCP ---- */

struct blocked_accept {
	pthread_t t;
	int l, ret, err;
	double t_end;
	volatile int done;
};

static void *blocked_accept_fn(void *arg)
{
	struct blocked_accept *a = arg;

	a->ret = accept(a->l, NULL, NULL);
	a->err = errno;
	a->t_end = now_s();
	a->done = 1;
	return NULL;
}

static void t_lshutdown(void)
{
	static const int hows[] = { SHUT_RDWR, SHUT_RD };
	static const char *const hname[] = { "SHUT_RDWR", "SHUT_RD" };
	struct timeval tv = { 5, 0 };
	struct blocked_accept a[2];
	struct timespec ts;
	int l, c, s, h, i, fd;
	double t0;

	/* SHUT_WR: 0, and the listener goes on listening. */
	l = listener(4);
	CHECK(!shutdown(l, SHUT_WR), "shutdown(listener, SHUT_WR): %s",
	      strerror(errno));
	c = client();
	s = acceptor(l);
	close3(l, c, s);

	/* SHUT_RD and SHUT_RDWR wake every thread blocked in accept(). */
	for (h = 0; h < 2; h++) {
		l = listener(4);
		for (i = 0; i < 2; i++) {
			memset(&a[i], 0, sizeof(a[i]));
			a[i].l = l;
			pthread_create(&a[i].t, NULL, blocked_accept_fn, &a[i]);
		}
		usleep(300000);
		CHECK(!a[0].done && !a[1].done, "accept returned before the "
		      "shutdown: %d %s", a[0].done ? a[0].ret : a[1].ret,
		      strerror(a[0].done ? a[0].err : a[1].err));
		t0 = now_s();
		CHECK(!shutdown(l, hows[h]), "shutdown(listener, %s): %s",
		      hname[h], strerror(errno));
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		for (i = 0; i < 2; i++) {
			CHECK(!pthread_timedjoin_np(a[i].t, NULL, &ts),
			      "%s: a thread blocked in accept() is still "
			      "blocked 5 s later", hname[h]);
			CHECK(a[i].ret < 0 && a[i].err == EINVAL,
			      "%s: blocked accept returned %d %s, want EINVAL",
			      hname[h], a[i].ret, strerror(a[i].err));
			CHECK(a[i].t_end - t0 < 3.0, "%s: accept woken only "
			      "%.1f s later", hname[h], a[i].t_end - t0);
		}
		/* A later accept fails at once too. */
		setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		t0 = now_s();
		fd = accept(l, NULL, NULL);
		CHECK(fd < 0 && errno == EINVAL && now_s() - t0 < 1.0,
		      "%s: accept after the shutdown: %d %s after %.1f s",
		      hname[h], fd, strerror(errno), now_s() - t0);
		close(l);
	}
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "basic", t_basic }, { "names", t_names }, { "sizes", t_sizes },
	{ "splits", t_splits }, { "bytes", t_bytes }, { "bidir", t_bidir },
	{ "badhdr", t_badhdr }, { "oversize", t_oversize },
	{ "nbconnect", t_nbconnect }, { "refused", t_refused },
	{ "poll", t_poll }, { "peek", t_peek }, { "waitall", t_waitall },
	{ "dontwait", t_dontwait }, { "eof", t_eof }, { "many", t_many },
	{ "addr", t_addr }, { "info", t_info }, { "hold", t_hold },
	{ "backpressure", t_backpressure }, { "keepalive", t_keepalive },
	{ "signals", t_signals }, { "shutdown", t_shutdown },
	{ "backlog", t_backlog }, { "scm", t_scm },
	{ "smb2server", t_smb2server }, { "echoserver", t_echoserver },
	{ "echoclient", t_echoclient }, { "many64", t_many64 },
	{ "fork", t_fork }, { "kill", t_kill }, { "lclose", t_lclose },
	{ "integrity", t_integrity }, { "zerolen", t_zerolen },
	{ "splice", t_splice }, { "sendflags", t_sendflags },
	{ "lshutdown", t_lshutdown },
};

int main(int argc, char **argv)
{
	const char *addr = "10.99.0.1";
	FILE *f;
	size_t i;
	int opt;

	f = fopen("/sys/module/af_smbdirect/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &fam) != 1)
			fam = AF_SMBDIRECT;
		fclose(f);
	}
	while ((opt = getopt(argc, argv, "l:p:n:s:I")) != -1) {
		if (opt == 'l')
			addr = optarg;
		else if (opt == 'I')
			ipproto = 1;
		else if (opt == 'p')
			opt_port = atoi(optarg);
		else if (opt == 'n')
			opt_count = atoi(optarg);
		else if (opt == 's')
			opt_seed = strtoul(optarg, NULL, 0);
		else
			die("usage: sdtest [-l ADDR] [-p PORT] [-n COUNT] [-s SEED] [-I] TEST");
	}
	if (optind >= argc)
		die("usage: sdtest [-l ADDR] [-p PORT] [-n COUNT] [-s SEED] [-I] TEST");
	set_addr(addr);
	/* -I: the IPPROTO_SMBDIRECT entry point instead of AF_SMBDIRECT. */
	if (ipproto) {
		fam = srv.ss_family;
		proto = IPPROTO_SMBDIRECT;
	}
	signal(SIGPIPE, SIG_IGN);
	alarm(240);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!strcmp(argv[optind], tests[i].name)) {
			tests[i].fn();
			return 0;
		}
	}
	die("unknown test %s", argv[optind]);
	return 1;
}
