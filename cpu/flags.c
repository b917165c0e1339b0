/*
 * flags.c - RFLAGS as software sees it (PUSHF, the UI, the tests), built from
 * the lazy form in flags.h, and written back (POPF, IRET, tests).
 */
#include "flags.h"

uint64_t cpu_get_rflags(struct cpu *c)
{
	if (!c->lf.live)
		return c->rflags | FLAG_FIXED1;
	uint64_t f = c->rflags & ~FLAGS_ARITH;
	f |= cpu_cf(c) ? FLAG_CF : 0;
	f |= cpu_pf(c) ? FLAG_PF : 0;
	f |= cpu_af(c) ? FLAG_AF : 0;
	f |= cpu_zf(c) ? FLAG_ZF : 0;
	f |= cpu_sf(c) ? FLAG_SF : 0;
	f |= cpu_of(c) ? FLAG_OF : 0;
	return f | FLAG_FIXED1;
}

void cpu_set_rflags(struct cpu *c, uint64_t v)
{
	/* Bits 3, 5, 15 and 22-63 are reserved zero; bit 1 reads as one. */
	c->rflags = (v & 0x3f7fd5ull) | FLAG_FIXED1;
	c->lf.live = false;
}
