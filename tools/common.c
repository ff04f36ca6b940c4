// SPDX-License-Identifier: GPL-2.0
/* Shared helpers for the af_smbdirect user-space tools. */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "common.h"

#define SYSFS_FAMILY "/sys/module/af_smbdirect/parameters/family"

const char *prog = "smbd-tool";
int quiet;

static void vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
	exit(1);
}

void warnmsg(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

long long parse_num(const char *s, const char *what, long long min,
		    long long max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (end != s) {
		switch (*end) {
		case 'k': case 'K': v <<= 10; end++; break;
		case 'm': case 'M': v <<= 20; end++; break;
		}
	}
	if (errno || end == s || *end || v < min || v > max)
		die("invalid %s '%s' (expected %lld..%lld)", what, s, min, max);
	return v;
}

int net_opt(struct net_opts *o, int c, const char *arg)
{
	switch (c) {
	case '4':
		o->ipver = 4;
		return 1;
	case '6':
		o->ipver = 6;
		return 1;
	case OPT_TCP:
		o->tcp = 1;
		return 1;
	case OPT_FAMILY:
		o->family = parse_num(arg, "family", 1, 255);
		return 1;
	case OPT_KEEPALIVE:
		o->keepalive = parse_num(arg, "keepalive interval", 0,
					 KEEPALIVE_MAX);
		return 1;
	}
	return 0;
}

static void set_int(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		die("setsockopt(%s, %d): %s", what, val, strerror(errno));
}

/*
 * --keepalive SECS on a new, listening or accepted socket.  AF_SMBDIRECT:
 * SMBDIRECT_KEEPALIVE_INTERVAL (an empty message asking for a response
 * after SECS idle, ETIMEDOUT if nothing arrives in the next SECS).  TCP:
 * the nearest equivalent, one probe after SECS idle and failure SECS
 * later.  0 turns keepalive off.  Exits on failure.
 */
void net_keepalive(const struct net_opts *o, int fd)
{
	uint32_t v = o->keepalive;

	if (o->keepalive < 0)
		return;
	if (!o->tcp) {
		if (setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_KEEPALIVE_INTERVAL,
			       &v, sizeof(v)) < 0)
			die("setsockopt(SMBDIRECT_KEEPALIVE_INTERVAL, %u): %s",
			    v, strerror(errno));
		return;
	}
	set_int(fd, SOL_SOCKET, SO_KEEPALIVE, o->keepalive > 0, "SO_KEEPALIVE");
	if (!o->keepalive)
		return;
	set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, o->keepalive, "TCP_KEEPIDLE");
	set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, o->keepalive, "TCP_KEEPINTVL");
	set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 1, "TCP_KEEPCNT");
}

/* Family number: override, else the module parameter, else the header. */
int smbd_family(int override)
{
	FILE *f;
	int v;

	if (override > 0)
		return override;
	f = fopen(SYSFS_FAMILY, "r");
	if (f) {
		if (fscanf(f, "%d", &v) == 1 && v > 0) {
			fclose(f);
			return v;
		}
		fclose(f);
	}
	return AF_SMBDIRECT;
}

const char *net_family_name(const struct net_opts *o)
{
	return o->tcp ? "tcp" : "smbdirect";
}

char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
		snprintf(buf, len, "[%s]:%u", host, ntohs(s->sin6_port));
	} else {
		snprintf(buf, len, "(family %d)", sa->sa_family);
	}
	return buf;
}

static int make_socket(const struct net_opts *o, int ai_family)
{
	int fam = o->tcp ? ai_family : smbd_family(o->family);
	int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 && !o->tcp &&
	    (errno == EAFNOSUPPORT || errno == EINVAL))
		die("socket(family %d): %s (is af_smbdirect loaded? "
		    "--tcp uses TCP instead)", fam, strerror(errno));
	if (fd >= 0)
		net_keepalive(o, fd);
	return fd;
}

static struct addrinfo *resolve(const struct net_opts *o, const char *host,
				const char *port, int passive)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	int err;

	hints.ai_family = o->ipver == 4 ? AF_INET :
			  o->ipver == 6 ? AF_INET6 : AF_UNSPEC;
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	err = getaddrinfo(host, port, &hints, &res);
	if (err)
		die("%s port %s: %s", host ? host : "*", port,
		    gai_strerror(err));
	return res;
}

/* Connect to the first address of @host that accepts; exits on failure. */
int net_connect(const struct net_opts *o, const char *host, const char *port)
{
	struct addrinfo *res, *ai;
	char buf[80];
	int fd = -1, err = 0;

	res = resolve(o, host, port, 0);
	for (ai = res; ai; ai = ai->ai_next) {
		fd = make_socket(o, ai->ai_family);
		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINTR && wait_fd(fd, POLLOUT) == 0) {
			socklen_t l = sizeof(err);

			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
			if (!err)
				break;
		} else {
			err = errno;
		}
		close(fd);
		fd = -1;
		if (ai->ai_next)
			warnmsg("connect %s: %s",
				sockaddr_str(ai->ai_addr, buf, sizeof(buf)),
				strerror(err));
	}
	freeaddrinfo(res);
	if (fd < 0)
		die("cannot connect to %s port %s: %s", host, port,
		    strerror(err));
	return fd;
}

/*
 * Bind and listen on @addr (NULL: wildcard, IPv6 dual-stack first, then
 * IPv4); exits on failure.
 */
int net_listen(const struct net_opts *o, const char *addr, const char *port)
{
	struct addrinfo *res, *ai;
	int fd = -1, err = 0, one = 1, zero = 0, pass;

	res = resolve(o, addr, port, 1);
	for (pass = 0; pass < 2 && fd < 0; pass++) {
		for (ai = res; ai; ai = ai->ai_next) {
			if ((ai->ai_family == AF_INET6) != (pass == 0))
				continue;
			fd = make_socket(o, ai->ai_family);
			if (fd < 0) {
				err = errno;
				continue;
			}
			/* Best effort: AF_SMBDIRECT may not know these. */
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				   sizeof(one));
			if (ai->ai_family == AF_INET6 && !addr)
				setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
					   &zero, sizeof(zero));
			if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
			    listen(fd, 128) == 0)
				break;
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		die("cannot listen on %s port %s: %s", addr ? addr : "*", port,
		    strerror(err));
	return fd;
}

int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int wait_fd(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&p, 1, -1);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -1 : 0;
}

/* Read until @n bytes or EOF; returns bytes read, or -1 on error. */
ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = read(fd, (char *)buf + done, n - done);
		if (r > 0) {
			done += r;
		} else if (r == 0) {
			break;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN))
				return -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return done;
}

/* Write all @n bytes; returns 0, or -1 on error. */
int write_full(int fd, const void *buf, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = write(fd, (const char *)buf + done, n - done);
		if (r >= 0) {
			done += r;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLOUT))
				return -1;
		} else if (errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

char *local_str(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		snprintf(buf, len, "?");
		return buf;
	}
	return sockaddr_str((struct sockaddr *)&ss, buf, len);
}

/* -v on a TCP socket: its keepalive settings, if keepalive is on. */
static void print_tcp_keepalive(int fd)
{
	int on = 0, idle = 0, intvl = 0, cnt = 0;
	socklen_t l = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, &l) < 0 || !on)
		return;
	l = sizeof(idle);
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l);
	l = sizeof(intvl);
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &l);
	l = sizeof(cnt);
	getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, &l);
	fprintf(stderr, "%s:   tcp keepalive: idle %d s, interval %d s, "
		"probes %d\n", prog, idle, intvl, cnt);
}

/* -v: local and peer address, then any SOL_SMBDIRECT parameters. */
void print_conn_info(int fd, const char *what)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char a[80], b[80];

	local_str(fd, a, sizeof(a));
	strcpy(b, "?");
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
		sockaddr_str((struct sockaddr *)&ss, b, sizeof(b));
	fprintf(stderr, "%s: %s local %s peer %s\n", prog, what, a, b);
	print_smbd_opts(fd);
	print_tcp_keepalive(fd);
}

static const char *transport_name(unsigned int t)
{
	switch (t) {
	case SMBDIRECT_TRANSPORT_IB:
		return "InfiniBand";
	case SMBDIRECT_TRANSPORT_ROCE:
		return "RoCE";
	case SMBDIRECT_TRANSPORT_IWARP:
		return "iWARP";
	default:
		return "no device";
	}
}

/* -v: the negotiated parameters and counters from SMBDIRECT_INFO. */
void print_smbd_opts(int fd)
{
	struct smbdirect_info in;
	socklen_t len = sizeof(in);

	memset(&in, 0, sizeof(in));
	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &in, &len) < 0)
		return;		/* not an AF_SMBDIRECT socket (--tcp) */
	fprintf(stderr,
		"%s:   negotiated: version 0x%04x, max send %u, max receive %u, "
		"max fragmented send %u / receive %u, max read/write %u\n",
		prog, in.version, in.max_send_size, in.max_recv_size,
		in.max_fragmented_send_size, in.max_fragmented_recv_size,
		in.max_read_write_size);
	fprintf(stderr,
		"%s:   credits: receive max %u, send target %u, held %u, "
		"granted to peer %u, receives posted %u; keepalive %u s\n",
		prog, in.recv_credit_max, in.send_credit_target,
		in.send_credits, in.recv_credits, in.recv_posted,
		in.keepalive_interval);
	fprintf(stderr,
		"%s:   counters: messages sent %llu, received %llu; payload bytes "
		"sent %llu, received %llu; empty messages %llu; credit waits %llu\n",
		prog, (unsigned long long)in.tx_msgs,
		(unsigned long long)in.rx_msgs,
		(unsigned long long)in.tx_bytes,
		(unsigned long long)in.rx_bytes,
		(unsigned long long)in.tx_empty_msgs,
		(unsigned long long)in.credit_waits);
	fprintf(stderr,
		"%s:   device %.*s port %u (%s); PDUs sent %llu, received %llu; "
		"credits granted %llu, received %llu; keepalives %llu; "
		"peer violations %llu\n",
		prog, (int)sizeof(in.device), in.device[0] ? in.device : "-",
		in.port_num, transport_name(in.transport),
		(unsigned long long)in.tx_pdus,
		(unsigned long long)in.rx_pdus,
		(unsigned long long)in.tx_credits_granted,
		(unsigned long long)in.rx_credits_granted,
		(unsigned long long)in.keepalives,
		(unsigned long long)in.violations);
}
