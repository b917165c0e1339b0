/*
 * world.c - the world switch of AMD-V: VMRUN into the guest and #VMEXIT
 * back to the host (APM Vol. 2 15.5 "VMRUN Instruction", 15.6 "#VMEXIT"),
 * and VMLOAD/VMSAVE (15.5.2), which move the state VMRUN leaves alone.
 *
 *   VMRUN  (RAX = VMCB)                       #VMEXIT
 *   1. host state -> VM_HSAVE_PA              1. guest state -> VMCB, with EXITCODE,
 *      (ES CS SS DS GDTR IDTR EFER CR0 CR3       EXITINFO1/2, EXITINTINFO, NRIP, V_IRQ
 *       CR4 RFLAGS RIP RSP RAX)                  and V_TPR, interrupt shadow
 *   2. VMCB control area read and cached;     2. host state <- VM_HSAVE_PA; CPL 0,
 *      the consistency checks (check.c):         DR7 = 400h, GIF = 0, intercepts off
 *      a broken rule is EXITCODE -1 at once
 *   3. guest state <- VMCB (ES CS SS DS GDTR
 *      IDTR EFER CR4 CR3 CR0 CR2 DR6 DR7
 *      RFLAGS RIP RSP RAX CPL [G_PAT])
 *   4. GIF = 1, intercepts on, EVENTINJ
 *
 * Loading uses the commit half of the CPU's state code: VMRUN's checks are
 * its own (check.c), never MOV CR's.  The software TLB is flushed on every
 * switch, which satisfies every TLB_CONTROL value and keeps ASIDs apart
 * (flushing more than asked is always allowed, APM 15.16).
 */
#include <stdio.h>
#include <string.h>

#include "svm.h"

#include "arch.h"
#include "cr.h"
#include "dcache.h"
#include "mem.h"
#include "paging.h"
#include "virt.h"

/* Segment attributes: VMCB attrib bits 7:0 and 11:8 are descriptor bits
 * 47:40 and 55:52; struct cpu_segment keeps the latter in 15:12. */
void svm_seg_to_vmcb(const struct cpu_segment *s, struct svm_vmcb_seg *v)
{
	v->sel = s->sel;
	v->attrib = (uint16_t)((s->attr & 0xff) | ((s->attr >> 4) & 0xf00));
	v->limit = s->limit;
	v->base = s->base;
}

void svm_seg_from_vmcb(const struct svm_vmcb_seg *v, struct cpu_segment *s)
{
	s->sel = v->sel;
	s->attr = (uint16_t)((v->attrib & 0xff) | ((v->attrib & 0xf00) << 4));
	s->limit = v->limit;
	s->base = v->base;
}

static void dt_to_vmcb(const struct cpu_dtable *d, struct svm_vmcb_seg *v)
{
	memset(v, 0, sizeof *v);
	v->limit = d->limit;
	v->base = d->base;
}

static void dt_from_vmcb(const struct svm_vmcb_seg *v, struct cpu_dtable *d)
{
	d->limit = v->limit & 0xffff;
	d->base = v->base;
}

/* The state VMRUN and #VMEXIT both move (Table B-2 minus VMLOAD's part). */
static void save_common(struct cpu *c, struct svm_vmcb *v)
{
	svm_seg_to_vmcb(&c->seg[SEG_ES], &v->es);
	svm_seg_to_vmcb(&c->seg[SEG_CS], &v->cs);
	svm_seg_to_vmcb(&c->seg[SEG_SS], &v->ss);
	svm_seg_to_vmcb(&c->seg[SEG_DS], &v->ds);
	dt_to_vmcb(&c->gdtr, &v->gdtr);
	dt_to_vmcb(&c->idtr, &v->idtr);
	v->efer = c->efer;
	v->cr0 = c->cr0;
	v->cr3 = c->cr3;
	v->cr4 = c->cr4;
	v->rflags = cpu_get_rflags(c);
	v->rsp = c->gpr[R_RSP];
	v->rax = c->gpr[R_RAX];
}

/* Control registers and EFER without MOV CR's checks (check.c did VMRUN's;
 * a host save area is trusted as hardware trusts it).  EFER is loaded as
 * saved, LMA included (as QEMU does; the APM lists no LMA rule); PAE paging
 * outside long mode needs its PDPTE registers. */
static void load_control(struct cpu *c, uint64_t cr0, uint64_t cr3, uint64_t cr4,
			 uint64_t efer)
{
	c->cr0 = cr0;
	c->cr3 = cr3;
	c->cr4 = cr4;
	c->efer = efer;
	if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(c->efer & EFER_LMA))
		paging_load_pdptes(c, cr3);
}

static void load_common(struct cpu *c, const struct svm_vmcb *v, int cpl)
{
	load_control(c, v->cr0, v->cr3, v->cr4, v->efer);
	svm_seg_from_vmcb(&v->es, &c->seg[SEG_ES]);
	svm_seg_from_vmcb(&v->cs, &c->seg[SEG_CS]);
	svm_seg_from_vmcb(&v->ss, &c->seg[SEG_SS]);
	svm_seg_from_vmcb(&v->ds, &c->seg[SEG_DS]);
	dt_from_vmcb(&v->gdtr, &c->gdtr);
	dt_from_vmcb(&v->idtr, &c->idtr);
	cpu_set_rflags(c, v->rflags | FLAG_FIXED1);
	c->gpr[R_RSP] = v->rsp;
	c->gpr[R_RAX] = v->rax;
	c->cpl = cpl;
	cpu_system_state_loaded(c);       /* TLB flush, code size */
}

static void emit(struct cpu *c, enum cpu_event_kind kind, uint64_t rip, int cpl,
		 uint64_t code, uint64_t info1, uint64_t info2, const char *rule,
		 const char *section)
{
	struct cpu_event ev = {
		.kind = kind, .arch = CPU_ARCH_SVM, .vector = -1, .rip = rip, .cpl = cpl,
		.reason = code, .qual = info1, .info2 = info2,
		.name = kind == CPU_EV_VMENTRY ? "VMRUN" : svm_exit_name(code),
		.rule = rule, .section = section,
	};
	cpu_event_emit(c, &ev);
}

static _Noreturn void fatal(struct cpu *c, const char *what, uint64_t pa)
{
	snprintf(c->error, sizeof c->error, "svm: %s at %#llx is not in RAM", what,
		 (unsigned long long)pa);
	c->exc_vector = CPU_UNWIND_ERROR;
	longjmp(*c->unwind, 1);
}

static void write_vmcb(struct cpu *c, uint64_t pa, const struct svm_vmcb *v)
{
	if (cpu_phys_write(c, pa, v, sizeof *v))
		fatal(c, "the VMCB", pa);
}

/* A page-aligned VMCB or host save area in RAM, to be read and written in
 * place (no 4 KiB copies on the exit path); decoded code on that page is
 * dropped first, as any write to it would. */
static struct svm_vmcb *vmcb_at(struct cpu *c, uint64_t pa, const char *what)
{
	if ((pa & 0xfff) || pa >= c->ram_size || c->ram_size - pa < sizeof(struct svm_vmcb))
		fatal(c, what, pa);
	if (c->page_code[pa >> 12])
		dcache_invalidate_page(c, pa);
	return (struct svm_vmcb *)(void *)(c->ram + pa);
}

/* VMRUN refused the VMCB: EXITCODE -1, nothing of the guest loaded, the
 * host goes on after VMRUN with GIF = 0 as after any #VMEXIT. */
static void vmrun_invalid(struct cpu *c, struct svm_vmcb *v, uint64_t pa,
			  const struct svm_check_fail *f)
{
	struct svm_state *s = svm_of(c);
	v->exitcode = SVM_EXIT_INVALID;
	v->exitinfo1 = v->exitinfo2 = 0;
	write_vmcb(c, pa, v);
	svm_set_gif(c, false);
	s->fail_rule = f->rule;
	s->fail_section = f->section;
	c->icpt = svm_icpt_mask(s);
	emit(c, CPU_EV_VMENTRY_FAIL, c->insn_rip, c->cpl, SVM_EXIT_INVALID, 0, 0,
	     f->rule, f->section);
}

static void load_guest(struct cpu *c, const struct svm_vmcb *v)
{
	struct svm_state *s = svm_of(c);
	/* CPL from the VMCB, but 0 in real mode and 3 in virtual-8086 mode
	 * (APM 15.5.1, "the VMRUN instruction ... CPL"). */
	int cpl = !(v->cr0 & CR0_PE) ? 0 : (v->rflags & FLAG_VM) ? 3 : v->cpl & 3;
	load_common(c, v, cpl);
	c->cr2 = v->cr2;
	c->dr[6] = v->dr6;
	c->dr[7] = v->dr7;
	c->rip = v->rip;
	if (s->npt)
		c->msr.pat = v->g_pat;
	c->virt_tsc_offset = v->tsc_offset;
	if (v->vintr & SVM_VINTR_MASKING)
		c->cr8 = v->vintr & 0xf;
	c->intr_inhibit_until = (v->interrupt_shadow & SVM_INT_SHADOW) ? c->icount + 1 : 0;
}

void svm_vmrun(struct cpu *c, uint64_t pa)
{
	struct svm_state *s = svm_of(c);
	struct svm_vmcb v;
	struct svm_check_fail f;
	uint64_t host_rip = c->insn_rip;
	int host_cpl = c->cpl;
	/* A copy: the host save area may (wrongly) be the same page. */
	if (cpu_phys_read(c, pa, &v, sizeof v))
		fatal(c, "the VMCB", pa);
	/* 1. The host: VMRUN's next instruction is where #VMEXIT returns. */
	struct svm_vmcb *h = vmcb_at(c, s->hsave_pa, "the host save area (VM_HSAVE_PA)");
	save_common(c, h);
	h->rip = c->rip;
	h->g_pat = c->msr.pat;
	h->vintr = c->cr8;               /* our layout: the host's TPR in V_TPR */
	/* 2. The checks, on the VMCB as read. */
	if (!svm_vmrun_checks(c, &v, &f)) {
		vmrun_invalid(c, &v, pa, &f);
		return;
	}
	/* 3. The guest. */
	s->vmcb_pa = pa;
	memcpy(&s->vmcb, &v, offsetof(struct svm_vmcb, es));
	s->npt = (v.np_enable & SVM_NP_ENABLE) && (s->features & SVM_FEAT_NP);
	s->host_nxe = (c->efer & EFER_NXE) != 0;
	s->host_if = (c->rflags & FLAG_IF) != 0;
	s->guest = true;
	svm_set_gif(c, true);
	s->nvmruns++;
	load_guest(c, &v);
	c->icpt = svm_icpt_mask(s);
	emit(c, CPU_EV_VMENTRY, host_rip, host_cpl, 0, 0, 0, NULL, "APM 15.5");
	/* 4. An event to inject goes through the guest's IDT now, before its
	 * first instruction (APM 15.20). */
	if (v.eventinj & SVM_EVT_V)
		svm_inject_event(c, v.eventinj);
}

/* EXITINTINFO: the event the CPU was delivering when the exit came, in
 * EVENTINJ's format (APM 15.7.2). */
static uint64_t exitintinfo(const struct cpu_delivery *d)
{
	if (!d->active)
		return 0;
	/* INT n is a software interrupt; INT3, INTO and INT1 are exceptions. */
	unsigned type = d->type == 0 ? SVM_EVT_TYPE_INTR : d->type == 2 ? SVM_EVT_TYPE_NMI :
			d->type == EXC_TYPE_SOFT_INT ? SVM_EVT_TYPE_SOFT : SVM_EVT_TYPE_EXCP;
	uint64_t e = (uint64_t)(d->vector & 0xff) | (uint64_t)type << SVM_EVT_TYPE_SHIFT | SVM_EVT_V;
	if (d->has_err)
		e |= SVM_EVT_EV | (uint64_t)d->err << SVM_EVT_ERR_SHIFT;
	return e;
}

/* Decode assists for NPF and #PF intercepts (APM 15.33.2): up to 15 bytes
 * of the guest's instruction at CS:RIP, as far as they can be fetched
 * (guest paging and nested paging looked up without side effects). */
static void fetch_insn_bytes(struct cpu *c, struct svm_state *s)
{
	uint64_t lin = c->seg[SEG_CS].base + s->exit_rip;
	s->insn_len = 0;
	for (unsigned k = 0; k < 15; k++, lin++) {
		uint64_t pa = lin;
		if (c->cr0 & CR0_PG) {
			struct pg_walk w;
			if (!paging_walk(c, lin, ACC_EXEC, c->cpl == 3, true, &w))
				return;
			pa = w.pa;
		}
		if (s->npt) {
			struct svm_npt_result r;
			svm_npt_walk(c, s->vmcb.n_cr3, s->host_nxe, pa, VIRT_GPA_EXEC, true, &r);
			if (!r.ok)
				return;
			pa = r.hpa;
		}
		if (pa >= c->ram_size)
			return;
		s->insn_bytes[k] = c->ram[pa];
		s->insn_len = (uint8_t)(k + 1);
	}
}

_Noreturn void svm_exit(struct cpu *c, uint64_t code, uint64_t info1, uint64_t info2,
			bool nrip)
{
	struct svm_state *s = svm_of(c);
	s->exitcode = code;
	s->exitinfo1 = info1;
	s->exitinfo2 = info2;
	s->has_next_rip = nrip && (s->features & SVM_FEAT_NRIPS);
	s->next_rip = c->rip;     /* the handler's view: RIP is the next instruction */
	/* Inside an event delivery RIP is still the interrupted code's; inside
	 * an instruction the guest RIP is the instruction's own (exits are
	 * fault-like, APM 15.7.1).  An exception intercept reports the event
	 * whose delivery raised the exception; any other exit the event being
	 * delivered (APM 15.7.2). */
	s->exit_rip = c->deliv.active ? c->rip : c->insn_rip;
	bool excp = code >= SVM_EXIT_EXCP(0) && code <= SVM_EXIT_EXCP(31);
	s->exitintinfo = exitintinfo(excp ? &c->deliv_outer : &c->deliv);
	s->insn_len = 0;
	if ((code == SVM_EXIT_NPF || code == SVM_EXIT_EXCP(VEC_PF)) &&
	    (s->features & SVM_FEAT_DECODEASSIST))
		fetch_insn_bytes(c, s);
	virt_exit(c);
}


static void save_guest(struct cpu *c, struct svm_vmcb *v)
{
	struct svm_state *s = svm_of(c);
	save_common(c, v);
	v->cpl = (uint8_t)c->cpl;
	v->cr2 = c->cr2;
	v->dr6 = c->dr[6];
	v->dr7 = c->dr[7];
	v->rip = s->exit_rip;
	if (s->npt)
		v->g_pat = c->msr.pat;
	uint64_t vintr = s->vmcb.vintr;
	if (vintr & SVM_VINTR_MASKING)
		vintr = (vintr & ~SVM_VINTR_TPR_MASK) | (c->cr8 & 0xf);
	v->vintr = vintr;
	v->interrupt_shadow = (c->intr_inhibit_until > c->icount ? SVM_INT_SHADOW : 0) |
			      (c->rflags & FLAG_IF ? SVM_GUEST_INT_MASK : 0);
	v->exitcode = s->exitcode;
	v->exitinfo1 = s->exitinfo1;
	v->exitinfo2 = s->exitinfo2;
	v->exitintinfo = s->exitintinfo;
	v->eventinj &= ~SVM_EVT_V;          /* the injection was taken (APM 15.20) */
	v->next_rip = s->has_next_rip ? s->next_rip : 0;
	v->insn_len = s->insn_len;
	memcpy(v->insn_bytes, s->insn_bytes, sizeof v->insn_bytes);
}

static void load_host(struct cpu *c)
{
	struct svm_state *s = svm_of(c);
	struct svm_vmcb *h = vmcb_at(c, s->hsave_pa, "the host save area (VM_HSAVE_PA)");
	/* APM 15.6: CR0.PE = 1, CPL 0, DR7 "all breakpoints disabled",
	 * RFLAGS.TF... as saved; GIF = 0 and no intercepts. */
	h->cr0 |= CR0_PE;
	load_common(c, h, 0);
	c->rip = h->rip;
	c->dr[7] = 0x400;
	c->msr.pat = h->g_pat;
	c->cr8 = h->vintr & 0xf;
	c->virt_tsc_offset = 0;
	c->intr_inhibit_until = 0;
}

void svm_world_switch(struct cpu *c)
{
	struct svm_state *s = svm_of(c);
	uint64_t guest_rip = s->exit_rip;
	int guest_cpl = c->cpl;
	struct svm_vmcb *vp = vmcb_at(c, s->vmcb_pa, "the VMCB");
	save_guest(c, vp);
	s->guest = false;
	s->injecting = false;
	svm_set_gif(c, false);
	s->nvmexits++;
	load_host(c);
	c->icpt = svm_icpt_mask(s);
	emit(c, CPU_EV_VMEXIT, guest_rip, guest_cpl, s->exitcode, s->exitinfo1, s->exitinfo2,
	     s->exit_rule, s->exit_section ? s->exit_section : "APM 15.6");
	s->exit_rule = s->exit_section = NULL;
}

/* ---- VMLOAD and VMSAVE (APM 15.5.2): FS GS TR LDTR with their hidden
 * parts, KernelGsBase, STAR LSTAR CSTAR SFMASK, SYSENTER CS/ESP/EIP ------ */

void svm_vmload(struct cpu *c, uint64_t pa)
{
	const struct svm_vmcb *v = vmcb_at(c, pa, "the VMCB of VMLOAD");
	svm_seg_from_vmcb(&v->fs, &c->seg[SEG_FS]);
	svm_seg_from_vmcb(&v->gs, &c->seg[SEG_GS]);
	svm_seg_from_vmcb(&v->tr, &c->tr);
	svm_seg_from_vmcb(&v->ldtr, &c->ldtr);
	c->msr.kernel_gs_base = v->kernel_gs_base;
	c->msr.star = v->star;
	c->msr.lstar = v->lstar;
	c->msr.cstar = v->cstar;
	c->msr.sfmask = v->sfmask;
	c->msr.sysenter_cs = v->sysenter_cs;
	c->msr.sysenter_esp = v->sysenter_esp;
	c->msr.sysenter_eip = v->sysenter_eip;
}

void svm_vmsave(struct cpu *c, uint64_t pa)
{
	struct svm_vmcb *v = vmcb_at(c, pa, "the VMCB of VMSAVE");
	svm_seg_to_vmcb(&c->seg[SEG_FS], &v->fs);
	svm_seg_to_vmcb(&c->seg[SEG_GS], &v->gs);
	svm_seg_to_vmcb(&c->tr, &v->tr);
	svm_seg_to_vmcb(&c->ldtr, &v->ldtr);
	v->kernel_gs_base = c->msr.kernel_gs_base;
	v->star = c->msr.star;
	v->lstar = c->msr.lstar;
	v->cstar = c->msr.cstar;
	v->sfmask = c->msr.sfmask;
	v->sysenter_cs = c->msr.sysenter_cs;
	v->sysenter_esp = c->msr.sysenter_esp;
	v->sysenter_eip = c->msr.sysenter_eip;
}
