// SPDX-License-Identifier: GPL-2.0
/*
 * smbdcat: netcat for AF_SMBDIRECT (or TCP with --tcp).
 *
 * Framed mode (default) sends each chunk read from stdin as one PDU with a
 * 4-byte Direct-TCP header and writes received payloads to stdout; --raw
 * passes both directions through unchanged.
 */

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "common.h"

static int raw, verbose;
static size_t chunk = 65536;
static int stdin_eof, stdin_tty;
static volatile sig_atomic_t info_wanted;	/* SIGUSR1 */
static sigset_t poll_mask;		/* the mask ppoll() waits with */

/* Data read from stdin, waiting to go to the socket. */
static uint8_t *obuf;
static size_t opend, ooff;

/* Receive side: header being collected and payload bytes still due. */
static uint8_t rbuf[65536], hdr[FRAME_HDR_LEN];
static size_t hlen, rem;

static unsigned long long tx_bytes, tx_pdus, rx_bytes, rx_pdus;

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: smbdcat [options] HOST PORT\n"
"       smbdcat -l [options] [ADDR] PORT\n"
"Connect to, or listen for, one AF_SMBDIRECT stream connection and copy\n"
"stdin to it and it to stdout.\n"
"  -l            listen and accept one connection\n"
"  -k            with -l, keep accepting connections one after another\n"
"  -s SIZE       framed mode: largest PDU payload sent (default 65536)\n"
"  --raw         no framing: pass bytes through unchanged\n"
"  --tcp         use TCP instead of AF_SMBDIRECT\n"
"  --family N    AF_SMBDIRECT family number (default: module parameter)\n"
"  -4, -6        IPv4 or IPv6 only\n"
"  --keepalive SECS  keepalive interval in seconds (0: off; default: the\n"
"                module parameter keepalive_interval); with --tcp, TCP\n"
"                keepalive with one probe after SECS idle\n"
"  -q            quiet: no warnings\n"
"  -v            verbose: addresses, SMB-Direct parameters, counters\n"
"  -h, --help    show this help\n"
"SIGUSR1 prints the byte counts and SMBDIRECT_INFO counters to stderr.\n");
	exit(status);
}

static void out(const void *p, size_t n)
{
	if (write_full(STDOUT_FILENO, p, n))
		die("stdout: %s", strerror(errno));
}

/* Consume received bytes; returns -1 on a framing error. */
static int receive(const uint8_t *p, size_t n)
{
	size_t take;
	long len;

	rx_bytes += n;
	if (raw) {
		out(p, n);
		return 0;
	}
	while (n) {
		if (hlen < FRAME_HDR_LEN) {
			take = FRAME_HDR_LEN - hlen;
			take = take < n ? take : n;
			memcpy(hdr + hlen, p, take);
			hlen += take;
			p += take;
			n -= take;
			if (hlen < FRAME_HDR_LEN)
				break;
			len = frame_get(hdr);
			if (len < 0) {
				warnmsg("invalid frame header %02x%02x%02x%02x "
					"from peer", hdr[0], hdr[1], hdr[2],
					hdr[3]);
				return -1;
			}
			rem = len;
		} else {
			take = rem < n ? rem : n;
			out(p, take);
			rem -= take;
			p += take;
			n -= take;
		}
		if (hlen == FRAME_HDR_LEN && !rem) {
			hlen = 0;
			rx_pdus++;
		}
	}
	return 0;
}

static void read_stdin(void)
{
	size_t off = raw ? 0 : FRAME_HDR_LEN;
	ssize_t r;

	r = read(STDIN_FILENO, obuf + off, chunk);
	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r < 0)
		die("stdin: %s", strerror(errno));
	if (r == 0) {
		stdin_eof = 1;
		return;
	}
	if (!raw) {
		frame_put(obuf, r);
		tx_pdus++;
	}
	opend = r + off;
	ooff = 0;
}

static void on_usr1(int sig)
{
	(void)sig;
	info_wanted = 1;
}

static void print_counts(int fd)
{
	fprintf(stderr, "%s: sent %llu bytes", prog, tx_bytes);
	if (!raw)
		fprintf(stderr, " (%llu PDUs)", tx_pdus);
	fprintf(stderr, ", received %llu bytes", rx_bytes);
	if (!raw)
		fprintf(stderr, " (%llu PDUs)", rx_pdus);
	fputc('\n', stderr);
	print_smbd_opts(fd);
}

/* Copy both ways until done; returns 0 on success, 1 on error. */
static int session(int fd)
{
	struct pollfd p[2];
	int net_eof = 0, wr_shut = 0;
	ssize_t r;

	hlen = rem = 0;
	tx_bytes = tx_pdus = rx_bytes = rx_pdus = 0;
	set_nonblock(fd, 1);
	for (;;) {
		if (info_wanted) {
			info_wanted = 0;
			print_counts(fd);
		}
		if (stdin_eof && !opend && !wr_shut) {
			shutdown(fd, SHUT_WR);
			wr_shut = 1;
		}
		/* An interactive stdin does not keep a closed session open. */
		if (net_eof && (wr_shut || (stdin_tty && !opend)))
			break;
		p[0].fd = (net_eof && !opend) ? -1 : fd;
		p[0].events = (net_eof ? 0 : POLLIN) | (opend ? POLLOUT : 0);
		p[1].fd = (stdin_eof || opend) ? -1 : STDIN_FILENO;
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		/* SIGUSR1 is blocked except while waiting here. */
		if (ppoll(p, 2, NULL, &poll_mask) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (!net_eof && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			r = read(fd, rbuf, sizeof(rbuf));
			if (r == 0) {
				net_eof = 1;
				if (hlen) {
					warnmsg("connection closed inside a PDU");
					return 1;
				}
			} else if (r > 0) {
				if (receive(rbuf, r))
					return 1;
			} else if (errno != EINTR && errno != EAGAIN) {
				warnmsg("read: %s", strerror(errno));
				return 1;
			}
		}
		if (opend && (p[0].revents & (POLLOUT | POLLHUP | POLLERR))) {
			r = write(fd, obuf + ooff, opend - ooff);
			if (r > 0) {
				ooff += r;
				tx_bytes += r;
				if (ooff == opend)
					opend = 0;
			} else if (r < 0 && errno != EINTR && errno != EAGAIN) {
				warnmsg("write: %s", strerror(errno));
				return 1;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			read_stdin();
		else if (p[1].revents & POLLNVAL)
			stdin_eof = 1;
	}
	return 0;
}

static void finish(int fd)
{
	if (verbose)
		print_counts(fd);
	close(fd);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "raw", no_argument, NULL, OPT_RAW },
		{ "tcp", no_argument, NULL, OPT_TCP },
		{ "family", required_argument, NULL, OPT_FAMILY },
		{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct net_opts no = NET_OPTS_INIT;
	int listen_mode = 0, keep = 0, c, fd, lfd, ret = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	sigset_t usr1;
	char buf[80];

	prog = "smbdcat";
	/*
	 * SIGUSR1 (print counters) is delivered only inside ppoll(), so it
	 * can neither kill us before the handler is set nor be missed.
	 */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &poll_mask);
	sigdelset(&poll_mask, SIGUSR1);
	sigaction(SIGUSR1, &sa, NULL);
	while ((c = getopt_long(argc, argv, "lks:46qvh", lopts, NULL)) != -1) {
		if (net_opt(&no, c, optarg))
			continue;
		switch (c) {
		case 'l': listen_mode = 1; break;
		case 'k': keep = 1; break;
		case 's': chunk = parse_num(optarg, "size", 1, FRAME_MAX); break;
		case OPT_RAW: raw = 1; break;
		case 'q': quiet = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (keep && !listen_mode)
		die("-k needs -l");
	if (listen_mode ? (argc < 1 || argc > 2) : argc != 2)
		usage(2);

	signal(SIGPIPE, SIG_IGN);
	stdin_tty = isatty(STDIN_FILENO);
	obuf = malloc(chunk + FRAME_HDR_LEN);
	if (!obuf)
		die("out of memory");

	if (!listen_mode) {
		fd = net_connect(&no, argv[0], argv[1]);
		if (verbose)
			print_conn_info(fd, "connected");
		ret = session(fd);
		finish(fd);
		return ret;
	}

	lfd = net_listen(&no, argc == 2 ? argv[0] : NULL, argv[argc - 1]);
	if (verbose)
		fprintf(stderr, "%s: listening on %s (%s)\n", prog,
			local_str(lfd, buf, sizeof(buf)), net_family_name(&no));
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			die("accept: %s", strerror(errno));
		}
		net_keepalive(&no, fd);
		if (verbose)
			print_conn_info(fd, "accepted");
		ret = session(fd);
		finish(fd);
		if (!keep)
			break;
	}
	close(lfd);
	return ret;
}
