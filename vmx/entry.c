/*
 * entry.c - VMLAUNCH and VMRESUME (SDM Vol. 3C chapter 27): the checks
 * (check.c), then loading the guest (27.3.2), then event injection (27.6).
 *
 *   no current VMCS                      VMfailInvalid
 *   VMLAUNCH of a launched VMCS          VMfailValid(4)
 *   VMRESUME of a clear VMCS             VMfailValid(5)
 *   controls / host state                VMfailValid(7) / (8)
 *   guest state, PDPTEs                  VM exit 33 (bit 31 set), qual 0 / 2
 *
 * Guest state is loaded with the commit half of the CPU's register code
 * (cr.h: cpu_system_state_loaded), never with instruction checks.  The
 * TLB is flushed on every entry and exit (cpu/virt.h), so VPIDs and EPTPs
 * need no tags.  The MSR-load list is not processed (docs/vmx-model.md):
 * a nonzero count fails the entry with reason 34, qualification 1, as a
 * list whose first entry cannot be loaded.
 */
#include "arch.h"
#include "cr.h"
#include "flags.h"
#include "interrupt.h"
#include "paging.h"
#include "vmx.h"

static void emit_entry(struct cpu *c, struct vmx *s, enum cpu_event_kind kind, uint64_t rip,
		       int cpl)
{
	struct cpu_event ev = { .kind = kind, .arch = CPU_ARCH_VMX, .vector = -1, .rip = rip,
				.cpl = cpl, .name = kind == CPU_EV_VMENTRY ? "VM entry" : "VM-entry failure",
				.rule = s->rule, .section = s->section };
	ev.reason = kind == CPU_EV_VMENTRY_FAIL ? s->f[F_VM_INSTRUCTION_ERROR] : 0;
	cpu_event_emit(c, &ev);
}

/* The guest's segment from the VMCS (Table 25-2 access rights; bit 16
 * unusable: kept as P = 0, the way the CPU marks a null-loaded segment). */
static void load_seg(struct cpu_segment *d, const uint64_t *f, int sel, int base, int limit, int ar)
{
	uint32_t a = (uint32_t)f[ar];
	d->sel = (uint16_t)f[sel];
	d->base = f[base];
	d->limit = (uint32_t)f[limit];
	d->attr = (uint16_t)(a & 0xf0ff);
	if (a & VMX_AR_UNUSABLE)
		d->attr &= (uint16_t)~SEG_ATTR_P;
}

static void load_guest(struct cpu *c, struct vmx *s)
{
	const uint64_t *f = s->f;
	for (int k = 0; k < 6; k++)
		load_seg(&c->seg[k], f, F_GUEST_ES_SEL + k, F_GUEST_ES_BASE + k, F_GUEST_ES_LIMIT + k,
			 F_GUEST_ES_AR + k);
	load_seg(&c->ldtr, f, F_GUEST_LDTR_SEL, F_GUEST_LDTR_BASE, F_GUEST_LDTR_LIMIT, F_GUEST_LDTR_AR);
	load_seg(&c->tr, f, F_GUEST_TR_SEL, F_GUEST_TR_BASE, F_GUEST_TR_LIMIT, F_GUEST_TR_AR);
	c->gdtr = (struct cpu_dtable){ f[F_GUEST_GDTR_BASE], (uint32_t)f[F_GUEST_GDTR_LIMIT] };
	c->idtr = (struct cpu_dtable){ f[F_GUEST_IDTR_BASE], (uint32_t)f[F_GUEST_IDTR_LIMIT] };
	c->cr0 = (f[F_GUEST_CR0] & CR0_DEFINED) | CR0_ET;
	c->cr3 = f[F_GUEST_CR3];
	c->cr4 = f[F_GUEST_CR4];
	if (s->entry_ctl & ENTRY_LOAD_EFER)
		c->efer = f[F_GUEST_IA32_EFER];
	/* 27.3.2.1: LMA := IA-32e mode guest; LME too when CR0.PG = 1. */
	bool ia32e = (s->entry_ctl & ENTRY_IA32E_GUEST) != 0;
	c->efer = (c->efer & ~EFER_LMA) | (ia32e ? EFER_LMA : 0);
	if (c->cr0 & CR0_PG)
		c->efer = (c->efer & ~EFER_LME) | (ia32e ? EFER_LME : 0);
	if (s->entry_ctl & ENTRY_LOAD_DEBUG_CTLS)
		c->dr[7] = f[F_GUEST_DR7];
	if (s->entry_ctl & ENTRY_LOAD_PAT)
		c->msr.pat = f[F_GUEST_IA32_PAT];
	c->msr.sysenter_cs = (uint32_t)f[F_GUEST_SYSENTER_CS];
	c->msr.sysenter_esp = f[F_GUEST_SYSENTER_ESP];
	c->msr.sysenter_eip = f[F_GUEST_SYSENTER_EIP];
	c->gpr[R_RSP] = f[F_GUEST_RSP];
	c->rip = f[F_GUEST_RIP];
	cpu_set_rflags(c, f[F_GUEST_RFLAGS]);
	c->cpl = SEG_ATTR_DPL(c->seg[SEG_SS].attr);     /* SS.DPL is the CPL (27.3.2.2) */
	c->halted = f[F_GUEST_ACTIVITY_STATE] == ACTIVITY_HLT;
	c->intr_inhibit_until = (f[F_GUEST_INTERRUPTIBILITY] & 3) ? c->icount + 2 : 0;
	c->nmi_blocked = (f[F_GUEST_INTERRUPTIBILITY] & INTR_BLOCK_NMI) != 0;
	cpu_system_state_loaded(c);
	/* PAE paging: with EPT the PDPTEs come from the VMCS, else from CR3
	 * (27.3.2.4); the checks already refused reserved bits. */
	if ((c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !ia32e) {
		if (s->proc2 & PROC2_ENABLE_EPT)
			for (int n = 0; n < 4; n++)
				c->pdpte[n] = f[F_GUEST_PDPTE0 + n];
		else
			paging_load_pdptes(c, c->cr3);
	}
}

/* 27.6: the event in the VM-entry interruption-information field is
 * delivered through the guest's IDT as if it occurred right after entry. */
static void inject(struct cpu *c, struct vmx *s)
{
	uint32_t info = (uint32_t)s->f[F_ENTRY_INTR_INFO];
	if (!(info & INTR_INFO_VALID))
		return;
	s->f[F_ENTRY_INTR_INFO] = info & ~INTR_INFO_VALID;   /* cleared on every entry (27.6.x) */
	unsigned type = (info >> 8) & 7, vec = info & 0xff;
	c->halted = false;
	c->insn_rip = c->rip;
	if (type == 4 || type == 5 || type == 6)
		c->rip += s->f[F_ENTRY_INSN_LEN];    /* the pushed RIP follows the instruction */
	s->injecting = true;
	cpu_deliver_event(c, (int)vec, (int)type, (info & INTR_INFO_ERR_VALID) != 0,
			  (uint32_t)s->f[F_ENTRY_EXCEPTION_ERROR]);
	s->injecting = false;
	if (type == 2)
		c->nmi_blocked = true;
}

/* An entry that fails after the checks of 27.2: a VM exit with bit 31 of
 * the exit reason set, host state loaded, nothing of the guest saved. */
static void entry_fail_exit(struct cpu *c, struct vmx *s, uint32_t reason, uint64_t qual)
{
	s->ex = (struct vmx_exit){ .reason = reason | VMX_EXIT_REASON_ENTRY_FAIL, .qual = qual,
				   .section = "SDM 27.8" };
	s->guest = false;
	emit_entry(c, s, CPU_EV_VMENTRY_FAIL, c->insn_rip, c->cpl);
	vmx_world_switch(c);
}

void vmx_vmentry(struct cpu *c, struct vmx *s, bool launch)
{
	if (s->current == VMCS_NONE) {
		cpu_flags_update(c, FLAGS_ARITH, FLAG_CF);
		return;
	}
	if (launch && s->launched) {
		vmx_fail(c, s, VMXERR_VMLAUNCH_NOT_CLEAR);
		return;
	}
	if (!launch && !s->launched) {
		vmx_fail(c, s, VMXERR_VMRESUME_NOT_LAUNCHED);
		return;
	}
	uint64_t qual, rip = c->insn_rip;
	int cpl = c->cpl;
	const uint64_t *f = s->f;
	s->pin = (uint32_t)f[F_PIN_BASED_CONTROLS];
	s->proc = (uint32_t)f[F_PROC_BASED_CONTROLS];
	s->proc2 = s->proc & PROC_SECONDARY ? (uint32_t)f[F_PROC_BASED_CONTROLS2] : 0;
	s->exit_ctl = (uint32_t)f[F_EXIT_CONTROLS];
	s->entry_ctl = (uint32_t)f[F_ENTRY_CONTROLS];
	switch (vmx_check_entry(c, s, &qual)) {
	case VMXC_CONTROLS:
		vmx_fail(c, s, VMXERR_ENTRY_BAD_CONTROLS);
		emit_entry(c, s, CPU_EV_VMENTRY_FAIL, rip, cpl);
		return;
	case VMXC_HOST:
		vmx_fail(c, s, VMXERR_ENTRY_BAD_HOST_STATE);
		emit_entry(c, s, CPU_EV_VMENTRY_FAIL, rip, cpl);
		return;
	case VMXC_GUEST:
		entry_fail_exit(c, s, VMX_EXIT_ENTRY_FAIL_GUEST_STATE, qual);
		return;
	case VMXC_OK:
		break;
	}
	load_guest(c, s);
	if (f[F_ENTRY_MSR_LOAD_COUNT]) {
		s->rule = "VM-entry MSR-load lists are not modelled (docs/vmx-model.md)";
		s->section = "SDM 27.4";
		entry_fail_exit(c, s, VMX_EXIT_ENTRY_FAIL_MSR_LOADING, 1);
		return;
	}
	s->guest = true;
	if (launch)
		s->launched = true;
	s->f[F_VM_INSTRUCTION_ERROR] = 0;
	vmx_set_intercepts(c, s);
	emit_entry(c, s, CPU_EV_VMENTRY, rip, cpl);
	inject(c, s);
}
