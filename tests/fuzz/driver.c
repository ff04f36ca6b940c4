// SPDX-License-Identifier: GPL-2.0
/*
 * Entry points for the fuzz targets (fuzz.h).  With -DFUZZ_ONE=NAME this
 * is the libFuzzer binary for target NAME.  Without, it is the replayer
 * that needs no clang (gcc with ASan/UBSan):
 *
 *   fuzz_replay -corpus=DIR          every file of DIR/NAME/ through
 *                                    target NAME, for every target
 *   fuzz_replay NAME FILE...         these files through target NAME
 *   fuzz_replay [-runs=N] [-seed=S]  N seeded random inputs through
 *                                    every target
 */
#include <dirent.h>
#include <string.h>
#include "fuzz.h"

#ifdef FUZZ_ONE
#define FUZZ_CALL2(n, d, s) fuzz_##n(d, s)
#define FUZZ_CALL(n, d, s) FUZZ_CALL2(n, d, s)

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	FUZZ_CALL(FUZZ_ONE, data, size);
	return 0;
}
#else
static const struct {
	const char *name;
	void (*fn)(const u8 *data, size_t size);
} targets[] = {
#define X(n) { #n, fuzz_##n },
	FUZZ_TARGET_LIST
#undef X
};
#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static u8 file_buf[1 << 20];

/* Run one file through @fn; returns 0, or 1 if it cannot be read. */
static int run_file(void (*fn)(const u8 *, size_t), const char *path)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		return 1;
	}
	n = fread(file_buf, 1, sizeof(file_buf), f);
	fclose(f);
	fn(file_buf, n);
	return 0;
}

/* Every regular file in @dir through @fn; returns how many ran. */
static long run_dir(void (*fn)(const u8 *, size_t), const char *dir)
{
	char path[4096 + 256];
	struct dirent *e;
	long n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >=
		    (int)sizeof(path) || run_file(fn, path))
			exit(1);
		n++;
	}
	closedir(d);
	return n;
}

static int replay_corpus(const char *root)
{
	char dir[4096];
	long n, total = 0;
	size_t t;

	for (t = 0; t < NTARGETS; t++) {
		snprintf(dir, sizeof(dir), "%s/%s", root, targets[t].name);
		n = run_dir(targets[t].fn, dir);
		if (n < 0) {
			/* a new target starts without a corpus */
			printf("fuzz replay: %s: no corpus in %s\n",
			       targets[t].name, dir);
			continue;
		}
		printf("fuzz replay: %s: %ld inputs\n", targets[t].name, n);
		total += n;
	}
	printf("fuzz replay: %ld corpus inputs, no invariant broken\n", total);
	return 0;
}

int main(int argc, char **argv)
{
	static u8 buf[600];
	unsigned long runs = 100000, i;
	u64 rng = 0x0f0f1234ull;
	size_t t, len;
	int a;

	if (argc > 1 && !strncmp(argv[1], "-corpus=", 8))
		return replay_corpus(argv[1] + 8);
	if (argc > 1 && argv[1][0] != '-') {
		for (t = 0; t < NTARGETS; t++)
			if (!strcmp(argv[1], targets[t].name))
				break;
		if (t == NTARGETS) {
			fprintf(stderr, "fuzz replay: no target %s\n", argv[1]);
			return 2;
		}
		for (a = 2; a < argc; a++)
			if (run_file(targets[t].fn, argv[a]))
				return 1;
		printf("fuzz replay: %s: %d files, no invariant broken\n",
		       argv[1], argc - 2);
		return 0;
	}
	for (a = 1; a < argc; a++) {
		if (!strncmp(argv[a], "-runs=", 6))
			runs = strtoul(argv[a] + 6, NULL, 0);
		else if (!strncmp(argv[a], "-seed=", 6))
			rng = strtoull(argv[a] + 6, NULL, 0) | 1;
	}
	for (i = 0; i < runs; i++) {
		len = fuzz_random_input(buf, sizeof(buf), &rng);
		for (t = 0; t < NTARGETS; t++)
			targets[t].fn(buf, len);
	}
	printf("fuzz replay: %lu random inputs through %zu targets, no invariant broken\n",
	       runs, NTARGETS);
	return 0;
}
#endif
