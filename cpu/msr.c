/*
 * msr.c - RDMSR and WRMSR: the model-specific registers this CPU has.
 *
 *   0F 32  RDMSR   EDX:EAX := MSR[ECX]
 *   0F 30  WRMSR   MSR[ECX] := EDX:EAX
 *
 * Both need CPL 0 (#GP(0) otherwise, and in virtual-8086 mode).  The MSRs
 * (SDM Vol. 4 Table 2-2) live in struct cpu: EFER and the segment bases in
 * their architectural places, the rest in c->msr.  An MSR the CPU does not
 * know goes to the machine's c->msr_hook (the x2APIC registers); if nobody
 * takes it, #GP(0), as on hardware.  A value the register cannot hold
 * (a reserved bit, a non-canonical address, an invalid memory type) is
 * #GP(0) too, and nothing is written.
 *
 *   MSR                 checks on write
 *   10h  TSC            none; moves tsc_offset (RDTSC = icount + tsc_offset)
 *   1Bh  APIC_BASE      reserved bits; x2APIC only if CPUID offers it, and
 *                       not EXTD without EN; BSP is read-only
 *   174h-176h SYSENTER  ESP/EIP canonical
 *   1A0h MISC_ENABLE    none
 *   277h PAT            each byte a valid memory type (0, 1, 4, 5, 6, 7)
 *   C0000080h EFER      SCE, LME, NXE (SVME with AMD-V); LMA read-only;
 *                       LME may not change while paging is on
 *   C0000081h-84h       STAR any, LSTAR/CSTAR canonical, FMASK bits 63:32 0
 *   C0000100h-102h      FS/GS/KERNEL_GS base canonical
 *   C0000103h TSC_AUX   bits 63:32 0
 *
 * The machine-check banks and the platform MSRs (PLATFORM_ID, BIOS_SIGN_ID)
 * are in mce.c.
 */
#include "arch.h"
#include "cr.h"
#include "flags.h"
#include "mem.h"
#include "model.h"
#include "virt.h"

#define APIC_BASE_BSP  (1ull << 8)
#define APIC_BASE_EXTD (1ull << 10)
#define APIC_BASE_EN   (1ull << 11)
#define CPUID1_ECX_X2APIC (1u << 21)

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static uint64_t canonical_or_gp(struct cpu *c, uint64_t v)
{
	if (!canonical(v))
		cpu_gp0(c);
	return v;
}

/* Power-on values of the MSRs and of the register state that is not part of
 * any mode (SDM Vol. 3 Table 9-1): PAT's default types, the local APIC
 * enabled at FEE00000h on the bootstrap processor, fast strings on, DR6/DR7
 * and the x87/SSE control words as after FINIT. */
void cpu_msr_reset(struct cpu *c)
{
	c->msr.pat = 0x0007040600070406ull;
	c->msr.apic_base = 0xfee00000ull | APIC_BASE_EN | APIC_BASE_BSP;
	c->msr.misc_enable = 1;
	c->dr[6] = 0xffff0ff0ull;
	c->dr[7] = 0x400;
	c->fpu.fcw = 0x037f;
	c->fpu.mxcsr = 0x1f80;
	c->mce = (struct cpu_mce){ .mcg_ctl = ~0ull,
		.bank_ctl = { ~0ull, ~0ull, ~0ull, ~0ull } };
}

/* ---- the registers ------------------------------------------------------------------ */

static bool x2apic_offered(const struct cpu *c)
{
	uint32_t r[4];
	cpu_model_cpuid(c->model, 1, 0, r);
	return (r[2] & CPUID1_ECX_X2APIC) != 0;
}

static void write_apic_base(struct cpu *c, uint64_t v)
{
	uint64_t ok = APIC_BASE_EN | APIC_BASE_BSP | (0xfffffffull << 12);
	if (x2apic_offered(c))
		ok |= APIC_BASE_EXTD;
	bool was_x2 = (c->msr.apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
		      (APIC_BASE_EN | APIC_BASE_EXTD);
	bool was_off = !(c->msr.apic_base & APIC_BASE_EN);
	/* SDM Vol. 3 11.12.5 (Figure 11-27): EXTD without EN is invalid;
	 * x2APIC mode may not go straight back to xAPIC mode, nor a disabled
	 * APIC straight to x2APIC mode (it goes through xAPIC mode). */
	if ((v & ~ok) || ((v & APIC_BASE_EXTD) && !(v & APIC_BASE_EN)) ||
	    (was_x2 && (v & APIC_BASE_EN) && !(v & APIC_BASE_EXTD)) ||
	    (was_off && (v & APIC_BASE_EXTD)))
		cpu_gp0(c);
	c->msr.apic_base = (v & ~APIC_BASE_BSP) | (c->msr.apic_base & APIC_BASE_BSP);
}

/* PAT: eight one-byte entries, each UC(0) WC(1) WT(4) WP(5) WB(6) UC-(7). */
static void write_pat(struct cpu *c, uint64_t v)
{
	for (int k = 0; k < 8; k++) {
		unsigned t = (v >> (8 * k)) & 0xff;
		if (t == 2 || t == 3 || t > 7)
			cpu_gp0(c);
	}
	c->msr.pat = v;
}

/* EFER: LMA follows CR0.PG and LME (cr.c), so a written LMA is ignored;
 * NXE changes what the TLB may hold, so it flushes. */
static void write_efer(struct cpu *c, uint64_t v)
{
	uint64_t ok = EFER_SCE | EFER_LME | EFER_NXE;
	if (c->model && c->model->has_svm)
		ok |= EFER_SVME;
	if (v & ~(ok | EFER_LMA))
		cpu_gp0(c);
	if (((v ^ c->efer) & EFER_LME) && (c->cr0 & CR0_PG))
		cpu_gp0(c);
	/* The extension may refuse the bit it owns (AMD-V: SVME while
	 * VM_CR.SVMDIS = 1 is #GP, APM Vol. 2 15.4); its answer is not used. */
	if ((v & EFER_SVME) && c->vops && c->vops->msr) {
		uint64_t t = v;
		(void)c->vops->msr(c, MSR_IA32_EFER, &t, true);
	}
	uint64_t n = (v & ok) | (c->efer & EFER_LMA);
	if ((n ^ c->efer) & EFER_NXE)
		cpu_tlb_flush(c);
	c->efer = n;
	c->block_break = true;
}

/* Returns false for an MSR this CPU does not have. */
static bool msr_read(struct cpu *c, uint32_t msr, uint64_t *v)
{
	switch (msr) {
	case MSR_IA32_TSC:            *v = c->icount + c->tsc_offset + c->virt_tsc_offset; return true;
	case MSR_IA32_APIC_BASE:      *v = c->msr.apic_base; return true;
	case MSR_IA32_SYSENTER_CS:    *v = c->msr.sysenter_cs; return true;
	case MSR_IA32_SYSENTER_ESP:   *v = c->msr.sysenter_esp; return true;
	case MSR_IA32_SYSENTER_EIP:   *v = c->msr.sysenter_eip; return true;
	case MSR_IA32_MISC_ENABLE:    *v = c->msr.misc_enable; return true;
	case MSR_IA32_PAT:            *v = c->msr.pat; return true;
	case MSR_IA32_EFER:           *v = c->efer; return true;
	case MSR_IA32_STAR:           *v = c->msr.star; return true;
	case MSR_IA32_LSTAR:          *v = c->msr.lstar; return true;
	case MSR_IA32_CSTAR:          *v = c->msr.cstar; return true;
	case MSR_IA32_FMASK:          *v = c->msr.sfmask; return true;
	case MSR_IA32_FS_BASE:        *v = c->seg[SEG_FS].base; return true;
	case MSR_IA32_GS_BASE:        *v = c->seg[SEG_GS].base; return true;
	case MSR_IA32_KERNEL_GS_BASE: *v = c->msr.kernel_gs_base; return true;
	case MSR_IA32_TSC_AUX:        *v = c->msr.tsc_aux; return true;
	default:                      return false;
	}
}

static bool msr_write(struct cpu *c, uint32_t msr, uint64_t v)
{
	switch (msr) {
	case MSR_IA32_TSC:            c->tsc_offset = v - c->icount; return true;
	case MSR_IA32_APIC_BASE:      write_apic_base(c, v); return true;
	case MSR_IA32_SYSENTER_CS:    c->msr.sysenter_cs = v; return true;
	case MSR_IA32_SYSENTER_ESP:   c->msr.sysenter_esp = canonical_or_gp(c, v); return true;
	case MSR_IA32_SYSENTER_EIP:   c->msr.sysenter_eip = canonical_or_gp(c, v); return true;
	case MSR_IA32_MISC_ENABLE:    c->msr.misc_enable = v; return true;
	case MSR_IA32_PAT:            write_pat(c, v); return true;
	case MSR_IA32_EFER:           write_efer(c, v); return true;
	case MSR_IA32_STAR:           c->msr.star = v; return true;
	case MSR_IA32_LSTAR:          c->msr.lstar = canonical_or_gp(c, v); return true;
	case MSR_IA32_CSTAR:          c->msr.cstar = canonical_or_gp(c, v); return true;
	case MSR_IA32_FS_BASE:        c->seg[SEG_FS].base = canonical_or_gp(c, v); return true;
	case MSR_IA32_GS_BASE:        c->seg[SEG_GS].base = canonical_or_gp(c, v); return true;
	case MSR_IA32_KERNEL_GS_BASE: c->msr.kernel_gs_base = canonical_or_gp(c, v); return true;
	case MSR_IA32_FMASK:
	case MSR_IA32_TSC_AUX:
		if (v >> 32)
			cpu_gp0(c);
		*(msr == MSR_IA32_FMASK ? &c->msr.sfmask : &c->msr.tsc_aux) = v;
		return true;
	default:
		return false;
	}
}

/* ---- the instructions ------------------------------------------------------------------- */

static void need_cpl0(struct cpu *c)
{
	if ((c->rflags & FLAG_VM) || ((c->cr0 & CR0_PE) && c->cpl > 0))
		cpu_gp0(c);
}

void op_rdmsr(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	uint32_t msr = (uint32_t)c->gpr[R_RCX];
	virt_hook(c, RDMSR, i, msr);
	uint64_t v = 0;
	if (!msr_read(c, msr, &v) && !cpu_msr_mce(c, msr, &v, false) &&
	    !(c->vops && c->vops->msr(c, msr, &v, false)) &&
	    !(c->msr_hook && c->msr_hook(c, msr, &v, false)))
		cpu_gp0(c);
	reg_write(c, R_RAX, 4, v);
	reg_write(c, R_RDX, 4, v >> 32);
}

void op_wrmsr(struct cpu *c, const struct insn *i)
{
	need_cpl0(c);
	uint32_t msr = (uint32_t)c->gpr[R_RCX];
	virt_hook(c, WRMSR, i, msr);
	uint64_t v = (c->gpr[R_RDX] << 32) | (uint32_t)c->gpr[R_RAX];
	if (!msr_write(c, msr, v) && !cpu_msr_mce(c, msr, &v, true) &&
	    !(c->vops && c->vops->msr(c, msr, &v, true)) &&
	    !(c->msr_hook && c->msr_hook(c, msr, &v, true)))
		cpu_gp0(c);
}
