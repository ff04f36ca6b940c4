// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-echo: echo server for Direct-TCP framed PDUs over AF_SMBDIRECT (or
 * TCP with --tcp).  Every PDU received is sent back unchanged.  One thread,
 * epoll, non-blocking sockets; a connection whose framing is invalid (a
 * length with a non-zero top byte) is dropped.
 *
 * --rdma: one process per connection, blocking; a PDU that is an
 * smbd-bench RDMA request (struct bench_rdma_req) is served with
 * SMBDIRECT_RDMA_WRITE/READ and a response, any other PDU is echoed.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include "common.h"

#define OUT_HIGH	(1 << 20)	/* stop reading above this backlog */

struct conn {
	int fd, id;
	uint32_t events;		/* epoll events registered */
	uint8_t hdr[FRAME_HDR_LEN];
	size_t hlen, rem;		/* header bytes held, payload due */
	uint8_t *out;			/* validated bytes to echo */
	size_t ooff, olen, ocap;
	int rd_eof;
	unsigned long long pdus, bytes;
};

static int verbose, once, max_conns, nconns, next_id = 1;
static int epfd, lfd, listening, done, exit_status;
static struct net_opts netopts = NET_OPTS_INIT;
static uint8_t rbuf[65536];

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: smbd-echo [options] [ADDR] PORT\n"
"Echo server: sends every Direct-TCP framed PDU back unchanged.\n"
"  --tcp           use TCP instead of AF_SMBDIRECT\n"
"  --family N      AF_SMBDIRECT family number (default: module parameter)\n"
"  -4, -6          IPv4 or IPv6 only\n"
"  --keepalive SECS  keepalive interval in seconds for every connection\n"
"                  (0: off; default: the module parameter); with --tcp,\n"
"                  TCP keepalive with one probe after SECS idle\n"
"  --max-conns N   serve at most N connections at a time (default: no limit)\n"
"  --once          serve one connection, exit when it closes\n"
"                  (exit status 1 if it was dropped for an error)\n"
"  --rdma          serve smbd-bench --rdma-write/--rdma-read requests too\n"
"                  (one process per connection)\n"
"  -q              quiet: no warnings\n"
"  -v              verbose: listening address, connections, counters\n"
"  -h, --help      show this help\n");
	exit(status);
}

/* ---- --rdma: a blocking server, one process per connection ---- */

static int rdma_mode;

/* Send a response PDU, with Send-with-Invalidate of @token if @inv. */
static int rdma_respond(int fd, const struct bench_rdma_resp *r, int inv,
			uint32_t token)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(struct smbdirect_cmsg_remote_invalidate))];
	} cb;
	uint8_t hdr[FRAME_HDR_LEN];
	struct iovec iov[2] = { { hdr, FRAME_HDR_LEN },
				{ (void *)r, sizeof(*r) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2 };
	struct smbdirect_cmsg_remote_invalidate ri = { token };
	struct cmsghdr *c;

	frame_put(hdr, sizeof(*r));
	if (inv) {
		memset(&cb, 0, sizeof(cb));
		m.msg_control = &cb;
		m.msg_controllen = sizeof(cb);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SMBDIRECT;
		c->cmsg_type = SMBDIRECT_CMSG_REMOTE_INVALIDATE;
		c->cmsg_len = CMSG_LEN(sizeof(ri));
		memcpy(CMSG_DATA(c), &ri, sizeof(ri));
	}
	/* Short writes of 28 bytes do not happen on a blocking socket. */
	return sendmsg(fd, &m, MSG_NOSIGNAL) == FRAME_HDR_LEN + (ssize_t)sizeof(*r) ?
	       0 : -1;
}

/* One connection: returns the exit status for the child. */
static int rdma_serve(int fd, int id)
{
	uint8_t hdr[FRAME_HDR_LEN], *pdu = NULL, *mem = NULL;
	size_t pcap = 0, mcap = 0, i;
	unsigned long long reqs = 0, moved = 0, pdus = 0;
	long len;
	int ret = 1;

	set_nonblock(fd, 0);
	for (;;) {
		struct bench_rdma_req *q;
		struct bench_rdma_resp r = { .magic = BENCH_RDMA_RESP };
		struct smbdirect_rdma op = { 0 };
		socklen_t ol = sizeof(op);
		ssize_t n = read_full(fd, hdr, FRAME_HDR_LEN);

		if (n == 0) {
			ret = 0;
			break;
		}
		if (n != FRAME_HDR_LEN || (len = frame_get(hdr)) < 0)
			break;
		if ((size_t)len > pcap) {
			free(pdu);
			pcap = len;
			pdu = malloc(pcap);
			if (!pdu)
				die("out of memory");
		}
		if (read_full(fd, pdu, len) != len)
			break;
		q = (struct bench_rdma_req *)pdu;
		if ((size_t)len < offsetof(struct bench_rdma_req, d) ||
		    q->magic != BENCH_RDMA_REQ) {
			/* Not ours: echo it. */
			if (write_full(fd, hdr, FRAME_HDR_LEN) ||
			    write_full(fd, pdu, len))
				break;
			pdus++;
			continue;
		}
		if (q->nr > SMBDIRECT_MAX_DESCS ||
		    (size_t)len < offsetof(struct bench_rdma_req, d) +
				  q->nr * sizeof(q->d[0]) ||
		    (q->op != BENCH_PEER_WRITES && q->op != BENCH_PEER_READS)) {
			warnmsg("conn %d: bad RDMA request", id);
			break;
		}
		if (q->len > mcap) {
			free(mem);
			mcap = q->len;
			/* Page-aligned, as a server's page-cache pages are. */
			mem = aligned_alloc(4096, (mcap + 4095) & ~4095ul);
			if (!mem)
				die("out of memory");
			for (i = 0; i < mcap; i++)
				mem[i] = bench_byte(i);
		}
		op.addr = (uintptr_t)mem;
		op.len = q->len;
		op.descs = (uintptr_t)q->d;
		op.nr_descs = q->nr;
		if (q->op == BENCH_PEER_WRITES)
			memcpy(mem, &q->seq, q->len < 8 ? q->len : 8);
		if (getsockopt(fd, SOL_SMBDIRECT, q->op == BENCH_PEER_WRITES ?
			       SMBDIRECT_RDMA_WRITE : SMBDIRECT_RDMA_READ,
			       &op, &ol)) {
			r.status = -errno;
			warnmsg("conn %d: RDMA %s of %u bytes: %s", id,
				q->op == BENCH_PEER_WRITES ? "write" : "read",
				q->len, strerror(errno));
		} else if (q->op == BENCH_PEER_READS &&
			   memcmp(mem, &q->seq, q->len < 8 ? q->len : 8)) {
			r.status = -EBADMSG;
		}
		r.done = op.done;
		r.seq = q->seq;
		moved += op.done;
		reqs++;
		if (rdma_respond(fd, &r, q->inval && q->nr, q->d[0].token))
			break;
	}
	if (verbose) {
		fprintf(stderr, "%s: conn %d: closed%s, %llu RDMA requests, %llu bytes moved, %llu PDUs echoed\n",
			prog, id, ret ? " on error" : "", reqs, moved, pdus);
		print_smbd_opts(fd);
	}
	close(fd);
	free(pdu);
	free(mem);
	return ret;
}

static int rdma_accept_loop(void)
{
	int fd, id = 0, status;
	pid_t pid;

	if (!once)
		signal(SIGCHLD, SIG_IGN);	/* no zombies */
	set_nonblock(lfd, 0);
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		net_keepalive(&netopts, fd);
		id++;
		if (verbose) {
			char what[32];

			snprintf(what, sizeof(what), "conn %d: accepted", id);
			print_conn_info(fd, what);
		}
		if (once) {
			close(lfd);
			return rdma_serve(fd, id);
		}
		pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (!pid) {
			close(lfd);
			status = rdma_serve(fd, id);
			_exit(status);
		}
		close(fd);
	}
}

static void ep_set(int fd, void *ptr, uint32_t ev, int op)
{
	struct epoll_event e = { .events = ev, .data.ptr = ptr };

	if (epoll_ctl(epfd, op, fd, &e) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void listener(int on)
{
	if (on == listening)
		return;
	ep_set(lfd, NULL, EPOLLIN, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL);
	listening = on;
}

static void conn_close(struct conn *c, int err)
{
	if (verbose) {
		fprintf(stderr, "%s: conn %d: closed%s, %llu PDUs, %llu bytes\n",
			prog, c->id, err ? " on error" : "", c->pdus,
			c->bytes);
		print_smbd_opts(c->fd);
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
	nconns--;
	if (once) {
		done = 1;
		exit_status = err;
	} else if (!max_conns || nconns < max_conns) {
		listener(1);
	}
}

static int out_append(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->ooff) {
		memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
	}
	if (c->olen + n > c->ocap) {
		size_t cap = c->olen + n + sizeof(rbuf);
		uint8_t *o = realloc(c->out, cap);

		if (!o)
			return -1;
		c->out = o;
		c->ocap = cap;
	}
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
	return 0;
}

/* Validate framing and queue the bytes for echo; -1 drops the connection. */
static int consume(struct conn *c, const uint8_t *p, size_t n)
{
	size_t take;
	long len;

	while (n) {
		if (c->hlen < FRAME_HDR_LEN) {
			take = FRAME_HDR_LEN - c->hlen;
			take = take < n ? take : n;
			memcpy(c->hdr + c->hlen, p, take);
			c->hlen += take;
			p += take;
			n -= take;
			if (c->hlen < FRAME_HDR_LEN)
				break;
			len = frame_get(c->hdr);
			if (len < 0) {
				warnmsg("conn %d: invalid frame header "
					"%02x%02x%02x%02x (top byte not zero), "
					"dropping connection", c->id,
					c->hdr[0], c->hdr[1], c->hdr[2],
					c->hdr[3]);
				return -1;
			}
			c->rem = len;
			if (out_append(c, c->hdr, FRAME_HDR_LEN))
				return -1;
		} else {
			take = c->rem < n ? c->rem : n;
			if (out_append(c, p, take))
				return -1;
			c->rem -= take;
			p += take;
			n -= take;
		}
		if (c->hlen == FRAME_HDR_LEN && !c->rem) {
			c->hlen = 0;
			c->pdus++;
		}
	}
	return 0;
}

/* Handle readiness on @c; returns -1 on error, 1 when finished, else 0. */
static int conn_io(struct conn *c, uint32_t ev)
{
	ssize_t r;

	while (!c->rd_eof && c->olen - c->ooff < OUT_HIGH &&
	       (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		r = read(c->fd, rbuf, sizeof(rbuf));
		if (r > 0) {
			c->bytes += r;
			if (consume(c, rbuf, r)) {
				/* Best effort: echo the PDUs that were valid. */
				if (c->olen > c->ooff &&
				    write(c->fd, c->out + c->ooff,
					  c->olen - c->ooff) > 0)
					shutdown(c->fd, SHUT_WR);
				return -1;
			}
		} else if (r == 0) {
			c->rd_eof = 1;
			if (c->hlen) {
				warnmsg("conn %d: closed inside a PDU", c->id);
				return -1;
			}
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			break;
		} else if (errno != EINTR) {
			warnmsg("conn %d: read: %s", c->id, strerror(errno));
			return -1;
		}
	}
	while (c->ooff < c->olen) {
		r = write(c->fd, c->out + c->ooff, c->olen - c->ooff);
		if (r > 0) {
			c->ooff += r;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else if (r < 0 && errno != EINTR) {
			warnmsg("conn %d: write: %s", c->id, strerror(errno));
			return -1;
		}
	}
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	return c->rd_eof && !c->olen;
}

static void conn_event(struct conn *c, uint32_t ev)
{
	uint32_t want;
	int r = conn_io(c, ev);

	if (r) {
		conn_close(c, r < 0);
		return;
	}
	want = (c->olen ? EPOLLOUT : 0) |
	       (!c->rd_eof && c->olen - c->ooff < OUT_HIGH ? EPOLLIN : 0);
	if (want != c->events) {
		ep_set(c->fd, c, want, EPOLL_CTL_MOD);
		c->events = want;
	}
}

static void accept_conns(void)
{
	struct conn *c;
	int fd;

	while (listening) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				warnmsg("accept: %s", strerror(errno));
				return;
			}
			die("accept: %s", strerror(errno));
		}
		c = calloc(1, sizeof(*c));
		if (!c)
			die("out of memory");
		net_keepalive(&netopts, fd);
		c->fd = fd;
		c->id = next_id++;
		c->events = EPOLLIN;
		nconns++;
		if (verbose) {
			char what[32];

			snprintf(what, sizeof(what), "conn %d: accepted", c->id);
			print_conn_info(fd, what);
		}
		ep_set(fd, c, c->events, EPOLL_CTL_ADD);
		if (once || (max_conns && nconns >= max_conns))
			listener(0);
	}
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tcp", no_argument, NULL, OPT_TCP },
		{ "family", required_argument, NULL, OPT_FAMILY },
		{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
		{ "rdma", no_argument, NULL, OPT_RDMA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct net_opts *no = &netopts;
	struct epoll_event evs[64];
	char buf[80];
	int c, i, n;

	prog = "smbd-echo";
	while ((c = getopt_long(argc, argv, "46qvh", lopts, NULL)) != -1) {
		if (net_opt(no, c, optarg))
			continue;
		switch (c) {
		case OPT_MAX_CONNS:
			max_conns = parse_num(optarg, "connection count", 1,
					      1 << 20);
			break;
		case OPT_ONCE: once = 1; break;
		case OPT_RDMA: rdma_mode = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 2)
		usage(2);

	signal(SIGPIPE, SIG_IGN);
	if (rdma_mode && no->tcp)
		die("--rdma needs AF_SMBDIRECT; drop --tcp");
	lfd = net_listen(no, argc == 2 ? argv[0] : NULL, argv[argc - 1]);
	if (rdma_mode) {
		if (verbose)
			fprintf(stderr, "%s: listening on %s (%s, RDMA requests served)\n",
				prog, local_str(lfd, buf, sizeof(buf)),
				net_family_name(no));
		return rdma_accept_loop();
	}
	set_nonblock(lfd, 1);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	listener(1);
	if (verbose)
		fprintf(stderr, "%s: listening on %s (%s)\n", prog,
			local_str(lfd, buf, sizeof(buf)), net_family_name(no));

	while (!done) {
		n = epoll_wait(epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (i = 0; i < n && !done; i++) {
			if (evs[i].data.ptr)
				conn_event(evs[i].data.ptr, evs[i].events);
			else
				accept_conns();
		}
	}
	return exit_status;
}
