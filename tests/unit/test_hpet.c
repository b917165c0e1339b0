/*
 * test_hpet.c - the HPET (cpu/dev/hpet.c): capabilities as QEMU reports
 * them, the main counter on virtual time (100 MHz: one count per 10
 * instructions), held while disabled and writable then, 32-bit halves.
 */
#include "machine_util.h"

#define HPET 0xfed00000ull

static uint64_t rd64(struct machine *m, uint64_t pa)
{
	return m->cpu.mmio_read(&m->cpu, pa, 8);
}
static void wr64(struct machine *m, uint64_t pa, uint64_t v)
{
	m->cpu.mmio_write(&m->cpu, pa, 8, v);
}

static void test_hpet(void)
{
	struct machine *m = mu_machine(NULL, -1);
	CU_ASSERT_EQUAL(rd64(m, HPET), 0x009896808086a201ull);
	CU_ASSERT_EQUAL(mu_mmio_read(m, HPET + 4), 10000000u);     /* period, fs */
	CU_ASSERT_EQUAL(rd64(m, HPET + 0x10), 0);
	m->cpu.icount = 1000;
	wr64(m, HPET + 0xf0, 500);
	CU_ASSERT_EQUAL(rd64(m, HPET + 0xf0), 500);
	wr64(m, HPET + 0x10, 1);                                    /* enable */
	m->cpu.icount = 1000 + 12345;
	CU_ASSERT_EQUAL(rd64(m, HPET + 0xf0), 500 + 1234);
	wr64(m, HPET + 0xf0, 0);                                    /* ignored: running */
	CU_ASSERT_EQUAL(rd64(m, HPET + 0xf0), 500 + 1234);
	wr64(m, HPET + 0x10, 0);                                    /* stop: it holds */
	m->cpu.icount += 100000;
	CU_ASSERT_EQUAL(rd64(m, HPET + 0xf0), 500 + 1234);
	mu_mmio_write(m, HPET + 0xf4, 7);                           /* high half */
	CU_ASSERT_EQUAL(rd64(m, HPET + 0xf0), (7ull << 32) | (500 + 1234));
	wr64(m, HPET + 0x108, 0xabcdef);
	CU_ASSERT_EQUAL(rd64(m, HPET + 0x108), 0xabcdef);
	CU_ASSERT_EQUAL(mu_mmio_read(m, HPET + 0x2f0), 0);          /* nothing there */
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "registers and the main counter", test_hpet },
		{ NULL, NULL },
	};
	return ut_main("hpet", cases);
}
