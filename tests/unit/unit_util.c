/*
 * unit_util.c - see unit_util.h.
 */
#include <stdlib.h>

#include "model.h"
#include "unit_util.h"

struct cpu *ut_cpu(void)
{
	static struct cpu c;
	static bool live;
	if (live)
		cpu_free(&c);
	if (cpu_init(&c, cpu_model_default(), UT_RAM) < 0)
		abort();
	live = true;
	c.exceptions_stop = true;
	c.gpr[R_RSP] = 3ull << 20;
	return &c;
}

enum cpu_stop ut_run(struct cpu *c, const void *code, size_t len, uint64_t max)
{
	if (cpu_phys_write(c, UT_CODE, code, len) < 0)
		abort();
	c->rip = UT_CODE;
	return cpu_run(c, max);
}

int ut_main(const char *suite, const struct ut_case *cases)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite(suite, NULL, NULL);
	for (; s && cases->name; cases++)
		CU_add_test(s, cases->name, cases->fn);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
