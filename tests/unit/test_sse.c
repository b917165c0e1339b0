/*
 * test_sse.c - the MMX/SSE rules that random differential runs do not
 * reach (tests/diff runs user-mode code with CR0/CR4 fixed): #UD for
 * CR0.EM and CR4.OSFXSR, #NM for CR0.TS, #MF for MMX with an x87 exception
 * pending, the x87 -> MMX transition, the 16-byte alignment rule, a store
 * that faults on its second page without writing the first, LDMXCSR's
 * reserved bits, and a few lane rules with exact expected values
 * (saturation, shift counts past the width, PMADDWD's wrap).
 */
#include "paging_util.h"
#include "sse.h"

/* movaps xmm1, [rbx] ; movups xmm1, [rbx] ; movaps [rbx], xmm1 */
static const uint8_t movaps_ld[] = { 0x0f, 0x28, 0x0b };
static const uint8_t movups_ld[] = { 0x0f, 0x10, 0x0b };
static const uint8_t movups_st[] = { 0x0f, 0x11, 0x0b };
static const uint8_t paddb_mm[] = { 0x0f, 0xfc, 0xc1 };   /* paddb mm0, mm1 */

static struct cpu *sse_cpu(void)
{
	struct cpu *c = sn_cpu();
	c->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	c->gpr[R_RBX] = SN_DATA;
	return c;
}

static void test_checks(void)
{
	struct cpu *c = sse_cpu();
	CU_ASSERT_EQUAL(SN_RUN(c, movups_ld), CPU_STOP_HLT);
	c->cr4 &= ~CR4_OSFXSR;
	PU_ASSERT_EXC(c, SN_RUN(c, movups_ld), VEC_UD);
	/* MMX does not need CR4.OSFXSR */
	CU_ASSERT_EQUAL(SN_RUN(c, paddb_mm), CPU_STOP_HLT);
	c->cr4 |= CR4_OSFXSR;
	c->cr0 |= CR0_EM;
	PU_ASSERT_EXC(c, SN_RUN(c, movups_ld), VEC_UD);
	PU_ASSERT_EXC(c, SN_RUN(c, paddb_mm), VEC_UD);
	c->cr0 |= CR0_TS;                        /* EM wins over TS */
	PU_ASSERT_EXC(c, SN_RUN(c, movups_ld), VEC_UD);
	c->cr0 &= ~CR0_EM;
	PU_ASSERT_EXC(c, SN_RUN(c, movups_ld), VEC_NM);
	PU_ASSERT_EXC(c, SN_RUN(c, paddb_mm), VEC_NM);
	c->cr0 &= ~CR0_TS;
	/* an unmasked x87 exception pending: MMX raises #MF, SSE does not */
	c->fpu.fsw |= FSW_ES;
	PU_ASSERT_EXC(c, SN_RUN(c, paddb_mm), VEC_MF);
	CU_ASSERT_EQUAL(SN_RUN(c, movups_ld), CPU_STOP_HLT);
	c->fpu.fsw &= (uint16_t)~FSW_ES;
	/* LDMXCSR with a reserved bit: #GP(0), MXCSR unchanged */
	static const uint8_t ldmxcsr[] = { 0x0f, 0xae, 0x13 };
	sn_poke(c, SN_DATA, 4, 0x10000 | 0x1f80);
	PU_ASSERT_EXC(c, SN_RUN(c, ldmxcsr), VEC_GP);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0x1f80);
	sn_poke(c, SN_DATA, 4, 0xffc0);
	CU_ASSERT_EQUAL(SN_RUN(c, ldmxcsr), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0xffc0);
}

static void test_mmx_state(void)
{
	struct cpu *c = sse_cpu();
	c->fpu.fsw = 0x3800;                     /* TOP = 7 */
	c->fpu.ftw = 0;                          /* all empty */
	mmx_set(c, 1, 0x0102030405060708ull);
	memset(c->fpu.st[0], 0, 16);
	CU_ASSERT_EQUAL(SN_RUN(c, paddb_mm), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(mmx_get(c, 0), 0x0102030405060708ull);
	CU_ASSERT_EQUAL(c->fpu.fsw & FSW_TOP, 0);
	CU_ASSERT_EQUAL(c->fpu.ftw, 0xff);
	CU_ASSERT_EQUAL(c->fpu.st[0][8], 0xff);  /* exponent all ones */
	CU_ASSERT_EQUAL(c->fpu.st[0][9], 0xff);
	static const uint8_t emms[] = { 0x0f, 0x77 };
	CU_ASSERT_EQUAL(SN_RUN(c, emms), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->fpu.ftw, 0);
}

static void test_alignment(void)
{
	struct cpu *c = sse_cpu();
	c->gpr[R_RBX] = SN_DATA + 8;
	PU_ASSERT_EXC(c, SN_RUN(c, movaps_ld), VEC_GP);
	CU_ASSERT_EQUAL(SN_RUN(c, movups_ld), CPU_STOP_HLT);
	/* paddb xmm1, [rbx] wants m128 aligned; movq xmm1, [rbx] does not */
	static const uint8_t paddb_x[] = { 0x66, 0x0f, 0xfc, 0x0b };
	static const uint8_t movq_x[] = { 0xf3, 0x0f, 0x7e, 0x0b };
	PU_ASSERT_EXC(c, SN_RUN(c, paddb_x), VEC_GP);
	CU_ASSERT_EQUAL(SN_RUN(c, movq_x), CPU_STOP_HLT);
	/* a store whose second page is read-only: #PF there, nothing written */
	c = sse_cpu();
	pu_long_mode(c, false);
	c->cr4 |= CR4_OSFXSR;
	pu_map4(c, SN_DATA + 0x1000, SN_DATA + 0x1000, PTE_P | PTE_US);
	sn_poke(c, SN_DATA + 0xff8, 8, 0xeeeeeeeeeeeeeeeeull);
	c->gpr[R_RBX] = SN_DATA + 0xff8;
	c->fpu.xmm[1] = (union cpu_vec){ .q = { 1, 2 } };
	PU_ASSERT_PF(c, SN_RUN(c, movups_st), PFEC_P | PFEC_W, SN_DATA + 0x1000);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA + 0xff8, 8), 0xeeeeeeeeeeeeeeeeull);
}

/* Run `code` on xmm0 = a, xmm1 = b; return xmm0. */
static union cpu_vec run2(const uint8_t *code, size_t len, union cpu_vec a, union cpu_vec b)
{
	struct cpu *c = sse_cpu();
	c->fpu.xmm[0] = a;
	c->fpu.xmm[1] = b;
	CU_ASSERT_EQUAL(sn_run(c, code, len), CPU_STOP_HLT);
	return c->fpu.xmm[0];
}
#define RUN2(code, a, b) run2((code), sizeof(code), (a), (b))

static void test_lanes(void)
{
	static const uint8_t packsswb[] = { 0x66, 0x0f, 0x63, 0xc1 };
	static const uint8_t psrlw[] = { 0x66, 0x0f, 0xd1, 0xc1 };
	static const uint8_t psraw[] = { 0x66, 0x0f, 0xe1, 0xc1 };
	static const uint8_t pmaddwd[] = { 0x66, 0x0f, 0xf5, 0xc1 };
	static const uint8_t movss_rr[] = { 0xf3, 0x0f, 0x10, 0xc1 };
	union cpu_vec a = { .w = { 0x7fff, 0x8000, 0x0080, 0xff7f, 1, 2, 3, 4 } };
	union cpu_vec b = { .w = { 0xffff, 0x0100, 0, 0, 0, 0, 0, 0 } };
	union cpu_vec r = RUN2(packsswb, a, b);
	CU_ASSERT_EQUAL(r.q[0], 0x04030201807f807full);   /* 7fff->7f, 8000->80, 80->7f, ff7f->80 */
	CU_ASSERT_EQUAL(r.q[1], 0x0000000000007fffull);   /* ffff -> ff, 0100 -> 7f */
	/* a count of 16 or more clears logical shifts and fills arithmetic ones */
	union cpu_vec cnt = { .q = { 16, 0 } };
	CU_ASSERT_EQUAL(RUN2(psrlw, a, cnt).q[0], 0);
	CU_ASSERT_EQUAL(RUN2(psraw, a, cnt).q[0], 0xffff0000ffff0000ull);
	cnt.q[0] = 1ull << 32;                     /* the whole quadword counts */
	CU_ASSERT_EQUAL(RUN2(psrlw, a, cnt).q[0], 0);
	/* 8000h * 8000h twice wraps to 80000000h */
	union cpu_vec m = { .w = { 0x8000, 0x8000, 2, 3, 0, 0, 0, 0 } };
	r = RUN2(pmaddwd, m, m);
	CU_ASSERT_EQUAL(r.d[0], 0x80000000u);
	CU_ASSERT_EQUAL(r.d[1], 13u);
	/* MOVSS between registers keeps bits 127:32 */
	union cpu_vec x = { .q = { 0x1111111122222222ull, 0x3333333344444444ull } };
	union cpu_vec y = { .q = { 0x55555555aaaaaaaaull, 0x6666666677777777ull } };
	r = RUN2(movss_rr, x, y);
	CU_ASSERT_EQUAL(r.q[0], 0x11111111aaaaaaaaull);
	CU_ASSERT_EQUAL(r.q[1], 0x3333333344444444ull);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "#UD/#NM/#MF checks, LDMXCSR", test_checks },
		{ "x87 -> MMX transition, EMMS", test_mmx_state },
		{ "alignment and split stores", test_alignment },
		{ "lane rules", test_lanes },
		{ NULL, NULL },
	};
	return ut_main("sse", cases);
}
