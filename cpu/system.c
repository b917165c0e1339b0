/*
 * system.c - the system-flavoured instructions a user-level core needs:
 * CPUID, RDTSC/RDTSCP, HLT, CLI/STI, the #UD and #GP records the decoder
 * produces (ud, toolong, UD0/UD1/UD2), and the VMX and SVM instructions as
 * a CPU without those extensions executes them (#UD).
 *
 * Time.  The time-stamp counter is virtual time: retired instructions
 * (c->icount, exec.c) plus c->tsc_offset, one tick per instruction.  A run
 * therefore reads the same TSC values every time (DESIGN: determinism),
 * and a later IA32_TSC write or a VMX/SVM TSC offset only moves tsc_offset.
 * RDTSC executes before icount counts it, so it sees the number of
 * instructions retired before it.
 */
#include <stdio.h>

#include "mem.h"
#include "model.h"

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
	(void)i;
	uint32_t r[4];
	cpu_model_cpuid(c->model, (uint32_t)c->gpr[R_RAX], (uint32_t)c->gpr[R_RCX], r);
	reg_write(c, R_RAX, 4, r[0]);
	reg_write(c, R_RBX, 4, r[1]);
	reg_write(c, R_RCX, 4, r[2]);
	reg_write(c, R_RDX, 4, r[3]);
}

/* ---- RDTSC, RDTSCP ---------------------------------------------------------------- */

/* CR4.TSD = 1 makes the TSC readable only at CPL 0 (SDM Vol. 2 RDTSC). */
static uint64_t read_tsc(struct cpu *c)
{
	if ((c->cr4 & CR4_TSD) && protected_mode(c) && c->cpl > 0)
		cpu_gp0(c);
	return c->icount + c->tsc_offset;
}

void op_rdtsc(struct cpu *c, const struct insn *i)
{
	(void)i;
	uint64_t t = read_tsc(c);
	reg_write(c, R_RAX, 4, t);
	reg_write(c, R_RDX, 4, t >> 32);
}

/* RDTSCP also loads ECX with IA32_TSC_AUX (written by WRMSR, msr.c). */
void op_rdtscp(struct cpu *c, const struct insn *i)
{
	(void)i;
	uint64_t t = read_tsc(c);
	reg_write(c, R_RAX, 4, t);
	reg_write(c, R_RDX, 4, t >> 32);
	reg_write(c, R_RCX, 4, c->msr.tsc_aux);
}

/* ---- HLT, CLI, STI ------------------------------------------------------------------ */

/* HLT is privileged: #GP(0) above CPL 0 (virtual-8086 mode runs at 3). */
void op_hlt(struct cpu *c, const struct insn *i)
{
	(void)i;
	if ((protected_mode(c) && c->cpl > 0) || (c->rflags & FLAG_VM))
		cpu_gp0(c);
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

/* ---- VMX and SVM on a CPU without them -------------------------------------------------- */

/* Reached only if a model claims an extension whose instructions nobody
 * implements: an emulator error, never a silent success. */
static _Noreturn void ext_missing(struct cpu *c, const char *what)
{
	snprintf(c->error, sizeof c->error,
		 "model %s claims %s, but no %s model is built in",
		 c->model ? c->model->name : "?", what, what);
	cpu_exception_noerr(c, -1);
}

/* A CPU without VMX raises #UD for every VMX instruction, VMCALL included
 * (SDM Vol. 3 31.3 and each instruction's "Protected Mode Exceptions").
 * The VT-x model (vmx/) replaces these handlers with its own. */
#define VMX_INSN(name)                                                    \
	void op_##name(struct cpu *c, const struct insn *i)               \
	{                                                                 \
		(void)i;                                                  \
		if (!c->model || !c->model->has_vmx)                      \
			cpu_ud(c);  /* replaced by the VMX model later */ \
		ext_missing(c, "VMX");                                    \
	}
VMX_INSN(vmxon_Mq)
VMX_INSN(vmxoff)
VMX_INSN(vmclear_Mq)
VMX_INSN(vmptrld_Mq)
VMX_INSN(vmptrst_Mq)
VMX_INSN(vmread_Ey_Gy)
VMX_INSN(vmwrite_Gy_Ey)
VMX_INSN(vmlaunch)
VMX_INSN(vmresume)
VMX_INSN(vmcall)
VMX_INSN(vmfunc)
VMX_INSN(invept_Gy_Mdq)
VMX_INSN(invvpid_Gy_Mdq)

/* Likewise SVM (AMD APM Vol. 3: #UD when SVM is absent or EFER.SVME = 0;
 * VMMCALL is #UD too).  The AMD-V model (svm/) replaces these. */
#define SVM_INSN(name)                                                    \
	void op_##name(struct cpu *c, const struct insn *i)               \
	{                                                                 \
		(void)i;                                                  \
		if (!c->model || !c->model->has_svm)                      \
			cpu_ud(c);  /* replaced by the SVM model later */ \
		ext_missing(c, "SVM");                                    \
	}
SVM_INSN(vmrun)
SVM_INSN(vmmcall)
SVM_INSN(vmload)
SVM_INSN(vmsave)
SVM_INSN(stgi)
SVM_INSN(clgi)
SVM_INSN(invlpga)
SVM_INSN(skinit)
