/*
 * virt.h - the one interface between the CPU core and a hardware
 * virtualization model: Intel VT-x (vmx/) or AMD-V (svm/).
 *
 * cpu/ knows nothing of VMCSs or VMCBs.  It knows three things:
 *
 *  1. An intercept mask, c->icpt: zero outside guest mode (VMX non-root,
 *     SVM guest), filled by the model at VM entry from the controls (as
 *     QEMU caches SVM's intercept vectors).  A sensitive instruction starts
 *     with one line,
 *
 *         if (unlikely(c->icpt & ICPT(HLT))) virt_intercept(c, VIRT_HLT, i, 0);
 *
 *     (virt_hook() below is that line), so outside guest mode a hook costs
 *     one load and one test.  The model decides (bitmaps, masks, shadows)
 *     and either returns (the instruction goes on) or exits.
 *
 *  2. A VM exit is its own kind of unwind, not an exception: the model
 *     records it where it arises (an instruction, a page walk, the middle
 *     of an event delivery, which then gives IDT-vectoring information),
 *     then calls virt_exit(), which unwinds to the run loop like a fault
 *     (c->exc_vector = CPU_UNWIND_VMEXIT); after the unwind the run loop
 *     calls ops->world_switch(), which saves the guest and loads the host.
 *     interrupt.c passes such an unwind through without any #DF combining.
 *
 *  3. An ops table, c->vops, that the active model fills (cpu_init picks it
 *     from the CPU model: virt_ops_for()).  Besides the intercepts it gives
 *     the VMX/SVM instructions, the extension's MSRs and CPUID bits,
 *     shadowed reads (CR read shadows; the TSC offset is c->virt_tsc_offset),
 *     the guest-physical step of the page walk (EPT/NPT: every guest
 *     paging-structure access and the final address go through
 *     virt_gpa()), event injection and the checks between instructions
 *     (interrupt/NMI windows, the preemption timer, MTF, GIF).
 *
 * TLB: a world switch flushes the software TLB (cpu_tlb_flush), as do
 * INVEPT/INVVPID/INVLPGA, so no translation leaks between root and
 * non-root, VPIDs, ASIDs or EPTPs.  (Flushing more than asked is always
 * permitted: SDM Vol. 3 29.4.3.1, APM Vol. 2 15.16.)
 *
 * Loading state at VM entry and exit uses the commit half of the CR code
 * (cr.h: cpu_cr0_commit ..., cpu_system_state_loaded), never the
 * instruction-level checks: the entry checks are the model's, each naming
 * its rule.
 */
#ifndef NESTLAB_CPU_VIRT_H
#define NESTLAB_CPU_VIRT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"

struct insn;

/*
 * What a hook reports.  VMX and AMD-V names side by side; `info` is the
 * event's operand, as listed.  One X-macro gives the enum and its names.
 */
#define VIRT_EVENTS(X)                                                                  \
	X(CPUID,     "CPUID")                                                           \
	X(HLT,       "HLT")                                                             \
	X(INVD,      "INVD")                                                            \
	X(WBINVD,    "WBINVD")                                                          \
	X(INVLPG,    "INVLPG")            /* info: linear address */                    \
	X(RDPMC,     "RDPMC")                                                           \
	X(RDTSC,     "RDTSC")                                                           \
	X(RDTSCP,    "RDTSCP")                                                          \
	X(CR_READ,   "MOV from CR")       /* info: CR number (0, 3, 4, 8) */            \
	X(CR_WRITE,  "MOV to CR")         /* ops->cr_write decides and adjusts */        \
	X(CLTS,      "CLTS")                                                            \
	X(LMSW,      "LMSW")              /* info: the 16-bit source */                  \
	X(SMSW,      "SMSW")                                                            \
	X(DR,        "MOV DR")            /* info: DR number | 0x10 for a write */      \
	X(IO,        "I/O instruction")   /* info: struct virt_io * */                  \
	X(RDMSR,     "RDMSR")             /* info: ECX */                               \
	X(WRMSR,     "WRMSR")             /* info: ECX */                               \
	X(PAUSE,     "PAUSE")                                                           \
	X(DESC,      "descriptor table")  /* info: enum virt_desc */                    \
	X(VMINSN,    "VMX/SVM instruction in guest mode") /* info: enum virt_insn */    \
	X(PUSHF,     "PUSHF")                                                           \
	X(POPF,      "POPF")                                                            \
	X(IRET,      "IRET")                                                            \
	X(INTN,      "INT n")             /* info: vector */                            \
	X(EXCEPTION, "exception")         /* c->deliv holds the event */                 \
	X(SHUTDOWN,  "triple fault")                                                    \
	X(TASKSW,    "task switch")                                                     \
	X(POLL,      "between instructions") /* windows, timers, interrupts */          \
	X(GPA,       "guest-physical translation") /* EPT / NPT is on */                \
	X(CR_SHADOW, "CR read shadow")    /* MOV from CR0/CR4, SMSW read shadows */

enum virt_event {
#define X(n, s) VIRT_##n,
	VIRT_EVENTS(X)
#undef X
	VIRT_NEVENTS
};
_Static_assert(VIRT_NEVENTS <= 64, "the intercept mask is 64 bits");

#define ICPT(n) (1ull << VIRT_##n)

const char *virt_event_name(enum virt_event e);

/* The VMX and SVM instructions, for ops->insn (and VIRT_VMINSN). */
#define VIRT_INSNS(X)                                                                   \
	X(VMXON) X(VMXOFF) X(VMCLEAR) X(VMPTRLD) X(VMPTRST) X(VMREAD) X(VMWRITE)        \
	X(VMLAUNCH) X(VMRESUME) X(VMCALL) X(VMFUNC) X(INVEPT) X(INVVPID)                \
	X(VMRUN) X(VMMCALL) X(VMLOAD) X(VMSAVE) X(STGI) X(CLGI) X(INVLPGA) X(SKINIT)

enum virt_insn {
#define X(n) VIRT_I_##n,
	VIRT_INSNS(X)
#undef X
	VIRT_NINSNS
};

/* LGDT ... STR (VMX "descriptor-table exiting"; SVM's separate intercepts). */
enum virt_desc {
	VIRT_D_SGDT, VIRT_D_SIDT, VIRT_D_LGDT, VIRT_D_LIDT,
	VIRT_D_SLDT, VIRT_D_STR, VIRT_D_LLDT, VIRT_D_LTR,
};

/* One port access, as cpu_io_access() and INS/OUTS describe it. */
struct virt_io {
	uint16_t port;
	uint8_t size;       /* 1, 2 or 4 */
	bool in;            /* IN/INS */
	bool string;        /* INS/OUTS */
	bool rep;           /* with a REP prefix */
	bool imm;           /* port from an immediate (IN/OUT ib) */
	uint64_t lin;       /* INS/OUTS: linear address of the element */
};

/* Flags for ops->gpa: what the guest-physical access is for. */
#define VIRT_GPA_READ   0x0u
#define VIRT_GPA_WRITE  0x1u
#define VIRT_GPA_EXEC   0x2u
#define VIRT_GPA_WALK   0x4u   /* a guest paging-structure entry */
#define VIRT_GPA_LIN    0x8u   /* `lin` is valid (guest-linear address) */
#define VIRT_GPA_USER   0x10u  /* a user-mode access (for NPT's EXITINFO1) */
#define VIRT_GPA_PROBE  0x20u  /* a debugger's look: no exit, no A/D; ~0 if unmapped */

struct virt_ops {
	const char *name;                      /* "vmx", "svm" */
	int (*init)(struct cpu *c);            /* allocate c->virt; 0 on success */
	void (*fini)(struct cpu *c);
	/* CPUID as the extension adjusts it (feature bits), after the model's. */
	void (*cpuid)(struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t r[4]);
	/* The extension's MSRs: true if handled (false: not ours).  May raise. */
	bool (*msr)(struct cpu *c, uint32_t msr, uint64_t *v, bool write);
	/* A VMX/SVM instruction (which); may raise, exit or switch worlds. */
	void (*insn)(struct cpu *c, enum virt_insn which, const struct insn *i);
	/* An intercept hook fired (its bit is set in c->icpt): return to let
	 * the instruction go on, or record the exit and virt_exit(). */
	void (*intercept)(struct cpu *c, enum virt_event e, const struct insn *i, uint64_t info);
	/* A read of CR0/CR4 in guest mode (read shadows): the value the guest sees. */
	uint64_t (*cr_read)(struct cpu *c, int cr, uint64_t v);
	/* A write of CR0/3/4/8 in guest mode (CR_WRITE set): exit, or return the
	 * value to load (host-owned bits kept).  i is NULL for CLTS/LMSW, whose
	 * own intercepts have already decided about exiting.  A model without
	 * it (SVM) gets the CR_WRITE intercept with info = CR number instead. */
	uint64_t (*cr_write)(struct cpu *c, const struct insn *i, int cr, uint64_t v);
	/* Guest-physical -> host-physical (EPT/NPT): may record an exit and
	 * virt_exit() (violation, misconfiguration, nested page fault). */
	uint64_t (*gpa)(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin);
	/* After a CPU_UNWIND_VMEXIT: save the guest, load the host. */
	void (*world_switch)(struct cpu *c);
};

/* The ops table for a CPU model (NULL: no extension). */
struct cpu_model;
const struct virt_ops *virt_ops_for(const struct cpu_model *m);

/* The models' tables (weak: a tree without a model links, with NULL). */
extern const struct virt_ops virt_ops_vmx __attribute__((weak));
extern const struct virt_ops virt_ops_svm __attribute__((weak));

/* Unwind the current instruction (or delivery) for a VM exit the model
 * has recorded; the run loop then calls ops->world_switch(). */
_Noreturn void virt_exit(struct cpu *c);

static inline void virt_intercept(struct cpu *c, enum virt_event e, const struct insn *i,
				  uint64_t info)
{
	c->vops->intercept(c, e, i, info);
}

/* The one-line hook at the top of a sensitive handler. */
#define virt_hook(c, ev, i, info)                                                \
	do {                                                                     \
		if (__builtin_expect((c)->icpt & ICPT(ev), 0))                    \
			virt_intercept((c), VIRT_##ev, (i), (info));              \
	} while (0)

/* Guest-physical to host-physical, for the page walker and for accesses
 * by physical address in guest mode. */
static inline uint64_t virt_gpa(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin)
{
	if (__builtin_expect(!(c->icpt & ICPT(GPA)), 1))
		return gpa;
	return c->vops->gpa(c, gpa, flags, lin);
}

#endif
