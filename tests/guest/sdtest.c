// SPDX-License-Identifier: GPL-2.0
/*
 * sdtest: functional tests of AF_SMBDIRECT stream sockets.  Each test runs
 * both ends in one process (listener, client, accepted socket) over the
 * address given with -l, verifies every byte, and exits non-zero on any
 * mismatch or unexpected errno.
 *
 *   sdtest [-l ADDR] [-p PORT] [-n COUNT] TEST
 *   TEST: basic names sizes splits bytes bidir badhdr oversize nbconnect
 *         refused poll peek waitall dontwait eof many addr info
 *         backpressure keepalive signals shutdown backlog scm hold
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
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/af_smbdirect.h>

#define MAX_FRAG	1048576		/* module default max_fragmented_size */
#define MAX_PAYLOAD	(1364 - 24)

static int fam = AF_SMBDIRECT;
static struct sockaddr_storage srv;
static socklen_t srvlen;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "sdtest: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

static uint16_t *port_of(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((struct sockaddr_in *)ss)->sin_port;
	return &((struct sockaddr_in6 *)ss)->sin6_port;
}

static void set_addr(const char *a)
{
	struct sockaddr_in *s4 = (void *)&srv;
	struct sockaddr_in6 *s6 = (void *)&srv;

	memset(&srv, 0, sizeof(srv));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		srvlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		srvlen = sizeof(*s6);
	} else {
		die("bad address %s", a);
	}
}

static int sock_new(void)
{
	int fd = socket(fam, SOCK_STREAM, 0);

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

/* A bad header is refused, nothing of it is sent, the link stays usable. */
static void bad_header(const uint8_t hdr[4], int want_errno)
{
	static const size_t len = 10;
	int l, c, s;

	pair(&l, &c, &s);
	/* Split as 2 + 2 bytes: the second write completes the header. */
	CHECK(send(c, hdr, 2, MSG_NOSIGNAL) == 2, "first half: %s",
	      strerror(errno));
	CHECK(send(c, hdr + 2, 2, MSG_NOSIGNAL) < 0 && errno == want_errno,
	      "bad header: got %s, want %s", strerror(errno),
	      strerror(want_errno));
	/* The next PDU is the first thing the peer sees. */
	transfer(c, s, 3, &len, 1, WHOLE, 0);
	CHECK(recv(s, (char[1]){0}, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN,
	      "extra data after the good PDUs");
	close3(l, c, s);
}

static void t_badhdr(void)
{
	static const uint8_t nb[4] = { 0x85, 0, 0, 4 };

	bad_header(nb, EPROTO);
}

static void t_oversize(void)
{
	uint8_t big[4] = { 0, (uint8_t)((MAX_FRAG + 1) >> 16),
			   (uint8_t)((MAX_FRAG + 1) >> 8),
			   (uint8_t)(MAX_FRAG + 1) };

	bad_header(big, EMSGSIZE);
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
	c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
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
	c = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
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

/* Hold a connected pair open until killed (module unload test). */
static void t_hold(void)
{
	int l, c, s;

	pair(&l, &c, &s);
	printf("holding\n");
	fflush(stdout);
	pause();
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
	{ "echoclient", t_echoclient },
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
	while ((opt = getopt(argc, argv, "l:p:n:")) != -1) {
		if (opt == 'l')
			addr = optarg;
		else if (opt == 'p')
			opt_port = atoi(optarg);
		else if (opt == 'n')
			opt_count = atoi(optarg);
		else
			die("usage: sdtest [-l ADDR] [-p PORT] [-n COUNT] TEST");
	}
	if (optind >= argc)
		die("usage: sdtest [-l ADDR] [-p PORT] [-n COUNT] TEST");
	set_addr(addr);
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
