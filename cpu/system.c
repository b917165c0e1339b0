/*
 * system.c - the system-flavoured instructions a user-level core needs:
 * CPUID, RDTSC/RDTSCP, HLT, CLI/STI, the #UD and #GP records the decoder
 * produces (ud, toolong, UD0/UD1/UD2), and the entry points of the VMX and
 * SVM instructions, which the virtualization model executes (virt.h).
 *
 * Time.  The time-stamp counter is virtual time: retired instructions
 * (c->icount, exec.c) plus c->tsc_offset, one tick per instruction.  A run
 * therefore reads the same TSC values every time (DESIGN: determinism),
 * and a later IA32_TSC write or a VMX/SVM TSC offset only moves tsc_offset.
 * RDTSC executes before icount counts it, so it sees the number of
 * instructions retired before it.
 */
#include "mem.h"
#include "model.h"
#include "virt.h"

#define CR4_TSD (1ull << 2)

static bool protected_mode(const struct cpu *c)
{
	return (c->cr0 & 1) != 0;
}

static int iopl(const struct cpu *c)
{
	return (int)((c->rflags & FLAG_IOPL) >> 12);
}

/* ---- CPUID ---------------------------------------------------------------------- */

/* EAX = leaf, ECX = subleaf; the four results are 32-bit writes, so RAX,
 * RBX, RCX, RDX have bits 63:32 cleared (SDM Vol. 2 CPUID). */
void op_cpuid(struct cpu *c, const struct insn *i)
{
	virt_hook(c, CPUID, i, 0);
	uint32_t r[4];
	uint32_t leaf = (uint32_t)c->gpr[R_RAX], sub = (uint32_t)c->gpr[R_RCX];
	cpu_model_cpuid(c->model, leaf, sub, r);
	/* CPUID.1:EDX.APIC (and AMD's copy in 80000001h) reads 0 while
	 * IA32_APIC_BASE.EN is 0 (SDM Vol. 3 11.4.3). */
	if ((leaf == 1 || leaf == 0x80000001u) && !(c->msr.apic_base & (1ull << 11)))
		r[3] &= ~(1u << 9);
	if (c->vops && c->vops->cpuid)
		c->vops->cpuid(c, leaf, sub, r);
	reg_write(c, R_RAX, 4, r[0]);
	reg_write(c, R_RBX, 4, r[1]);
	reg_write(c, R_RCX, 4, r[2]);
	reg_write(c, R_RDX, 4, r[3]);
}

/* ---- RDTSC, RDTSCP ---------------------------------------------------------------- */

/* CR4.TSD = 1 makes the TSC readable only at CPL 0 (SDM Vol. 2 RDTSC);
 * that #GP comes before a VM exit (SDM Vol. 3 26.1.1).  In guest mode the
 * model's TSC offset is added (virt_tsc_offset; 0 outside). */
static uint64_t read_tsc(struct cpu *c)
{
	if ((c->cr4 & CR4_TSD) && protected_mode(c) && c->cpl > 0)
		cpu_gp0(c);
	return c->icount + c->tsc_offset + c->virt_tsc_offset;
}

void op_rdtsc(struct cpu *c, const struct insn *i)
{
	uint64_t t = read_tsc(c);
	virt_hook(c, RDTSC, i, 0);
	reg_write(c, R_RAX, 4, t);
	reg_write(c, R_RDX, 4, t >> 32);
}

/* RDTSCP also loads ECX with IA32_TSC_AUX (written by WRMSR, msr.c). */
void op_rdtscp(struct cpu *c, const struct insn *i)
{
	uint64_t t = read_tsc(c);
	virt_hook(c, RDTSCP, i, 0);
	reg_write(c, R_RAX, 4, t);
	reg_write(c, R_RDX, 4, t >> 32);
	reg_write(c, R_RCX, 4, c->msr.tsc_aux);
}

/* ---- HLT, CLI, STI ------------------------------------------------------------------ */

/* HLT is privileged: #GP(0) above CPL 0 (virtual-8086 mode runs at 3). */
void op_hlt(struct cpu *c, const struct insn *i)
{
	if ((protected_mode(c) && c->cpl > 0) || (c->rflags & FLAG_VM))
		cpu_gp0(c);
	virt_hook(c, HLT, i, 0);
	c->halted = true;
}

/*
 * CLI/STI (SDM Vol. 2 CLI, Table 3-7): in protected mode allowed when
 * CPL <= IOPL, in virtual-8086 mode when IOPL = 3, always in real mode;
 * otherwise #GP(0).  The PVI/VME variants (VIF instead of IF) and STI's
 * one-instruction interrupt shadow come with the system-mode work.
 */
static void if_change_check(struct cpu *c)
{
	if (c->rflags & FLAG_VM) {
		if (iopl(c) < 3)
			cpu_gp0(c);
	} else if (protected_mode(c) && c->cpl > iopl(c)) {
		cpu_gp0(c);
	}
}

/* CLAC / STAC (SDM Vol. 2): clear / set EFLAGS.AC, which lets supervisor
 * code reach user pages under CR4.SMAP (paging.c).  #UD at CPL > 0, in
 * virtual-8086 mode, and where CPUID.7.0:EBX.SMAP is 0. */
static void ac_insn(struct cpu *c, bool set)
{
	uint32_t r[4];
	cpu_model_cpuid(c->model, 0, 0, r);
	bool smap = false;
	if (r[0] >= 7) {
		cpu_model_cpuid(c->model, 7, 0, r);
		smap = (r[1] >> 20) & 1;
	}
	if (!smap || c->cpl > 0 || (c->rflags & FLAG_VM))
		cpu_ud(c);
	c->rflags = set ? c->rflags | FLAG_AC : c->rflags & ~FLAG_AC;
}

void op_clac(struct cpu *c, const struct insn *i) { (void)i; ac_insn(c, false); }
void op_stac(struct cpu *c, const struct insn *i) { (void)i; ac_insn(c, true); }

void op_cli(struct cpu *c, const struct insn *i)
{
	(void)i;
	if_change_check(c);
	c->rflags &= ~FLAG_IF;
}

/* STI with IF = 0 holds interrupts off until after the next instruction
 * (SDM Vol. 2 STI), so STI; HLT cannot miss a wake-up and STI; RET
 * returns before an interrupt arrives.  The run loop reads the shadow
 * from intr_inhibit_until (cpu_intr_allowed, interrupt.c). */
void op_sti(struct cpu *c, const struct insn *i)
{
	(void)i;
	if_change_check(c);
	if (!(c->rflags & FLAG_IF))
		c->intr_inhibit_until = c->icount + 2;
	c->rflags |= FLAG_IF;
}

/* ---- the decoder's #UD and #GP records ---------------------------------------------- */

/* Anything the decoder does not execute (SDM Vol. 2 2.1: undefined or
 * unsupported encodings raise #UD). */
void op_ud(struct cpu *c, const struct insn *i) { (void)i; cpu_ud(c); }
/* More than 15 bytes: #GP(0) (SDM Vol. 2 2.3.11). */
void op_toolong(struct cpu *c, const struct insn *i) { (void)i; cpu_gp0(c); }
/* UD0 (0F FF), UD1 (0F B9), UD2 (0F 0B): defined to raise #UD. */
void op_ud0_Gv_Ev(struct cpu *c, const struct insn *i) { (void)i; cpu_ud(c); }
void op_ud1_Gv_Ev(struct cpu *c, const struct insn *i) { (void)i; cpu_ud(c); }
void op_ud2(struct cpu *c, const struct insn *i) { (void)i; cpu_ud(c); }

/* ---- VMX and SVM instructions ------------------------------------------------------------ */

/* The active virtualization model executes them (virt.h: ops->insn).  A
 * CPU without VMX raises #UD for every VMX instruction, VMCALL included
 * (SDM Vol. 3 31.3 and each instruction's "Protected Mode Exceptions");
 * one without SVM likewise for the SVM ones (APM Vol. 3: #UD when SVM is
 * absent; VMMCALL too).  A model without the instruction's extension
 * (a VMX model asked for VMRUN) answers #UD itself. */
#define VIRT_INSN(name, which)                                            \
	void op_##name(struct cpu *c, const struct insn *i)               \
	{                                                                 \
		if (!c->vops)                                             \
			cpu_ud(c);                                        \
		c->vops->insn(c, VIRT_I_##which, i);                      \
	}
VIRT_INSN(vmxon_Mq, VMXON)
VIRT_INSN(vmxoff, VMXOFF)
VIRT_INSN(vmclear_Mq, VMCLEAR)
VIRT_INSN(vmptrld_Mq, VMPTRLD)
VIRT_INSN(vmptrst_Mq, VMPTRST)
VIRT_INSN(vmread_Ey_Gy, VMREAD)
VIRT_INSN(vmwrite_Gy_Ey, VMWRITE)
VIRT_INSN(vmlaunch, VMLAUNCH)
VIRT_INSN(vmresume, VMRESUME)
VIRT_INSN(vmcall, VMCALL)
VIRT_INSN(vmfunc, VMFUNC)
VIRT_INSN(invept_Gy_Mdq, INVEPT)
VIRT_INSN(invvpid_Gy_Mdq, INVVPID)
VIRT_INSN(vmrun, VMRUN)
VIRT_INSN(vmmcall, VMMCALL)
VIRT_INSN(vmload, VMLOAD)
VIRT_INSN(vmsave, VMSAVE)
VIRT_INSN(stgi, STGI)
VIRT_INSN(clgi, CLGI)
VIRT_INSN(invlpga, INVLPGA)
VIRT_INSN(skinit, SKINIT)
#undef VIRT_INSN
