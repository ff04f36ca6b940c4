/* SPDX-License-Identifier: GPL-2.0 */
/* accept_within(): shared by sdcommon.h's users and rogue.c. */
#ifndef ACCEPT_WITHIN_H
#define ACCEPT_WITHIN_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

/* Accept within ms, or -1 with errno (EAGAIN: nothing came). */
static inline int accept_within(int l, int ms)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	int fl = fcntl(l, F_GETFL), s, err;

	poll(&p, 1, ms);
	fcntl(l, F_SETFL, fl | O_NONBLOCK);
	s = accept(l, NULL, NULL);
	err = errno;
	fcntl(l, F_SETFL, fl);
	errno = err;
	return s;
}

#endif
