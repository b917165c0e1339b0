/*
 * test_fxsave.c - cpu/fxsave.c: the FXSAVE image field by field (legacy and
 * REX.W forms, 64-bit and 32-bit mode), FXRSTOR back into the state, the
 * #NM / #GP(alignment) / #GP(MXCSR) checks, and a save that faults on its
 * second page without writing the first.
 */
#include "paging_util.h"

static const uint8_t fxsave[] = { 0x0f, 0xae, 0x03 }, fxrstor[] = { 0x0f, 0xae, 0x0b };
static const uint8_t fxsave64[] = { 0x48, 0x0f, 0xae, 0x03 };
static const uint8_t fxrstor64[] = { 0x48, 0x0f, 0xae, 0x0b };

static void fill_fpu(struct cpu *c)
{
	struct cpu_fpu *f = &c->fpu;
	f->fcw = 0x1234;
	f->fsw = 0x5678;
	f->ftw = 0x9a;
	f->fop = 0x7bc;
	f->fip = 0x0000aaaa11223344ull;
	f->fdp = 0x0000bbbb55667788ull;
	f->mxcsr = 0x9fc0;
	for (int n = 0; n < 8; n++)
		for (int k = 0; k < 10; k++)
			f->st[n][k] = (uint8_t)(0x10 * n + k);
	for (int n = 0; n < 16; n++)
		for (int k = 0; k < 16; k++)
			f->xmm[n].b[k] = (uint8_t)(0x80 + 0x10 * (n & 7) + k + n / 8);
}

static void fill_ram(struct cpu *c, uint64_t pa, uint8_t v, size_t n)
{
	uint8_t buf[1024];
	memset(buf, v, sizeof buf);
	cpu_phys_write(c, pa, buf, n);
}

static void test_image(void)
{
	struct cpu *c = sn_cpu();
	fill_fpu(c);
	fill_ram(c, SN_DATA, 0xee, 1024);
	c->gpr[R_RBX] = SN_DATA;
	CU_ASSERT_EQUAL(SN_RUN(c, fxsave), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 0, 2), 0x1234);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 2, 2), 0x5678);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 4, 2), 0x9a);          /* FTW, then a 0 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 6, 2), 0x7bc);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 8, 8), 0x0000aaaa11223344ull);   /* FIP, FCS, 0 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 16, 8), 0x0000bbbb55667788ull);  /* FDP, FDS, 0 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 24, 4), 0x9fc0);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 28, 4), 0xffff);        /* MXCSR_MASK */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 32 + 16 * 3, 8), 0x3736353433323130ull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 32 + 16 * 3 + 8, 8), 0x3938);   /* 6 bytes of 0 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 160, 1), 0x80);         /* XMM0 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 160 + 16 * 15, 1), 0xf1); /* XMM15 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 416, 8), 0xeeeeeeeeeeeeeeeeull); /* untouched */
	/* FXSAVE64: 64-bit FIP and FDP */
	c->fpu.fip = 0xffff800012345678ull;
	CU_ASSERT_EQUAL(SN_RUN(c, fxsave64), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 8, 8), 0xffff800012345678ull);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 16, 8), 0x0000bbbb55667788ull);
	/* 32-bit mode: XMM0-7 only */
	fill_ram(c, SN_DATA, 0xee, 1024);
	sn_mode(c, CPU_MODE32, true);
	CU_ASSERT_EQUAL(SN_RUN(c, fxsave), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 160 + 16 * 7, 1), 0xf0);  /* XMM7 */
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 288, 8), 0xeeeeeeeeeeeeeeeeull);
}

static void test_restore(void)
{
	struct cpu *c = sn_cpu();
	fill_fpu(c);
	c->gpr[R_RBX] = SN_DATA;
	CU_ASSERT_EQUAL(SN_RUN(c, fxsave64), CPU_STOP_HLT);
	struct cpu_fpu saved = c->fpu;
	memset(&c->fpu, 0, sizeof c->fpu);
	CU_ASSERT_EQUAL(SN_RUN(c, fxrstor64), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->fpu.fcw, saved.fcw);
	CU_ASSERT_EQUAL(c->fpu.ftw, saved.ftw);
	CU_ASSERT_EQUAL(c->fpu.fop, saved.fop);
	CU_ASSERT_EQUAL(c->fpu.fip, saved.fip);
	CU_ASSERT_EQUAL(c->fpu.fdp, saved.fdp);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, saved.mxcsr);
	CU_ASSERT(memcmp(c->fpu.st, saved.st, sizeof saved.st) == 0);
	CU_ASSERT(memcmp(c->fpu.xmm, saved.xmm, sizeof saved.xmm) == 0);
	/* the legacy form: FCS/FDS carry bits 47:32 */
	CU_ASSERT_EQUAL(SN_RUN(c, fxsave), CPU_STOP_HLT);
	c->fpu.fip = c->fpu.fdp = 0;
	CU_ASSERT_EQUAL(SN_RUN(c, fxrstor), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->fpu.fip, saved.fip);
	CU_ASSERT_EQUAL(c->fpu.fdp, saved.fdp);
	/* an MXCSR bit outside MXCSR_MASK: #GP(0), nothing loaded */
	sn_poke(c, SN_DATA + 24, 4, 0x10000 | 0x1f80);
	sn_poke(c, SN_DATA + 0, 2, 0x037f);
	PU_ASSERT_EXC(c, SN_RUN(c, fxrstor), VEC_GP);
	CU_ASSERT_EQUAL(c->fpu.fcw, saved.fcw);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, saved.mxcsr);
}

static void test_checks(void)
{
	struct cpu *c = sn_cpu();
	c->gpr[R_RBX] = SN_DATA + 8;
	PU_ASSERT_EXC(c, SN_RUN(c, fxsave), VEC_GP);               /* not 16-byte aligned */
	PU_ASSERT_EXC(c, SN_RUN(c, fxrstor), VEC_GP);
	c->gpr[R_RBX] = SN_DATA;
	c->cr0 |= CR0_TS;
	PU_ASSERT_EXC(c, SN_RUN(c, fxsave), VEC_NM);
	c->cr0 &= ~CR0_TS;
	c->cr0 |= CR0_EM;
	PU_ASSERT_EXC(c, SN_RUN(c, fxrstor), VEC_NM);
	c->cr0 &= ~CR0_EM;
	/* 32-bit mode: all 512 bytes must lie inside the segment limit */
	sn_mode(c, CPU_MODE32, true);
	c->seg[SEG_DS].limit = SN_DATA + 0x1fe;
	PU_ASSERT_EXC(c, SN_RUN(c, fxsave), VEC_GP);
	c->seg[SEG_DS].limit = SN_DATA + 0x1ff;
	CU_ASSERT_EQUAL(SN_RUN(c, fxsave), CPU_STOP_HLT);
	c = sn_cpu();
	/* the image's second page is read-only: #PF there, nothing written */
	pu_long_mode(c, false);
	fill_ram(c, SN_DATA + 0xe00, 0xee, 1024);
	pu_map4(c, SN_DATA + 0x1000, SN_DATA + 0x1000, PTE_P | PTE_US);
	c->gpr[R_RBX] = SN_DATA + 0x1000 - 0x100;
	PU_ASSERT_PF(c, SN_RUN(c, fxsave), PFEC_P | PFEC_W, SN_DATA + 0x1000);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 0x1000 - 0x100, 8), 0xeeeeeeeeeeeeeeeeull);
	/* and at CPL 3 from a supervisor page */
	pu_map4(c, SN_DATA, SN_DATA, PTE_P | PTE_RW);
	c->gpr[R_RBX] = SN_DATA;
	c->cpl = 3;
	PU_ASSERT_PF(c, SN_RUN(c, fxsave), PFEC_P | PFEC_U | PFEC_W, SN_DATA);
	PU_ASSERT_PF(c, SN_RUN(c, fxrstor), PFEC_P | PFEC_U, SN_DATA);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "FXSAVE image", test_image },
		{ "FXRSTOR", test_restore },
		{ "#NM, alignment, page faults", test_checks },
		{ NULL, NULL },
	};
	return ut_main("fxsave", cases);
}
