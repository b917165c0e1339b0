/*
 * test_system.c - cpu/system.c and cpu/model.c: CPUID as each model answers
 * it (only implemented features claimed, out-of-range leaves), RDTSC/RDTSCP
 * from virtual time, HLT/CLI/STI privilege rules, the #UD/#GP records, and
 * every VMX and SVM instruction raising #UD on models without them.
 */
#include "insn.h"
#include "model.h"
#include "snippet.h"


static void cpuid_run(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	static const uint8_t code[] = { 0x0f, 0xa2 };
	c->gpr[R_RAX] = 0xffffffff00000000ull | leaf;
	c->gpr[R_RCX] = 0xffffffff00000000ull | sub;
	c->gpr[R_RBX] = c->gpr[R_RDX] = ~0ull;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	r[0] = (uint32_t)c->gpr[R_RAX];
	r[1] = (uint32_t)c->gpr[R_RBX];
	r[2] = (uint32_t)c->gpr[R_RCX];
	r[3] = (uint32_t)c->gpr[R_RDX];
	/* 32-bit results: the upper halves are cleared */
	CU_ASSERT_EQUAL(c->gpr[R_RAX] >> 32, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RBX] >> 32, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RCX] >> 32, 0);
	CU_ASSERT_EQUAL(c->gpr[R_RDX] >> 32, 0);
}

static void vendor_of(const uint32_t r[4], char out[13])
{
	memcpy(out, &r[1], 4);
	memcpy(out + 4, &r[3], 4);
	memcpy(out + 8, &r[2], 4);
	out[12] = 0;
}

static void test_cpuid_novt(void)
{
	struct cpu *c = sn_cpu();
	uint32_t r[4], r1[4];
	char v[13];
	cpuid_run(c, 0, 0, r);
	vendor_of(r, v);
	CU_ASSERT_STRING_EQUAL(v, "GenuineIntel");
	CU_ASSERT_EQUAL(r[0], 0x16);                             /* leaves 7, 15h, 16h */
	cpuid_run(c, 1, 0, r1);
	CU_ASSERT_EQUAL((r1[0] >> 8) & 0xf, 6);                  /* family 6 */
	CU_ASSERT(r1[3] & (1u << 4));                            /* TSC */
	CU_ASSERT(r1[3] & (1u << 8));                            /* CX8 */
	CU_ASSERT(r1[3] & (1u << 15));                           /* CMOV */
	CU_ASSERT_FALSE(r1[3] & (1u << 0));                      /* no x87 */
	CU_ASSERT(r1[3] & (1u << 24));                           /* FXSR (fxsave.c) */
	CU_ASSERT_FALSE(r1[3] & (1u << 26));                     /* no SSE2 */
	CU_ASSERT(r1[3] & (1u << 9));                            /* APIC (cpu/dev/lapic.c) */
	CU_ASSERT(r1[3] & (1u << 7));                            /* MCE (mce.c) */
	CU_ASSERT(r1[3] & (1u << 14));                           /* MCA (mce.c) */
	CU_ASSERT(r1[3] & (1u << 11));                           /* SEP (syscall.c) */
	CU_ASSERT_EQUAL(r1[2], (1u << 13) | (1u << 21) | (1u << 22) | (1u << 23));
	/* CX16 x2APIC MOVBE POPCNT; no VMX, no TSC-deadline (bit 24) */
	cpuid_run(c, 0x80000000u, 0, r);
	CU_ASSERT_EQUAL(r[0], 0x80000008u);
	cpuid_run(c, 0x80000001u, 0, r);
	CU_ASSERT_EQUAL(r[3], (1u << 11) | (1u << 20) | (1u << 26) | (1u << 27) | (1u << 29));
	/* SYSCALL NX 1GB-pages RDTSCP LM */
	CU_ASSERT_EQUAL(r[2], (1u << 0) | (1u << 5));            /* LAHF-SAHF, LZCNT; no SVM */
	cpuid_run(c, 0x80000008u, 0, r);
	CU_ASSERT_EQUAL(r[0] & 0xffff, 0x3028);
	/* brand string */
	char brand[49];
	for (uint32_t k = 0; k < 3; k++) {
		cpuid_run(c, 0x80000002u + k, 0, r);
		memcpy(brand + 16 * k, r, 16);
	}
	brand[48] = 0;
	CU_ASSERT_STRING_EQUAL(brand, "Nestlab virtual CPU (novt)");
	/* above the maximum (basic or extended): the highest basic leaf (16h:
	 * 1000 MHz base, maximum and bus) */
	uint32_t rx[4], r16[4];
	cpuid_run(c, 0x16, 0, r16);
	CU_ASSERT(r16[0] == 1000 && r16[1] == 1000 && r16[2] == 1000);
	cpuid_run(c, 0x17, 0, rx);
	CU_ASSERT(memcmp(rx, r16, sizeof rx) == 0);
	cpuid_run(c, 0x80000009u, 0, rx);
	CU_ASSERT(memcmp(rx, r16, sizeof rx) == 0);
	cpuid_run(c, 0x40000000u, 0, rx);
	CU_ASSERT(memcmp(rx, r16, sizeof rx) == 0);
	/* leaf 15h: a 1 GHz crystal, TSC ratio 1/1 (virtual time) */
	cpuid_run(c, 0x15, 0, rx);
	CU_ASSERT(rx[0] == 1 && rx[1] == 1 && rx[2] == 1000000000u);
	cpuid_run(c, 2, 0, rx);                                  /* listed nowhere: zeros */
	CU_ASSERT(rx[0] == 0 && rx[1] == 0 && rx[2] == 0 && rx[3] == 0);
	/* inside the range but not listed: zeros */
	cpuid_run(c, 0x80000005u, 0, rx);
	CU_ASSERT(rx[0] == 0 && rx[1] == 0 && rx[2] == 0 && rx[3] == 0);
}

static void test_cpu_models(void)
{
	const struct cpu_model *svm = cpu_model_find("svm"), *vmx = cpu_model_find("vmx");
	CU_ASSERT_PTR_NOT_NULL_FATAL(svm);
	CU_ASSERT_PTR_NOT_NULL_FATAL(vmx);
	CU_ASSERT_PTR_NULL(cpu_model_find("pentium"));
	CU_ASSERT_PTR_NULL(cpu_model_find(NULL));
	CU_ASSERT_STRING_EQUAL(cpu_model_default()->name, "novt");
	uint32_t r[4];
	char v[13];
	cpu_model_cpuid(svm, 0, 0, r);
	vendor_of(r, v);
	CU_ASSERT_STRING_EQUAL(v, "AuthenticAMD");
	cpu_model_cpuid(svm, 0x80000000u, 0, r);
	vendor_of(r, v);
	CU_ASSERT_STRING_EQUAL(v, "AuthenticAMD");
	cpu_model_cpuid(svm, 1, 0, r);
	CU_ASSERT_EQUAL(((r[0] >> 8) & 0xf) + ((r[0] >> 20) & 0xff), 0x17);
	cpu_model_cpuid(svm, 0x80000001u, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 2));          /* the table has no SVM: svm/ adds it */
	CU_ASSERT(r[3] & (1u << 29));
	cpu_model_cpuid(vmx, 0, 0, r);
	vendor_of(r, v);
	CU_ASSERT_STRING_EQUAL(v, "GenuineIntel");
	cpu_model_cpuid(vmx, 1, 0, r);
	CU_ASSERT_FALSE(r[2] & (1u << 5));          /* VMX not claimed yet */
	char brand[49];
	for (uint32_t k = 0; k < 3; k++) {
		cpu_model_cpuid(vmx, 0x80000002u + k, 0, r);
		memcpy(brand + 16 * k, r, 16);
	}
	brand[48] = 0;
	CU_ASSERT_STRING_EQUAL(brand, "Nestlab virtual CPU (vmx)");
	CU_ASSERT_FALSE(vmx->has_svm || svm->has_vmx);
	CU_ASSERT_TRUE(svm->has_svm);               /* the AMD-V model, svm/ */
	CU_ASSERT_TRUE(vmx->has_vmx);               /* the VT-x model, vmx/ */
}

/* TSC = retired instructions + tsc_offset. */
static void test_rdtsc(void)
{
	static const uint8_t code[] = {
		0x90, 0x90, 0x90,               /* three instructions retire first */
		0x0f, 0x31,                     /* rdtsc */
		0x48, 0x89, 0xc6,               /* mov rsi, rax */
		0x0f, 0x01, 0xf9,               /* rdtscp */
	};
	struct cpu *c = sn_cpu();
	c->tsc_offset = 0x100000000ull + 1000;
	c->gpr[R_RCX] = ~0ull;
	CU_ASSERT_EQUAL(SN_RUN(c, code), CPU_STOP_HLT);
	CU_ASSERT_EQUAL(c->gpr[R_RSI], 1003);
	CU_ASSERT_EQUAL(c->gpr[R_RAX], 1005);
	CU_ASSERT_EQUAL(c->gpr[R_RDX], 1);
	CU_ASSERT_EQUAL(c->gpr[R_RCX], 0);          /* IA32_TSC_AUX */
	/* CR4.TSD: CPL 3 gets #GP(0), CPL 0 reads */
	static const uint8_t rdtsc[] = { 0x0f, 0x31 };
	c = sn_cpu();
	c->cr4 |= 1u << 2;
	CU_ASSERT_EQUAL(SN_RUN(c, rdtsc), CPU_STOP_HLT);
	c->cpl = 3;
	CU_ASSERT_EQUAL(SN_RUN(c, rdtsc), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
}

static void test_hlt_cli_sti(void)
{
	static const uint8_t hlt[] = { 0x90 };         /* sn_run appends the HLT */
	static const uint8_t cli[] = { 0xfa }, sti[] = { 0xfb };
	struct cpu *c = sn_cpu();
	c->cpl = 3;
	CU_ASSERT_EQUAL(SN_RUN(c, hlt), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 1);
	CU_ASSERT_FALSE(c->halted);
	c->cpl = 0;
	CU_ASSERT_EQUAL(SN_RUN(c, hlt), CPU_STOP_HLT);
	CU_ASSERT(c->halted);
	CU_ASSERT_EQUAL(c->rip, UT_CODE + 2);
	/* CLI/STI: CPL 3 with IOPL 0 faults; IOPL 3 or CPL 0 may */
	c = sn_cpu();
	c->rflags = FLAG_FIXED1 | FLAG_IF;
	c->cpl = 3;
	CU_ASSERT_EQUAL(ut_run(c, cli, 1, 1), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT(c->rflags & FLAG_IF);
	c->rflags |= FLAG_IOPL;
	CU_ASSERT_EQUAL(ut_run(c, cli, 1, 1), CPU_STOP_LIMIT);
	CU_ASSERT_FALSE(c->rflags & FLAG_IF);
	c->rflags &= ~FLAG_IOPL;
	c->cpl = 0;
	CU_ASSERT_EQUAL(ut_run(c, sti, 1, 1), CPU_STOP_LIMIT);
	CU_ASSERT(c->rflags & FLAG_IF);
	/* real mode: always allowed */
	c = sn_cpu();
	c->cpl = 3;                 /* ignored with CR0.PE = 0 */
	c->gpr[R_RSP] = 0x7000;
	CU_ASSERT_EQUAL(sn_run_real(c, cli, 1), CPU_STOP_HLT);
}

/* UD0, UD1, UD2, an opcode invalid in 64-bit mode, and an instruction
 * longer than 15 bytes (#GP(0)). */
static void test_ud_and_toolong(void)
{
	static const uint8_t ud0[] = { 0x0f, 0xff, 0x06 }, ud1[] = { 0x0f, 0xb9, 0x06 };
	static const uint8_t ud2[] = { 0x0f, 0x0b }, push_es[] = { 0x06 };
	const uint8_t *ud[] = { ud0, ud1, ud2, push_es };
	const size_t len[] = { 3, 3, 2, 1 };
	for (int k = 0; k < 4; k++) {
		struct cpu *c = sn_cpu();
		c->gpr[R_RSI] = SN_DATA;
		CU_ASSERT_EQUAL(sn_run(c, ud[k], len[k]), CPU_STOP_EXCEPTION);
		CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
		CU_ASSERT_EQUAL(c->rip, UT_CODE);
	}
	uint8_t longi[16];
	memset(longi, 0x66, 15);
	longi[15] = 0x90;
	struct cpu *c = sn_cpu();
	CU_ASSERT_EQUAL(sn_run(c, longi, sizeof longi), CPU_STOP_EXCEPTION);
	CU_ASSERT_EQUAL(c->exc_vector, VEC_GP);
	CU_ASSERT_EQUAL(c->exc_error, 0);
}

/* Every VMX and SVM instruction decodes to its own form and raises #UD on
 * each model (none has VMX or SVM yet). */
static void test_vmx_svm_ud(void)
{
	static const struct { uint8_t b[6]; int len; unsigned op; } insns[] = {
		{ { 0xf3, 0x0f, 0xc7, 0x36 }, 4, OP_vmxon_Mq },
		{ { 0x66, 0x0f, 0xc7, 0x36 }, 4, OP_vmclear_Mq },
		{ { 0x0f, 0xc7, 0x36 }, 3, OP_vmptrld_Mq },
		{ { 0x0f, 0xc7, 0x3e }, 3, OP_vmptrst_Mq },
		{ { 0x0f, 0x78, 0xd8 }, 3, OP_vmread_Ey_Gy },
		{ { 0x0f, 0x79, 0xc3 }, 3, OP_vmwrite_Gy_Ey },
		{ { 0x66, 0x0f, 0x38, 0x80, 0x06 }, 5, OP_invept_Gy_Mdq },
		{ { 0x66, 0x0f, 0x38, 0x81, 0x06 }, 5, OP_invvpid_Gy_Mdq },
		{ { 0x0f, 0x01, 0xc1 }, 3, OP_vmcall },
		{ { 0x0f, 0x01, 0xc2 }, 3, OP_vmlaunch },
		{ { 0x0f, 0x01, 0xc3 }, 3, OP_vmresume },
		{ { 0x0f, 0x01, 0xc4 }, 3, OP_vmxoff },
		{ { 0x0f, 0x01, 0xd4 }, 3, OP_vmfunc },
		{ { 0x0f, 0x01, 0xd8 }, 3, OP_vmrun },
		{ { 0x0f, 0x01, 0xd9 }, 3, OP_vmmcall },
		{ { 0x0f, 0x01, 0xda }, 3, OP_vmload },
		{ { 0x0f, 0x01, 0xdb }, 3, OP_vmsave },
		{ { 0x0f, 0x01, 0xdc }, 3, OP_stgi },
		{ { 0x0f, 0x01, 0xdd }, 3, OP_clgi },
		{ { 0x0f, 0x01, 0xde }, 3, OP_skinit },
		{ { 0x0f, 0x01, 0xdf }, 3, OP_invlpga },
	};
	static const char *const models[] = { "novt", "vmx", "svm" };
	for (int m = 0; m < 3; m++) {
		for (size_t k = 0; k < sizeof insns / sizeof insns[0]; k++) {
			struct insn d;
			CU_ASSERT_EQUAL(insn_decode(insns[k].b, insns[k].len, CPU_MODE64, &d), insns[k].len);
			CU_ASSERT_EQUAL(d.op, insns[k].op);
			struct cpu *c = sn_cpu();
			c->model = cpu_model_find(models[m]);
			c->gpr[R_RSI] = SN_DATA;
			CU_ASSERT_EQUAL(sn_run(c, insns[k].b, (size_t)insns[k].len), CPU_STOP_EXCEPTION);
			CU_ASSERT_EQUAL(c->exc_vector, VEC_UD);
			CU_ASSERT_EQUAL(c->rip, UT_CODE);
		}
	}
}

/* Features no model offers (absent.c): #UD as on a CPU without them, and
 * RDPMC #GP(0) (no counters exist).  Each encoding must decode to its own
 * form, so the test also fails if one became plain OP_ud. */
static void test_absent_features(void)
{
	static const struct { uint8_t b[6]; int len; int op; int vec; } insns[] = {
		{ { 0x0f, 0x37 }, 2, OP_getsec, VEC_UD },
		{ { 0x0f, 0x01, 0xc8 }, 3, OP_monitor, VEC_UD },
		{ { 0x0f, 0x01, 0xc9 }, 3, OP_mwait, VEC_UD },
		{ { 0xf3, 0x48, 0x0f, 0xae, 0xc0 }, 5, OP_rdfsbase_Ry, VEC_UD },
		{ { 0xf3, 0x48, 0x0f, 0xae, 0xc8 }, 5, OP_rdgsbase_Ry, VEC_UD },
		{ { 0xf3, 0x48, 0x0f, 0xae, 0xd0 }, 5, OP_wrfsbase_Ry, VEC_UD },
		{ { 0xf3, 0x48, 0x0f, 0xae, 0xd8 }, 5, OP_wrgsbase_Ry, VEC_UD },
		{ { 0x0f, 0xc7, 0xf0 }, 3, OP_rdrand_Rv, VEC_UD },
		{ { 0x0f, 0xc7, 0xf8 }, 3, OP_rdseed_Rv, VEC_UD },
		{ { 0x0f, 0x01, 0xd0 }, 3, OP_xgetbv, VEC_UD },
		{ { 0x0f, 0x01, 0xd1 }, 3, OP_xsetbv, VEC_UD },
		{ { 0x0f, 0xaa }, 2, OP_rsm, VEC_UD },
		{ { 0x0f, 0x33 }, 2, OP_rdpmc, VEC_GP },
	};
	for (size_t k = 0; k < sizeof insns / sizeof insns[0]; k++) {
		struct insn d;
		CU_ASSERT_EQUAL(insn_decode(insns[k].b, insns[k].len, CPU_MODE64, &d), insns[k].len);
		CU_ASSERT_EQUAL(d.op, insns[k].op);
		struct cpu *c = sn_cpu();
		c->gpr[R_RSI] = SN_DATA;
		CU_ASSERT_EQUAL(sn_run(c, insns[k].b, (size_t)insns[k].len), CPU_STOP_EXCEPTION);
		CU_ASSERT_EQUAL(c->exc_vector, insns[k].vec);
		CU_ASSERT_EQUAL(c->rip, UT_CODE);
	}
}

/* The fences (SSE2, part of every x86-64) run at any CPL in every model,
 * as do PAUSE (F3 90) and the PREFETCH hints: nothing to wait for. */
static void test_fences(void)
{
	static const uint8_t code[] = {
		0x0f, 0xae, 0xe8,              /* lfence */
		0x0f, 0xae, 0xf0,              /* mfence */
		0x0f, 0xae, 0xf8,              /* sfence */
		0xf3, 0x90,                    /* pause */
		0x0f, 0x18, 0x0e,              /* prefetcht0 [rsi] */
		0x0f, 0x0d, 0x0e,              /* prefetchw [rsi] */
		0xff, 0xc0,                    /* inc eax */
	};
	static const char *const models[] = { "novt", "vmx", "svm" };
	for (int m = 0; m < 3; m++) {
		for (int cpl = 0; cpl <= 3; cpl += 3) {
			struct cpu *c = sn_cpu();
			c->model = cpu_model_find(models[m]);
			c->cpl = cpl;
			c->gpr[R_RSI] = SN_DATA;
			CU_ASSERT_EQUAL(sn_run(c, code, sizeof code), cpl ? CPU_STOP_EXCEPTION : CPU_STOP_HLT);
			CU_ASSERT_EQUAL(c->gpr[R_RAX], 1);         /* all ran: at CPL 3 HLT is #GP */
			CU_ASSERT_EQUAL(c->exc_vector, cpl ? VEC_GP : -1);
		}
	}
}

int main(void)
{
	static const struct ut_case cases[] = {
		{ "CPUID on novt", test_cpuid_novt },
		{ "features no model offers: #UD (RDPMC #GP)", test_absent_features },
		{ "LFENCE/MFENCE/SFENCE, PAUSE, PREFETCH at any CPL", test_fences },
		{ "CPU models vmx/svm", test_cpu_models },
		{ "RDTSC/RDTSCP from virtual time", test_rdtsc },
		{ "HLT, CLI, STI privilege", test_hlt_cli_sti },
		{ "UD0/UD1/UD2, invalid opcode, too long", test_ud_and_toolong },
		{ "VMX/SVM instructions #UD without the extension", test_vmx_svm_ud },
		{ NULL, NULL },
	};
	return ut_main("system", cases);
}
