/*
 * control.c - near control transfers: Jcc, JMP, CALL, RET, LOOP*, JrCXZ, and
 * the software-interrupt instructions INT3, INT n, INTO, INT1 as far as
 * raising their event.
 *
 * When a handler runs, c->rip already holds the address of the next
 * instruction (exec.c), which is exactly the base of a relative branch
 * (SDM Vol. 2 JMP: "the target is the EIP register plus the displacement").
 * A taken branch just writes c->rip.
 *
 * Operand size of a near branch (SDM Vol. 2 JMP/Jcc/CALL/RET "Operation"):
 *
 *   16-bit   target = (rIP + disp) AND FFFFh; #GP(0) beyond the CS limit
 *   32-bit   target = (EIP + disp);            #GP(0) beyond the CS limit
 *   64-bit   target = RIP + disp;              #GP(0) if non-canonical
 *
 * In 64-bit mode the operand size of near branches is fixed at 64 bits on
 * Intel processors (a 66 prefix is ignored; AMD honours it and truncates to
 * 16 bits).  Nestlab follows Intel.  Every check happens before anything is
 * committed, so a refused branch raises #GP(0) with RIP still on the branch
 * itself and RSP/RCX unchanged.
 *
 * Far transfers (CALLF, JMPF, RETF) are in far.c, IRET in iret.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "flags.h"
#include "stack.h"
#include "virt.h"

static bool is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;   /* shift unsigned: no UB */
}

/* The operand size a near branch really has. */
static int near_osize(const struct cpu *c, const struct insn *i)
{
	return c->mode == CPU_MODE64 ? 8 : i->osize;
}

/* Truncate and check a near-branch target (see the table above). */
static uint64_t near_target(struct cpu *c, const struct insn *i, uint64_t t)
{
	if (c->mode == CPU_MODE64) {
		if (!is_canonical(t))
			cpu_gp0(c);
		return t;
	}
	t &= i->osize == 2 ? 0xffffull : 0xffffffffull;
	if (t > c->seg[SEG_CS].limit)
		cpu_gp0(c);
	return t;
}

static uint64_t rel_target(struct cpu *c, const struct insn *i)
{
	return near_target(c, i, c->rip + (uint64_t)(int64_t)i->disp);
}

/* ---- Jcc, JMP ------------------------------------------------------------------ */

/* The condition code is the low nibble of the opcode (decoder: i->imm2). */
void op_jcc_Jb(struct cpu *c, const struct insn *i)
{
	if (cpu_cond(c, i->imm2))
		c->rip = rel_target(c, i);
}

void op_jcc_Jz(struct cpu *c, const struct insn *i)
{
	if (cpu_cond(c, i->imm2))
		c->rip = rel_target(c, i);
}

void op_jmp_Jb(struct cpu *c, const struct insn *i)
{
	c->rip = rel_target(c, i);
}

void op_jmp_Jz(struct cpu *c, const struct insn *i)
{
	c->rip = rel_target(c, i);
}

/* JMP r/m: the target is absolute, read at the branch's operand size. */
void op_jmp_Ev(struct cpu *c, const struct insn *i)
{
	int os = near_osize(c, i);
	c->rip = near_target(c, i, read_E(c, i, os));
}

/* ---- CALL, RET ------------------------------------------------------------------ */

/* Push the return address (the next instruction), then branch. */
static void call_to(struct cpu *c, const struct insn *i, uint64_t target)
{
	stack_push(c, near_osize(c, i), c->rip);
	c->rip = target;
}

void op_call_Jz(struct cpu *c, const struct insn *i)
{
	call_to(c, i, rel_target(c, i));
}

/* CALL r/m reads its target with the old rSP (before the push). */
void op_call_Ev(struct cpu *c, const struct insn *i)
{
	call_to(c, i, near_target(c, i, read_E(c, i, near_osize(c, i))));
}

/* RET [imm16]: pop, check the target, release imm16 more bytes. */
static void ret_common(struct cpu *c, const struct insn *i, uint64_t release)
{
	uint64_t sp = stack_sp(c);
	uint64_t t = near_target(c, i, stack_read(c, &sp, near_osize(c, i)));
	stack_commit(c, (sp + release) & size_mask(stack_asize(c)));
	c->rip = t;
}

void op_ret(struct cpu *c, const struct insn *i)
{
	ret_common(c, i, 0);
}

void op_ret_Iw(struct cpu *c, const struct insn *i)
{
	ret_common(c, i, i->imm & 0xffff);
}

/* ---- LOOP, JrCXZ: the counter is CX, ECX or RCX by ADDRESS size --------------- */

enum loop_kind { LOOP_ANY, LOOP_E, LOOP_NE };

/* Decrement the counter (no flags change); branch while it is not zero and,
 * for LOOPE/LOOPNE, while ZF is 1/0 (SDM Vol. 2 LOOP/LOOPcc). */
static void loop_common(struct cpu *c, const struct insn *i, enum loop_kind k)
{
	uint64_t n = (reg_read(c, R_RCX, i->asize) - 1) & size_mask(i->asize);
	bool take = n != 0;
	if (k == LOOP_E)
		take = take && cpu_zf(c);
	else if (k == LOOP_NE)
		take = take && !cpu_zf(c);
	uint64_t t = take ? rel_target(c, i) : 0;   /* may fault: nothing done yet */
	reg_write(c, R_RCX, i->asize, n);
	if (take)
		c->rip = t;
}

void op_loop_Jb(struct cpu *c, const struct insn *i) { loop_common(c, i, LOOP_ANY); }
void op_loope_Jb(struct cpu *c, const struct insn *i) { loop_common(c, i, LOOP_E); }
void op_loopne_Jb(struct cpu *c, const struct insn *i) { loop_common(c, i, LOOP_NE); }

void op_jrcxz_Jb(struct cpu *c, const struct insn *i)
{
	if (reg_read(c, R_RCX, i->asize) == 0)
		c->rip = rel_target(c, i);
}

/* ---- INT3, INT n, INTO, INT1 --------------------------------------------------- */

/*
 * These raise their vector as a TRAP: the instruction completes, and the
 * saved RIP is the next instruction (SDM Vol. 3 6.5, 6.4.2).  The event
 * type travels in c->exc_type (cpu.h), the split VMX also uses: INT n is a
 * software interrupt, INT3 and INTO software exceptions, INT1 (ICEBP) a
 * privileged software exception (it skips the gate's DPL check).  The
 * run loop then keeps RIP after the instruction and counts it retired.
 * IDT delivery, and the virtual-8086 IOPL rule for INT n, are system-mode
 * work.
 */
_Noreturn void cpu_soft_event(struct cpu *c, int vector, int type)
{
	c->exc_vector = vector;
	c->exc_error = 0;
	c->exc_has_error = false;
	c->exc_type = (uint8_t)type;
	if (!c->unwind) {
		fprintf(stderr, "nestlab: internal error: event %d outside cpu_run\n", vector);
		abort();
	}
	longjmp(*c->unwind, 1);
}

void op_int3(struct cpu *c, const struct insn *i)
{
	(void)i;
	cpu_soft_event(c, VEC_BP, EXC_TYPE_SOFT);
}

void op_int_Ib(struct cpu *c, const struct insn *i)
{
	virt_hook(c, INTN, i, i->imm & 0xff);
	cpu_soft_event(c, (int)(i->imm & 0xff), EXC_TYPE_SOFT_INT);
}

/* INTO: #OF only when OF = 1; otherwise nothing (invalid in 64-bit mode,
 * which the decoder handles). */
void op_into(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (cpu_of(c))
		cpu_soft_event(c, VEC_OF, EXC_TYPE_SOFT);
}

void op_int1(struct cpu *c, const struct insn *i)
{
	(void)i;
	cpu_soft_event(c, VEC_DB, EXC_TYPE_PRIV_SOFT);
}

/* BOUND r, m16&16 / m32&32 (62 /r, not in 64-bit mode): the signed index
 * must lie within [lower, upper] read from memory, else #BR, a fault: the
 * saved RIP is the BOUND itself (SDM Vol. 2 BOUND). */
void op_bound_Gv_Ma(struct cpu *c, const struct insn *i)
{
	int os = i->osize;
	uint64_t lin = insn_lin_chk(c, i, 2 * os, false);
	int64_t lo = (int64_t)sext_size(mem_read(c, lin, os), os);
	int64_t hi = (int64_t)sext_size(mem_read(c, (uint32_t)(lin + (uint64_t)os), os), os);
	int64_t idx = (int64_t)sext_size(reg_read(c, i->reg, os), os);
	if (idx < lo || idx > hi)
		cpu_exception_noerr(c, VEC_BR);
}
