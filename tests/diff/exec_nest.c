/*
 * exec_nest.c - our interpreter (nestcpu) as the executor under test.
 *
 * One CPU with 4 MB of RAM is created once.  Each run resets it to the flat
 * 64-bit state (cpu_reset_flat64), writes the pages with cpu_phys_write
 * (which drops decoded blocks of rewritten code pages), loads the registers
 * and steps one instruction at a time until RIP reaches the end address,
 * an exception stops the run (exceptions_stop), or a step budget runs out.
 * Stepping rather than one long cpu_run() lets the harness stop exactly at
 * the end address, where the native epilogue (a jump to a host address)
 * begins.
 */
#include <stdio.h>
#include <string.h>

#include "arch.h"
#include "cpu.h"
#include "exec.h"

static struct cpu nest;

static void load_fpu(struct cpu *cp, const struct seq_fpu *f)
{
	cp->fpu.fcw = f->fcw;
	cp->fpu.fsw = f->fsw;
	cp->fpu.ftw = f->ftw;
	cp->fpu.mxcsr = f->mxcsr;
	for (int k = 0; k < 8; k++)
		memcpy(cp->fpu.st[k], f->st[k], 10);
	for (int k = 0; k < 16; k++)
		memcpy(cp->fpu.xmm[k].b, f->xmm[k], 16);
}

static void save_fpu(const struct cpu *cp, struct seq_fpu *f)
{
	f->fcw = cp->fpu.fcw;
	f->fsw = cp->fpu.fsw;
	f->ftw = cp->fpu.ftw;
	f->mxcsr = cp->fpu.mxcsr;
	for (int k = 0; k < 8; k++)
		memcpy(f->st[k], cp->fpu.st[k], 10);
	for (int k = 0; k < 16; k++)
		memcpy(f->xmm[k], cp->fpu.xmm[k].b, 16);
}
bool exec_nest_fresh;      /* --fresh-cpu: a new CPU for every run */

int exec_nest_init(char *err, int errlen)
{
	if (cpu_init(&nest, NULL, 4u << 20) < 0) {
		snprintf(err, (size_t)errlen, "nestlab: cpu_init failed");
		return -1;
	}
	return 0;
}

void exec_nest_run(const struct seq_state *st, const struct seq_code *c, struct xresult *r)
{
	struct cpu *cp = &nest;
	const uint64_t end = SEQ_CODE + c->len;
	memset(r, 0, sizeof *r);
	r->vector = XV_NONE;
	if (exec_nest_fresh) {
		cpu_free(cp);
		if (cpu_init(cp, NULL, 4u << 20) < 0) {
			r->error = true;
			snprintf(r->err, sizeof r->err, "nestlab: cpu_init failed");
			return;
		}
	}
	cpu_reset_flat64(cp);
	cpu_phys_write(cp, SEQ_CODE, c->bytes, c->total);
	cpu_phys_write(cp, SEQ_DATA, st->data, SEQ_PAGE);
	cpu_phys_write(cp, SEQ_STACK, st->stack, SEQ_PAGE);
	memcpy(cp->gpr, st->gpr, sizeof cp->gpr);
	cpu_set_rflags(cp, st->rflags);
	/* user mode as Linux runs it: SSE enabled, #XM for unmasked SIMD
	 * floating-point exceptions (CR4.OSFXSR, OSXMMEXCPT) */
	cp->cr4 |= CR4_OSFXSR | CR4_OSXMMEXCPT;
	load_fpu(cp, &st->fpu);
	cp->rip = SEQ_CODE + c->start;
	cp->exceptions_stop = true;
	cp->exc_vector = -1;
	for (int steps = 0; cp->rip != end; steps++) {
		if (steps > 200000) {
			r->vector = XV_TIMEOUT;
			break;
		}
		enum cpu_stop why = cpu_run(cp, 1);
		if (why == CPU_STOP_EXCEPTION) {
			r->vector = cp->exc_vector;
			break;
		}
		if (why == CPU_STOP_ERROR || why == CPU_STOP_HLT) {
			r->error = true;
			snprintf(r->err, sizeof r->err, "nestlab stopped: %.160s",
				 why == CPU_STOP_HLT ? "HLT" : cp->error);
			break;
		}
	}
	memcpy(r->gpr, cp->gpr, sizeof r->gpr);
	r->rip = cp->rip;
	r->rflags = cpu_get_rflags(cp);
	save_fpu(cp, &r->fpu);
	cpu_phys_read(cp, SEQ_DATA, r->data, SEQ_PAGE);
	cpu_phys_read(cp, SEQ_STACK, r->stack, SEQ_PAGE);
}
