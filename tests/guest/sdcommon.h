/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What sdtest and sdopt share: failing with a message, the address under
 * test (-l) and its port.  Header-only: each program is one file.
 */
#ifndef SDCOMMON_H
#define SDCOMMON_H

#include <arpa/inet.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/af_smbdirect.h>
#include "accept_within.h"

extern char *program_invocation_short_name;

static struct sockaddr_storage srv;	/* the address under test */
static socklen_t srvlen;

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", program_invocation_short_name);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

#define CHECK(cond, ...) do { if (!(cond)) die(__VA_ARGS__); } while (0)

static uint16_t *port_of(struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return &((struct sockaddr_in *)ss)->sin_port;
	return &((struct sockaddr_in6 *)ss)->sin6_port;
}

/* Parse -l ADDR (IPv4 or IPv6) into srv. */
static void set_addr(const char *a)
{
	struct sockaddr_in *s4 = (void *)&srv;
	struct sockaddr_in6 *s6 = (void *)&srv;

	memset(&srv, 0, sizeof(srv));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		srvlen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		srvlen = sizeof(*s6);
	} else {
		die("bad address %s", a);
	}
}

/*
 * struct smbdirect_info's buffer_bytes: the buffers a socket pins (on a
 * listener, its pending children's).  -1 with errno if getsockopt fails.
 */
static inline long long sd_buffer_bytes(int fd)
{
	struct smbdirect_info i;
	socklen_t len = sizeof(i);

	if (getsockopt(fd, SOL_SMBDIRECT, SMBDIRECT_INFO, &i, &len))
		return -1;
	return (long long)i.buffer_bytes;
}

#endif /* SDCOMMON_H */
