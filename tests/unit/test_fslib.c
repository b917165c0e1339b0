/*
 * test_fslib.c - the freestanding support library (freestanding/) on the
 * host: its formatter and command-line words are plain C, so they are
 * compiled here beside the host C library (string.c, which defines memset
 * & co. under their C library names, is not) and compared with what the
 * project's rule and snprintf say.
 */
#include <stdio.h>
#include <string.h>

#include "unit_util.h"
#include "fs_lib.h"

static char out[128];

#define FMT(expect, ...) do { \
	int n_ = fs_snprintf(out, sizeof out, __VA_ARGS__); \
	CU_ASSERT_STRING_EQUAL(out, expect); \
	CU_ASSERT_EQUAL(n_, (int)strlen(expect)); } while (0)

static void test_numbers(void)
{
	FMT("42 -7 0 4294967295", "%u %d %u %u", 42u, -7, 0u, 4294967295u);
	FMT("3f8 0x3f8 0xc0000080", "%x %#x %#lx", 0x3f8u, 0x3f8u, 0xc0000080ul);
	FMT("0x0e", "%#04x", 14u);                      /* the prefix counts, as in C */
	FMT("00000000fee00000", "%016lx", 0xfee00000ul);
	FMT("   12|-0005", "%5u|%05d", 12u, -5);
	FMT("18446744073709551615 -9223372036854775808", "%lu %ld",
	    (unsigned long)-1, (long)(-9223372036854775807L - 1));
	FMT("0x0000000000001000", "%p", (void *)0x1000);
	FMT("7 8", "%zu %llu", (size_t)7, 8ull);
}

static void test_strings_and_oddities(void)
{
	/* Formats gcc's own checker would refuse, through a variable. */
	const char *volatile odd[] = { "%c %s %s %%", "%q", "x%" };
	const char *volatile null = NULL;
	FMT("a b (null) %", odd[0], 'a', "b", null);
	FMT("%q", odd[1]);                              /* unknown: printed as is */
	FMT("x%", odd[2]);                              /* a trailing '%' */
	/* Same as the C library for the conversions both have. */
	char ref[64];
	snprintf(ref, sizeof ref, "%#x|%08lx|%d|%5d", 255u, 0xabcul, -12, 3);
	FMT(ref, "%#x|%08lx|%d|%5d", 255u, 0xabcul, -12, 3);
}

static void test_truncation(void)
{
	char small[6];
	int n = fs_snprintf(small, sizeof small, "nesthv %u", 12345u);
	CU_ASSERT_STRING_EQUAL(small, "nesth");
	CU_ASSERT_EQUAL(n, 12);
	CU_ASSERT_EQUAL(fs_snprintf(NULL, 0, "%u", 100u), 3);
}

static void test_cmdline(void)
{
	const char *cl = "guest.elf bench=3000 hvtrace xhv=pv hv=svm";
	CU_ASSERT_TRUE(fs_cmdline_has(cl, "hvtrace"));
	CU_ASSERT_TRUE(fs_cmdline_has(cl, "guest.elf"));
	CU_ASSERT_TRUE(fs_cmdline_has(cl, "hv=svm"));
	CU_ASSERT_FALSE(fs_cmdline_has(cl, "hv=pv"));   /* only inside "xhv=pv" */
	CU_ASSERT_FALSE(fs_cmdline_has(cl, "hvtra"));   /* a prefix is not the word */
	CU_ASSERT_FALSE(fs_cmdline_has("", "x"));
	CU_ASSERT_STRING_EQUAL(fs_cmdline_value(cl, "bench="), "3000 hvtrace xhv=pv hv=svm");
	CU_ASSERT_EQUAL(fs_atou(fs_cmdline_value(cl, "bench=")), 3000);
	CU_ASSERT_STRING_EQUAL(fs_cmdline_value(cl, "hv="), "svm");
	CU_ASSERT_PTR_NULL(fs_cmdline_value(cl, "nested="));
	CU_ASSERT_PTR_NULL(fs_cmdline_value(NULL, "nested="));
	CU_ASSERT_TRUE(fs_streq("abc", "abc"));
	CU_ASSERT_FALSE(fs_streq("abc", "ab"));
	CU_ASSERT_EQUAL(fs_strncmp("hv=svm", "hv=", 3), 0);
	CU_ASSERT_EQUAL(fs_atou("x1"), 0);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "numbers: hex with 0x, decimal counts", test_numbers },
		{ "strings, unknown conversions", test_strings_and_oddities },
		{ "snprintf truncation", test_truncation },
		{ "command-line words", test_cmdline },
		{ NULL, NULL },
	};
	return ut_main("fslib", cases);
}
