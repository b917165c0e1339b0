/*
 * decode_util.c - see decode_util.h.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_util.h"

int parse_hex(const char *hex, uint8_t *b)
{
	int n = 0;
	while (*hex && n < 32) {
		char *end;
		unsigned long v = strtoul(hex, &end, 16);
		if (end == hex)
			break;
		b[n++] = (uint8_t)v;
		hex = end;
	}
	return n;
}

int dec(int mode, const char *hex, struct insn *in)
{
	uint8_t b[32];
	int n = parse_hex(hex, b);
	return insn_decode(b, n, mode, in);
}

struct insn check(int mode, const char *hex, const char *op, int len)
{
	struct insn in;
	int got = dec(mode, hex, &in);
	if (got != len || strcmp(insn_op_name(in.op), op) != 0)
		printf("\n  [%d-bit] %s: got %s len %d, want %s len %d", 16 << mode, hex,
		       insn_op_name(in.op), got, op, len);
	CU_ASSERT_EQUAL(got, len);
	CU_ASSERT_STRING_EQUAL(insn_op_name(in.op), op);
	CU_ASSERT_EQUAL(in.len, len);
	return in;
}

int run_decode_tests(const char *suite, const struct decode_test *tests, int n)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite(suite, NULL, NULL);
	for (int k = 0; s && k < n; k++)
		if (!CU_add_test(s, tests[k].name, tests[k].fn))
			s = NULL;
	if (!s) {
		fprintf(stderr, "%s: CUnit registry error\n", suite);
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
