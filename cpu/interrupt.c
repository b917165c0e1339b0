/*
 * interrupt.c - delivering exceptions and interrupts: the IVT in real mode,
 * IDT gates in protected and long mode, the stack switch through the TSS,
 * error codes, double fault and shutdown (triple fault).  IRET is in
 * iret.c, the mirror image of what is done here.
 *
 * One event, four ways (SDM Vol. 3 6.12, 20.1.4; APM Vol. 2 8.9):
 *
 *   real mode   IVT entry vec*4 = offset:segment; push FLAGS, CS, IP
 *   protected   IDT gate vec*8 (interrupt/trap, 16/32-bit); to an inner
 *               ring: SS:ESP from the TSS, push old SS, ESP; then EFLAGS,
 *               CS, EIP, [error code]
 *   long mode   IDT gate vec*16 (64-bit interrupt/trap); new RSP from the
 *               TSS (RSPn on a privilege change, ISTn if the gate names
 *               one), aligned to 16; always push SS, RSP, RFLAGS, CS, RIP,
 *               [error code]
 *
 *   64-bit IDT gate:
 *   127            96 95               64
 *  [ reserved        ][ offset 63:32     ]
 *   63       48 47 46 45 44 43  40 39 35 34 32 31      16 15        0
 *  [offs 31:16][P][DPL][0][type ][ 0   ][IST ][selector  ][offs 15:0 ]
 *
 * Everything that can fault (gate, target CS, new stack, the pushes) is done
 * before any register changes, so a fault during delivery leaves the state
 * of the interrupted code intact.  Such a fault is caught here: by the rules
 * of SDM Vol. 3 Table 6-5 it becomes a double fault (#DF, vector 8) or is
 * delivered in place of the first event; a fault while delivering #DF shuts
 * the processor down (triple fault), which ends the run with a register
 * dump in c->error.
 *
 * Speed: an exception costs a longjmp, one setjmp here, two IDT reads, one
 * GDT read and the pushes.  Nothing is flushed: CPL lives in c->cpl (the TLB
 * tags privilege itself) and decoded blocks are keyed by physical address.
 * Task gates (hardware task switching) are not implemented: in protected
 * mode they end the run with an emulator error that says so; long mode has
 * no task gates (such a gate is #GP).
 */
#include <stdio.h>

#include "flags.h"
#include "interrupt.h"
#include "seg.h"
#include "stack.h"
#include "virt.h"

bool cpu_intr_allowed(struct cpu *c)
{
	return (c->rflags & FLAG_IF) && c->icount >= c->intr_inhibit_until && !c->virt_hold;
}

/* EXT (bit 0 of an error code): the fault arose while delivering an event
 * from outside the program: an interrupt, NMI, or an exception (INT1
 * included) rather than INT n / INT3 / INTO (SDM Vol. 3 6.13). */
static uint32_t ev_ext(const struct event *ev)
{
	return ev->type == EXC_TYPE_SOFT_INT || ev->type == EXC_TYPE_SOFT ? 0 : 1;
}

static bool ev_soft(const struct event *ev)
{
	return ev->type == EXC_TYPE_SOFT_INT || ev->type == EXC_TYPE_SOFT;
}

static _Noreturn void unsupported(struct cpu *c, const char *what)
{
	snprintf(c->error, sizeof c->error, "%s at rip %#llx is not supported by nestlab",
		 what, (unsigned long long)c->rip);
	cpu_exception_noerr(c, -1);
}

/* ---- the TSS ---------------------------------------------------------------------- */

/* Read `size` bytes at `off` in the current TSS; #TS(TR.sel) past its limit. */
uint64_t tss_read(struct cpu *c, uint32_t off, int size, uint32_t ext)
{
	if (!(c->tr.attr & SEG_ATTR_P) || off + (uint32_t)size - 1 > c->tr.limit)
		cpu_exception(c, VEC_TS, (c->tr.sel & 0xfffc) | ext);
	uint64_t a = c->tr.base + off;
	return sys_read(c, seg_long(c) ? a : (uint32_t)a, size);
}

/* The inner stack SS:ESP for privilege `cpl` from a 16- or 32-bit TSS
 * (SDM Vol. 3 Figures 8-2 and 8-11), checked as a stack for that level. */
void tss_legacy_stack(struct cpu *c, int cpl, uint32_t ext, struct cpu_segment *ss, uint32_t *esp)
{
	bool tss32 = (c->tr.attr & SEG_ATTR_TYPE & ~2u) == SYS_TSS_AVAIL;
	uint16_t sel;
	if (tss32) {
		*esp = (uint32_t)tss_read(c, 4 + 8 * (uint32_t)cpl, 4, ext);
		sel = (uint16_t)tss_read(c, 8 + 8 * (uint32_t)cpl, 2, ext);
	} else {
		*esp = (uint32_t)tss_read(c, 2 + 4 * (uint32_t)cpl, 2, ext);
		sel = (uint16_t)tss_read(c, 4 + 4 * (uint32_t)cpl, 2, ext);
	}
	if ((sel & 0xfffc) == 0)
		cpu_exception(c, VEC_TS, ext);
	uint64_t d = seg_read_desc(c, sel, VEC_TS, ext);
	seg_check_ss(c, sel, d, cpl, VEC_TS, ext);
	seg_from_desc(ss, sel, d);
}

/* ---- building the frame on the new stack ------------------------------------------ */

/* The frame is written before anything is committed; implicit supervisor
 * writes when the handler runs below ring 3 (SDM Vol. 3 6.12.1). */
struct frame {
	uint64_t base, sp, mask;
	bool sys, wrap32;
};

static void frame_push(struct cpu *c, struct frame *f, int size, uint64_t v)
{
	f->sp = (f->sp - (uint64_t)size) & f->mask;
	uint64_t lin = f->base + f->sp;
	if (f->wrap32)
		lin = (uint32_t)lin;
	if (f->sys)
		sys_write(c, lin, size, v);
	else
		mem_write(c, lin, size, v);
}

/* The frame of `bytes` below sp must lie inside the stack segment's limit
 * (SDM Vol. 3 6.12.1: #SS, with the new SS as error code after a stack
 * switch).  Expand-down stacks have their valid range above the limit. */
static void frame_check(struct cpu *c, const struct cpu_segment *ss, uint64_t sp,
			uint64_t bytes, uint32_t err)
{
	uint64_t top = (ss->attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
	bool wraps = sp < bytes;          /* e.g. ESP = 0 on a flat 4 GiB stack */
	bool ok;
	if ((ss->attr & SEG_ATTR_TYPE & (DESC_TYPE_CODE | DESC_TYPE_EXPDN)) == DESC_TYPE_EXPDN)
		ok = !wraps && ((sp - bytes) & top) > ss->limit;
	else
		ok = wraps ? ss->limit >= top : sp - 1 <= ss->limit;
	if (!ok)
		cpu_exception(c, VEC_SS, err);
}

/* ---- real mode ---------------------------------------------------------------------- */

static void deliver_real(struct cpu *c, const struct event *ev)
{
	uint32_t off = (uint32_t)ev->vec * 4;
	if (off + 3 > c->idtr.limit)
		cpu_exception_noerr(c, VEC_GP);
	uint32_t ent = (uint32_t)mem_read(c, (uint32_t)(c->idtr.base + off), 4);
	uint64_t f = cpu_get_rflags(c);
	uint64_t sp = stack_sp(c);
	stack_write(c, &sp, 2, f);
	stack_write(c, &sp, 2, c->seg[SEG_CS].sel);
	stack_write(c, &sp, 2, c->rip);
	stack_commit(c, sp);
	/* INT n "Operation", real-address mode: IF, TF and AC are cleared. */
	cpu_set_rflags(c, f & ~(FLAG_IF | FLAG_TF | FLAG_AC));
	seg_real(c, SEG_CS, (uint16_t)(ent >> 16));
	c->rip = ent & 0xffff;
}

/* ---- the gate and its code segment (protected and long mode) ------------------------ */

struct gate {
	uint16_t sel;
	uint64_t offset;
	unsigned type;      /* SYS_INT/SYS_TRAP (16-bit: SYS_INT16/SYS_TRAP16) */
	int ist;
	uint64_t cs_desc;
	int new_cpl;
};

/* Read the gate of ev->vec and check it and its target code segment. */
static void read_gate(struct cpu *c, const struct event *ev, struct gate *g)
{
	bool lm = seg_long(c);
	uint32_t ext = ev_ext(ev), gerr = (uint32_t)ev->vec * 8 + 2 + ext;
	uint32_t esize = lm ? 16 : 8, off = (uint32_t)ev->vec * esize;
	if (off + esize - 1 > c->idtr.limit)
		cpu_exception(c, VEC_GP, gerr);
	uint64_t a = c->idtr.base + off;
	uint64_t lo = sys_read(c, lm ? a : (uint32_t)a, 8);
	uint64_t hi = lm ? sys_read(c, a + 8, 8) : 0;
	g->type = (unsigned)(lo >> 40) & 0x1f;        /* S bit and type: S must be 0 */
	if (lm ? (g->type != SYS_INT && g->type != SYS_TRAP)
	       : (g->type != SYS_INT && g->type != SYS_TRAP && g->type != SYS_INT16 &&
		  g->type != SYS_TRAP16)) {
		if (!lm && g->type == SYS_TASK)
			unsupported(c, "a task gate in the IDT (hardware task switch)");
		cpu_exception(c, VEC_GP, gerr);
	}
	if (ev_soft(ev) && desc_dpl(lo) < c->cpl)
		cpu_exception(c, VEC_GP, gerr);
	if (!desc_present(lo))
		cpu_exception(c, VEC_NP, gerr);
	g->sel = (uint16_t)(lo >> 16);
	g->offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
	if (g->type == SYS_INT16 || g->type == SYS_TRAP16)
		g->offset &= 0xffff;
	g->ist = lm ? (int)((lo >> 32) & 7) : 0;

	if ((g->sel & 0xfffc) == 0)
		cpu_exception(c, VEC_GP, ext);
	uint32_t serr = (g->sel & 0xfffc) | ext;
	uint64_t d = seg_read_desc(c, g->sel, VEC_GP, ext);
	if (!desc_is_code(d) || desc_dpl(d) > c->cpl)
		cpu_exception(c, VEC_GP, serr);
	if (lm && (!(d & (1ull << 53)) || (d & (1ull << 54))))
		cpu_exception(c, VEC_GP, serr);           /* must be 64-bit code */
	if (!desc_present(d))
		cpu_exception(c, VEC_NP, serr);
	g->cs_desc = d;
	g->new_cpl = (desc_type(d) & DESC_TYPE_CONF) ? c->cpl : desc_dpl(d);
}

/* The RFLAGS image an event pushes (SDM Vol. 3 6.13 / 18.3.1.1): RF is 1
 * for every fault-class exception, so that the handler's IRET re-runs the
 * faulting instruction without re-triggering an instruction breakpoint on
 * it; an instruction-breakpoint #DB itself (a fault too) pushes RF as it
 * is, like traps, interrupts and aborts (#DF, #MC).  RF set by a REP string
 * instruction that yielded between iterations is in c->rflags already. */
static uint64_t pushed_flags(struct cpu *c, const struct event *ev)
{
	static const uint32_t faults = 1u << VEC_DE | 1u << VEC_BR | 1u << VEC_UD |
		1u << VEC_NM | 1u << VEC_TS | 1u << VEC_NP | 1u << VEC_SS | 1u << VEC_GP |
		1u << VEC_PF | 1u << VEC_MF | 1u << VEC_AC | 1u << VEC_XM | 1u << VEC_VE |
		1u << VEC_CP;
	uint64_t f = cpu_get_rflags(c);
	if (ev->type == EXC_TYPE_HW && ev->vec < 32 && (faults >> ev->vec & 1))
		f |= FLAG_RF;
	return f;
}

/* The flags a gate clears (SDM Vol. 3 6.12.1.3): TF, VM, RF, NT always,
 * IF for an interrupt gate (not a trap gate). */
static uint64_t gate_flags(uint64_t f, const struct gate *g)
{
	f &= ~(FLAG_TF | FLAG_VM | FLAG_RF | FLAG_NT);
	if (g->type == SYS_INT || g->type == SYS_INT16)
		f &= ~FLAG_IF;
	return f;
}

static void commit_cs(struct cpu *c, const struct gate *g)
{
	struct cpu_segment cs;
	seg_from_desc(&cs, (uint16_t)((g->sel & 0xfffc) | g->new_cpl), g->cs_desc | (1ull << 40));
	seg_commit_cs(c, &cs);
}

/* ---- long mode ------------------------------------------------------------------------ */

static void deliver_long(struct cpu *c, const struct event *ev)
{
	struct gate g;
	uint32_t ext = ev_ext(ev);
	read_gate(c, ev, &g);
	if (!addr_canonical(g.offset))
		cpu_exception(c, VEC_GP, ext);
	uint64_t rsp = c->gpr[R_RSP];
	if (g.ist)
		rsp = tss_read(c, 0x24 + 8 * (uint32_t)(g.ist - 1), 8, ext);
	else if (g.new_cpl < c->cpl)
		rsp = tss_read(c, 4 + 8 * (uint32_t)g.new_cpl, 8, ext);
	rsp &= ~0xfull;
	int n = ev->has_err ? 6 : 5;
	if (!addr_canonical(rsp) || !addr_canonical(rsp - 8 * (uint64_t)n))
		cpu_exception(c, VEC_SS, ext);
	uint64_t f = pushed_flags(c, ev);
	struct frame fr = { 0, rsp, ~0ull, g.new_cpl < 3, false };
	frame_push(c, &fr, 8, c->seg[SEG_SS].sel);
	frame_push(c, &fr, 8, c->gpr[R_RSP]);
	frame_push(c, &fr, 8, f);
	frame_push(c, &fr, 8, c->seg[SEG_CS].sel);
	frame_push(c, &fr, 8, c->rip);
	if (ev->has_err)
		frame_push(c, &fr, 8, ev->err);

	/* Commit.  A privilege change loads SS with a null selector whose RPL
	 * is the new CPL (SDM Vol. 3 6.14.4). */
	if (g.new_cpl != c->cpl) {
		struct cpu_segment *ss = &c->seg[SEG_SS];
		ss->sel = (uint16_t)g.new_cpl;
		ss->attr = (uint16_t)(0x93 | (g.new_cpl << 5));
		ss->base = 0;
		ss->limit = 0xffffffff;
	}
	c->gpr[R_RSP] = fr.sp;
	cpu_set_rflags(c, gate_flags(f, &g));
	commit_cs(c, &g);
	c->rip = g.offset;
}

/* ---- protected mode (16- and 32-bit gates) --------------------------------------------- */

static void deliver_prot(struct cpu *c, const struct event *ev)
{
	struct gate g;
	uint32_t ext = ev_ext(ev);
	bool v86 = (c->rflags & FLAG_VM) != 0;
	/* Virtual-8086 mode: INT n needs IOPL 3 (SDM Vol. 3 20.3.1.1). */
	if (v86 && ev->type == EXC_TYPE_SOFT_INT && ((c->rflags & FLAG_IOPL) >> 12) < 3)
		cpu_gp0(c);
	read_gate(c, ev, &g);
	if (v86 && g.new_cpl != 0)
		cpu_exception(c, VEC_GP, (g.sel & 0xfffc) | ext);
	if (g.offset > desc_limit(g.cs_desc))
		cpu_exception(c, VEC_GP, ext);
	bool inner = g.new_cpl < c->cpl;
	struct cpu_segment ss = c->seg[SEG_SS];
	uint64_t sp = c->gpr[R_RSP];
	if (inner) {
		uint32_t esp;
		tss_legacy_stack(c, g.new_cpl, ext, &ss, &esp);
		sp = esp;
	}
	bool ss32 = (ss.attr & SEG_ATTR_DB) != 0;
	int sz = (g.type == SYS_INT || g.type == SYS_TRAP) ? 4 : 2;
	struct frame fr = { ss.base, sp & (ss32 ? 0xffffffffull : 0xffff),
			    ss32 ? 0xffffffffull : 0xffff, g.new_cpl < 3, true };
	int n = 3 + (v86 ? 4 : 0) + (inner ? 2 : 0) + (ev->has_err ? 1 : 0);
	frame_check(c, &ss, fr.sp, (uint64_t)(n * sz), inner ? (ss.sel & 0xfffc) | ext : ext);
	uint64_t f = pushed_flags(c, ev);
	if (v86) {
		frame_push(c, &fr, sz, c->seg[SEG_GS].sel);
		frame_push(c, &fr, sz, c->seg[SEG_FS].sel);
		frame_push(c, &fr, sz, c->seg[SEG_DS].sel);
		frame_push(c, &fr, sz, c->seg[SEG_ES].sel);
	}
	if (inner) {
		frame_push(c, &fr, sz, c->seg[SEG_SS].sel);
		frame_push(c, &fr, sz, c->gpr[R_RSP]);
	}
	frame_push(c, &fr, sz, f);
	frame_push(c, &fr, sz, c->seg[SEG_CS].sel);
	frame_push(c, &fr, sz, c->rip);
	if (ev->has_err)
		frame_push(c, &fr, sz, ev->err);

	if (v86) {             /* data segments become null (SDM Vol. 3 20.3.1.1) */
		static const int segs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
		for (int k = 0; k < 4; k++) {
			c->seg[segs[k]].sel = 0;
			c->seg[segs[k]].attr = 0;
		}
	}
	if (inner) {
		ss.attr |= 1;  /* accessed */
		c->seg[SEG_SS] = ss;
	}
	if (ss32)
		c->gpr[R_RSP] = (uint32_t)fr.sp;
	else
		c->gpr[R_RSP] = (c->gpr[R_RSP] & ~0xffffull) | fr.sp;
	cpu_set_rflags(c, gate_flags(f, &g));
	commit_cs(c, &g);
	c->rip = g.offset;
}

/* ---- one event, and the double-fault rules ------------------------------------------- */

/* Tell the observer (event.h) what was delivered: `rip`/`cpl` are where the
 * CPU was (for INT n, the INT instruction itself). */
static void report(struct cpu *c, const struct event *ev, uint64_t rip, int cpl)
{
	enum cpu_event_kind k = ev->type == EV_EXTINT ? CPU_EV_INTERRUPT
		: ev->type == EV_NMI ? CPU_EV_NMI
		: ev->type == EXC_TYPE_HW ? CPU_EV_EXCEPTION : CPU_EV_SOFTINT;
	struct cpu_event e = { .kind = k, .vector = ev->vec, .error = ev->err,
			       .has_error = ev->has_err, .rip = rip, .cpl = cpl };
	cpu_event_emit(c, &e);
}

static void deliver_once(struct cpu *c, const struct event *ev)
{
	if (!(c->cr0 & CR0_PE))
		deliver_real(c, ev);
	else if (seg_long(c))
		deliver_long(c, ev);
	else
		deliver_prot(c, ev);
}

/* SDM Vol. 3 Table 6-4: benign (0), contributory (1), page fault (2);
 * #DF itself is 3.  Interrupts and software events are benign. */
static int ev_class(const struct event *ev)
{
	if (ev->type != EXC_TYPE_HW)
		return 0;
	switch (ev->vec) {
	case VEC_DE: case VEC_TS: case VEC_NP: case VEC_SS: case VEC_GP:
		return 1;
	case VEC_PF:
		return 2;
	case VEC_DF:
		return 3;
	default:
		return 0;
	}
}

static void triple_fault(struct cpu *c, const struct event *first, const struct event *second)
{
	virt_hook(c, SHUTDOWN, NULL, 0);    /* VMX exit reason 2, SVM SHUTDOWN intercept */
	c->shutdown = true;
	snprintf(c->error, sizeof c->error,
		 "triple fault (vector %d while delivering %d): rip %#llx cs %#x ss %#x "
		 "rsp %#llx cr0 %#llx cr2 %#llx cr3 %#llx cr4 %#llx",
		 second->vec, first->vec, (unsigned long long)c->rip, c->seg[SEG_CS].sel,
		 c->seg[SEG_SS].sel, (unsigned long long)c->gpr[R_RSP],
		 (unsigned long long)c->cr0, (unsigned long long)c->cr2,
		 (unsigned long long)c->cr3, (unsigned long long)c->cr4);
}

/*
 * Deliver ev; a fault raised while doing so comes back here (our own
 * unwind point) and is combined with ev by Table 6-5:
 *
 *   first \ second    benign     contributory   page fault
 *   benign            second     second         second
 *   contributory      second     #DF            second
 *   page fault        second     #DF            #DF
 *   double fault      second     shutdown       shutdown
 */
static void deliver(struct cpu *c, const struct event *ev0)
{
	jmp_buf jb;
	jmp_buf *saved = c->unwind;
	volatile struct event cur = *ev0;
	c->unwind = &jb;
	if (setjmp(jb)) {
		struct event first = cur;
		if (c->exc_vector < 0) {          /* emulator error or VM exit: pass it on */
			c->unwind = saved;
			longjmp(*saved, 1);
		}
		if (ev_soft(&first) || first.type == EXC_TYPE_PRIV_SOFT) {
			/* The INT instruction did not complete after all: the fault
			 * is reported on it (RIP back at its start). */
			c->rip = c->insn_rip;
			c->icount--;
		}
		struct event second = { c->exc_vector, EXC_TYPE_HW, c->exc_has_error, c->exc_error };
		c->deliv_outer = c->deliv;        /* IDT-vectoring information */
		int a = ev_class(&first), b = ev_class(&second);
		if (a == 3 && b != 0) {
			triple_fault(c, &first, &second);
			c->unwind = saved;
			return;
		}
		if ((a == 1 && b == 1) || (a == 2 && b != 0)) {
			struct event df = { VEC_DF, EXC_TYPE_HW, true, 0 };
			cur = df;
		} else {
			cur = second;
		}
	}
	struct event e = cur;
	c->deliv = (struct cpu_delivery){ true, e.vec, (uint8_t)e.type, e.has_err, e.err };
	/* VMX exception bitmap / SVM exception intercepts (SDM Vol. 3 26.2,
	 * APM Vol. 2 15.12): the event is not delivered but exits. */
	virt_hook(c, EXCEPTION, NULL, (uint64_t)e.vec);
	uint64_t rip = ev_soft(&e) || e.type == EXC_TYPE_PRIV_SOFT ? c->insn_rip : c->rip;
	int cpl = c->cpl;
	deliver_once(c, &e);
	c->deliv.active = c->deliv_outer.active = false;
	if (unlikely(c->observer))
		report(c, &e, rip, cpl);
	c->unwind = saved;
}

/* A fault retires nothing, yet it is charged one tick of virtual time: a
 * handler that faults on its own first instruction would otherwise loop
 * with the clock stopped, where no timer and no instruction budget
 * (--max-insns) could ever end it.  Trap-style events already count as the
 * instruction that raised them (exec.c). */
void cpu_deliver_exception(struct cpu *c)
{
	struct event ev = { c->exc_vector, c->exc_type, c->exc_has_error, c->exc_error };
	if (ev.type == EXC_TYPE_HW)
		c->icount++;
	deliver(c, &ev);
}

/* With exceptions_stop (a program without an IDT: a flat binary, the unit
 * and differential tests) an interrupt stops the run too, named as itself,
 * instead of faulting through the absent IDT into a triple fault whose
 * message would speak of a double fault. */
static void stop_instead(struct cpu *c, int vector, int type)
{
	c->exc_vector = vector;
	c->exc_type = (uint8_t)type;
	c->exc_has_error = false;
	c->exc_error = 0;
	c->insn_rip = c->rip;                /* nothing to restore: between instructions */
	longjmp(*c->unwind, 1);
}

void cpu_deliver_event(struct cpu *c, int vector, int type, bool has_err, uint32_t err)
{
	struct event ev = { vector, type, has_err, err };
	deliver(c, &ev);
	c->block_break = true;
}

void cpu_deliver_interrupt(struct cpu *c, int vector)
{
	if (c->exceptions_stop)
		stop_instead(c, vector, EV_EXTINT);
	struct event ev = { vector, EV_EXTINT, false, 0 };
	deliver(c, &ev);
	c->block_break = true;
}

/* NMIs are blocked from the delivery of one until the next IRET (SDM
 * Vol. 3 6.7.1); one that arrives meanwhile stays pending. */
void cpu_deliver_nmi(struct cpu *c)
{
	if (c->nmi_blocked) {
		c->nmi_pending = true;
		return;
	}
	if (c->exceptions_stop)
		stop_instead(c, VEC_NMI, EV_NMI);
	struct event ev = { VEC_NMI, EV_NMI, false, 0 };
	deliver(c, &ev);
	c->nmi_blocked = true;
	c->block_break = true;
}
