/* SPDX-License-Identifier: GPL-2.0 */
/* Shared helpers for the af_smbdirect user-space tools. */
#ifndef _SMBD_TOOLS_COMMON_H
#define _SMBD_TOOLS_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <linux/af_smbdirect.h>

#define FRAME_HDR_LEN	SMBDIRECT_FRAME_HDR_LEN
#define FRAME_MAX	0x00ffffffu	/* top byte of the length must be 0 */

extern const char *prog;	/* program name for messages */
extern int quiet;		/* -q: suppress warnings */

void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Address family selection shared by all tools. */
struct net_opts {
	int tcp;	/* use plain TCP instead of AF_SMBDIRECT */
	int family;	/* AF_SMBDIRECT number; -1: sysfs, then header */
	int ipver;	/* 0 (any), 4 or 6 */
	int keepalive;	/* --keepalive seconds; -1: leave the default */
};

#define NET_OPTS_INIT	{ .tcp = 0, .family = -1, .ipver = 0, .keepalive = -1 }

/* SMBDIRECT_KEEPALIVE_INTERVAL's limit in the module (one day). */
#define KEEPALIVE_MAX	86400

/* getopt_long codes for the shared long options. */
enum { OPT_TCP = 0x100, OPT_FAMILY, OPT_RAW, OPT_MAX_CONNS, OPT_ONCE,
       OPT_COMPARE, OPT_KEEPALIVE, OPT_RDMA, OPT_RDMA_WRITE, OPT_RDMA_READ,
       OPT_REGISTER_EACH, OPT_INVAL };

/* Handle -4, -6, --tcp, --family, --keepalive; returns 1 if @c was one. */
int net_opt(struct net_opts *o, int c, const char *arg);

int smbd_family(int override);
const char *net_family_name(const struct net_opts *o);
int net_connect(const struct net_opts *o, const char *host, const char *port);
int net_listen(const struct net_opts *o, const char *addr, const char *port);
void net_keepalive(const struct net_opts *o, int fd);
char *sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);
char *local_str(int fd, char *buf, size_t len);
void print_conn_info(int fd, const char *what);
void print_smbd_opts(int fd);
int set_nonblock(int fd, int on);

long long parse_num(const char *s, const char *what, long long min,
		    long long max);

/* Blocking-or-not safe full I/O; they poll on EAGAIN and retry on EINTR. */
ssize_t read_full(int fd, void *buf, size_t n);
int write_full(int fd, const void *buf, size_t n);
int wait_fd(int fd, short events);

static inline void frame_put(uint8_t *h, uint32_t len)
{
	h[0] = len >> 24;
	h[1] = len >> 16;
	h[2] = len >> 8;
	h[3] = len;
}

/* Returns the payload length, or -1 if the header is invalid. */
static inline long frame_get(const uint8_t *h)
{
	if (h[0])
		return -1;
	return (long)h[1] << 16 | h[2] << 8 | h[3];
}

/*
 * smbd-bench --rdma-write/--rdma-read against smbd-echo --rdma: a request
 * PDU carries the client's registration (Buffer Descriptor V1, as an SMB2
 * READ or WRITE would); the server moves LEN bytes with
 * SMBDIRECT_RDMA_WRITE (BENCH_PEER_WRITES: the server writes the client's
 * buffer) or SMBDIRECT_RDMA_READ (BENCH_PEER_READS) and answers with a
 * response PDU, with Send-with-Invalidate of the first token if INVAL.
 * SEQ is written into (BENCH_PEER_WRITES) or checked in (BENCH_PEER_READS)
 * the first 8 bytes.  Host byte order: both ends run the same tools.
 */
#define BENCH_RDMA_REQ		0x44524253u	/* "SBRD" */
#define BENCH_RDMA_RESP		0x52524253u	/* "SBRR" */
#define BENCH_PEER_WRITES	1
#define BENCH_PEER_READS	2

struct bench_rdma_req {
	uint32_t magic, op, len, nr, inval, pad;
	uint64_t seq;
	struct smbdirect_buffer_desc d[SMBDIRECT_MAX_DESCS];
};

struct bench_rdma_resp {
	uint32_t magic;
	int32_t status;		/* 0 or a negative errno */
	uint64_t done;		/* bytes moved */
	uint64_t seq;
};

/* Byte @i of every benchmark buffer, the first 8 being the sequence. */
static inline uint8_t bench_byte(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

#endif /* _SMBD_TOOLS_COMMON_H */
