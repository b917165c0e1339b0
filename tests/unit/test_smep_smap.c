/*
 * test_smep_smap.c - CR4.SMEP and CR4.SMAP (paging.c, SDM Vol. 3 4.6.1)
 * and CLAC/STAC (system.c): a supervisor fetch from a user page is a #PF
 * with P and I/D; a supervisor data access to a user page is a #PF unless
 * EFLAGS.AC = 1, which STAC sets and CLAC clears (the TLB keeps no fast
 * entry that would outlive AC); CLAC/STAC are #UD at CPL 3; CPUID leaf 7
 * offers the three bits CR4 then accepts.
 */
#include "arch.h"
#include "cr.h"
#include "model.h"
#include "paging_util.h"

/* stac; mov al, [SN_DATA]; clac; mov al, [SN_DATA] */
static const uint8_t stac_read_clac_read[] = {
	0x0f, 0x01, 0xcb, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00,
	0x0f, 0x01, 0xca, 0x8a, 0x04, 0x25, 0x00, 0x00, 0x20, 0x00 };

static void test_smep(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, true);
	static const uint8_t nop[] = { 0x90 };
	c->cr4 |= CR4_SMEP;                     /* every page is a user page */
	cpu_tlb_flush(c);
	PU_ASSERT_PF(c, SN_RUN(c, nop), 0x11, UT_CODE);
	c->cr4 &= ~CR4_SMEP;
	cpu_tlb_flush(c);
	CU_ASSERT_EQUAL(SN_RUN(c, nop), CPU_STOP_HLT);
}

static void test_smap(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, true);
	pu_map4(c, UT_CODE, UT_CODE, PTE_P | PTE_RW);     /* the code: supervisor */
	sn_poke(c, SN_DATA, 1, 0x5a);
	c->cr4 |= CR4_SMAP;
	cpu_tlb_flush(c);
	/* without STAC: the first read faults (P, supervisor, read) */
	PU_ASSERT_PF(c, SN_RUN(c, stac_read_clac_read + 3), 0x01, SN_DATA);
	/* STAC; read; CLAC; the same read faults, though the first filled the TLB */
	PU_ASSERT_PF(c, SN_RUN(c, stac_read_clac_read), 0x01, SN_DATA);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 13);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] & 0xff, 0x5a);
	CU_ASSERT_FALSE(c->rflags & FLAG_AC);
	/* SMAP off: no fault */
	c->cr4 &= ~CR4_SMAP;
	cpu_tlb_flush(c);
	CU_ASSERT_EQUAL(SN_RUN(c, stac_read_clac_read), CPU_STOP_HLT);
	/* STAC at CPL 3: #UD */
	pu_map4(c, UT_CODE, UT_CODE, PU_UP);
	cpu_tlb_flush(c);
	c->cpl = 3;
	PU_ASSERT_EXC(c, SN_RUN(c, stac_read_clac_read), VEC_UD);
}

static void test_leaf7(void)
{
	uint32_t r[4];
	cpu_model_cpuid(cpu_model_default(), 7, 0, r);
	CU_ASSERT_EQUAL(r[1] & ((1u << 7) | (1u << 20)), (1u << 7) | (1u << 20));
	CU_ASSERT_EQUAL(r[2] & (1u << 2), 1u << 2);
	struct cpu *c = sn_cpu();
	CU_ASSERT_EQUAL(cpu_cr4_valid(c) & (CR4_SMEP | CR4_SMAP | CR4_UMIP),
			CR4_SMEP | CR4_SMAP | CR4_UMIP);
	cpu_model_cpuid(cpu_model_default(), 0x15, 0, r);
	CU_ASSERT_EQUAL((uint64_t)r[2] * r[1] / r[0], 1000000000ull);   /* TSC Hz */
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "SMEP", test_smep },
		{ "SMAP with STAC/CLAC", test_smap },
		{ "CPUID leaf 7, 15h; CR4 accepts the bits", test_leaf7 },
		{ NULL, NULL },
	};
	return ut_main("smep_smap", cases);
}
