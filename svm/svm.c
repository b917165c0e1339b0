/*
 * svm.c - the AMD-V model as the CPU sees it: the ops table of cpu/virt.h
 * (virt_ops_svm), and what software reads of it before any VMRUN: CPUID
 * leaf 8000_000Ah, the SVM bit of 8000_0001h, EFER.SVME, the VM_CR and
 * VM_HSAVE_PA MSRs (APM Vol. 2 15.4 "Enabling SVM", 15.30 "SVM-Related
 * MSRs").
 *
 *   CPUID 8000_0001h ECX bit 2   SVM
 *   CPUID 8000_000Ah             EAX revision 1, EBX 16 ASIDs, EDX features:
 *                                NP, NRIPS, FlushByAsid, DecodeAssists
 *                                (svm.h SVM_MODEL_FEATURES); `--cpu svm,-npt`
 *                                and `,-nrips` take NP / NRIPS away
 *   VM_CR (C001_0114h)           SVMDIS and LOCK read 0 (firmware left SVM
 *                                on and unlocked); writing SVMDIS while
 *                                EFER.SVME = 1 is #GP, and with SVMDIS = 1
 *                                EFER.SVME cannot be set (#GP)
 *   VM_HSAVE_PA (C001_0117h)     4 KiB aligned, below MAXPHYADDR, else #GP
 */
#include <stdlib.h>
#include <string.h>

#include "svm.h"

#include "arch.h"
#include "model.h"
#include "paging.h"
#include "virt.h"

const char *svm_exit_name(uint64_t code)
{
	switch (code) {
#define X(n, name) case n: return #name;
	SVM_EXIT_CODES(X)
#undef X
	case SVM_EXIT_INVALID: return "INVALID";
	case SVM_EXIT_BUSY: return "BUSY";
	}
	if (code < 0x10) return "CR_READ";
	if (code < 0x20) return "CR_WRITE";
	if (code < 0x30) return "DR_READ";
	if (code < 0x40) return "DR_WRITE";
	if (code < 0x60) return "EXCP";
	return "?";
}

static int svm_init(struct cpu *c)
{
	struct svm_state *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->features = SVM_MODEL_FEATURES & ~(c->model ? c->model->off : 0);
	s->gif = true;
	c->virt = s;
	return 0;
}

static void svm_fini(struct cpu *c)
{
	free(c->virt);
	c->virt = NULL;
}

static void svm_cpuid(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	struct svm_state *s = svm_of(c);
	(void)sub;
	if (leaf == 0x80000001u)
		r[2] |= CPUID_80000001_ECX_SVM;
	else if (leaf == 0x8000000au) {
		r[0] = SVM_MODEL_REVISION;
		r[1] = SVM_MODEL_NASID;
		r[2] = 0;
		r[3] = s->features;
	}
}

static bool svm_msr(struct cpu *c, uint32_t msr, uint64_t *v, bool write)
{
	struct svm_state *s = svm_of(c);
	switch (msr) {
	case MSR_AMD_VM_CR:
		if (!write) {
			*v = s->vm_cr;
			return true;
		}
		/* Only SVMDIS is writable here (LOCK stays 0: no SVM lock key). */
		if ((*v & ~(VM_CR_SVMDIS | VM_CR_DPD | VM_CR_R_INIT | VM_CR_DIS_A20M)) ||
		    ((*v & VM_CR_SVMDIS) && (c->efer & EFER_SVME)))
			cpu_gp0(c);
		s->vm_cr = *v;
		return true;
	case MSR_AMD_VM_HSAVE_PA:
		if (!write) {
			*v = s->hsave_pa;
			return true;
		}
		if ((*v & 0xfff) || *v > PG_PHYS_MASK)
			cpu_gp0(c);
		s->hsave_pa = *v;
		return true;
	case MSR_IA32_EFER:
		/* Setting SVME with VM_CR.SVMDIS = 1 is #GP (APM 15.4); the rest
		 * of EFER is msr.c's. */
		if (write && (*v & EFER_SVME) && (s->vm_cr & VM_CR_SVMDIS))
			cpu_gp0(c);
		return false;
	default:
		return false;
	}
}

static uint64_t svm_gpa(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin)
{
	return svm_npt_translate(c, gpa, flags, lin);
}

static void svm_intercept_op(struct cpu *c, enum virt_event e, const struct insn *i,
			     uint64_t info)
{
	svm_intercept(c, (int)e, i, info);
}

static void svm_insn_op(struct cpu *c, enum virt_insn which, const struct insn *i)
{
	svm_insn(c, (int)which, i);
}

const struct virt_ops virt_ops_svm = {
	.name = "svm",
	.init = svm_init,
	.fini = svm_fini,
	.cpuid = svm_cpuid,
	.msr = svm_msr,
	.insn = svm_insn_op,
	.intercept = svm_intercept_op,
	.gpa = svm_gpa,
	.world_switch = svm_world_switch,
};
