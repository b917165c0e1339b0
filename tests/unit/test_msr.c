/*
 * test_msr.c - cpu/msr.c: RDMSR/WRMSR of every MSR the CPU keeps, with
 * their #GP checks (reserved bits, canonical addresses, PAT types, EFER.LME
 * under paging, LMA read-only), power-on values, the TSC offset, TSC_AUX
 * through RDTSCP, FS/GS bases used by the next access, the machine's hook
 * for unknown MSRs, and the privilege rule.
 */
#include "model.h"
#include "paging_util.h"

static const uint8_t rdmsr[] = { 0x0f, 0x32 }, wrmsr[] = { 0x0f, 0x30 };

static enum cpu_stop rd(struct cpu *c, uint32_t msr, uint64_t *v)
{
	c->gpr[R_RCX] = 0xffffffff00000000ull | msr;        /* ECX only */
	c->gpr[R_RAX] = c->gpr[R_RDX] = ~0ull;
	enum cpu_stop why = SN_RUN(c, rdmsr);
	CU_ASSERT_EQUAL(c->gpr[R_RAX] >> 32, why == CPU_STOP_HLT ? 0 : 0xffffffff);
	*v = c->gpr[R_RDX] << 32 | (uint32_t)c->gpr[R_RAX];
	return why;
}

static enum cpu_stop wr(struct cpu *c, uint32_t msr, uint64_t v)
{
	c->gpr[R_RCX] = msr;
	c->gpr[R_RAX] = 0xdead000000000000ull | (uint32_t)v;   /* upper halves ignored */
	c->gpr[R_RDX] = 0xbeef000000000000ull | (v >> 32);
	return SN_RUN(c, wrmsr);
}

/* Write, read back, compare. */
static void roundtrip(struct cpu *c, uint32_t msr, uint64_t v)
{
	uint64_t got = 0;
	CU_ASSERT_EQUAL(wr(c, msr, v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(rd(c, msr, &got), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(got, v);
}

static void test_power_on(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_PAT, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, 0x0007040600070406ull);
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_APIC_BASE, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, 0xfee00900ull);
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_MISC_ENABLE, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_EFER, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, EFER_LME | EFER_LMA);             /* cpu_reset_flat64 */
	CU_ASSERT_EQUAL(c->fpu.mxcsr, 0x1f80);
	CU_ASSERT_EQUAL(c->fpu.fcw, 0x37f);
}

static void test_efer(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	roundtrip(c, MSR_IA32_EFER, EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE);
	CU_ASSERT_EQUAL(wr(c, MSR_IA32_EFER, EFER_LME | EFER_SCE), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_EFER, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, EFER_LME | EFER_LMA | EFER_SCE);  /* LMA is read-only */
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_EFER, EFER_LME | (1u << 1)), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_EFER, EFER_LME | EFER_SVME), VEC_GP);   /* novt */
	CU_ASSERT_EQUAL(c->efer, EFER_LME | EFER_LMA | EFER_SCE);
	/* LME may not change while paging is on */
	pu_long_mode(c, false);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_EFER, EFER_LMA), VEC_GP);
	CU_ASSERT_EQUAL(wr(c, MSR_IA32_EFER, EFER_LME | EFER_NXE), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->efer, EFER_LME | EFER_LMA | EFER_NXE);
}

static void test_syscall_msrs(void)
{
	struct cpu *c = sn_cpu();
	roundtrip(c, MSR_IA32_STAR, 0x0023001000000000ull);
	roundtrip(c, MSR_IA32_LSTAR, 0xffffffff81000000ull);
	roundtrip(c, MSR_IA32_CSTAR, 0x12345678);
	roundtrip(c, MSR_IA32_FMASK, 0x47700);
	roundtrip(c, MSR_IA32_KERNEL_GS_BASE, 0xffff888000000000ull);
	roundtrip(c, MSR_IA32_SYSENTER_CS, 0x10);
	roundtrip(c, MSR_IA32_SYSENTER_ESP, 0x7fffffffe000ull);
	roundtrip(c, MSR_IA32_SYSENTER_EIP, 0xffffffff81001000ull);
	const uint64_t bad = 0x0000800000000000ull;         /* not canonical */
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_LSTAR, bad), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_CSTAR, bad), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_KERNEL_GS_BASE, bad), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_SYSENTER_EIP, bad), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_SYSENTER_ESP, bad), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_FMASK, 1ull << 32), VEC_GP);
	CU_ASSERT_EQUAL(c->msr.lstar, 0xffffffff81000000ull);
	CU_ASSERT_EQUAL(c->msr.sfmask, 0x47700);
}

static void test_segment_bases(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	roundtrip(c, MSR_IA32_FS_BASE, SN_DATA - 0x100);
	CU_ASSERT_EQUAL(c->seg[SEG_FS].base, SN_DATA - 0x100);
	sn_poke(c, SN_DATA, 8, 0x5555aaaa);
	static const uint8_t ld_fs[] = { 0x64, 0x48, 0x8b, 0x04, 0x25, 0x00, 0x01, 0x00, 0x00 };
	CU_ASSERT_EQUAL(SN_RUN(c, ld_fs), CPU_STOP_HLT);     /* mov rax, fs:[0x100] */
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 0x5555aaaa);
	c->seg[SEG_GS].base = 0x1234;
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_GS_BASE, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, 0x1234);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_GS_BASE, 0xff00000000000000ull), VEC_GP);
	CU_ASSERT_EQUAL(c->seg[SEG_GS].base, 0x1234);
}

static void test_tsc(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	CU_ASSERT_EQUAL(wr(c, MSR_IA32_TSC, 1000000), CPU_STOP_HLT);
	/* the WRMSR was instruction n; the RDMSR's own TSC read is two later
	 * (the HLT after the WRMSR retired in between) */
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_TSC, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, 1000002);
	static const uint8_t rdtscp[] = { 0x0f, 0x01, 0xf9 };
	roundtrip(c, MSR_IA32_TSC_AUX, 7);
	c->gpr[R_RCX] = ~0ull;
	CU_ASSERT_EQUAL(SN_RUN(c, rdtscp), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 7);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_TSC_AUX, 1ull << 32), VEC_GP);
}

static void test_pat_apic_misc(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	roundtrip(c, MSR_IA32_PAT, 0x0001040506070001ull);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_PAT, 0x0000000000000200ull), VEC_GP);   /* type 2 */
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_PAT, 0x0800000000000000ull), VEC_GP);   /* type 8 */
	CU_ASSERT_EQUAL(c->msr.pat, 0x0001040506070001ull);
	/* APIC base: BSP is read-only; EXTD (x2APIC, CPUID.1:ECX[21]) needs EN
	 * and x2APIC mode cannot go straight back to xAPIC; no reserved bits */
	CU_ASSERT_EQUAL(wr(c, MSR_IA32_APIC_BASE, 0xfec00800ull), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(rd(c, MSR_IA32_APIC_BASE, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v, 0xfec00900ull);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_APIC_BASE, 0xfee00400ull), VEC_GP);
	CU_ASSERT_EQUAL(wr(c, MSR_IA32_APIC_BASE, 0xfee00c00ull), CPU_STOP_HLT);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_APIC_BASE, 0xfee00800ull), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_APIC_BASE, 0xfee00801ull), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_APIC_BASE, 0x1000000000800ull), VEC_GP);
	roundtrip(c, MSR_IA32_MISC_ENABLE, 0x850089);
}

static uint64_t hook_value;
static uint32_t hook_msr;
static bool hook(struct cpu *c, uint32_t msr, uint64_t *v, bool write)
{
	(void)c;
	if (msr != 0x808)
		return false;
	hook_msr = msr;
	if (write)
		hook_value = *v;
	else
		*v = hook_value;
	return true;
}

static void test_unknown_and_privilege(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	PU_ASSERT_EXC(c, rd(c, 0x12345, &v), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, 0xc0000104, 0), VEC_GP);
	PU_ASSERT_EXC(c, rd(c, 0x808, &v), VEC_GP);
	c->msr_hook = hook;
	roundtrip(c, 0x808, 0x30);
	CU_ASSERT_EQUAL(hook_msr, 0x808);
	CU_ASSERT_EQUAL(hook_value, 0x30);
	PU_ASSERT_EXC(c, rd(c, 0x809, &v), VEC_GP);           /* the hook declined */
	c->cpl = 3;
	PU_ASSERT_EXC(c, rd(c, MSR_IA32_EFER, &v), VEC_GP);
	PU_ASSERT_EXC(c, wr(c, MSR_IA32_STAR, 0), VEC_GP);
	/* real mode is CPL 0 */
	c = sn_cpu();
	static const uint8_t real_rd[] = { 0x66, 0xb9, 0x77, 0x02, 0x00, 0x00, 0x0f, 0x32 };
	CU_ASSERT_EQUAL(sn_run_real(c, real_rd, sizeof real_rd), CPU_STOP_HLT);
	CU_ASSERT_EQUAL((uint32_t)c->gpr[R_RAX], 0x00070406);
}

/* Machine-check banks (mce.c): 4 empty banks and MCG_CTL; only zeros go
 * into MCi_STATUS/ADDR/MISC, all ones or zeros into the CTL registers; a
 * bank past the count is no MSR.  PLATFORM_ID and BIOS_SIGN_ID as Linux
 * reads them at boot. */
static void test_machine_check(void)
{
	struct cpu *c = sn_cpu();
	uint64_t v;
	CU_ASSERT_EQUAL(rd(c, 0x179, &v), CPU_STOP_HLT);             /* MCG_CAP */
	CU_ASSERT_EQUAL(v, 0x104);                                   /* 4 banks, MCG_CTL_P */
	PU_ASSERT_EXC(c, wr(c, 0x179, 0x104), VEC_GP);               /* read-only */
	roundtrip(c, 0x17a, 0);                                      /* MCG_STATUS */
	roundtrip(c, 0x17a, 0x5);
	PU_ASSERT_EXC(c, wr(c, 0x17a, 0x8), VEC_GP);
	CU_ASSERT_EQUAL(rd(c, 0x17b, &v), CPU_STOP_HLT);             /* MCG_CTL */
	CU_ASSERT_EQUAL(v, ~0ull);
	roundtrip(c, 0x17b, 0);
	PU_ASSERT_EXC(c, wr(c, 0x17b, 0x1), VEC_GP);
	for (uint32_t bank = 0; bank < 4; bank++) {
		uint32_t b = 0x400 + 4 * bank;
		roundtrip(c, b, 0);
		roundtrip(c, b, ~0ull);
		roundtrip(c, b, ~0ull & ~(1ull << 10));
		PU_ASSERT_EXC(c, wr(c, b, 0xff), VEC_GP);
		for (uint32_t r = 1; r < 4; r++) {
			CU_ASSERT_EQUAL(rd(c, b + r, &v), CPU_STOP_HLT);
			CU_ASSERT_EQUAL(v, 0);
			roundtrip(c, b + r, 0);
			PU_ASSERT_EXC(c, wr(c, b + r, 1ull << 63), VEC_GP);
		}
	}
	PU_ASSERT_EXC(c, rd(c, 0x410, &v), VEC_GP);                  /* bank 4: none */
	CU_ASSERT_EQUAL(rd(c, 0x17, &v), CPU_STOP_HLT);              /* PLATFORM_ID */
	CU_ASSERT_EQUAL(v, 0);
	PU_ASSERT_EXC(c, wr(c, 0x17, 0), VEC_GP);
	CU_ASSERT_EQUAL(wr(c, 0x8b, 0), CPU_STOP_HLT);               /* BIOS_SIGN_ID */
	CU_ASSERT_EQUAL(rd(c, 0x8b, &v), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(v >> 32, 1);
	c->model = cpu_model_find("svm");                            /* AMD: no PLATFORM_ID */
	PU_ASSERT_EXC(c, rd(c, 0x17, &v), VEC_GP);
	CU_ASSERT_EQUAL(rd(c, 0x179, &v), CPU_STOP_HLT);
	c->cpl = 3;
	PU_ASSERT_EXC(c, rd(c, 0x179, &v), VEC_GP);
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "power-on values", test_power_on },
		{ "EFER", test_efer },
		{ "STAR, LSTAR, CSTAR, FMASK, SYSENTER, KERNEL_GS_BASE", test_syscall_msrs },
		{ "FS/GS base", test_segment_bases },
		{ "TSC and TSC_AUX", test_tsc },
		{ "PAT, APIC_BASE, MISC_ENABLE", test_pat_apic_misc },
		{ "unknown MSRs, msr_hook, CPL", test_unknown_and_privilege },
		{ "machine-check banks, PLATFORM_ID, BIOS_SIGN_ID", test_machine_check },
		{ NULL, NULL },
	};
	return ut_main("msr", cases);
}
