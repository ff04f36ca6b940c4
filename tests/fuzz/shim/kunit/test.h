/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal userspace stand-in for <kunit/test.h>: enough of the 6.12 API for
 * the tests/kunit sources to build and run in codec_selftest. Failed checks
 * are counted; a failed assertion abandons the case via longjmp.
 */
#ifndef AFSMBD_SHIM_KUNIT_TEST_H
#define AFSMBD_SHIM_KUNIT_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <asm/byteorder.h>

struct kunit {
	const char *name;
	int failures;
	bool skipped;
	jmp_buf abort;
};

/* Reported as "skip", counted neither passed nor failed. */
#define kunit_mark_skipped(test, fmt, ...)	((test)->skipped = true)

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
};

struct kunit_suite {
	const char name[256];
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(fn)	{ .run_case = fn, .name = #fn }

/* Provided by codec_selftest.c */
void kshim_register(struct kunit_suite **suites, size_t n);
void kshim_fail(struct kunit *test, const char *file, int line,
		const char *what, long long l, long long r, bool fatal);

#define KSHIM_CAT2(a, b)	a##b
#define KSHIM_CAT(a, b)		KSHIM_CAT2(a, b)

#define kunit_test_suites(...)						\
	static struct kunit_suite *KSHIM_CAT(kshim_suites_, __LINE__)[] = \
		{ __VA_ARGS__ };					\
	__attribute__((constructor)) static void			\
	KSHIM_CAT(kshim_reg_, __LINE__)(void)				\
	{								\
		kshim_register(KSHIM_CAT(kshim_suites_, __LINE__),	\
			       sizeof(KSHIM_CAT(kshim_suites_, __LINE__)) / \
			       sizeof(struct kunit_suite *));		\
	}

#define MODULE_LICENSE(x)	extern int kshim_module_info
#define MODULE_DESCRIPTION(x)	extern int kshim_module_info

#define KSHIM_BINARY(test, left, op, right, fatal)			\
	do {								\
		__typeof__(left) kshim_l_ = (left);			\
		__typeof__(right) kshim_r_ = (right);			\
		if (!(kshim_l_ op kshim_r_))				\
			kshim_fail(test, __FILE__, __LINE__,		\
				   #left " " #op " " #right,		\
				   (long long)kshim_l_,			\
				   (long long)kshim_r_, fatal);		\
	} while (0)

#define KUNIT_EXPECT_EQ(t, l, r)	KSHIM_BINARY(t, l, ==, r, false)
#define KUNIT_EXPECT_NE(t, l, r)	KSHIM_BINARY(t, l, !=, r, false)
#define KUNIT_EXPECT_LT(t, l, r)	KSHIM_BINARY(t, l, <, r, false)
#define KUNIT_EXPECT_LE(t, l, r)	KSHIM_BINARY(t, l, <=, r, false)
#define KUNIT_EXPECT_GT(t, l, r)	KSHIM_BINARY(t, l, >, r, false)
#define KUNIT_EXPECT_GE(t, l, r)	KSHIM_BINARY(t, l, >=, r, false)
#define KUNIT_ASSERT_EQ(t, l, r)	KSHIM_BINARY(t, l, ==, r, true)
#define KUNIT_ASSERT_NE(t, l, r)	KSHIM_BINARY(t, l, !=, r, true)
#define KUNIT_ASSERT_LT(t, l, r)	KSHIM_BINARY(t, l, <, r, true)
#define KUNIT_ASSERT_LE(t, l, r)	KSHIM_BINARY(t, l, <=, r, true)
#define KUNIT_ASSERT_GT(t, l, r)	KSHIM_BINARY(t, l, >, r, true)
#define KUNIT_ASSERT_GE(t, l, r)	KSHIM_BINARY(t, l, >=, r, true)

#define KUNIT_EXPECT_TRUE(t, c)		KSHIM_BINARY(t, !!(c), ==, true, false)
#define KUNIT_EXPECT_FALSE(t, c)	KSHIM_BINARY(t, !!(c), ==, false, false)
#define KUNIT_ASSERT_TRUE(t, c)		KSHIM_BINARY(t, !!(c), ==, true, true)
#define KUNIT_ASSERT_FALSE(t, c)	KSHIM_BINARY(t, !!(c), ==, false, true)

#define KUNIT_EXPECT_MEMEQ(t, l, r, n)					\
	KSHIM_BINARY(t, memcmp((l), (r), (n)), ==, 0, false)
#define KUNIT_ASSERT_MEMEQ(t, l, r, n)					\
	KSHIM_BINARY(t, memcmp((l), (r), (n)), ==, 0, true)

#define KUNIT_FAIL(t, fmt, ...)						\
	kshim_fail(t, __FILE__, __LINE__, fmt, 0, 0, false)

#endif
