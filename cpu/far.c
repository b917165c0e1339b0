/*
 * far.c - far JMP, far CALL and far RET: transfers that load CS, directly to
 * a code segment or through a call gate (SDM Vol. 3 5.8; Vol. 2 JMP, CALL,
 * RET "Operation").
 *
 *   EA cd/cp      JMP ptr16:16/32        9A cd/cp   CALL ptr16:16/32
 *   FF /5         JMP m16:16/32/64       FF /3      CALL m16:16/32/64
 *   CB / CA iw    RET far [imm16]
 *
 * In real and virtual-8086 mode CS is just reloaded (base = sel * 16).  In
 * protected mode the selector names either
 *
 *   a code segment   same privilege only: conforming with DPL <= CPL, or
 *                    non-conforming with DPL = CPL and RPL <= CPL
 *   a call gate      (DPL >= CPL and >= RPL) naming a code segment with
 *                    DPL <= CPL; a CALL to a more privileged non-conforming
 *                    segment switches to the stack the TSS gives for that
 *                    level and pushes the caller's SS:rSP (32-bit gates also
 *                    copy the gate's parameter count of dwords)
 *   a TSS or task gate: a task switch, which nestlab does not implement
 *                    (the run ends with an emulator error saying so)
 *
 * Long mode call gates are 16 bytes, 64-bit only, and name 64-bit code;
 * the inner stack there is RSPn from the 64-bit TSS with a null SS.
 */
#include <stdio.h>

#include "flags.h"
#include "interrupt.h"
#include "seg.h"
#include "stack.h"

static _Noreturn void task_switch(struct cpu *c)
{
	snprintf(c->error, sizeof c->error,
		 "far transfer to a TSS or task gate at rip %#llx: hardware task switching "
		 "is not supported by nestlab", (unsigned long long)c->insn_rip);
	cpu_exception_noerr(c, -1);
}

/* The target offset must be canonical for 64-bit code, else within CS. */
static void check_target(struct cpu *c, uint64_t d, uint64_t off)
{
	bool to64 = seg_long(c) && (d & (1ull << 53));
	if (to64 ? !addr_canonical(off) : off > desc_limit(d))
		cpu_gp0(c);
}

static void commit_far(struct cpu *c, uint16_t sel, uint64_t d, int cpl, uint64_t off)
{
	struct cpu_segment cs;
	seg_set_accessed(c, sel, d);
	seg_from_desc(&cs, (uint16_t)((sel & 0xfffc) | cpl), d | (1ull << 40));
	seg_commit_cs(c, &cs);
	c->rip = off;
}

/* Push the return address (CS, then rIP) at size os on the current stack. */
static void push_return(struct cpu *c, uint64_t *sp, int os)
{
	stack_write(c, sp, os, c->seg[SEG_CS].sel);
	stack_write(c, sp, os, c->rip);
}

/* ---- through a call gate ----------------------------------------------------------------- */

struct cgate {
	uint16_t sel;          /* target code segment */
	uint64_t off;
	int size;              /* 2, 4 or 8: the gate's push size */
	int params;            /* dwords/words to copy (legacy gates) */
	uint64_t d;            /* target descriptor */
};

static void read_call_gate(struct cpu *c, uint16_t gsel, uint64_t g, struct cgate *cg)
{
	uint32_t gerr = gsel & 0xfffc;
	bool lm = seg_long(c);
	if ((lm && desc_type(g) != SYS_CALL) ||
	    desc_dpl(g) < c->cpl || desc_dpl(g) < (int)(gsel & 3))
		cpu_exception(c, VEC_GP, gerr);
	if (!desc_present(g))
		cpu_exception(c, VEC_NP, gerr);
	cg->sel = (uint16_t)(g >> 16);
	cg->off = (g & 0xffff) | ((g >> 32) & 0xffff0000);
	cg->size = desc_type(g) == SYS_CALL16 ? 2 : 4;
	cg->params = (int)((g >> 32) & 0x1f);
	if (cg->size == 2)
		cg->off &= 0xffff;
	if (lm) {
		uint64_t hi = seg_read_desc_hi(c, gsel, VEC_GP, 0);
		if ((hi >> 40) & 0x1f)            /* the upper half's type must be 0 */
			cpu_exception(c, VEC_GP, gerr);
		cg->off |= hi << 32;
		cg->size = 8;
		cg->params = 0;
	}
	if ((cg->sel & 0xfffc) == 0)
		cpu_gp0(c);
	cg->d = seg_read_desc(c, cg->sel, VEC_GP, 0);
	uint32_t serr = cg->sel & 0xfffc;
	if (!desc_is_code(cg->d) || desc_dpl(cg->d) > c->cpl)
		cpu_exception(c, VEC_GP, serr);
	if (lm && (!(cg->d & (1ull << 53)) || (cg->d & (1ull << 54))))
		cpu_exception(c, VEC_GP, serr);
	if (!desc_present(cg->d))
		cpu_exception(c, VEC_NP, serr);
	check_target(c, cg->d, cg->off);
}

/* CALL through a gate to a more privileged level: new stack from the TSS,
 * push SS, rSP, [parameters], CS, rIP there (SDM Vol. 3 5.8.5, Figure 5-13). */
static void call_gate_inner(struct cpu *c, const struct cgate *cg, int ncpl)
{
	struct cpu_segment ss;
	uint64_t nsp;
	bool lm = seg_long(c);
	if (lm) {
		nsp = tss_read(c, 4 + 8 * (uint32_t)ncpl, 8, 0);
		if (!addr_canonical(nsp) || !addr_canonical(nsp - 32))
			cpu_exception(c, VEC_SS, 0);
		ss = (struct cpu_segment){ (uint16_t)ncpl, (uint16_t)(0x93 | (ncpl << 5)),
					   0xffffffff, 0 };
	} else {
		uint32_t esp;
		tss_legacy_stack(c, ncpl, 0, &ss, &esp);
		nsp = esp;
	}
	uint64_t mask = lm ? ~0ull : (ss.attr & SEG_ATTR_DB) ? 0xffffffffull : 0xffff;
	uint64_t old_sp = stack_sp(c);
	uint64_t param[32];
	for (int k = 0; k < cg->params; k++)
		param[k] = stack_peek(c, old_sp, (uint64_t)(cg->size * k), cg->size);
	/* Write the frame on the new stack before committing anything. */
	uint64_t sp = nsp & mask;
	uint64_t vals[36];
	int n = 0;
	vals[n++] = c->seg[SEG_SS].sel;
	vals[n++] = c->gpr[R_RSP];
	for (int k = cg->params - 1; k >= 0; k--)
		vals[n++] = param[k];
	vals[n++] = c->seg[SEG_CS].sel;
	vals[n++] = c->rip;
	for (int k = 0; k < n; k++) {
		sp = (sp - (uint64_t)cg->size) & mask;
		uint64_t lin = ss.base + sp;
		sys_write(c, lm ? lin : (uint32_t)lin, cg->size, vals[k]);
	}
	c->seg[SEG_SS] = ss;
	c->gpr[R_RSP] = lm || (ss.attr & SEG_ATTR_DB) ? sp : (c->gpr[R_RSP] & ~0xffffull) | sp;
	commit_far(c, cg->sel, cg->d, ncpl, cg->off);
}

static void via_call_gate(struct cpu *c, uint16_t gsel, uint64_t g, bool call)
{
	struct cgate cg;
	read_call_gate(c, gsel, g, &cg);
	bool conforming = desc_type(cg.d) & DESC_TYPE_CONF;
	int dpl = desc_dpl(cg.d);
	if (!call) {
		if (!conforming && dpl != c->cpl)
			cpu_exception(c, VEC_GP, cg.sel & 0xfffc);
		commit_far(c, cg.sel, cg.d, c->cpl, cg.off);
		return;
	}
	if (!conforming && dpl < c->cpl) {
		call_gate_inner(c, &cg, dpl);
		return;
	}
	uint64_t sp = stack_sp(c);
	push_return(c, &sp, cg.size);
	stack_commit(c, sp);
	commit_far(c, cg.sel, cg.d, c->cpl, cg.off);
}

/* ---- JMP and CALL ---------------------------------------------------------------------- */

static void far_transfer(struct cpu *c, uint16_t sel, uint64_t off, int os, bool call)
{
	if (!seg_protected(c)) {
		off &= size_mask(os);
		if (off > c->seg[SEG_CS].limit)
			cpu_gp0(c);
		uint64_t sp = stack_sp(c);
		if (call)
			push_return(c, &sp, os);
		stack_commit(c, sp);
		seg_real(c, SEG_CS, sel);
		c->rip = off;
		return;
	}
	if ((sel & 0xfffc) == 0)
		cpu_gp0(c);
	uint64_t d = seg_read_desc(c, sel, VEC_GP, 0);
	uint32_t err = sel & 0xfffc;
	if (desc_is_sys(d)) {
		unsigned t = desc_type(d);
		if (t == SYS_CALL || t == SYS_CALL16)
			via_call_gate(c, sel, d, call);
		else if (t == SYS_TASK || t == SYS_TSS_AVAIL || t == SYS_TSS16_AVAIL)
			task_switch(c);
		else
			cpu_exception(c, VEC_GP, err);
		return;
	}
	if (!(desc_type(d) & DESC_TYPE_CODE))
		cpu_exception(c, VEC_GP, err);
	if (desc_type(d) & DESC_TYPE_CONF) {
		if (desc_dpl(d) > c->cpl)
			cpu_exception(c, VEC_GP, err);
	} else if ((int)(sel & 3) > c->cpl || desc_dpl(d) != c->cpl) {
		cpu_exception(c, VEC_GP, err);
	}
	if (!desc_present(d))
		cpu_exception(c, VEC_NP, err);
	if (seg_long(c) && (d & (1ull << 53)) && (d & (1ull << 54)))
		cpu_exception(c, VEC_GP, err);
	if (!(seg_long(c) && (d & (1ull << 53))))
		off &= size_mask(os);
	check_target(c, d, off);
	uint64_t sp = stack_sp(c);
	if (call) {
		push_return(c, &sp, os);
		stack_commit(c, sp);
	}
	commit_far(c, sel, d, c->cpl, off);
}

/* ptr16:16/32: the decoder leaves the selector in disp, the offset in imm. */
void op_jmpf_Ap(struct cpu *c, const struct insn *i)
{
	far_transfer(c, (uint16_t)i->disp, i->imm, i->osize, false);
}

void op_callf_Ap(struct cpu *c, const struct insn *i)
{
	far_transfer(c, (uint16_t)i->disp, i->imm, i->osize, true);
}

/* m16:16/32/64: the offset (operand size) comes first, the selector after. */
static void far_mem(struct cpu *c, const struct insn *i, bool call)
{
	uint64_t lin = insn_lin_chk(c, i, i->osize + 2, false);
	uint64_t off = mem_read(c, lin, i->osize);
	uint64_t a2 = lin + (uint64_t)i->osize;
	if (c->mode != CPU_MODE64)
		a2 = (uint32_t)a2;
	uint16_t sel = (uint16_t)mem_read(c, a2, 2);
	far_transfer(c, sel, off, i->osize, call);
}

void op_jmpf_Mp(struct cpu *c, const struct insn *i) { far_mem(c, i, false); }
void op_callf_Mp(struct cpu *c, const struct insn *i) { far_mem(c, i, true); }

/* ---- RET far ------------------------------------------------------------------------------ */

static void far_ret(struct cpu *c, int os, uint64_t release)
{
	uint64_t sp = stack_sp(c);
	uint64_t mask = size_mask(stack_asize(c));
	uint64_t ip = stack_read(c, &sp, os);
	uint16_t sel = (uint16_t)stack_read(c, &sp, os);
	if (!seg_protected(c)) {
		ip &= size_mask(os);
		if (ip > c->seg[SEG_CS].limit)
			cpu_gp0(c);
		stack_commit(c, (sp + release) & mask);
		seg_real(c, SEG_CS, sel);
		c->rip = ip;
		return;
	}
	uint64_t d = seg_check_return_cs(c, sel);
	int ncpl = sel & 3;
	bool to64 = seg_long(c) && (d & (1ull << 53));
	if (!to64)
		ip &= size_mask(os);
	check_target(c, d, ip);
	if (ncpl == c->cpl) {
		stack_commit(c, (sp + release) & mask);
		commit_far(c, sel, d, ncpl, ip);
		return;
	}
	/* To an outer level: the caller's SS:rSP follow the parameters. */
	sp = (sp + release) & mask;
	uint64_t nsp = stack_read(c, &sp, os);
	struct cpu_segment ss;
	seg_ret_ss(c, (uint16_t)stack_read(c, &sp, os), ncpl, to64, &ss);
	commit_far(c, sel, d, ncpl, ip);
	c->seg[SEG_SS] = ss;
	nsp += release;
	if (to64)
		c->gpr[R_RSP] = nsp;
	else if (ss.attr & SEG_ATTR_DB)
		c->gpr[R_RSP] = (uint32_t)nsp;
	else
		c->gpr[R_RSP] = (c->gpr[R_RSP] & ~0xffffull) | (nsp & 0xffff);
	seg_null_inaccessible(c);
}

void op_retf(struct cpu *c, const struct insn *i) { far_ret(c, i->osize, 0); }
void op_retf_Iw(struct cpu *c, const struct insn *i) { far_ret(c, i->osize, i->imm & 0xffff); }
