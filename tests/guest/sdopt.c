// SPDX-License-Identifier: GPL-2.0
/*
 * sdopt: tests of AF_SMBDIRECT socket options and what the socket reports
 * about itself: per-socket limits and their effect on the negotiate,
 * SMBDIRECT_INFO (device, transport, counters), TCP_INFO, the connect
 * timeout and the default port; and the TCP-compatible surface around
 * them: SOL_SOCKET options, ioctls, epoll/select, timeouts, iovecs,
 * linger.  Both ends run in this process over the
 * address given with -l; any unexpected value or errno exits non-zero.
 *
 *   sdopt [-l ADDR] [-t rxe|siw] TEST
 *   TEST: limits negotiated device counters tcpinfo timeout port
 *         solsocket ioctls epoll select sndtimeo iov linger chunkecho
 *         bothwrite protocol memlimit bufbytes memtotal
 *   sdopt [-l ADDR] [-t rxe|siw] abi PEER
 *	SMBDIRECT_INFO against known values and PEER's reading (sdopt32
 *	runs it with the 64-bit sdopt as PEER)
 *   sdopt infodump FD...   print SMBDIRECT_INFO of inherited sockets
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <linux/tcp.h>		/* the full struct tcp_info */
#include <linux/af_smbdirect.h>
#include "sdcommon.h"

/* tcpi_state values (include/net/tcp_states.h) */
enum { ST_ESTABLISHED = 1, ST_CLOSE = 7, ST_LISTEN = 10 };

static int fam = AF_SMBDIRECT;
static const char *link_type = "rxe";
static const char *peer_prog;	/* abi: the program of the other width */

static unsigned int param(const char *name)
{
	char path[128];
	unsigned int v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/af_smbdirect/parameters/%s",
		 name);
	f = fopen(path, "r");
	CHECK(f, "%s: %s", path, strerror(errno));
	CHECK(fscanf(f, "%u", &v) == 1, "%s unreadable", path);
	fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int sock_new(void)
{
	int fd = socket(fam, SOCK_STREAM, 0);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	return fd;
}

static void setu(int fd, int opt, uint32_t v)
{
	CHECK(!setsockopt(fd, SOL_SMBDIRECT, opt, &v, sizeof(v)),
	      "set option %d = %u: %s", opt, v, strerror(errno));
}

static uint32_t getu(int fd, int opt)
{
	socklen_t len = sizeof(uint32_t);
	uint32_t v = 0xdeadbeef;

	CHECK(!getsockopt(fd, SOL_SMBDIRECT, opt, &v, &len) &&
	      len == sizeof(v), "get option %d: %s", opt, strerror(errno));
	return v;
}

static int set_err(int fd, int opt, uint32_t v)
{
	return setsockopt(fd, SOL_SMBDIRECT, opt, &v, sizeof(v)) ? errno : 0;
}

static struct smbdirect_info info_of(int fd)
{
	struct smbdirect_info i;
	socklen_t len = sizeof(i);

	memset(&i, 0xa5, sizeof(i));
	CHECK(!getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &i, &len) &&
	      len == sizeof(i), "SMBDIRECT_INFO: %s", strerror(errno));
	return i;
}

/* Bind (port 0 = any), listen; srv gets the port. */
static void listen_on(int fd, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	*port_of(&srv) = htons(port);
	CHECK(!bind(fd, (void *)&srv, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(fd, 8), "listen: %s", strerror(errno));
	CHECK(!getsockname(fd, (void *)&ss, &len), "getsockname: %s",
	      strerror(errno));
	*port_of(&srv) = *port_of(&ss);
}

static void connect_to(int fd)
{
	CHECK(!connect(fd, (void *)&srv, srvlen), "connect: %s",
	      strerror(errno));
}

static int accept_on(int l)
{
	int fd = accept(l, NULL, NULL);

	CHECK(fd >= 0, "accept: %s", strerror(errno));
	return fd;
}

/* Send one framed PDU of @len body bytes with a pattern. */
static void send_pdu(int fd, uint32_t len, unsigned int seed)
{
	uint8_t *buf = malloc(len + 4);
	size_t off = 0;
	ssize_t n;
	uint32_t i;

	CHECK(buf, "malloc");
	buf[0] = 0;
	buf[1] = len >> 16;
	buf[2] = len >> 8;
	buf[3] = len;
	for (i = 0; i < len; i++)
		buf[4 + i] = (uint8_t)(i * 13 + seed);
	while (off < len + 4) {
		n = send(fd, buf + off, len + 4 - off, 0);
		CHECK(n > 0, "send: %s", strerror(errno));
		off += n;
	}
	free(buf);
}

static void recv_pdu(int fd, uint32_t len, unsigned int seed)
{
	uint8_t *buf = malloc(len + 4);
	ssize_t n;
	uint32_t i;

	CHECK(buf, "malloc");
	n = recv(fd, buf, len + 4, MSG_WAITALL);
	CHECK(n == (ssize_t)len + 4, "recv %zd of %u: %s", n, len + 4,
	      strerror(errno));
	CHECK(buf[0] == 0 && (uint32_t)(buf[1] << 16 | buf[2] << 8 | buf[3]) ==
	      len, "bad header for a %u-byte PDU", len);
	for (i = 0; i < len; i++)
		CHECK(buf[4 + i] == (uint8_t)(i * 13 + seed),
		      "byte %u of %u differs", i, len);
	free(buf);
}

struct bg_pdu {
	int fd;
	uint32_t len;
	unsigned int seed;
	pthread_t t;
};

static void *bg_send(void *p)
{
	struct bg_pdu *b = p;

	send_pdu(b->fd, b->len, b->seed);
	return NULL;
}

/*
 * Receive a PDU while another thread sends it: the receive ring (the
 * socket's receive buffer) may be smaller than the PDU, as a TCP receive
 * window may be.
 */
static void xfer_pdu(int from, int to, uint32_t len, unsigned int seed)
{
	struct bg_pdu b = { from, len, seed };

	CHECK(!pthread_create(&b.t, NULL, bg_send, &b), "thread");
	recv_pdu(to, len, seed);
	pthread_join(b.t, NULL);
}

/* Local limits: defaults, set/get, ranges, and fixed once connecting. */
static void t_limits(void)
{
	static const struct {
		int opt;
		const char *param;
		uint32_t good, bad_lo, bad_hi;
	} lim[] = {
		{ SMBDIRECT_RECV_CREDIT_MAX, "recv_credit_max", 32, 2, 4097 },
		{ SMBDIRECT_SEND_CREDIT_TARGET, "send_credit_target", 16, 2,
		  65536 },
		{ SMBDIRECT_MAX_SEND_SIZE, "max_send_size", 1024, 127, 65537 },
		{ SMBDIRECT_MAX_RECV_SIZE, "max_receive_size", 2048, 127,
		  65537 },
		{ SMBDIRECT_MAX_FRAGMENTED_SIZE, "max_fragmented_size", 131072,
		  131071, 1u << 24 },
		{ SMBDIRECT_CONNECT_TIMEOUT, "connect_timeout", 7, 0, 3601 },
	};
	int fd = sock_new(), l, c, s;
	uint32_t v;
	size_t i;

	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		CHECK(getu(fd, lim[i].opt) == param(lim[i].param),
		      "%s default %u, module says %u", lim[i].param,
		      getu(fd, lim[i].opt), param(lim[i].param));
		setu(fd, lim[i].opt, lim[i].good);
		CHECK(getu(fd, lim[i].opt) == lim[i].good, "%s read back %u",
		      lim[i].param, getu(fd, lim[i].opt));
		CHECK(set_err(fd, lim[i].opt, lim[i].bad_lo) == EINVAL,
		      "%s = %u accepted", lim[i].param, lim[i].bad_lo);
		CHECK(set_err(fd, lim[i].opt, lim[i].bad_hi) == EINVAL,
		      "%s = %u accepted", lim[i].param, lim[i].bad_hi);
		CHECK(getu(fd, lim[i].opt) == lim[i].good,
		      "%s changed by a refused set", lim[i].param);
	}
	setu(fd, SMBDIRECT_MAX_READ_WRITE_SIZE, 65536);
	CHECK(getu(fd, SMBDIRECT_MAX_READ_WRITE_SIZE) == 65536, "rw size");

	v = 1;
	CHECK(setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_MAX_SEND_SIZE, &v, 2) &&
	      errno == EINVAL, "short optlen: %s", strerror(errno));
	CHECK(setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &v, sizeof(v)) &&
	      errno == ENOPROTOOPT, "set SMBDIRECT_INFO: %s", strerror(errno));
	CHECK(setsockopt(fd, SOL_SMBDIRECT, 999, &v, sizeof(v)) &&
	      errno == ENOPROTOOPT, "unknown option: %s", strerror(errno));
	CHECK(getsockopt(fd, SOL_SMBDIRECT, 999, &v,
			 &(socklen_t){ sizeof(v) }) && errno == ENOPROTOOPT,
	      "get unknown option: %s", strerror(errno));
	CHECK(setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_MAX_SEND_SIZE, NULL,
			 sizeof(v)) && errno == EFAULT, "NULL optval: %s",
	      strerror(errno));
	close(fd);

	/* Once connected the limits are fixed; the keepalive is not. */
	l = sock_new();
	listen_on(l, 0);
	c = sock_new();
	connect_to(c);
	s = accept_on(l);
	CHECK(set_err(c, SMBDIRECT_MAX_SEND_SIZE, 1024) == EISCONN,
	      "limit set on a connected socket: %s", strerror(errno));
	CHECK(set_err(s, SMBDIRECT_RECV_CREDIT_MAX, 8) == EISCONN,
	      "limit set on an accepted socket: %s", strerror(errno));
	setu(c, SMBDIRECT_KEEPALIVE_INTERVAL, 50);
	CHECK(getu(c, SMBDIRECT_KEEPALIVE_INTERVAL) == 50, "keepalive");
	CHECK(set_err(c, SMBDIRECT_KEEPALIVE_INTERVAL, 24 * 3600 + 1) ==
	      EINVAL, "keepalive of a day and a second accepted");
	close(c);
	close(s);
	close(l);
}

/*
 * Limits on the listener and the client shape the negotiate as
 * [MS-SMBD] 3.1.5.2/3.1.5.3 say, and data flows within them.
 */
static void t_negotiated(void)
{
	struct smbdirect_info ci, si, ci2, si2;
	int l = sock_new(), c = sock_new(), s;
	unsigned int i, j;
	uint8_t hdr[4];

	setu(l, SMBDIRECT_MAX_RECV_SIZE, 512);
	setu(l, SMBDIRECT_RECV_CREDIT_MAX, 16);
	setu(l, SMBDIRECT_MAX_FRAGMENTED_SIZE, 131072);
	setu(l, SMBDIRECT_MAX_READ_WRITE_SIZE, 65536);
	listen_on(l, 0);
	setu(c, SMBDIRECT_MAX_SEND_SIZE, 1000);
	setu(c, SMBDIRECT_MAX_RECV_SIZE, 700);
	setu(c, SMBDIRECT_SEND_CREDIT_TARGET, 8);
	connect_to(c);
	s = accept_on(l);

	ci = info_of(c);
	si = info_of(s);
	CHECK(ci.version == 0x0100 && si.version == 0x0100, "versions");
	/* Client sends at most what the server receives, and vice versa. */
	CHECK(ci.max_send_size == 512 && ci.max_recv_size == 700,
	      "client send %u recv %u", ci.max_send_size, ci.max_recv_size);
	CHECK(si.max_send_size == 700 && si.max_recv_size == 512,
	      "server send %u recv %u", si.max_send_size, si.max_recv_size);
	CHECK(ci.max_fragmented_send_size == 131072 &&
	      si.max_fragmented_recv_size == 131072 &&
	      si.max_fragmented_send_size == param("max_fragmented_size"),
	      "fragmented sizes %u/%u/%u", ci.max_fragmented_send_size,
	      si.max_fragmented_recv_size, si.max_fragmented_send_size);
	CHECK(ci.max_read_write_size == 65536, "client rw %u",
	      ci.max_read_write_size);
	CHECK(si.recv_credit_max == 16 && ci.send_credit_target == 8 &&
	      si.recv_credit_target == 8, "credit limits %u/%u/%u",
	      si.recv_credit_max, ci.send_credit_target,
	      si.recv_credit_target);

	/* Fragments at the peer's receive size, both ways. */
	send_pdu(c, 10000, 1);
	recv_pdu(s, 10000, 1);
	send_pdu(s, 10000, 2);
	recv_pdu(c, 10000, 2);
	ci2 = info_of(c);
	si2 = info_of(s);
	CHECK(ci2.tx_msgs - ci2.tx_empty_msgs - (ci.tx_msgs - ci.tx_empty_msgs)
	      == (10000 + 487) / 488, "client sent %llu data messages",
	      (unsigned long long)(ci2.tx_msgs - ci2.tx_empty_msgs -
				   (ci.tx_msgs - ci.tx_empty_msgs)));
	CHECK(si2.tx_msgs - si2.tx_empty_msgs - (si.tx_msgs - si.tx_empty_msgs)
	      == (10000 + 675) / 676, "server sent %llu data messages",
	      (unsigned long long)(si2.tx_msgs - si2.tx_empty_msgs -
				   (si.tx_msgs - si.tx_empty_msgs)));

	/* Credits never exceed what the server posts; the flow survives. */
	for (i = 0; i < 200; i++) {
		send_pdu(c, 1 + (i * 997) % 3000, i);
		CHECK(info_of(c).send_credits <= 16, "client holds %u credits",
		      info_of(c).send_credits);
		/* Read in pairs: they fit 16 receives of 512 bytes. */
		if (i % 2 == 1) {
			for (j = i - 1; j <= i; j++)
				recv_pdu(s, 1 + (j * 997) % 3000, j);
		}
	}

	/* The server's reassembly limit binds the client's writes. */
	xfer_pdu(c, s, 131072, 3);
	hdr[0] = 0;
	hdr[1] = 0x02;
	hdr[2] = 0;
	hdr[3] = 1;	/* 131073 */
	CHECK(send(c, hdr, 4, 0) < 0 && errno == EMSGSIZE,
	      "PDU past the peer's max fragmented size: %s", strerror(errno));
	close(c);
	close(s);
	close(l);
}

/* The device and transport the connection runs on. */
static void t_device(void)
{
	int l = sock_new(), c = sock_new(), s;
	struct smbdirect_info i;
	uint32_t want;
	char buf[8];

	want = strcmp(link_type, "siw") ? SMBDIRECT_TRANSPORT_ROCE :
	       SMBDIRECT_TRANSPORT_IWARP;
	i = info_of(c);
	CHECK(i.transport == SMBDIRECT_TRANSPORT_NONE && !i.device[0],
	      "unconnected socket reports device %.64s", i.device);
	listen_on(l, 0);
	connect_to(c);
	s = accept_on(l);
	i = info_of(c);
	CHECK(i.transport == want && i.port_num == 1 &&
	      !strncmp(i.device, link_type, 3),
	      "client: transport %u port %u device %.64s", i.transport,
	      i.port_num, i.device);
	i = info_of(s);
	CHECK(i.transport == want && !strncmp(i.device, link_type, 3),
	      "server: transport %u device %.64s", i.transport, i.device);
	close(c);
	/* Still reported once the connection is gone. */
	CHECK(recv(s, buf, sizeof(buf), 0) == 0, "EOF after close");
	i = info_of(s);
	CHECK(i.transport == want && !strncmp(i.device, link_type, 3),
	      "device forgotten after disconnect");
	close(s);
	close(l);
}

/* Counters agree between the two ends once traffic is quiet. */
static void t_counters(void)
{
	int l = sock_new(), c = sock_new(), s, n = 50, i, tries;
	struct smbdirect_info ci, si;

	listen_on(l, 0);
	connect_to(c);
	s = accept_on(l);
	for (i = 0; i < n; i++) {
		send_pdu(c, 100 + i * 200, i);
		send_pdu(s, 50 + i * 100, i);
	}
	for (i = 0; i < n; i++) {
		recv_pdu(s, 100 + i * 200, i);
		recv_pdu(c, 50 + i * 100, i);
	}
	for (tries = 0; tries < 50; tries++) {
		usleep(100000);
		ci = info_of(c);
		si = info_of(s);
		if (ci.tx_msgs == si.rx_msgs && si.tx_msgs == ci.rx_msgs &&
		    ci.tx_credits_granted == si.rx_credits_granted &&
		    si.tx_credits_granted == ci.rx_credits_granted)
			break;
	}
	CHECK(ci.tx_msgs == si.rx_msgs && si.tx_msgs == ci.rx_msgs,
	      "messages: client %llu/%llu server %llu/%llu",
	      (unsigned long long)ci.tx_msgs, (unsigned long long)ci.rx_msgs,
	      (unsigned long long)si.tx_msgs, (unsigned long long)si.rx_msgs);
	CHECK(ci.tx_credits_granted == si.rx_credits_granted &&
	      si.tx_credits_granted == ci.rx_credits_granted &&
	      ci.tx_credits_granted && si.tx_credits_granted,
	      "credits granted: client %llu/%llu server %llu/%llu",
	      (unsigned long long)ci.tx_credits_granted,
	      (unsigned long long)ci.rx_credits_granted,
	      (unsigned long long)si.tx_credits_granted,
	      (unsigned long long)si.rx_credits_granted);
	CHECK(ci.tx_pdus == (uint64_t)n && si.rx_pdus == (uint64_t)n &&
	      si.tx_pdus == (uint64_t)n && ci.rx_pdus == (uint64_t)n,
	      "PDUs: client %llu/%llu server %llu/%llu",
	      (unsigned long long)ci.tx_pdus, (unsigned long long)ci.rx_pdus,
	      (unsigned long long)si.tx_pdus, (unsigned long long)si.rx_pdus);
	CHECK(ci.tx_msgs > ci.tx_pdus, "no fragments counted");
	CHECK(!ci.violations && !si.violations, "violations %llu/%llu",
	      (unsigned long long)ci.violations,
	      (unsigned long long)si.violations);

	/* An idle connection with a 1 s keepalive probes and survives. */
	setu(c, SMBDIRECT_KEEPALIVE_INTERVAL, 1);
	sleep(4);
	ci = info_of(c);
	CHECK(ci.keepalives >= 1 && ci.state == 6,
	      "keepalives %llu, state %u", (unsigned long long)ci.keepalives,
	      ci.state);
	send_pdu(c, 10, 9);
	recv_pdu(s, 10, 9);
	close(c);
	close(s);
	close(l);
}

/* TCP_INFO: the fields that mean something for SMB-Direct. */
static void t_tcpinfo(void)
{
	int l = sock_new(), c = sock_new(), s;
	unsigned int rto = (4096ull << param("ack_timeout")) / 1000;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	CHECK(!getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
	      len == sizeof(ti), "TCP_INFO unconnected: %s", strerror(errno));
	CHECK(ti.tcpi_state == ST_CLOSE && !ti.tcpi_rto,
	      "unconnected: state %u rto %u", ti.tcpi_state, ti.tcpi_rto);
	listen_on(l, 0);
	len = sizeof(ti);
	CHECK(!getsockopt(l, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
	      ti.tcpi_state == ST_LISTEN, "listener state %u",
	      ti.tcpi_state);
	connect_to(c);
	s = accept_on(l);
	send_pdu(c, 5000, 4);
	recv_pdu(s, 5000, 4);
	len = sizeof(ti);
	CHECK(!getsockopt(c, IPPROTO_TCP, TCP_INFO, &ti, &len),
	      "TCP_INFO: %s", strerror(errno));
	CHECK(ti.tcpi_state == ST_ESTABLISHED && ti.tcpi_rto == rto &&
	      ti.tcpi_snd_mss == 1364 - 24 && ti.tcpi_snd_cwnd > 0 &&
	      ti.tcpi_bytes_acked == 5000,
	      "client: state %u rto %u (want %u) mss %u cwnd %u acked %llu",
	      ti.tcpi_state, ti.tcpi_rto, rto, ti.tcpi_snd_mss,
	      ti.tcpi_snd_cwnd, (unsigned long long)ti.tcpi_bytes_acked);
	/* A short buffer gets a prefix, as TCP does. */
	len = 8;
	CHECK(!getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) && len == 8 &&
	      ti.tcpi_state == ST_ESTABLISHED, "short TCP_INFO");
	len = sizeof(ti);
	CHECK(!getsockopt(s, IPPROTO_TCP, TCP_INFO, &ti, &len) &&
	      ti.tcpi_bytes_received == 5000, "server received %llu",
	      (unsigned long long)ti.tcpi_bytes_received);
	close(c);
	close(s);
	close(l);
}

/* SMBDIRECT_CONNECT_TIMEOUT bounds a connect to a silent address. */
static void t_timeout(void)
{
	int c = sock_new(), soerr;
	socklen_t len = sizeof(soerr);
	double t0, dt;

	/* An unused host on the test subnet: resolution never completes. */
	if (srv.ss_family == AF_INET)
		((uint8_t *)&((struct sockaddr_in *)&srv)->sin_addr)[3] = 77;
	else
		((struct sockaddr_in6 *)&srv)->sin6_addr.s6_addr[15] = 0x77;
	*port_of(&srv) = htons(445);
	setu(c, SMBDIRECT_CONNECT_TIMEOUT, 1);
	t0 = now();
	CHECK(connect(c, (void *)&srv, srvlen) < 0, "connected to nobody");
	dt = now() - t0;
	CHECK(errno == ETIMEDOUT && dt > 0.8 && dt < 4,
	      "connect: %s after %.1f s", strerror(errno), dt);
	CHECK(!getsockopt(c, SOL_SOCKET, SO_ERROR, &soerr, &len),
	      "SO_ERROR: %s", strerror(errno));
	close(c);
}

/* Port 0 in connect() means SMB-Direct's port for the transport. */
static void t_port(void)
{
	uint16_t want = strcmp(link_type, "siw") ? 445 : 5445;
	int l = sock_new(), c = sock_new(), s;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	listen_on(l, want);
	*port_of(&srv) = 0;
	connect_to(c);
	s = accept_on(l);
	CHECK(!getpeername(c, (void *)&ss, &len) && ntohs(*port_of(&ss)) ==
	      want, "peer port %u, want %u", ntohs(*port_of(&ss)), want);
	send_pdu(c, 100, 5);
	recv_pdu(s, 100, 5);
	close(c);
	close(s);
	close(l);
}

static void pair(int *l, int *c, int *s)
{
	*l = sock_new();
	listen_on(*l, 0);
	*c = sock_new();
	connect_to(*c);
	*s = accept_on(*l);
}

static void close3(int l, int c, int s)
{
	close(c);
	close(s);
	close(l);
}

/* SOL_SOCKET options code written for TCP sets are accepted and kept. */
static void t_solsocket(void)
{
	static const int flags[] = { SO_KEEPALIVE, SO_REUSEADDR, SO_REUSEPORT };
	struct utsname u;
	int l, c, s, v, maj = 0, min = 0;
	socklen_t len;
	size_t i;

	pair(&l, &c, &s);
	uname(&u);
	sscanf(u.release, "%d.%d", &maj, &min);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		/*
		 * Before SOCK_CUSTOM_SOCKOPT (6.7) the core answers SOL_SOCKET
		 * alone and refuses SO_REUSEPORT for non-inet families.
		 */
		if (flags[i] == SO_REUSEPORT && (maj < 6 || (maj == 6 && min < 7))) {
			v = 1;
			CHECK(setsockopt(c, SOL_SOCKET, SO_REUSEPORT, &v,
					 sizeof(v)) && errno == EOPNOTSUPP,
			      "SO_REUSEPORT on %s: %s", u.release,
			      strerror(errno));
			continue;
		}
		v = 1;
		CHECK(!setsockopt(c, SOL_SOCKET, flags[i], &v, sizeof(v)),
		      "SOL_SOCKET %d: %s", flags[i], strerror(errno));
		v = 0;
		len = sizeof(v);
		CHECK(!getsockopt(c, SOL_SOCKET, flags[i], &v, &len) && v == 1,
		      "SOL_SOCKET %d reads %d", flags[i], v);
	}
	v = 256 * 1024;
	CHECK(!setsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) &&
	      !setsockopt(c, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)),
	      "SO_RCVBUF/SO_SNDBUF: %s", strerror(errno));
	len = sizeof(v);
	CHECK(!getsockopt(c, SOL_SOCKET, SO_RCVBUF, &v, &len) && v >= 256 * 1024,
	      "SO_RCVBUF reads %d", v);
	len = sizeof(v);
	CHECK(!getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &len) &&
	      v == SOCK_STREAM, "SO_TYPE %d", v);
	len = sizeof(v);
	CHECK(!getsockopt(c, SOL_SOCKET, SO_DOMAIN, &v, &len) && v == fam,
	      "SO_DOMAIN %d", v);
	len = sizeof(v);
	CHECK(!getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) && v == 1,
	      "SO_ACCEPTCONN %d", v);
	v = 1;
	CHECK(!setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)),
	      "TCP_NODELAY: %s", strerror(errno));
	/* Other TCP options are refused, not silently ignored. */
	CHECK(setsockopt(c, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)) &&
	      errno == ENOPROTOOPT, "TCP_CORK: %s", strerror(errno));
	/* The options did not disturb the stream. */
	send_pdu(c, 3000, 6);
	recv_pdu(s, 3000, 6);
	close3(l, c, s);
}

/* FIONREAD/SIOCINQ and SIOCOUTQ/TIOCOUTQ report what TCP's would. */
static void t_ioctls(void)
{
	int l, c, s, q = -1, fl, i;

	pair(&l, &c, &s);
	CHECK(ioctl(l, SIOCINQ, &q) < 0 && errno == EINVAL,
	      "SIOCINQ on a listener: %s", strerror(errno));
	CHECK(!ioctl(s, FIONREAD, &q) && q == 0, "idle FIONREAD %d", q);
	send_pdu(c, 1000, 7);
	for (i = 0; i < 500 && q != 1004; i++) {
		usleep(10000);
		CHECK(!ioctl(s, SIOCINQ, &q), "SIOCINQ: %s", strerror(errno));
	}
	CHECK(q == 1004, "SIOCINQ %d after a 1000-byte PDU", q);
	CHECK(!ioctl(c, TIOCOUTQ, &q) && q == 0, "idle TIOCOUTQ %d", q);

	/* A reader that stops: unsent bytes pile up and show. */
	fl = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, fl | O_NONBLOCK);
	for (i = 0; i < 100000; i++) {
		static uint8_t buf[65536 + 4] = { 0, 1, 0, 0 };
		struct pollfd p = { .fd = c, .events = POLLOUT };

		if (send(c, buf, sizeof(buf), 0) >= 0)
			continue;
		CHECK(errno == EAGAIN, "send: %s", strerror(errno));
		/* Stalled for good once no write space shows for 1 s. */
		if (poll(&p, 1, 1000) == 0)
			break;
	}
	CHECK(!ioctl(c, SIOCOUTQ, &q) && q > 0, "SIOCOUTQ %d with a stalled peer",
	      q);
	CHECK(!ioctl(c, TIOCOUTQ, &fl) && fl == q, "TIOCOUTQ %d vs %d", fl, q);
	/* The peer first, so the writer's close has nothing to flush to. */
	close(s);
	close(c);
	close(l);
}

/* Wait up to 10 s for @fd to report @want on epoll instance @ep. */
static int ready(int ep, int fd, uint32_t want)
{
	struct epoll_event out[4];
	double end = now() + 10;
	int n, j;

	while (now() < end) {
		n = epoll_wait(ep, out, 4, 1000);
		CHECK(n >= 0, "epoll_wait: %s", strerror(errno));
		for (j = 0; j < n; j++)
			if (out[j].data.fd == fd && (out[j].events & want))
				return 1;
	}
	return 0;
}

/* epoll: connect, accept, data and hang-up; the client edge-triggered. */
static void t_epoll(void)
{
	int ep = epoll_create1(0), l, c, s, n;
	struct epoll_event ev, out[4];
	uint8_t buf[16];

	CHECK(ep >= 0, "epoll_create1: %s", strerror(errno));
	l = sock_new();
	listen_on(l, 0);
	ev.events = EPOLLIN;
	ev.data.fd = l;
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev), "epoll_ctl listener: %s",
	      strerror(errno));
	c = sock_new();
	fcntl(c, F_SETFL, O_NONBLOCK);
	CHECK(connect(c, (void *)&srv, srvlen) < 0 && errno == EINPROGRESS,
	      "non-blocking connect: %s", strerror(errno));
	ev.events = EPOLLOUT | EPOLLET;
	ev.data.fd = c;
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), "epoll_ctl client");
	/* Both the accept and the connect completion must show. */
	for (n = 0; n != 3;) {
		int k = epoll_wait(ep, out, 4, 10000), j;

		CHECK(k > 0, "epoll_wait for connect and accept: %d", k);
		for (j = 0; j < k; j++) {
			if (out[j].data.fd == l && (out[j].events & EPOLLIN))
				n |= 1;
			if (out[j].data.fd == c && (out[j].events & EPOLLOUT))
				n |= 2;
		}
	}
	s = accept_on(l);
	CHECK(!getsockopt(c, SOL_SOCKET, SO_ERROR, &n,
			  &(socklen_t){ sizeof(n) }) && n == 0,
	      "SO_ERROR after connect: %d", n);
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = s;
	CHECK(!epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev), "epoll_ctl server");
	CHECK(send(c, (uint8_t[]){ 0, 0, 0, 2, 'o', 'k' }, 6, 0) == 6, "send");
	/* The client may also show EPOLLOUT again as credits arrive. */
	CHECK(ready(ep, s, EPOLLIN), "no EPOLLIN for data");
	CHECK(recv(s, buf, sizeof(buf), 0) == 6 && buf[4] == 'o', "recv");
	close(c);
	CHECK(ready(ep, s, EPOLLRDHUP), "no EPOLLRDHUP after the peer closed");
	close(ep);
	close(s);
	close(l);
}

/* select(): readability of listener and data, writability. */
static void t_select(void)
{
	struct timeval tv = { 10, 0 };
	int l, c, s;
	fd_set r, w;

	pair(&l, &c, &s);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(s, &r);
	FD_SET(c, &w);
	CHECK(select((c > s ? c : s) + 1, &r, &w, NULL, &tv) == 1 &&
	      FD_ISSET(c, &w) && !FD_ISSET(s, &r), "select idle pair");
	send_pdu(c, 10, 8);
	FD_ZERO(&r);
	FD_SET(s, &r);
	tv.tv_sec = 10;
	CHECK(select(s + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(s, &r),
	      "select: data not readable");
	recv_pdu(s, 10, 8);
	close3(l, c, s);
}

/* SO_SNDTIMEO and SO_RCVTIMEO bound blocking calls. */
static void t_sndtimeo(void)
{
	struct timeval tv = { 1, 0 };
	static uint8_t buf[65536 + 4] = { 0, 1, 0, 0 };
	int l, c, s, i;
	double t0, dt;
	ssize_t n = 0;

	pair(&l, &c, &s);
	CHECK(!setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)),
	      "SO_SNDTIMEO: %s", strerror(errno));
	/* The server never reads: the writer must stop with EAGAIN. */
	t0 = now();
	for (i = 0; i < 100000 && n >= 0; i++) {
		t0 = now();
		n = send(c, buf, sizeof(buf), 0);
	}
	dt = now() - t0;
	CHECK(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK),
	      "send with a stalled peer: %zd %s", n, strerror(errno));
	CHECK(dt > 0.8 && dt < 5, "SO_SNDTIMEO 1 s took %.1f s", dt);
	close(s);
	close(c);
	close(l);
}

/* writev/readv and sendmsg with PDUs split across iovecs. */
static void t_iov(void)
{
	uint8_t a[4] = { 0, 0, 0x10, 0 }, body[4096], back[4100];
	struct iovec iov[6];
	struct msghdr mh = { .msg_iov = iov };
	int l, c, s, i;

	for (i = 0; i < 4096; i++)
		body[i] = (uint8_t)(i * 7);
	pair(&l, &c, &s);
	/* One PDU: header in two pieces, body in three. */
	iov[0] = (struct iovec){ a, 1 };
	iov[1] = (struct iovec){ a + 1, 3 };
	iov[2] = (struct iovec){ body, 1 };
	iov[3] = (struct iovec){ body + 1, 2000 };
	iov[4] = (struct iovec){ body + 2001, 4096 - 2001 };
	CHECK(writev(c, iov, 5) == 4 + 4096, "writev: %s", strerror(errno));
	/* Two PDUs in one sendmsg. */
	iov[0] = (struct iovec){ a, 4 };
	iov[1] = (struct iovec){ body, 4096 };
	iov[2] = (struct iovec){ a, 4 };
	iov[3] = (struct iovec){ body, 4096 };
	mh.msg_iovlen = 4;
	CHECK(sendmsg(c, &mh, 0) == 2 * 4100, "sendmsg: %s", strerror(errno));
	for (i = 0; i < 3; i++) {
		iov[0] = (struct iovec){ back, 3 };
		iov[1] = (struct iovec){ back + 3, 4097 };
		mh.msg_iovlen = 2;
		CHECK(recvmsg(s, &mh, MSG_WAITALL) == 4100, "recvmsg %d: %s",
		      i, strerror(errno));
		CHECK(!memcmp(back, a, 4) && !memcmp(back + 4, body, 4096),
		      "PDU %d differs", i);
	}
	close3(l, c, s);
}

/* close() flushes what was written; SO_LINGER {1, 0} aborts at once. */
static void t_linger(void)
{
	struct linger lg = { 1, 0 };
	int l, c, s, i;
	uint8_t b;

	pair(&l, &c, &s);
	for (i = 0; i < 40; i++)
		send_pdu(c, 1000 + i * 50, i);
	close(c);
	for (i = 0; i < 40; i++)
		recv_pdu(s, 1000 + i * 50, i);
	CHECK(recv(s, &b, 1, 0) == 0, "no EOF after the flushed data");
	close(s);

	/* Zero linger: close returns without waiting, the peer sees EOF. */
	c = sock_new();
	connect_to(c);
	s = accept_on(l);
	CHECK(!setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
	      "SO_LINGER: %s", strerror(errno));
	close(c);
	CHECK(recv(s, &b, 1, 0) <= 0, "data after an aborted close");
	close(s);
	close(l);
}

struct chunk_arg {
	int fd;
	size_t total;
};

/* An echo that answers each chunk it reads before reading on, as a relay
 * or a TCP-style proxy does, instead of whole PDUs.
 */
static void *chunk_echo(void *p)
{
	struct chunk_arg *a = p;
	static uint8_t buf[65536];
	size_t done = 0, off;
	ssize_t n, w;

	while (done < a->total) {
		n = recv(a->fd, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (off = 0; off < (size_t)n; off += w) {
			w = send(a->fd, buf + off, n - off, 0);
			if (w <= 0)
				return NULL;
		}
		done += n;
	}
	return NULL;
}

static void *chunk_writer(void *p)
{
	struct chunk_arg *a = p;
	unsigned int i;

	for (i = 0; i < a->total; i++)
		send_pdu(a->fd, 1048576 - 4 * i, i);
	return NULL;
}

/*
 * Both sides write while the other has unread data: the echo side's
 * receive buffer fills while it still has to send.  Credits must keep
 * flowing; with TCP this never stalls.
 */
static void t_chunkecho(void)
{
	struct chunk_arg e, w;
	pthread_t te, tw;
	int l, c, s;
	unsigned int i, n = 6;

	pair(&l, &c, &s);
	e.fd = s;
	e.total = 0;
	for (i = 0; i < n; i++)
		e.total += 4 + 1048576 - 4 * i;
	w.fd = c;
	w.total = n;
	CHECK(!pthread_create(&te, NULL, chunk_echo, &e), "thread");
	CHECK(!pthread_create(&tw, NULL, chunk_writer, &w), "thread");
	for (i = 0; i < n; i++)
		recv_pdu(c, 1048576 - 4 * i, i);
	pthread_join(tw, NULL);
	pthread_join(te, NULL);
	close3(l, c, s);
}

struct bw_arg {
	int fd;
	double until;
};

/* Write 1000-byte PDUs without blocking until told to stop. */
static void *bw_writer(void *p)
{
	struct bw_arg *a = p;
	static const uint8_t pdu[1004] = { 0, 0, 0x03, 0xe8 };
	struct pollfd pf = { .fd = a->fd, .events = POLLOUT };
	size_t off = 0;
	ssize_t n;

	while (now() < a->until) {
		n = send(a->fd, pdu + off, sizeof(pdu) - off, MSG_DONTWAIT);
		if (n > 0) {
			off = (off + n) % sizeof(pdu);
			continue;
		}
		CHECK(errno == EAGAIN, "send: %s", strerror(errno));
		poll(&pf, 1, 100);
	}
	return NULL;
}

/*
 * Both ends write and neither reads.  As with TCP both writers must end
 * up blocked; unread data stays bounded instead of growing for ever.
 */
static void t_bothwrite(void)
{
	struct bw_arg a, b;
	pthread_t ta, tb;
	int l, c, s, q1[2], q2[2], rcvbuf;
	socklen_t len = sizeof(rcvbuf);
	struct linger lg = { 1, 0 };
	unsigned int bound;

	pair(&l, &c, &s);
	a.fd = c;
	b.fd = s;
	a.until = b.until = now() + 6;
	CHECK(!pthread_create(&ta, NULL, bw_writer, &a), "thread");
	CHECK(!pthread_create(&tb, NULL, bw_writer, &b), "thread");
	sleep(4);
	CHECK(!ioctl(c, FIONREAD, &q1[0]) && !ioctl(s, FIONREAD, &q1[1]),
	      "FIONREAD: %s", strerror(errno));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(!ioctl(c, FIONREAD, &q2[0]) && !ioctl(s, FIONREAD, &q2[1]),
	      "FIONREAD: %s", strerror(errno));
	CHECK(!getsockopt(c, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len),
	      "SO_RCVBUF: %s", strerror(errno));
	/* SO_RCVBUF, what was granted before the hold, and the overshoot. */
	bound = rcvbuf + (param("recv_credit_max") + 17) * 1004;
	CHECK(q1[0] == q2[0] && q1[1] == q2[1],
	      "unread data still growing: %d -> %d and %d -> %d", q1[0],
	      q2[0], q1[1], q2[1]);
	CHECK(q2[0] > 0 && (unsigned int)q2[0] <= bound && q2[1] > 0 &&
	      (unsigned int)q2[1] <= bound, "unread %d and %d, bound %u",
	      q2[0], q2[1], bound);
	/* Nothing will drain the queued data: close without the flush. */
	CHECK(!setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)),
	      "SO_LINGER: %s", strerror(errno));
	close(s);
	close(c);
	close(l);
}

/* SMBDIRECT_INFO's fields, where this program's compiler put them. */
#define INFO_FIELD(m) { #m, offsetof(struct smbdirect_info, m), \
			sizeof(((struct smbdirect_info *)0)->m) }
static const struct {
	const char *name;
	size_t off, size;
} info_fields[] = {
	INFO_FIELD(state), INFO_FIELD(version), INFO_FIELD(recv_credit_max),
	INFO_FIELD(send_credit_target), INFO_FIELD(recv_credit_target),
	INFO_FIELD(max_send_size), INFO_FIELD(max_recv_size),
	INFO_FIELD(max_fragmented_send_size),
	INFO_FIELD(max_fragmented_recv_size), INFO_FIELD(max_read_write_size),
	INFO_FIELD(send_credits), INFO_FIELD(recv_credits),
	INFO_FIELD(recv_posted), INFO_FIELD(keepalive_interval),
	INFO_FIELD(reserved), INFO_FIELD(tx_msgs), INFO_FIELD(rx_msgs),
	INFO_FIELD(tx_bytes), INFO_FIELD(rx_bytes), INFO_FIELD(tx_empty_msgs),
	INFO_FIELD(credit_waits), INFO_FIELD(transport), INFO_FIELD(port_num),
	INFO_FIELD(device), INFO_FIELD(tx_pdus), INFO_FIELD(rx_pdus),
	INFO_FIELD(tx_credits_granted), INFO_FIELD(rx_credits_granted),
	INFO_FIELD(keepalives), INFO_FIELD(violations),
	INFO_FIELD(buffer_bytes),
};

/* SMBDIRECT_INFO of @fd as text, one "name=value" line per field. */
static void info_print(FILE *f, int fd)
{
	struct smbdirect_info i = info_of(fd);
	const char *p = (const char *)&i;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	size_t k;

	for (k = 0; k < sizeof(info_fields) / sizeof(info_fields[0]); k++) {
		const char *m = p + info_fields[k].off;

		fprintf(f, "%s=", info_fields[k].name);
		switch (info_fields[k].size) {
		case 2:
			memcpy(&v16, m, 2);
			fprintf(f, "%u\n", v16);
			break;
		case 4:
			memcpy(&v32, m, 4);
			fprintf(f, "%u\n", v32);
			break;
		case 8:
			memcpy(&v64, m, 8);
			fprintf(f, "%llu\n", (unsigned long long)v64);
			break;
		default:
			fprintf(f, "%.*s\n", (int)info_fields[k].size, m);
		}
	}
}

/* What PEER infodump prints for our sockets c and s. */
static void peer_dump(int c, int s, char *buf, size_t size)
{
	char fc[16], fs[16];
	size_t off = 0;
	int p[2], st;
	ssize_t n;
	pid_t pid;

	snprintf(fc, sizeof(fc), "%d", c);
	snprintf(fs, sizeof(fs), "%d", s);
	CHECK(!pipe(p), "pipe: %s", strerror(errno));
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		dup2(p[1], 1);
		execl(peer_prog, peer_prog, "infodump", fc, fs, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (off < size - 1 && (n = read(p[0], buf + off, size - 1 - off)) > 0)
		off += n;
	buf[off] = 0;
	close(p[0]);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      !WEXITSTATUS(st), "%s infodump failed (status %#x)", peer_prog,
	      st);
}

/* Fail naming the first line where the two readings differ. */
static void first_diff(const char *mine, const char *theirs)
{
	size_t i = 0, bol = 0;

	while (mine[i] && mine[i] == theirs[i])
		if (mine[i++] == '\n')
			bol = i;
	die("SMBDIRECT_INFO in this %zu-bit program: %.*s; %s reads %.*s",
	    8 * sizeof(long), (int)strcspn(mine + bol, "\n"), mine + bol,
	    peer_prog, (int)strcspn(theirs + bol, "\n"), theirs + bol);
}

/*
 * SMBDIRECT_INFO on a live connection after a known exchange reads right
 * in this program and the same as in PEER, built for the other word size
 * from this file (i386 aligns __u64 to 4: without explicit padding every
 * field after the hole came out shifted).
 */
static void t_abi(void)
{
	struct smbdirect_info ci, si;
	uint64_t cs = 0, sc = 0;
	int l, c, s, n = 7, i, tries;
	static char mine[4096], theirs[4096];
	uint32_t want;
	FILE *f;

	CHECK(peer_prog, "usage: sdopt abi PEER");
	want = strcmp(link_type, "siw") ? SMBDIRECT_TRANSPORT_ROCE :
	       SMBDIRECT_TRANSPORT_IWARP;
	pair(&l, &c, &s);
	for (i = 0; i < n; i++) {
		send_pdu(c, 1000 + i * 3000, i);
		send_pdu(s, 500 + i * 700, i);
		cs += 1000 + i * 3000;
		sc += 500 + i * 700;
	}
	for (i = 0; i < n; i++) {
		recv_pdu(s, 1000 + i * 3000, i);
		recv_pdu(c, 500 + i * 700, i);
	}
	/* Credit grants may still be in flight: wait for the ends to agree. */
	for (tries = 0; tries < 50; tries++) {
		usleep(100000);
		ci = info_of(c);
		si = info_of(s);
		if (ci.tx_msgs == si.rx_msgs && si.tx_msgs == ci.rx_msgs &&
		    ci.tx_credits_granted == si.rx_credits_granted &&
		    si.tx_credits_granted == ci.rx_credits_granted)
			break;
	}
	/* The same sockets read by the other program, field by field. */
	for (tries = 0; tries < 5; tries++) {
		f = fmemopen(mine, sizeof(mine), "w");
		CHECK(f, "fmemopen: %s", strerror(errno));
		info_print(f, c);
		info_print(f, s);
		fclose(f);
		peer_dump(c, s, theirs, sizeof(theirs));
		if (!strcmp(mine, theirs))
			break;
		usleep(200000);
	}
	if (strcmp(mine, theirs))
		first_diff(mine, theirs);

	/* And the values are those the exchange produced. */
	CHECK(ci.state == 6 && si.state == 6 && ci.version == 0x0100 &&
	      si.version == 0x0100, "state %u/%u version %#x/%#x", ci.state,
	      si.state, ci.version, si.version);
	CHECK(ci.transport == want && ci.port_num == 1 &&
	      !strncmp(ci.device, link_type, 3) && si.transport == want &&
	      !strncmp(si.device, link_type, 3),
	      "transport %u/%u port %u device %.64s/%.64s", ci.transport,
	      si.transport, ci.port_num, ci.device, si.device);
	CHECK(ci.keepalive_interval == param("keepalive_interval") &&
	      !ci.reserved && ci.max_send_size && si.max_recv_size,
	      "keepalive %u reserved %u sizes %u/%u", ci.keepalive_interval,
	      ci.reserved, ci.max_send_size, si.max_recv_size);
	CHECK(ci.tx_pdus == (uint64_t)n && si.rx_pdus == (uint64_t)n &&
	      si.tx_pdus == (uint64_t)n && ci.rx_pdus == (uint64_t)n,
	      "PDUs: client %llu/%llu server %llu/%llu, %d each way",
	      (unsigned long long)ci.tx_pdus, (unsigned long long)ci.rx_pdus,
	      (unsigned long long)si.tx_pdus, (unsigned long long)si.rx_pdus,
	      n);
	CHECK(ci.tx_bytes == cs && si.rx_bytes == cs && si.tx_bytes == sc &&
	      ci.rx_bytes == sc,
	      "bytes: client %llu/%llu server %llu/%llu, sent %llu/%llu",
	      (unsigned long long)ci.tx_bytes, (unsigned long long)ci.rx_bytes,
	      (unsigned long long)si.tx_bytes, (unsigned long long)si.rx_bytes,
	      (unsigned long long)cs, (unsigned long long)sc);
	CHECK(ci.tx_msgs == si.rx_msgs && si.tx_msgs == ci.rx_msgs &&
	      ci.tx_msgs >= (uint64_t)n && !ci.violations && !si.violations,
	      "messages: client %llu/%llu server %llu/%llu",
	      (unsigned long long)ci.tx_msgs, (unsigned long long)ci.rx_msgs,
	      (unsigned long long)si.tx_msgs, (unsigned long long)si.rx_msgs);

	close3(l, c, s);
}

/* ---- SO_PROTOCOL: never IPPROTO_TCP (BPF would take us for TCP) ---- */

static int so_protocol(int fd, const char *who)
{
	socklen_t len = sizeof(int);
	int v = -1;

	CHECK(!getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &v, &len),
	      "%s: SO_PROTOCOL: %s", who, strerror(errno));
	return v;
}

static void t_protocol(void)
{
	int l0 = socket(fam, SOCK_STREAM, 0);
	int l6 = socket(fam, SOCK_STREAM, IPPROTO_TCP);
	int c0 = socket(fam, SOCK_STREAM, 0);
	int c6 = socket(fam, SOCK_STREAM, IPPROTO_TCP);
	int s0, s6, fd;
	struct {
		int *fd;
		const char *who;
	} all[] = {
		{ &l0, "listener made with protocol 0" },
		{ &l6, "listener made with IPPROTO_TCP" },
		{ &c0, "client made with protocol 0" },
		{ &c6, "client made with IPPROTO_TCP" },
		{ &s0, "accepted from the protocol-0 listener" },
		{ &s6, "accepted from the IPPROTO_TCP listener" },
	};
	size_t i;

	CHECK(l0 >= 0 && l6 >= 0 && c0 >= 0 && c6 >= 0, "socket: %s",
	      strerror(errno));
	for (i = 0; i < 4; i++)
		CHECK(so_protocol(*all[i].fd, all[i].who) == 0,
		      "%s: SO_PROTOCOL %d before connecting, want 0 (never "
		      "IPPROTO_TCP)", all[i].who,
		      so_protocol(*all[i].fd, all[i].who));
	listen_on(l0, 0);
	connect_to(c6);
	s0 = accept_on(l0);
	listen_on(l6, 0);
	connect_to(c0);
	s6 = accept_on(l6);
	for (i = 0; i < 6; i++)
		CHECK(so_protocol(*all[i].fd, all[i].who) == 0,
		      "%s: SO_PROTOCOL %d, want 0 (never IPPROTO_TCP)",
		      all[i].who, so_protocol(*all[i].fd, all[i].who));
	/* Other protocols are still refused. */
	fd = socket(fam, SOCK_STREAM, IPPROTO_UDP);
	CHECK(fd < 0 && errno == EPROTONOSUPPORT,
	      "socket(IPPROTO_UDP): %d %s", fd, strerror(errno));
	send_pdu(c6, 100, 1);
	recv_pdu(s0, 100, 1);
	for (i = 0; i < 6; i++)
		close(*all[i].fd);
}

/* ---- memory: max_socket_memory, max_memory, buffer_bytes ---- */

#ifndef CAP_NET_ADMIN
#define CAP_NET_ADMIN	12
#endif
#define MIB		(1024ULL * 1024)

static unsigned long long param64(const char *name)
{
	char path[128];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/af_smbdirect/parameters/%s",
		 name);
	f = fopen(path, "r");
	CHECK(f, "module parameter %s: %s", name, strerror(errno));
	CHECK(fscanf(f, "%llu", &v) == 1, "%s unreadable", path);
	fclose(f);
	return v;
}

static int set_param64(const char *name, unsigned long long v)
{
	char path[128];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/af_smbdirect/parameters/%s",
		 name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	ok = fprintf(f, "%llu\n", v) > 0;
	return fclose(f) || !ok ? -1 : 0;
}

/* Drop CAP_NET_ADMIN from this process (before it creates sockets). */
static void drop_net_admin(void)
{
	struct __user_cap_header_struct {
		uint32_t version;
		int pid;
	} h = { 0x20080522, 0 };	/* _LINUX_CAPABILITY_VERSION_3 */
	struct __user_cap_data_struct {
		uint32_t effective, permitted, inheritable;
	} d[2];

	CHECK(!syscall(SYS_capget, &h, d), "capget: %s", strerror(errno));
	d[0].effective &= ~(1u << CAP_NET_ADMIN);
	d[0].permitted &= ~(1u << CAP_NET_ADMIN);
	d[0].inheritable &= ~(1u << CAP_NET_ADMIN);
	CHECK(!syscall(SYS_capset, &h, d), "capset: %s", strerror(errno));
}

/* Run fn in a child without CAP_NET_ADMIN; it must exit 0. */
static void unprivileged(void (*fn)(void), const char *what)
{
	int st;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (!pid) {
		drop_net_admin();
		fn();
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      !WEXITSTATUS(st), "%s without CAP_NET_ADMIN failed (above)",
	      what);
}

/* recv_credit_max x max_recv_size + send pool against 8 MiB. */
static void memlimit_unpriv(void)
{
	int fd = sock_new(), l = sock_new(), err;

	/* 4096 x 1364 + 64 x 1364: 5.7 MB, within the bound. */
	CHECK(!(err = set_err(fd, SMBDIRECT_RECV_CREDIT_MAX, 4096)),
	      "4096 receives of 1364 bytes (5.7 MB) refused: %s",
	      strerror(err));
	/* 4096 x 8192: 32 MiB. */
	err = set_err(fd, SMBDIRECT_MAX_RECV_SIZE, 8192);
	CHECK(err == EPERM, "4096 receives of 8192 bytes (32 MiB) past "
	      "max_socket_memory: %s, want EPERM", err ? strerror(err) :
	      "accepted");
	CHECK(getu(fd, SMBDIRECT_MAX_RECV_SIZE) == param("max_receive_size"),
	      "a refused limit changed the socket: %u",
	      getu(fd, SMBDIRECT_MAX_RECV_SIZE));
	CHECK(!(err = set_err(fd, SMBDIRECT_MAX_RECV_SIZE, 1800)),
	      "4096 receives of 1800 bytes (7.4 MB) refused: %s",
	      strerror(err));
	setu(fd, SMBDIRECT_RECV_CREDIT_MAX, 16);
	setu(fd, SMBDIRECT_MAX_RECV_SIZE, 65536);
	err = set_err(fd, SMBDIRECT_RECV_CREDIT_MAX, 4096);
	CHECK(err == EPERM, "4096 receives of 64 KiB (256 MiB): %s, want "
	      "EPERM", err ? strerror(err) : "accepted");
	CHECK(getu(fd, SMBDIRECT_RECV_CREDIT_MAX) == 16,
	      "a refused limit changed the socket: %u",
	      getu(fd, SMBDIRECT_RECV_CREDIT_MAX));
	/* The send pool counts: 16 x 64 KiB + 64 x 64 KiB = 5 MiB fits,
	 * 96 x 64 KiB + 64 x 64 KiB = 10 MiB does not (6 MiB alone would). */
	CHECK(!(err = set_err(fd, SMBDIRECT_MAX_SEND_SIZE, 65536)),
	      "a 4 MiB send pool with 1 MiB of receives refused: %s",
	      strerror(err));
	err = set_err(fd, SMBDIRECT_RECV_CREDIT_MAX, 96);
	CHECK(err == EPERM, "96 x 64 KiB receives + 64 x 64 KiB sends "
	      "(10 MiB): %s, want EPERM (the send pool counts)",
	      err ? strerror(err) : "accepted");
	/* A listener's limits bind its children: the same rule. */
	err = set_err(l, SMBDIRECT_MAX_RECV_SIZE, 65536);
	CHECK(err == EPERM, "listener: 255 x 64 KiB receives: %s, want "
	      "EPERM", err ? strerror(err) : "accepted");
	close(fd);
	close(l);
}

/* After max_socket_memory was raised to 64 MiB. */
static void memlimit_unpriv64(void)
{
	int fd = sock_new(), err;

	setu(fd, SMBDIRECT_RECV_CREDIT_MAX, 4096);
	CHECK(!(err = set_err(fd, SMBDIRECT_MAX_RECV_SIZE, 8192)),
	      "with max_socket_memory at 64 MiB, 32 MiB refused: %s",
	      strerror(err));
	close(fd);
}

static void t_memlimit(void)
{
	unsigned long long def = param64("max_socket_memory");
	int fd, err;

	CHECK(def == 8 * MIB, "max_socket_memory defaults to %llu, want "
	      "8 MiB", def);
	unprivileged(memlimit_unpriv, "max_socket_memory");
	/* CAP_NET_ADMIN may go past it. */
	fd = sock_new();
	setu(fd, SMBDIRECT_RECV_CREDIT_MAX, 4096);
	CHECK(!(err = set_err(fd, SMBDIRECT_MAX_RECV_SIZE, 65536)),
	      "256 MiB of receives refused with CAP_NET_ADMIN: %s",
	      strerror(err));
	close(fd);
	/* The parameter moves the bound. */
	CHECK(!set_param64("max_socket_memory", 64 * MIB),
	      "max_socket_memory not writable: %s", strerror(errno));
	unprivileged(memlimit_unpriv64, "max_socket_memory=64M");
	CHECK(!set_param64("max_socket_memory", def), "restore: %s",
	      strerror(errno));
}

static unsigned long long bb_of(int fd, const char *who)
{
	long long v = sd_buffer_bytes(fd);

	CHECK(v >= 0, "%s: SMBDIRECT_INFO has no buffer_bytes field (%s)",
	      who, strerror(errno));
	return v;
}

/* buffer_bytes: what a socket pins; nothing on an idle listener. */
static void t_bufbytes(void)
{
	unsigned long long ring = (unsigned long long)param("recv_credit_max") *
				  param("max_receive_size");
	unsigned long long bl, bc, bs;
	int l = sock_new(), c = sock_new(), s;

	listen_on(l, 0);
	CHECK(bb_of(l, "listener") == 0, "idle listener pins %llu bytes",
	      bb_of(l, "listener"));
	CHECK(bb_of(c, "client") == 0, "unconnected socket pins %llu bytes",
	      bb_of(c, "client"));
	connect_to(c);
	s = accept_on(l);
	bl = bb_of(l, "listener");
	bc = bb_of(c, "client");
	bs = bb_of(s, "accepted");
	printf("buffer_bytes: client %llu, accepted %llu, listener %llu; "
	       "receive ring %llu\n", bc, bs, bl, ring);
	CHECK(bl == 0, "listener without pending children pins %llu", bl);
	CHECK(bc >= ring && bs >= ring, "connected sockets pin %llu and %llu, "
	      "less than their receive ring (%llu)", bc, bs, ring);
	CHECK(bc < 4 * ring + 16 * MIB && bs < 4 * ring + 16 * MIB,
	      "connected sockets pin %llu and %llu", bc, bs);
	send_pdu(c, 5000, 1);
	recv_pdu(s, 5000, 1);
	close3(l, c, s);
}

static unsigned long long saved_max_memory;
static int max_memory_changed;

static void restore_max_memory(void)
{
	if (max_memory_changed)
		set_param64("max_memory", saved_max_memory);
}

/* A client with the smallest limits: a few KiB of buffers. */
static int small_sock(void)
{
	int fd = sock_new();

	setu(fd, SMBDIRECT_RECV_CREDIT_MAX, 3);
	setu(fd, SMBDIRECT_SEND_CREDIT_TARGET, 3);
	return fd;
}

/* connect, retrying ENOBUFS/ECONNREFUSED while teardowns release memory. */
static int connect_retry(int (*mk)(void), const char *what)
{
	int fd, err = 0, i;

	for (i = 0; i < 50; i++) {
		fd = mk();
		if (!connect(fd, (void *)&srv, srvlen))
			return fd;
		err = errno;
		close(fd);
		if (err != ENOBUFS && err != ECONNREFUSED)
			break;
		usleep(200000);
	}
	die("%s: connect: %s", what, strerror(err));
}

/* Accept within ms, or -1 with errno (EAGAIN: nothing came). */
static int accept_within(int l, int ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	int fl = fcntl(l, F_GETFL), s, err;

	poll(&p, 1, ms);
	fcntl(l, F_SETFL, fl | O_NONBLOCK);
	s = accept(l, NULL, NULL);
	err = errno;
	fcntl(l, F_SETFL, fl);
	errno = err;
	return s;
}

/* max_memory bounds all sockets together. */
static void t_memtotal(void)
{
	unsigned long long S, small;
	int l = sock_new(), c0, s0, c1, s1, c2, err, ca, sa, cb, cc, sc;

	saved_max_memory = param64("max_memory");
	atexit(restore_max_memory);
	listen_on(l, 0);
	c0 = connect_retry(sock_new, "first default connection");
	s0 = accept_on(l);
	S = bb_of(c0, "client");
	if (bb_of(s0, "accepted") > S)
		S = bb_of(s0, "accepted");
	ca = connect_retry(small_sock, "small client");
	sa = accept_on(l);
	small = bb_of(ca, "small client");
	printf("a default socket pins %llu bytes, a small client %llu\n", S,
	       small);
	CHECK(small * 8 < S, "a 3-credit client pins %llu, a default one %llu",
	      small, S);
	close(ca);
	close(sa);
	close(c0);
	close(s0);

	/* Room for two default sockets and a half: a third one's connect
	 * fails with ENOBUFS. */
	max_memory_changed = 1;
	CHECK(!set_param64("max_memory", S * 5 / 2), "max_memory not "
	      "writable: %s", strerror(errno));
	c1 = connect_retry(sock_new, "a pair within max_memory");
	s1 = accept_on(l);
	c2 = sock_new();
	err = connect(c2, (void *)&srv, srvlen) ? errno : 0;
	CHECK(err == ENOBUFS, "a connect past max_memory (%llu in use of "
	      "%llu): %s, want ENOBUFS", 2 * S, S * 5 / 2,
	      err ? strerror(err) : "connected");
	close(c2);
	CHECK(accept_within(l, 500) < 0 && errno == EAGAIN,
	      "the refused connect reached the listener");
	close(c1);
	close(s1);

	/* Room for one default socket and a half: a small client fits, its
	 * default-sized child does not, so the listener refuses it. */
	CHECK(!set_param64("max_memory", S * 3 / 2), "max_memory: %s",
	      strerror(errno));
	ca = connect_retry(small_sock, "small client within max_memory");
	sa = accept_on(l);
	cb = small_sock();
	err = connect(cb, (void *)&srv, srvlen) ? errno : 0;
	CHECK(err == ECONNREFUSED, "a connection whose child would pass "
	      "max_memory: %s, want ECONNREFUSED", err ? strerror(err) :
	      "connected");
	close(cb);
	CHECK(accept_within(l, 500) < 0 && errno == EAGAIN,
	      "the listener queued a connection past max_memory");
	/* Closing gives the memory back. */
	close(ca);
	close(sa);
	cc = connect_retry(small_sock, "small client after closing");
	sc = accept_on(l);
	send_pdu(cc, 3000, 2);
	recv_pdu(sc, 3000, 2);
	close(cc);
	close(sc);
	close(l);
	CHECK(!set_param64("max_memory", saved_max_memory), "restore: %s",
	      strerror(errno));
	max_memory_changed = 0;
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "limits", t_limits }, { "negotiated", t_negotiated },
	{ "device", t_device }, { "counters", t_counters },
	{ "tcpinfo", t_tcpinfo }, { "timeout", t_timeout },
	{ "port", t_port }, { "solsocket", t_solsocket },
	{ "ioctls", t_ioctls }, { "epoll", t_epoll }, { "select", t_select },
	{ "sndtimeo", t_sndtimeo }, { "iov", t_iov }, { "linger", t_linger },
	{ "chunkecho", t_chunkecho }, { "bothwrite", t_bothwrite },
	{ "abi", t_abi },
	{ "protocol", t_protocol }, { "memlimit", t_memlimit },
	{ "bufbytes", t_bufbytes }, { "memtotal", t_memtotal },
};

int main(int argc, char **argv)
{
	const char *addr = "10.99.0.1";
	size_t i;
	int opt;

	fam = param("family");
	while ((opt = getopt(argc, argv, "l:t:")) != -1) {
		if (opt == 'l')
			addr = optarg;
		else if (opt == 't')
			link_type = optarg;
		else
			die("usage: sdopt [-l ADDR] [-t rxe|siw] TEST");
	}
	if (optind >= argc)
		die("usage: sdopt [-l ADDR] [-t rxe|siw] TEST");
	if (!strcmp(argv[optind], "infodump")) {
		while (++optind < argc)
			info_print(stdout, atoi(argv[optind]));
		return 0;
	}
	peer_prog = argv[optind + 1];
	set_addr(addr);
	signal(SIGPIPE, SIG_IGN);
	alarm(200);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!strcmp(argv[optind], tests[i].name)) {
			tests[i].fn();
			return 0;
		}
	}
	die("unknown test %s", argv[optind]);
	return 1;
}
