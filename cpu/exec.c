/*
 * exec.c - the run loop.
 *
 *   cpu_run
 *     loop: stop requests, HLT, instruction budget
 *       block = dcache_lookup(RIP)          (decoded-instruction cache)
 *       for each insn in block:
 *         insn_rip = RIP; RIP += len        (handlers see the next RIP, as
 *         insn->handler(cpu, insn)           RIP-relative addressing needs)
 *         icount++                          (virtual time: retired insns)
 *         leave the block if RIP was changed (a taken branch) or a handler
 *         asked to (block_break: code written, mode changed)
 *
 * A fault raised inside a handler longjmps back to cpu_run(), which restores
 * RIP to the faulting instruction; nothing of that instruction is retired.
 * Exception delivery through the IDT belongs to the system-mode work; until
 * then a run with exceptions_stop reports the exception to its caller.
 */
#include <stdio.h>

#include "dcache.h"
#include "mem.h"

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

enum cpu_stop cpu_run(struct cpu *c, uint64_t max_insns)
{
	jmp_buf jb;
	jmp_buf *volatile saved = c->unwind;
	const uint64_t end = max_insns ? c->icount + max_insns : UINT64_MAX;
	enum cpu_stop r;

	c->unwind = &jb;
	if (setjmp(jb)) {
		/* A fault restarts its instruction; a trap-style event (INT n,
		 * INT3, INTO, INT1) retires it and RIP stays after it. */
		if (c->exc_type >= EXC_TYPE_SOFT_INT)
			c->icount++;
		else
			c->rip = c->insn_rip;
		if (c->exc_vector < 0) {
			r = CPU_STOP_ERROR;
			goto out;
		}
		if (c->exceptions_stop) {
			r = CPU_STOP_EXCEPTION;
			goto out;
		}
		snprintf(c->error, sizeof c->error,
			 "exception %d at %#llx: delivery through the IDT is not implemented yet",
			 c->exc_vector, (unsigned long long)c->rip);
		r = CPU_STOP_ERROR;
		goto out;
	}
	struct dblock *prev = NULL;  /* set after setjmp only: safe across longjmp */
	for (;;) {
		if (unlikely(c->stop_request)) {
			c->stop_request = false;
			r = CPU_STOP_REQUEST;
			break;
		}
		if (unlikely(c->halted)) {
			r = CPU_STOP_HLT;
			break;
		}
		if (c->icount >= end) {
			r = CPU_STOP_LIMIT;
			break;
		}
		if (unlikely(dcache_has_dead(c))) {
			dcache_reap(c);
			prev = NULL;
		}
		c->insn_rip = c->rip;
		struct dblock *b = dcache_next(c, prev);
		run_block(c, b, end - c->icount);
		prev = b;
	}
out:
	c->unwind = saved;
	return r;
}
