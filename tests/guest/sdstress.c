// SPDX-License-Identifier: GPL-2.0
/*
 * sdstress: lifecycle stress and allocation-failure runs for AF_SMBDIRECT
 * (tests/guest/lifecycle.sh, tests/guest/fault.sh).  Both ends run in this
 * process over the address given with -l.  Every call must succeed or
 * fail with a clean errno, every byte that arrives is checked, and no
 * call may block past its deadline (a watchdog ends the run, naming the
 * call).  The kernel's own checks (KASAN, lockdep, kmemleak) are read by
 * the runner.
 *
 *   sdstress [-l ADDR] [-n N] [-t SECS] MODE
 *   storm       -t seconds of -n threads connecting and closing at random
 *               points: during setup, after connecting, with data in
 *               flight, to a port without listener, with shutdown()
 *   connshut    -n rounds: a blocking connect() raced by shutdown(SHUT_RDWR)
 *               from another thread at a random point of the setup; connect
 *               returns within seconds, recv/send after it never crash;
 *               connect_timeout 2, then a pause past it
 *   kashake     -n rounds: SMBDIRECT_KEEPALIVE_INTERVAL set in a loop while
 *               the connection fails (peer closes, or a local shutdown),
 *               then a pause for any keepalive timer left behind to fire
 *   negtimer    -n refused connects with connect_timeout 1, each closed at
 *               once, then a pause past the timeout
 *   many        -n (256) connections open at once, each carrying checked
 *               data both ways concurrently
 *   traffic     -n pairs streaming checked data both ways until the link
 *               goes (rdma link delete) or the process is killed; prints
 *               "traffic" once running; every stream must end with EOF or
 *               a clean errno within 30 s of the first end
 *   ldevremove  a listener bound to -l ADDR with a thread blocked in
 *               accept(); prints "listening", waits for SIGUSR1 (sent
 *               after the device was deleted): every accept() fails with
 *               ENETDOWN at once and poll shows POLLERR
 *   faultloop   a listener; prints "ready", waits for a line on stdin, then
 *               -t seconds of connect/accept/transfer/close cycles (and a
 *               new listener every fifth) while allocations fail
 *               (fault.sh): each step works or fails with a clean errno,
 *               data that arrives is exact
 *   faultxfer   a connected pair; prints "ready", waits for a line on
 *               stdin, transfers checked data both ways, prints "done",
 *               waits for another line, then closes
 *   probe       socket(): prints "socket ok" or "socket <errno name>"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/af_smbdirect.h>
#include "sdcommon.h"

#define MAX_PDU		(1 << 20)

static int fam = AF_SMBDIRECT;
static int opt_n = -1;
static int opt_t = -1;
static uint16_t refused_port;	/* a port nobody listens on */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- random numbers (per thread) ---- */

static uint32_t xs(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static uint32_t seed_of(unsigned int i)
{
	struct timespec ts;
	uint32_t s;

	clock_gettime(CLOCK_REALTIME, &ts);
	s = (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 7) ^ (i * 2654435761u) ^
		       getpid());
	return s ? s : 1;
}

/* ---- errnos ---- */

static const char *ename(int e)
{
	static const struct { int e; const char *n; } t[] = {
		{ 0, "ok" }, { ECONNREFUSED, "ECONNREFUSED" },
		{ ECONNRESET, "ECONNRESET" }, { ECONNABORTED, "ECONNABORTED" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EPIPE, "EPIPE" },
		{ ENOTCONN, "ENOTCONN" }, { ENOMEM, "ENOMEM" },
		{ ENOBUFS, "ENOBUFS" }, { EHOSTUNREACH, "EHOSTUNREACH" },
		{ ENETUNREACH, "ENETUNREACH" }, { ENETDOWN, "ENETDOWN" },
		{ EIO, "EIO" }, { EADDRNOTAVAIL, "EADDRNOTAVAIL" },
		{ ENODEV, "ENODEV" }, { EAGAIN, "EAGAIN" },
		{ EINPROGRESS, "EINPROGRESS" }, { EPROTO, "EPROTO" },
		{ EINVAL, "EINVAL" }, { EALREADY, "EALREADY" },
		{ EISCONN, "EISCONN" }, { EINTR, "EINTR" },
		{ EFAULT, "EFAULT" }, { EBADMSG, "EBADMSG" },
		{ ENODATA, "EOF" }, { EADDRINUSE, "EADDRINUSE" },
		{ ENFILE, "ENFILE" },
	};
	static char buf[16][32];
	static atomic_uint k;
	size_t i;
	char *b;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	b = buf[atomic_fetch_add(&k, 1) % 16];
	snprintf(b, sizeof(buf[0]), "errno %d", e);
	return b;
}

/*
 * A failure a connection may end with when its peer, its device or an
 * allocation goes away.  Not EAGAIN (a timeout: something hung), not
 * EPROTO (a violation between two correct ends), not EFAULT or EINVAL.
 */
static int clean(int e)
{
	switch (e) {
	/* rxe's rdma_create_qp() makes a kernel socket; sock_alloc()
	 * failing gives ENFILE ("not exactly a match", net/socket.c). */
	case ENFILE:
	case ECONNREFUSED: case ECONNRESET: case ECONNABORTED:
	case ETIMEDOUT: case EPIPE: case ENOTCONN: case ENOMEM:
	case ENOBUFS: case EHOSTUNREACH: case ENETUNREACH: case ENETDOWN:
	case EIO: case EADDRNOTAVAIL: case ENODEV: case ENODATA:
		return 1;
	}
	return 0;
}

/* Tally of outcomes by name, printed at the end. */
#define NTALLY 64
static struct { char name[48]; atomic_uint n; } tally_v[NTALLY];
static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;

static void tally(const char *what, int e)
{
	char name[48];
	int i;

	snprintf(name, sizeof(name), "%s %s", what, ename(e));
	pthread_mutex_lock(&tally_lock);
	for (i = 0; i < NTALLY && tally_v[i].name[0]; i++)
		if (!strcmp(tally_v[i].name, name))
			break;
	if (i < NTALLY && !tally_v[i].name[0])
		strcpy(tally_v[i].name, name);
	pthread_mutex_unlock(&tally_lock);
	if (i < NTALLY)
		atomic_fetch_add(&tally_v[i].n, 1);
}

static void tally_print(void)
{
	int i;

	for (i = 0; i < NTALLY && tally_v[i].name[0]; i++)
		printf("  %-40s %u\n", tally_v[i].name,
		       atomic_load(&tally_v[i].n));
	fflush(stdout);
}

static atomic_int failures;

#define FAILED(...) do {						\
	fprintf(stderr, "sdstress: FAILED: " __VA_ARGS__);		\
	fprintf(stderr, "\n");						\
	atomic_fetch_add(&failures, 1);					\
} while (0)

/* ---- watchdog: no call may block past its deadline ---- */

#define NSLOTS 1024
static struct slot {
	_Atomic double deadline;	/* 0: idle */
	const char *what;
	int arg;
	atomic_int used;
} slots[NSLOTS];
static atomic_int nslots;

static struct slot *slot_new(void)
{
	int i, zero, n;

	for (i = 0; i < NSLOTS; i++) {
		zero = 0;
		if (atomic_compare_exchange_strong(&slots[i].used, &zero, 1))
			break;
	}
	CHECK(i < NSLOTS, "too many watched threads");
	atomic_store(&slots[i].deadline, 0);
	n = atomic_load(&nslots);
	while (n < i + 1 && !atomic_compare_exchange_weak(&nslots, &n, i + 1))
		;
	return &slots[i];
}

static void slot_free(struct slot *s)
{
	atomic_store(&s->deadline, 0);
	atomic_store(&s->used, 0);
}

static void op_begin(struct slot *s, const char *what, int arg, double secs)
{
	s->what = what;
	s->arg = arg;
	atomic_store(&s->deadline, now_s() + secs);
}

static void op_end(struct slot *s)
{
	atomic_store(&s->deadline, 0);
}

static void *watchdog(void *arg)
{
	int i, n;

	for (;;) {
		sleep(1);
		n = atomic_load(&nslots);
		for (i = 0; i < n; i++) {
			double d = atomic_load(&slots[i].deadline);

			if (d && now_s() > d) {
				fprintf(stderr, "sdstress: FAILED: %s (%d) "
					"blocked past its deadline\n",
					slots[i].what, slots[i].arg);
				tally_print();
				_exit(3);
			}
		}
	}
	return NULL;
}

static void watchdog_start(void)
{
	pthread_t t;

	pthread_create(&t, NULL, watchdog, NULL);
	pthread_detach(t);
}

/* ---- sockets ---- */

static int sock_new(int nonblock)
{
	return socket(fam, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
}

static void setu(int fd, int opt, uint32_t v)
{
	CHECK(!setsockopt(fd, SOL_SMBDIRECT, opt, &v, sizeof(v)),
	      "set option %d = %u: %s", opt, v, strerror(errno));
}

static void set_timeouts(int fd, int secs)
{
	struct timeval tv = { secs, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A listener on srv with a kernel-chosen port (srv gets it), or -errno. */
static int listener_try(int backlog, int tmo)
{
	struct sockaddr_storage ss = srv;
	socklen_t len = sizeof(ss);
	int fd = sock_new(0), err;

	if (fd < 0)
		return -errno;
	if (tmo)
		setu(fd, SMBDIRECT_CONNECT_TIMEOUT, tmo);
	*port_of(&ss) = 0;
	if (bind(fd, (void *)&ss, srvlen) || listen(fd, backlog) ||
	    getsockname(fd, (void *)&ss, &len)) {
		err = errno;
		close(fd);
		return -err;
	}
	*port_of(&srv) = *port_of(&ss);
	return fd;
}

static int listener(int backlog)
{
	int fd = listener_try(backlog, 0);

	CHECK(fd >= 0, "listener: %s", strerror(-fd));
	return fd;
}

/* A port with nobody listening: bound once, then closed. */
static void find_refused_port(void)
{
	struct sockaddr_storage keep = srv;
	int l = listener(1);

	refused_port = *port_of(&srv);
	close(l);
	srv = keep;
}

static struct smbdirect_info info_of(int fd)
{
	struct smbdirect_info i;
	socklen_t len = sizeof(i);

	memset(&i, 0, sizeof(i));
	getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &i, &len);
	return i;
}

/* ---- checked PDUs ---- */

static uint8_t pat(uint32_t seed, uint32_t pdu, size_t i)
{
	return (uint8_t)(seed * 29u + pdu * 131u + i * 7u + (i >> 8));
}

static void fill(uint8_t *b, uint32_t seed, uint32_t pdu, size_t len)
{
	size_t j;

	b[0] = 0;
	b[1] = len >> 16;
	b[2] = len >> 8;
	b[3] = len;
	for (j = 0; j < len; j++)
		b[4 + j] = pat(seed, pdu, j);
}

/* 0, or the errno (ENODATA for a 0 return). */
static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? errno : ENODATA;
		p += n;
		len -= n;
	}
	return 0;
}

static int recv_all(int fd, uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = recv(fd, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? errno : ENODATA;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Read one PDU and check it against (seed, pdu, len).  Returns 0, a clean
 * errno, or EBADMSG (reported) for wrong bytes.
 */
static int recv_check(int fd, uint8_t *b, uint32_t seed, uint32_t pdu,
		      size_t len, const char *who)
{
	size_t got, j;
	int err;

	err = recv_all(fd, b, 4);
	if (err)
		return err;
	got = (size_t)b[1] << 16 | b[2] << 8 | b[3];
	if (b[0] || got != len) {
		FAILED("%s: pdu %u: header %02x len %zu, want %zu", who, pdu,
		       b[0], got, len);
		return EBADMSG;
	}
	err = recv_all(fd, b + 4, len);
	if (err)
		return err;
	for (j = 0; j < len; j++) {
		if (b[4 + j] != pat(seed, pdu, j)) {
			FAILED("%s: pdu %u byte %zu: %02x want %02x", who, pdu,
			       j, b[4 + j], pat(seed, pdu, j));
			return EBADMSG;
		}
	}
	return 0;
}

/* ---- storm ---- */

static atomic_int stop;
static atomic_int accept_stop;	/* set once every client has finished */
static int storm_l;

static atomic_int storm_servers;	/* server threads alive */

/* Server side of one storm connection: close, close later, or echo. */
static void *storm_server(void *arg)
{
	int s = (int)(intptr_t)arg, err;
	struct slot *w = slot_new();
	uint32_t r = seed_of(s + 100);
	uint8_t *b = malloc(MAX_PDU + 4);
	size_t len;

	switch (xs(&r) % 4) {
	case 0:
		break;
	case 1:
		usleep(xs(&r) % 20000);
		break;
	default:
		/* Echo until EOF: the client checks the bytes. */
		set_timeouts(s, 20);
		for (;;) {
			op_begin(w, "server echo", s, 30);
			err = recv_all(s, b, 4);
			len = (size_t)b[1] << 16 | b[2] << 8 | b[3];
			if (!err && len > MAX_PDU)
				err = EBADMSG;
			if (!err)
				err = recv_all(s, b + 4, len);
			if (!err)
				err = send_all(s, b, len + 4);
			op_end(w);
			if (err) {
				tally("server echo", err);
				if (!clean(err))
					FAILED("server echo: %s", ename(err));
				break;
			}
		}
		break;
	}
	close(s);
	free(b);
	slot_free(w);
	atomic_fetch_sub(&storm_servers, 1);
	return NULL;
}

static void *storm_acceptor(void *arg)
{
	struct slot *w = slot_new();
	pthread_attr_t attr;
	pthread_t t;
	int s;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (!atomic_load(&accept_stop)) {
		op_begin(w, "accept", 0, 30);
		s = accept_within(storm_l, 100);
		op_end(w);
		if (s < 0) {
			if (errno != EAGAIN)
				tally("accept", errno);
			if (!clean(errno) && errno != EAGAIN)
				FAILED("accept: %s", strerror(errno));
			continue;
		}
		tally("accept", 0);
		/* A thread per connection, so no client waits for another. */
		atomic_fetch_add(&storm_servers, 1);
		if (pthread_create(&t, &attr, storm_server,
				   (void *)(intptr_t)s)) {
			atomic_fetch_sub(&storm_servers, 1);
			close(s);
		}
	}
	return NULL;
}

static void *storm_client(void *arg)
{
	struct slot *w = slot_new();
	unsigned int id = (uintptr_t)arg;
	uint32_t r = seed_of(id);
	uint8_t *b = malloc(MAX_PDU + 4), *e = malloc(MAX_PDU + 4);
	struct sockaddr_storage dst;
	static const size_t lens[] = { 1, 1340, 1341, 5000, 70000 };
	int fd, err, k, act;
	uint32_t one = 1;
	const char *what;

	while (!atomic_load(&stop)) {
		act = xs(&r) % 6;
		fd = sock_new(act == 1 || act == 4);
		if (fd < 0) {
			FAILED("socket: %s", strerror(errno));
			break;
		}
		set_timeouts(fd, 20);
		dst = srv;
		if (act == 3)
			*port_of(&dst) = refused_port;
		if (act == 3 || act == 4)
			setsockopt(fd, SOL_SMBDIRECT,
				   SMBDIRECT_CONNECT_TIMEOUT, &one,
				   sizeof(one));
		op_begin(w, "connect", act, 40);
		err = connect(fd, (void *)&dst, srvlen) ? errno : 0;
		op_end(w);
		switch (act) {
		case 0:	/* connect, close after a random delay */
			tally("connect+close", err);
			if (err && !clean(err))
				FAILED("connect: %s", ename(err));
			usleep(xs(&r) % 20000);
			break;
		case 1:	/* close during the setup */
		case 4:	/* shutdown during the setup */
			if (err != EINPROGRESS)
				FAILED("non-blocking connect: %s", ename(err));
			usleep(xs(&r) % 30000);
			if (act == 4) {
				err = shutdown(fd, SHUT_RDWR) ? errno : 0;
				tally("shutdown in setup", err);
				if (err && err != ENOTCONN)
					FAILED("shutdown: %s", ename(err));
				recv(fd, b, 4, MSG_DONTWAIT);
			} else {
				tally("close in setup", 0);
			}
			break;
		case 2:	/* a few checked PDUs through the echo */
			tally("connect for echo", err);
			if (err) {
				if (!clean(err))
					FAILED("connect: %s", ename(err));
				break;
			}
			for (k = 0; k < 1 + (int)(xs(&r) % 3); k++) {
				size_t len = lens[xs(&r) % 5];

				fill(e, id, k, len);
				op_begin(w, "echo", k, 40);
				err = send_all(fd, e, len + 4);
				what = "write";
				if (!err) {
					err = recv_check(fd, b, id, k, len,
							 "echo");
					what = "read";
				}
				op_end(w);
				if (err) {
					/* The server may close instead. */
					tally("echo", err);
					if (!clean(err) && err != EBADMSG) {
						struct smbdirect_info in =
							info_of(fd);

						FAILED("echo: %s of PDU %d (%zu "
						       "bytes): %s; state %u "
						       "credits %u/%u posted %u "
						       "msgs tx %llu rx %llu",
						       what, k, len, ename(err),
						       in.state, in.send_credits,
						       in.recv_credits,
						       in.recv_posted,
						       (unsigned long long)in.tx_msgs,
						       (unsigned long long)in.rx_msgs);
					}
					break;
				}
				tally("echo", 0);
			}
			break;
		case 3:	/* nobody listens */
			tally("refused connect", err);
			if (err != ECONNREFUSED && !clean(err))
				FAILED("connect to a closed port: %s",
				       ename(err));
			break;
		case 5:	/* close with data in flight */
			tally("connect+write+close", err);
			if (!err) {
				struct linger lg = { 1, xs(&r) % 2 };

				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg,
					   sizeof(lg));
				fill(e, id, 0, 300000);
				op_begin(w, "write before close", 0, 40);
				send(fd, e, 300004, MSG_NOSIGNAL | MSG_DONTWAIT);
				op_end(w);
			} else if (!clean(err)) {
				FAILED("connect: %s", ename(err));
			}
			break;
		}
		op_begin(w, "close", act, 30);
		close(fd);
		op_end(w);
	}
	free(b);
	free(e);
	return NULL;
}

static void t_storm(void)
{
	int n = opt_n > 0 ? opt_n : 6, t = opt_t > 0 ? opt_t : 60, i;
	pthread_t ta, tc[64];
	double t0 = now_s();

	CHECK(n <= 64, "-n at most 64");
	find_refused_port();
	storm_l = listener(64);
	pthread_create(&ta, NULL, storm_acceptor, NULL);
	for (i = 0; i < n; i++)
		pthread_create(&tc[i], NULL, storm_client,
			       (void *)(uintptr_t)i);
	sleep(t);
	atomic_store(&stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(tc[i], NULL);
	/*
	 * Only now: a client that connected just before the stop waits
	 * for its echo, and the server end of it is still to be accepted.
	 */
	atomic_store(&accept_stop, 1);
	pthread_join(ta, NULL);
	/* Server threads end at their peer's close (20 s at most). */
	for (i = 0; i < 300 && atomic_load(&storm_servers); i++)
		usleep(100000);
	if (atomic_load(&storm_servers))
		FAILED("%d server threads still running 30 s after the "
		       "clients stopped", atomic_load(&storm_servers));
	close(storm_l);
	printf("storm: %d threads for %.0f s\n", n, now_s() - t0);
	tally_print();
	/* Timers left behind (connect_timeout 1) fire now, if any. */
	sleep(3);
}

/* ---- connshut: connect() raced by shutdown() ---- */

struct shutter {
	int fd;
	useconds_t delay;
	unsigned int state;	/* 0: after delay; else once in this phase */
	unsigned int seen;	/* the phase it was shut down in */
	int err;
	double t;
};

static void *shutter_fn(void *arg)
{
	struct shutter *s = arg;
	double end = now_s() + 5;
	unsigned int st;

	if (s->state) {
		/* Spin until the setup reaches the phase (or passed it). */
		do {
			st = info_of(s->fd).state;
			if (st >= s->state)
				break;
			sched_yield();
		} while (now_s() < end);
		usleep(s->delay % 2000);
		s->seen = st;
	} else {
		usleep(s->delay);
	}
	s->err = shutdown(s->fd, SHUT_RDWR) ? errno : 0;
	s->t = now_s();
	return NULL;
}

static void *closer_acceptor(void *arg)
{
	int l = (intptr_t)arg, s;

	while (!atomic_load(&stop)) {
		s = accept_within(l, 100);
		if (s >= 0) {
			usleep(20000);
			close(s);
		}
	}
	return NULL;
}

static void t_connshut(void)
{
	int n = opt_n > 0 ? opt_n : 200, i, fd, err, l;
	unsigned int st, st2;
	struct slot *w = slot_new();
	uint32_t r = seed_of(7);
	double t0, t1, setup = 0, worst = 0;
	struct shutter sh;
	pthread_t ta, tsh;
	uint8_t b[16];
	ssize_t k;

	l = listener(64);
	pthread_create(&ta, NULL, closer_acceptor, (void *)(intptr_t)l);
	/* How long a setup takes here. */
	for (i = 0; i < 5; i++) {
		fd = sock_new(0);
		t0 = now_s();
		op_begin(w, "calibration connect", i, 30);
		CHECK(!connect(fd, (void *)&srv, srvlen), "connect: %s",
		      strerror(errno));
		op_end(w);
		setup += (now_s() - t0) / 5;
		close(fd);
	}
	printf("connshut: a connect takes %.1f ms; shutdown at 0..%.1f ms\n",
	       setup * 1000, setup * 1500);
	for (i = 0; i < n; i++) {
		fd = sock_new(0);
		CHECK(fd >= 0, "socket: %s", strerror(errno));
		/* Short, so a timer armed after teardown fires in the pause. */
		setu(fd, SMBDIRECT_CONNECT_TIMEOUT, 2);
		sh.fd = fd;
		sh.delay = xs(&r) % (useconds_t)(setup * 1.5e6 + 1);
		sh.err = 0;
		/* Every other round, at a given phase of the setup: address
		 * and route resolution, RDMA connect, negotiate. */
		sh.state = i % 2 ? (unsigned int[]){ 1, 2, 3, 5 }[(i / 2) % 4] : 0;
		pthread_create(&tsh, NULL, shutter_fn, &sh);
		t0 = now_s();
		op_begin(w, "connect raced by shutdown, round", i, 10);
		err = connect(fd, (void *)&srv, srvlen) ? errno : 0;
		op_end(w);
		t1 = now_s();
		pthread_join(tsh, NULL);
		if (t1 - sh.t > worst && sh.t < t1)
			worst = t1 - sh.t;
		tally("connect", err);
		tally("shutdown", sh.err);
		if (err && !clean(err))
			FAILED("round %d: connect: %s", i, ename(err));
		if (sh.err && sh.err != ENOTCONN)
			FAILED("round %d: shutdown: %s", i, ename(sh.err));
		/* After a failed setup: errors, never a crash or a hang. */
		op_begin(w, "recv after the race, round", i, 5);
		k = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		op_end(w);
		if (k > 0)
			FAILED("round %d: recv returned data", i);
		tally("recv after", k < 0 ? errno : ENODATA);
		op_begin(w, "send after the race, round", i, 5);
		k = send(fd, "\0\0\0\1x", 5, MSG_NOSIGNAL | MSG_DONTWAIT);
		op_end(w);
		if (k >= 0 && sh.err == 0)
			FAILED("round %d: send after shutdown worked", i);
		/*
		 * Never left in a setup phase (1..5); a failed connect is
		 * FAILED (7), or IDLE (0) if it never started, and stays so.
		 */
		st = info_of(fd).state;
		if (st >= 1 && st <= 5)
			FAILED("round %d: state %u after the race (a setup phase)",
			       i, st);
		if (err && st != 7 && st != 0)
			FAILED("round %d: connect failed (%s) but state %u",
			       i, ename(err), st);
		usleep(50000);
		st2 = info_of(fd).state;
		if (st == 7 && st2 != 7)
			FAILED("round %d: FAILED left for state %u", i, st2);
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(ta, NULL);
	close(l);
	printf("connshut: %d rounds; slowest connect return after the "
	       "shutdown: %.2f s\n", n, worst);
	tally_print();
	/* Past connect_timeout: a timer armed after teardown fires now. */
	sleep(3);
}

/* ---- kashake: keepalive changes racing a failing connection ---- */

struct kash {
	int fd;
	atomic_int stop;
	unsigned int sets;
};

static void *kash_setter(void *arg)
{
	struct kash *k = arg;
	uint32_t v;

	while (!atomic_load(&k->stop)) {
		v = 1 + k->sets % 3;
		if (setsockopt(k->fd, SOL_SMBDIRECT,
			       SMBDIRECT_KEEPALIVE_INTERVAL, &v, sizeof(v)))
			FAILED("keepalive set: %s", strerror(errno));
		k->sets++;
	}
	return NULL;
}

static void t_kashake(void)
{
	int n = opt_n > 0 ? opt_n : 60, i, l, c, s;
	uint32_t r = seed_of(9);
	struct kash k;
	pthread_t t;
	unsigned long sets = 0;

	l = listener(16);
	for (i = 0; i < n; i++) {
		c = sock_new(0);
		CHECK(!connect(c, (void *)&srv, srvlen), "connect: %s",
		      strerror(errno));
		s = accept_within(l, 30000);
		CHECK(s >= 0, "accept: %s", strerror(errno));
		k.fd = c;
		k.sets = 0;
		atomic_store(&k.stop, 0);
		pthread_create(&t, NULL, kash_setter, &k);
		usleep(xs(&r) % 20000);
		/* The peer goes, or we shut down ourselves. */
		if (i % 2)
			close(s);
		else
			shutdown(c, SHUT_RDWR);
		usleep(xs(&r) % 50000);
		atomic_store(&k.stop, 1);
		pthread_join(t, NULL);
		sets += k.sets;
		close(c);
		if (!(i % 2))
			close(s);
	}
	close(l);
	printf("kashake: %d rounds, %lu keepalive changes\n", n, sets);
	/* Any keepalive timer armed after its teardown fires now. */
	sleep(5);
}

/* ---- negtimer: failing connects with connect_timeout 1 ---- */

static void t_negtimer(void)
{
	int n = opt_n > 0 ? opt_n : 100, i, fd, err;
	struct sockaddr_storage dst;
	struct slot *w = slot_new();

	find_refused_port();
	dst = srv;
	*port_of(&dst) = refused_port;
	for (i = 0; i < n; i++) {
		fd = sock_new(0);
		setu(fd, SMBDIRECT_CONNECT_TIMEOUT, 1);
		op_begin(w, "refused connect", i, 10);
		err = connect(fd, (void *)&dst, srvlen) ? errno : 0;
		op_end(w);
		tally("connect to a closed port", err);
		if (err != ECONNREFUSED && !clean(err))
			FAILED("connect: %s", ename(err));
		close(fd);
	}
	printf("negtimer: %d connects\n", n);
	tally_print();
	/* Past connect_timeout: a timer armed after teardown fires now. */
	sleep(3);
}

/* ---- many: N connections at once, each checked ---- */

struct mpair {
	int c, s, idx;
	pthread_barrier_t *go;
	int err;
};

static const size_t many_lens[] = { 1, 5000 };
#define MANY_PDUS 2

static void *many_one(void *arg)
{
	struct mpair *m = arg;
	uint8_t b[5004 + 16];
	struct slot *w = slot_new();
	int k, err = 0;

	pthread_barrier_wait(m->go);
	for (k = 0; k < MANY_PDUS && !err; k++) {
		size_t len = many_lens[k];

		op_begin(w, "pair exchange", m->idx, 120);
		fill(b, m->idx, k, len);
		err = send_all(m->c, b, len + 4);
		if (!err)
			err = recv_check(m->s, b, m->idx, k, len, "c->s");
		fill(b, m->idx + 100000, k, len);
		if (!err)
			err = send_all(m->s, b, len + 4);
		if (!err)
			err = recv_check(m->c, b, m->idx + 100000, k, len,
					 "s->c");
		op_end(w);
	}
	m->err = err;
	return NULL;
}

struct mconn {
	struct mpair *m;
	int n, first, step, l;
	pthread_mutex_t *lock;
};

/* Connect pairs first, first + step, ...; accept whatever is queued. */
static void *many_connector(void *arg)
{
	struct mconn *mc = arg;
	struct slot *w = slot_new();
	int i, fd;

	for (i = mc->first; i < mc->n; i += mc->step) {
		fd = sock_new(0);
		CHECK(fd >= 0, "socket %d: %s", i, strerror(errno));
		setu(fd, SMBDIRECT_RECV_CREDIT_MAX, 16);
		setu(fd, SMBDIRECT_SEND_CREDIT_TARGET, 16);
		op_begin(w, "connect of pair", i, 60);
		CHECK(!connect(fd, (void *)&srv, srvlen),
		      "connect %d of %d: %s", i + 1, mc->n, strerror(errno));
		op_end(w);
		mc->m[i].c = fd;
		mc->m[i].idx = i;
	}
	slot_free(w);
	return NULL;
}

static void t_many(void)
{
	enum { NCONN = 4 };
	int n = opt_n > 0 ? opt_n : 256, i, j, l, bad = 0;
	struct mpair *m = calloc(n, sizeof(*m));
	pthread_t *t = calloc(n, sizeof(*t)), tc[NCONN];
	struct mconn mc[NCONN];
	struct slot *w = slot_new();
	struct sockaddr_storage peer, local;
	socklen_t len;
	pthread_attr_t attr;
	pthread_barrier_t go;
	uint64_t want = 0;
	double t0 = now_s();
	int *acc = calloc(n, sizeof(int));

	for (i = 0; i < MANY_PDUS; i++)
		want += many_lens[i];
	l = listener(n);
	/* Small windows: n pairs of buffers stay modest. */
	setu(l, SMBDIRECT_RECV_CREDIT_MAX, 16);
	setu(l, SMBDIRECT_SEND_CREDIT_TARGET, 16);
	for (i = 0; i < NCONN; i++) {
		mc[i] = (struct mconn){ .m = m, .n = n, .first = i,
					.step = NCONN, .l = l };
		pthread_create(&tc[i], NULL, many_connector, &mc[i]);
	}
	for (i = 0; i < n; i++) {
		op_begin(w, "accept of pair", i, 60);
		acc[i] = accept_within(l, 60000);
		op_end(w);
		CHECK(acc[i] >= 0, "accept %d: %s", i + 1, strerror(errno));
	}
	for (i = 0; i < NCONN; i++)
		pthread_join(tc[i], NULL);
	/* Match each accepted socket to its client by address. */
	for (i = 0; i < n; i++) {
		len = sizeof(peer);
		CHECK(!getpeername(acc[i], (void *)&peer, &len), "getpeername");
		for (j = 0; j < n; j++) {
			len = sizeof(local);
			if (!getsockname(m[j].c, (void *)&local, &len) &&
			    *port_of(&local) == *port_of(&peer))
				break;
		}
		CHECK(j < n, "accepted socket %d has no client", i);
		m[j].s = acc[i];
	}
	printf("many: %d connections up in %.1f s\n", n, now_s() - t0);
	for (i = 0; i < n; i++)
		CHECK(info_of(m[i].c).state == 6 && info_of(m[i].s).state == 6,
		      "pair %d not connected", i);
	pthread_barrier_init(&go, NULL, n);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < n; i++) {
		m[i].go = &go;
		CHECK(!pthread_create(&t[i], &attr, many_one, &m[i]),
		      "pthread_create %d", i);
	}
	for (i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < n; i++) {
		struct smbdirect_info ci = info_of(m[i].c), si = info_of(m[i].s);

		if (m[i].err || ci.tx_bytes != want || si.rx_bytes != want ||
		    si.tx_bytes != want || ci.rx_bytes != want) {
			FAILED("pair %d: %s; c tx %llu rx %llu, s tx %llu rx "
			       "%llu, want %llu", i, ename(m[i].err),
			       (unsigned long long)ci.tx_bytes,
			       (unsigned long long)ci.rx_bytes,
			       (unsigned long long)si.tx_bytes,
			       (unsigned long long)si.rx_bytes,
			       (unsigned long long)want);
			bad++;
		}
	}
	for (i = 0; i < n; i++) {
		close(m[i].c);
		close(m[i].s);
	}
	close(l);
	printf("many: %d pairs checked in %.1f s, %d bad\n", n,
	       now_s() - t0, bad);
	free(acc);
	free(m);
	free(t);
}

/* ---- traffic: streams that the device removal or a kill ends ---- */

struct stream {
	int fd, write, idx;
	atomic_int ended;
	int err;
	double t_end;
	unsigned long pdus;
};

static atomic_int running;

static void *stream_fn(void *arg)
{
	struct stream *st = arg;
	uint8_t *b = malloc(MAX_PDU + 4);
	static const size_t lens[] = { 1, 1341, 20000, 70000, 2680 };
	uint32_t k;
	int err = 0;

	atomic_fetch_add(&running, 1);
	for (k = 0; !err; k++) {
		size_t len = lens[k % 5];

		if (st->write) {
			fill(b, st->idx, k, len);
			err = send_all(st->fd, b, len + 4);
			/* Live, not flat out: the guest must stay usable. */
			usleep(2000);
		} else {
			err = recv_check(st->fd, b, st->idx, k, len, "stream");
		}
		if (!err)
			st->pdus++;
	}
	st->err = err;
	st->t_end = now_s();
	atomic_store(&st->ended, 1);
	free(b);
	return NULL;
}

static void t_traffic(void)
{
	int n = opt_n > 0 ? opt_n : 2, i, l, c, s, left;
	struct stream *st = calloc(4 * n, sizeof(*st));
	pthread_t *t = calloc(4 * n, sizeof(*t));
	double first = 0;

	struct linger lg = { 1, 0 };

	l = listener(n);
	for (i = 0; i < n; i++) {
		c = sock_new(0);
		CHECK(!connect(c, (void *)&srv, srvlen), "connect: %s",
		      strerror(errno));
		s = accept_within(l, 30000);
		CHECK(s >= 0, "accept: %s", strerror(errno));
		/*
		 * No flush at close: a killed process closes both ends, and
		 * neither reads any more (10 s each otherwise).
		 */
		setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		/* c -> s and s -> c, each with its own seed */
		st[4 * i] = (struct stream){ .fd = c, .write = 1, .idx = 2 * i };
		st[4 * i + 1] = (struct stream){ .fd = s, .idx = 2 * i };
		st[4 * i + 2] = (struct stream){ .fd = s, .write = 1,
						 .idx = 2 * i + 1 };
		st[4 * i + 3] = (struct stream){ .fd = c, .idx = 2 * i + 1 };
	}
	for (i = 0; i < 4 * n; i++)
		pthread_create(&t[i], NULL, stream_fn, &st[i]);
	sleep(1);
	printf("traffic: %d pairs\n", n);
	fflush(stdout);
	for (;;) {
		usleep(200000);
		for (i = 0, left = 0; i < 4 * n; i++) {
			if (!atomic_load(&st[i].ended))
				left++;
			else if (!first || st[i].t_end < first)
				first = st[i].t_end;
		}
		if (!left)
			break;
		if (first && now_s() - first > 30) {
			for (i = 0; i < 4 * n; i++)
				if (!atomic_load(&st[i].ended))
					FAILED("stream %d (%s) still blocked "
					       "30 s after the first ended", i,
					       st[i].write ? "writer" :
					       "reader");
			tally_print();
			_exit(3);
		}
	}
	for (i = 0; i < 4 * n; i++) {
		pthread_join(t[i], NULL);
		tally(st[i].write ? "writer ended" : "reader ended",
		      st[i].err);
		if (!clean(st[i].err))
			FAILED("stream %d (%s) ended with %s after %lu PDUs",
			       i, st[i].write ? "writer" : "reader",
			       ename(st[i].err), st[i].pdus);
	}
	printf("traffic: every stream ended within %.1f s of the first\n",
	       now_s() - first);
	tally_print();
	for (i = 0; i < n; i++) {
		close(st[4 * i].fd);
		close(st[4 * i + 1].fd);
	}
	close(l);
}

/* ---- ldevremove: a listener whose device goes away ---- */

static atomic_int bret = 1, berr, bdone;
static _Atomic double bt;

static void *blocked_fn(void *arg)
{
	int fd = accept(*(int *)arg, NULL, NULL);

	atomic_store(&berr, errno);
	atomic_store(&bret, fd);
	bt = now_s();
	atomic_store(&bdone, 1);
	return NULL;
}

static void t_ldevremove(void)
{
	struct timeval tv = { 5, 0 };
	struct sockaddr_storage ss = srv;
	struct pollfd p;
	sigset_t set;
	int l = sock_new(0), sig, i, fd, err;
	struct blocked {
		pthread_t t;
	} b;
	double t0, t1;
	struct slot *w = slot_new();

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	*port_of(&ss) = 0;
	CHECK(!bind(l, (void *)&ss, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(l, 4), "listen: %s", strerror(errno));
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The first one blocks without a timeout. */
	fd = dup(l);
	{
		struct timeval inf = { 0, 0 };

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &inf, sizeof(inf));
	}
	pthread_create(&b.t, NULL, blocked_fn, &fd);
	usleep(200000);
	printf("listening\n");
	fflush(stdout);
	sigwait(&set, &sig);
	t0 = now_s();
	printf("the device is gone\n");
	/* The thread blocked since before the removal is woken. */
	for (i = 0; i < 50 && !atomic_load(&bdone); i++)
		usleep(100000);
	CHECK(atomic_load(&bdone), "a thread blocked in accept() is still "
	      "blocked 5 s after the device removal");
	CHECK(atomic_load(&bret) < 0 && atomic_load(&berr) == ENETDOWN,
	      "blocked accept: %d %s, want ENETDOWN", atomic_load(&bret),
	      ename(atomic_load(&berr)));
	/* Every later accept fails at once, and poll keeps showing it. */
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < 3; i++) {
		p = (struct pollfd){ .fd = l, .events = POLLIN };
		CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLERR),
		      "accept %d: poll revents %#x, want POLLERR", i + 1,
		      p.revents);
		t1 = now_s();
		op_begin(w, "accept on a listener without device", i, 10);
		fd = accept(l, NULL, NULL);
		err = errno;
		op_end(w);
		CHECK(fd < 0 && err == ENETDOWN && now_s() - t1 < 1.0,
		      "accept %d after the removal: %d %s after %.1f s, want "
		      "ENETDOWN at once", i + 1, fd, ename(fd < 0 ? err : 0),
		      now_s() - t1);
	}
	printf("ldevremove: blocked accept woken after %.2f s; 3 more "
	       "accepts failed with ENETDOWN\n", bt - t0);
	pthread_join(b.t, NULL);
	close(l);
}

/* ---- fault injection: faultloop, faultxfer, probe ---- */

static const size_t fault_lens[] = { 1, 1341, 70000 };

/* A write from its own thread, so that a PDU larger than the peer's
 * receive window goes out while this thread reads it. */
struct fault_tx {
	int fd;
	const uint8_t *p;
	size_t len;
	int err;
};

static void *fault_tx_fn(void *a)
{
	struct fault_tx *t = a;

	t->err = send_all(t->fd, t->p, t->len);
	return NULL;
}

/* One exchange of checked PDUs both ways; 0 or the first errno. */
static int fault_exchange(int c, int s, uint32_t seed, uint8_t *b,
			  const char **step)
{
	static uint8_t tb[70000 + 4];
	int k, err, dir;

	for (k = 0; k < 3; k++) {
		size_t len = fault_lens[k];

		for (dir = 0; dir < 2; dir++) {
			struct fault_tx t = { .fd = dir ? s : c, .p = tb,
					      .len = len + 4 };
			pthread_t th;

			fill(tb, seed + dir, k, len);
			*step = dir ? "write s->c" : "write c->s";
			if (pthread_create(&th, NULL, fault_tx_fn, &t))
				return EAGAIN;
			*step = dir ? "read s->c" : "read c->s";
			err = recv_check(dir ? c : s, b, seed + dir, k, len,
					 dir ? "s->c" : "c->s");
			if (err)	/* unblocks the writer: closed below */
				shutdown(dir ? s : c, SHUT_RDWR);
			pthread_join(th, NULL);
			if (t.err) {
				*step = dir ? "write s->c" : "write c->s";
				return t.err;
			}
			if (err)
				return err;
		}
	}
	return 0;
}

static void t_faultloop(void)
{
	int t = opt_t > 0 ? opt_t : 20, l, nl, c, s, err, it = 0, done = 0;
	uint8_t *b = malloc(MAX_PDU + 4);
	struct slot *w = slot_new();
	const char *step;
	struct pollfd p;
	char line[64];
	double end;

	/* Nothing of ours may need a page once the failures are on. */
	CHECK(!mlockall(MCL_CURRENT | MCL_FUTURE), "mlockall: %s",
	      strerror(errno));
	memset(b, 0, MAX_PDU + 4);
	l = listener_try(16, 3);
	CHECK(l >= 0, "listener: %s", strerror(-l));
	/* Small windows: fewer allocations per connection, so that some
	 * get through and the later steps are reached. */
	setu(l, SMBDIRECT_RECV_CREDIT_MAX, 16);
	setu(l, SMBDIRECT_SEND_CREDIT_TARGET, 16);
	printf("ready\n");
	fflush(stdout);
	CHECK(fgets(line, sizeof(line), stdin), "no go");
	end = now_s() + t;
	for (it = 0; now_s() < end; it++) {
		if (it % 5 == 4) {
			/* A new listener; the old one stays if that fails. */
			op_begin(w, "listen", it, 20);
			nl = listener_try(16, 3);
			op_end(w);
			tally("listen", nl < 0 ? -nl : 0);
			if (nl >= 0) {
				setu(nl, SMBDIRECT_RECV_CREDIT_MAX, 16);
				setu(nl, SMBDIRECT_SEND_CREDIT_TARGET, 16);
				close(l);
				l = nl;
			} else if (!clean(-nl)) {
				FAILED("listener: %s", ename(-nl));
			}
		}
		c = sock_new(0);
		if (c < 0) {
			err = errno;
			tally("socket", err);
			if (!clean(err))
				FAILED("socket: %s", ename(err));
			usleep(10000);
			continue;
		}
		set_timeouts(c, 20);
		setsockopt(c, SOL_SMBDIRECT, SMBDIRECT_CONNECT_TIMEOUT,
			   &(uint32_t){ 3 }, sizeof(uint32_t));
		setu(c, SMBDIRECT_RECV_CREDIT_MAX, 16);
		setu(c, SMBDIRECT_SEND_CREDIT_TARGET, 16);
		op_begin(w, "connect", it, 30);
		err = connect(c, (void *)&srv, srvlen) ? errno : 0;
		op_end(w);
		tally("connect", err);
		if (err) {
			if (!clean(err))
				FAILED("iteration %d: connect: %s", it,
				       ename(err));
			close(c);
			continue;
		}
		op_begin(w, "accept", it, 30);
		s = accept_within(l, 8000);
		err = s < 0 ? errno : 0;
		op_end(w);
		tally("accept", err);
		if (s < 0) {
			/* The server side failed: the client must hear. */
			p = (struct pollfd){ .fd = c, .events = POLLIN };
			op_begin(w, "client of a failed child", it, 30);
			poll(&p, 1, 15000);
			op_end(w);
			if (err == EAGAIN && !(p.revents & (POLLHUP | POLLERR)))
				FAILED("iteration %d: client connected, its "
				       "child neither accepted nor gone (%#x)",
				       it, p.revents);
			else if (err != EAGAIN && !clean(err))
				FAILED("iteration %d: accept: %s", it,
				       ename(err));
			close(c);
			continue;
		}
		set_timeouts(s, 20);
		op_begin(w, "exchange", it, 90);
		err = fault_exchange(c, s, it, b, &step);
		op_end(w);
		tally(err ? step : "exchange", err);
		if (err && !clean(err))
			FAILED("iteration %d: %s: %s", it, step, ename(err));
		else if (!err)
			done++;
		op_begin(w, "close", it, 30);
		close(c);
		close(s);
		op_end(w);
	}
	close(l);
	printf("faultloop: %d iterations, %d complete\n", it, done);
	tally_print();
	free(b);
}

struct fdir {
	int wfd, rfd;
	uint32_t seed;
	pthread_barrier_t *go;
	uint8_t *wb, *rb;
	int err;
	unsigned int pdus;
	char what[128];
};

static const size_t fx_lens[] = { 1, 1341, 20000, 70000, 300000, 4 };
#define FX_PDUS 30

static void *fx_writer(void *arg)
{
	struct fdir *d = arg;
	unsigned int k;
	int err;

	pthread_barrier_wait(d->go);
	for (k = 0; k < FX_PDUS; k++) {
		size_t len = fx_lens[k % 6];

		fill(d->wb, d->seed, k, len);
		err = send_all(d->wfd, d->wb, len + 4);
		if (err) {
			snprintf(d->what, sizeof(d->what), "write %u: %s", k,
				 ename(err));
			d->err = err;
			break;
		}
	}
	return NULL;
}

static void *fx_reader(void *arg)
{
	struct fdir *d = arg;
	unsigned int k;
	int err;

	pthread_barrier_wait(d->go);
	for (k = 0; k < FX_PDUS; k++) {
		err = recv_check(d->rfd, d->rb, d->seed, k, fx_lens[k % 6],
				 "faultxfer");
		if (err) {
			snprintf(d->what, sizeof(d->what), "read %u: %s", k,
				 ename(err));
			d->err = err;
			break;
		}
		d->pdus++;
	}
	return NULL;
}

static void t_faultxfer(void)
{
	struct fdir d[2];
	pthread_barrier_t go;
	pthread_t t[4];
	char line[64];
	struct smbdirect_info a0, b0, a1, b1;
	int l, c, s, i, bad = 0;

	/* Nothing of ours may need a page once the failures are on. */
	CHECK(!mlockall(MCL_CURRENT | MCL_FUTURE), "mlockall: %s",
	      strerror(errno));
	l = listener(4);
	c = sock_new(0);
	CHECK(!connect(c, (void *)&srv, srvlen), "connect: %s",
	      strerror(errno));
	s = accept_within(l, 30000);
	CHECK(s >= 0, "accept: %s", strerror(errno));
	set_timeouts(c, 60);
	set_timeouts(s, 60);
	pthread_barrier_init(&go, NULL, 5);
	for (i = 0; i < 2; i++) {
		d[i] = (struct fdir){ .wfd = i ? s : c, .rfd = i ? c : s,
				      .seed = 70 + i, .go = &go };
		d[i].wb = malloc(MAX_PDU + 4);
		d[i].rb = malloc(MAX_PDU + 4);
		memset(d[i].wb, 1, MAX_PDU + 4);
		memset(d[i].rb, 1, MAX_PDU + 4);
		pthread_create(&t[2 * i], NULL, fx_writer, &d[i]);
		pthread_create(&t[2 * i + 1], NULL, fx_reader, &d[i]);
	}
	a0 = info_of(c);
	b0 = info_of(s);
	printf("ready\n");
	fflush(stdout);
	CHECK(fgets(line, sizeof(line), stdin), "no go");
	pthread_barrier_wait(&go);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	a1 = info_of(c);
	b1 = info_of(s);
	for (i = 0; i < 2; i++) {
		printf("%s: %u of %d PDUs %s\n", i ? "s->c" : "c->s",
		       d[i].pdus, FX_PDUS, d[i].err ? d[i].what : "intact");
		bad |= d[i].err != 0;
	}
	printf("c: %llu messages in, %llu out; s: %llu in, %llu out; states "
	       "%u %u\n", (unsigned long long)(a1.rx_msgs - a0.rx_msgs),
	       (unsigned long long)(a1.tx_msgs - a0.tx_msgs),
	       (unsigned long long)(b1.rx_msgs - b0.rx_msgs),
	       (unsigned long long)(b1.tx_msgs - b0.tx_msgs), a1.state,
	       b1.state);
	printf("done\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		line[0] = 0;
	close(c);
	close(s);
	close(l);
	CHECK(!bad, "the transfer failed while allocations failed");
}

static void t_probe(void)
{
	int fd = sock_new(0);

	if (fd < 0) {
		printf("socket %s\n", ename(errno));
	} else {
		printf("socket ok\n");
		close(fd);
	}
}

static const struct {
	const char *name;
	void (*fn)(void);
} modes[] = {
	{ "storm", t_storm }, { "connshut", t_connshut },
	{ "kashake", t_kashake }, { "negtimer", t_negtimer },
	{ "many", t_many }, { "traffic", t_traffic },
	{ "ldevremove", t_ldevremove }, { "faultloop", t_faultloop },
	{ "faultxfer", t_faultxfer }, { "probe", t_probe },
};

int main(int argc, char **argv)
{
	const char *addr = "10.99.0.1";
	FILE *f;
	size_t i;
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	f = fopen("/sys/module/af_smbdirect/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &fam) != 1)
			fam = AF_SMBDIRECT;
		fclose(f);
	}
	while ((opt = getopt(argc, argv, "l:n:t:")) != -1) {
		if (opt == 'l')
			addr = optarg;
		else if (opt == 'n')
			opt_n = atoi(optarg);
		else if (opt == 't')
			opt_t = atoi(optarg);
		else
			die("usage: sdstress [-l ADDR] [-n N] [-t SECS] MODE");
	}
	if (optind >= argc)
		die("usage: sdstress [-l ADDR] [-n N] [-t SECS] MODE");
	set_addr(addr);
	signal(SIGPIPE, SIG_IGN);
	watchdog_start();
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(argv[optind], modes[i].name)) {
			modes[i].fn();
			if (atomic_load(&failures)) {
				fprintf(stderr, "sdstress: %d failures\n",
					atomic_load(&failures));
				return 1;
			}
			return 0;
		}
	}
	die("unknown mode %s", argv[optind]);
	return 1;
}
