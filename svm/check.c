/*
 * check.c - the consistency checks VMRUN makes on the VMCB before it enters
 * the guest (APM Vol. 2 15.5.1 "Canonicalization and Consistency Checks").
 * A VMCB that breaks one gets #VMEXIT with EXITCODE VMEXIT_INVALID (-1)
 * and nothing of the guest is loaded (world.c).
 *
 * Every check goes through SVM_CHECK(condition, rule, section): the rule is
 * the APM's own sentence, so a student who sees "VMRUN failed" in the step
 * UI or the event log (CPU_EV_VMENTRY_FAIL) reads which rule and where it
 * is written.  The order is the APM's list; the first rule broken is the
 * one reported (the APM names no order; hardware reports only -1).
 */
#include "svm.h"

#include "arch.h"
#include "cr.h"
#include "paging.h"

#define SVM_CHECK(cond, rule_text, sect)                                         \
	do {                                                                     \
		if (cond) {                                                      \
			f->rule = (rule_text);                                   \
			f->section = (sect);                                     \
			return false;                                            \
		}                                                                \
	} while (0)

/* EFER bits this CPU has (the rest are MBZ): SCE, LME, LMA, NXE, SVME.
 * LMSLE, FFXSR and TCE are not implemented, so they are MBZ here. */
#define SVM_EFER_VALID (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME)

/* The guest's paging will be 4-level if LME and PG: CR3 may then hold an
 * address up to MAXPHYADDR (40 bits); otherwise bits 63:32 are MBZ. */
static uint64_t cr3_mbz(const struct svm_vmcb *v)
{
	if ((v->efer & EFER_LME) && (v->cr0 & CR0_PG))
		return ~PG_PHYS_MASK;
	return ~0xffffffffull;
}

/* The last byte of a permission map at `base` (low 12 bits ignored,
 * APM 15.10.1 and 15.11) lies at or above MAXPHYADDR. */
static bool map_beyond(uint64_t base, uint64_t size)
{
	base &= ~0xfffull;
	return base > PG_PHYS_MASK || base + size - 1 > PG_PHYS_MASK;
}

/* EVENTINJ (APM 15.20): a reserved TYPE, or an exception (TYPE 3) with
 * vector 2 (NMI has its own type) or a vector above 31, or an event the
 * guest's mode cannot take (#BR... the APM's example: #BR in 64-bit mode,
 * where BOUND does not exist) makes VMRUN fail. */
static const char *eventinj_bad(const struct svm_vmcb *v)
{
	uint64_t e = v->eventinj;
	if (!(e & SVM_EVT_V))
		return NULL;
	unsigned type = (unsigned)((e & SVM_EVT_TYPE_MASK) >> SVM_EVT_TYPE_SHIFT);
	unsigned vec = (unsigned)(e & SVM_EVT_VECTOR_MASK);
	if (type != SVM_EVT_TYPE_INTR && type != SVM_EVT_TYPE_NMI &&
	    type != SVM_EVT_TYPE_EXCP && type != SVM_EVT_TYPE_SOFT)
		return "Illegal event injection: EVENTINJ.TYPE is reserved (1, 5, 6 or 7)";
	if (type == SVM_EVT_TYPE_EXCP && (vec == 2 || vec > 31))
		return "Illegal event injection: an exception (TYPE 3) with vector 2 or above 31";
	bool long64 = (v->efer & EFER_LMA) && (v->cs.attrib & (1u << 9));
	if (type == SVM_EVT_TYPE_EXCP && vec == 5 && long64)
		return "Illegal event injection: #BR in 64-bit mode (impossible for the guest mode)";
	return NULL;
}

bool svm_vmrun_checks(struct cpu *c, const struct svm_vmcb *v, struct svm_check_fail *f)
{
	bool lme_pg = (v->efer & EFER_LME) && (v->cr0 & CR0_PG);
	const char *ev;
	SVM_CHECK(!(v->efer & EFER_SVME), "EFER.SVME is zero", "APM 15.5.1");
	SVM_CHECK(!(v->cr0 & CR0_CD) && (v->cr0 & CR0_NW),
		  "CR0.CD is zero and CR0.NW is set", "APM 15.5.1");
	SVM_CHECK(v->cr0 >> 32, "CR0[63:32] are not zero", "APM 15.5.1");
	SVM_CHECK(v->cr3 & cr3_mbz(v), "Any MBZ bit of CR3 is set", "APM 15.5.1");
	SVM_CHECK(v->cr4 & ~cpu_cr4_valid(c), "Any MBZ bit of CR4 is set", "APM 15.5.1");
	SVM_CHECK(v->dr6 >> 32, "DR6[63:32] are not zero", "APM 15.5.1");
	SVM_CHECK(v->dr7 >> 32, "DR7[63:32] are not zero", "APM 15.5.1");
	SVM_CHECK(v->efer & ~SVM_EFER_VALID, "Any MBZ bit of EFER is set", "APM 15.5.1");
	SVM_CHECK(lme_pg && !(v->cr4 & CR4_PAE),
		  "EFER.LME and CR0.PG are both set and CR4.PAE is zero", "APM 15.5.1");
	SVM_CHECK(lme_pg && !(v->cr0 & CR0_PE),
		  "EFER.LME and CR0.PG are both non-zero and CR0.PE is zero", "APM 15.5.1");
	SVM_CHECK(lme_pg && (v->cr4 & CR4_PAE) && (v->cs.attrib & (1u << 9)) &&
		  (v->cs.attrib & (1u << 10)),
		  "EFER.LME, CR0.PG, CR4.PAE, CS.L, and CS.D are all non-zero", "APM 15.5.1");
	SVM_CHECK(!svm_icpt_bit(v, SVM_EXIT_VMRUN), "The VMRUN intercept bit is clear",
		  "APM 15.5.1");
	SVM_CHECK(map_beyond(v->msrpm_base_pa, SVM_MSRPM_SIZE) ||
		  map_beyond(v->iopm_base_pa, SVM_IOPM_SIZE),
		  "The MSR or IOIO intercept tables extend to a physical address that is "
		  "greater than or equal to the maximum supported physical address",
		  "APM 15.5.1");
	ev = eventinj_bad(v);
	SVM_CHECK(ev != NULL, ev, "APM 15.20");
	SVM_CHECK(v->guest_asid == 0, "ASID is equal to zero", "APM 15.5.1");
	/* Not in the APM's list, but MOV CR0 can never make it (#GP, APM
	 * 3.1.1) and no mode of the CPU has paging without protection. */
	SVM_CHECK((v->cr0 & CR0_PG) && !(v->cr0 & CR0_PE),
		  "CR0.PG is set and CR0.PE is zero", "APM 3.1.1 (as MOV CR0 refuses it)");
	return true;
}
