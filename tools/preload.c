// SPDX-License-Identifier: GPL-2.0
/*
 * libsmbdirect-preload.so: run an unmodified TCP program over AF_SMBDIRECT.
 *
 * With this library in LD_PRELOAD, a TCP socket that binds or listens on,
 * or connects to, a configured port (default 445) is replaced in place by
 * an AF_SMBDIRECT socket: a new socket is created, the options the program
 * set on the TCP socket are copied to it, and dup3() puts it on the same
 * descriptor number with the same FD_CLOEXEC and O_NONBLOCK.  Every other
 * call, and every socket that does not match, goes to libc untouched.
 *
 * There is no per-process state: the configuration is read from the
 * environment and the configuration file on every call that may swap, and
 * a swapped descriptor is an ordinary kernel socket, so fork, exec and
 * SCM_RIGHTS need nothing from us.  See man/libsmbdirect-preload.8.
 *
 * Nothing here allocates memory: the interposed calls may run in a child
 * between fork and exec or with locks held.
 */

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <unistd.h>
#include <linux/af_smbdirect.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define EXPORT __attribute__((visibility("default")))

#define CONF_DEFAULT	"/etc/smbdirect-preload.conf"
#define SYSFS_FAMILY	"/sys/module/af_smbdirect/parameters/family"
#define MAX_PORTS	32
#define MAX_NETS	32

#define ROLE_CLIENT	1
#define ROLE_SERVER	2

struct net {
	int af;			/* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int plen;
};

struct cfg {
	const char *bad;	/* key that failed to parse, or NULL */
	char badval[64];
	int nports;
	unsigned short port_lo[MAX_PORTS], port_hi[MAX_PORTS];
	int nnets;
	struct net nets[MAX_NETS];
	int fallback;
	int role;
	int family;		/* 0: module parameter, else AF_SMBDIRECT */
	int verbose;
	int test_mptcp;		/* swap for MPTCP instead: tests without the module */
	char log[256];		/* "stderr", "syslog", "none" or a file */
};

/* ---- the real calls ---- */

typedef int (*addr_fn)(int, const struct sockaddr *, socklen_t);
typedef int (*listen_fn)(int, int);

static void *real_sym(void **slot, const char *name)
{
	void *p = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!p) {
		p = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	}
	return p;
}

static int real_bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	static void *slot;
	addr_fn f = (addr_fn)real_sym(&slot, "bind");

	return f ? f(fd, sa, len) : (int)syscall(SYS_bind, fd, sa, len);
}

static int real_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static void *slot;
	addr_fn f = (addr_fn)real_sym(&slot, "connect");

	return f ? f(fd, sa, len) : (int)syscall(SYS_connect, fd, sa, len);
}

static int real_listen(int fd, int backlog)
{
	static void *slot;
	listen_fn f = (listen_fn)real_sym(&slot, "listen");

	return f ? f(fd, backlog) : (int)syscall(SYS_listen, fd, backlog);
}

/* ---- logging: one write per line ---- */

static void logmsg(const struct cfg *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void logmsg(const struct cfg *c, const char *fmt, ...)
{
	char line[512];
	int saved = errno, n, fd;
	const char *to = c->log[0] ? c->log : "stderr";
	va_list ap;

	if (!strcmp(to, "none"))
		return;
	n = snprintf(line, sizeof(line), "libsmbdirect-preload[%d]: ",
		     (int)getpid());
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (!strcmp(to, "syslog")) {
		syslog(LOG_DAEMON | LOG_NOTICE, "%s", line);
		errno = saved;
		return;
	}
	n = strlen(line);
	line[n++] = '\n';
	/* A failed write has nowhere else to be reported. */
	if (!strcmp(to, "stderr")) {
		n = write(2, line, n);
	} else {
		fd = open(to, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0) {
			n = write(fd, line, n);
			close(fd);
		}
	}
	errno = saved;
}

/* ---- configuration ---- */

static int parse_uint(const char *s, size_t len, unsigned long max,
		      unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!len || len > 10)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int is_sep(char ch)
{
	return ch == ',' || ch == ' ' || ch == '\t';
}

/* "445", "445,5445", "5000-5010 445" */
static int parse_ports(struct cfg *c, const char *v)
{
	const char *p = v, *tok, *dash;
	unsigned long lo, hi;
	size_t len;

	c->nports = 0;
	while (*p) {
		while (is_sep(*p))
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && !is_sep(*p))
			p++;
		len = p - tok;
		dash = memchr(tok, '-', len);
		if (dash) {
			if (parse_uint(tok, dash - tok, 65535, &lo) ||
			    parse_uint(dash + 1, tok + len - dash - 1, 65535, &hi))
				return -1;
		} else {
			if (parse_uint(tok, len, 65535, &lo))
				return -1;
			hi = lo;
		}
		if (!lo || hi < lo || c->nports == MAX_PORTS)
			return -1;
		c->port_lo[c->nports] = lo;
		c->port_hi[c->nports] = hi;
		c->nports++;
	}
	return c->nports ? 0 : -1;
}

/* "10.0.0.1,fd00::/64 192.168.1.0/24" */
static int parse_addrs(struct cfg *c, const char *v)
{
	const char *p = v, *tok, *slash;
	char buf[INET6_ADDRSTRLEN + 1];
	unsigned long plen;
	struct net *n;
	size_t len, alen;

	c->nnets = 0;
	while (*p) {
		while (is_sep(*p))
			p++;
		if (!*p)
			break;
		tok = p;
		while (*p && !is_sep(*p))
			p++;
		len = p - tok;
		if (c->nnets == MAX_NETS)
			return -1;
		n = &c->nets[c->nnets];
		slash = memchr(tok, '/', len);
		alen = slash ? (size_t)(slash - tok) : len;
		if (!alen || alen >= sizeof(buf))
			return -1;
		memcpy(buf, tok, alen);
		buf[alen] = 0;
		if (inet_pton(AF_INET, buf, n->addr) == 1)
			n->af = AF_INET;
		else if (inet_pton(AF_INET6, buf, n->addr) == 1)
			n->af = AF_INET6;
		else
			return -1;
		plen = n->af == AF_INET ? 32 : 128;
		if (slash && parse_uint(slash + 1, tok + len - slash - 1,
					plen, &plen))
			return -1;
		n->plen = plen;
		c->nnets++;
	}
	return 0;	/* an empty list means every address */
}

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = { "1", "yes", "on", "true", "tcp" };
	static const char *const no[] = { "0", "no", "off", "false", "none" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = 1;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int set_key(struct cfg *c, const char *key, const char *v)
{
	unsigned long n;
	int r = 0;

	if (!strcmp(key, "ports")) {
		r = parse_ports(c, v);
	} else if (!strcmp(key, "addresses")) {
		r = parse_addrs(c, v);
	} else if (!strcmp(key, "fallback")) {
		r = parse_bool(v, &c->fallback);
	} else if (!strcmp(key, "verbose")) {
		r = parse_bool(v, &c->verbose);
	} else if (!strcmp(key, "role")) {
		if (!strcmp(v, "client"))
			c->role = ROLE_CLIENT;
		else if (!strcmp(v, "server"))
			c->role = ROLE_SERVER;
		else if (!strcmp(v, "both"))
			c->role = ROLE_CLIENT | ROLE_SERVER;
		else
			r = -1;
	} else if (!strcmp(key, "family")) {
		if (!strcmp(v, "auto"))
			c->family = 0;
		else if (!parse_uint(v, strlen(v), 255, &n) && n)
			c->family = n;
		else
			r = -1;
	} else if (!strcmp(key, "log")) {
		if (strcmp(v, "stderr") && strcmp(v, "syslog") &&
		    strcmp(v, "none") && v[0] != '/')
			r = -1;
		else if (strlen(v) >= sizeof(c->log))
			r = -1;
		else
			strcpy(c->log, v);
	} else {
		c->bad = "unknown key";
		snprintf(c->badval, sizeof(c->badval), "%s", key);
		return -1;
	}
	if (r) {
		c->bad = key;
		snprintf(c->badval, sizeof(c->badval), "%s", v);
	}
	return r;
}

static const char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* "key = value" lines; '#' starts a comment line. */
static void read_file(struct cfg *c, const char *path, int must_exist)
{
	char buf[4096], *line, *next, *eq;
	const char *k;
	ssize_t n, got = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (must_exist) {
			c->bad = "config file";
			snprintf(c->badval, sizeof(c->badval), "%s: %s", path,
				 strerror(errno));
		}
		return;
	}
	while ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = 0;
	if (got == sizeof(buf) - 1) {
		c->bad = "config file";
		snprintf(c->badval, sizeof(c->badval), "%s: too long", path);
		return;
	}
	for (line = buf; line && !c->bad; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		k = trim(line);
		if (!*k || *k == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			c->bad = "config line";
			snprintf(c->badval, sizeof(c->badval), "%s", k);
			return;
		}
		*eq = 0;
		k = trim(line);
		set_key(c, k, trim(eq + 1));
	}
}

static void load_cfg(struct cfg *c)
{
	static const struct { const char *env, *key; } envs[] = {
		{ "SMBDIRECT_PORTS", "ports" },
		{ "SMBDIRECT_ADDRESSES", "addresses" },
		{ "SMBDIRECT_FALLBACK", "fallback" },
		{ "SMBDIRECT_ROLE", "role" },
		{ "SMBDIRECT_FAMILY", "family" },
		{ "SMBDIRECT_LOG", "log" },
		{ "SMBDIRECT_VERBOSE", "verbose" },
	};
	const char *path = getenv("SMBDIRECT_PRELOAD_CONF"), *v;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->nports = 1;
	c->port_lo[0] = c->port_hi[0] = 445;
	c->role = ROLE_CLIENT | ROLE_SERVER;
	/* The environment wins over the file, key by key. */
	read_file(c, path && *path ? path : CONF_DEFAULT, path && *path);
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]) && !c->bad; i++) {
		v = getenv(envs[i].env);
		if (v)
			set_key(c, envs[i].key, v);
	}
	v = getenv("SMBDIRECT_PRELOAD_TEST_MPTCP");
	c->test_mptcp = v && !strcmp(v, "1");
}

/* ---- matching ---- */

/* Port and address (network order) of an inet sockaddr; v4-mapped IPv6
 * addresses are seen as IPv4. */
static int sa_split(const struct sockaddr *sa, socklen_t len, int *af,
		    const unsigned char **addr, unsigned short *port)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s = (const void *)sa;

		*af = AF_INET;
		*addr = (const unsigned char *)&s->sin_addr;
		*port = ntohs(s->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s = (const void *)sa;

		*af = AF_INET6;
		*addr = s->sin6_addr.s6_addr;
		*port = ntohs(s->sin6_port);
		if (!memcmp(*addr, mapped, 12)) {
			*af = AF_INET;
			*addr += 12;
		}
		return 0;
	}
	return -1;
}

static int net_has(const struct net *n, int af, const unsigned char *a)
{
	int bits = n->plen, i;

	if (n->af != af)
		return 0;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a[i] != n->addr[i])
			return 0;
	return !bits || !((a[i] ^ n->addr[i]) & (0xff00 >> bits));
}

static int cfg_match(const struct cfg *c, const struct sockaddr *sa,
		     socklen_t len)
{
	const unsigned char *a;
	unsigned short port;
	int af, i, ok = 0;

	if (sa_split(sa, len, &af, &a, &port))
		return 0;
	for (i = 0; i < c->nports && !ok; i++)
		ok = port >= c->port_lo[i] && port <= c->port_hi[i];
	if (!ok || !c->nnets)
		return ok;
	for (i = 0; i < c->nnets; i++)
		if (net_has(&c->nets[i], af, a))
			return 1;
	return 0;
}

static const char *sa_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)sa;

		inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else {
		const struct sockaddr_in6 *s = (const void *)sa;

		inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	}
	return buf;
}

/* ---- the swap ---- */

/* A TCP socket of ours to swap: inet or inet6, stream, protocol TCP. */
static int tcp_domain(int fd)
{
	int dom, type, proto;
	socklen_t l = sizeof(int);

	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &l) ||
	    (dom != AF_INET && dom != AF_INET6))
		return 0;
	l = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) || type != SOCK_STREAM)
		return 0;
	l = sizeof(int);
	if (getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &l) ||
	    proto != IPPROTO_TCP)
		return 0;
	return dom;
}

static int smbd_family(const struct cfg *c)
{
	char buf[16] = "";
	int fd, v;
	ssize_t n;

	if (c->family)
		return c->family;
	fd = open(SYSFS_FAMILY, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			v = atoi(buf);
			if (v > 0)
				return v;
		}
	}
	return AF_SMBDIRECT;
}

static const char *target_name(const struct cfg *c, char *buf, size_t len)
{
	if (c->test_mptcp)
		snprintf(buf, len, "MPTCP (test mode)");
	else
		snprintf(buf, len, "AF_SMBDIRECT (family %d)", smbd_family(c));
	return buf;
}

static int new_socket(const struct cfg *c, int dom)
{
	if (c->test_mptcp)
		return socket(dom, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_MPTCP);
	return socket(smbd_family(c), SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/*
 * The options copied when the program set them, i.e. when the TCP
 * socket's value differs from a fresh TCP socket's.  SO_RCVBUF and
 * SO_SNDBUF read back doubled, so they are set to half.
 */
static const struct opt {
	int level, name, size, v6only, halve;
	const char *str;
} opts[] = {
	{ SOL_SOCKET, SO_REUSEADDR, sizeof(int), 0, 0, "SO_REUSEADDR" },
	{ SOL_SOCKET, SO_REUSEPORT, sizeof(int), 0, 0, "SO_REUSEPORT" },
	{ SOL_SOCKET, SO_KEEPALIVE, sizeof(int), 0, 0, "SO_KEEPALIVE" },
	{ SOL_SOCKET, SO_RCVBUF, sizeof(int), 0, 1, "SO_RCVBUF" },
	{ SOL_SOCKET, SO_SNDBUF, sizeof(int), 0, 1, "SO_SNDBUF" },
	{ SOL_SOCKET, SO_RCVTIMEO, sizeof(struct timeval), 0, 0, "SO_RCVTIMEO" },
	{ SOL_SOCKET, SO_SNDTIMEO, sizeof(struct timeval), 0, 0, "SO_SNDTIMEO" },
	{ SOL_SOCKET, SO_LINGER, sizeof(struct linger), 0, 0, "SO_LINGER" },
	{ SOL_SOCKET, SO_PRIORITY, sizeof(int), 0, 0, "SO_PRIORITY" },
	{ SOL_SOCKET, SO_RCVLOWAT, sizeof(int), 0, 0, "SO_RCVLOWAT" },
	{ IPPROTO_TCP, TCP_NODELAY, sizeof(int), 0, 0, "TCP_NODELAY" },
	{ IPPROTO_TCP, TCP_KEEPIDLE, sizeof(int), 0, 0, "TCP_KEEPIDLE" },
	{ IPPROTO_TCP, TCP_KEEPINTVL, sizeof(int), 0, 0, "TCP_KEEPINTVL" },
	{ IPPROTO_TCP, TCP_KEEPCNT, sizeof(int), 0, 0, "TCP_KEEPCNT" },
	{ IPPROTO_TCP, TCP_USER_TIMEOUT, sizeof(int), 0, 0, "TCP_USER_TIMEOUT" },
	{ IPPROTO_IPV6, IPV6_V6ONLY, sizeof(int), 1, 0, "IPV6_V6ONLY" },
};

/* Copy options and O_NONBLOCK (if nonblock >= 0, that value instead). */
static int copy_state(int from, int to, int dom, int nonblock,
		      const char **what)
{
	unsigned char a[32], b[32];
	socklen_t la, lb;
	int ref, fl, v;
	size_t i;

	ref = socket(dom, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (ref < 0) {
		*what = "reference socket";
		return -1;
	}
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const struct opt *o = &opts[i];

		if (o->v6only && dom != AF_INET6)
			continue;
		la = lb = o->size;
		memset(a, 0, sizeof(a));
		memset(b, 0, sizeof(b));
		if (getsockopt(from, o->level, o->name, a, &la) ||
		    getsockopt(ref, o->level, o->name, b, &lb))
			continue;	/* not readable here: nothing set */
		if (la == lb && !memcmp(a, b, la))
			continue;
		if (o->halve) {
			memcpy(&v, a, sizeof(v));
			v /= 2;
			memcpy(a, &v, sizeof(v));
		}
		if (setsockopt(to, o->level, o->name, a, la)) {
			*what = o->str;
			close(ref);
			return -1;
		}
	}
	close(ref);
	fl = fcntl(from, F_GETFL);
	if (fl < 0) {
		*what = "F_GETFL";
		return -1;
	}
	if (nonblock >= 0)
		fl = nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	if (fcntl(to, F_SETFL, (fcntl(to, F_GETFL) & ~O_NONBLOCK) |
		  (fl & O_NONBLOCK))) {
		*what = "O_NONBLOCK";
		return -1;
	}
	return 0;
}

static int set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

static int cloexec_flag(int fd)
{
	int f = fcntl(fd, F_GETFD);

	return f >= 0 && (f & FD_CLOEXEC) ? O_CLOEXEC : 0;
}

/* Put new on fd's number (closing new's own number). */
static int put_in_place(int newfd, int fd)
{
	int r;

	do
		r = dup3(newfd, fd, cloexec_flag(fd));
	while (r < 0 && (errno == EINTR || errno == EBUSY));
	close(newfd);
	return r < 0 ? -1 : 0;
}

static int bad_config(const struct cfg *c)
{
	logmsg(c, "bad configuration: %s '%s'; refusing TCP socket calls",
	       c->bad, c->badval);
	errno = EINVAL;
	return -1;
}

/* A swap that could not be done: fall back (0) or fail (-1, errno). */
static int swap_failed(const struct cfg *c, const char *call,
		       const struct sockaddr *sa, const char *what, int err)
{
	char as[64], tn[48];

	if (c->fallback) {
		logmsg(c, "%s %s over %s failed (%s: %s); falling back to TCP",
		       call, sa_str(sa, as, sizeof(as)),
		       target_name(c, tn, sizeof(tn)), what, strerror(err));
		return 0;
	}
	logmsg(c, "%s %s over %s failed (%s: %s)", call,
	       sa_str(sa, as, sizeof(as)), target_name(c, tn, sizeof(tn)),
	       what, strerror(err));
	errno = err;
	return -1;
}

static void swapped(const struct cfg *c, int fd, const char *call,
		    const struct sockaddr *sa)
{
	char as[64], tn[48];

	if (c->verbose)
		logmsg(c, "fd %d: %s %s: TCP swapped for %s", fd, call,
		       sa_str(sa, as, sizeof(as)), target_name(c, tn, sizeof(tn)));
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	int saved = errno, dom, nfd, err;
	const char *what;
	struct cfg c;

	dom = tcp_domain(fd);
	errno = saved;
	if (!dom)
		return real_bind(fd, sa, len);
	load_cfg(&c);
	if (c.bad)
		return bad_config(&c);
	if (!(c.role & ROLE_SERVER) || !cfg_match(&c, sa, len))
		return real_bind(fd, sa, len);

	nfd = new_socket(&c, dom);
	if (nfd < 0) {
		what = "socket";
		goto fail;
	}
	if (copy_state(fd, nfd, dom, -1, &what))
		goto fail_close;
	if (real_bind(nfd, sa, len)) {
		what = "bind";
		goto fail_close;
	}
	if (put_in_place(nfd, fd)) {
		/* Nothing changed: the TCP socket is still there. */
		return -1;
	}
	swapped(&c, fd, "bind", sa);
	errno = saved;
	return 0;

fail_close:
	err = errno;
	close(nfd);
	errno = err;
fail:
	/*
	 * With fallback the TCP socket binds, and listen() tries the swap
	 * again and logs the one line if it falls back there too.
	 */
	if (c.fallback) {
		if (c.verbose)
			swap_failed(&c, "bind", sa, what, errno);
		errno = saved;
		return real_bind(fd, sa, len);
	}
	return swap_failed(&c, "bind", sa, what, errno);
}

/*
 * A TCP socket bound to a matching address without us (bound before the
 * library was loaded, or by a direct system call) is swapped at listen:
 * the new socket binds the same address and listens.
 */
EXPORT int listen(int fd, int backlog)
{
	struct sockaddr_storage ss;
	struct sockaddr *sa = (struct sockaddr *)&ss;
	socklen_t len = sizeof(ss);
	int saved = errno, dom, nfd, keep, err;
	const char *what;
	struct cfg c;

	dom = tcp_domain(fd);
	if (!dom || getsockname(fd, sa, &len)) {
		errno = saved;
		return real_listen(fd, backlog);
	}
	errno = saved;
	load_cfg(&c);
	if (c.bad)
		return bad_config(&c);
	if (!(c.role & ROLE_SERVER) || !cfg_match(&c, sa, len))
		return real_listen(fd, backlog);

	nfd = new_socket(&c, dom);
	if (nfd < 0) {
		what = "socket";
		goto fail;
	}
	if (copy_state(fd, nfd, dom, -1, &what)) {
		err = errno;
		close(nfd);
		errno = err;
		goto fail;
	}
	/* The TCP socket stays open on keep until the new one listens. */
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0) {
		close(nfd);
		return -1;
	}
	if (put_in_place(nfd, fd)) {
		close(keep);
		return -1;
	}
	if (real_bind(fd, sa, len)) {
		what = "bind";
		goto restore;
	}
	if (real_listen(fd, backlog)) {
		what = "listen";
		goto restore;
	}
	close(keep);
	swapped(&c, fd, "listen", sa);
	errno = saved;
	return 0;

restore:
	err = errno;
	put_in_place(keep, fd);
	errno = err;
fail:
	if (swap_failed(&c, "listen", sa, what, errno))
		return -1;
	errno = saved;
	return real_listen(fd, backlog);
}

/* Bound to something other than the wildcard address and port 0? */
static int bound_addr(int fd, struct sockaddr_storage *ss, socklen_t *len)
{
	const unsigned char *a;
	unsigned short port;
	int af, i;

	*len = sizeof(*ss);
	if (getsockname(fd, (struct sockaddr *)ss, len) ||
	    sa_split((struct sockaddr *)ss, *len, &af, &a, &port))
		return 0;
	if (port)
		return 1;
	for (i = 0; i < (af == AF_INET ? 4 : 16); i++)
		if (a[i])
			return 1;
	return 0;
}

/*
 * Client side.  Without fallback a non-blocking connect stays
 * non-blocking (EINPROGRESS, then SO_ERROR).  With fallback the
 * SMB-Direct connect completes before connect() returns, so that its
 * failure can still become a TCP connect on the same socket; the
 * descriptor is non-blocking again afterwards.  On failure the TCP socket
 * is put back, so the descriptor is as it was before the call.
 */
EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage ls, peer;
	socklen_t llen, plen = sizeof(peer);
	int saved = errno, dom, nfd, keep, err, nonblock, r, bound;
	const char *what;
	struct cfg c;

	dom = tcp_domain(fd);
	/* Connected or connecting already: TCP answers (EISCONN, EALREADY). */
	if (!dom || !getpeername(fd, (struct sockaddr *)&peer, &plen)) {
		errno = saved;
		return real_connect(fd, sa, len);
	}
	errno = saved;
	load_cfg(&c);
	if (c.bad)
		return bad_config(&c);
	if (!(c.role & ROLE_CLIENT) || !cfg_match(&c, sa, len))
		return real_connect(fd, sa, len);

	nonblock = fcntl(fd, F_GETFL) & O_NONBLOCK ? 1 : 0;
	nfd = new_socket(&c, dom);
	if (nfd < 0) {
		what = "socket";
		goto fail;
	}
	if (copy_state(fd, nfd, dom, c.fallback ? 0 : -1, &what))
		goto fail_close;
	bound = bound_addr(fd, &ls, &llen);
	if (bound && real_bind(nfd, (struct sockaddr *)&ls, llen)) {
		what = "bind";
		goto fail_close;
	}
	keep = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (keep < 0)
		goto fail_close;
	if (put_in_place(nfd, fd)) {
		close(keep);
		return -1;
	}
	r = real_connect(fd, sa, len);
	err = errno;
	if (!r || err == EINPROGRESS || err == EINTR) {
		close(keep);
		if (c.fallback && nonblock) {
			set_nonblock(fd, 1);
			if (r)	/* interrupted, still connecting */
				err = EINPROGRESS;
		}
		swapped(&c, fd, "connect", sa);
		errno = r ? err : saved;
		return r;
	}
	/* Failed: the TCP socket goes back in place. */
	what = "connect";
	put_in_place(keep, fd);
	errno = err;
	goto fail;

fail_close:
	err = errno;
	close(nfd);
	errno = err;
fail:
	if (swap_failed(&c, "connect", sa, what, errno))
		return -1;
	errno = saved;
	return real_connect(fd, sa, len);
}

#ifdef PRELOAD_SELFTEST
/*
 * preload-cfg: print the configuration as this library reads it, and
 * whether an address would match:  preload-cfg [ADDR PORT]...
 */
int main(int argc, char **argv)
{
	char a[INET6_ADDRSTRLEN], tn[48];
	struct sockaddr_storage ss;
	struct cfg c;
	int i;

	load_cfg(&c);
	if (c.bad) {
		printf("bad %s '%s'\n", c.bad, c.badval);
		return 1;
	}
	printf("ports");
	for (i = 0; i < c.nports; i++)
		if (c.port_lo[i] == c.port_hi[i])
			printf(" %u", c.port_lo[i]);
		else
			printf(" %u-%u", c.port_lo[i], c.port_hi[i]);
	printf("\naddresses");
	for (i = 0; i < c.nnets; i++)
		printf(" %s/%d", inet_ntop(c.nets[i].af, c.nets[i].addr, a,
					   sizeof(a)), c.nets[i].plen);
	printf("\nfallback %d\nrole %s\nfamily %s\nlog %s\nverbose %d\n",
	       c.fallback, c.role == 3 ? "both" : c.role == 1 ? "client" :
	       "server", target_name(&c, tn, sizeof(tn)),
	       c.log[0] ? c.log : "stderr", c.verbose);
	for (i = 1; i + 1 < argc; i += 2) {
		memset(&ss, 0, sizeof(ss));
		if (inet_pton(AF_INET, argv[i],
			      &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
			ss.ss_family = AF_INET;
			((struct sockaddr_in *)&ss)->sin_port = htons(atoi(argv[i + 1]));
		} else if (inet_pton(AF_INET6, argv[i],
				     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
			ss.ss_family = AF_INET6;
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(atoi(argv[i + 1]));
		} else {
			printf("bad address %s\n", argv[i]);
			return 1;
		}
		printf("match %s %s %d\n", argv[i], argv[i + 1],
		       cfg_match(&c, (struct sockaddr *)&ss, sizeof(ss)));
	}
	return 0;
}
#endif
