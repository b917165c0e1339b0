/*
 * insn.c - the SVM instructions (APM Vol. 3 "VMRUN" ... "SKINIT", APM
 * Vol. 2 15.5, 15.17): cpu/system.c's handlers call svm_insn() through the
 * ops table.
 *
 * The order of the checks is the APM's (15.9: instruction intercepts come
 * after the simple #UD/#GP checks, before operand checks):
 *
 *   1. #UD unless EFER.SVME = 1 and protected mode (CR0.PE)  - not VMMCALL
 *   2. #GP(0) unless CPL = 0 (virtual-8086 mode is CPL 3)     - not VMMCALL
 *   3. in the guest, the instruction's intercept: #VMEXIT
 *   4. the operand: rAX (by address size) a 4 KiB-aligned physical address
 *      of RAM, else #GP(0)                                   - VMRUN VMLOAD VMSAVE
 *   5. the work
 *
 * VMMCALL exists only to be intercepted: without the intercept it is #UD.
 * SKINIT (secure init with a TPM) is not modelled: CPUID does not claim it;
 * with SVME it is intercepted if asked, else #UD.
 */
#include "svm.h"

#include "arch.h"
#include "insn.h"
#include "mem.h"
#include "paging.h"
#include "virt.h"

static const unsigned exit_of[VIRT_NINSNS] = {
	[VIRT_I_VMRUN] = SVM_EXIT_VMRUN, [VIRT_I_VMMCALL] = SVM_EXIT_VMMCALL,
	[VIRT_I_VMLOAD] = SVM_EXIT_VMLOAD, [VIRT_I_VMSAVE] = SVM_EXIT_VMSAVE,
	[VIRT_I_STGI] = SVM_EXIT_STGI, [VIRT_I_CLGI] = SVM_EXIT_CLGI,
	[VIRT_I_INVLPGA] = SVM_EXIT_INVLPGA, [VIRT_I_SKINIT] = SVM_EXIT_SKINIT,
};

/* rAX as a VMCB address: the address size picks RAX, EAX or AX. */
static uint64_t vmcb_operand(struct cpu *c, const struct insn *i)
{
	uint64_t a = c->gpr[R_RAX];
	unsigned asize = i ? i->asize : 8;
	if (asize == 4)
		a = (uint32_t)a;
	else if (asize == 2)
		a = (uint16_t)a;
	if ((a & 0xfff) || a > PG_PHYS_MASK)
		cpu_gp0(c);
	/* A guest's VMLOAD/VMSAVE names a guest-physical page (nested paging). */
	if (svm_of(c)->guest && svm_of(c)->npt)
		a = svm_npt_translate(c, a, VIRT_GPA_WRITE, 0);
	if (a + 4096 > c->ram_size)
		cpu_gp0(c);
	return a;
}

void svm_set_gif(struct cpu *c, bool gif)
{
	struct svm_state *s = svm_of(c);
	s->gif = gif;
	c->virt_hold = !gif;
	c->block_break = true;       /* an interrupt may be taken at once */
}

void svm_insn(struct cpu *c, int which, const struct insn *i)
{
	struct svm_state *s = svm_of(c);
	if ((unsigned)which >= VIRT_NINSNS || !exit_of[which])
		cpu_ud(c);                                  /* a VMX instruction */
	if (which != VIRT_I_VMMCALL) {
		if (!(c->efer & EFER_SVME) || !(c->cr0 & CR0_PE))
			cpu_ud(c);
		if (c->cpl != 0)
			cpu_gp0(c);
	}
	if (s->guest && svm_icpt_test(s, exit_of[which]))
		svm_exit(c, exit_of[which], 0, 0, true);
	switch (which) {
	case VIRT_I_VMRUN:
		svm_vmrun(c, vmcb_operand(c, i));
		break;
	case VIRT_I_VMLOAD:
		svm_vmload(c, vmcb_operand(c, i));
		break;
	case VIRT_I_VMSAVE:
		svm_vmsave(c, vmcb_operand(c, i));
		break;
	case VIRT_I_STGI:
		svm_set_gif(c, true);
		break;
	case VIRT_I_CLGI:
		svm_set_gif(c, false);
		break;
	case VIRT_I_INVLPGA:
		/* rAX the linear address, ECX the ASID.  Only the running
		 * context's translations are ever cached (a world switch flushes),
		 * so only ASID 0 in the host or the guest's own ASID has any. */
		if ((uint32_t)c->gpr[R_RCX] == (s->guest ? s->vmcb.guest_asid : 0))
			cpu_tlb_invlpg(c, i && i->asize == 4 ? (uint32_t)c->gpr[R_RAX] : c->gpr[R_RAX]);
		break;
	default:                                            /* VMMCALL, SKINIT */
		cpu_ud(c);
	}
}
