// SPDX-License-Identifier: GPL-2.0
/*
 * smbd-bench: send COUNT framed PDUs of each SIZE to smbd-echo, keeping up
 * to WINDOW in flight, check every echo and report round-trip times and
 * throughput.  --compare PORT repeats the run over TCP against a second
 * echo server and prints AF_SMBDIRECT/TCP ratios from the same invocation.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "common.h"

#define MAX_SIZES 32

struct result {
	double secs, avg, p50, p99, mbps, rate;	/* rtt in microseconds */
};

static long count = 10000, window = 1;
static long sizes[MAX_SIZES];
static int nsizes;

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
	set_nonblock(fd, 1);
	for (i = 0; i < nsizes; i++) {
		if (run(fd, sizes[i], &res[i])) {
			close(fd);
			return -1;
		}
		print_result(net_family_name(no), sizes[i], &res[i]);
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
