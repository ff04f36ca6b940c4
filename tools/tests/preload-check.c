// SPDX-License-Identifier: GPL-2.0
/*
 * preload-check: exercises libsmbdirect-preload.so from inside a process
 * that has it in LD_PRELOAD (tests/preload.sh).  Each check prints
 * "ok: NAME" or "not ok: NAME (why)"; the exit status is 1 if any failed.
 *
 *   preload-check swap   4|6 PORT PROTO  bind+listen, connect, fork, exec,
 *                                         SCM_RIGHTS; PROTO is the protocol
 *                                         swapped sockets must have (262 for
 *                                         the MPTCP test mode), 6 for none
 *   preload-check listen 4|6 PORT PROTO  bind behind the library's back
 *                                         (raw system call), swap at listen
 *   preload-check connect 4|6 PORT       connect to PORT, print errno name
 *   preload-check exec-child FD PORT PROTO  (internal: after exec)
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int failed;

static void result(int ok, const char *name, const char *why)
{
	if (ok) {
		printf("ok: %s\n", name);
	} else {
		printf("not ok: %s (%s)\n", name, why);
		failed = 1;
	}
	fflush(stdout);
}

static void expect(int ok, const char *name)
{
	char why[128];

	snprintf(why, sizeof(why), "errno %s", strerror(errno));
	result(ok, name, why);
}

static socklen_t make_addr(int ver, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ver == 4) {
		struct sockaddr_in *s = (void *)ss;

		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (void *)ss;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		s->sin6_addr = in6addr_loopback;
		return sizeof(*s);
	}
}

static ino_t ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

static int getint(int fd, int level, int name)
{
	socklen_t l = sizeof(int);
	int v = -1;

	if (getsockopt(fd, level, name, &v, &l))
		return -1000 - errno;
	return v;
}

static void setint(int fd, int level, int name, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)))
		fprintf(stderr, "setsockopt %d/%d: %s\n", level, name,
			strerror(errno));
}

/* Options a TCP program sets before bind/connect. */
static void set_opts(int fd, int ver)
{
	struct linger lg = { 1, 7 };
	struct timeval tv = { 3, 0 };

	setint(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	setint(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	setint(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	setint(fd, SOL_SOCKET, SO_RCVBUF, 65536);
	setint(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (ver == 6)
		setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
}

static void check_opts(int fd, int ver, const char *who)
{
	struct linger lg = { 0, 0 };
	struct timeval tv = { 0, 0 };
	socklen_t l;
	char n[96];

#define OPT(name, cond) do { \
		snprintf(n, sizeof(n), "%s keeps %s", who, name); \
		expect(cond, n); \
	} while (0)
	OPT("SO_REUSEADDR", getint(fd, SOL_SOCKET, SO_REUSEADDR) == 1);
	OPT("SO_REUSEPORT", getint(fd, SOL_SOCKET, SO_REUSEPORT) == 1);
	OPT("SO_KEEPALIVE", getint(fd, SOL_SOCKET, SO_KEEPALIVE) == 1);
	OPT("SO_RCVBUF", getint(fd, SOL_SOCKET, SO_RCVBUF) == 2 * 65536);
	OPT("TCP_NODELAY", getint(fd, IPPROTO_TCP, TCP_NODELAY) == 1);
	l = sizeof(lg);
	getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l);
	OPT("SO_LINGER", lg.l_onoff && lg.l_linger == 7);
	l = sizeof(tv);
	getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &l);
	OPT("SO_RCVTIMEO", tv.tv_sec == 3);
	if (ver == 6)
		OPT("IPV6_V6ONLY", getint(fd, IPPROTO_IPV6, IPV6_V6ONLY) == 1);
#undef OPT
}

/* A TCP socket with options and flags, placed on descriptor number at. */
static int prepared(int ver, int at, int nonblock, int cloexec)
{
	int fd = socket(ver == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);

	if (fd < 0 || dup2(fd, at) < 0) {
		perror("socket");
		exit(2);
	}
	close(fd);
	set_opts(at, ver);
	if (nonblock)
		fcntl(at, F_SETFL, fcntl(at, F_GETFL) | O_NONBLOCK);
	fcntl(at, F_SETFD, cloexec ? FD_CLOEXEC : 0);
	return at;
}

static void check_swapped(int fd, ino_t before, int proto, int nonblock,
			  int cloexec, const char *who)
{
	char n[96];

	snprintf(n, sizeof(n), "%s: same descriptor, new socket", who);
	expect(ino(fd) && ino(fd) != before, n);
	snprintf(n, sizeof(n), "%s: protocol %d", who, proto);
	expect(getint(fd, SOL_SOCKET, SO_PROTOCOL) == proto, n);
	snprintf(n, sizeof(n), "%s: O_NONBLOCK %s", who, nonblock ? "kept" : "clear");
	expect(!!(fcntl(fd, F_GETFL) & O_NONBLOCK) == nonblock, n);
	snprintf(n, sizeof(n), "%s: FD_CLOEXEC %s", who, cloexec ? "kept" : "clear");
	expect(!!(fcntl(fd, F_GETFD) & FD_CLOEXEC) == cloexec, n);
}

static int wait_fd(int fd, short ev)
{
	struct pollfd p = { .fd = fd, .events = ev };

	return poll(&p, 1, 10000) == 1;
}

/* Blocking accept on a possibly non-blocking listener. */
static int accept_one(int l)
{
	if (!wait_fd(l, POLLIN))
		return -1;
	return accept(l, NULL, NULL);
}

static int echo_one(int c)
{
	char buf[64];
	ssize_t n;

	n = read(c, buf, sizeof(buf));
	if (n <= 0)
		return -1;
	return write(c, buf, n) == n ? 0 : -1;
}

/* Connect through the library, non-blocking, and exchange a message. */
static void client(int ver, int port, int proto, const char *who)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(ver, port, &ss);
	char n[96], buf[16];
	int fd, r, err;
	ino_t before;

	fd = prepared(ver, 20, 1, 1);
	before = ino(fd);
	r = connect(fd, (struct sockaddr *)&ss, len);
	err = errno;
	snprintf(n, sizeof(n), "%s connect: 0 or EINPROGRESS", who);
	expect(!r || err == EINPROGRESS, n);
	snprintf(n, sizeof(n), "%s connect: writable, SO_ERROR 0", who);
	expect(wait_fd(fd, POLLOUT) && getint(fd, SOL_SOCKET, SO_ERROR) == 0, n);
	check_swapped(fd, before, proto, 1, 1, who);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	r = write(fd, "hello", 5) == 5 && read(fd, buf, sizeof(buf)) == 5 &&
	    !memcmp(buf, "hello", 5);
	snprintf(n, sizeof(n), "%s: data echoed", who);
	expect(r, n);
	close(fd);
}

static int run_client_child(int ver, int port, int proto, const char *who)
{
	pid_t p = fork();

	if (!p) {
		client(ver, port, proto, who);
		exit(failed);
	}
	return p;
}

static int reap(pid_t p)
{
	int st;

	return waitpid(p, &st, 0) == p && WIFEXITED(st) && !WEXITSTATUS(st);
}

/* SCM_RIGHTS: send fd over the socketpair sp. */
static int send_fd(int sp, int fd)
{
	char c = 'F', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sp, &m, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sp)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sp, &m, 0) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

static void serve_tests(int l, int ver, int port, int proto, const char *self)
{
	int c, sp[2], r;
	pid_t cl, ch;
	char arg[16], parg[16], prarg[16];

	/* Plain: a client in a child, this process accepts and echoes. */
	cl = run_client_child(ver, port, proto, "client");
	c = accept_one(l);
	expect(c >= 0 && getint(c, SOL_SOCKET, SO_PROTOCOL) == proto,
	       "accepted socket has the swapped protocol");
	expect(c >= 0 && !echo_one(c), "server echoes");
	close(c);
	expect(reap(cl), "client child passed");

	/* fork: a child of the listener accepts. */
	ch = fork();
	if (!ch) {
		c = accept_one(l);
		exit(c < 0 || echo_one(c));
	}
	cl = run_client_child(ver, port, proto, "client to forked server");
	expect(reap(ch), "forked child accepts and echoes on the swapped listener");
	expect(reap(cl), "client of the forked server passed");

	/* SCM_RIGHTS: the accepted socket goes to another process. */
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	ch = fork();
	if (!ch) {
		close(sp[0]);
		c = recv_fd(sp[1]);
		exit(c < 0 || getint(c, SOL_SOCKET, SO_PROTOCOL) != proto ||
		     echo_one(c));
	}
	close(sp[1]);
	cl = run_client_child(ver, port, proto, "client of a passed socket");
	c = accept_one(l);
	r = c >= 0 && !send_fd(sp[0], c);
	close(c);
	close(sp[0]);
	expect(r, "accepted socket sent with SCM_RIGHTS");
	expect(reap(ch), "receiving process echoes on the passed socket");
	expect(reap(cl), "client of the passed socket passed");

	/* exec: the listener without FD_CLOEXEC survives into a new image. */
	fcntl(l, F_SETFD, 0);
	ch = fork();
	if (!ch) {
		snprintf(arg, sizeof(arg), "%d", l);
		snprintf(parg, sizeof(parg), "%d", port);
		snprintf(prarg, sizeof(prarg), "%d", proto);
		execl(self, self, "exec-child", arg, parg, prarg, (char *)NULL);
		_exit(127);
	}
	cl = run_client_child(ver, port, proto, "client of an exec'd server");
	expect(reap(ch), "exec'd process accepts on the inherited listener");
	expect(reap(cl), "client of the exec'd server passed");
}

static int cmd_swap(int ver, int port, int proto, const char *self, int raw)
{
	struct sockaddr_storage ss, got;
	socklen_t len = make_addr(ver, port, &ss), gl = sizeof(got);
	int l, l2;
	ino_t before, before2;
	char n[64];
	const char *who = raw ? "listener (swap at listen)" : "listener";

	/* Non-blocking, close-on-exec listener on descriptor 10. */
	l = prepared(ver, 10, 1, 1);
	before = ino(l);
	if (raw)
		expect(!syscall(SYS_bind, l, &ss, len), "raw bind");
	else
		expect(!bind(l, (struct sockaddr *)&ss, len), "bind");
	if (!raw)
		check_swapped(l, before, proto, 1, 1, "listener after bind");
	expect(!listen(l, 16), "listen");
	check_swapped(l, before, proto, 1, 1, who);
	check_opts(l, ver, who);
	expect(!getsockname(l, (struct sockaddr *)&got, &gl) &&
	       ((struct sockaddr_in *)&got)->sin_port == htons(port),
	       "listener bound to the port");

	/* A blocking socket without FD_CLOEXEC keeps those too. */
	l2 = prepared(ver, 11, 0, 0);
	before2 = ino(l2);
	make_addr(ver, port + 1, &ss);
	expect(!bind(l2, (struct sockaddr *)&ss, len), "second bind");
	if (!raw) {
		snprintf(n, sizeof(n), "blocking listener");
		check_swapped(l2, before2, proto, 0, 0, n);
	}
	close(l2);

	serve_tests(l, ver, port, proto, self);
	close(l);
	return failed;
}

static int cmd_exec_child(int l, int port, int proto)
{
	int c;

	(void)port;
	expect(getint(l, SOL_SOCKET, SO_PROTOCOL) == proto &&
	       getint(l, SOL_SOCKET, SO_ACCEPTCONN) == 1,
	       "exec'd: inherited descriptor is the swapped listener");
	c = accept_one(l);
	return c < 0 || echo_one(c) || failed;
}

/* Connect (blocking) and print what happened; exchange data if it worked. */
static int cmd_connect(int ver, int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(ver, port, &ss);
	int fd = socket(ver == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);
	char buf[8];

	if (connect(fd, (struct sockaddr *)&ss, len)) {
		printf("connect: %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("connect: ok protocol %d\n", getint(fd, SOL_SOCKET, SO_PROTOCOL));
	if (write(fd, "ping", 4) != 4 || read(fd, buf, 4) != 4 ||
	    memcmp(buf, "ping", 4)) {
		printf("echo: failed\n");
		return 1;
	}
	printf("echo: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 5 && !strcmp(argv[1], "swap"))
		return cmd_swap(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
				"/proc/self/exe", 0);
	if (argc == 5 && !strcmp(argv[1], "listen"))
		return cmd_swap(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
				"/proc/self/exe", 1);
	if (argc == 5 && !strcmp(argv[1], "exec-child"))
		return cmd_exec_child(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc == 4 && !strcmp(argv[1], "connect"))
		return cmd_connect(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: see the comment in preload-check.c\n");
	return 2;
}
