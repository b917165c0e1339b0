/*
 * test_syscall.c - SYSCALL/SYSRET, SYSENTER/SYSEXIT and SWAPGS (syscall.c):
 * the selectors they derive from the MSRs, RCX/R11, FMASK, CPL, the
 * non-canonical SYSRET #GP in ring 0, and the #UD/#GP conditions.
 */
#include "sys_util.h"

static const uint8_t h_gp[] = { 0x4c, 0x8b, 0x7c, 0x24, 0x08,      /* mov r15, [rsp+8] (RIP) */
				0x4c, 0x8b, 0x74, 0x24, 0x10, 0xf4 };  /* mov r14, [rsp+16] (CS) */
static const uint8_t h_ud[] = { 0x4c, 0x8b, 0x2c, 0x24, 0xf4 };      /* mov r13, [rsp] (RIP) */

static struct cpu *cpu_with_handlers(void)
{
	struct cpu *c = sy_cpu64();
	sy_put(c, SY_HND + 0x100, h_gp, sizeof h_gp);
	sy_put(c, SY_HND + 0x200, h_ud, sizeof h_ud);
	sy_gate64(c, VEC_GP, SY_HND + 0x100, 0xe, 0, 0);
	sy_gate64(c, VEC_UD, SY_HND + 0x200, 0xe, 0, 0);
	return c;
}

/* SYSRETQ to ring 3, SYSCALL back. */
static void test_syscall_sysret(void)
{
	struct cpu *c = cpu_with_handlers();
	static const uint8_t code[] = { 0x48, 0x0f, 0x07 };                      /* sysretq */
	static const uint8_t user[] = { 0xb8, 0x2a, 0, 0, 0, 0x0f, 0x05 };      /* mov eax,42; syscall */
	/* mov r8,rcx; mov r9,r11; mov r10d,cs; mov r12d,ss; pushfq; pop r13; hlt */
	static const uint8_t entry[] = { 0x49, 0x89, 0xc8, 0x4d, 0x89, 0xd9, 0x41, 0x8c, 0xca,
					 0x41, 0x8c, 0xd4, 0x9c, 0x41, 0x5d, 0xf4 };
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND, entry, sizeof entry);
	c->msr.lstar = SY_HND;
	c->msr.sfmask = FLAG_IF | FLAG_DF;
	c->gpr[R_RCX] = 0x11000;
	c->gpr[R_R11] = 0x10202 | FLAG_DF;     /* RF is not restored... into R11 */
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 42);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0x11007);
	CU_ASSERT_EQUAL(c->gpr[R_R9] & (FLAG_IF | FLAG_DF | FLAG_RF), FLAG_IF | FLAG_DF);
	CU_ASSERT_EQUAL(c->gpr[R_R10], 0x08);
	CU_ASSERT_EQUAL(c->gpr[R_R12], 0x10);
	CU_ASSERT_EQUAL(c->gpr[R_R13] & (FLAG_IF | FLAG_DF), 0);
	CU_ASSERT_EQUAL(c->cpl, 0);
}

/* SYSRET (32-bit) goes to compatibility mode with CS = STAR[63:48] | 3. */
static void test_sysret_compat(void)
{
	struct cpu *c = cpu_with_handlers();
	static const uint8_t code[] = { 0x0f, 0x07 };
	static const uint8_t user[] = { 0x0f, 0x0b };     /* ud2 in 32-bit code */
	sy_put(c, 0x11000, user, sizeof user);
	c->gpr[R_RCX] = 0xffffffff00011000ull;             /* ECX is used */
	c->gpr[R_R11] = 0x2;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R13], 0x11000);
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 32, 8), 0x1b);  /* CS pushed by #UD */
	CU_ASSERT_EQUAL(sn_peek(c, SY_RSP0 - 8, 8), 0x23);   /* SS */
}

/* SYSRET to a non-canonical RCX: #GP(0) in ring 0 (Intel). */
static void test_sysret_noncanonical(void)
{
	struct cpu *c = cpu_with_handlers();
	static const uint8_t code[] = { 0x48, 0x0f, 0x07 };
	c->gpr[R_RCX] = 0x0000800000000000ull;
	c->gpr[R_R11] = 0x202;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], UT_CODE);
	CU_ASSERT_EQUAL(c->gpr[R_R14], 0x08);
	CU_ASSERT_EQUAL(c->cpl, 0);
}

/* SYSCALL with EFER.SCE = 0 is #UD; SYSRET at CPL 3 is #GP. */
static void test_syscall_faults(void)
{
	struct cpu *c = cpu_with_handlers();
	static const uint8_t sc[] = { 0x90, 0x0f, 0x05 };
	c->efer &= ~EFER_SCE;
	CU_ASSERT_EQUAL(SY_RUN(c, sc), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R13], UT_CODE + 1);
	/* ring 3 SYSRETQ -> #GP */
	c = cpu_with_handlers();
	static const uint8_t code[] = { 0x48, 0x0f, 0x07 };
	static const uint8_t user[] = { 0x48, 0x0f, 0x07 };
	sy_put(c, 0x11000, user, sizeof user);
	c->gpr[R_RCX] = 0x11000;
	c->gpr[R_R11] = 0x2;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0x11000);
	CU_ASSERT_EQUAL(c->gpr[R_R14], 0x2b);
}

/* SWAPGS exchanges GS.base and KERNEL_GS_BASE; #GP at CPL 3. */
static void test_swapgs(void)
{
	struct cpu *c = cpu_with_handlers();
	static const uint8_t code[] = { 0x0f, 0x01, 0xf8, 0xf4 };
	c->seg[SEG_GS].base = 0x1111;
	c->msr.kernel_gs_base = 0x2222;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].base, 0x2222);
	CU_ASSERT_EQUAL(c->msr.kernel_gs_base, 0x1111);
	static const uint8_t sysret[] = { 0x48, 0x0f, 0x07 };
	sy_put(c, 0x11000, code, sizeof code);
	c->gpr[R_RCX] = 0x11000;
	c->gpr[R_R11] = 0x2;
	CU_ASSERT_EQUAL(SY_RUN(c, sysret), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], 0x11000);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].base, 0x2222);
}

/* SYSEXITQ to ring 3 (CS = SYSENTER_CS + 32 | 3), SYSENTER back. */
static void test_sysenter_sysexit(void)
{
	struct cpu *c = cpu_with_handlers();
	static const uint8_t code[] = { 0x48, 0x0f, 0x35 };
	static const uint8_t user[] = { 0x0f, 0x34 };
	static const uint8_t entry[] = { 0x49, 0x89, 0xe0, 0x41, 0x8c, 0xca, 0xf4 };  /* r8=rsp, r10=cs */
	sy_put(c, 0x11000, user, sizeof user);
	sy_put(c, SY_HND, entry, sizeof entry);
	c->msr.sysenter_cs = 0x08;
	c->msr.sysenter_esp = 0x66000;
	c->msr.sysenter_eip = SY_HND;
	c->gpr[R_RDX] = 0x11000;
	c->gpr[R_RCX] = 0x55000;
	CU_ASSERT_EQUAL(SY_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R8], 0x66000);
	CU_ASSERT_EQUAL(c->gpr[R_R10], 0x08);
	CU_ASSERT_EQUAL(c->cpl, 0);
	/* SYSENTER with SYSENTER_CS = 0 is #GP(0). */
	c = cpu_with_handlers();
	static const uint8_t se[] = { 0x0f, 0x34 };
	CU_ASSERT_EQUAL(SY_RUN(c, se), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_R15], UT_CODE);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "SYSRETQ to ring 3, SYSCALL back: RCX, R11, FMASK, selectors", test_syscall_sysret },
		{ "SYSRET to compatibility mode", test_sysret_compat },
		{ "SYSRET non-canonical RCX: #GP in ring 0", test_sysret_noncanonical },
		{ "SYSCALL #UD without SCE, SYSRET #GP at CPL 3", test_syscall_faults },
		{ "SWAPGS, #GP at CPL 3", test_swapgs },
		{ "SYSEXITQ / SYSENTER, SYSENTER_CS = 0 #GP", test_sysenter_sysexit },
		{ NULL, NULL },
	};
	return ut_main("syscall", cases);
}
