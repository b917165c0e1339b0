/*
 * stack.c - PUSH and POP in every form, PUSHF/POPF, ENTER/LEAVE, PUSHA/POPA,
 * and the shared stack primitives declared in stack.h (CALL and RET in
 * control.c use them too).
 *
 * Sizes.  The operand size says how many bytes move (2, 4 or 8; in 64-bit
 * mode PUSH/POP default to 8 and a 66 prefix gives 2, SDM Vol. 1 6.2.5);
 * the stack-address size (stack.h) says how rSP wraps.  A push computes
 * the new rSP, stores there, and only then changes RSP, so a faulting store
 * leaves RSP as it was (SDM Vol. 3 6.5: faults are restartable).
 *
 * Segment-register loads (POP Sreg) go through seg_load_data() in seg.c,
 * which does the descriptor-table checks.
 */
#include "flags.h"
#include "stack.h"
#include "virt.h"

static bool is_canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;   /* shift unsigned: no UB */
}

/* A stack access to a non-canonical address is #SS(0), not #GP(0)
 * (SDM Vol. 3 6.15, "Interrupt 12"). Segment-limit checks of 16/32-bit
 * stacks come with the system-mode work. */
static void stack_check(struct cpu *c, uint64_t sp, int size)
{
	if (c->mode == CPU_MODE64 &&
	    (!is_canonical(sp) || !is_canonical(sp + (uint64_t)size - 1)))
		cpu_exception(c, VEC_SS, 0);
}

static uint64_t sp_wrap(const struct cpu *c, uint64_t sp)
{
	return sp & size_mask(stack_asize(c));
}

void stack_write(struct cpu *c, uint64_t *sp, int size, uint64_t v)
{
	uint64_t nsp = sp_wrap(c, *sp - (uint64_t)size);
	stack_check(c, nsp, size);
	cpu_write(c, SEG_SS, nsp, size, v);
	*sp = nsp;
}

uint64_t stack_read(struct cpu *c, uint64_t *sp, int size)
{
	stack_check(c, *sp, size);
	uint64_t v = cpu_read(c, SEG_SS, *sp, size);
	*sp = sp_wrap(c, *sp + (uint64_t)size);
	return v;
}

uint64_t stack_peek(struct cpu *c, uint64_t sp, uint64_t off, int size)
{
	uint64_t a = sp_wrap(c, sp + off);
	stack_check(c, a, size);
	return cpu_read(c, SEG_SS, a, size);
}

void stack_push(struct cpu *c, int size, uint64_t v)
{
	uint64_t sp = stack_sp(c);
	stack_write(c, &sp, size, v);
	stack_commit(c, sp);
}

uint64_t stack_pop(struct cpu *c, int size)
{
	uint64_t sp = stack_sp(c);
	uint64_t v = stack_read(c, &sp, size);
	stack_commit(c, sp);
	return v;
}

/* ---- segment registers ---------------------------------------------------- */

/* seg_load_data() (stack.h) lives in seg.c with the descriptor checks. */

/* PUSH Sreg: a 32- or 64-bit push writes the selector zero-extended, as AMD
 * parts and QEMU do; recent Intel cores store only 16 bits and leave the
 * rest of the slot (SDM Vol. 2 PUSH allows both). */
static void push_seg(struct cpu *c, const struct insn *i, int seg)
{
	stack_push(c, i->osize, c->seg[seg].sel);
}

static void pop_seg(struct cpu *c, const struct insn *i, int seg)
{
	uint64_t sp = stack_sp(c);
	uint16_t sel = (uint16_t)stack_read(c, &sp, i->osize);
	seg_load_data(c, seg, sel);     /* may fault: RSP not yet moved */
	stack_commit(c, sp);
	/* POP SS blocks interrupts until the next instruction has run, so a
	 * following load of rSP completes the switch (SDM Vol. 2 POP). */
	if (seg == SEG_SS)
		c->intr_inhibit_until = c->icount + 2;
}

void op_push_ES(struct cpu *c, const struct insn *i) { push_seg(c, i, SEG_ES); }
void op_push_CS(struct cpu *c, const struct insn *i) { push_seg(c, i, SEG_CS); }
void op_push_SS(struct cpu *c, const struct insn *i) { push_seg(c, i, SEG_SS); }
void op_push_DS(struct cpu *c, const struct insn *i) { push_seg(c, i, SEG_DS); }
void op_push_FS(struct cpu *c, const struct insn *i) { push_seg(c, i, SEG_FS); }
void op_push_GS(struct cpu *c, const struct insn *i) { push_seg(c, i, SEG_GS); }
void op_pop_ES(struct cpu *c, const struct insn *i) { pop_seg(c, i, SEG_ES); }
void op_pop_SS(struct cpu *c, const struct insn *i) { pop_seg(c, i, SEG_SS); }
void op_pop_DS(struct cpu *c, const struct insn *i) { pop_seg(c, i, SEG_DS); }
void op_pop_FS(struct cpu *c, const struct insn *i) { pop_seg(c, i, SEG_FS); }
void op_pop_GS(struct cpu *c, const struct insn *i) { pop_seg(c, i, SEG_GS); }

/* ---- general-purpose pushes and pops --------------------------------------- */

/* PUSH rSP pushes the value from before the push (SDM Vol. 2 PUSH). */
void op_push_Zv(struct cpu *c, const struct insn *i)
{
	stack_push(c, i->osize, reg_read(c, i->reg, i->osize));
}

/* POP rSP: the loaded value wins over the increment (SDM Vol. 2 POP). */
void op_pop_Zv(struct cpu *c, const struct insn *i)
{
	uint64_t v = stack_pop(c, i->osize);
	reg_write(c, i->reg, i->osize, v);
}

/* The source is read first, so [rSP+x] addresses the old stack top. */
void op_push_Ev(struct cpu *c, const struct insn *i)
{
	stack_push(c, i->osize, read_E(c, i, i->osize));
}

/* POP Ev: "If the ESP register is used as a base register for addressing a
 * destination operand in memory, the POP instruction computes the effective
 * address of the operand after it increments the ESP register" (SDM Vol. 2
 * POP).  The address is formed with the new rSP, but RSP itself changes
 * only after the store, so a faulting store leaves it alone. */
void op_pop_Ev(struct cpu *c, const struct insn *i)
{
	uint64_t sp = stack_sp(c);
	uint64_t v = stack_read(c, &sp, i->osize);
	if (!(i->flags & I_MEM)) {
		stack_commit(c, sp);
		reg_write(c, i->rm, i->osize, v);
		return;
	}
	uint64_t old_rsp = c->gpr[R_RSP];
	stack_commit(c, sp);
	uint64_t lin = insn_lin_chk(c, i, i->osize, true);
	c->gpr[R_RSP] = old_rsp;
	mem_write(c, lin, i->osize, v);
	stack_commit(c, sp);
}

/* PUSH imm: the immediate is sign-extended to the operand size. */
void op_push_Iz(struct cpu *c, const struct insn *i)
{
	stack_push(c, i->osize, sext_size(i->imm, i->osize == 2 ? 2 : 4));
}

void op_push_Ib(struct cpu *c, const struct insn *i)
{
	stack_push(c, i->osize, sext_size(i->imm, 1));
}

/* ---- PUSHA / POPA (not in 64-bit mode: the decoder gives #UD) --------------- */

/* Order AX CX DX BX SP BP SI DI, with SP as it was before the first push. */
void op_pusha(struct cpu *c, const struct insn *i)
{
	static const uint8_t order[8] = { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI };
	uint64_t sp = stack_sp(c);
	for (int k = 0; k < 8; k++)
		stack_write(c, &sp, i->osize, reg_read(c, order[k], i->osize));
	stack_commit(c, sp);
}

/* The reverse; the SP slot is skipped (read, then discarded). */
void op_popa(struct cpu *c, const struct insn *i)
{
	static const uint8_t order[8] = { R_RDI, R_RSI, R_RBP, R_RSP, R_RBX, R_RDX, R_RCX, R_RAX };
	uint64_t v[8];
	uint64_t sp = stack_sp(c);
	for (int k = 0; k < 8; k++)
		v[k] = stack_read(c, &sp, i->osize);
	for (int k = 0; k < 8; k++)
		if (order[k] != R_RSP)
			reg_write(c, order[k], i->osize, v[k]);
	stack_commit(c, sp);
}

/* ---- PUSHF / POPF ----------------------------------------------------------- */

/* The image has VM and RF clear (SDM Vol. 2 PUSHF).  In virtual-8086 mode
 * with IOPL < 3 it is #GP(0); the CR4.VME variant comes with system mode. */
void op_pushf(struct cpu *c, const struct insn *i)
{
	virt_hook(c, PUSHF, i, 0);
	uint64_t f = cpu_get_rflags(c);
	if ((f & FLAG_VM) && (f & FLAG_IOPL) != FLAG_IOPL)
		cpu_gp0(c);
	stack_push(c, i->osize, f & ~(FLAG_VM | FLAG_RF));
}

/* Every flag POPF can ever write; RF, VM, VIF and VIP are never written. */
#define POPF_BITS (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_TF | FLAG_IF | \
		   FLAG_DF | FLAG_OF | FLAG_IOPL | FLAG_NT | FLAG_AC | FLAG_ID)

/*
 * Which flags POPF changes (SDM Vol. 2 POPF, "Operation" and Table 4-15):
 *
 *   mode                         IOPL changes   IF changes
 *   real mode, or CPL 0          yes            yes
 *   CPL > 0 and CPL <= IOPL      no             yes
 *   CPL > IOPL                   no             no  (silently kept)
 *   virtual-8086, IOPL 3         no             yes
 *   virtual-8086, IOPL < 3       #GP(0) (CR4.VME: system-mode work)
 *
 * A 16-bit POPF writes only bits 15:0.  A 32/64-bit POPF clears RF.
 */
static uint64_t popf_mask(struct cpu *c, uint64_t old)
{
	int iopl = (int)((old & FLAG_IOPL) >> 12);
	uint64_t mask = POPF_BITS;
	if (old & FLAG_VM) {
		if (iopl < 3)
			cpu_gp0(c);
		mask &= ~FLAG_IOPL;
	} else if ((c->cr0 & 1) && c->cpl > 0) {
		mask &= ~FLAG_IOPL;
		if (c->cpl > iopl)
			mask &= ~FLAG_IF;
	}
	return mask;
}

void op_popf(struct cpu *c, const struct insn *i)
{
	virt_hook(c, POPF, i, 0);
	uint64_t old = cpu_get_rflags(c);
	uint64_t sp = stack_sp(c);
	uint64_t v = stack_read(c, &sp, i->osize);
	uint64_t mask = popf_mask(c, old);
	if (i->osize == 2)
		mask &= 0xffff;
	uint64_t f = (old & ~mask) | (v & mask);
	if (i->osize != 2)
		f &= ~FLAG_RF;
	stack_commit(c, sp);
	cpu_set_rflags(c, f);
	/* Setting TF or IF has effects between instructions (single-step
	 * traps, interrupt windows): popf ends the decoded block (F_END) and
	 * the event work checks them there. */
}

/* ---- ENTER / LEAVE ------------------------------------------------------------ */

/*
 * ENTER alloc, level (SDM Vol. 2 ENTER, "Operation"):
 *
 *   push rBP; frame = rSP
 *   repeat level-1 times: rBP -= osize; push [SS:rBP]   (copy display)
 *   if level > 0: push frame
 *   rBP = frame; rSP -= alloc
 *
 * The display walk uses rBP at the stack-address size (BP or EBP or RBP);
 * the final rBP is written at the operand size.  All of it is done on
 * copies, committed at the end, so a fault leaves RSP and RBP unchanged.
 */
void op_enter_Iw_Ib(struct cpu *c, const struct insn *i)
{
	int os = i->osize, ss = stack_asize(c);
	unsigned alloc = (unsigned)(i->imm & 0xffff), level = i->imm2 & 31;
	uint64_t sp = stack_sp(c);
	stack_write(c, &sp, os, reg_read(c, R_RBP, os));
	uint64_t frame = sp;
	if (level > 0) {
		uint64_t bp = reg_read(c, R_RBP, ss);
		for (unsigned k = 1; k < level; k++) {
			bp = (bp - (uint64_t)os) & size_mask(ss);
			uint64_t v = stack_peek(c, bp, 0, os);
			stack_write(c, &sp, os, v);
		}
		stack_write(c, &sp, os, frame);
	}
	sp = (sp - alloc) & size_mask(ss);
	/* The final stack top must be usable (SDM: #SS if it is not). */
	if (c->mode == CPU_MODE64 && !is_canonical(sp))
		cpu_exception(c, VEC_SS, 0);
	reg_write(c, R_RBP, os, frame);
	stack_commit(c, sp);
}

/* LEAVE: rSP = rBP (stack-address size), then pop rBP (operand size). */
void op_leave(struct cpu *c, const struct insn *i)
{
	uint64_t sp = reg_read(c, R_RBP, stack_asize(c));
	uint64_t v = stack_read(c, &sp, i->osize);
	stack_commit(c, sp);
	reg_write(c, R_RBP, i->osize, v);
}
