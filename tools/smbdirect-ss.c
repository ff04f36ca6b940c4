// SPDX-License-Identifier: GPL-2.0
/*
 * smbdirect-ss: list SMB-Direct sockets, as ss lists TCP ones, from
 * /proc/net/smbdirect of the caller's network namespace.
 *
 *   smbdirect-ss [-a] [-l] [-e] [-j] [-p PHASE] [-d DEVICE] [-f FILE]
 *     -a  listeners too          -l  listeners only
 *     -e  every counter          -j  JSON, one object per socket
 *     -p  only sockets in PHASE (connected, negotiate, draining, ...)
 *     -d  only sockets on DEVICE (rxe0, siw0, ...)
 *     -f  read FILE instead of /proc/net/smbdirect (tests)
 */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLS 32

struct row {
	int n;
	char *v[MAX_COLS];
};

static char *hdr[MAX_COLS];
static int nhdr;

static int col(const char *name)
{
	int i;

	for (i = 0; i < nhdr; i++)
		if (!strcmp(hdr[i], name))
			return i;
	return -1;
}

static const char *get(const struct row *r, const char *name)
{
	int i = col(name);

	return i >= 0 && i < r->n ? r->v[i] : "";
}

static int split(char *line, char **v)
{
	int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(line, " \n", &save); tok && n < MAX_COLS;
	     tok = strtok_r(NULL, " \n", &save))
		v[n++] = tok;
	return n;
}

static bool numeric(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static void print_json(const struct row *r, bool *first)
{
	int i;

	printf("%s{", *first ? "[\n  " : ",\n  ");
	*first = false;
	for (i = 0; i < r->n && i < nhdr; i++)
		printf(numeric(r->v[i]) ? "%s\"%s\": %s" : "%s\"%s\": \"%s\"",
		       i ? ", " : "", hdr[i], r->v[i]);
	printf("}");
}

static void print_row(const struct row *r, bool extended)
{
	printf("%-10s %-9s %-28s %-28s %-6s %5s/%-5s %6s %6s", get(r, "phase"),
	       get(r, "role"), get(r, "local"), get(r, "remote"),
	       get(r, "device"), get(r, "send_credits"),
	       get(r, "recv_credits"), get(r, "unread"), get(r, "unsent"));
	if (extended)
		printf(" ino:%s sizes:%s/%s/%s msgs:%s/%s bytes:%s/%s viol:%s "
		       "buf:%s reg:%s rdma:%s/%s", get(r, "inode"),
		       get(r, "send_size"), get(r, "recv_size"),
		       get(r, "frag_size"), get(r, "tx_msgs"),
		       get(r, "rx_msgs"), get(r, "tx_bytes"),
		       get(r, "rx_bytes"), get(r, "violations"),
		       get(r, "buffer_bytes"), get(r, "registered"),
		       get(r, "rdma_written"), get(r, "rdma_read"));
	printf("\n");
}

static void usage(void)
{
	fprintf(stderr, "usage: smbdirect-ss [-a] [-l] [-e] [-j] [-p PHASE] "
		"[-d DEVICE] [-f FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *file = "/proc/net/smbdirect", *phase = NULL, *dev = NULL;
	bool all = false, lonly = false, ext = false, json = false;
	bool first = true;
	char *line = NULL, *hline = NULL;
	size_t cap = 0;
	FILE *f;
	int opt, shown = 0;

	while ((opt = getopt(argc, argv, "alejp:d:f:h")) != -1) {
		switch (opt) {
		case 'a': all = true; break;
		case 'l': lonly = true; break;
		case 'e': ext = true; break;
		case 'j': json = true; break;
		case 'p': phase = optarg; break;
		case 'd': dev = optarg; break;
		case 'f': file = optarg; break;
		default: usage();
		}
	}
	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "smbdirect-ss: %s: %s%s\n", file,
			strerror(errno), errno == ENOENT ?
			" (is af_smbdirect loaded? modprobe af_smbdirect)" : "");
		return 1;
	}
	if (getline(&hline, &cap, f) < 0) {
		fprintf(stderr, "smbdirect-ss: %s: empty\n", file);
		return 1;
	}
	nhdr = split(hline, hdr);
	if (col("phase") < 0 || col("role") < 0) {
		fprintf(stderr, "smbdirect-ss: %s: unknown format\n", file);
		return 1;
	}
	cap = 0;
	if (!json)
		printf("%-10s %-9s %-28s %-28s %-6s %11s %6s %6s\n", "Phase",
		       "Role", "Local", "Peer", "Device", "Credits",
		       "Unread", "Unsent");
	while (getline(&line, &cap, f) > 0) {
		struct row r;
		bool listener;

		r.n = split(line, r.v);
		if (r.n < nhdr)
			continue;
		listener = !strcmp(get(&r, "role"), "listener");
		if ((lonly && !listener) || (!lonly && !all && listener))
			continue;
		if (phase && strcmp(get(&r, "phase"), phase))
			continue;
		if (dev && strcmp(get(&r, "device"), dev))
			continue;
		if (json)
			print_json(&r, &first);
		else
			print_row(&r, ext);
		shown++;
	}
	if (json)
		printf(first ? "[]\n" : "\n]\n");
	free(line);
	free(hline);
	fclose(f);
	return 0;
}
