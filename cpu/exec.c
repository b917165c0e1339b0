/*
 * exec.c - the run loop.
 *
 *   cpu_run
 *     loop: stop requests, device events, interrupts, HLT, the budget
 *       block = dcache_next(RIP)            (decoded-instruction cache)
 *       for each insn in block:
 *         insn_rip = RIP; RIP += len        (handlers see the next RIP, as
 *         insn->handler(cpu, insn)           RIP-relative addressing needs)
 *         icount++                          (virtual time: retired insns)
 *         leave the block if RIP was changed (a taken branch) or a handler
 *         asked to (block_break: code written, mode changed, an interrupt
 *         line moved)
 *
 * A fault raised inside a handler longjmps back to cpu_run(), which restores
 * RIP to the faulting instruction (nothing of it is retired) or, for a
 * trap-style event (INT n, INT3, INTO, INT1), retires it; then the event is
 * delivered through the IDT (interrupt.c) and the loop goes on.  A run with
 * exceptions_stop set reports the exception to its caller instead.
 *
 * Interrupts and device events are looked at between blocks only; a block
 * never runs past event_deadline, so timers fire at an exact instruction,
 * and a HLT with a timer pending skips virtual time forward to it (as QEMU's
 * icount mode does), so a halted guest costs no host time.
 */
#include <stdio.h>

#include "dcache.h"
#include "debug.h"
#include "flags.h"
#include "mem.h"
#include "virt.h"

/* RIP and the instruction count are kept in locals and only stored, so that
 * no chain of dependent loads and stores through `struct cpu` runs from one
 * instruction to the next (a store-to-load round trip costs several cycles). */
static void run_block(struct cpu *c, const struct dblock *b, uint64_t budget)
{
	const struct insn *i = b->insns;
	const struct insn *end = i + (budget < b->n ? budget : b->n);
	uint64_t rip = c->rip, icount = c->icount;
	c->block_break = false;
	for (; i < end; i++) {
		uint64_t next = rip + i->len;
		c->insn_rip = rip;
		c->rip = next;
		i->handler(c, i);
		c->icount = ++icount;
		if (unlikely(c->rip != next || c->block_break))
			break;
		rip = next;
	}
}

/* RFLAGS.RF = 1 (loaded by IRET, or left by a REP string instruction that
 * yielded between iterations): the next instruction runs alone, with
 * instruction breakpoints suppressed for it (rf_suppress), and RF is clear
 * once it has completed (SDM Vol. 3 18.3.1.1: "the processor clears RF
 * after every instruction completes successfully"; a REP that yields again
 * sets it again).  A fault on it pushes RF = 1 anyway (interrupt.c). */
static void run_rf_insn(struct cpu *c, const struct dblock *b)
{
	c->rflags &= ~FLAG_RF;
	c->rf_suppress = true;
	run_block(c, b, 1);
	c->rf_suppress = false;
}

/* After a longjmp: fix RIP and the count for the kind of event, then deliver
 * it or report it.  Returns true when the run must stop with *r. */
static bool after_unwind(struct cpu *c, enum cpu_stop *r)
{
	if (c->exc_vector == CPU_UNWIND_VMEXIT) {
		/* The model recorded the exit where it arose (virt.h); the
		 * instruction or delivery has unwound: now switch worlds.  The
		 * exit is charged one tick, as a fault is, so time moves on. */
		c->icount++;
		c->exc_vector = -1;
		c->deliv.active = c->deliv_outer.active = false;
		c->halted = false;
		c->vops->world_switch(c);
		return false;
	}
	if (c->exc_vector < 0) {                 /* emulator error, not x86 */
		c->rip = c->insn_rip;
		*r = CPU_STOP_ERROR;
		return true;
	}
	c->rf_suppress = false;
	if (c->exc_type >= EXC_TYPE_SOFT_INT)
		c->icount++;
	else
		c->rip = c->insn_rip;
	if (c->exceptions_stop) {
		*r = CPU_STOP_EXCEPTION;
		return true;
	}
	c->halted = false;
	/* Delivery changes nothing block chains depend on that does not reset
	 * them itself (a CS base or mode change, seg.c / cpu.c); and run_loop
	 * starts again with no previous block. */
	cpu_deliver_exception(c);                /* may longjmp here again */
	if (c->shutdown) {
		*r = CPU_STOP_SHUTDOWN;
		return true;
	}
	return false;
}

/* Device events and interrupts, between blocks.  Returns true if the CPU is
 * halted with nothing left that could wake it.  Idle time skipped during a
 * HLT stops at `end`, the run's budget. */
static bool between_blocks(struct cpu *c, uint64_t end)
{
	if (c->on_event && c->icount >= c->event_deadline)
		c->on_event(c);
	/* Guest mode: exits between instructions (interrupts and NMIs that
	 * exit, interrupt/NMI windows, preemption timer, MTF), and injection. */
	virt_hook(c, POLL, NULL, 0);
	if (c->nmi_pending && !c->virt_hold) {
		c->nmi_pending = false;
		c->halted = false;
		cpu_deliver_nmi(c);
	} else if (c->intr_pending && cpu_intr_allowed(c) && c->intr_pending(c)) {
		int vector = c->intr_ack(c);
		c->halted = false;
		if (vector >= 0)
			cpu_deliver_interrupt(c, vector);
	}
	if (!c->halted)
		return false;
	if (!c->on_event || c->event_deadline == UINT64_MAX)
		return true;
	/* Idle: skip to the next event. */
	uint64_t next = c->event_deadline;
	if (c->icpt && c->virt_deadline < next)
		next = c->virt_deadline > c->icount ? c->virt_deadline : c->icount;
	c->icount = next < end ? next : end;
	return false;
}

/* A debugger's breakpoints (cpu.h): how many instructions of b may run
 * before one at a breakpoint (the budget if none); 0 with *hit set: stop
 * here.  Only blocks on a page bp_filter marks come here, and each is
 * scanned once per change of the breakpoints, so a continue with
 * breakpoints costs a bit test per block and a compare on marked pages. */
static uint64_t bp_check(struct cpu *c, struct dblock *b, uint64_t budget, bool *hit)
{
	if (b->bp_gen != c->bp_gen || b->bp_rip != c->rip) {
		uint64_t rip = c->rip;
		unsigned k = 0;
		for (; k < b->n && !c->bp_match(c, rip, false); k++)
			rip += b->insns[k].len;
		b->bp_first = (uint16_t)k;
		b->bp_gen = c->bp_gen;
		b->bp_rip = c->rip;
	}
	if (b->bp_first > 0)
		return b->bp_first < budget ? b->bp_first : budget;
	*hit = c->bp_match(c, c->rip, true);
	return 1;              /* not for this world: run it, look again after */
}

/* The loop proper.  It is a function of its own, apart from the setjmp in
 * cpu_run(), because a function that calls setjmp must keep its variables in
 * memory, and this loop wants `c` and the block pointer in registers. */
static __attribute__((noinline)) enum cpu_stop run_loop(struct cpu *c, uint64_t end)
{
	struct dblock *prev = NULL;
	for (;;) {
		if (unlikely(c->stop_request)) {
			c->stop_request = false;
			return CPU_STOP_REQUEST;
		}
		if (c->shutdown)
			return CPU_STOP_SHUTDOWN;
		if (c->on_event || c->intr_pending || c->halted || c->nmi_pending || c->icpt) {
			if (between_blocks(c, end))
				return CPU_STOP_HLT;
		}
		if (c->icount >= end)
			return CPU_STOP_LIMIT;
		if (c->halted)
			continue;
		if (unlikely(dcache_has_dead(c))) {
			dcache_reap(c);
			prev = NULL;
		}
		/* Breakpoints enabled in DR7, or TF: one instruction at a time
		 * with the debug rules (debug.c).  One test per block otherwise. */
		if (unlikely(cpu_debug_slow(c))) {
			if (unlikely(c->bp_filter != NULL) && cpu_bp_filter_test(c->bp_filter, c->rip) &&
			    c->bp_match(c, c->rip, true))
				return CPU_STOP_BREAK;       /* a debugger's, before the guest's */
			cpu_debug_step(c, NULL);
			prev = NULL;
			continue;
		}
		c->insn_rip = c->rip;
		struct dblock *b = dcache_next(c, prev);
		uint64_t stop_at = end < c->event_deadline || !c->on_event ? end : c->event_deadline;
		/* An STI / MOV SS shadow ends after one instruction: stop there so
		 * a pending interrupt is taken at once (STI; NOP; CLI opens a
		 * one-instruction window, SDM Vol. 2 STI). */
		if (unlikely(c->intr_inhibit_until > c->icount) && c->intr_inhibit_until < stop_at)
			stop_at = c->intr_inhibit_until;
		if (unlikely(c->icpt) && c->virt_deadline < stop_at)
			stop_at = c->virt_deadline;   /* preemption timer, MTF (virt.h) */
		uint64_t budget = stop_at > c->icount ? stop_at - c->icount : 1;
		if (unlikely(c->bp_filter != NULL) && cpu_bp_filter_test(c->bp_filter, c->rip)) {
			bool hit = false;
			budget = bp_check(c, b, budget, &hit);
			if (hit)
				return CPU_STOP_BREAK;
		}
		if (unlikely(c->rflags & FLAG_RF)) {
			run_rf_insn(c, b);
			prev = NULL;
			continue;
		}
		run_block(c, b, budget);
		prev = b;
	}
}

enum cpu_stop cpu_run(struct cpu *c, uint64_t max_insns)
{
	jmp_buf jb;
	jmp_buf *volatile saved = c->unwind;
	const uint64_t end = max_insns ? c->icount + max_insns : UINT64_MAX;
	enum cpu_stop r;

	c->unwind = &jb;
	if (setjmp(jb) && after_unwind(c, &r))
		goto out;
	r = run_loop(c, end);
out:
	c->unwind = saved;
	return r;
}
