/*
 * svm.h - the emulated AMD-V model's own state and the functions its files
 * share (APM Vol. 2 chapter 15).  cpu/ never includes this: it sees the
 * model only through the ops table of cpu/virt.h (virt_ops_svm, svm.c).
 *
 *   svm.c        ops table, CPUID leaf 8000_000Ah, EFER.SVME, VM_CR, VM_HSAVE_PA,
 *                the --cpu svm,-feature switches
 *   check.c      the VMRUN consistency checks of APM 15.5.1, one named rule each
 *   world.c      VMRUN (host save, guest load, event injection) and #VMEXIT
 *                (guest save, host load), VMLOAD/VMSAVE
 *   insn.c       the SVM instructions: VMRUN VMMCALL VMLOAD VMSAVE STGI CLGI
 *                INVLPGA SKINIT, with their #UD/#GP rules and intercepts
 *   intercept.c  every other intercept: which bit, EXITINFO1/2, IOPM, MSRPM
 *   npt.c        the nested page walk and #VMEXIT(NPF) (APM 15.25)
 *   events.c     GIF, physical INTR/NMI intercepts, V_IRQ virtual interrupts
 *
 * While the guest runs, the guest's state is the CPU's state (struct cpu);
 * the VMCB in memory holds what VMRUN read and gets the guest state back at
 * #VMEXIT.  The host's state is in the host save area (VM_HSAVE_PA), in the
 * VMCB's own layout (APM 15.30.4 leaves the format to the implementation).
 * The control fields the CPU needs on every intercept are cached here at
 * VMRUN (`vmcb` below), as hardware may (APM 15.15, VMCB clean bits).
 */
#ifndef NESTLAB_SVM_SVM_H
#define NESTLAB_SVM_SVM_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/svm.h"
#include "cpu.h"

struct insn;

/* What this model implements, as CPUID 8000_000Ah EDX reports it.
 * `--cpu svm,-npt` and `,-nrips` ... clear bits. */
#define SVM_MODEL_FEATURES (SVM_FEAT_NP | SVM_FEAT_NRIPS | SVM_FEAT_FLUSHBYASID | \
			    SVM_FEAT_DECODEASSIST)
#define SVM_MODEL_REVISION 1
#define SVM_MODEL_NASID    16

struct svm_state {
	uint32_t features;          /* CPUID 8000_000Ah EDX of this CPU */
	uint64_t vm_cr;             /* VM_CR MSR */
	uint64_t hsave_pa;          /* VM_HSAVE_PA MSR */
	bool gif;                   /* global interrupt flag (15.17) */
	bool guest;                 /* between VMRUN and #VMEXIT */

	/* The running guest's VMCB: where it is and its control area, read at
	 * VMRUN (EXITCODE and the state-save area are written at #VMEXIT). */
	uint64_t vmcb_pa;
	struct svm_vmcb vmcb;       /* only the control area is kept current */
	bool npt;                   /* nested paging on for this guest */
	bool host_nxe;              /* the host's EFER.NXE at VMRUN (NPT's NX) */
	bool host_if;               /* the host's RFLAGS.IF (V_INTR_MASKING) */
	bool injecting;             /* EVENTINJ is being delivered */

	/* The #VMEXIT being performed (recorded before virt_exit()). */
	uint64_t exitcode, exitinfo1, exitinfo2;
	uint64_t next_rip;          /* NRIP, when the exit is for an instruction */
	bool has_next_rip;
	uint64_t exit_rip;          /* the guest's RIP to save */
	uint64_t exitintinfo;       /* the event whose delivery the exit cut short */
	uint8_t insn_len;           /* decode assists: guest bytes at RIP (NPF, #PF) */
	uint8_t insn_bytes[15];
	const char *exit_rule;      /* why, for the observer (event.h) */
	const char *exit_section;

	/* The last VMRUN that failed its checks: the rule, for the UI. */
	const char *fail_rule, *fail_section;
	uint64_t nvmexits, nvmruns;
};

static inline struct svm_state *svm_of(struct cpu *c)
{
	return (struct svm_state *)c->virt;
}

/* Is the intercept for EXITCODE `code` (below 0A0h) set?  Bit n of the
 * 160-bit intercept string is EXITCODE n (include/arch/svm.h). */
static inline bool svm_icpt_bit(const struct svm_vmcb *v, unsigned code)
{
	return (v->icpt[code / 32] >> (code % 32)) & 1;
}

static inline bool svm_icpt_test(const struct svm_state *s, unsigned code)
{
	return svm_icpt_bit(&s->vmcb, code);
}

/* Name of an EXITCODE (Appendix C), "?" if unknown. */
const char *svm_exit_name(uint64_t code);

/* check.c: the first VMRUN rule the VMCB breaks, or NULL. */
struct svm_check_fail {
	const char *rule;
	const char *section;
};
bool svm_vmrun_checks(struct cpu *c, const struct svm_vmcb *v, struct svm_check_fail *f);

/* world.c */
void svm_vmrun(struct cpu *c, uint64_t vmcb_pa);
void svm_world_switch(struct cpu *c);                  /* performs the recorded #VMEXIT */
void svm_vmload(struct cpu *c, uint64_t pa);
void svm_vmsave(struct cpu *c, uint64_t pa);
void svm_seg_to_vmcb(const struct cpu_segment *s, struct svm_vmcb_seg *v);
void svm_seg_from_vmcb(const struct svm_vmcb_seg *v, struct cpu_segment *s);

/* Record #VMEXIT `code` and unwind (virt_exit): never returns.  With
 * `nrip`, NRIP is the next instruction (NRIPS). */
_Noreturn void svm_exit(struct cpu *c, uint64_t code, uint64_t info1, uint64_t info2,
			bool nrip);

/* npt.c: guest-physical -> host-physical (flags: VIRT_GPA_*). */
uint64_t svm_npt_translate(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin);
struct svm_npt_result {
	bool ok;
	uint64_t hpa;
	uint64_t info1;             /* on failure: NPF EXITINFO1 bits 4:0 */
	int levels;
};
/* The walk alone, for tests and the UI (probe: no A/D bits written). */
void svm_npt_walk(struct cpu *c, uint64_t ncr3, bool nxe, uint64_t gpa, unsigned flags,
		  bool probe, struct svm_npt_result *r);

/* insn.c: STGI, CLGI, VMRUN and #VMEXIT set GIF through this. */
void svm_set_gif(struct cpu *c, bool gif);

/* intercept.c */
void svm_intercept(struct cpu *c, int ev, const struct insn *i, uint64_t info);
uint64_t svm_icpt_mask(const struct svm_state *s);
void svm_insn(struct cpu *c, int which, const struct insn *i);

/* events.c */
void svm_poll(struct cpu *c);
bool svm_inject_event(struct cpu *c, uint64_t eventinj);

#endif
