/*
 * test_cr.c - cpu/cr.c: MOV to and from CR0/CR2/CR3/CR4/CR8 with their
 * #GP and #UD checks, entering and leaving long mode through CR0.PG with
 * EFER.LME, CLTS, LMSW, SMSW, MOV DRn (fixed bits, DR4/DR5 aliases, DR7.GD),
 * and the privilege rules of INVLPG, INVD, WBINVD and the faults of CLFLUSH.
 */
#include "cr.h"
#include "paging_util.h"

static const uint8_t mov_cr0_rax[] = { 0x0f, 0x22, 0xc0 };
static const uint8_t mov_rax_cr0[] = { 0x0f, 0x20, 0xc0 };
static const uint8_t mov_cr2_rax[] = { 0x0f, 0x22, 0xd0 };
static const uint8_t mov_rax_cr2[] = { 0x0f, 0x20, 0xd0 };
static const uint8_t mov_cr3_rax[] = { 0x0f, 0x22, 0xd8 };
static const uint8_t mov_cr4_rax[] = { 0x0f, 0x22, 0xe0 };
static const uint8_t mov_cr5_rax[] = { 0x0f, 0x22, 0xe8 };
static const uint8_t mov_cr8_rax[] = { 0x44, 0x0f, 0x22, 0xc0 };
static const uint8_t mov_rax_cr8[] = { 0x44, 0x0f, 0x20, 0xc0 };

static enum cpu_stop with_rax(struct cpu *c, const uint8_t *code, size_t n, uint64_t rax)
{
	c->gpr[R_RAX] = rax;
	return sn_run(c, code, n);
}
#define RUN_RAX(c, code, v) with_rax((c), (code), sizeof(code), (v))

/* 32-bit protected mode, paging off: enable PAE, LME, CR3, then PG. */
static void test_enter_leave_long_mode(void)
{
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->cr0 = CR0_PE | CR0_ET;
	c->cr4 = 0;
	c->gpr[R_RBX] = pu_tables4(c);
	c->cr3 = 0;
	static const uint8_t enter[] = {
		0x0f, 0x20, 0xe0, 0x83, 0xc8, 0x20, 0x0f, 0x22, 0xe0,   /* CR4.PAE */
		0xb9, 0x80, 0x00, 0x00, 0xc0, 0x0f, 0x32,               /* rdmsr EFER */
		0x0d, 0x00, 0x01, 0x00, 0x00, 0x0f, 0x30,               /* LME, wrmsr */
		0x0f, 0x22, 0xdb,                                       /* mov cr3, ebx */
		0x0f, 0x20, 0xc0, 0x0d, 0x00, 0x00, 0x00, 0x80,         /* CR0.PG */
		0x0f, 0x22, 0xc0,
	};
	CU_ASSERT_EQUAL(SN_RUN(c, enter), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->efer & (EFER_LME | EFER_LMA), EFER_LME | EFER_LMA);
	CU_ASSERT(c->cr0 & CR0_PG);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE32);        /* compatibility mode */
	CU_ASSERT(c->cr2 == 0 && c->cr3 == c->gpr[R_RBX]);
	/* 64-bit mode (CS.L = 1) may not clear PG */
	c->seg[SEG_CS].attr = 0xa09b;
	cpu_update_mode(c);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE64);
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr0_rax, CR0_PE | CR0_ET), VEC_GP);
	CU_ASSERT(c->efer & EFER_LMA);
	/* ... nor clear CR4.PAE while long mode is active */
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr4_rax, 0), VEC_GP);
	/* nor set reserved CR3 bits */
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr3_rax, c->cr3 | (1ull << 52)), VEC_GP);
	/* compatibility mode may: long mode is left */
	c->seg[SEG_CS].attr = 0xc09b;
	cpu_update_mode(c);
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_cr0_rax, CR0_PE | CR0_ET), CPU_STOP_HLT);
	CU_ASSERT_FALSE(c->efer & EFER_LMA);
	CU_ASSERT(c->efer & EFER_LME);
	CU_ASSERT_FALSE(c->cr0 & CR0_PG);
	/* PG with LME but without PAE: #GP */
	c->cr4 = 0;
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr0_rax, CR0_PE | CR0_PG), VEC_GP);
	CU_ASSERT_FALSE(c->cr0 & CR0_PG);
}

static void test_cr0_checks(void)
{
	struct cpu *c = sn_cpu();
	sn_mode(c, CPU_MODE32, true);
	c->cr0 = CR0_PE | CR0_ET;
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr0_rax, CR0_PG), VEC_GP);            /* PG without PE */
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr0_rax, CR0_PE | CR0_NW), VEC_GP);   /* NW without CD */
	CU_ASSERT_EQUAL(c->cr0, CR0_PE | CR0_ET);
	/* undefined bits read back as 0, ET as 1 */
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_cr0_rax, CR0_PE | CR0_TS | (1u << 6) | CR0_CD | CR0_NW),
			CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr0, CR0_PE | CR0_ET | CR0_TS | CR0_CD | CR0_NW);
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_rax_cr0, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], CR0_PE | CR0_ET | CR0_TS | CR0_CD | CR0_NW);
	/* CR2 is free; CR1/CR5 are #UD; CPL 3 is #GP, before the #UD */
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_cr2_rax, 0xdeadbeef), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_rax_cr2, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xdeadbeef);
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr5_rax, 0), VEC_UD);
	c->cpl = 3;
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr5_rax, 0), VEC_GP);
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_rax_cr0, 0), VEC_GP);
	/* real mode runs at CPL 0 */
	c = sn_cpu();
	static const uint8_t real_cr0[] = { 0x0f, 0x20, 0xc0, 0x66, 0x83, 0xc8, 0x02, 0x0f, 0x22, 0xc0 };
	CU_ASSERT_EQUAL(sn_run_real(c, real_cr0, sizeof real_cr0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr0, CR0_MP | CR0_ET);
	CU_ASSERT_EQUAL(c->mode, CPU_MODE16);
}

static void test_cr4_cr8(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr4_rax, CR4_PAE | CR4_VME), VEC_GP);
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr4_rax, CR4_PAE | CR4_PCIDE), VEC_GP);
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr4_rax, CR4_PAE | CR4_VMXE), VEC_GP);  /* novt */
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr4_rax, CR4_PAE | (1ull << 32)), VEC_GP);
	CU_ASSERT_EQUAL(c->cr4, CR4_PAE);
	uint64_t ok = CR4_PAE | CR4_PGE | CR4_PSE | CR4_TSD | CR4_OSFXSR | CR4_OSXMMEXCPT;
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_cr4_rax, ok), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr4, ok);
	/* CR8: the TPR, 4 bits */
	PU_ASSERT_EXC(c, RUN_RAX(c, mov_cr8_rax, 0x10), VEC_GP);
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_cr8_rax, 0xb), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr8, 0xb);
	CU_ASSERT_EQUAL(RUN_RAX(c, mov_rax_cr8, ~0ull), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xb);
}

static void test_clts_lmsw_smsw(void)
{
	struct cpu *c = sn_cpu();
	c->cr0 |= CR0_TS;
	static const uint8_t clts[] = { 0x0f, 0x06 };
	CU_ASSERT_EQUAL(SN_RUN(c, clts), CPU_STOP_HLT);
	CU_ASSERT_FALSE(c->cr0 & CR0_TS);
	/* LMSW loads MP, EM, TS; PE stays set */
	static const uint8_t lmsw_ax[] = { 0x0f, 0x01, 0xf0 };
	CU_ASSERT_EQUAL(RUN_RAX(c, lmsw_ax, 0xfffe), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr0 & 0xffff, CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET);
	CU_ASSERT_EQUAL(RUN_RAX(c, lmsw_ax, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->cr0 & 0xf, CR0_PE);
	/* SMSW: 16 bits to memory, the operand size to a register */
	c->cr0 |= CR0_WP | CR0_TS;
	static const uint8_t smsw_m[] = { 0x0f, 0x01, 0x23 };
	static const uint8_t smsw_rax[] = { 0x48, 0x0f, 0x01, 0xe0 };
	static const uint8_t smsw_eax[] = { 0x0f, 0x01, 0xe0 };
	sn_poke(c, SN_DATA, 8, ~0ull);
	c->gpr[R_RBX] = SN_DATA;
	CU_ASSERT_EQUAL(SN_RUN(c, smsw_m), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(sn_peek(c, SN_DATA, 8), 0xffffffffffff0000ull | (c->cr0 & 0xffff));
	CU_ASSERT_EQUAL(RUN_RAX(c, smsw_rax, ~0ull), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], c->cr0);
	CU_ASSERT_EQUAL(RUN_RAX(c, smsw_eax, ~0ull), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], c->cr0 & 0xffffffff);
	/* SMSW is allowed at CPL 3; CLTS and LMSW are not */
	c->cpl = 3;
	CU_ASSERT_EQUAL(SN_RUN(c, smsw_eax), CPU_STOP_EXCEPTION);   /* the HLT */
	CU_ASSERT_EQUAL(c->rip, SN_END(smsw_eax));
	PU_ASSERT_EXC(c, SN_RUN(c, clts), VEC_GP);
	PU_ASSERT_EXC(c, SN_RUN(c, lmsw_ax), VEC_GP);
	CU_ASSERT(c->cr0 & CR0_TS);
	/* from real mode, LMSW can enter protected mode */
	c = sn_cpu();
	CU_ASSERT_EQUAL(sn_run_real(c, (const uint8_t[]){ 0xb8, 0x01, 0x00, 0x0f, 0x01, 0xf0 }, 6),
			CPU_STOP_HLT);
	CU_ASSERT(c->cr0 & CR0_PE);
}

static void test_debug_registers(void)
{
	struct cpu *c = sn_cpu();
	static const uint8_t dr7_w[] = { 0x0f, 0x23, 0xf8 }, dr7_r[] = { 0x0f, 0x21, 0xf8 };
	static const uint8_t dr6_w[] = { 0x0f, 0x23, 0xf0 }, dr4_r[] = { 0x0f, 0x21, 0xe0 };
	static const uint8_t dr0_w[] = { 0x0f, 0x23, 0xc0 }, dr0_r[] = { 0x0f, 0x21, 0xc0 };
	static const uint8_t dr8_r[] = { 0x44, 0x0f, 0x21, 0xc0 };
	CU_ASSERT_EQUAL(RUN_RAX(c, dr7_r, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x400);                      /* power-on value */
	CU_ASSERT_EQUAL(RUN_RAX(c, dr7_w, 0xf000df03), CPU_STOP_HLT);   /* all but GD */
	CU_ASSERT_EQUAL(RUN_RAX(c, dr7_r, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xf0000703);                 /* bits 11, 12, 14, 15: 0 */
	CU_ASSERT_EQUAL(RUN_RAX(c, dr6_w, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(RUN_RAX(c, dr4_r, 0), CPU_STOP_HLT);         /* DR4 = DR6 */
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xffff0ff0);
	PU_ASSERT_EXC(c, RUN_RAX(c, dr6_w, 1ull << 32), VEC_GP);
	CU_ASSERT_EQUAL(RUN_RAX(c, dr0_w, 0xffff800000001234ull), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(RUN_RAX(c, dr0_r, 0), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0xffff800000001234ull);
	PU_ASSERT_EXC(c, RUN_RAX(c, dr8_r, 0), VEC_UD);
	/* DR7.GD: the next access raises #DB with DR6.BD, and GD clears */
	CU_ASSERT_EQUAL(RUN_RAX(c, dr7_w, 1u << 13), CPU_STOP_HLT);
	PU_ASSERT_EXC(c, RUN_RAX(c, dr0_r, 0), VEC_DB);
	CU_ASSERT(c->dr[6] & (1u << 13));
	CU_ASSERT_FALSE(c->dr[7] & (1u << 13));
	CU_ASSERT_EQUAL(RUN_RAX(c, dr0_r, 0), CPU_STOP_HLT);
	c->cpl = 3;
	PU_ASSERT_EXC(c, RUN_RAX(c, dr0_r, 0), VEC_GP);
}

static void test_cache_tlb_insns(void)
{
	struct cpu *c = sn_cpu();
	pu_long_mode(c, false);
	static const uint8_t invd[] = { 0x0f, 0x08 }, wbinvd[] = { 0x0f, 0x09 };
	static const uint8_t invlpg[] = { 0x0f, 0x01, 0x3b }, clflush[] = { 0x0f, 0xae, 0x3b };
	CU_ASSERT_EQUAL(SN_RUN(c, invd), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(SN_RUN(c, wbinvd), CPU_STOP_HLT);
	c->gpr[R_RBX] = 0x8000000000000000ull;                   /* non-canonical: a no-op */
	CU_ASSERT_EQUAL(SN_RUN(c, invlpg), CPU_STOP_HLT);
	c->gpr[R_RBX] = 0x500000;                                /* not mapped */
	CU_ASSERT_EQUAL(SN_RUN(c, invlpg), CPU_STOP_HLT);
	PU_ASSERT_PF(c, SN_RUN(c, clflush), 0, 0x500000);        /* faults like a load */
	pu_map4(c, SN_DATA, SN_DATA, PTE_P);
	cpu_tlb_flush(c);
	c->gpr[R_RBX] = SN_DATA;
	CU_ASSERT_EQUAL(SN_RUN(c, clflush), CPU_STOP_HLT);
	c->cpl = 3;
	PU_ASSERT_PF(c, SN_RUN(c, clflush), PFEC_P | PFEC_U, SN_DATA);
	PU_ASSERT_EXC(c, SN_RUN(c, invd), VEC_GP);
	PU_ASSERT_EXC(c, SN_RUN(c, wbinvd), VEC_GP);
	PU_ASSERT_EXC(c, SN_RUN(c, invlpg), VEC_GP);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "entering and leaving long mode", test_enter_leave_long_mode },
		{ "CR0 checks, CR2, CR5, privilege", test_cr0_checks },
		{ "CR4 reserved bits, CR8", test_cr4_cr8 },
		{ "CLTS, LMSW, SMSW", test_clts_lmsw_smsw },
		{ "debug registers", test_debug_registers },
		{ "INVLPG, INVD, WBINVD, CLFLUSH", test_cache_tlb_insns },
		{ NULL, NULL },
	};
	return ut_main("cr", cases);
}
