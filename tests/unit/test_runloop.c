/*
 * test_runloop.c - the instruction budget (--max-insns) bounds every guest,
 * even one whose #UD handler is itself a UD2 and so retires nothing: each
 * delivered fault is charged one tick of virtual time (interrupt.c), so the
 * run ends at the budget instead of spinning forever (fuzz_ring0 found such
 * guests).  A handler that retires IRETQ back to the UD2 ends there too.
 */
#include <string.h>

#include "unit_util.h"

#define IDT 0x380000ull
#define GDT 0x381000ull
#define TSS 0x382000ull
#define HANDLER 0x20000ull

static void put64(struct cpu *c, uint64_t pa, uint64_t v)
{
	cpu_phys_write(c, pa, &v, 8);
}

/* 64-bit CPL 0, IDT vector 6 -> HANDLER through a 64-bit interrupt gate on
 * IST1, so every delivery uses the same stack (else the frames would walk
 * down over the code).  */
static struct cpu *storm_cpu(void)
{
	struct cpu *c = ut_cpu();
	c->cpl = 0;
	c->exceptions_stop = false;
	c->seg[SEG_CS].sel = 0x08;
	c->seg[SEG_CS].attr = 0xa09b;                 /* P, S, code, L, G */
	c->seg[SEG_SS].sel = 0x10;
	c->seg[SEG_SS].attr = 0xc093;
	put64(c, GDT + 8, 0x00209A0000000000ull);    /* 0x08 code64 */
	put64(c, GDT + 16, 0x00CF92000000FFFFull);   /* 0x10 data */
	c->gdtr.base = GDT;
	c->gdtr.limit = 23;
	put64(c, TSS + 0x24, 0x300000);              /* IST1 */
	c->tr.sel = 0x18;
	c->tr.base = TSS;
	c->tr.limit = 103;
	c->tr.attr = 0x8b;                            /* busy 64-bit TSS */
	put64(c, IDT + 6 * 16, (HANDLER & 0xffff) | 0x08ull << 16 | 1ull << 32 | 0x8eull << 40 |
	      ((HANDLER >> 16) & 0xffff) << 48);
	put64(c, IDT + 6 * 16 + 8, 0);
	c->idtr.base = IDT;
	c->idtr.limit = 256 * 16 - 1;
	cpu_update_mode(c);
	return c;
}

static void test_storm_ends_at_budget(void)
{
	struct cpu *c = storm_cpu();
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	cpu_phys_write(c, HANDLER, ud2, sizeof ud2);   /* the handler faults at once */
	enum cpu_stop r = ut_run(c, ud2, sizeof ud2, 200000);
	CU_ASSERT_EQUAL(r, CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->icount, 200000);
	CU_ASSERT_EQUAL(c->rip, HANDLER);
	CU_ASSERT_EQUAL(c->gpr[R_RSP], 0x300000 - 40);  /* IST1: one frame, every time */
}

static void test_retiring_handler_runs_to_budget(void)
{
	struct cpu *c = storm_cpu();
	static const uint8_t ud2[] = { 0x0f, 0x0b };
	static const uint8_t iretq[] = { 0x48, 0xcf };
	cpu_phys_write(c, HANDLER, iretq, sizeof iretq);
	enum cpu_stop r = ut_run(c, ud2, sizeof ud2, 300000);
	if (r != CPU_STOP_LIMIT)
		fprintf(stderr, "\n  stopped with %d: %s\n", r, c->error);
	CU_ASSERT_EQUAL(r, CPU_STOP_LIMIT);
	CU_ASSERT_EQUAL(c->icount, 300000);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "a fault storm ends at the budget", test_storm_ends_at_budget },
		{ "a handler that retires IRETQ runs to the budget", test_retiring_handler_runs_to_budget },
		{ NULL, NULL },
	};
	return ut_main("runloop", cases);
}
