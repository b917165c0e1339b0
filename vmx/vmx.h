/*
 * vmx/vmx.h - the emulated Intel VT-x: state and the functions the files of
 * vmx/ share.  The CPU core reaches the model only through cpu/virt.h
 * (virt_ops_vmx, in caps.c); nothing in cpu/ includes this header.
 *
 *   caps.c    capability MSRs (0x480-0x491), IA32_FEATURE_CONTROL, CPUID.1:ECX.VMX,
 *             the ops table
 *   vmcs.c    the VMCS field table, the cached current VMCS and its layout in memory
 *   insn.c    VMXON ... INVVPID, VMsucceed / VMfailInvalid / VMfailValid (SDM 31)
 *   check.c   the VM-entry checks of SDM 27.2 and 27.3, one macro per rule
 *   entry.c   loading guest state, MSR-load list, event injection (SDM 27.3.2 - 27.6)
 *   exit.c    what exits in non-root operation (SDM 26), recording an exit,
 *             saving the guest and loading the host (SDM 28)
 *   ept.c     the EPT walk, violations and misconfigurations (SDM 29.3)
 *
 * The VMCS is cached while current (SDM 24.11.1): `f` holds every field,
 * indexed by the order of VMCS_FIELDS in include/arch/vmx.h.  In memory
 * the region is the model's own layout (vmcs.c): revision ID at 0, abort
 * indicator at 4, launch state at 8, field k at 0x10 + 8 * k.
 */
#ifndef NESTLAB_VMX_H
#define NESTLAB_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/vmx.h"
#include "cpu.h"
#include "virt.h"

enum vmx_field {
#define X(name, enc) F_##name,
	VMCS_FIELDS(X)
#undef X
	F_COUNT
};
_Static_assert(0x10 + 8 * F_COUNT <= 4096, "the cached VMCS fits its 4 KiB region");

#define VMX_REVISION      0x4e4c0001u   /* "NL", 1: what VMX_BASIC reports */
#define VMCS_OFF_ABORT    4
#define VMCS_OFF_LAUNCH   8
#define VMCS_OFF_FIELDS   0x10
#define VMCS_NONE         (~0ull)

/* Model features that --cpu can switch off (vmx,-ept ...; cpu/model.c
 * names them: ept, vpid, ug, timer, lock). */
#define VMXF_EPT       (1u << 0)
#define VMXF_VPID      (1u << 1)
#define VMXF_UG        (1u << 2)
#define VMXF_TIMER     (1u << 3)
#define VMXF_LOCK      (1u << 4)    /* FEATURE_CONTROL locked at reset */
#define VMXF_ALL       0x1fu

/* An exit as recorded where it arose, before the unwind (exit.c). */
struct vmx_exit {
	uint32_t reason;
	uint64_t qual, gla, gpa;
	uint32_t intr_info, intr_err;
	uint32_t insn_len, insn_info;
	uint64_t guest_rip;
	uint32_t interruptibility;
	uint32_t idt_info, idt_err;
	const char *section;       /* SDM section that explains the exit */
};

struct vmx {
	bool on;                   /* VMX operation (after VMXON) */
	bool guest;                /* VMX non-root operation */
	uint64_t vmxon_ptr;
	uint64_t current;          /* current-VMCS pointer, VMCS_NONE if none */
	bool launched;             /* launch state of the current VMCS */
	uint64_t f[F_COUNT];       /* the current VMCS, cached */
	uint64_t feature_control;
	unsigned features;         /* VMXF_* offered */
	/* non-root: the controls in force, and what runs between instructions */
	uint32_t pin, proc, proc2, exit_ctl, entry_ctl;
	uint64_t timer_at;         /* icount at which the preemption timer fires */
	uint64_t mtf_at;           /* icount after which MTF exits, or ~0 */
	bool injecting;            /* delivering the event injected at entry */
	struct vmx_exit ex;
	const char *rule, *section;  /* the last VM-entry check that failed */
};

static inline struct vmx *vmx_of(struct cpu *c)
{
	return (struct vmx *)c->virt;
}

/* vmcs.c */
int vmcs_index(uint64_t enc);                  /* -1: no such component */
const char *vmcs_field_name(int idx);
unsigned vmcs_width(uint32_t enc);             /* 16, 64, 32 or 0 (natural) */
bool vmcs_read_only(uint32_t enc);
uint64_t vmcs_mask_value(uint32_t enc, uint64_t v);
void vmcs_load(struct cpu *c, struct vmx *s, uint64_t pa);
void vmcs_store(struct cpu *c, struct vmx *s);
uint32_t vmcs_mem_launch(struct cpu *c, uint64_t pa);
void vmcs_set_mem_launch(struct cpu *c, uint64_t pa, uint32_t v);

/* caps.c */
uint64_t vmx_cap(const struct vmx *s, uint32_t msr);
bool vmx_pa_ok(uint64_t pa);                   /* within MAXPHYADDR */
uint64_t vmx_cr0_fixed0(void);
uint64_t vmx_cr4_fixed0(void);
uint64_t vmx_cr4_fixed1(struct cpu *c);

/* insn.c */
void vmx_insn(struct cpu *c, enum virt_insn which, const struct insn *i);
void vmx_succeed(struct cpu *c);
void vmx_fail(struct cpu *c, struct vmx *s, unsigned err);

/* check.c: 0 if every check passes, else the failure kind (and s->rule). */
enum vmx_check_fail { VMXC_OK, VMXC_CONTROLS, VMXC_HOST, VMXC_GUEST };
enum vmx_check_fail vmx_check_entry(struct cpu *c, struct vmx *s, uint64_t *qual);

/* entry.c */
void vmx_vmentry(struct cpu *c, struct vmx *s, bool launch);

/* exit.c */
void vmx_intercept(struct cpu *c, enum virt_event e, const struct insn *i, uint64_t info);
uint64_t vmx_cr_read(struct cpu *c, int cr, uint64_t v);
uint64_t vmx_cr_write(struct cpu *c, const struct insn *i, int cr, uint64_t v);
_Noreturn void vmx_exit_now(struct cpu *c, uint32_t reason, uint64_t qual, bool in_insn);
void vmx_world_switch(struct cpu *c);
void vmx_set_intercepts(struct cpu *c, struct vmx *s);
const char *vmx_exit_name(uint32_t reason);

/* ept.c */
uint64_t vmx_gpa(struct cpu *c, uint64_t gpa, unsigned flags, uint64_t lin);
bool vmx_eptp_ok(const struct vmx *s, uint64_t eptp);

#endif
