// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-bench: send COUNT framed PDUs of each SIZE to smbd-echo, keeping up
 * to WINDOW in flight, check every echo and report round-trip times and
 * throughput.  --compare PORT repeats the run over TCP against a second
 * echo server and prints AF_SMBDIRECT/TCP ratios from the same invocation.
 *
 * --rdma-write / --rdma-read (against smbd-echo --rdma): each request
 * carries the descriptors of one of WINDOW registered buffers of SIZE and
 * the server RDMA-writes SIZE bytes into it (an SMB2 READ) or RDMA-reads
 * them from it (an SMB2 WRITE) before it answers; throughput counts the
 * bytes moved by RDMA.  Buffers are registered once per size unless
 * --register-each (per request, as an SMB client does); --inval asks for
 * Send-with-Invalidate (and implies --register-each).
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include "common.h"

#define MAX_SIZES 32

struct result {
	double secs, avg, p50, p99, mbps, rate;	/* rtt in microseconds */
};

static long count = 10000, window = 1;
static long sizes[MAX_SIZES];
static int nsizes;
static int rdma_op, register_each, inval;	/* --rdma-write/-read */

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: smbd-bench [options] HOST PORT\n"
"Benchmark round trips and throughput against smbd-echo.\n"
"  -n COUNT        PDUs per size (default 10000)\n"
"  -s SIZE[,SIZE]  payload sizes, k/m suffixes allowed (default 4096)\n"
"  -w WINDOW       PDUs in flight (default 1: ping-pong)\n"
"  --tcp           use TCP instead of AF_SMBDIRECT\n"
"  --compare PORT  also run over TCP against HOST PORT, print ratios\n"
"  --rdma-write    smbd-echo --rdma RDMA-writes SIZE into our registered\n"
"                  buffer per request (an SMB2 READ)\n"
"  --rdma-read     ... RDMA-reads SIZE from it (an SMB2 WRITE)\n"
"  --register-each register per request, not once per size\n"
"  --inval         server answers with Send-with-Invalidate (implies\n"
"                  --register-each)\n"
"  --family N      AF_SMBDIRECT family number (default: module parameter)\n"
"  -4, -6          IPv4 or IPv6 only\n"
"  -q              quiet: no warnings\n"
"  -v              verbose: connection info\n"
"  -h, --help      show this help\n");
	exit(status);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Payload of PDU @seq: its sequence number, then a fixed pattern. */
static void fill(uint8_t *p, size_t size, uint64_t seq)
{
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(i * 7 + 1);
	memcpy(p, &seq, size < 8 ? size : 8);
}

/* One benchmark run on connected non-blocking @fd; returns 0 or -1. */
static int run(int fd, size_t size, struct result *res)
{
	size_t tlen = FRAME_HDR_LEN + size, toff = 0, rlen = 0, hlen = 0;
	uint8_t *tx = malloc(tlen), *rx = malloc(size + 1), *exp = malloc(size + 1);
	double *tsend = calloc(window, sizeof(double));
	double *rtt = malloc(count * sizeof(double));
	uint8_t hdr[FRAME_HDR_LEN];
	long started = 0, done = 0;
	int ret = -1, progress, sending = 0;
	double t0;
	ssize_t r;

	if (!tx || !rx || !exp || !tsend || !rtt)
		die("out of memory");
	t0 = now();
	while (done < count) {
		progress = 0;
		/* Send: start a PDU if the window allows, then push it out. */
		if (!sending && started < count && started - done < window) {
			frame_put(tx, size);
			fill(tx + FRAME_HDR_LEN, size, started);
			tsend[started % window] = now();
			started++;
			sending = 1;
			toff = 0;
		}
		if (sending) {
			r = write(fd, tx + toff, tlen - toff);
			if (r > 0) {
				toff += r;
				progress = 1;
				sending = toff < tlen;
			} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
				warnmsg("write: %s", strerror(errno));
				goto out;
			}
		}
		/* Receive: header, then the payload, then check it. */
		r = read(fd, hlen < FRAME_HDR_LEN ? hdr + hlen : rx + rlen,
			 hlen < FRAME_HDR_LEN ? FRAME_HDR_LEN - hlen : size - rlen);
		if (r == 0) {
			warnmsg("connection closed by the echo server");
			goto out;
		} else if (r < 0 && errno != EAGAIN && errno != EINTR) {
			warnmsg("read: %s", strerror(errno));
			goto out;
		} else if (r > 0) {
			progress = 1;
			if (hlen < FRAME_HDR_LEN) {
				hlen += r;
				if (hlen == FRAME_HDR_LEN &&
				    frame_get(hdr) != (long)size) {
					warnmsg("echo has length %ld, expected "
						"%zu", frame_get(hdr), size);
					goto out;
				}
			} else {
				rlen += r;
			}
		}
		if (hlen == FRAME_HDR_LEN && rlen == size) {
			rtt[done] = (now() - tsend[done % window]) * 1e6;
			fill(exp, size, done);
			if (memcmp(rx, exp, size)) {
				warnmsg("echo of PDU %ld differs", done);
				goto out;
			}
			done++;
			hlen = rlen = 0;
		}
		if (!progress) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (sending)
				p.events |= POLLOUT;
			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				die("poll: %s", strerror(errno));
		}
	}
	res->secs = now() - t0;
	qsort(rtt, count, sizeof(double), cmp_double);
	res->avg = 0;
	for (done = 0; done < count; done++)
		res->avg += rtt[done];
	res->avg /= count;
	res->p50 = rtt[count / 2];
	res->p99 = rtt[(count * 99) / 100 < count ? (count * 99) / 100 : count - 1];
	res->rate = count / res->secs;
	res->mbps = (double)count * size / res->secs / 1e6;
	ret = 0;
out:
	free(tx);
	free(rx);
	free(exp);
	free(tsend);
	free(rtt);
	return ret;
}

/* ---- --rdma-write / --rdma-read ---- */

struct rbuf {
	uint8_t *mem;
	uint64_t handle;		/* 0: not registered */
	uint32_t nr;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
};

static int rdma_reg(int fd, struct rbuf *b, size_t size)
{
	struct smbdirect_register r = {
		.addr = (uintptr_t)b->mem, .len = size,
		.access = rdma_op == BENCH_PEER_WRITES ?
			  SMBDIRECT_ACCESS_REMOTE_WRITE :
			  SMBDIRECT_ACCESS_REMOTE_READ,
		.max_descs = SMBDIRECT_MAX_DESCS, .descs = (uintptr_t)b->d,
	};
	socklen_t l = sizeof(r);

	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_REGISTER, &r, &l)) {
		warnmsg("SMBDIRECT_REGISTER of %zu bytes: %s", size,
			strerror(errno));
		return -1;
	}
	b->handle = r.handle;
	b->nr = r.nr_descs;
	return 0;
}

static int rdma_dereg(int fd, struct rbuf *b)
{
	if (!b->handle)
		return 0;
	if (setsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_DEREGISTER, &b->handle,
		       sizeof(b->handle))) {
		warnmsg("SMBDIRECT_DEREGISTER: %s", strerror(errno));
		return -1;
	}
	b->handle = 0;
	return 0;
}

/* Ask for request @seq on buffer @b (registering it first if needed). */
static int rdma_ask(int fd, struct rbuf *b, size_t size, uint64_t seq)
{
	struct bench_rdma_req q = {
		.magic = BENCH_RDMA_REQ, .op = rdma_op, .len = size,
		.inval = inval, .seq = seq,
	};
	uint8_t hdr[FRAME_HDR_LEN];
	size_t len;

	if (!b->handle && rdma_reg(fd, b, size))
		return -1;
	q.nr = b->nr;
	memcpy(q.d, b->d, b->nr * sizeof(b->d[0]));
	len = offsetof(struct bench_rdma_req, d) + q.nr * sizeof(q.d[0]);
	if (rdma_op == BENCH_PEER_WRITES)
		memset(b->mem, 0, size < 8 ? size : 8);
	else
		memcpy(b->mem, &seq, size < 8 ? size : 8);
	frame_put(hdr, len);
	if (write_full(fd, hdr, FRAME_HDR_LEN) || write_full(fd, &q, len)) {
		warnmsg("write: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The response to request @seq on @b: status, bytes, the data (the
 * sequence in the first bytes; all of it if @full), the invalidation
 * notice.
 */
static int rdma_answer(int fd, struct rbuf *b, size_t size, uint64_t seq,
		       int full)
{
	union {
		struct cmsghdr h;
		uint8_t b[CMSG_SPACE(sizeof(uint64_t)) * 2];
	} cb;
	struct bench_rdma_resp r;
	uint8_t hdr[FRAME_HDR_LEN];
	struct iovec iov[2] = { { hdr, FRAME_HDR_LEN }, { &r, sizeof(r) } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2,
			    .msg_control = &cb, .msg_controllen = sizeof(cb) };
	uint64_t note = 0;
	struct cmsghdr *c;
	size_t i;
	ssize_t n;

	do
		n = recvmsg(fd, &m, MSG_WAITALL);
	while (n < 0 && errno == EINTR);
	if (n != FRAME_HDR_LEN + (ssize_t)sizeof(r) ||
	    frame_get(hdr) != sizeof(r) || r.magic != BENCH_RDMA_RESP) {
		warnmsg("response: %s", n < 0 ? strerror(errno) :
			n == 0 ? "connection closed" : "malformed (is the server smbd-echo --rdma?)");
		return -1;
	}
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SMBDIRECT &&
		    c->cmsg_type == SMBDIRECT_CMSG_INVALIDATED)
			memcpy(&note, CMSG_DATA(c), sizeof(note));
	if (r.status || r.done != size || r.seq != seq) {
		warnmsg("request %llu: status %s, %llu of %zu bytes moved",
			(unsigned long long)seq,
			r.status ? strerror(-r.status) : "ok",
			(unsigned long long)r.done, size);
		return -1;
	}
	if (inval && note != b->handle) {
		warnmsg("request %llu: no SMBDIRECT_CMSG_INVALIDATED",
			(unsigned long long)seq);
		return -1;
	}
	if (rdma_op == BENCH_PEER_WRITES) {
		if (memcmp(b->mem, &seq, size < 8 ? size : 8))
			goto differs;
		for (i = 8; full && i < size; i++)
			if (b->mem[i] != bench_byte(i))
				goto differs;
	}
	if (register_each && rdma_dereg(fd, b))
		return -1;
	return 0;
differs:
	warnmsg("request %llu: the data the server wrote differs",
		(unsigned long long)seq);
	return -1;
}

/* One --rdma-* run of COUNT requests of @size, WINDOW in flight. */
static int run_rdma(int fd, size_t size, struct result *res)
{
	struct rbuf *bufs = calloc(window, sizeof(*bufs));
	double *tsend = calloc(window, sizeof(double));
	double *rtt = malloc(count * sizeof(double));
	long started = 0, done = 0, k, i;
	int ret = -1;
	double t0;

	if (!bufs || !tsend || !rtt)
		die("out of memory");
	for (k = 0; k < window; k++) {
		bufs[k].mem = aligned_alloc(4096, (size + 4095) & ~4095ul);
		if (!bufs[k].mem)
			die("out of memory");
		for (i = 0; i < (long)size; i++)
			bufs[k].mem[i] = rdma_op == BENCH_PEER_READS ?
					 bench_byte(i) : 0;
		if (!register_each && rdma_reg(fd, &bufs[k], size))
			goto out;
	}
	t0 = now();
	/* Requests are small: blocking writes never wait on the responses. */
	while (done < count) {
		while (started < count && started - done < window) {
			k = started % window;
			tsend[k] = now();
			if (rdma_ask(fd, &bufs[k], size, started))
				goto out;
			started++;
		}
		k = done % window;
		/* Check every byte on each buffer's first and last use. */
		if (rdma_answer(fd, &bufs[k], size, done,
				done < window || done >= count - window))
			goto out;
		rtt[done] = (now() - tsend[k]) * 1e6;
		done++;
	}
	res->secs = now() - t0;
	qsort(rtt, count, sizeof(double), cmp_double);
	res->avg = 0;
	for (i = 0; i < count; i++)
		res->avg += rtt[i];
	res->avg /= count;
	res->p50 = rtt[count / 2];
	res->p99 = rtt[(count * 99) / 100 < count ? (count * 99) / 100 : count - 1];
	res->rate = count / res->secs;
	res->mbps = (double)count * size / res->secs / 1e6;
	ret = 0;
out:
	for (k = 0; k < window; k++) {
		if (ret == 0 && rdma_dereg(fd, &bufs[k]))
			ret = -1;
		free(bufs[k].mem);
	}
	free(bufs);
	free(tsend);
	free(rtt);
	return ret;
}

static void print_result(const char *fam, long size, const struct result *r)
{
	printf("%-9s size=%ld count=%ld window=%ld time=%.3fs "
	       "rtt_avg=%.1fus rtt_p50=%.1fus rtt_p99=%.1fus "
	       "rate=%.0f/s throughput=%.2fMB/s\n", fam, size, count, window,
	       r->secs, r->avg, r->p50, r->p99, r->rate, r->mbps);
	fflush(stdout);
}

/* Run every size over one connection; returns 0 if all runs succeeded. */
static int bench(const struct net_opts *no, const char *host,
		 const char *port, int verbose, struct result *res)
{
	int fd, i;

	fd = net_connect(no, host, port);
	if (verbose)
		print_conn_info(fd, "connected");
	if (rdma_op) {
		struct smbdirect_info si;
		socklen_t sl = sizeof(si);

		if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &si, &sl))
			die("SMBDIRECT_INFO: %s", strerror(errno));
		for (i = 0; i < nsizes; i++)
			if (!sizes[i] || sizes[i] > (long long)si.max_read_write_size)
				die("size %ld: RDMA moves 1 to %u bytes (MaxReadWriteSize)",
				    sizes[i], si.max_read_write_size);
	} else {
		set_nonblock(fd, 1);
	}
	for (i = 0; i < nsizes; i++) {
		if (rdma_op ? run_rdma(fd, sizes[i], &res[i]) :
			      run(fd, sizes[i], &res[i])) {
			close(fd);
			return -1;
		}
		print_result(rdma_op == BENCH_PEER_WRITES ? "rdma-write" :
			     rdma_op ? "rdma-read" : net_family_name(no),
			     sizes[i], &res[i]);
	}
	if (verbose)
		print_smbd_opts(fd);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "tcp", no_argument, NULL, OPT_TCP },
		{ "family", required_argument, NULL, OPT_FAMILY },
		{ "compare", required_argument, NULL, OPT_COMPARE },
		{ "rdma-write", no_argument, NULL, OPT_RDMA_WRITE },
		{ "rdma-read", no_argument, NULL, OPT_RDMA_READ },
		{ "register-each", no_argument, NULL, OPT_REGISTER_EACH },
		{ "inval", no_argument, NULL, OPT_INVAL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct net_opts no = NET_OPTS_INIT, tcp;
	struct result res[MAX_SIZES], tres[MAX_SIZES];
	const char *compare = NULL;
	char *s, *tok, *save;
	int c, i, verbose = 0;

	prog = "smbd-bench";
	while ((c = getopt_long(argc, argv, "n:s:w:46qvh", lopts, NULL)) != -1) {
		if (net_opt(&no, c, optarg))
			continue;
		switch (c) {
		case 'n': count = parse_num(optarg, "count", 1, 100000000); break;
		case 'w': window = parse_num(optarg, "window", 1, 1 << 16); break;
		case 's':
			nsizes = 0;
			s = optarg;
			while ((tok = strtok_r(s, ",", &save))) {
				s = NULL;
				if (nsizes == MAX_SIZES)
					die("at most %d sizes", MAX_SIZES);
				sizes[nsizes++] = parse_num(tok, "size", 0,
							    FRAME_MAX);
			}
			break;
		case OPT_COMPARE: compare = optarg; break;
		case OPT_RDMA_WRITE: rdma_op = BENCH_PEER_WRITES; break;
		case OPT_RDMA_READ: rdma_op = BENCH_PEER_READS; break;
		case OPT_REGISTER_EACH: register_each = 1; break;
		case OPT_INVAL: inval = register_each = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (argc - optind != 2)
		usage(2);
	if (compare && no.tcp)
		die("--compare measures AF_SMBDIRECT against TCP; drop --tcp");
	if (rdma_op && (no.tcp || compare))
		die("--rdma-write/--rdma-read need AF_SMBDIRECT and no --compare");
	if (register_each && !rdma_op)
		die("--register-each and --inval go with --rdma-write/--rdma-read");
	if (!nsizes)
		sizes[nsizes++] = 4096;

	signal(SIGPIPE, SIG_IGN);
	if (bench(&no, argv[optind], argv[optind + 1], verbose, res))
		return 1;
	if (!compare)
		return 0;
	tcp = no;
	tcp.tcp = 1;
	if (bench(&tcp, argv[optind], compare, verbose, tres))
		return 1;
	for (i = 0; i < nsizes; i++)
		printf("ratio     size=%ld smbdirect/tcp throughput=%.3f "
		       "rtt_avg=%.3f rtt_p99=%.3f\n", sizes[i],
		       res[i].mbps / tres[i].mbps, res[i].avg / tres[i].avg,
		       res[i].p99 / tres[i].p99);
	return 0;
}
