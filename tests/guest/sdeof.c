// SPDX-License-Identifier: GPL-2.0
/*
 * sdeof: every byte written before close() is read before EOF
 * (tests/guest/eof2.sh).  Rounds of one connection each: the writer sends
 * a random number (1..64) of PDUs of random sizes (16 bytes to 64 KiB)
 * and closes at once; the reader reads until EOF and checks the count
 * and every byte.  Each PDU carries its round, its index and the count,
 * and a pattern of the three, so a reader that misses the last PDUs
 * knows what it missed.
 *
 *   sdeof -l ADDR -p PORT [-r ROUNDS] server|client|local
 *   server   listens on ADDR:PORT; in rounds 0..R-1 it writes, in rounds
 *            R..2R-1 it reads (the client does the opposite)
 *   client   connects to ADDR:PORT once per round (retrying while the
 *            server guest starts)
 *   local    both in this process (one guest)
 * Exit status 0 only if every round delivered everything.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/af_smbdirect.h>
#include "sdcommon.h"

#define MAX_LEN		65536
#define MIN_LEN		16
#define MAGIC		0x454f4632u	/* "EOF2" */

static int fam = AF_SMBDIRECT;
static int rounds = 30;
static int port = 5000;
static int lost;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint8_t pat(uint32_t round, uint32_t idx, uint32_t n, size_t i)
{
	return (uint8_t)(round * 53u + idx * 131u + n * 7u + i * 13u +
			 (i >> 9));
}

static uint32_t xs(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

static int send_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		len -= k;
	}
	return 0;
}

/* 1 on a full read, 0 on EOF before anything, -1 on an error or EOF
 * inside (errno ENODATA). */
static int recv_all(int fd, uint8_t *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t k = recv(fd, p + got, len - got, 0);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0) {
			if (!got)
				return 0;
			errno = ENODATA;
			return -1;
		}
		got += k;
	}
	return 1;
}

static const char *who;

/* Write n PDUs, then close at once. */
static void do_write(int fd, int round, uint32_t *rng)
{
	uint32_t n = 1 + xs(rng) % 64, i, len;
	uint8_t *b = malloc(MAX_LEN + 4);
	uint64_t bytes = 0;
	size_t j;
	int err;

	for (i = 0; i < n; i++) {
		len = MIN_LEN + xs(rng) % (MAX_LEN - MIN_LEN + 1);
		put32(b, len);
		put32(b + 4, MAGIC);
		put32(b + 8, round);
		put32(b + 12, i);
		put32(b + 16, n);
		for (j = 16; j < len; j++)
			b[4 + j] = pat(round, i, n, j);
		if (send_all(fd, b, len + 4)) {
			printf("%s round %d: write of PDU %u of %u failed: %s\n",
			       who, round, i, n, strerror(errno));
			lost++;
			break;
		}
		bytes += len + 4;
	}
	err = close(fd) ? errno : 0;
	if (err) {
		printf("%s round %d: close: %s\n", who, round, strerror(err));
		lost++;
	}
	printf("%s round %d: wrote %u PDUs (%llu bytes), closed\n", who,
	       round, i, (unsigned long long)bytes);
	free(b);
}

/* Read until EOF; every PDU of the round must be there. */
static void do_read(int fd, int round)
{
	uint8_t *b = malloc(MAX_LEN + 4);
	uint32_t i = 0, n = 0, len, j;
	uint64_t bytes = 0;
	const char *bad = NULL;
	char why[160];
	int r;

	for (;;) {
		r = recv_all(fd, b, 4);
		if (r == 0)
			break;
		if (r < 0) {
			snprintf(why, sizeof(why), "header of PDU %u: %s", i,
				 strerror(errno));
			bad = why;
			break;
		}
		len = get32(b);
		if (len < MIN_LEN || len > MAX_LEN) {
			snprintf(why, sizeof(why), "PDU %u: length %u", i, len);
			bad = why;
			break;
		}
		if (recv_all(fd, b + 4, len) != 1) {
			snprintf(why, sizeof(why), "body of PDU %u: %s", i,
				 strerror(errno));
			bad = why;
			break;
		}
		if (get32(b + 4) != MAGIC || get32(b + 8) != (uint32_t)round ||
		    get32(b + 12) != i || (n && get32(b + 16) != n)) {
			snprintf(why, sizeof(why), "PDU %u: round %u index %u "
				 "count %u", i, get32(b + 8), get32(b + 12),
				 get32(b + 16));
			bad = why;
			break;
		}
		n = get32(b + 16);
		for (j = 16; j < len; j++)
			if (b[4 + j] != pat(round, i, n, j))
				break;
		if (j < len) {
			snprintf(why, sizeof(why), "PDU %u byte %u differs", i,
				 j);
			bad = why;
			break;
		}
		bytes += len + 4;
		i++;
	}
	if (!bad && (!n || i != n)) {
		snprintf(why, sizeof(why), "clean EOF after %u of %u PDUs", i,
			 n);
		bad = why;
	}
	if (bad) {
		printf("%s round %d: LOST: %s (%llu bytes read)\n", who, round,
		       bad, (unsigned long long)bytes);
		lost++;
	} else {
		printf("%s round %d: read all %u PDUs (%llu bytes), then "
		       "EOF\n", who, round, n, (unsigned long long)bytes);
	}
	close(fd);
	free(b);
}

static int sock_new(void)
{
	int fd = socket(fam, SOCK_STREAM, 0);

	CHECK(fd >= 0, "socket: %s", strerror(errno));
	return fd;
}

static void server(int l)
{
	uint32_t rng = (uint32_t)time(NULL) ^ getpid() << 8;
	int r, s;

	if (!rng)
		rng = 1;
	for (r = 0; r < 2 * rounds; r++) {
		s = accept(l, NULL, NULL);
		CHECK(s >= 0, "accept: %s", strerror(errno));
		if (r < rounds)
			do_write(s, r, &rng);
		else
			do_read(s, r);
	}
	close(l);
}

static int listen_on(void)
{
	int l = sock_new(), one = 1;

	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	*port_of(&srv) = htons(port);
	CHECK(!bind(l, (void *)&srv, srvlen), "bind: %s", strerror(errno));
	CHECK(!listen(l, 4), "listen: %s", strerror(errno));
	return l;
}

static void client(void)
{
	uint32_t rng = (uint32_t)time(NULL) * 7 ^ getpid();
	int r, fd, tries;

	if (!rng)
		rng = 1;
	*port_of(&srv) = htons(port);
	for (r = 0; r < 2 * rounds; r++) {
		for (tries = 0;; tries++) {
			fd = sock_new();
			if (!connect(fd, (void *)&srv, srvlen))
				break;
			CHECK(r == 0 && tries < 120 &&
			      (errno == ECONNREFUSED || errno == ETIMEDOUT ||
			       errno == EHOSTUNREACH),
			      "round %d: connect: %s", r, strerror(errno));
			close(fd);
			sleep(1);
		}
		if (r < rounds)
			do_read(fd, r);
		else
			do_write(fd, r, &rng);
	}
}

static void *server_thread(void *arg)
{
	server((int)(intptr_t)arg);
	return NULL;
}

int main(int argc, char **argv)
{
	const char *addr = "10.99.0.1";
	pthread_t t;
	FILE *f;
	int opt, l;

	setvbuf(stdout, NULL, _IOLBF, 0);
	f = fopen("/sys/module/af_smbdirect/parameters/family", "r");
	if (f) {
		if (fscanf(f, "%d", &fam) != 1)
			fam = AF_SMBDIRECT;
		fclose(f);
	}
	while ((opt = getopt(argc, argv, "l:p:r:")) != -1) {
		if (opt == 'l')
			addr = optarg;
		else if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'r')
			rounds = atoi(optarg);
		else
			die("usage: sdeof -l ADDR -p PORT [-r ROUNDS] "
			    "server|client|local");
	}
	if (optind >= argc)
		die("usage: sdeof -l ADDR -p PORT [-r ROUNDS] "
		    "server|client|local");
	set_addr(addr);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[optind], "server")) {
		who = "server";
		l = listen_on();
		printf("listening\n");
		server(l);
	} else if (!strcmp(argv[optind], "client")) {
		who = "client";
		client();
	} else if (!strcmp(argv[optind], "local")) {
		who = "local";
		l = listen_on();
		pthread_create(&t, NULL, server_thread, (void *)(intptr_t)l);
		client();
		pthread_join(t, NULL);
	} else {
		die("unknown role %s", argv[optind]);
	}
	printf("%s: %d of %d rounds lost data\n", who, lost, 2 * rounds);
	return lost ? 1 : 0;
}
