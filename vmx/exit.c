/*
 * exit.c - VMX non-root operation (SDM Vol. 3C chapter 26) and VM exits
 * (chapter 28).
 *
 * At VM entry vmx_set_intercepts() turns the controls into c->icpt, so an
 * instruction the controls do not touch costs one test (cpu/virt.h).  When
 * a hook fires, vmx_intercept() applies the rule of 26.1 - 26.2 (bitmaps,
 * masks, shadows, CR3 targets ...) and either returns or records the exit
 * (vmx_exit_now: reason, qualification, guest RIP, interruptibility,
 * IDT-vectoring information) and unwinds.  After the unwind the run loop
 * calls vmx_world_switch(): save the guest (28.3), write the exit
 * information (28.2), load the host (28.5).  The VM-exit MSR-store and
 * MSR-load lists are not processed (docs/vmx-model.md).
 */
#include "arch.h"
#include "cr.h"
#include "flags.h"
#include "mem.h"
#include "paging.h"
#include "vmx.h"

const char *vmx_exit_name(uint32_t reason)
{
	switch (reason & 0xffff) {
#define X(n, name) case n: return #name;
	VMX_EXIT_REASONS(X)
#undef X
	}
	return "?";
}

/* Which SDM section explains an exit (for the event log and the UI). */
static const char *exit_section(uint32_t reason)
{
	switch (reason) {
	case VMX_EXIT_EXCEPTION_NMI: case VMX_EXIT_EXTERNAL_INTERRUPT: case VMX_EXIT_TRIPLE_FAULT:
	case VMX_EXIT_INTERRUPT_WINDOW: case VMX_EXIT_PREEMPTION_TIMER: case VMX_EXIT_MONITOR_TRAP_FLAG:
		return "SDM 26.2";
	case VMX_EXIT_EPT_VIOLATION: case VMX_EXIT_EPT_MISCONFIG:
		return "SDM 29.3.3";
	case VMX_EXIT_CPUID: case VMX_EXIT_INVD: case VMX_EXIT_VMCALL: case VMX_EXIT_VMCLEAR:
	case VMX_EXIT_VMLAUNCH: case VMX_EXIT_VMPTRLD: case VMX_EXIT_VMPTRST: case VMX_EXIT_VMREAD:
	case VMX_EXIT_VMRESUME: case VMX_EXIT_VMWRITE: case VMX_EXIT_VMXOFF: case VMX_EXIT_VMXON:
	case VMX_EXIT_INVEPT: case VMX_EXIT_INVVPID:
		return "SDM 26.1.2";
	default:
		return "SDM 26.1.3";
	}
}

void vmx_set_intercepts(struct cpu *c, struct vmx *s)
{
	uint64_t m = ICPT(CPUID) | ICPT(INVD) | ICPT(EXCEPTION) | ICPT(SHUTDOWN) | ICPT(POLL) |
		     ICPT(IO) | ICPT(RDMSR) | ICPT(WRMSR) | ICPT(CR_READ) | ICPT(CR_WRITE) |
		     ICPT(CR_SHADOW) | ICPT(CLTS) | ICPT(LMSW) | ICPT(RDTSCP) | ICPT(TASKSW);
	if (s->proc & PROC_HLT_EXITING) m |= ICPT(HLT);
	if (s->proc & PROC_INVLPG_EXITING) m |= ICPT(INVLPG);
	if (s->proc & PROC_RDPMC_EXITING) m |= ICPT(RDPMC);
	if (s->proc & PROC_RDTSC_EXITING) m |= ICPT(RDTSC);
	if (s->proc & PROC_MOV_DR_EXITING) m |= ICPT(DR);
	if (s->proc & PROC_PAUSE_EXITING) m |= ICPT(PAUSE);
	if (s->proc2 & PROC2_WBINVD_EXITING) m |= ICPT(WBINVD);
	if (s->proc2 & PROC2_DESC_EXITING) m |= ICPT(DESC);
	if (s->proc2 & PROC2_ENABLE_EPT) m |= ICPT(GPA);
	c->icpt = m;
	c->virt_tsc_offset = (s->proc & PROC_TSC_OFFSETTING) ? s->f[F_TSC_OFFSET] : 0;
	/* The guest-owned CR0 bits must still meet the fixed bits; PE and PG
	 * are free with unrestricted guest (26.3.1.1, 25.8). */
	c->cr0_locked1 = CR0_NE | ((s->proc2 & PROC2_UNRESTRICTED) ? 0 : CR0_PE | CR0_PG);
	c->cr4_locked1 = CR4_VMXE;
	s->timer_at = (s->pin & PIN_PREEMPTION_TIMER) ? c->icount + 1 + (uint32_t)s->f[F_GUEST_PREEMPTION_TIMER]
						      : ~0ull;
	s->mtf_at = (s->proc & PROC_MTF) ? c->icount + 2 : ~0ull;
	c->virt_deadline = s->timer_at < s->mtf_at ? s->timer_at : s->mtf_at;
}

static uint32_t intr_info_of(const struct cpu_delivery *d)
{
	return (uint32_t)d->vector | (uint32_t)d->type << 8 | (d->has_err ? INTR_INFO_ERR_VALID : 0) |
	       INTR_INFO_VALID;
}

/* Record an exit where it arises and unwind (cpu/virt.h).  in_insn: an
 * instruction is executing (fault-like: the guest RIP is its start). */
_Noreturn void vmx_exit_now(struct cpu *c, uint32_t reason, uint64_t qual, bool in_insn)
{
	struct vmx *s = vmx_of(c);
	struct vmx_exit *e = &s->ex;
	uint64_t gpa = e->gpa, gla = e->gla;
	uint32_t ii = e->intr_info, ie = e->intr_err, idt = e->idt_info, idte = e->idt_err;
	uint32_t iinfo = e->insn_info;
	*e = (struct vmx_exit){ .reason = reason, .qual = qual, .gpa = gpa, .gla = gla,
				.intr_info = ii, .intr_err = ie, .idt_info = idt, .idt_err = idte,
				.insn_info = iinfo, .section = exit_section(reason) };
	const struct cpu_delivery *d = &c->deliv;
	bool soft = d->type == EXC_TYPE_SOFT_INT || d->type == EXC_TYPE_PRIV_SOFT || d->type == EXC_TYPE_SOFT;
	if (d->active) {
		e->guest_rip = soft ? c->insn_rip : c->rip;
		e->insn_len = soft ? (uint32_t)(c->rip - c->insn_rip) : 0;
		if (!idt) {        /* an exit in the middle of delivering d (27.2.4) */
			e->idt_info = intr_info_of(d);
			e->idt_err = d->err;
		}
	} else if (in_insn) {
		e->guest_rip = c->insn_rip;
		e->insn_len = (uint32_t)(c->rip - c->insn_rip);
	} else {
		e->guest_rip = c->rip;
	}
	e->interruptibility = (c->intr_inhibit_until > c->icount ? INTR_BLOCK_STI : 0) |
			      (c->nmi_blocked ? INTR_BLOCK_NMI : 0);
	virt_exit(c);
}

static void clear_pending(struct vmx *s)
{
	s->ex.gpa = s->ex.gla = 0;
	s->ex.intr_info = s->ex.intr_err = s->ex.idt_info = s->ex.idt_err = s->ex.insn_info = 0;
}

/* ---- control registers (26.1.3, Table 28-3 qualification) ---------------------- */

uint64_t vmx_cr_read(struct cpu *c, int cr, uint64_t v)
{
	struct vmx *s = vmx_of(c);
	uint64_t mask = s->f[cr == 0 ? F_CR0_GUEST_HOST_MASK : F_CR4_GUEST_HOST_MASK];
	uint64_t shadow = s->f[cr == 0 ? F_CR0_READ_SHADOW : F_CR4_READ_SHADOW];
	return (v & ~mask) | (shadow & mask);
}

static _Noreturn void cr_exit(struct cpu *c, unsigned cr, unsigned type, unsigned gpr, uint64_t extra)
{
	clear_pending(vmx_of(c));
	vmx_exit_now(c, VMX_EXIT_CR_ACCESS, cr | type << 4 | gpr << 8 | extra, true);
}

uint64_t vmx_cr_write(struct cpu *c, const struct insn *i, int cr, uint64_t v)
{
	struct vmx *s = vmx_of(c);
	if (cr == 0 || cr == 4) {
		uint64_t mask = s->f[cr == 0 ? F_CR0_GUEST_HOST_MASK : F_CR4_GUEST_HOST_MASK];
		uint64_t shadow = s->f[cr == 0 ? F_CR0_READ_SHADOW : F_CR4_READ_SHADOW];
		if (i && ((v ^ shadow) & mask))
			cr_exit(c, (unsigned)cr, 0, i->rm, 0);
		uint64_t cur = cr == 0 ? c->cr0 : c->cr4;
		return (v & ~mask) | (cur & mask);   /* host-owned bits keep their value */
	}
	if (cr == 3 && (s->proc & PROC_CR3_LOAD_EXITING)) {
		uint64_t n = s->f[F_CR3_TARGET_COUNT];
		for (uint64_t k = 0; k < n && k < 4; k++)
			if (s->f[F_CR3_TARGET0 + k] == v)
				return v;
		cr_exit(c, 3, 0, i->rm, 0);
	}
	if (cr == 8 && (s->proc & PROC_CR8_LOAD_EXITING))
		cr_exit(c, 8, 0, i->rm, 0);
	return v;
}

static void cr_read_exit(struct cpu *c, struct vmx *s, const struct insn *i, unsigned cr)
{
	if ((cr == 3 && (s->proc & PROC_CR3_STORE_EXITING)) || (cr == 8 && (s->proc & PROC_CR8_STORE_EXITING)))
		cr_exit(c, cr, 1, i->rm, 0);
}

static void clts_exit(struct cpu *c, struct vmx *s)
{
	if (s->f[F_CR0_GUEST_HOST_MASK] & s->f[F_CR0_READ_SHADOW] & CR0_TS)
		cr_exit(c, 0, 2, 0, 0);
}

static void lmsw_exit(struct cpu *c, struct vmx *s, const struct insn *i, uint64_t src)
{
	uint64_t mask = s->f[F_CR0_GUEST_HOST_MASK], shadow = s->f[F_CR0_READ_SHADOW];
	bool pe = (mask & CR0_PE) && !(shadow & CR0_PE) && (src & CR0_PE);
	if (pe || (mask & 0xe & (src ^ shadow))) {
		if (i->flags & I_MEM)
			s->ex.gla = insn_lin(c, i);
		vmx_exit_now(c, VMX_EXIT_CR_ACCESS,
			     0 | 3u << 4 | ((i->flags & I_MEM) ? 1u << 6 : 0) | (src & 0xffff) << 16, true);
	}
}

/* ---- I/O and MSRs (26.1.3, 25.6.4, 25.6.9) ----------------------------------------- */

static bool bitmap_bit(struct cpu *c, uint64_t base, uint32_t bit)
{
	uint8_t b = 0xff;
	cpu_phys_read(c, base + bit / 8, &b, 1);
	return (b >> (bit % 8)) & 1;
}

static void io_exit(struct cpu *c, struct vmx *s, const struct virt_io *io)
{
	bool exits;
	if (s->proc & PROC_USE_IO_BITMAPS) {
		exits = false;
		for (unsigned k = 0; k < io->size; k++) {
			uint32_t p = (uint32_t)io->port + k;
			if (p > 0xffff) {
				exits = true;     /* wraps around: exits (26.1.3) */
				break;
			}
			exits |= bitmap_bit(c, p < 0x8000 ? s->f[F_IO_BITMAP_A] : s->f[F_IO_BITMAP_B], p & 0x7fff);
		}
	} else {
		exits = (s->proc & PROC_UNCOND_IO_EXITING) != 0;
	}
	if (!exits)
		return;
	clear_pending(s);
	if (io->string) {
		s->ex.gla = io->lin;
		s->ex.insn_info = 0;
	}
	/* Table 28-5: size - 1, direction (1 = IN), string, REP, immediate, port. */
	uint64_t q = (uint64_t)(io->size - 1) | (io->in ? 8u : 0) | (io->string ? 16u : 0) |
		     (io->rep ? 32u : 0) | (io->imm ? 64u : 0) | (uint64_t)io->port << 16;
	vmx_exit_now(c, VMX_EXIT_IO_INSTRUCTION, q, true);
}

static void msr_exit(struct cpu *c, struct vmx *s, uint32_t msr, bool write)
{
	bool exits = true;
	if (s->proc & PROC_USE_MSR_BITMAPS) {
		uint64_t base = s->f[F_MSR_BITMAP] + (write ? 0x800 : 0);
		if (msr <= 0x1fff)
			exits = bitmap_bit(c, base, msr);
		else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
			exits = bitmap_bit(c, base + 0x400, msr - 0xc0000000u);
	}
	if (exits) {
		clear_pending(s);
		vmx_exit_now(c, write ? VMX_EXIT_WRMSR : VMX_EXIT_RDMSR, 0, true);
	}
}

/* ---- events: the exception bitmap (26.2), and between instructions ----------------- */

static void exception_exit(struct cpu *c, struct vmx *s)
{
	const struct cpu_delivery *d = &c->deliv;
	if (s->injecting && !c->deliv_outer.active)
		return;                  /* the injected event itself: no bitmap (27.6.1) */
	if (d->type == 0 || d->type == EXC_TYPE_SOFT_INT)
		return;                  /* external interrupts (not exiting), INT n */
	if (d->type == 2 && !(s->pin & PIN_NMI_EXITING))
		return;
	bool exits = d->type == 2 || ((s->f[F_EXCEPTION_BITMAP] >> (d->vector & 31)) & 1);
	if (d->vector == VEC_PF && d->type == EXC_TYPE_HW) {
		bool match = (d->err & s->f[F_PF_ERROR_MASK]) == (s->f[F_PF_ERROR_MATCH] & 0xffffffff);
		exits = match ? exits : !exits;
	}
	if (!exits)
		return;
	clear_pending(s);
	s->ex.intr_info = intr_info_of(d);
	s->ex.intr_err = d->err;
	if (c->deliv_outer.active) {
		s->ex.idt_info = intr_info_of(&c->deliv_outer);
		s->ex.idt_err = c->deliv_outer.err;
	} else {
		s->ex.idt_info = ~0u;    /* none: not "during delivery of" itself */
	}
	uint64_t q = d->vector == VEC_PF ? c->cr2 : 0;
	vmx_exit_now(c, VMX_EXIT_EXCEPTION_NMI, q, false);
}

/* Between instructions (26.2, 26.7 order): MTF, preemption timer, NMI,
 * interrupt window, external interrupt. */
static void poll(struct cpu *c, struct vmx *s)
{
	uint64_t now = c->icount;
	bool blocked = c->intr_inhibit_until > now;
	clear_pending(s);
	if (now >= s->mtf_at)
		vmx_exit_now(c, VMX_EXIT_MONITOR_TRAP_FLAG, 0, false);
	if (now >= s->timer_at)
		vmx_exit_now(c, VMX_EXIT_PREEMPTION_TIMER, 0, false);
	if (c->nmi_pending && (s->pin & PIN_NMI_EXITING) && !blocked) {
		c->nmi_pending = false;
		s->ex.intr_info = VEC_NMI | INTR_TYPE_NMI | INTR_INFO_VALID;
		vmx_exit_now(c, VMX_EXIT_EXCEPTION_NMI, 0, false);
	}
	if ((s->proc & PROC_INTR_WINDOW) && (c->rflags & FLAG_IF) && !blocked)
		vmx_exit_now(c, VMX_EXIT_INTERRUPT_WINDOW, 0, false);
	if ((s->pin & PIN_EXTINT_EXITING) && !blocked && c->intr_pending && c->intr_pending(c)) {
		if (s->exit_ctl & EXIT_ACK_INTERRUPT) {
			int v = c->intr_ack(c);
			if (v >= 0)
				s->ex.intr_info = (uint32_t)v | INTR_TYPE_EXT | INTR_INFO_VALID;
		}
		vmx_exit_now(c, VMX_EXIT_EXTERNAL_INTERRUPT, 0, false);
	}
}

void vmx_intercept(struct cpu *c, enum virt_event e, const struct insn *i, uint64_t info)
{
	struct vmx *s = vmx_of(c);
	uint32_t reason;
	uint64_t q = 0;
	switch (e) {
	case VIRT_POLL: poll(c, s); return;
	case VIRT_EXCEPTION: exception_exit(c, s); return;
	case VIRT_IO: io_exit(c, s, (const struct virt_io *)(uintptr_t)info); return;
	case VIRT_RDMSR: msr_exit(c, s, (uint32_t)info, false); return;
	case VIRT_WRMSR: msr_exit(c, s, (uint32_t)info, true); return;
	case VIRT_CR_READ: cr_read_exit(c, s, i, (unsigned)info); return;
	case VIRT_CLTS: clts_exit(c, s); return;
	case VIRT_LMSW: lmsw_exit(c, s, i, info); return;
	case VIRT_CPUID: reason = VMX_EXIT_CPUID; break;
	case VIRT_INVD: reason = VMX_EXIT_INVD; break;
	case VIRT_HLT: reason = VMX_EXIT_HLT; break;
	case VIRT_INVLPG: reason = VMX_EXIT_INVLPG; q = info; break;
	case VIRT_RDPMC: reason = VMX_EXIT_RDPMC; break;
	case VIRT_RDTSC: reason = VMX_EXIT_RDTSC; break;
	case VIRT_RDTSCP:
		if (!(s->proc2 & PROC2_ENABLE_RDTSCP))
			cpu_ud(c);           /* 26.3: RDTSCP needs enable RDTSCP */
		if (!(s->proc & PROC_RDTSC_EXITING))
			return;
		reason = VMX_EXIT_RDTSCP;
		break;
	case VIRT_DR:            /* Table 28-4: DR, direction (1 = MOV from DR), GPR */
		reason = VMX_EXIT_DR_ACCESS;
		q = (info & 7) | ((info & 0x10) ? 0 : 1u << 4) | (uint64_t)i->rm << 8;
		break;
	case VIRT_PAUSE: reason = VMX_EXIT_PAUSE; break;
	case VIRT_WBINVD: reason = VMX_EXIT_WBINVD; break;
	case VIRT_DESC:
		reason = info <= VIRT_D_LIDT ? VMX_EXIT_GDTR_IDTR_ACCESS : VMX_EXIT_LDTR_TR_ACCESS;
		clear_pending(s);
		s->ex.insn_info = (uint32_t)(info & 3) << 28;    /* instruction identity */
		vmx_exit_now(c, reason, i && (i->flags & I_MEM) ? (uint64_t)(int64_t)i->disp : 0, true);
	case VIRT_SHUTDOWN: reason = VMX_EXIT_TRIPLE_FAULT; break;
	case VIRT_TASKSW: reason = VMX_EXIT_TASK_SWITCH; break;
	default:
		return;
	}
	clear_pending(s);
	vmx_exit_now(c, reason, q, true);
}

/* ---- the world switch (28.3, 28.5) ---------------------------------------------------- */

/* The CPU keeps the expanded limit; G is saved consistent with it, as the
 * checks of the next entry demand (27.3.1.2: a 32-bit-limit segment that
 * an interrupt loaded, e.g. the null SS of a 64-bit stack switch, has G). */
static uint32_t seg_ar(const struct cpu_segment *g)
{
	uint32_t a = g->attr;
	if (g->limit > 0xfffff)
		a |= SEG_ATTR_G;
	else if ((g->limit & 0xfff) != 0xfff)
		a &= ~(uint32_t)SEG_ATTR_G;
	return (a & SEG_ATTR_P) ? a : (a | VMX_AR_UNUSABLE);
}

static void save_seg(uint64_t *f, int k, const struct cpu_segment *g)
{
	f[F_GUEST_ES_SEL + k] = g->sel;
	f[F_GUEST_ES_BASE + k] = g->base;
	f[F_GUEST_ES_LIMIT + k] = g->limit;
	f[F_GUEST_ES_AR + k] = seg_ar(g);
}

static void save_guest(struct cpu *c, struct vmx *s)
{
	uint64_t *f = s->f;
	for (int k = 0; k < 6; k++)
		save_seg(f, k, &c->seg[k]);
	save_seg(f, F_GUEST_LDTR_SEL - F_GUEST_ES_SEL, &c->ldtr);
	save_seg(f, F_GUEST_TR_SEL - F_GUEST_ES_SEL, &c->tr);
	f[F_GUEST_GDTR_BASE] = c->gdtr.base;
	f[F_GUEST_GDTR_LIMIT] = c->gdtr.limit;
	f[F_GUEST_IDTR_BASE] = c->idtr.base;
	f[F_GUEST_IDTR_LIMIT] = c->idtr.limit;
	f[F_GUEST_CR0] = c->cr0;
	f[F_GUEST_CR3] = c->cr3;
	f[F_GUEST_CR4] = c->cr4;
	f[F_GUEST_DR7] = c->dr[7];
	f[F_GUEST_RSP] = c->gpr[R_RSP];
	f[F_GUEST_RIP] = s->ex.guest_rip;
	f[F_GUEST_RFLAGS] = cpu_get_rflags(c);
	f[F_GUEST_SYSENTER_CS] = c->msr.sysenter_cs & 0xffffffff;
	f[F_GUEST_SYSENTER_ESP] = c->msr.sysenter_esp;
	f[F_GUEST_SYSENTER_EIP] = c->msr.sysenter_eip;
	f[F_GUEST_PENDING_DBG] = 0;
	f[F_GUEST_INTERRUPTIBILITY] = s->ex.interruptibility;
	f[F_GUEST_ACTIVITY_STATE] = c->halted ? ACTIVITY_HLT : ACTIVITY_ACTIVE;
	if (s->exit_ctl & EXIT_SAVE_EFER)
		f[F_GUEST_IA32_EFER] = c->efer;
	if (s->exit_ctl & EXIT_SAVE_PAT)
		f[F_GUEST_IA32_PAT] = c->msr.pat;
	if (s->exit_ctl & EXIT_SAVE_TIMER)
		f[F_GUEST_PREEMPTION_TIMER] = s->timer_at > c->icount ? (uint32_t)(s->timer_at - c->icount) : 0;
	/* IA-32e mode guest := EFER.LMA (VMX_MISC bit 5, 28.2). */
	f[F_ENTRY_CONTROLS] = (f[F_ENTRY_CONTROLS] & ~(uint64_t)ENTRY_IA32E_GUEST) |
			      ((c->efer & EFER_LMA) ? ENTRY_IA32E_GUEST : 0);
	if ((s->proc2 & PROC2_ENABLE_EPT) && (c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !(c->efer & EFER_LMA))
		for (int n = 0; n < 4; n++)
			f[F_GUEST_PDPTE0 + n] = c->pdpte[n];
}

static void write_exit_info(struct vmx *s)
{
	uint64_t *f = s->f;
	const struct vmx_exit *e = &s->ex;
	f[F_EXIT_REASON] = e->reason;
	f[F_EXIT_QUALIFICATION] = e->qual;
	f[F_GUEST_LINEAR_ADDRESS] = e->gla;
	f[F_GUEST_PHYSICAL_ADDRESS] = e->gpa;
	f[F_EXIT_INTR_INFO] = e->intr_info;
	f[F_EXIT_INTR_ERROR] = e->intr_err;
	f[F_IDT_VECTORING_INFO] = e->idt_info == ~0u ? 0 : e->idt_info;
	f[F_IDT_VECTORING_ERROR] = e->idt_err;
	f[F_EXIT_INSN_LEN] = e->insn_len;
	f[F_EXIT_INSN_INFO] = e->insn_info;
}

static void host_seg(struct cpu_segment *d, uint64_t sel, uint64_t base, bool usable)
{
	d->sel = (uint16_t)sel;
	d->base = base;
	d->limit = 0xffffffff;
	d->attr = 0x93 | SEG_ATTR_DB | SEG_ATTR_G;
	if (!usable)
		d->attr &= (uint16_t)~SEG_ATTR_P;
}

static void load_host(struct cpu *c, struct vmx *s)
{
	const uint64_t *f = s->f;
	bool h64 = (s->exit_ctl & EXIT_HOST_64BIT) != 0;
	c->cr0 = (f[F_HOST_CR0] & CR0_DEFINED) | CR0_ET;
	c->cr3 = f[F_HOST_CR3];
	c->cr4 = f[F_HOST_CR4];
	c->dr[7] = 0x400;
	c->msr.sysenter_cs = (uint32_t)f[F_HOST_SYSENTER_CS];
	c->msr.sysenter_esp = f[F_HOST_SYSENTER_ESP];
	c->msr.sysenter_eip = f[F_HOST_SYSENTER_EIP];
	if (s->exit_ctl & EXIT_LOAD_EFER)
		c->efer = f[F_HOST_IA32_EFER];
	c->efer = h64 ? c->efer | EFER_LMA | EFER_LME : c->efer & ~(EFER_LMA | EFER_LME);
	if (s->exit_ctl & EXIT_LOAD_PAT)
		c->msr.pat = f[F_HOST_IA32_PAT];
	struct cpu_segment *cs = &c->seg[SEG_CS];
	cs->sel = (uint16_t)f[F_HOST_CS_SEL];
	cs->base = 0;
	cs->limit = 0xffffffff;
	cs->attr = 0x9b | SEG_ATTR_G | (h64 ? SEG_ATTR_L : SEG_ATTR_DB);
	host_seg(&c->seg[SEG_SS], f[F_HOST_SS_SEL], 0, f[F_HOST_SS_SEL] != 0);
	host_seg(&c->seg[SEG_DS], f[F_HOST_DS_SEL], 0, f[F_HOST_DS_SEL] != 0);
	host_seg(&c->seg[SEG_ES], f[F_HOST_ES_SEL], 0, f[F_HOST_ES_SEL] != 0);
	host_seg(&c->seg[SEG_FS], f[F_HOST_FS_SEL], f[F_HOST_FS_BASE], f[F_HOST_FS_SEL] != 0);
	host_seg(&c->seg[SEG_GS], f[F_HOST_GS_SEL], f[F_HOST_GS_BASE], f[F_HOST_GS_SEL] != 0);
	c->tr = (struct cpu_segment){ (uint16_t)f[F_HOST_TR_SEL], 0x8b, 0x67, f[F_HOST_TR_BASE] };
	c->ldtr = (struct cpu_segment){ 0, 0, 0, 0 };
	c->gdtr = (struct cpu_dtable){ f[F_HOST_GDTR_BASE], 0xffff };
	c->idtr = (struct cpu_dtable){ f[F_HOST_IDTR_BASE], 0xffff };
	c->gpr[R_RSP] = f[F_HOST_RSP];
	c->rip = f[F_HOST_RIP];
	cpu_set_rflags(c, FLAG_FIXED1);
	c->cpl = 0;
	c->halted = false;
	c->intr_inhibit_until = 0;
	c->icpt = 0;
	c->virt_tsc_offset = 0;
	c->virt_deadline = ~0ull;
	c->cr0_locked1 = vmx_cr0_fixed0();
	c->cr4_locked1 = vmx_cr4_fixed0();
	cpu_system_state_loaded(c);
	if ((c->cr0 & CR0_PG) && (c->cr4 & CR4_PAE) && !h64)
		paging_load_pdptes(c, c->cr3);
}

/* After the unwind (or a failed entry): guest -> VMCS, exit information,
 * host state; then tell the observer. */
void vmx_world_switch(struct cpu *c)
{
	struct vmx *s = vmx_of(c);
	uint64_t rip = s->ex.guest_rip;
	int cpl = c->cpl;
	bool failed = (s->ex.reason & VMX_EXIT_REASON_ENTRY_FAIL) != 0;
	if (!failed)
		save_guest(c, s);
	s->guest = false;
	write_exit_info(s);
	load_host(c, s);
	struct cpu_event ev = { .kind = CPU_EV_VMEXIT, .arch = CPU_ARCH_VMX, .vector = -1,
				.rip = failed ? c->insn_rip : rip, .cpl = cpl,
				.reason = s->ex.reason, .qual = s->ex.qual, .info2 = s->ex.gpa,
				.name = vmx_exit_name(s->ex.reason), .section = s->ex.section,
				.rule = failed ? s->rule : NULL };
	if (s->ex.intr_info & INTR_INFO_VALID)
		ev.vector = (int)(s->ex.intr_info & 0xff);
	cpu_event_emit(c, &ev);
	clear_pending(s);
}
