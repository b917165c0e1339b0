/*
 * stack.h - the stack as handlers see it: pushes and pops through SS:rSP at
 * the right stack-address size, and user-level segment-register loads.
 *
 * The stack-address size (SDM Vol. 1 6.2.3, Vol. 3 3.4.5) is not the
 * instruction's address size: it is 64 bits in 64-bit mode, otherwise the
 * B bit of the SS descriptor (32-bit ESP when set, 16-bit SP when clear).
 * Our segment cache keeps descriptor attributes in the VMCS access-rights
 * layout (SDM Vol. 3 25.4.1, Table 25-2):
 *
 *    15  14  13  12  11..8  7   6 5   4   3..0
 *   [G][D/B][L][AVL][ 0  ][P][DPL][S][type]
 *
 * so SS.B is attr bit 14.  A 16-bit stack moves only SP (the upper bits of
 * RSP are left alone); a 32-bit one writes ESP.
 *
 * Instructions that push or pop several values (CALL, ENTER, POPA ...) must
 * not change RSP if a later access faults, so the primitives work on a
 * caller-held copy of the stack pointer (`sp`) and stack_commit() writes it
 * back once nothing can fault any more.
 */
#ifndef NESTLAB_STACK_H
#define NESTLAB_STACK_H

#include "cpu.h"
#include "mem.h"

/* Stack-address size in bytes: 8, 4 or 2. */
static inline int stack_asize(const struct cpu *c)
{
	if (c->mode == CPU_MODE64)
		return 8;
	return (c->seg[SEG_SS].attr & (1u << 14)) ? 4 : 2;
}

/* The current stack pointer, as wide as the stack-address size. */
static inline uint64_t stack_sp(const struct cpu *c)
{
	return reg_read(c, R_RSP, stack_asize(c));
}

/* Write sp back to SP/ESP/RSP (a 16-bit stack keeps RSP's upper bits). */
static inline void stack_commit(struct cpu *c, uint64_t sp)
{
	reg_write(c, R_RSP, stack_asize(c), sp);
}

/* Store `size` bytes below *sp and move *sp down (nothing committed). */
void stack_write(struct cpu *c, uint64_t *sp, int size, uint64_t v);
/* Load `size` bytes at *sp and move *sp up (nothing committed). */
uint64_t stack_read(struct cpu *c, uint64_t *sp, int size);
/* Load `size` bytes at sp + off without moving anything. */
uint64_t stack_peek(struct cpu *c, uint64_t sp, uint64_t off, int size);

/* One value, committed: PUSH and POP proper. */
void stack_push(struct cpu *c, int size, uint64_t v);
uint64_t stack_pop(struct cpu *c, int size);

/* Load a data segment register (ES, SS, DS, FS, GS) with a selector: in
 * real and virtual-8086 mode base = sel << 4, in protected mode from the
 * GDT/LDT with the checks of SDM Vol. 3 5.4-5.6 (seg.c). */
void seg_load_data(struct cpu *c, int seg, uint16_t sel);

#endif
